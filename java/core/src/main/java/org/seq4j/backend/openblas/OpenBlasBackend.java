// The CPU backend: GEMM through OpenBLAS (cblas, row-major), every other kernel through seq4j's fused
// C kernels (native/cpu), both called through jextract-generated FFM bindings on host memory.
// Threads: OpenBLAS runs single-threaded and seq4j's native pool (process-wide, sized once) runs every
// kernel and every GEMM (see native/cpu/seq4j_cpu.h: two thread pools spinning on the same cores slow each
// other down by orders of magnitude). This backend's thread count goes with every call and fixes how each
// call is split, so results never depend on other backends or threads running at the same time.
// Shapes were checked by AbstractBackend; ids and labels are checked again by the kernels, which may find
// them changed since, and a bad one becomes the same exception as the Java check's.
package org.seq4j.backend.openblas;

import static org.seq4j.bindings.cblas.cblas_h.CblasNoTrans;
import static org.seq4j.bindings.cblas.cblas_h.CblasRowMajor;
import static org.seq4j.bindings.cblas.cblas_h.CblasTrans;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;
import org.seq4j.backend.AbstractBackend;
import org.seq4j.backend.BackendConfig;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.backend.internal.CpuKernelsLibrary;
import org.seq4j.backend.internal.NativeAccess;
import org.seq4j.backend.internal.OpenBlasLibrary;
import org.seq4j.bindings.cblas.cblas_h;
import org.seq4j.bindings.cpu.seq4j_cpu_h;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;

/**
 * The CPU backend: gemm through OpenBLAS, every other kernel through seq4j's C kernels, on host memory.
 * The same call gives the same bits every time, whatever other threads do: results depend only on the call's
 * arguments and this backend's thread count, not on the data's values or timing. Not only on the shapes, though: gemm
 * picks its kernel by the shapes, the transposes, whether alpha is 1 and whether an operand lies on the Java heap (heap
 * tensors always go to OpenBLAS's sgemm), so the same product of heap and of native tensors may differ in the last
 * bits (within the conformance tolerance). Tensors over Java heap memory are taken by
 * gemm, gemmStridedBatched, matmul and the copies; gemm reaches them through critical downcalls, which hold off the
 * garbage collector while they run, so use native memory for large or repeated products. Other kernels refuse heap
 * tensors with an IllegalArgumentException that names the op.
 */
public final class OpenBlasBackend extends AbstractBackend {
    /** Where the loaded OpenBLAS came from. */
    public enum Source {
        /** The path given by {@code -Dseq4j.openblas} or {@code SEQ4J_OPENBLAS}. */
        EXPLICIT,
        /** The system's {@code libopenblas.so.0} (LD_LIBRARY_PATH, then the usual library folders). */
        SYSTEM,
        /** The binary of the Maven artifact {@code org.bytedeco:openblas}, extracted into the cache. */
        MAVEN_ARTIFACT
    }

    /**
     * The OpenBLAS this JVM loaded (once, for every OpenBLAS backend), as {@link #location()} reports it.
     *
     * @param path    the file loaded
     * @param source  where it came from
     * @param skipped the candidates passed over, each with why
     */
    public record Location(Path path, Source source, List<String> skipped) {
    }

    private final Location location;
    private final int threads;

    /** Loads OpenBLAS and the C kernels as the environment says (-Dseq4j.threads, -Dseq4j.openblas, ...). */
    public OpenBlasBackend() {
        this(BackendConfig.fromEnvironment());
    }

    /**
     * Loads the libraries as the environment says, with the given thread count.
     *
     * @param threads how many parts each kernel and GEMM is split into, at most, on the native pool (0: one per
     *                core); fixed for this backend's life, and the only thing besides the shapes that its results
     *                depend on
     * @throws BackendUnavailableException with the reason when a library cannot load
     * @throws IllegalArgumentException if the thread count is negative or above the native limit
     */
    public OpenBlasBackend(int threads) {
        this(argument(threads));
    }

    /** The environment's configuration with the constructor's thread count, checked as the argument it is. */
    private static BackendConfig argument(int threads) {
        int max = maxThreads();
        if (threads < 0 || threads > max) {
            throw new IllegalArgumentException("new OpenBlasBackend(threads): threads must be 0 (one per core) or 1.."
                    + max + ", got " + threads);
        }
        return BackendConfig.fromEnvironment(threads); // the argument's count: -Dseq4j.threads is not read
    }

    /**
     * The most threads a backend may have (the C kernels' pool is sized for them), for callers that check a count
     * before they construct one.
     *
     * @return SEQ4J_MAX_THREADS of the C kernels (64)
     * @throws BackendUnavailableException naming the flag to add, if the JVM denies seq4j native access
     */
    public static int maxThreads() {
        NativeAccess.initialise(NativeAccess.CORE_MODULES, seq4j_cpu_h.class);
        return seq4j_cpu_h.SEQ4J_MAX_THREADS();
    }

    /**
     * Loads OpenBLAS (the configured path, else the system's, else the Maven artifact's) and the C kernels, with
     * {@code config.threads()} as this backend's thread count (0: one per core, at most SEQ4J_MAX_THREADS).
     *
     * @param config threads and the OpenBLAS path
     * @throws BackendUnavailableException with the reason when a library cannot load
     * @throws IllegalArgumentException if the thread count is above the native limit
     */
    public OpenBlasBackend(BackendConfig config) {
        java.util.Objects.requireNonNull(config, "OpenBlasBackend: config is null");
        // before any other use of the bindings: a JVM that denies them native access gets the flag to add
        NativeAccess.initialise(NativeAccess.CORE_MODULES, seq4j_cpu_h.class, cblas_h.class);
        int max = maxThreads();
        if (config.threads() > max) {
            throw new IllegalArgumentException("threads (-Dseq4j.threads, SEQ4J_THREADS or BackendConfig) must be 0 (one"
                    + " per core) or 1.." + max + ", got " + config.threads());
        }
        this.threads = Math.min(max, config.effectiveThreads());
        gemmOnOpenBlasOnly(); // a misspelt -Dseq4j.gemm fails here, not silently
        try {
            CpuKernelsLibrary.load(); // first: on a platform without our kernels, its message names the platform
            this.location = OpenBlasLibrary.load(config);
        } catch (UnsatisfiedLinkError e) {
            throw new BackendUnavailableException("cannot link the native libraries: " + e.getMessage(), e);
        }
        seq4j_cpu_h.seq4j_set_blas(cblas_h.cblas_sgemm$address(), cblas_h.cblas_sgemv$address());
        OpenBlasLibrary.setThreads(1);
    }

