// W1 on the peer: one training step of the book's addition Seq2seq (V=13, Tenc=7, Tdec=4, D=16, H=128,
// N=128; forward + backward + clip by global norm 5.0 + Adam) on PyTorch 2.7.1 CPU through DJL, 2 threads.
// Pairs with seq4j's W1Seq2seqStepBench.step (same method name, backend=pytorch). Build with -Ppeers.
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
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
        "-DPYTORCH_FLAVOR=cpu", "-Dai.djl.pytorch.num_threads=2", "-Dai.djl.pytorch.num_interop_threads=1"})
public class PeerW1Seq2seqStepBench {
    static final int V = 13, T_ENC = 7, T_DEC = 4, D = 16, H = 128, N = 128;

    /** Only pytorch: the column seq4j's backend=openblas etc. rows are compared with. */
    @Param({"pytorch"})
    public String backend;

    private PeerSeq2seq model;
    private NDArray xs, ts; // (N, Tenc), (N, Tdec + 1) ids: one fixed seeded batch

    @Setup(Level.Trial)
    public void setUp() {
        model = new PeerSeq2seq(V, D, H, PeerOps.SEED);
        var random = new SplittableRandom(PeerOps.SEED + 1);
        xs = PeerOps.ids(model.manager(), random, V, N, T_ENC);
        ts = PeerOps.ids(model.manager(), random, V, N, T_DEC + 1);
    }

    /** Returns the step's loss so nothing is dead code; reading it also waits for the step to finish. */
    @Benchmark
    public float step() {
        return model.trainStep(xs, ts).loss();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }
}
