// W4 on the peer: one training step of the book's AttentionSeq2seq on the date set's sizes (V=59, D=16, H=256,
// N=128, Tenc=29, Tdec=10; forward + backward + clip by global norm 5.0 + Adam) on PyTorch 2.7.1 CPU through
// DJL, as many threads as seq4j (PeerOps). Pairs with seq4j's W4AttentionStepBench.step (same method name, backend=pytorch).
// Every iteration trains from the same state: restore builds the model and its Adam anew from the seed, the old
// ones closed, as in PeerW1Seq2seqStepBench (see there why).
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Dai.djl.offline=true",
        "-DPYTORCH_FLAVOR=cpu", "-Dai.djl.pytorch.num_interop_threads=1"})
public class PeerW4AttentionStepBench {
    /** The date set: 29-char questions, 11-char answers "_YYYY-MM-DD" (decoder input and target 10 each). */
    static final int V = 59, T_ENC = 29, T_DEC = 10, D = 16, H = 256, N = 128;

    @Param({"pytorch"})
    public String backend;

    private NDManager batch; // holds xs and ts for the whole trial
    private NDArray xs, ts; // (N, Tenc), (N, Tdec + 1)
    private PeerAttentionSeq2seq model; // built anew each iteration (restore)

    @Setup(Level.Trial)
    public void setUp() {
        PeerOps.requirePyTorch(backend);
        batch = PeerOps.newManager();
        var random = new SplittableRandom(PeerOps.SEED + 1);
        xs = PeerOps.ids(batch, random, V, N, T_ENC);
        ts = PeerOps.ids(batch, random, V, N, T_DEC + 1);
    }

    /** The model and its Adam built anew from the seed, the old ones closed: each iteration trains from the start. */
    @Setup(Level.Iteration)
    public void restore() {
        if (model != null) {
            model.close();
        }
        model = new PeerAttentionSeq2seq(V, D, H, PeerOps.SEED);
    }

    /** The model the steps train, for PeerBenchStateTest. */
    PeerModel model() {
        return model;
    }

    @Benchmark
    public float step() {
        return model.trainStep(xs, ts).loss();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (model != null) {
            model.close();
        }
        batch.close();
    }
}
