// One GRU cell step's elementwise work (the book's appendix GRU, gates z, r, h), forward and backward, beside
// LstmCellBench: gruGatesForward (z, r and r*h in one pass), gruCellForward (hhat and h_next), gruCellBackward
// (dA of z and hhat) and gruGatesBackward (dA of r, dh_prev), without the GEMMs between them. Same N x H shapes
// as LstmCellBench: the addition seq2seq (128 x 128), BetterRnnlm (20 x 650, 64 x 650), inference (1 x 256).
package org.seq4j.bench;

import java.lang.foreign.Arena;
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
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class GruCellBench {
    @Param({"java", "openblas"})
    public String backend;

    /** N x H */
    @Param({"128x128", "20x650", "64x650", "1x256"})
    public String nh;

    private Backend b;
    private Arena arena;
    private Tensor gates, pre, hPrev, rh, hNext, dh, drh, dA, dhPrev;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create(backend);
        arena = Arena.ofShared();
        int[] d = Params.dims("nh", nh, "NxH");
        int n = d[0], h = d[1];
        Fixtures f = new Fixtures(b, arena, 7);
        pre = f.uniform(-3, 3, n, 3 * h);
        gates = f.zeros(n, 3 * h);
        hPrev = f.uniform(-1, 1, n, h);
        rh = f.zeros(n, h);
        hNext = f.zeros(n, h);
        dh = f.uniform(-1, 1, n, h);
        drh = f.uniform(-1, 1, n, h);   // stands for dA_h Whh^T, the GEMM between the two backward kernels
        dA = f.zeros(n, 3 * h);
        dhPrev = f.zeros(n, h);
    }

    @Benchmark
    public void forwardBackward() {
        // gates is overwritten with activations by the forward kernels: restore the pre-activations first, as a
        // real step's GEMMs would have written them
        b.copy(gates, pre);
        b.gruGatesForward(rh, gates, hPrev);
        b.gruCellForward(hNext, gates, hPrev);
        b.gruCellBackward(dA, gates, hPrev, dh);
        b.gruGatesBackward(dA, dhPrev, gates, hPrev, dh, drh);   // accumulates into dhPrev: no reset needed to time it
        b.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