    /**
     * This backend's thread count: the most parts a kernel is split into (the pool itself is shared).
     *
     * @return the count, at least 1
     */
    public int threads() {
        return threads;
    }

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String description() {
        return OpenBlasLibrary.config() + " [" + OpenBlasLibrary.coreName() + "] from " + location.path() + " ("
                + location.source() + "); " + CpuKernelsLibrary.info() + "; " + threads + " threads on a pool of "
                + (seq4j_cpu_h.seq4j_pool_workers() + 1);
    }

    /**
     * Where OpenBLAS was loaded from, and which candidates were passed over.
     *
     * @return the location
     */
    public Location location() {
        return location;
    }

    private static int trans(Transpose t) {
        return t.isTransposed() ? CblasTrans() : CblasNoTrans();
    }

    private static MemorySegment p(Tensor t) {
        return t.segment();
    }

    /**
     * Memory copies run in Java (MemorySegment.copy) and gemm through critical downcalls, so both take heap
     * tensors; every other kernel needs native memory (AbstractBackend refuses heap tensors for it).
     */
    @Override
    protected boolean acceptsHeap(String op) {
        return switch (op) {
            case "copy", "copyIn", "copyOut", "item", "gemm", "gemmStridedBatched" -> true;
            default -> false;
        };
    }

    private static boolean onHeap(Tensor t) {
        return !t.segment().isNative();
    }

    /**
     * Critical downcall handles with heap access for gemm's C entry points, built from the generated bindings'
     * address and descriptor: the C code gets a pointer into the float[] itself, no copy. Critical calls hold off
     * the garbage collector for their whole duration (in every thread), so they are used only when a gemm
     * argument is a heap segment; native memory goes through the ordinary handles. Created on first use, after
     * the constructor has loaded the library.
     */
    private static final class HeapCalls {
        private static final Linker.Option CRITICAL = Linker.Option.critical(true);
        static final MethodHandle SGEMM = Linker.nativeLinker().downcallHandle(seq4j_cpu_h.seq4j_sgemm$address(),
                seq4j_cpu_h.seq4j_sgemm$descriptor(), CRITICAL);
        static final MethodHandle SGEMV = Linker.nativeLinker().downcallHandle(seq4j_cpu_h.seq4j_sgemv$address(),
                seq4j_cpu_h.seq4j_sgemv$descriptor(), CRITICAL);
        static final MethodHandle FILL = Linker.nativeLinker().downcallHandle(seq4j_cpu_h.seq4j_fill_f32$address(),
                seq4j_cpu_h.seq4j_fill_f32$descriptor(), CRITICAL);

        private HeapCalls() {
        }
    }

