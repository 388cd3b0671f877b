// W2 on the peer: one LSTM layer forward + backward (the book's BetterRnnlm size: N=64, T=35, D=H=650) on
// PyTorch 2.7.1 CPU through DJL, as many threads as seq4j (PeerOps): loss = sum of all hidden states, backward to every parameter
// gradient and the input gradient, no optimizer. The scaling sweep is the same class with -p:
//   java -jar bench/target/peers/benchmarks.jar PeerW2LstmStepBench   (the jar built with -Ppeers) -p h=128,256,512,650,1024 -p t=8,35,128
// D follows H (D = H), as in the book's language model where the embedding width is the hidden width.
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
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
import org.seq4j.bench.Params;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Dai.djl.offline=true",
        "-DPYTORCH_FLAVOR=cpu", "-Dai.djl.pytorch.num_interop_threads=1"})
public class PeerW2LstmStepBench {
    static final int N = 64;

    @Param({"pytorch"})
    public String backend;

    /** Hidden size H (and input width D = H); the sweep: 128, 256, 512, 650, 1024. */
    @Param({"650"})
    public String h;

    /** Time steps T; the sweep: 8, 35, 128. */
    @Param({"35"})
    public String t;

    private NDManager manager;
    private ParameterStore store;
    private LSTM lstm;
    private NDArray xs; // (N, T, D), with a gradient: backward computes dxs too
    private final List<NDArray> trainable = new ArrayList<>();

    @Setup(Level.Trial)
    public void setUp() {
        PeerOps.requirePyTorch(backend);
        int hidden = Params.positive("h", h), steps = Params.positive("t", t);
        manager = PeerOps.newManager();
        store = new ParameterStore(manager, false);
        var random = new SplittableRandom(PeerOps.SEED);
        lstm = PeerOps.lstm(manager, random, hidden, hidden, false);
        xs = PeerOps.uniform(manager, random, -1, 1, N, steps, hidden);
        xs.setRequiresGradient(true);
        PeerOps.params("", lstm).forEach(p -> trainable.add(p.value()));
        trainable.add(xs);
    }

    /** Returns the loss (read back, so the step has finished). Gradients are zeroed first, then filled. */
    @Benchmark
    public float forwardBackward() {
        try (NDManager step = manager.newSubManager()) {
            for (NDArray a : trainable) {
                // PyTorch accumulates into .grad; zero it, as the optimizer would (the contract: grads +=)
                NDArray g = a.getGradient();
                g.attach(step);
                g.subi(g);
            }
            xs.tempAttach(step);
            NDArray loss;
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                NDArray hs = lstm.forward(store, new NDList(xs), true).head(); // (N, T, H)
                loss = hs.sum();
                gc.backward(loss);
            }
            return loss.getFloat();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }
}
