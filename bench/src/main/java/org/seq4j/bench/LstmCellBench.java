// One LSTM cell step's elementwise work, forward and backward: Backend.lstmCellForward (four gate
// activations, the cell and the hidden state in one pass) and lstmCellBackward (dA and dc_prev in one
// pass), without the GEMMs. Shapes N x H: the addition seq2seq (128 x 128), BetterRnnlm (20 x 650,
// 64 x 650) and one-question inference (1 x 256). Pre-activations uniform in [-range, range]: 3, as in training, and 50,
// where tanh's argument passes 43.7 (saturated gates): on a Xeon the AVX-512 tanh's reciprocal was subnormal there, a
// microcode assist a unit (bench/RESULTS.md, twenty-fourth pass).
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
public class LstmCellBench {
    @Param({"java", "openblas"})
    public String backend;

    /** N x H */
    @Param({"128x128", "20x650", "64x650", "1x256"})
    public String nh;

    /** the pre-activations' range */
    @Param({"3", "50"})
    public String range;

    private Backend b;
    private Arena arena;
    private Tensor gates, pre, cPrev, hNext, cNext, dh, dc, dA, dcPrev;

    @Setup(Level.Trial)
    public void setUp() {
        double r = Params.positiveNumber("range", range);
        b = Backends.create(backend);
        arena = Arena.ofShared();
        int[] d = Params.dims("nh", nh, "NxH");
        int n = d[0], h = d[1];
        Fixtures f = new Fixtures(b, arena, 7);
        pre = f.uniform(-r, r, n, 4 * h);
        gates = f.zeros(n, 4 * h);
        cPrev = f.uniform(-1, 1, n, h);
        hNext = f.zeros(n, h);
        cNext = f.zeros(n, h);
        dh = f.uniform(-1, 1, n, h);
        dc = f.uniform(-1, 1, n, h);
        dA = f.zeros(n, 4 * h);
        dcPrev = f.zeros(n, h);
    }

    @Benchmark
    public void forwardBackward() {
        // gates is overwritten with activations by the forward pass: restore the pre-activation first,
        // as a real step's GEMM would have written it
        b.copy(gates, pre);
        b.lstmCellForward(hNext, cNext, gates, cPrev);
        b.lstmCellBackward(dA, dcPrev, gates, cNext, cPrev, dh, dc);
        b.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