    /** seq4j_sgemm, through the critical handle when {@code heap} (any of a, b, c on the Java heap). */
    private void sgemm(boolean heap, int transA, int transB, int m, int n, int k, float alpha, MemorySegment a,
                       int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        if (!heap) {
            seq4j_cpu_h.seq4j_sgemm(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        try {
            HeapCalls.SGEMM.invokeExact(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** seq4j_sgemv (y = alpha op(A) x + beta y), through the critical handle when {@code heap}. */
    private void sgemv(boolean heap, int trans, int rows, int cols, float alpha, MemorySegment a, int lda,
                       MemorySegment x, int incx, float beta, MemorySegment y) {
        if (!heap) {
            seq4j_cpu_h.seq4j_sgemv(threads, trans, rows, cols, alpha, a, lda, x, incx, beta, y);
            return;
        }
        try {
            HeapCalls.SGEMV.invokeExact(threads, trans, rows, cols, alpha, a, lda, x, incx, beta, y);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException("native gemm call failed", e);
    }

    // ---- memory ----------------------------------------------------------------------------------------

    @Override
    protected Tensor allocateK(Arena arena, DType dtype, int[] shape) {
        return Tensor.allocateHost(arena, dtype, shape);
    }

    @Override
    protected void copyK(Tensor dst, Tensor src) {
        MemorySegment.copy(src.segment(), 0, dst.segment(), 0, src.byteSize());
    }

    @Override
    protected void copyInK(Tensor dst, MemorySegment src) {
        MemorySegment.copy(src, 0, dst.segment(), 0, src.byteSize());
    }

    @Override
    protected void copyOutK(MemorySegment dst, Tensor src) {
        MemorySegment.copy(src.segment(), 0, dst, 0, src.byteSize());
    }

    @Override
    protected float itemK(Tensor x, long index) {
        return x.getFloat(index);
    }

    @Override
    public void synchronize() {
    }

    // ---- elementwise -----------------------------------------------------------------------------------

    @Override
    protected void fillK(Tensor x, float value) {
        if (x.dtype() == DType.I32) {
            seq4j_cpu_h.seq4j_fill_i32(threads, p(x), x.size(), (int) value);
        } else {
            seq4j_cpu_h.seq4j_fill_f32(threads, p(x), x.size(), value);
        }
    }

    @Override
    protected void scaleK(Tensor x, float alpha) {
        seq4j_cpu_h.seq4j_scale(threads, p(x), x.size(), alpha);
    }

    @Override
    protected void addScaledK(Tensor y, Tensor x, float alpha) {
        seq4j_cpu_h.seq4j_axpy(threads, p(y), p(x), y.size(), alpha);
    }

    @Override
    protected void mulK(Tensor out, Tensor a, Tensor b) {
        seq4j_cpu_h.seq4j_mul(threads, p(out), p(a), p(b), out.size());
    }

    @Override
    protected void swapAxes01K(Tensor out, Tensor in, int n, int t, int f) {
        seq4j_cpu_h.seq4j_swap_axes01(threads, p(out), p(in), n, t, f);
    }

    @Override
    protected void concatColumnsK(Tensor out, Tensor a, Tensor b, int m, int f1, int f2) {
        seq4j_cpu_h.seq4j_concat_columns(threads, p(out), p(a), p(b), m, f1, f2);
    }

    @Override
    protected void splitColumnsK(Tensor da, Tensor db, Tensor dout, int m, int f1, int f2) {
        seq4j_cpu_h.seq4j_split_columns(threads, p(da), p(db), p(dout), m, f1, f2);
    }

    // ---- BLAS ------------------------------------------------------------------------------------------

    @Override
    protected void gemmK(Transpose transA, Transpose transB, int m, int n, int k,
                         float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc) {
        // A single row or column is a matrix-vector product. OpenBLAS's sgemm packs all of B on every call,
        // which for one row (an LSTM step with N = 1: (1, H) . (H, 4H)) costs ten times the product itself.
        boolean heap = onHeap(a) || onHeap(b) || onHeap(c);
        if (m == 1 && k > 0) {
            gemvRow(heap, transA, transB, n, k, alpha, a, lda, b, ldb, beta, c);
        } else if (n == 1 && k > 0 && ldc == 1) {
            gemvColumn(heap, transA, transB, m, k, alpha, a, lda, b, ldb, beta, c);
        } else if (transA.isTransposed() && !transB.isTransposed() && alpha == 1f && !heap && gemmTnPays(m, n)) {
            seq4j_cpu_h.seq4j_gemm_tn(threads, p(c), p(a), p(b), m, n, k, lda, ldb, ldc, beta);
        } else if (!transA.isTransposed() && alpha == 1f && !heap && packedGemmPays(m, n, k)) {
            gemmThroughPack(transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
        } else {
            sgemm(heap, trans(transA), trans(transB), m, n, k, alpha, p(a), lda, p(b), ldb, beta, p(c), ldc);
        }
    }

    /**
     * Whether C = A^T B goes to seq4j_gemm_tn (the packed product's blocks reading B as stored) rather than sgemm:
     * the layers' weight gradients h^T dA, (H, 4H) over k = T*N. On the AVX-512 kernels (seq4j_packed_preferred 3)
     * only for m <= 512 rows and 64 <= n <= 2048 columns (H = 16 to 512), where its blocks beat OpenBLAS's sgemm TN.
     * On the AVX2 ones (2) for a narrow c whose last panel is partial (8 to 63 columns, no multiple of 16: the
     * output layers' dW, b packed first), or one of fewer than 32 rows and 64 to 2048 columns (b read as stored). On
     * an AVX2-only Zen 3 (packed_bench, 2 threads, two runs, against OpenBLAS's Zen sgemm TN): 128 x 13 x 512 21-35
     * against 32-49 us (W1's output dW; inside W1's step, Profile w1, five alternating runs: median 0.59x), 512 x 59
     * x 1280 644-924 against 721-989 us, 256 x 59 x 3712 0.92-1.05 against 1.16-1.18 ms, 16 x 512 x 896 151-189
     * against 295-451 us; but 16 x 4 x 896 17-29 against 9-11 us. Whole panels from 32 rows, which it packs first
     * there, beat sgemm alone (128 x 512 x 768 626-652 against 766-837 us) but not inside W1's step (its two dWh,
     * five alternating runs: median 0.995x), and lose past W1's size (256 x 1024 x 1280 5.3-6.3 against 4.4-5.2 ms):
     * sgemm keeps them, and W2's 650 x 2600 x 2240, whose last panel is partial too (routed to it by mistake for a
     * day, W2 fell from 0.95-0.98 of sgemm's rate to 0.76: targets-zen3-31).
     * bench/c/packed_bench.c, 2 threads, Zen 4, a shared machine (rough), tn against sgemm: 128 x 512 x 896 (W1's
     * encoder dWh) 658 against 1004 us, 128 x 512 x 512 303 / 401, 16 x 512 x 896 68 / 197, 128 x 64 x 512 39 / 67,
     * 256 x 1024 x 896 2.40 / 2.61 ms, 512 x 2048 x 896 18.9 / 21.8 ms; in W1's step (Profile w1, alternating
     * builds) the two dWh took 1.6-2.6 ms against 2.9-3.1 for the pack of dA + the packed product. Outside it sgemm
     * wins: W2's 650 x 2600 x 2240 125 against 39 ms (rows of 10 KB: a new page per row of a and of B), and a
     * narrow c, whose one partial panel loads column by column: W1's output dW, 128 x 13 x 512, 86 against 47 us.
     * Past 1024 rows of k (512 since) the kernel sums in slices (native/cpu/gemm.c's SLICE_FROM): before that, W4's
     * 256 x 1024 x 3712 took 22-23 ms against sgemm's 11-17, now 11.1-12.6 against 11.3-17.0 (Haswell kernels) and 11.3 against 12.9
     * (Cooperlake); 256 x 1024 x 1280 3.8 against 3.8-3.9 (Haswell) and 3.9 against 4.3 (Cooperlake). W2's 650 x 2600
     * x 2240 stays sgemm's (sliced, 47-91 against 38-77 ms), except where OpenBLAS runs 256-bit kernels beside
     * seq4j's AVX-512 ones (NativePacked.WIDE, below): then every c, as on a Zen 5 EPYC (512-bit
     * FMA units) the blocks took 46.3 ms at W2's 650 x 2600 x 2240 against Haswell sgemm's 72.0 (packed_bench).
     * Narrower ones there too since the kernel packs b where its last panel is partial (a row's last columns had been
     * copied one by one): packed_bench, Zen 5, 2 threads, gemm_tn against Haswell sgemm, W1's output dW 128 x 13 x 512
     * 14.8 against 25.9 us, W4's 512 x 59 x 1280 235 against 557 us and 256 x 59 x 3712 364 against 812, 650 x 10 x
     * 2240 332 against 394, 128 x 1 x 512 13.9 against 22.2, 16 x 4 x 896 5.4 against 6.7, 3 x 13 x 50 0.39 against
     * 0.50 (before, 512 x 59 x 1280 took 905 against 516 us); a c of one panel split by rows, 1024 x 13 x 512 97
     * against 183 us, 4096 x 13 x 256 179 against 374. On Zen 4 (not WIDE) narrow ones stay sgemm's: not
     * measured there since.
     */
    private static boolean gemmTnPays(int m, int n) {
        return gemmTnPays(NativePacked.GEMM_TN ? NativePacked.LEVEL : 0, NativePacked.WIDE, m, n);
    }

    /**
     * The rule of {@link #gemmTnPays(int, int)} for a level of seq4j_packed_preferred (0 where -Dseq4j.gemm=openblas
     * keeps the products on sgemm) and NativePacked.WIDE; package-private for its test.
     */
    static boolean gemmTnPays(int level, boolean wide, int m, int n) {
        if (wide) {
            return true;
        }
        return switch (level) {
            case 2 -> n >= 8 && n < 64 && n % 16 != 0 || m < 32 && n >= 64 && n <= 2048;
            case 3 -> m <= 512 && n >= 64 && n <= 2048;
            default -> false;
        };
    }

    /**
     * Whether C = A op(B) goes to the packed product (op(B) packed into scratch, then seq4j_gemm_packed)
     * rather than sgemm: only where OpenBLAS runs 256-bit kernels on a CPU whose AVX-512 kernels seq4j runs
     * (NativePacked.WIDE), for at least 32 rows (the pack, k x n floats, is then a small part of the 2 m n k FLOPs), 8
     * columns and 8 sums, and a pack of at most PACK_LIMIT floats. On a Zen 5 EPYC (two 512-bit FMA pipes a core:
     * AVX-512 doubles the FMA rate over the 256-bit vectors of OpenBLAS's Haswell kernels), bench/c/packed_bench.c, 2
     * threads, OPENBLAS_CORETYPE=Haswell, packed product (its pack) against sgemm: W2's x Wx 2240 x 2600 x 650 35.9
     * (0.26) against 71.7 ms, its dA Wx^T 2240 x 650 x 2600 37.4 (0.54) against 72.4 ms, 64 x 2600 x 650 1.04 (0.25)
     * against 2.49 ms; W4's output layer 1280 x 59 x 512 241 against 451 us, 1280 x 512 x 59 from W^T 186 against 391
     * us; W1's 512 x 13 x 128 14.5 against 20.1 us, 512 x 128 x 13 from W^T 11.0 against 13.2 us (those packs a few
     * us); inside W1's step (Profile w1, 1000 steps, three runs each way) the two, pack included, took 26-29 and 15-21
     * us against sgemm's 30-37 and 21-26. Where OpenBLAS runs its own AVX-512 kernels (Cooperlake, its choice on that
     * CPU) the two are even (2240 x 2600 x 650: 36.3 against 37.7 ms), so sgemm keeps them there. On Zen 4 (512-bit
     * FMAs as two 256-bit halves) the packed product ran at 90% of the FMA peak at 128 x 512 x 128 and OpenBLAS's
     * Haswell sgemm at 85% at W2's size (earlier sessions, bench/RESULTS.md): about even, not measured side by side at
     * these shapes.
     */
    private static boolean packedGemmPays(int m, int n, int k) {
        return NativePacked.WIDE && m >= 32 && k >= 8 && n >= 8 && (long) k * n <= PACK_LIMIT;
    }

    /** Largest op(B) (in floats) that gemmThroughPack packs: 64 MiB of scratch at most. */
    private static final long PACK_LIMIT = 16L << 20;

    /** Guards packScratch, its arena and packClosed: one call at a time packs into it; close waits for that call. */
    private final ReentrantLock packLock = new ReentrantLock();
    /**
     * gemmThroughPack's panels, grown to the largest pack so far and kept until close (up to 64 MiB; left to the
     * garbage collector, a closed backend held them for as long as anything referred to it).
     */
    private MemorySegment packScratch = MemorySegment.NULL;
    private Arena packArena;
    /**
     * Set by closeK, packLock held. A product that passed its open check before close may reach the pack after closeK
     * freed the scratch: it then packs into memory of its own, as a call that finds the scratch in use does (a scratch
     * it made would outlive the backend, nothing left to free it). Read with packLock held, so it costs nothing more.
     */
    private boolean packClosed;

    /**
     * C = A op(B) + beta C with op(B) packed first: the recurrent products' blocks for a product used once. The pack
     * goes to this backend's scratch, or, where another thread holds it or close has freed it, to memory of the call's
     * own, freed on return: the memory kept is one scratch a backend however many threads call (one a thread could
     * keep 64 MiB for every thread of a server), and none once closed. The result does not depend on which.
     * Package-private for tests: the pack and its product are correct on every clone, wherever gemmK sends products.
     */
    void gemmThroughPack(Transpose transB, int m, int n, int k, Tensor a, int lda, Tensor b, int ldb, float beta,
                         Tensor c, int ldc) {
        int f32 = seq4j_cpu_h.SEQ4J_PACKED_F32();
        long bytes = seq4j_cpu_h.seq4j_packed_floats(k, n, f32) * Float.BYTES;
        if (packLock.tryLock()) {
            try {
                if (!packClosed) {
                    if (packScratch.byteSize() < bytes) {
                        freePackScratch();
                        packArena = Arena.ofShared();
                        packScratch = packArena.allocate(bytes, 64);
                    }
                    packAndMultiply(packScratch, f32, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
                    return;
                }
            } finally {
                packLock.unlock();
            }
        }
        try (Arena call = Arena.ofConfined()) {
            packAndMultiply(call.allocate(bytes, 64), f32, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
        }
    }

    /** Frees the pack scratch; packLock held. */
    private void freePackScratch() {
        packScratch = MemorySegment.NULL;
        if (packArena != null) {
            Arena a = packArena;
            packArena = null;
            a.close();
        }
    }

    /**
     * Frees the pack scratch, once a product that packs into it on another thread has returned; a product still to
     * reach it packs into memory of its own (packClosed), so it is freed exactly once.
     */
    @Override
    protected void closeK() {
        packLock.lock();
        try {
            packClosed = true;
            freePackScratch();
        } finally {
            packLock.unlock();
        }
    }

    /**
     * The pack scratch as it is now (for tests: its scope is dead once close has freed it).
     *
     * @return the scratch, or MemorySegment.NULL before any product packed
     */
    MemorySegment packScratch() {
        packLock.lock();
        try {
            return packScratch;
        } finally {
            packLock.unlock();
        }
    }

    private void packAndMultiply(MemorySegment panels, int f32, Transpose transB, int m, int n, int k, Tensor a,
                                 int lda, Tensor b, int ldb, float beta, Tensor c, int ldc) {
        seq4j_cpu_h.seq4j_pack(threads, panels, p(b), trans(transB), k, n, ldb, f32);
        seq4j_cpu_h.seq4j_gemm_packed(threads, p(c), p(a), panels, m, n, k, lda, ldc, beta, f32);
    }

    /** C (1, n) = alpha op(A) (1, k) op(B) (k, n) + beta C, as y = op(B)^T x with x = op(A)'s only row. */
    private void gemvRow(boolean heap, Transpose transA, Transpose transB, int n, int k, float alpha, Tensor a,
                         int lda, Tensor b, int ldb, float beta, Tensor c) {
        int incx = transA.isTransposed() ? lda : 1; // A stored (k, 1): the row of op(A) is a column, stride lda
        zeroForBetaZero(c, n, beta);
        if (transB.isTransposed()) {    // B stored (n, k): y = B x
            sgemv(heap, CblasNoTrans(), n, k, alpha, p(b), ldb, p(a), incx, beta, p(c));
        } else {                         // B stored (k, n): y = B^T x
            sgemv(heap, CblasTrans(), k, n, alpha, p(b), ldb, p(a), incx, beta, p(c));
        }
    }

    /** C (m, 1) = alpha op(A) (m, k) op(B) (k, 1) + beta C, as y = op(A) x with x = op(B)'s only column. */
    private void gemvColumn(boolean heap, Transpose transA, Transpose transB, int m, int k, float alpha, Tensor a,
                            int lda, Tensor b, int ldb, float beta, Tensor c) {
        int incx = transB.isTransposed() ? 1 : ldb; // B stored (k, 1): its column has stride ldb
        zeroForBetaZero(c, m, beta);
        if (transA.isTransposed()) {    // A stored (k, m): y = A^T x
            sgemv(heap, CblasTrans(), k, m, alpha, p(a), lda, p(b), incx, beta, p(c));
        } else {                         // A stored (m, k)
            sgemv(heap, CblasNoTrans(), m, k, alpha, p(a), lda, p(b), incx, beta, p(c));
        }
    }

    /**
     * With beta = 0, gemm must not read C (it may hold NaN), but some OpenBLAS versions compute sgemv's
     * beta * y even then, and 0 * NaN is NaN: so the output is zeroed first.
     */
    private void zeroForBetaZero(Tensor c, int count, float beta) {
        if (beta != 0f) {
            return;
        }
        if (!onHeap(c)) {
            seq4j_cpu_h.seq4j_fill_f32(threads, p(c), count, 0f);
            return;
        }
        try {
            HeapCalls.FILL.invokeExact(threads, p(c), (long) count, 0f);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    @Override
    protected void gemmStridedBatchedK(Transpose transA, Transpose transB, int m, int n, int k,
                                       float alpha, Tensor a, int lda, long strideA, Tensor b, int ldb, long strideB,
                                       float beta, Tensor c, int ldc, long strideC, int batch) {
        // One cblas_sgemm per matrix. (OpenBLAS 0.3.31's cblas_sgemm_batch_strided crashes on AMD Zen in the
        // DYNAMIC_ARCH build, even from C.) The extents were checked for the whole batch, so every slice
        // below lies inside its tensor.
        boolean heap = onHeap(a) || onHeap(b) || onHeap(c);
        long fa = a.dtype().byteSize();
        for (int i = 0; i < batch; i++) {
            MemorySegment ai = a.segment().asSlice(i * strideA * fa);
            MemorySegment bi = b.segment().asSlice(i * strideB * fa);
            MemorySegment ci = c.segment().asSlice(i * strideC * fa);
            sgemm(heap, trans(transA), trans(transB), m, n, k, alpha, ai, lda, bi, ldb, beta, ci, ldc);
        }
    }

    // ---- packed weights (native/cpu/seq4j_cpu.h: 16-column k-major panels; BF16 as pairs of rows) --------
    // Only where the C library's packed product is the faster one (seq4j_packed_preferred: its AVX-512 and AVX2
    // clones); elsewhere the default layout of AbstractBackend (B row-major, products through sgemm). Fixed per
    // process.

    private static boolean nativePacked() {
        return NativePacked.PREFERRED;
    }

    /**
     * Whether -Dseq4j.gemm=openblas keeps every dense product on sgemm; the default, or auto, lets packedGemmPays and
     * gemmTnPays choose.
     *
     * @throws IllegalArgumentException for any other value
     */
    private static boolean gemmOnOpenBlasOnly() {
        String v = System.getProperty("seq4j.gemm");
        if (v == null || v.equals("auto")) {
            return false;
        }
        if (v.equals("openblas")) {
            return true;
        }
        throw new BackendMisconfiguredException("-Dseq4j.gemm must be auto or openblas, got '" + v + "'");
    }

    /** Read on first use, after a constructor has loaded the library. */
    private static final class NativePacked {
        /** 3: the AVX-512 clone, 2: the AVX2 one, 0: neither (native/cpu/seq4j_cpu.h). */
        static final int LEVEL = seq4j_cpu_h.seq4j_packed_preferred();
        static final boolean PREFERRED = LEVEL >= 2;
        /** seq4j_gemm_tn at the shapes gemmTnPays names, unless -Dseq4j.gemm=openblas keeps them on sgemm. */
        static final boolean GEMM_TN = LEVEL >= 2 && !gemmOnOpenBlasOnly();
        /**
         * The AVX-512 kernels run while OpenBLAS runs 256-bit ones (its core is none of its AVX-512 ones: for
         * instance OPENBLAS_CORETYPE=Haswell, or an OpenBLAS built without them), unless -Dseq4j.gemm=openblas
         * keeps every dense product on sgemm.
         */
        static final boolean WIDE = LEVEL >= 3 && GEMM_TN
                && !OpenBlasLibrary.coreName().toLowerCase(Locale.ROOT)
                        .matches(".*(skylakex|cooperlake|sapphirerapids).*");

        private NativePacked() {
        }
    }

    private static int precision(PackedMatrix.Precision precision) {
        return precision == PackedMatrix.Precision.BF16 ? seq4j_cpu_h.SEQ4J_PACKED_BF16()
                : seq4j_cpu_h.SEQ4J_PACKED_F32();
    }

    /** Storage (panels, rows per panel, SEQ4J_PANEL): k rows of floats, or ceil(k / 2) words of two bfloat16. */
    @Override
    protected PackedMatrix packedMatrixK(Arena arena, int rows, int cols, PackedMatrix.Precision precision) {
        if (!nativePacked()) {
            return super.packedMatrixK(arena, rows, cols, precision);
        }
        int panel = seq4j_cpu_h.SEQ4J_PANEL();
        int panels = (int) (((long) cols + panel - 1) / panel);
        int perPanel = precision == PackedMatrix.Precision.BF16 ? (int) (((long) rows + 1) / 2) : rows;
        return new PackedMatrix(this, rows, cols, precision, allocate(arena, DType.F32, panels, perPanel, panel));
    }

    /** The C library's own count (seq4j_packed_floats), so that the Java check and the kernels agree exactly. */
    @Override
    protected long packedSize(int rows, int cols, PackedMatrix.Precision precision) {
        if (!nativePacked()) {
            return super.packedSize(rows, cols, precision);
        }
        return seq4j_cpu_h.seq4j_packed_floats(rows, cols, precision(precision));
    }

    @Override
    protected void packK(PackedMatrix dst, Transpose trans, Tensor w, int ldw) {
        if (!nativePacked()) {
            super.packK(dst, trans, w, ldw);
            return;
        }
        seq4j_cpu_h.seq4j_pack(threads, p(dst.storage()), p(w), trans(trans), dst.rows(), dst.cols(), ldw,
                precision(dst.precision()));
    }

    @Override
    protected void gemmPackedK(int m, Tensor c, int ldc, Tensor a, int lda, PackedMatrix b, float beta) {
        if (!nativePacked()) {
            super.gemmPackedK(m, c, ldc, a, lda, b, beta);
            return;
        }
        seq4j_cpu_h.seq4j_gemm_packed(threads, p(c), p(a), p(b.storage()), m, b.cols(), b.rows(), lda, ldc, beta,
                precision(b.precision()));
    }

    @Override
    protected void addBiasK(Tensor y, Tensor b, int m, int n) {
        seq4j_cpu_h.seq4j_add_bias(threads, p(y), p(b), m, n);
    }

    @Override
    protected void sumRowsK(Tensor out, Tensor x, float beta, int m, int n) {
        seq4j_cpu_h.seq4j_sum_rows(threads, p(out), p(x), beta, m, n);
    }

    // ---- activations -----------------------------------------------------------------------------------

    @Override
    protected void sigmoidForwardK(Tensor y, Tensor x) {
        seq4j_cpu_h.seq4j_sigmoid_forward(threads, p(y), p(x), y.size());
    }

    @Override
    protected void sigmoidBackwardK(Tensor dx, Tensor y, Tensor dy) {
        seq4j_cpu_h.seq4j_sigmoid_backward(threads, p(dx), p(y), p(dy), dx.size());
    }

    @Override
    protected void tanhForwardK(Tensor y, Tensor x) {
        seq4j_cpu_h.seq4j_tanh_forward(threads, p(y), p(x), y.size());
    }

    @Override
    protected void tanhBackwardK(Tensor dx, Tensor y, Tensor dy) {
        seq4j_cpu_h.seq4j_tanh_backward(threads, p(dx), p(y), p(dy), dx.size());
    }

    @Override
    protected void softmaxForwardK(Tensor y, Tensor x, int m, int v) {
        seq4j_cpu_h.seq4j_softmax_forward(threads, p(y), p(x), m, v);
    }

    @Override
    protected void softmaxBackwardK(Tensor dx, Tensor y, Tensor dy, int m, int v) {
        seq4j_cpu_h.seq4j_softmax_backward(threads, p(dx), p(y), p(dy), m, v);
    }

    // ---- recurrent cells -------------------------------------------------------------------------------

    @Override
    protected void lstmCellForwardK(Tensor hNext, Tensor cNext, Tensor gates, Tensor cPrev, int n, int h) {
        seq4j_cpu_h.seq4j_lstm_cell_forward(threads, p(hNext), p(cNext), p(gates), p(cPrev), n, h);
    }

    @Override
    protected void lstmCellBackwardK(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                                     Tensor dhNext, Tensor dhCarry, Tensor dcNext, int n, int h) {
        seq4j_cpu_h.seq4j_lstm_cell_backward(threads, p(dA), p(dcPrev), p(gates), p(cNext), p(cPrev), p(dhNext),
                dhCarry == null ? MemorySegment.NULL : p(dhCarry), p(dcNext), n, h);
    }

    /**
     * One C call for the whole sequence (seq4j_lstm_forward_seq): from 16 rows on, the rows are split into parts (up
     * to 4 a thread, taken as threads come free; one a thread where the packed Wh passes half a core's L2) and each
     * part runs its rows through every step, with no hand-off between steps; fewer rows (N = 1 inference) are split
     * by hidden units in a team of threads that meets at the end of every step (or, where another caller holds the
     * pool, run step by step). Over the C library's packed layout only; else the default loop.
     */
    @Override
    protected void lstmSequenceForwardK(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero, int t,
                                        int n, int h) {
        if (!nativePacked()) {
            super.lstmSequenceForwardK(hs, cs, gates, wh, fromZero, t, n, h);
            return;
        }
        seq4j_cpu_h.seq4j_lstm_forward_seq(threads, p(hs), p(cs), p(gates), p(wh.storage()), t, n, h, fromZero ? 1 : 0,
                precision(wh.precision()), MemorySegment.NULL, MemorySegment.NULL, 0);
    }

    /**
     * The same C call with the table: each part gathers its rows of a step just before their product reads them
     * (W4's encoder, T N = 3712 rows of 4 KB: 0.86x the time of the gather over all rows first, bench/c/lstm_seq_ab.c).
     */
    @Override
    protected void lstmSequenceForwardK(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero,
                                        Tensor table, Tensor ids, int t, int n, int h, int v) {
        if (!nativePacked()) {
            super.lstmSequenceForwardK(hs, cs, gates, wh, fromZero, table, ids, t, n, h, v);
            return;
        }
        long status = seq4j_cpu_h.seq4j_lstm_forward_seq(threads, p(hs), p(cs), p(gates), p(wh.storage()), t, n, h,
                fromZero ? 1 : 0, precision(wh.precision()), p(table), p(ids), v);
        badIds("lstmSequenceForward", "ids", status, v, false);
    }

    /** The GRU's recurrence as one C call where the packed products are ours (AVX-512 and AVX2), else the loop. */
    @Override
    protected void gruSequenceForwardK(Tensor hs, Tensor gates, Tensor rhs, PackedMatrix zr, PackedMatrix hh,
                                       boolean fromZero, int t, int n, int h) {
        if (!nativePacked()) {
            super.gruSequenceForwardK(hs, gates, rhs, zr, hh, fromZero, t, n, h);
            return;
        }
        seq4j_cpu_h.seq4j_gru_forward_seq(threads, p(hs), p(gates), p(rhs), p(zr.storage()), p(hh.storage()), t, n, h,
                fromZero ? 1 : 0, precision(zr.precision()));
    }

    /** As the GRU forward: seq4j_gru_backward_seq over the packed transposed blocks, the default loop elsewhere. */
    @Override
    protected void gruSequenceBackwardK(Tensor dA, Tensor dh0, Tensor dhs, Tensor drh, Tensor gates, Tensor hs,
                                        PackedMatrix zrT, PackedMatrix hhT, int t, int n, int h) {
        if (!nativePacked()) {
            super.gruSequenceBackwardK(dA, dh0, dhs, drh, gates, hs, zrT, hhT, t, n, h);
            return;
        }
        seq4j_cpu_h.seq4j_gru_backward_seq(threads, p(dA), p(dh0), p(dhs), p(drh), p(gates), p(hs), p(zrT.storage()),
                p(hhT.storage()), t, n, h, precision(zrT.precision()));
    }

    /** As the forward: seq4j_lstm_backward_seq over the packed Wh^T, the default loop elsewhere. */
    @Override
    protected void lstmSequenceBackwardK(Tensor dA, Tensor dh0, Tensor dc0, Tensor work, Tensor gates, Tensor cs,
                                         Tensor dhs, Tensor dhLast, Tensor dcLast, PackedMatrix whT, int t, int n,
                                         int h) {
        if (!nativePacked()) {
            super.lstmSequenceBackwardK(dA, dh0, dc0, work, gates, cs, dhs, dhLast, dcLast, whT, t, n, h);
            return;
        }
        seq4j_cpu_h.seq4j_lstm_backward_seq(threads, p(dA), dh0 == null ? MemorySegment.NULL : p(dh0), p(dc0), p(work), p(gates), p(cs),
                dhs == null ? MemorySegment.NULL : p(dhs), dhs != null ? MemorySegment.NULL : p(dhLast),
                dcLast == null ? MemorySegment.NULL : p(dcLast), p(whT.storage()), t, n, h,
                precision(whT.precision()));
    }

    @Override
    protected void gruGatesForwardK(Tensor rh, Tensor gates, Tensor hPrev, int n, int h) {
        seq4j_cpu_h.seq4j_gru_gates_forward(threads, p(rh), p(gates), p(hPrev), n, h);
    }

    @Override
    protected void gruCellForwardK(Tensor hNext, Tensor gates, Tensor hPrev, int n, int h) {
        seq4j_cpu_h.seq4j_gru_cell_forward(threads, p(hNext), p(gates), p(hPrev), n, h);
    }

    @Override
    protected void gruCellBackwardK(Tensor dA, Tensor gates, Tensor hPrev, Tensor dhNext, int n, int h) {
        seq4j_cpu_h.seq4j_gru_cell_backward(threads, p(dA), p(gates), p(hPrev), p(dhNext), n, h);
    }

    @Override
    protected void gruGatesBackwardK(Tensor dA, Tensor dhPrev, Tensor gates, Tensor hPrev, Tensor dhNext,
                                     Tensor drh, int n, int h) {
        seq4j_cpu_h.seq4j_gru_gates_backward(threads, p(dA), p(dhPrev), p(gates), p(hPrev), p(dhNext), p(drh), n, h);
    }

    // ---- embedding -------------------------------------------------------------------------------------

    @Override
    protected void embeddingForwardK(Tensor out, Tensor W, Tensor ids, int m, int v, int d) {
        long status = seq4j_cpu_h.seq4j_embedding_forward(threads, p(out), p(W), p(ids), m, v, d);
        badIds("embeddingForward", "ids", status, v, false);
    }

    @Override
    protected void embeddingBackwardK(Tensor dW, Tensor ids, Tensor dout, int m, int v, int d) {
        long status = seq4j_cpu_h.seq4j_embedding_backward(threads, p(dW), p(ids), p(dout), m, v, d);
        badIds("embeddingBackward", "ids", status, v, false);
    }

    /**
     * A kernel's id status (seq4j_cpu.h: 0, or (position + 1) << 32 | id of the first bad id, which it skipped)
     * as the exception AbstractBackend's check throws; the ids were in range when Java checked them.
     */
    private static void badIds(String op, String name, long status, int bound, boolean allowIgnore) {
        if (status != 0) {
            long position = (status >>> 32) - 1;
            int id = (int) status;
            throw new IndexOutOfBoundsException(op + ": " + name + "[" + position + "] = " + id + " is outside [0, "
                    + bound + ")" + (allowIgnore ? " and is not the ignore label -1" : "")
                    + " (found by the native kernel: the ids changed after the Java check, by another thread?)");
        }
    }

    // ---- losses ----------------------------------------------------------------------------------------

    @Override
    protected void softmaxCrossEntropyForwardK(Tensor probs, Tensor loss, Tensor logits, Tensor labels, int m, int v) {
        long status = seq4j_cpu_h.seq4j_softmax_xent_forward(threads, p(probs), p(loss), p(logits), p(labels), m, v);
        badIds("softmaxCrossEntropyForward", "labels", status, v, true);
    }

    @Override
    protected void softmaxCrossEntropyBackwardK(Tensor dlogits, Tensor probs, Tensor labels, float dloss, int m,
                                                int v) {
        long status = seq4j_cpu_h.seq4j_softmax_xent_backward(threads, p(dlogits), p(probs), p(labels), dloss, m, v);
        badIds("softmaxCrossEntropyBackward", "labels", status, v, true);
    }

    @Override
    protected void mseForwardK(Tensor loss, Tensor y, Tensor t, float scale) {
        seq4j_cpu_h.seq4j_mse_forward(threads, p(loss), p(y), p(t), y.size(), scale);
    }

    @Override
    protected void mseBackwardK(Tensor dy, Tensor y, Tensor t, float scale) {
        seq4j_cpu_h.seq4j_mse_backward(threads, p(dy), p(y), p(t), y.size(), scale);
    }

    // ---- attention -------------------------------------------------------------------------------------

    @Override
    protected void attentionWeightForwardK(Tensor a, Tensor hs, Tensor h, int t, int n, int hd) {
        seq4j_cpu_h.seq4j_attention_weight_forward(threads, p(a), p(hs), p(h), t, n, hd);
    }

    @Override
    protected void attentionWeightBackwardK(Tensor dhs, Tensor dh, Tensor a, Tensor hs, Tensor h, Tensor da,
                                            int t, int n, int hd) {
        seq4j_cpu_h.seq4j_attention_weight_backward(threads, p(dhs), p(dh), p(a), p(hs), p(h), p(da), t, n, hd);
    }

    @Override
    protected void weightSumForwardK(Tensor c, Tensor hs, Tensor a, int t, int n, int hd) {
        seq4j_cpu_h.seq4j_weight_sum_forward(threads, p(c), p(hs), p(a), t, n, hd);
    }

    @Override
    protected void weightSumBackwardK(Tensor dhs, Tensor da, Tensor hs, Tensor a, Tensor dc, int t, int n, int hd) {
        seq4j_cpu_h.seq4j_weight_sum_backward(threads, p(dhs), p(da), p(hs), p(a), p(dc), t, n, hd);
    }

    /**
     * One C call (seq4j_time_attention_forward): each part takes its sequences through every decoder step, so a
     * sequence's encoder states come from memory once, not twice a step.
     */
    @Override
    protected void timeAttentionForwardK(Tensor a, Tensor c, Tensor hsEnc, Tensor hsDec, int tEnc, int tDec, int n,
                                         int hd) {
        seq4j_cpu_h.seq4j_time_attention_forward(threads, p(a), p(c), p(hsEnc), p(hsDec), tEnc, tDec, n, hd);
    }

    /** As the forward: one C call, a sequence's encoder states and their gradient kept in cache over the steps. */
    @Override
    protected void timeAttentionBackwardK(Tensor dhsEnc, Tensor dhsDec, Tensor work, Tensor a, Tensor hsEnc,
                                          Tensor hsDec, Tensor dc, int tEnc, int tDec, int n, int hd) {
        seq4j_cpu_h.seq4j_time_attention_backward(threads, p(dhsEnc), p(dhsDec), p(work), p(a), p(hsEnc), p(hsDec),
                p(dc), tEnc, tDec, n, hd);
    }

    // ---- dropout ---------------------------------------------------------------------------------------

    @Override
    protected void dropoutMaskK(Tensor mask, float ratio, long seed) {
        seq4j_cpu_h.seq4j_dropout_mask(threads, p(mask), mask.size(), ratio, seed);
    }

    // ---- optimizers ------------------------------------------------------------------------------------

    @Override
    protected void sgdUpdateK(Tensor param, Tensor grad, float lr) {
        seq4j_cpu_h.seq4j_sgd_update(threads, p(param), p(grad), param.size(), lr);
    }

    @Override
    protected void momentumUpdateK(Tensor param, Tensor v, Tensor grad, float lr, float momentum) {
        seq4j_cpu_h.seq4j_momentum_update(threads, p(param), p(v), p(grad), param.size(), lr, momentum);
    }

    @Override
    protected void adagradUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float eps) {
        seq4j_cpu_h.seq4j_adagrad_update(threads, p(param), p(h), p(grad), param.size(), lr, eps);
    }

    @Override
    protected void rmspropUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float decay, float eps) {
        seq4j_cpu_h.seq4j_rmsprop_update(threads, p(param), p(h), p(grad), param.size(), lr, decay, eps);
    }

    @Override
    protected void adamUpdateK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                               float eps) {
        seq4j_cpu_h.seq4j_adam_update(threads, p(param), p(m), p(v), p(grad), param.size(), lrT, beta1, beta2, eps, 0);
    }

    @Override
    protected void adamUpdateZeroK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                                   float eps) {
        // one pass: each gradient zeroed while the update has it in L1 (the fill after it re-fetched them)
        seq4j_cpu_h.seq4j_adam_update(threads, p(param), p(m), p(v), p(grad), param.size(), lrT, beta1, beta2, eps, 1);
    }

    // ---- reductions ------------------------------------------------------------------------------------

    @Override
    protected void sumOfSquaresK(Tensor out, Tensor x) {
        seq4j_cpu_h.seq4j_sum_of_squares(threads, p(out), p(x), x.size());
    }

    @Override
    protected void argmaxRowsK(Tensor ids, Tensor x, int m, int v) {
        seq4j_cpu_h.seq4j_argmax_rows(threads, p(ids), p(x), m, v);
    }
}
