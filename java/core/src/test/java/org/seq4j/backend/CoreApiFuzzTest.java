// A reflective, differential boundary-value fuzzer over seq4j-core's exported API (org.seq4j.tensor, org.seq4j.backend,
// org.seq4j.backend.openblas), in the manner of seq4j-nn's ApiFuzzTest. Every public class of those packages is found
// by scanning the module's classes, and every public constructor and method is called.
//
// Backend's methods (the kernels) are called on the java reference and on every other backend TestBackends gives
// (openblas where it loads; javadevice with -Dseq4j.test.backends=java,javadevice), each time with the same seeded
// arguments: first a valid baseline (OPS below: shapes drawn from 0, 1, primes and sizes around the 16/64 blocking
// edges, tensors at odd element offsets, NaN and +-Inf mixed into the inputs), then with each argument in turn
// replaced by its boundary values (null; a tensor of the wrong dtype, rank or shape, zero-size, at an odd offset,
// the same tensor as another argument, a closed arena's, another backend's, the Java heap's, another thread's, all
// NaN; 0, -1, MIN, MAX and the baseline +-1 for ints and longs; NaN, +-Inf, -0 and 3e38 for floats; an unpacked,
// misshapen, closed or foreign packed matrix ...), plus seeded random mixes of those. The other classes (Tensor's
// factories, views and accessors, PackedMatrix, BackendConfig, Backends, Confinement, the providers, the exceptions)
// are called the same way with the candidates of candidates() (no second backend to compare with).
//
// A call may return, or throw a clear refusal: IllegalArgumentException, IllegalStateException, NullPointerException,
// UnsupportedOperationException, IndexOutOfBoundsException or one of seq4j's own exceptions, with a one-line message.
// Findings: an ArithmeticException, NegativeArraySizeException, ClassCastException, an Error (OutOfMemoryError from an
// unchecked size included), an exception without a message or with several lines, the JVM's helpful
// NullPointerException ("Cannot invoke ...") instead of one naming the argument, an FFM-internal message ("Already
// closed", "outside owning thread", "byte offset", "Out of bound access", "alignment constraints"; seq4j's own
// messages may name a segment), or a call past its time limit. And, the differential
// part: where the reference and another backend both return, every tensor argument must hold the same values within
// the op's tolerance (EXACT, ONE_ROUNDING and TRANSCENDENTAL as ConformanceTest states them; LOOSE, for the kernels
// whose sums ConformanceTest bounds from the data, is 1e-4 of the output's magnitude: enough to catch a wrong element,
// index or NaN, while ConformanceTest holds the last bits), NaN where the reference has NaN and nowhere else; where
// one refuses and the other returns, that is a finding too (except the Java heap's memory, which only the reference
// takes for every kernel: AbstractBackend.acceptsHeap).
//
// Left out, each with its reason where it is decided: Backend.close (NOT_CALLED: it would close the shared backend),
// Backends.select (EXCLUDED: it sizes the shared native pool for the rest of the run), and allocations of more than
// 1 GiB that a machine could hold (hugeButAddressable: they would be zero-filled; over 2^57 bytes they must be refused,
// and are called). Documented differences are not findings: the Java heap's tensors (taken by the reference only), the
// optimizers' flushed subnormals (flushable), and a gemm alpha past float's range (alphaPastRange).
//
// -Dseq4j.fuzz.mixes=N raises the random mixes (default 1) and the shape draws per op (default 3) for a long local
// run; -Dseq4j.fuzz.seed=S changes the seed; -Dseq4j.fuzz.strictNaming=true also lists refusals that do not name the
// method (they may name the argument or the kernel instead: axpy's say addScaled, matmul's gemm). The default run made
// about 7,800 calls in about 4 s (2 cores, java and openblas); -Dseq4j.fuzz.mixes=20 about 19,300. Found: allocate,
// allocateHost and packedMatrix of more than 2^57 bytes ended in OutOfMemoryError; openblas's
// softmaxCrossEntropyBackward with dloss = +-Inf gave NaN at the label where the reference gives -+Inf; the reference's
// gemm with k = 0 and a NaN or infinite alpha gave NaN where OpenBLAS kept beta C; Tensor.requireUsable,
// Confinement.describe and openblas's requireOperand threw the JVM's helpful NullPointerException for a null argument.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.PackedMatrix.Precision;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class CoreApiFuzzTest {
    static final List<String> PACKAGES = List.of("org.seq4j.tensor", "org.seq4j.backend", "org.seq4j.backend.openblas");
    static final long SEED = Long.getLong("seq4j.fuzz.seed", 140);
    static final int MIXES = Integer.getInteger("seq4j.fuzz.mixes", 1);
    static final int DRAWS = 2 + MIXES;
    static final long CALL_LIMIT_MS = 10_000;

    /** |got - ref| <= atol + rtol |ref| per element, and NaN exactly where the reference has NaN. */
    enum Tol {
        EXACT(0, 0), ONE_ROUNDING(1e-7, 4 * 0x1.0p-23), TRANSCENDENTAL(1e-6, 1e-5), LOOSE(-1e-4, 1e-4);

        final double atol, rtol;

        Tol(double atol, double rtol) {
            this.atol = atol;
            this.rtol = rtol;
        }
    }

    // ---------------------------------------------------------------- baselines of Backend's methods

    /** What a baseline is built from: a backend, an arena and a seeded stream, the same on every backend. */
    static final class G {
        final Backend backend;
        final Arena arena;
        final Random r;
        final List<Tensor> inputs = new ArrayList<>();

        G(Backend backend, Arena arena, long seed) {
            this.backend = backend;
            this.arena = arena;
            this.r = new Random(seed);
        }

        /** An extent: 0, 1, small primes, or one around the 16/64 blocking edges. */
        int dim() {
            int k = r.nextInt(20);
            if (k == 0) {
                return 0;
            }
            if (k < 13) {
                return new int[] {1, 2, 3, 5, 7}[r.nextInt(5)];
            }
            return new int[] {13, 15, 16, 17, 31, 63, 64, 65}[r.nextInt(8)];
        }

        /** An extent of a recurrence or attention (the reference's cost is a product of three of them). */
        int small() {
            int k = r.nextInt(12);
            return k == 0 ? 0 : new int[] {1, 2, 3, 5, 7, 16, 17}[r.nextInt(7)];
        }

        /** An extent of an elementwise op: mostly dim(), sometimes one large enough to split across threads. */
        int wide() {
            return r.nextInt(8) == 0 ? new int[] {1031, 4099, 16411}[r.nextInt(3)] : dim();
        }

        int pos() {
            return Math.max(1, dim());
        }

        Tensor alloc(DType dtype, int... shape) {
            int n = Math.toIntExact(Tensor.sizeOf(shape));
            if (n > 0 && r.nextInt(4) == 0) {   // an odd element offset into a larger buffer
                int off = 1 + r.nextInt(3);
                Tensor big = backend.allocate(arena, dtype, n + off);
                return big.flatSlice(off, n).view(shape);
            }
            return backend.allocate(arena, dtype, shape);
        }

        float[] uniform(int n, float lo, float hi) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = lo + (hi - lo) * r.nextFloat();
            }
            return v;
        }

        /** Float32 input in [-1, 1). */
        Tensor f(int... shape) {
            return fr(-1, 1, shape);
        }

        Tensor fr(float lo, float hi, int... shape) {
            Tensor t = alloc(DType.F32, shape);
            backend.copyIn(t, uniform(Math.toIntExact(t.size()), lo, hi));
            inputs.add(t);
            return t;
        }

        /** Float32 output, zeros or (half the time) garbage the op must overwrite. */
        Tensor z(int... shape) {
            Tensor t = alloc(DType.F32, shape);
            if (r.nextBoolean()) {
                backend.copyIn(t, uniform(Math.toIntExact(t.size()), -9, 9));
            }
            return t;
        }

        Tensor ids(int bound, int... shape) {
            Tensor t = alloc(DType.I32, shape);
            int[] v = new int[Math.toIntExact(t.size())];
            for (int i = 0; i < v.length; i++) {
                v[i] = bound == 0 ? -1 : r.nextInt(bound);
            }
            backend.copyIn(t, v);
            return t;
        }

        /** Labels of a loss: in [0, V), a few -1 (ignored). */
        Tensor labels(int bound, int... shape) {
            Tensor t = alloc(DType.I32, shape);
            int[] v = new int[Math.toIntExact(t.size())];
            for (int i = 0; i < v.length; i++) {
                v[i] = bound == 0 || r.nextInt(6) == 0 ? -1 : r.nextInt(bound);
            }
            backend.copyIn(t, v);
            return t;
        }

        Precision precision() {
            return r.nextInt(4) == 0 ? Precision.BF16 : Precision.F32;
        }

        Transpose trans() {
            return r.nextBoolean() ? Transpose.YES : Transpose.NO;
        }

        /** A packed (k, n) matrix of this backend, packed from w, op(w) = (k, n). */
        PackedMatrix packed(int k, int n, Precision p) {
            Transpose t = trans();
            Tensor w = fr(-0.5f, 0.5f, t.isTransposed() ? new int[] {n, k} : new int[] {k, n});
            PackedMatrix pm = backend.packedMatrix(arena, k, n, p);
            backend.pack(pm, t, w);
            return pm;
        }

        /** The NaN mix: a NaN, +Inf or -Inf at a random element of a random float input. */
        void poison() {
            List<Tensor> f = inputs.stream().filter(t -> t.size() > 0 && t.dtype() == DType.F32).toList();
            if (f.isEmpty()) {
                return;
            }
            Tensor t = f.get(r.nextInt(f.size()));
            float[] v = new float[Math.toIntExact(t.size())];
            backend.copyOut(v, t);
            v[r.nextInt(v.length)] = new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}[
                    r.nextInt(3)];
            backend.copyIn(t, v);
        }
    }

    record Op(Tol tol, Function<G, Object[]> args) {
    }

    /** Every method of Backend, by signature, with its tolerance and a valid baseline argument list. */
    static final Map<String, Op> OPS = new LinkedHashMap<>();

    static void op(String sig, Tol tol, Function<G, Object[]> args) {
        if (OPS.put(sig, new Op(tol, args)) != null) {
            throw new AssertionError("two baselines for " + sig);
        }
    }

    static Object[] a(Object... v) {
        return v;
    }

    static {
        Tol e = Tol.EXACT, one = Tol.ONE_ROUNDING, tr = Tol.TRANSCENDENTAL, lo = Tol.LOOSE;
        op("name()", e, g -> a());
        op("device()", e, g -> a());
        op("description()", e, g -> a());
        op("synchronize()", e, g -> a());
        op("isOpen()", e, g -> a());
        op("allocate(Arena,DType,int[])", e, g -> a(g.arena, DType.F32, new int[] {g.dim(), g.dim()}));
        op("copy(Tensor,Tensor)", e, g -> {
            int m = g.dim(), n = g.dim();
            return g.r.nextBoolean() ? a(g.z(n, m), g.f(m, n)) : a(g.ids(1, n * m), g.ids(1000, m, n));
        });
        op("copyIn(Tensor,float[])", e, g -> {
            int n = g.dim();
            return a(g.z(n, 2), g.uniform(2 * n, -1, 1));
        });
        op("copyIn(Tensor,int[])", e, g -> {
            int n = g.dim();
            return a(g.ids(1, n), new int[n]);
        });
        op("copyIn(Tensor,MemorySegment)", e, g -> {
            int n = g.dim();
            MemorySegment s = g.arena.allocate(4L * n, 4);
            s.copyFrom(MemorySegment.ofArray(g.uniform(n, -1, 1)));
            return a(g.z(n), s);
        });
        op("copyOut(float[],Tensor)", e, g -> {
            int n = g.dim();
            return a(new float[n], g.f(n));
        });
        op("copyOut(int[],Tensor)", e, g -> {
            int n = g.dim();
            return a(new int[n], g.ids(9, n));
        });
        op("copyOut(MemorySegment,Tensor)", e, g -> {
            int n = g.dim();
            return a(g.arena.allocate(4L * n, 4), g.f(n));
        });
        op("item(Tensor,long)", e, g -> {
            int n = g.pos();
            return a(g.f(n, 2), (long) g.r.nextInt(2 * n));
        });
        op("fill(Tensor,float)", e, g -> g.r.nextBoolean() ? a(g.z(g.dim(), g.dim()), g.r.nextFloat())
                : a(g.ids(1, g.dim(), g.dim()), (float) (g.r.nextInt(2000) - 1000)));
        op("scale(Tensor,float)", one, g -> a(g.f(g.wide(), g.dim()), 0.37f));
        op("addScaled(Tensor,Tensor,float)", one, g -> {
            int m = g.wide(), n = g.dim();
            return a(g.f(m, n), g.f(m, n), -1.7f);
        });
        op("axpy(float,Tensor,Tensor)", one, g -> {
            int n = g.dim();
            return a(0.5f, g.f(n), g.f(n));
        });
        op("mul(Tensor,Tensor,Tensor)", one, g -> {
            int m = g.wide(), n = g.dim();
            return a(g.z(m, n), g.f(m, n), g.f(m, n));
        });
        op("swapAxes01(Tensor,Tensor)", e, g -> {
            int n = g.dim(), t = g.dim(), f = g.small();
            return g.r.nextBoolean() ? a(g.z(t, n, f), g.f(n, t, f)) : a(g.ids(1, t, n), g.ids(1000, n, t));
        });
        op("concatColumns(Tensor,Tensor,Tensor)", e, g -> {
            int m = g.dim(), f1 = g.dim(), f2 = g.dim();
            return a(g.z(m, f1 + f2), g.f(m, f1), g.f(m, f2));
        });
        op("splitColumns(Tensor,Tensor,Tensor)", e, g -> {
            int m = g.dim(), f1 = g.dim(), f2 = g.dim();
            return a(g.z(m, f1), g.z(m, f2), g.f(m, f1 + f2));
        });
        op("gemm(Transpose,Transpose,int,int,int,float,Tensor,int,Tensor,int,float,Tensor,int)", lo, g -> {
            Transpose ta = g.trans(), tb = g.trans();
            int m = g.dim(), n = g.dim(), k = g.dim();
            int ar = ta.isTransposed() ? k : m, ac = ta.isTransposed() ? m : k;
            int br = tb.isTransposed() ? n : k, bc = tb.isTransposed() ? k : n;
            int lda = Math.max(1, ac) + g.r.nextInt(2), ldb = Math.max(1, bc), ldc = Math.max(1, n) + g.r.nextInt(2);
            return a(ta, tb, m, n, k, 0.75f, g.f(Math.max(0, ar * lda)), lda, g.f(br * ldb), ldb,
                    g.r.nextBoolean() ? 0f : 0.5f, g.f(m * ldc), ldc);
        });
        op("gemmStridedBatched(Transpose,Transpose,int,int,int,float,Tensor,int,long,Tensor,int,long,float,Tensor,int,"
                + "long,int)", lo, g -> {
                    Transpose ta = g.trans(), tb = g.trans();
                    int m = g.small(), n = g.small(), k = g.small(), batch = g.small();
                    int lda = Math.max(1, ta.isTransposed() ? m : k), ldb = Math.max(1, tb.isTransposed() ? k : n);
                    int ldc = Math.max(1, n);
                    long sa = (long) m * k, sb = (long) k * n, sc = (long) m * n;
                    return a(ta, tb, m, n, k, 1f, g.f((int) (sa * batch)), lda, sa, g.f((int) (sb * batch)), ldb, sb,
                            0.25f, g.f((int) (sc * batch)), ldc, sc, batch);
                });
        op("packedMatrix(Arena,int,int,Precision)", e, g -> a(g.arena, g.dim(), g.dim(), g.precision()));
        op("pack(PackedMatrix,Transpose,Tensor)", e, g -> {
            int k = g.pos(), n = g.pos();
            Transpose t = g.trans();
            return a(g.backend.packedMatrix(g.arena, k, n, Precision.F32), t,
                    g.f(t.isTransposed() ? new int[] {n, k} : new int[] {k, n}));
        });
        op("pack(PackedMatrix,Transpose,Tensor,int)", e, g -> {
            int k = g.pos(), n = g.pos();
            Transpose t = g.trans();
            int ld = (t.isTransposed() ? k : n) + g.r.nextInt(3);
            return a(g.backend.packedMatrix(g.arena, k, n, Precision.F32), t, g.f((t.isTransposed() ? n : k) * ld),
                    ld);
        });
        op("gemmPacked(Tensor,Tensor,PackedMatrix,float)", lo, g -> {
            int m = g.dim(), k = g.pos(), n = g.pos();
            return a(g.f(m, n), g.f(m, k), g.packed(k, n, g.precision()), g.r.nextBoolean() ? 0f : 1f);
        });
        op("gemmPacked(int,Tensor,int,Tensor,int,PackedMatrix,float)", lo, g -> {
            int m = g.dim(), k = g.pos(), n = g.pos();
            int ldc = n + g.r.nextInt(3), lda = k + g.r.nextInt(3);
            return a(m, g.f(m * ldc), ldc, g.f(m * lda), lda, g.packed(k, n, g.precision()), 0.5f);
        });
        op("matmul(Transpose,Transpose,float,Tensor,Tensor,float,Tensor)", lo, g -> {
            Transpose ta = g.trans(), tb = g.trans();
            int m = g.dim(), n = g.dim(), k = g.dim();
            return a(ta, tb, -1.25f, g.f(ta.isTransposed() ? new int[] {k, m} : new int[] {m, k}),
                    g.f(tb.isTransposed() ? new int[] {n, k} : new int[] {k, n}), 1f, g.f(m, n));
        });
        op("addBias(Tensor,Tensor)", one, g -> {
            int m = g.wide(), n = g.dim();
            return a(g.f(m, n), g.f(n));
        });
        op("sumRows(Tensor,Tensor,float)", lo, g -> {
            int m = g.wide(), n = g.dim();
            return a(g.f(n), g.f(m, n), g.r.nextBoolean() ? 0f : 1f);
        });
        op("sigmoidForward(Tensor,Tensor)", tr, g -> {
            int n = g.wide();
            return a(g.z(n, 3), g.fr(-20, 20, n, 3));
        });
        op("sigmoidBackward(Tensor,Tensor,Tensor)", tr, g -> {
            int n = g.wide();
            return a(g.z(n), g.fr(0, 1, n), g.f(n));
        });
        op("tanhForward(Tensor,Tensor)", tr, g -> {
            int n = g.wide();
            return a(g.z(n, 3), g.fr(-10, 10, n, 3));
        });
        op("tanhBackward(Tensor,Tensor,Tensor)", tr, g -> {
            int n = g.wide();
            return a(g.z(n), g.f(n), g.f(n));
        });
        op("softmaxForward(Tensor,Tensor)", tr, g -> {
            int m = g.wide(), v = g.dim();
            return a(g.z(m, v), g.fr(-5, 5, m, v));
        });
        // LOOSE: its row sum may cancel where y is no softmax output (the variants' y is dx's garbage, in place), and
        // the reference sums in double, the C kernel in float
        op("softmaxBackward(Tensor,Tensor,Tensor)", lo, g -> {
            int m = g.dim(), v = g.dim();
            return a(g.z(m, v), g.fr(0, 1, m, v), g.f(m, v));
        });
        op("lstmCellForward(Tensor,Tensor,Tensor,Tensor)", tr, g -> {
            int n = g.dim(), h = g.dim();
            return a(g.z(n, h), g.z(n, h), g.fr(-3, 3, n, 4 * h), g.f(n, h));
        });
        op("lstmCellBackward(Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,Tensor)", tr, g -> {
            int n = g.dim(), h = g.dim();
            return a(g.z(n, 4 * h), g.z(n, h), g.fr(0, 1, n, 4 * h), g.f(n, h), g.f(n, h), g.f(n, h), g.f(n, h));
        });
        op("lstmCellBackward(Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,Tensor)", tr, g -> {
            int n = g.dim(), h = g.dim();
            return a(g.z(n, 4 * h), g.z(n, h), g.fr(0, 1, n, 4 * h), g.f(n, h), g.f(n, h), g.f(n, h), g.f(n, h),
                    g.f(n, h));
        });
        op("gruGatesForward(Tensor,Tensor,Tensor)", tr, g -> {
            int n = g.dim(), h = g.dim();
            return a(g.z(n, h), g.fr(-3, 3, n, 3 * h), g.f(n, h));
        });
        op("gruCellForward(Tensor,Tensor,Tensor)", tr, g -> {
            int n = g.dim(), h = g.dim();
            return a(g.z(n, h), g.fr(-3, 3, n, 3 * h), g.f(n, h));
        });
        op("gruCellBackward(Tensor,Tensor,Tensor,Tensor)", one, g -> {
            int n = g.dim(), h = g.dim();
            return a(g.z(n, 3 * h), g.fr(0, 1, n, 3 * h), g.f(n, h), g.f(n, h));
        });
        op("gruGatesBackward(Tensor,Tensor,Tensor,Tensor,Tensor,Tensor)", one, g -> {
            int n = g.dim(), h = g.dim();
            return a(g.z(n, 3 * h), g.f(n, h), g.fr(0, 1, n, 3 * h), g.f(n, h), g.f(n, h), g.f(n, h));
        });
        op("gruSequenceForward(Tensor,Tensor,Tensor,PackedMatrix,PackedMatrix,boolean)", lo, g -> {
            int t = g.small(), n = g.small(), h = Math.max(1, g.small());
            Precision p = g.precision();
            return a(g.f(t + 1, n, h), g.fr(-2, 2, t, n, 3 * h), g.z(t, n, h), g.packed(h, 2 * h, p), g.packed(h, h, p),
                    g.r.nextBoolean());
        });
        op("gruSequenceBackward(Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,PackedMatrix,PackedMatrix)", lo, g -> {
            int t = g.small(), n = g.small(), h = Math.max(1, g.small());
            Precision p = g.precision();
            return a(g.z(t, n, 3 * h), g.z(n, h), g.f(t, n, h), g.z(n, h), g.fr(0, 1, t, n, 3 * h), g.f(t + 1, n, h),
                    g.packed(2 * h, h, p), g.packed(h, h, p));
        });
        op("lstmSequenceForward(Tensor,Tensor,Tensor,PackedMatrix,boolean)", lo, g -> {
            int t = g.small(), n = g.small(), h = Math.max(1, g.small());
            return a(g.f(t + 1, n, h), g.f(t + 1, n, h), g.fr(-2, 2, t, n, 4 * h), g.packed(h, 4 * h, g.precision()),
                    g.r.nextBoolean());
        });
        op("lstmSequenceForward(Tensor,Tensor,Tensor,PackedMatrix,boolean,Tensor,Tensor)", lo, g -> {
            int t = g.small(), n = g.small(), h = Math.max(1, g.small()), v = g.pos();
            return a(g.f(t + 1, n, h), g.f(t + 1, n, h), g.z(t, n, 4 * h), g.packed(h, 4 * h, g.precision()),
                    g.r.nextBoolean(), g.fr(-2, 2, v, 4 * h), g.ids(v, t, n));
        });
        op("lstmSequenceBackward(Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,PackedMatrix)", lo,
                g -> {
                    int t = g.small(), n = g.small(), h = Math.max(1, g.small());
                    boolean perStep = g.r.nextBoolean();
                    return a(g.z(t, n, 4 * h), g.z(n, h), g.z(n, h), g.z(3, n, h), g.fr(0, 1, t, n, 4 * h),
                            g.f(t + 1, n, h), perStep ? g.f(t, n, h) : null, g.f(n, h), g.f(n, h),
                            g.packed(4 * h, h, g.precision()));
                });
        op("embeddingForward(Tensor,Tensor,Tensor)", e, g -> {
            int m = g.dim(), v = g.pos(), d = g.dim();
            return a(g.z(m, d), g.f(v, d), g.ids(v, m));
        });
        op("embeddingBackward(Tensor,Tensor,Tensor)", e, g -> {
            int m = g.dim(), v = g.pos(), d = g.dim();
            return a(g.f(v, d), g.ids(v, m), g.f(m, d));
        });
        op("softmaxCrossEntropyForward(Tensor,Tensor,Tensor,Tensor)", tr, g -> {
            int m = g.dim(), v = g.dim();
            return a(g.z(m, v), g.z(1), g.fr(-5, 5, m, v), g.labels(v, m));
        });
        op("softmaxCrossEntropyBackward(Tensor,Tensor,Tensor,float)", tr, g -> {
            int m = g.dim(), v = g.dim();
            return a(g.z(m, v), g.fr(0, 1, m, v), g.labels(v, m), 1f);
        });
        op("mseForward(Tensor,Tensor,Tensor,float)", lo, g -> {
            int m = g.wide(), n = g.dim();
            return a(g.z(1), g.f(m, n), g.f(m, n), 0.5f);
        });
        op("mseBackward(Tensor,Tensor,Tensor,float)", one, g -> {
            int m = g.wide(), n = g.dim();
            return a(g.z(m, n), g.f(m, n), g.f(m, n), 0.5f);
        });
        op("attentionWeightForward(Tensor,Tensor,Tensor)", lo, g -> {
            int n = g.small(), t = g.small(), h = g.small();
            return a(g.z(n, t), g.f(t, n, h), g.f(n, h));
        });
        op("attentionWeightBackward(Tensor,Tensor,Tensor,Tensor,Tensor,Tensor)", lo, g -> {
            int n = g.small(), t = g.small(), h = g.small();
            return a(g.f(t, n, h), g.z(n, h), g.fr(0, 1, n, t), g.f(t, n, h), g.f(n, h), g.f(n, t));
        });
        op("weightSumForward(Tensor,Tensor,Tensor)", lo, g -> {
            int n = g.small(), t = g.small(), h = g.small();
            return a(g.z(n, h), g.f(t, n, h), g.fr(0, 1, n, t));
        });
        op("weightSumBackward(Tensor,Tensor,Tensor,Tensor,Tensor)", lo, g -> {
            int n = g.small(), t = g.small(), h = g.small();
            return a(g.f(t, n, h), g.z(n, t), g.f(t, n, h), g.fr(0, 1, n, t), g.f(n, h));
        });
        op("timeAttentionForward(Tensor,Tensor,Tensor,Tensor)", lo, g -> {
            int td = g.small(), te = g.small(), n = g.small(), h = g.small();
            return a(g.z(td, n, te), g.z(td, n, h), g.f(te, n, h), g.f(td, n, h));
        });
        op("timeAttentionBackward(Tensor,Tensor,Tensor,Tensor,Tensor,Tensor,Tensor)", lo, g -> {
            int td = g.small(), te = g.small(), n = g.small(), h = g.small();
            return a(g.z(te, n, h), g.z(td, n, h), g.z(n, te), g.fr(0, 1, td, n, te), g.f(te, n, h), g.f(td, n, h),
                    g.f(td, n, h));
        });
        op("dropoutMask(Tensor,float,long)", e, g -> a(g.z(g.wide(), g.dim()), 0.3f, g.r.nextLong()));
        op("sgdUpdate(Tensor,Tensor,float)", one, g -> {
            int n = g.wide();
            return a(g.f(n, 2), g.f(n, 2), 0.1f);
        });
        op("momentumUpdate(Tensor,Tensor,Tensor,float,float)", one, g -> {
            int n = g.wide();
            return a(g.f(n), g.f(n), g.f(n), 0.1f, 0.9f);
        });
        op("adagradUpdate(Tensor,Tensor,Tensor,float,float)", one, g -> {
            int n = g.wide();
            return a(g.f(n), g.fr(0, 1, n), g.f(n), 0.1f, 1e-7f);
        });
        op("rmspropUpdate(Tensor,Tensor,Tensor,float,float,float)", one, g -> {
            int n = g.wide();
            return a(g.f(n), g.fr(0, 1, n), g.f(n), 0.01f, 0.99f, 1e-7f);
        });
        op("adamUpdate(Tensor,Tensor,Tensor,Tensor,float,float,float,float)", one, g -> {
            int n = g.wide();
            return a(g.f(n), g.f(n), g.fr(0, 1, n), g.f(n), 1e-3f, 0.9f, 0.999f, 1e-8f);
        });
        op("adamUpdate(Tensor,Tensor,Tensor,Tensor,float,float,float,float,boolean)", one, g -> {
            int n = g.wide();
            return a(g.f(n), g.f(n), g.fr(0, 1, n), g.f(n), 1e-3f, 0.9f, 0.999f, 1e-8f, g.r.nextBoolean());
        });
        op("sumOfSquares(Tensor,Tensor)", lo, g -> a(g.z(1), g.f(g.wide(), g.dim())));
        op("argmaxRows(Tensor,Tensor)", e, g -> {
            int m = g.wide(), v = g.pos();
            return a(g.ids(1, m), g.f(m, v));
        });
        op("requireOperand(String,String,Tensor)", e, g -> a("fuzzOp", "x", g.f(2)));
    }

    /** Backend methods not called here, with the reason. */
    static final Map<String, String> NOT_CALLED = Map.of(
            "close()", "closes the shared backend every later call needs; PublicApiMisuseTest calls every method on a "
                    + "closed backend");

    // ---------------------------------------------------------------- boundary values of an argument

    /** One variant of an argument: its label and how to make it from the baseline. */
    record Variant(String label, Function<Ctx, Object> make) {
    }

    /** Memory and objects a call's arguments come from; made on the worker thread, closed after the call. */
    static final class Ctx implements AutoCloseable {
        final Backend backend;
        final Arena arena = Arena.ofConfined();
        final G g;
        Object[] base;
        Object[] args;

        Ctx(Backend backend, long seed) {
            this.backend = backend;
            this.g = new G(backend, arena, seed);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    static Arena otherThreadArena;
    static MemorySegment otherThreadMemory;
    static Backend foreign;
    static Arena foreignArena;

    @BeforeAll
    static void otherThread() {
        otherThreadArena = Arena.ofConfined(); // this (the test's) thread's: the worker thread may not use it
        otherThreadMemory = otherThreadArena.allocate(1 << 16, 64);
        foreign = new DeviceLabelledBackend();
        foreignArena = Arena.ofShared();
    }

    @AfterAll
    static void closeOthers() {
        otherThreadArena.close();
        foreignArena.close();
        foreign.close();
    }

    static List<Variant> variants(Class<?> type, Object base, int index, Object[] all) {
        List<Variant> v = new ArrayList<>();
        if (type == Tensor.class) {
            v.add(new Variant("null", c -> null));
            if (base == null) {
                return v;
            }
            Tensor t = (Tensor) base;
            int[] s = t.shape();
            DType other = t.dtype() == DType.F32 ? DType.I32 : DType.F32;
            v.add(new Variant("wrong dtype", c -> c.backend.allocate(c.arena, other, s)));
            v.add(new Variant("wrong rank", c -> s.length > 1 ? ((Tensor) c.base[index]).view(Math.toIntExact(t.size()))
                    : ((Tensor) c.base[index]).view(1, Math.toIntExact(t.size()))));
            int[] wider = s.clone();
            wider[s.length - 1]++;
            v.add(new Variant("wrong shape " + Tensor.shapeString(wider), c -> c.g.f(wider)));
            if (t.size() > 0) {
                int[] empty = s.clone();
                empty[0] = 0;
                v.add(new Variant("zero-size", c -> c.backend.allocate(c.arena, t.dtype(), empty)));
            }
            v.add(new Variant("odd offset", c -> {
                Tensor x = ((Tensor) c.base[index]);
                Tensor big = c.backend.allocate(c.arena, x.dtype(), Math.toIntExact(x.size() + 1));
                Tensor view = big.flatSlice(1, Math.toIntExact(x.size())).view(s);
                c.backend.copy(view, x);
                return view;
            }));
            for (int j = 0; j < all.length; j++) {
                if (j != index && all[j] instanceof Tensor o && o.dtype() == t.dtype() && o.size() == t.size()
                        && o.size() > 0) {
                    int jj = j;
                    v.add(new Variant("the same tensor as argument " + j, c -> ((Tensor) c.base[jj]).view(s)));
                    break;
                }
            }
            for (int j = 0; j < all.length; j++) {
                if (j != index && all[j] instanceof Tensor o && o.dtype() == t.dtype() && o.size() >= t.size()
                        && t.size() > 0) {
                    int jj = j;
                    // argument j moved into a buffer one element longer, this one a view of it one element on: the
                    // two overlap without being the same memory
                    v.add(new Variant("overlapping argument " + j + " one element on", c -> {
                        Tensor x = (Tensor) c.base[jj];
                        int n = Math.toIntExact(x.size());
                        Tensor big = c.backend.allocate(c.arena, x.dtype(), n + 1);
                        c.backend.copy(big.flatSlice(0, n), x.view(n));
                        c.args[jj] = big.flatSlice(0, n).view(x.shape());
                        return big.flatSlice(1, Math.toIntExact(t.size())).view(s);
                    }));
                    break;
                }
            }
            v.add(new Variant("closed arena's", c -> {
                Arena a = Arena.ofConfined();
                Tensor x = c.backend.allocate(a, t.dtype(), s);
                a.close();
                return x;
            }));
            v.add(new Variant("another backend's", c -> foreign.allocate(foreignArena, t.dtype(), s)));
            v.add(new Variant("HEAP", c -> {
                Tensor x = ((Tensor) c.base[index]);
                if (!c.backend.device().isHost()) {
                    return Tensor.wrap(new float[1], 1);
                }
                return t.dtype() == DType.F32 ? Tensor.wrap(x.toFloatArray(), s) : Tensor.wrap(x.toIntArray(), s);
            }));
            if (t.byteSize() <= otherThreadMemory.byteSize()) {
                v.add(new Variant("another thread's", c -> Tensor.wrap(otherThreadMemory.asSlice(0, t.byteSize()),
                        t.dtype(), Device.CPU, s)));
            }
            if (t.dtype() == DType.F32 && t.size() > 0) {
                v.add(new Variant("NaN and Inf", c -> {
                    Tensor x = c.backend.allocate(c.arena, DType.F32, s);
                    float[] h = new float[Math.toIntExact(x.size())];
                    for (int i = 0; i < h.length; i++) {
                        h[i] = i % 3 == 0 ? Float.NaN : i % 3 == 1 ? Float.POSITIVE_INFINITY : -1f;
                    }
                    c.backend.copyIn(x, h);
                    return x;
                }));
            }
            if (t.dtype() == DType.I32 && t.size() > 0) {
                for (int bad : new int[] {-1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                    v.add(new Variant("ids of " + bad, c -> {
                        Tensor x = c.backend.allocate(c.arena, DType.I32, s);
                        int[] h = new int[Math.toIntExact(x.size())];
                        h[h.length - 1] = bad;
                        c.backend.copyIn(x, h);
                        return x;
                    }));
                }
            }
        } else if (type == int.class) {
            int b = (Integer) base;
            for (int x : new int[] {0, -1, 1, b + 1, b - 1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
                v.add(new Variant(String.valueOf(x), c -> x));
            }
        } else if (type == long.class) {
            long b = (Long) base;
            for (long x : new long[] {0, -1, b + 1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 31}) {
                v.add(new Variant(x + "L", c -> x));
            }
        } else if (type == float.class) {
            for (float x : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 3e38f,
                1e-45f, -1f, 1f}) {
                v.add(new Variant(x + "f", c -> x));
            }
        } else if (type == boolean.class) {
            v.add(new Variant(String.valueOf(!(Boolean) base), c -> !(Boolean) base));
        } else if (type.isEnum()) {
            for (Object x : type.getEnumConstants()) {
                if (x != base) {
                    v.add(new Variant(String.valueOf(x), c -> x));
                }
            }
            v.add(new Variant("null", c -> null));
        } else if (type == PackedMatrix.class) {
            v.add(new Variant("null", c -> null));
            PackedMatrix p = (PackedMatrix) base;
            v.add(new Variant("unpacked", c -> c.backend.packedMatrix(c.arena, p.rows(), p.cols(), p.precision())));
            v.add(new Variant("one row more", c -> c.g.packed(p.rows() + 1, p.cols(), p.precision())));
            v.add(new Variant("one column more", c -> c.g.packed(p.rows(), p.cols() + 1, p.precision())));
            v.add(new Variant("other precision", c -> c.g.packed(p.rows(), p.cols(),
                    p.precision() == Precision.F32 ? Precision.BF16 : Precision.F32)));
            v.add(new Variant("closed arena's", c -> {
                Arena a = Arena.ofConfined();
                PackedMatrix x = c.backend.packedMatrix(a, p.rows(), p.cols(), p.precision());
                c.backend.pack(x, Transpose.NO, c.backend.allocate(a, DType.F32, p.rows(), p.cols()));
                a.close();
                return x;
            }));
            v.add(new Variant("another backend's", c -> {
                PackedMatrix x = foreign.packedMatrix(foreignArena, p.rows(), p.cols(), p.precision());
                foreign.pack(x, Transpose.NO, foreign.allocate(foreignArena, DType.F32, p.rows(), p.cols()));
                return x;
            }));
            v.add(new Variant("over another thread's memory", c -> new PackedMatrix(c.backend, 1, 1, Precision.F32,
                    Tensor.wrap(otherThreadMemory.asSlice(0, 4), DType.F32, Device.CPU, 1, 1))));
        } else if (type == Arena.class) {
            v.add(new Variant("null", c -> null));
            v.add(new Variant("closed", c -> {
                Arena a = Arena.ofConfined();
                a.close();
                return a;
            }));
            v.add(new Variant("another thread's", c -> otherThreadArena));
        } else if (type == int[].class) {
            v.add(new Variant("null", c -> null));
            if (base != null) {
                int[] b = (int[]) base;
                v.add(new Variant("one longer", c -> Arrays.copyOf(b, b.length + 1)));
                if (b.length > 0) {
                    v.add(new Variant("one shorter", c -> Arrays.copyOf(b, b.length - 1)));
                }
            }
            v.add(new Variant("[]", c -> new int[0]));
            v.add(new Variant("[-1, 2]", c -> new int[] {-1, 2}));
            v.add(new Variant("[MIN, 2]", c -> new int[] {Integer.MIN_VALUE, 2}));
            v.add(new Variant("[MAX, MAX, MAX]", c -> new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE,
                Integer.MAX_VALUE}));
            v.add(new Variant("[MAX, MAX]", c -> new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE}));
            v.add(new Variant("[MAX, 2^26]", c -> new int[] {Integer.MAX_VALUE, 1 << 26}));
            v.add(new Variant("[2^30, 2^30, 0]", c -> new int[] {1 << 30, 1 << 30, 0}));
        } else if (type == float[].class) {
            v.add(new Variant("null", c -> null));
            float[] b = (float[]) base;
            v.add(new Variant("one longer", c -> Arrays.copyOf(b, b.length + 1)));
            if (b.length > 0) {
                v.add(new Variant("one shorter", c -> Arrays.copyOf(b, b.length - 1)));
            }
            v.add(new Variant("NaN", c -> {
                float[] x = b.clone();
                Arrays.fill(x, Float.NaN);
                return x;
            }));
        } else if (type == MemorySegment.class) {
            v.add(new Variant("null", c -> null));
            MemorySegment b = (MemorySegment) base;
            v.add(new Variant("4 bytes longer", c -> c.arena.allocate(b.byteSize() + 4, 4)));
            v.add(new Variant("read-only", c -> b.asReadOnly()));
            v.add(new Variant("heap", c -> MemorySegment.ofArray(b.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT))));
            v.add(new Variant("odd address", c -> c.arena.allocate(b.byteSize() + 1, 4).asSlice(1, b.byteSize())));
            v.add(new Variant("closed arena's", c -> {
                Arena a = Arena.ofConfined();
                MemorySegment x = a.allocate(Math.max(1, b.byteSize()));
                a.close();
                return x;
            }));
            v.add(new Variant("another thread's", c -> otherThreadMemory.asSlice(0, b.byteSize())));
            v.add(new Variant("a direct buffer's", c -> MemorySegment.ofBuffer(ByteBuffer.allocateDirect(
                    (int) b.byteSize()).order(ByteOrder.nativeOrder()))));
        } else if (type == String.class) {
            for (String x : new String[] {null, "", "a\nb", "\u0000"}) {
                v.add(new Variant(x == null ? "null" : '"' + x.replace("\n", "\\n") + '"', c -> x));
            }
        } else if (type == DType.class) {
            v.add(new Variant("null", c -> null));
            v.add(new Variant("I32", c -> DType.I32));
        }
        return v;
    }

    // ---------------------------------------------------------------- discovery

    static List<Class<?>> publicClasses() throws IOException, java.net.URISyntaxException {
        return org.seq4j.testing.PublicClasses.of(Tensor.class, PACKAGES);
    }

    /** Whether m is (an implementation of) one of Backend's methods: those are called through Backend, below. */
    static boolean isBackendMethod(Method m) {
        if (m.getDeclaringClass() == Backend.class || !Backend.class.isAssignableFrom(m.getDeclaringClass())) {
            return false;
        }
        try {
            Backend.class.getMethod(m.getName(), m.getParameterTypes());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    static List<Executable> executables(Class<?> k) {
        List<Executable> out = org.seq4j.testing.PublicClasses.executables(k);
        out.removeIf(e -> e instanceof Method m && isBackendMethod(m));   // called through Backend
        out.sort(Comparator.comparing(CoreApiFuzzTest::signature));
        return out;
    }

    static String params(Executable e) {
        StringBuilder s = new StringBuilder("(");
        Class<?>[] p = e.getParameterTypes();
        for (int i = 0; i < p.length; i++) {
            s.append(i == 0 ? "" : ",").append(p[i].getSimpleName());
        }
        return s.append(')').toString();
    }

    static String signature(Executable e) {
        String k = e.getDeclaringClass().getSimpleName();
        return (e instanceof Method ? k + "." + e.getName() : k) + params(e);
    }

    static List<Method> backendMethods() {
        List<Method> out = new ArrayList<>();
        for (Method m : Backend.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && !Modifier.isStatic(m.getModifiers()) && !m.isSynthetic()) {
                out.add(m);
            }
        }
        out.sort(Comparator.comparing(CoreApiFuzzTest::signature));
        return out;
    }

    // ---------------------------------------------------------------- receivers of the other classes

    /** Receivers: a fresh small valid instance, made on the worker thread over the java backend. */
    static final Map<Class<?>, Function<Ctx, Object>> RECEIVERS = new LinkedHashMap<>();

    static {
        RECEIVERS.put(Tensor.class, c -> c.g.f(2, 3));
        RECEIVERS.put(PackedMatrix.class, c -> c.g.packed(3, 4, Precision.F32));
        RECEIVERS.put(BackendConfig.class, c -> BackendConfig.defaults());
        RECEIVERS.put(Backends.Status.class, c -> new Backends.Status("java", true, "fuzz"));
        RECEIVERS.put(BackendProvider.Probe.class, c -> BackendProvider.Probe.available("fuzz"));
        RECEIVERS.put(Confinement.class, c -> new Confinement("fuzz"));
        RECEIVERS.put(JavaBackendProvider.class, c -> new JavaBackendProvider());
        RECEIVERS.put(org.seq4j.backend.openblas.OpenBlasBackendProvider.class,
                c -> new org.seq4j.backend.openblas.OpenBlasBackendProvider());
        RECEIVERS.put(org.seq4j.backend.openblas.OpenBlasBackend.class, c -> TestBackends.get("openblas"));
        RECEIVERS.put(JavaBackend.class, c -> c.backend);
        RECEIVERS.put(BackendUnavailableException.class, c -> new BackendUnavailableException("fuzz"));
        RECEIVERS.put(BackendMisconfiguredException.class, c -> new BackendMisconfiguredException("fuzz"));
    }

    /** Public classes with instance methods that get no receiver here, with the reason. */
    static final Map<String, String> NO_RECEIVER = Map.of(
            "org.seq4j.backend.Backend", "its methods are the kernels: called through OPS on every backend",
            "org.seq4j.backend.AbstractBackend", "its public methods are Backend's (OPS); the rest is protected SPI",
            "org.seq4j.backend.BackendProvider", "implemented by JavaBackendProvider and OpenBlasBackendProvider, "
                    + "fuzzed");

    /** Calls of the other classes left out, with the reason. */
    static final Map<String, String> EXCLUDED = Map.of(
            "Backends.select", "creates the best backend of the class path and the environment: openblas with one "
                    + "thread per core of the machine, the shared pool's size for the rest of the run");

    static List<Object> candidates(Class<?> t, Ctx c) {
        List<Object> v = new ArrayList<>();
        if (t == int.class || t == Integer.class) {
            v.addAll(List.of(2, 0, -1, 1, Integer.MIN_VALUE, Integer.MAX_VALUE, 7));
        } else if (t == long.class) {
            v.addAll(List.of(2L, 0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 31, 5L));
        } else if (t == float.class) {
            v.addAll(List.of(0.5f, Float.NaN, Float.POSITIVE_INFINITY, -0f, 3e38f));
        } else if (t == boolean.class) {
            v.addAll(List.of(false, true));
        } else if (t == String.class) {
            v.addAll(Arrays.asList("java", null, "", "a\nb", "\u0000", "nope"));
        } else if (t == Object.class) {
            v.addAll(Arrays.asList(c.backend, null, "x"));
        } else if (t == int[].class) {
            v.addAll(Arrays.asList(new int[] {2, 3}, null, new int[0], new int[] {-1}, new int[] {6},
                    new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, new int[] {3, 2},
                    new int[] {Integer.MAX_VALUE, 1 << 26}, new int[] {1 << 30, 1 << 30, 0}));
        } else if (t == float[].class) {
            v.addAll(Arrays.asList(new float[] {1, 2, 3, 4, 5, 6}, null, new float[0], new float[] {Float.NaN}));
        } else if (t == Tensor.class) {
            v.addAll(Arrays.asList(c.g.f(2, 3), null, c.g.ids(3, 2, 3), c.g.f(6), c.g.f(0, 3)));
            Arena a = Arena.ofConfined();
            Tensor x = c.backend.allocate(a, DType.F32, 2, 3);
            a.close();
            v.add(x);
            v.add(foreign.allocate(foreignArena, DType.F32, 2, 3));
        } else if (t == MemorySegment.class) {
            v.addAll(Arrays.asList(c.arena.allocate(24, 64), null, MemorySegment.ofArray(new float[6]),
                    c.arena.allocate(24).asReadOnly(), MemorySegment.NULL.reinterpret(24),
                    c.arena.allocate(25, 4).asSlice(1, 24), otherThreadMemory.asSlice(0, 24), c.arena.allocate(0)));
        } else if (t == java.nio.FloatBuffer.class) {
            v.addAll(Arrays.asList(java.nio.FloatBuffer.allocate(6), null,
                    java.nio.FloatBuffer.wrap(new float[7], 1, 6), ByteBuffer.allocateDirect(24).asFloatBuffer(),
                    java.nio.FloatBuffer.allocate(6).asReadOnlyBuffer()));
        } else if (t == java.nio.IntBuffer.class) {
            v.addAll(Arrays.asList(java.nio.IntBuffer.allocate(6), null, java.nio.IntBuffer.allocate(5),
                    ByteBuffer.allocateDirect(24).order(ByteOrder.BIG_ENDIAN).asIntBuffer()));
        } else if (t == ByteBuffer.class) {
            v.addAll(Arrays.asList(ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder()), null,
                    ByteBuffer.allocate(24), ByteBuffer.allocateDirect(25).position(1),
                    ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder()).asReadOnlyBuffer(),
                    ByteBuffer.allocateDirect(24).order(ByteOrder.BIG_ENDIAN)));
        } else if (t == Arena.class) {
            Arena closed = Arena.ofConfined();
            closed.close();
            v.addAll(Arrays.asList(c.arena, null, closed, otherThreadArena));
        } else if (t == Backend.class) {
            v.addAll(Arrays.asList(c.backend, null, foreign));
        } else if (t == BackendConfig.class) {
            v.addAll(Arrays.asList(BackendConfig.defaults(), null, new BackendConfig(1 << 20, 0, Map.of()),
                    new BackendConfig(1, 0, Map.of(BackendConfig.OPENBLAS, Path.of("/nonexistent/libopenblas.so")))));
        } else if (t == Map.class) {
            Map<String, Path> nul = new java.util.HashMap<>();
            nul.put("openblas", null);
            v.addAll(Arrays.asList(Map.of(), null, nul, Map.of("a\nb", Path.of("x"))));
        } else if (t == Throwable.class) {
            v.addAll(Arrays.asList(new RuntimeException("cause"), null));
        } else if (t == PackedMatrix.class) {
            v.addAll(Arrays.asList(c.g.packed(3, 4, Precision.F32), null));
        } else if (t.isEnum()) {
            v.addAll(Arrays.asList(t.getEnumConstants()));
            v.add(null);
        } else if (t == java.util.List.class) {
            v.addAll(Arrays.asList(List.of(), null, Arrays.asList((Object) null)));
        } else if (t == Path.class) {
            v.addAll(Arrays.asList(Path.of("/nonexistent"), null));
        } else if (t == Device.class) {
            v.add(Device.CPU);
            v.add(null);
        } else {
            v.add(null);
        }
        return v;
    }

    // ---------------------------------------------------------------- judging

    static final Set<Class<?>> ALLOWED = Set.of(IllegalArgumentException.class, IllegalStateException.class,
            NullPointerException.class, UnsupportedOperationException.class, IndexOutOfBoundsException.class);

    /**
     * Whether a refusal must name the method (or, for a constructor, the class): -Dseq4j.fuzz.strictNaming=true lists
     * those that do not, for a reader to judge (a refusal may name the argument or the kernel instead).
     */
    static final boolean STRICT_NAMING = Boolean.getBoolean("seq4j.fuzz.strictNaming");

    static String verdict(Throwable t, Object[] args, String name) {
        if (t == null) {
            return null;
        }
        String type = t.getClass().getName();
        String msg = t.getMessage();
        boolean allowed = ALLOWED.stream().anyMatch(a -> a.isInstance(t)) || type.startsWith("org.seq4j.");
        if (!allowed) {
            return "threw " + stack(t);
        }
        if (t.getStackTrace().length == 0) {
            return null; // the JIT's preallocated exception of a hot throw site (OmitStackTraceInFastThrow)
        }
        if (msg == null || msg.isBlank()) {
            return "threw " + type + " with no message: " + stack(t);
        }
        String own = msg;
        for (Object a : args) {
            if (a instanceof String x && !x.isEmpty()) {
                own = own.replace(x, "");
            }
        }
        if (own.contains("\n")) {
            return "threw " + type + " with a multi-line message: " + stack(t);
        }
        if (t instanceof NullPointerException && own.startsWith("Cannot ")) {
            return "threw the JVM's helpful NullPointerException, not a refusal naming the argument: " + stack(t);
        }
        if (STRICT_NAMING && !own.contains(name)) {
            return "threw " + type + " naming no call (" + name + "): " + stack(t);
        }
        // FFM's own words (seq4j's messages may name a segment, and show one, as the argument they refuse)
        for (String internal : List.of("byte offset", "Out of bound access", "Already closed", "outside owning thread",
                "out of bounds for length", "alignment constraints")) {
            if (own.contains(internal) && !own.startsWith("Cannot invoke") && !own.contains(name)) {
                return "threw an internal message: " + stack(t);
            }
        }
        return null;
    }

    static String stack(Throwable t) {
        StackTraceElement[] s = t.getStackTrace();
        return t.getClass().getName() + ": " + String.valueOf(t.getMessage()).replace("\n", "\\n")
                + (s.length == 0 ? "" : " at " + s[0]);
    }

    record Finding(String call, String what) {
        @Override
        public String toString() {
            return call + ": " + what;
        }
    }

    /** What one call on one backend did: what it threw, and every tensor argument's values afterwards. */
    record Outcome(Throwable thrown, Object returned, List<Object> values, String described, Object[] args) {
    }

    ExecutorService worker = newWorker();

    static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "core-api-fuzz");
            t.setDaemon(true);
            return t;
        });
    }

    <T> T onWorker(Callable<T> task) throws TimeoutException {
        Future<T> f = worker.submit(task);
        try {
            return f.get(CALL_LIMIT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow();
            worker = newWorker();
            throw e;
        } catch (ExecutionException e) {
            throw new AssertionError("the harness failed", e.getCause());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Calls backend method m with the baseline of seed, each argument i with plan[i] > 0 replaced by its variant. */
    Outcome callOp(Backend backend, Method m, long seed, boolean poison, int[] plan) throws TimeoutException {
        return onWorker(() -> {
            try (Ctx c = new Ctx(backend, seed)) {
                Object[] base = OPS.get(m.getName() + params(m)).args().apply(c.g);
                if (poison) {
                    c.g.poison();
                }
                c.base = base;
                Object[] args = base.clone();
                c.args = args;
                Class<?>[] types = m.getParameterTypes();
                StringBuilder d = new StringBuilder();
                for (int i = 0; i < args.length; i++) {
                    if (plan[i] > 0) {
                        Variant v = variants(types[i], base[i], i, base).get(plan[i] - 1);
                        args[i] = v.make().apply(c);
                        d.append(d.isEmpty() ? "" : ", ").append("arg ").append(i).append(' ').append(v.label());
                    }
                }
                String described = describe(base) + (d.isEmpty() ? "" : " with " + d) + (poison ? " (NaN mix)" : "");
                if (hugeButAddressable(m, args)) {
                    return new Outcome(null, SKIPPED, List.of(), described, args);
                }
                Throwable thrown = null;
                Object returned = null;
                try {
                    returned = m.invoke(backend, args);
                } catch (InvocationTargetException x) {
                    thrown = x.getCause();
                }
                List<Object> values = new ArrayList<>();
                if (thrown == null) {
                    snapshot(backend, args, values);
                }
                if (returned instanceof Tensor || returned instanceof PackedMatrix || returned instanceof Backend) {
                    returned = returned.getClass().getSimpleName();
                }
                return new Outcome(thrown, returned, values, described, args);
            }
        });
    }

    /** What callOp returns for a call it left out (hugeButAddressable). */
    static final String SKIPPED = "skipped";

    /**
     * Whether m asks for more than 1 GiB that some machine could hold (at most 2^57 bytes, the largest address space
     * of a 64-bit platform): left out, since a machine with the memory would zero-fill all of it (the gemm-sized
     * variants of allocate's shape and packedMatrix's rows and cols, e.g. (5, 2^31 - 1) floats: 40 GiB). A larger
     * request must be refused before anything is allocated, and is called.
     */
    static boolean hugeButAddressable(Method m, Object[] args) {
        double bytes;
        if (m.getName().equals("allocate") && args[2] instanceof int[] shape && args[1] instanceof DType t) {
            bytes = t.byteSize();
            for (int d : shape) {
                bytes *= d;
            }
        } else if (m.getName().equals("packedMatrix") && args[1] instanceof Integer r && args[2] instanceof Integer c) {
            bytes = 4.0 * r * (c + 64.0);
        } else {
            return false;
        }
        return bytes > (1 << 30) && bytes <= 0x1.0p57;
    }

    /**
     * Whether the values of this call may differ from the reference's as documented: the optimizer updates may flush
     * subnormals to zero (Backend's optimizer section), so a subnormal scalar (lr 1.4E-45) is 0 there and 0 * Inf NaN
     * where the reference has Inf.
     */
    static boolean flushable(Method m, Object[] args) {
        return m.getName().endsWith("Update") && Arrays.stream(args).anyMatch(a -> a instanceof Float f && f != 0
                && Math.abs(f) < Float.MIN_NORMAL);
    }

    /**
     * Whether a product's alpha is infinite, huge (3e38) or subnormal: BLAS applies alpha to each term (alpha a_l b_l
     * overflows to Inf of both signs, which sum to NaN; a subnormal alpha a_l rounds to 0, and 0 times an Inf of the
     * data is NaN), the reference to the whole sum (finite, or +-Inf), a difference of values past float's range that
     * ConformanceTest's header and the README state rather than test (noticed, left alone).
     */
    static boolean alphaPastRange(Method m, Object[] args) {
        int alpha = m.getName().equals("matmul") ? 2 : m.getName().startsWith("gemm") && args.length > 7 ? 5 : -1;
        return alpha >= 0 && args[alpha] instanceof Float f && (Math.abs(f) > 1e30f
                || (f != 0 && Math.abs(f) < Float.MIN_NORMAL));
    }

    /** Every argument's values after a call that returned: tensors, arrays and segments (null for the rest). */
    static void snapshot(Backend backend, Object[] args, List<Object> values) {
        for (Object a : args) {
            if (a instanceof Tensor t && t.segment().isNative()
                    && t.segment().address() == otherThreadMemory.address()) {
                values.add(null);   // another thread's: an argument the op ignores (lstmSequenceBackward's dhLast
                                    // where dhs is given); any other use is refused
            } else if (a instanceof Tensor t && t.isAlive() && t.device().isHost()) {
                values.add(t.dtype() == DType.F32 ? t.toFloatArray() : t.toIntArray());
            } else if (a instanceof Tensor t && t.isAlive() && t.dtype() == DType.F32 && t.owner() == backend) {
                values.add(TestBackends.values(backend, t));
            } else if (a instanceof float[] x) {
                values.add(x.clone());
            } else if (a instanceof int[] x) {
                values.add(x.clone());
            } else if (a instanceof MemorySegment s && s.scope().isAlive() && s.byteSize() % 4 == 0) {
                values.add(s.toArray(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED));
            } else {
                values.add(null);
            }
        }
    }

    static String describe(Object[] args) {
        StringBuilder s = new StringBuilder();
        for (Object a : args) {
            String d;
            if (a instanceof Tensor t) {
                d = t.dtype() + Tensor.shapeString(t.shape());
            } else if (a instanceof PackedMatrix p) {
                d = "packed(" + p.rows() + ", " + p.cols() + ", " + p.precision() + ")";
            } else if (a instanceof MemorySegment x) {
                d = "segment of " + x.byteSize();
            } else if (a instanceof float[] x) {
                d = "float[" + x.length + "]";
            } else if (a instanceof int[] x) {
                d = "int" + Arrays.toString(x);
            } else if (a instanceof Arena) {
                d = "arena";
            } else {
                d = String.valueOf(a);
            }
            s.append(s.isEmpty() ? "" : ", ").append(d);
        }
        return s.toString();
    }

    /** The first element where got differs from ref beyond tol, or null. */
    static String compare(Tol tol, Object ref, Object got) {
        if (ref instanceof int[] r && got instanceof int[] g) {
            for (int i = 0; i < r.length; i++) {
                if (r[i] != g[i]) {
                    return "element " + i + ": " + g[i] + ", reference " + r[i];
                }
            }
            return r.length == g.length ? null : "length " + g.length + ", reference " + r.length;
        }
        if (ref instanceof float[] r && got instanceof float[] g) {
            double scale = 1;
            for (float x : r) {
                if (Float.isFinite(x)) {
                    scale = Math.max(scale, Math.abs(x));
                }
            }
            double atol = tol.atol < 0 ? -tol.atol * scale : tol.atol;
            for (int i = 0; i < r.length; i++) {
                if (Float.isNaN(r[i]) || Float.isNaN(g[i])) {
                    if (Float.isNaN(r[i]) != Float.isNaN(g[i])) {
                        return "element " + i + ": " + g[i] + ", reference " + r[i];
                    }
                    continue;
                }
                if (Float.isInfinite(r[i]) || Float.isInfinite(g[i])) {
                    if (r[i] != g[i]) {
                        return "element " + i + ": " + g[i] + ", reference " + r[i];
                    }
                    continue;
                }
                double diff = Math.abs((double) g[i] - r[i]);
                if (tol == Tol.EXACT ? Float.floatToIntBits(g[i]) != Float.floatToIntBits(r[i])
                        : diff > atol + tol.rtol * Math.abs(r[i])) {
                    return "element " + i + ": " + g[i] + ", reference " + r[i] + " (tolerance " + tol + ")";
                }
            }
            return r.length == g.length ? null : "length " + g.length + ", reference " + r.length;
        }
        return null;
    }

    // ---------------------------------------------------------------- the tests

    @Test
    void everyPublicMemberIsCovered() throws Exception {
        List<String> missing = new ArrayList<>();
        for (Class<?> k : publicClasses()) {
            boolean instanceMethods = executables(k).stream().anyMatch(e -> e instanceof Method m
                    && !Modifier.isStatic(m.getModifiers()));
            if (instanceMethods && !RECEIVERS.containsKey(k) && !NO_RECEIVER.containsKey(k.getName()) && !k.isEnum()
                    && !k.isRecord()) {
                missing.add(k.getName());
            }
        }
        assertEquals(List.of(), missing, "public classes with no receiver and no reason in NO_RECEIVER");
        List<String> ops = new ArrayList<>();
        Set<String> known = new TreeSet<>();
        for (Method m : backendMethods()) {
            String sig = m.getName() + params(m);
            known.add(sig);
            if (!OPS.containsKey(sig) && !NOT_CALLED.containsKey(sig)) {
                ops.add(sig);
            }
        }
        assertEquals(List.of(), ops, "Backend methods with no baseline in OPS and no reason in NOT_CALLED");
        for (String s : OPS.keySet()) {
            assertTrue(known.contains(s), "OPS names " + s + ", which is no method of Backend");
        }
        for (String n : NO_RECEIVER.keySet()) {
            assertTrue(publicClasses().stream().anyMatch(k -> k.getName().equals(n)), "NO_RECEIVER names " + n);
        }
    }

    @Test
    void backendMethodsRefuseClearlyAndAgreeWithTheReference() throws Exception {
        Backend ref = TestBackends.reference();
        List<Backend> others = new ArrayList<>();
        TestBackends.accelerated().forEach(n -> {
            try {
                others.add(TestBackends.get(n.getPayload()));
            } catch (org.opentest4j.TestAbortedException e) {
                System.out.println("CoreApiFuzzTest: " + e.getMessage());
            }
        });
        List<Finding> findings = new ArrayList<>();
        int calls = 0, clean = 0, compared = 0, skipped = 0;
        long start = System.nanoTime();
        Random random = new Random(SEED);
        List<Method> methods = backendMethods().stream().filter(m -> OPS.containsKey(m.getName() + params(m)))
                .toList();
        try {
            for (Method m : methods) {
                String sig = m.getName() + params(m);
                Op op = OPS.get(sig);
                Class<?>[] types = m.getParameterTypes();
                List<int[]> plans = new ArrayList<>();
                List<Long> seeds = new ArrayList<>();
                List<Boolean> poisons = new ArrayList<>();
                long seed0 = SEED * 1000 + sig.hashCode();
                for (int s = 0; s < DRAWS; s++) {   // baselines of several shape draws, and the NaN mix of each
                    plans.add(new int[types.length]);
                    seeds.add(seed0 + s);
                    poisons.add(false);
                    plans.add(new int[types.length]);
                    seeds.add(seed0 + s);
                    poisons.add(true);
                }
                int[] sizes = variantCounts(ref, m, seed0);
                for (int i = 0; i < types.length; i++) {
                    for (int j = 1; j <= sizes[i]; j++) {
                        int[] p = new int[types.length];
                        p[i] = j;
                        plans.add(p);
                        seeds.add(seed0);
                        poisons.add(false);
                    }
                }
                for (int x = 0; x < 2 * MIXES && types.length > 1; x++) {
                    int[] p = new int[types.length];
                    for (int i = 0; i < types.length; i++) {
                        p[i] = random.nextInt(3) == 0 ? random.nextInt(sizes[i] + 1) : 0;
                    }
                    plans.add(p);
                    seeds.add(seed0);
                    poisons.add(random.nextBoolean());
                }
                for (int q = 0; q < plans.size(); q++) {
                    int[] plan = plans.get(q);
                    String call = "Backend." + sig;
                    Outcome r;
                    calls++;
                    try {
                        r = callOp(ref, m, seeds.get(q), poisons.get(q), plan);
                    } catch (TimeoutException e) {
                        findings.add(new Finding(call + " on java", "still running after " + CALL_LIMIT_MS + " ms"));
                        continue;
                    }
                    if (r.returned() == SKIPPED) {
                        skipped++;
                        continue;
                    }
                    boolean ok = true;
                    String bad = verdict(r.thrown(), r.args(), m.getName());
                    if (bad != null) {
                        findings.add(new Finding(call + " on java (" + r.described() + ")", bad));
                        ok = false;
                    }
                    for (Backend other : others) {
                        Outcome o;
                        calls++;
                        try {
                            o = callOp(other, m, seeds.get(q), poisons.get(q), plan);
                        } catch (TimeoutException e) {
                            findings.add(new Finding(call + " on " + other.name() + " (" + r.described() + ")",
                                    "still running after " + CALL_LIMIT_MS + " ms"));
                            ok = false;
                            continue;
                        }
                        String where = call + " on " + other.name() + " (" + o.described() + ")";
                        String b2 = verdict(o.thrown(), o.args(), m.getName());
                        if (b2 != null) {
                            findings.add(new Finding(where, b2));
                            ok = false;
                            continue;
                        }
                        boolean heap = o.described().contains("HEAP") || o.described().contains("another backend's");
                        if ((r.thrown() == null) != (o.thrown() == null)) {
                            if (!heap) {
                                findings.add(new Finding(where, r.thrown() == null
                                        ? "refused what the reference took: " + stack(o.thrown())
                                        : "took what the reference refused: " + stack(r.thrown())));
                                ok = false;
                            }
                            continue;
                        }
                        if (r.thrown() == null && (flushable(m, r.args()) || alphaPastRange(m, r.args())
                                || (heap && !other.device().isHost()))) {
                            continue;   // documented differences; a device is given a stand-in for the heap's
                        }
                        if (r.thrown() == null) {
                            compared++;
                            if (!java.util.Objects.equals(r.returned(), o.returned())
                                    && !List.of("name", "device", "description").contains(m.getName())) {
                                findings.add(new Finding(where, "returned " + o.returned() + ", reference "
                                        + r.returned()));
                                ok = false;
                            }
                            for (int i = 0; i < r.values().size(); i++) {
                                String diff = compare(op.tol(), r.values().get(i), o.values().get(i));
                                if (diff != null) {
                                    findings.add(new Finding(where, "argument " + i + " " + diff));
                                    ok = false;
                                    break;
                                }
                            }
                        }
                    }
                    if (ok) {
                        clean += 1 + others.size();
                    }
                }
            }
        } finally {
            worker.shutdownNow();
        }
        System.out.println("CoreApiFuzzTest: " + skipped + " calls left out (hugeButAddressable)");
        report("Backend methods", methods.size(), calls, clean, compared, start, findings,
                "target/core-api-fuzz-ops.txt");
    }

    int[] variantCounts(Backend ref, Method m, long seed) throws TimeoutException {
        return onWorker(() -> {
            try (Ctx c = new Ctx(ref, seed)) {
                Object[] base = OPS.get(m.getName() + params(m)).args().apply(c.g);
                Class<?>[] types = m.getParameterTypes();
                int[] s = new int[types.length];
                for (int i = 0; i < s.length; i++) {
                    s[i] = variants(types[i], base[i], i, base).size();
                }
                return s;
            }
        });
    }

    static void report(String what, int members, int calls, int clean, int compared, long start,
            List<Finding> findings, String file) throws IOException {
        System.out.printf("CoreApiFuzzTest: %s: %d members, %d calls (%d clean, %d compared with the reference) in "
                + "%.1f s, %d findings%n", what, members, calls, clean, compared, (System.nanoTime() - start) / 1e9,
                findings.size());
        Set<String> distinct = new LinkedHashSet<>();
        for (Finding f : findings) {
            distinct.add(f.toString());
        }
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of(file), distinct);
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings:\n" + String.join("\n", distinct.stream().limit(60).toList()));
        }
    }

    @Test
    void otherPublicMembersRefuseClearly() throws Exception {
        Backend java = TestBackends.reference();
        List<Finding> findings = new ArrayList<>();
        int calls = 0, clean = 0, members = 0;
        long start = System.nanoTime();
        Random random = new Random(SEED + 1);
        try {
            for (Class<?> k : publicClasses()) {
                for (Executable e : executables(k)) {
                    String sig = signature(e);
                    if (EXCLUDED.keySet().stream().anyMatch(x -> sig.startsWith(x + "("))) {
                        continue;
                    }
                    boolean isStatic = e instanceof Constructor<?> || Modifier.isStatic(e.getModifiers());
                    Function<Ctx, Object> receiver = isStatic ? null : k.isEnum()
                            ? c -> k.getEnumConstants()[0] : RECEIVERS.get(k);
                    if (!isStatic && receiver == null) {
                        continue;
                    }
                    if (k == org.seq4j.backend.openblas.OpenBlasBackend.class
                            && TestBackends.all().noneMatch(n -> n.getPayload().equals("openblas"))) {
                        continue;
                    }
                    members++;
                    Class<?>[] p = e.getParameterTypes();
                    int[] sizes = new int[p.length];
                    onWorker(() -> {
                        try (Ctx c = new Ctx(java, 1)) {
                            for (int i = 0; i < p.length; i++) {
                                sizes[i] = candidates(p[i], c).size();
                            }
                        }
                        return null;
                    });
                    List<int[]> plans = new ArrayList<>();
                    plans.add(new int[p.length]);
                    for (int i = 0; i < p.length; i++) {
                        for (int j = 1; j < sizes[i]; j++) {
                            int[] plan = new int[p.length];
                            plan[i] = j;
                            plans.add(plan);
                        }
                    }
                    for (int x = 0; x < 2 * MIXES && p.length > 1; x++) {
                        int[] plan = new int[p.length];
                        for (int i = 0; i < p.length; i++) {
                            plan[i] = random.nextInt(sizes[i]);
                        }
                        plans.add(plan);
                    }
                    for (int[] plan : plans) {
                        calls++;
                        String[] described = {"?"};
                        Throwable thrown;
                        Object[][] seen = {new Object[0]};
                        try {
                            thrown = onWorker(() -> {
                                try (Ctx c = new Ctx(java, 7)) {
                                    Object[] args = new Object[p.length];
                                    for (int i = 0; i < p.length; i++) {
                                        args[i] = candidates(p[i], c).get(plan[i]);
                                    }
                                    seen[0] = args;
                                    described[0] = describe(args);
                                    try {
                                        Object out = e instanceof Constructor<?> ctor ? ctor.newInstance(args)
                                                : ((Method) e).invoke(isStatic ? null : receiver.apply(c), args);
                                        if (out instanceof Backend b && b != java && b != c.backend
                                                && !TestBackends.all().anyMatch(n -> isShared(n.getPayload(), b))) {
                                            b.close();
                                        }
                                        return null;
                                    } catch (InvocationTargetException x) {
                                        return x.getCause();
                                    }
                                }
                            });
                        } catch (TimeoutException x) {
                            findings.add(new Finding(sig + "(" + described[0] + ")", "still running after "
                                    + CALL_LIMIT_MS + " ms"));
                            continue;
                        }
                        String bad = verdict(thrown, seen[0], e instanceof Method ? e.getName() : k.getSimpleName());
                        if (bad != null) {
                            findings.add(new Finding(sig + "(" + described[0] + ")", bad));
                        } else {
                            clean++;
                        }
                    }
                }
            }
        } finally {
            worker.shutdownNow();
        }
        report("other members", members, calls, clean, 0, start, findings, "target/core-api-fuzz-other.txt");
    }

    static boolean isShared(String name, Backend b) {
        try {
            return TestBackends.get(name) == b;
        } catch (org.opentest4j.TestAbortedException e) {
            return false;
        }
    }
}
