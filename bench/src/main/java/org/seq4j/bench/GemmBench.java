// GEMM throughput: C (m, n) = A (m, k) . B (k, n), row-major, through each backend. Square sizes and the
// shapes of the LSTM workloads: h.Wh per step (N x 4H x H) and x.Wx for all steps at once (T*N x 4H x D).
// GFLOP/s = 2 m n k / time; scripts/bench's report computes it from the mnk parameter. The pure-Java
// reference is too slow to sweep; scripts/bench runs it at 256^3 and 128x512x128 (-p backend=java,openblas).
// On the openblas backend gemm is OpenBLAS's sgemm, or a pack of B and seq4j's packed product where
// OpenBlasBackend.packedGemmPays (AVX-512 kernels beside OpenBLAS's 256-bit ones); `-jvmArgsAppend
// -Dseq4j.gemm=openblas` keeps sgemm.
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
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class GemmBench {
    /** java | openblas | cuda (default openblas; -p backend=java,openblas,cuda for others) */
    @Param({"openblas"})
    public String backend;

    /** m x n x k: squares, then N=128,H=128 h.Wh, N=64,H=650 h.Wh, and T*N=2240 rows of x.Wx with D=H=650. */
    @Param({"64x64x64", "128x128x128", "256x256x256", "512x512x512", "1024x1024x1024",
            "128x512x128", "64x2600x650", "2240x2600x650"})
    public String mnk;

    private Backend b;
    private Arena arena;
    private Tensor a, bm, c;
    private int m, n, k;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create(backend);
        arena = Arena.ofShared();
        int[] d = Params.dims("mnk", mnk, "MxNxK");
        m = d[0];
        n = d[1];
        k = d[2];
        Fixtures f = new Fixtures(b, arena, 42);
        a = f.uniform(-1, 1, m, k);
        bm = f.uniform(-1, 1, k, n);
        c = f.zeros(m, n);
    }

    @Benchmark
    public void gemm() {
        b.gemm(Transpose.NO, Transpose.NO, m, n, k, 1f, a, k, bm, n, 0f, c, n);
        b.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
