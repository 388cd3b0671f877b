// W1 on the peer: one training step of the book's addition Seq2seq (V=13, Tenc=7, Tdec=4, D=16, H=128,
// N=128; forward + backward + clip by global norm 5.0 + Adam) on PyTorch 2.7.1 CPU through DJL, as many threads as seq4j (PeerOps).
// Pairs with seq4j's W1Seq2seqStepBench.step (same method name, backend=pytorch). Build with -Ppeers.
//
// Every iteration trains from the same state, as seq4j's side does: restore (@Setup(Level.Iteration)) closes the
// model (its manager frees its arrays, Adam's m and v with them: DJL's Adam keeps them in the weights' manager, and
// has no reset) and builds it anew from the seed, with a new Adam (t = 0, m and v made zero by its first step, as
// seq4j's new Adam makes its own). Before, the one batch was trained ~2,500 times through warm-up and measurement
// and seq4j's ~8,000, so the two were timed at different points of training. The batch lives in a manager of its
// own for the whole trial. Building the model takes host time outside the iteration; a step allocates its
// intermediates anew every time in any case, so the first step of an iteration does no extra work but Adam's state.
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
public class PeerW1Seq2seqStepBench {
    static final int V = 13, T_ENC = 7, T_DEC = 4, D = 16, H = 128, N = 128;

    /** Only pytorch: the column seq4j's backend=openblas etc. rows are compared with. */
    @Param({"pytorch"})
    public String backend;

    private NDManager batch; // holds xs and ts for the whole trial
    private NDArray xs, ts; // (N, Tenc), (N, Tdec + 1) ids: one fixed seeded batch
    private PeerSeq2seq model; // built anew each iteration (restore)

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
        model = new PeerSeq2seq(V, D, H, PeerOps.SEED);
    }

    /** The model the steps train, for PeerBenchStateTest. */
    PeerModel model() {
        return model;
    }

    /** Returns the step's loss so nothing is dead code; reading it also waits for the step to finish. */
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
