// W3 on the peer: LSTM inference for one date-format question, Embedding(59, 16) -> LSTM(16 -> 256) over T=29
// steps for N=1, forward only with autograd off (the attention model's encoder answering one question; the
// decoder's greedy steps are not included). PyTorch 2.7.1 CPU through DJL, as many threads as seq4j (PeerOps).
//
// Autograd off is made explicit: noGrad (@Setup(Level.Iteration), run by the benchmark thread itself) calls DJL's
// JniUtils.setGradMode(false), PyTorch's torch.set_grad_enabled(False), for that thread. PyTorch keeps the mode per
// thread and starts every thread with it on; DJL turns it off only on the thread that loads the engine (PtEngine
// .newInstance), and a GradientCollector turns it on and back to what it found. Until now encode relied on JMH's
// worker being that thread: on any other, the embedding and the LSTM's weights requiring gradients, every forward
// would have recorded an autograd graph (and kept its saved tensors until the step's manager closed).
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Dai.djl.offline=true",
        "-DPYTORCH_FLAVOR=cpu", "-Dai.djl.pytorch.num_interop_threads=1"})
public class PeerW3LstmInferenceBench {
    static final int V = 59, T = 29, D = 16, H = 256, N = 1;

    @Param({"pytorch"})
    public String backend;

    private NDManager manager;
    private ParameterStore store;
    private NDArray embedW; // (V, D)
    private LSTM lstm;
    private NDArray xs; // (N, T) ids

    @Setup(Level.Trial)
    public void setUp() {
        PeerOps.requirePyTorch(backend);
        manager = PeerOps.newManager();
        store = new ParameterStore(manager, false);
        var random = new SplittableRandom(PeerOps.SEED);
        embedW = PeerOps.gaussian(manager, random, 0.01, V, D);
        lstm = PeerOps.lstm(manager, random, D, H, false);
        xs = PeerOps.ids(manager, random, V, N, T);
    }

    /**
     * Autograd off on the thread that runs this iteration (see the top): forward records no graph. Again every
     * iteration, so a JMH worker other than the one that ran the last is covered too.
     */
    @Setup(Level.Iteration)
    public void noGrad() {
        JniUtils.setGradMode(false);
    }

    /**
     * Autograd is off (noGrad), so no graph is recorded; PyTorch's CPU ops are synchronous, so the hidden states are
     * computed when forward returns.
     */
    @Benchmark
    public void encode(Blackhole bh) {
        try (NDManager step = manager.newSubManager()) {
            xs.tempAttach(step);
            NDArray hs = lstm.forward(store, new NDList(PeerOps.embed(xs, embedW)), false).head(); // (N, T, H)
            bh.consume(hs);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }
}
