// Memory bandwidth as the workloads see it: the openblas backend's own kernels on its 2-thread pool, over a
// buffer far larger than the L3 (DRAM), one that fits the shared L3, and one that fits the two cores' L2s.
// Derived figure (Report): GB/s = the buffer's bytes / time per op (Limits.bandwidth).
//   readPacked  x (1, R) . A (R, 1024) through Backend.gemmPacked over A packed once in setUp (F32 panels): the
//         packed product that the recurrences run over a packed Wh (TimeLSTM's h.Wh at N = 1: W3's 256 x 1024 at
//         every step, the date model's encoder and decoder), its panels split over the pool's threads. At 1MiB (256 x
//         1024: W3's Wh itself) the panels stay in the L2s between calls: the L2-resident figure W3's limit needs. 2
//         FLOPs per 4 bytes read: bound by memory at every level. Limits takes its read bandwidth from here where this
//         ran. Each op is a backend call of its own, where W3's 29 steps share one (lstmSequenceForward): at 1MiB the
//         call's fixed cost (the downcall, waking the pool) is in the figure, a few us against W3's per-step share.
//   read  the same product through Backend.gemm on A as stored: with one row it is seq4j_sgemv, which splits the 1024
//         columns over the pool's threads, each running OpenBLAS's single-threaded sgemv_t over its 512 columns of
//         every row. Slower than the packed product: W3's packed step over its 1 MiB Wh ran in less time than this
//         took for 1MiB (bench/RESULTS.md, limits: W3 and the date model at 129-171% of a "limit" set by it), so it
//         bounds nothing the packed product does; kept as the plain (unpacked) path's figure and for older runs.
//   copy  out (R, 1024) = [a | b] (R, 512 each) through Backend.concatColumns (seq4j_concat_columns, rows split
//         over the pool): half the buffer read, half written, the kernel the attention decoder copies with.
//         Written lines are read first (write-allocate) unless the CPU streams them: the bytes counted are
//         those the kernel must move, the buffer's.
// Why the backend and not a hand-written FFM loop: the limits are for the workloads, which only ever touch
// memory through these kernels; and a float sum in Java is not vectorised (its order is fixed), so a Java loop
// would measure the adder, not the memory.
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
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MemoryBandwidthBench {
    /** The whole buffer an op moves, both threads together: DRAM (16x the L3), the shared L3, the L2s. */
    @Param({"512MiB", "16MiB", "1MiB"})
    public String buffer;

    /** Columns of the buffer viewed as a matrix: W3's 4H. */
    static final int COLS = 1024;

    private Backend b;
    private Arena arena;
    private Tensor a, x, y, left, right, out;
    private PackedMatrix packed;   // a packed (F32 panels), readPacked's operand
    private int rows;

    @Setup(Level.Trial)
    public void setUp() {
        long bytes = Params.bytes("buffer", buffer);
        // an even number of whole rows: the ops move whole rows, the copy halves of them, and GB/s divides the
        // buffer's bytes (12KiB and 15KiB moved 8KiB, and read as 1.5x and 1.9x the bandwidth of 8KiB)
        if (bytes < 2L * COLS * Float.BYTES || bytes % (2L * COLS * Float.BYTES) != 0) {
            throw Params.bad("buffer", buffer, "a multiple of 8KiB (an even number of rows of " + COLS + " floats)");
        }
        b = Backends.create("openblas");
        arena = Arena.ofShared();
        rows = Math.toIntExact(bytes / ((long) COLS * Float.BYTES));
        a = b.allocate(arena, DType.F32, rows, COLS);
        x = b.allocate(arena, DType.F32, 1, rows);
        y = b.allocate(arena, DType.F32, 1, COLS);
        left = b.allocate(arena, DType.F32, rows / 2, COLS / 2);
        right = b.allocate(arena, DType.F32, rows / 2, COLS / 2);
        out = b.allocate(arena, DType.F32, rows / 2, COLS);
        // every page touched before timing; small values so that the sums stay finite
        b.fill(a, 1e-3f);
        b.fill(x, 1e-3f);
        b.fill(left, 1f);
        b.fill(right, 2f);
        b.fill(out, 0f);
        // packed once, as a layer packs its Wh (512MiB: a 512 MiB copy next to a, made before any timing)
        packed = b.packedMatrix(arena, rows, COLS, PackedMatrix.Precision.F32);
        b.pack(packed, Transpose.NO, a);
    }

    @Benchmark
    public Tensor read() {
        b.gemm(Transpose.NO, Transpose.NO, 1, COLS, rows, 1f, x, rows, a, COLS, 0f, y, COLS);
        b.synchronize();
        return y;
    }

    @Benchmark
    public Tensor readPacked() {
        b.gemmPacked(y, x, packed, 0f);
        b.synchronize();
        return y;
    }

    @Benchmark
    public Tensor copy() {
        b.concatColumns(out, left, right);
        b.synchronize();
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
