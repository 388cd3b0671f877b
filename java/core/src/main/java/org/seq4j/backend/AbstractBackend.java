// The one place where kernel arguments are checked: shapes, dtypes, devices, live memory, index
// ranges and gemm extents. Each public method validates, then calls the protected kernel of the same
// name with a K suffix, which implementations override and which never re-checks (netlib's pattern).
// The checks allocate nothing when arguments are valid: fixed-arity helpers, messages built on failure.
// Zero extents are decided here too, the same for every backend (Backend's conventions): a kernel whose
// outputs are all empty returns before its K method; an output that is a sum over an empty extent is
// written as 0 through fillK (or scaleK). So K methods see non-empty outputs only, and the only zero
// extents that reach them are gemm's and gemmPacked's k (C = beta C), attentionWeightForward's hd (a = 1/T),
// one of the two widths of concatColumns and splitColumns, and, where ids or labels live on a device (which
// checks them in the kernel), the embeddings' d and the softmax cross-entropy's v.
package org.seq4j.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import org.seq4j.backend.internal.DeviceMemory;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The base of every backend: each public method checks its arguments (shapes, dtypes, devices, live memory,
 * heap memory, overlap, index ranges, gemm extents) and decides zero extents, then calls the protected kernel of
 * the same name with a K suffix, which implementations override and which never re-checks.
 *
 * <h2>Writing a backend</h2>
 *
 * <ol>
 * <li>Extend this class; {@link JavaBackend}, one plain loop per kernel, is the reference to read. Implement
 *     {@link #name()}, {@link #device()}, {@link #description()}, {@link #synchronize()} and every abstract
 *     {@code *K} method. The other protected methods have working defaults built from the abstract ones: override
 *     {@link #packedMatrixK}, {@link #packedSize}, {@link #packK} and {@link #gemmPackedK} together for a packed
 *     layout of one's own; the sequence kernels ({@code lstmSequenceForwardK}, {@link #lstmSequenceBackwardK},
 *     {@link #gruSequenceForwardK}, {@link #gruSequenceBackwardK}, {@link #timeAttentionForwardK},
 *     {@link #timeAttentionBackwardK}) to run a recurrence without a call per step; {@link #adamUpdateZeroK} to fuse
 *     the update with zeroing the gradient; {@link #acceptsHeap} to take tensors over Java heap memory;
 *     {@link #checkDeviceIds} where tensors live off the host (required there); {@link #closeK} to release what the
 *     backend holds. The public methods are final: the checks are the same for every backend.</li>
 * <li>Write a {@link BackendProvider}: a public class with a public no-argument constructor, cheap to construct
 *     (native libraries are loaded in {@code probe()} and {@code create}), giving a lower-case name, a rank (lower is
 *     tried first: cuda 0, openblas 10, java 100), a probe that says why the backend cannot run here, and
 *     {@code create(BackendConfig)}.</li>
 * <li>Register the provider both ways: {@code provides org.seq4j.backend.BackendProvider with ...} in the module's
 *     {@code module-info.java} (the module path), and a line naming the class in
 *     {@code META-INF/services/org.seq4j.backend.BackendProvider} (the class path, where the tests run).
 *     {@link Backends}, {@code -Dseq4j.backend} and the command line then find it by its name.</li>
 * <li>Run the conformance suite against the reference. {@code ConformanceTest} (seq4j-core's tests, published as its
 *     test jar) runs every kernel, on seeded data and odd shapes, zero extents included, on each backend that
 *     {@code Backends.names()} finds except {@code java}, and compares it with {@link JavaBackend}: its parameters
 *     come from {@code org.seq4j.testing.TestBackends#accelerated}, and a backend that does not load here is skipped
 *     with its probe's reason. The tolerances are stated per kind of kernel there: data movement, the embeddings, the
 *     dropout mask and argmax must match bit for bit. A backend in a module of its own joins the suite as
 *     {@code java/cuda/pom.xml} does: a test dependency on {@code org.seq4j:seq4j-core} of type {@code test-jar},
 *     that artifact in surefire's {@code dependenciesToScan}, and the system property {@code seq4j.test.backends} set
 *     to the backend's name, so that only it is compared with the reference. The same scan runs core's other
 *     backend suites on it: BadInputTest, PublicApiMisuseTest, HeapMemoryTest and IdsChangedAfterTheCheckTest (every
 *     backend; the last skips those whose ids live on a device) and SizeSweepTest (guard bands around every output,
 *     every backend but java).</li>
 * </ol>
 *
 * <h2>What a K method may rely on</h2>
 *
 * <ul>
 * <li>The backend is open, and every tensor argument is not null (except where a parameter says it may be), is on
 *     {@link #device()}, is owned by no other backend ({@link Tensor#owner()} is null or this one), and has memory
 *     that is alive and accessible from the calling thread: native memory, unless {@link #acceptsHeap} said yes for
 *     the public method. Closing while another thread is inside a call is the caller's error ({@link Backend}).</li>
 * <li>The dtypes, shapes and int extents that each K method states; every strided matrix lies inside its
 *     tensor.</li>
 * <li>Overlap: an output shares no memory with any other argument, except where its K method says it may be an
 *     input itself (the same elements: in place). Inputs may overlap one another.</li>
 * <li>Zero extents are decided before: a call whose outputs are all empty does not reach its K method, and an output
 *     that is a sum over an empty extent is written 0 (or {@code beta * out}) through {@link #fillK} or
 *     {@link #scaleK}. So K methods see outputs with elements, and the only zero extents that reach them are those
 *     their documentation names: gemm's and gemmPacked's k (C = beta C), the attention weights' hd (a = 1 / T), one
 *     of the two widths of concatColumns and splitColumns, and, where ids or labels live on a device (which checks
 *     them in the kernel), the embeddings' d and the softmax cross-entropy's v. copyInK and copyOutK are called for
 *     empty tensors too.</li>
 * <li>Ids and labels in host memory were checked in range; those in device memory were handed to
 *     {@link #checkDeviceIds} instead.</li>
 * </ul>
 *
 * <h2>What a K method must guarantee</h2>
 *
 * <ul>
 * <li>Tensors are flat row-major buffers: take the extents from the int arguments, not from the tensors' shapes
 *     (the defaults pass views and flat slices whose shapes differ, such as a (3N - 2, H) view of a GRU step's
 *     candidate columns). Write every element of each output the K method writes (=), add into those it accumulates
 *     (+=), and touch nothing else.</li>
 * <li>No checks again, and no exception about the arguments (beyond the few refusals documented here, such as the
 *     arena's in allocateK): a K method throws only for what the public method cannot see, such as an id or label
 *     that another thread changed after the check (read each id once where it is used, never follow a bad one, and
 *     throw the IndexOutOfBoundsException that the check would have; a device kernel skips it and the backend reports
 *     it at its next synchronising call), a device fault, or memory exhausted.</li>
 * <li>Threads: a backend is shared between threads ({@link Backend}), so K methods run at the same time on other
 *     tensors. Keep no state of a call in fields, or hold a lock (CudaBackend locks around its one stream). A result
 *     depends on the arguments and the backend's configuration only, never on timing or on other threads: runs repeat
 *     to the bit.</li>
 * <li>Results agree with {@link JavaBackend} within ConformanceTest's tolerances, and a fused kernel (the sequence
 *     and time-attention kernels) gives the same bits as the loop of this backend's own step kernels that its default
 *     runs.</li>
 * </ul>
 */
public abstract class AbstractBackend implements Backend {

    /** Set once by close(); every public method reads it (through live or allocate) before any kernel runs. */
    private volatile boolean closed;

    /** The scalar 1 on this backend's device (see unit()) and its arena, closed by close(); null until needed. */
    private volatile Tensor unit;
    private Arena unitArena;

    /** For subclasses. */
    protected AbstractBackend() {
    }

    // ---- memory ----------------------------------------------------------------------------------------

    @Override
    public final Tensor allocate(Arena arena, DType dtype, int... shape) {
        open("allocate");
        arenaOpen("allocate", arena);
        nonNull("allocate", "dtype", dtype);
        nonNull("allocate", "shape", shape);
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("allocate: negative dimension in shape " + Tensor.shapeString(shape));
            }
        }
        long bytes;
        try {
            bytes = Tensor.byteSizeOf(dtype, shape); // exact: a wrapped byte count would allocate too little
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("allocate: " + e.getMessage(), e);
        }
        if (bytes > Tensor.MAX_BYTES) {   // the device's allocator would try it and end in an OutOfMemoryError
            throw new IllegalArgumentException("allocate: a " + dtype + " tensor of shape " + Tensor.shapeString(shape)
                    + " needs " + bytes + " bytes, more than the 2^57 that any 64-bit platform can address");
        }
        try {
            return allocateK(arena, dtype, shape);
        } catch (IllegalStateException | WrongThreadException e) {   // the arena's own check, before it allocated
            throw arenaRefused("allocate", arena, e);
        }
    }

    /**
     * Allocates a zero-filled tensor of {@code shape} on {@link #device()}, its memory released by {@code arena}, for
     * {@link #allocate}. Checked: the backend is open, arena and dtype are not null, the arena is not closed, every
     * dimension is at least 0 and the byte size fits a long; zero-size shapes are not filtered and must give an empty
     * tensor. A refusal by the arena itself (confined to another thread, or closed since the check) must come out as
     * the IllegalStateException or WrongThreadException the arena threw, before anything is allocated: the public
     * method rewords it. A backend whose kernels run in an order of its own (a device stream) marks its tensors with
     * {@link Tensor#ownedBy}, so that other backends refuse them.
     *
     * @param arena the caller's arena, open; the memory's lifetime
     * @param dtype the element type
     * @param shape the dimensions, each at least 0; may be the caller's array: copy it to keep it
     * @return a new zero-filled tensor on this backend's device
     */
    protected abstract Tensor allocateK(Arena arena, DType dtype, int[] shape);

    @Override
    public final void copy(Tensor dst, Tensor src) {
        String op = "copy";
        live(op, "dst", dst);
        live(op, "src", src);
        sameSize(op, "dst", dst, "src", src);
        if (dst.dtype() != src.dtype()) {
            throw new IllegalArgumentException(op + ": dst is " + dst.dtype() + " but src is " + src.dtype());
        }
        noOverlap(op, "dst", dst, "src", src);
        if (dst.size() == 0) {
            return;
        }
        written(dst);
        copyK(dst, src);
    }

    /**
     * dst = src element for element, the bits as they are (NaN payloads kept), for {@link #copy}; the defaults use it
     * too ({@link #packK}, {@link #lstmSequenceBackwardK}). Checked: equal element counts (the shapes may differ: copy
     * the flat buffers), one dtype (F32 or I32), no overlap, and at least one element.
     *
     * @param dst the destination
     * @param src the source, as many elements of the same dtype
     */
    protected abstract void copyK(Tensor dst, Tensor src);

    @Override
    public final void copyIn(Tensor dst, float[] src) {
        live("copyIn", "dst", dst);
        dtype("copyIn", "dst", dst, DType.F32);
        nonNull("copyIn", "src", src);
        length("copyIn", dst, src.length);
        written(dst);
        copyInK(dst, MemorySegment.ofArray(src));
    }

    @Override
    public final void copyIn(Tensor dst, int[] src) {
        live("copyIn", "dst", dst);
        dtype("copyIn", "dst", dst, DType.I32);
        nonNull("copyIn", "src", src);
        length("copyIn", dst, src.length);
        written(dst);
        copyInK(dst, MemorySegment.ofArray(src));
    }

    @Override
    public final void copyIn(Tensor dst, MemorySegment src) {
        live("copyIn", "dst", dst);
        hostSegment("copyIn", "src", src, false);
        if (src.byteSize() != dst.byteSize()) {
            throw new IllegalArgumentException("copyIn: source has " + src.byteSize() + " bytes but dst " + dst
                    + " has " + dst.byteSize());
        }
        written(dst);
        copyInK(dst, src);
    }

    /**
     * Copies {@code src.byteSize()} bytes of host memory (heap or native) into dst, for the three {@code copyIn}
     * methods. Checked: dst is live (the array forms also checked its dtype), src is alive, accessible from this thread
     * and exactly {@code dst.byteSize()} bytes. Not filtered for zero: empty tensors reach this method. src may be heap
     * memory on every backend, whatever {@link #acceptsHeap} says (the array forms wrap the caller's array), and the
     * caller may reuse it once this returns: a device that copies asynchronously stages it first.
     *
     * @param dst the destination on this backend's device
     * @param src host memory of exactly {@code dst.byteSize()} bytes
     */
    protected abstract void copyInK(Tensor dst, MemorySegment src);

    @Override
    public final void copyOut(float[] dst, Tensor src) {
        live("copyOut", "src", src);
        dtype("copyOut", "src", src, DType.F32);
        nonNull("copyOut", "dst", dst);
        length("copyOut", src, dst.length);
        copyOutK(MemorySegment.ofArray(dst), src);
    }

    @Override
    public final void copyOut(int[] dst, Tensor src) {
        live("copyOut", "src", src);
        dtype("copyOut", "src", src, DType.I32);
        nonNull("copyOut", "dst", dst);
        length("copyOut", src, dst.length);
        copyOutK(MemorySegment.ofArray(dst), src);
    }

    @Override
    public final void copyOut(MemorySegment dst, Tensor src) {
        live("copyOut", "src", src);
        hostSegment("copyOut", "dst", dst, true);
        if (dst.byteSize() != src.byteSize()) {
            throw new IllegalArgumentException("copyOut: destination has " + dst.byteSize() + " bytes but src " + src
                    + " has " + src.byteSize());
        }
        copyOutK(dst, src);
    }

    /**
     * Copies src's {@code byteSize()} bytes out into host memory (heap or native), for the three {@code copyOut}
     * methods; they are there when this returns (a device waits for its queued work first, and reports what its kernels
     * found, such as bad ids). Checked: src is live (the array forms also checked its dtype), dst is alive, writable,
     * accessible from this thread and exactly {@code src.byteSize()} bytes. Not filtered for zero: empty tensors reach
     * this method. dst may be heap memory on every backend.
     *
     * @param dst host memory of exactly {@code src.byteSize()} bytes, writable
     * @param src the source on this backend's device
     */
    protected abstract void copyOutK(MemorySegment dst, Tensor src);

    @Override
    public final float item(Tensor x, long index) {
        live("item", "x", x);
        dtype("item", "x", x, DType.F32);
        if (index < 0 || index >= x.size()) {
            throw new IndexOutOfBoundsException("item: index " + index + " is outside " + x + " (" + x.size()
                    + " elements)");
        }
        return itemK(x, index);
    }

    /**
     * Element {@code index} (flat, row-major) of a float32 tensor, read to the host, for {@link #item}: a
     * synchronisation point on a device. Checked: x is live and F32, and {@code 0 <= index < x.size()}.
     *
     * @param x     a float32 tensor
     * @param index the flat index, inside x
     * @return the element
     */
    protected abstract float itemK(Tensor x, long index);

    // ---- elementwise -----------------------------------------------------------------------------------

    @Override
    public final void fill(Tensor x, float value) {
        live("fill", "x", x);
        // value != (int) value alone lets 2^31 through: (int) clamps it to 2^31 - 1, which converts back to 2^31f
        if (x.dtype() == DType.I32 && (value != (int) value || value >= 0x1p31f)) {
            throw new IllegalArgumentException("fill: value " + value + " is not an int32 (an integer in ["
                    + Integer.MIN_VALUE + ", " + Integer.MAX_VALUE + "]) but x is int32");
        }
        if (x.size() == 0) {
            return;
        }
        written(x);
        fillK(x, value);
    }

    /**
     * x[i] = value for every element, for {@link #fill}: F32 elements get value, I32 elements {@code (int) value}. This
     * class also writes through it the outputs that are sums over nothing, and the defaults their zeroed buffers.
     * Checked: x is live and not empty; where x is I32, value is an exact int32.
     *
     * @param x     the tensor to fill, F32 or I32
     * @param value the value
     */
    protected abstract void fillK(Tensor x, float value);

    @Override
    public final void scale(Tensor x, float alpha) {
        f32("scale", "x", x);
        if (x.size() == 0) {
            return;
        }
        written(x);
        scaleK(x, alpha);
    }

    /**
     * x *= alpha, for {@link #scale}, and for {@link #sumRows} over no rows with {@code beta != 0}. x is read even
     * where alpha is 0 (the reference multiplies: 0 times NaN is NaN). Checked: x is F32 and not empty.
     *
     * @param x     F32, scaled in place
     * @param alpha the factor
     */
    protected abstract void scaleK(Tensor x, float alpha);

    @Override
    public final void addScaled(Tensor y, Tensor x, float alpha) {
        f32("addScaled", "y", y);
        f32("addScaled", "x", x);
        sameSize("addScaled", "y", y, "x", x);
        inPlaceOrApart("addScaled", "y", y, "x", x);
        if (y.size() == 0) {
            return;
        }
        written(y);
        addScaledK(y, x, alpha);
    }

    /**
     * y += alpha * x element for element, for {@link #addScaled}. Checked: both F32 with the same element count
     * (shapes may differ), y is x itself (the same elements: in place) or shares no memory with it, at least one
     * element.
     *
     * @param y     F32, accumulated
     * @param x     F32, as many elements
     * @param alpha the factor
     */
    protected abstract void addScaledK(Tensor y, Tensor x, float alpha);

    @Override
    public final void mul(Tensor out, Tensor a, Tensor b) {
        f32("mul", "out", out);
        f32("mul", "a", a);
        f32("mul", "b", b);
        sameSize("mul", "out", out, "a", a);
        sameSize("mul", "out", out, "b", b);
        inPlaceOrApart("mul", "out", out, "a", a);
        inPlaceOrApart("mul", "out", out, "b", b);
        if (out.size() == 0) {
            return;
        }
        written(out);
        mulK(out, a, b);
    }

    /**
     * out = a * b element for element, for {@link #mul}. Checked: all F32 with the same element count; out is a or b
     * itself (in place) or shares no memory with it; a and b may overlap (both only read); at least one element.
     *
     * @param out F32, written
     * @param a   F32
     * @param b   F32
     */
    protected abstract void mulK(Tensor out, Tensor a, Tensor b);

    @Override
    public final void swapAxes01(Tensor out, Tensor in) {
        String op = "swapAxes01";
        live(op, "out", out);
        live(op, "in", in);
        if (in.rank() != 2 && in.rank() != 3) {
            throw new IllegalArgumentException(op + ": in must be (N, T) or (N, T, F), got " + in);
        }
        if (out.dtype() != in.dtype()) {
            throw new IllegalArgumentException(op + ": out is " + out.dtype() + " but in is " + in.dtype());
        }
        int n = in.dim(0), t = in.dim(1), f = in.rank() == 3 ? in.dim(2) : 1;
        if (in.rank() == 3) {
            shape3(op, "out", out, t, n, f);
        } else {
            shape2(op, "out", out, t, n);
        }
        noOverlap(op, "out", out, "in", in);
        if (out.size() == 0) {
            return;
        }
        written(out);
        swapAxes01K(out, in, n, t, f);
    }

    /**
     * out (t, n, f) = in (n, t, f) with the first two axes swapped, element bits copied (any 4-byte dtype), for
     * {@link #swapAxes01}; the default {@link #packK} also transposes a dense weight matrix with it (f = 1, tensors of
     * any shape holding the elements). Checked: one dtype, the sizes, out apart from in; n, t and f are all at least 1.
     *
     * @param out (t, n, f), written
     * @param in  (n, t, f)
     * @param n   in's first extent
     * @param t   in's second extent
     * @param f   the trailing extent, 1 for rank-2 tensors
     */
    protected abstract void swapAxes01K(Tensor out, Tensor in, int n, int t, int f);

    @Override
    public final void concatColumns(Tensor out, Tensor a, Tensor b) {
        String op = "concatColumns";
        rank2(op, "a", a);
        rank2(op, "b", b);
        f32(op, "a", a);
        f32(op, "b", b);
        f32(op, "out", out);
        int m = a.dim(0);
        shape2(op, "b", b, m, b.dim(1));
        shape2(op, "out", out, m, sumOfColumns(op, a.dim(1), b.dim(1)));
        apart(op, "out", out, "a", a, "b", b);
        if (out.size() == 0) {
            return;
        }
        written(out);
        concatColumnsK(out, a, b, m, a.dim(1), b.dim(1));
    }

    /**
     * out (m, f1 + f2) = [a | b], row by row, for {@link #concatColumns}. Checked: all F32, a (m, f1), b (m, f2), out
     * (m, f1 + f2) with f1 + f2 inside an int, out apart from a and b; m and f1 + f2 are at least 1, but one of f1 and
     * f2 may be 0 (that input is then empty and not read).
     *
     * @param out (m, f1 + f2), written
     * @param a   (m, f1)
     * @param b   (m, f2)
     * @param m   the rows, at least 1
     * @param f1  a's columns, at least 0
     * @param f2  b's columns, at least 0
     */
    protected abstract void concatColumnsK(Tensor out, Tensor a, Tensor b, int m, int f1, int f2);

    @Override
    public final void splitColumns(Tensor da, Tensor db, Tensor dout) {
        String op = "splitColumns";
        rank2(op, "da", da);
        rank2(op, "db", db);
        f32(op, "da", da);
        f32(op, "db", db);
        f32(op, "dout", dout);
        int m = da.dim(0);
        shape2(op, "db", db, m, db.dim(1));
        shape2(op, "dout", dout, m, sumOfColumns(op, da.dim(1), db.dim(1)));
        noOverlap(op, "da", da, "dout", dout);
        noOverlap(op, "db", db, "dout", dout);
        noOverlap(op, "da", da, "db", db);
        if (dout.size() == 0) {
            return;
        }
        written(da, db);
        splitColumnsK(da, db, dout, m, da.dim(1), db.dim(1));
    }

    /**
     * da (m, f1) = dout[:, :f1] and db (m, f2) = dout[:, f1:], for {@link #splitColumns}. Checked: all F32 in those
     * shapes, da, db and dout pairwise apart; m and f1 + f2 are at least 1, but one of f1 and f2 may be 0
     * (that output is then empty).
     *
     * @param da   (m, f1), written
     * @param db   (m, f2), written
     * @param dout (m, f1 + f2)
     * @param m    the rows, at least 1
     * @param f1   da's columns, at least 0
     * @param f2   db's columns, at least 0
     */
    protected abstract void splitColumnsK(Tensor da, Tensor db, Tensor dout, int m, int f1, int f2);

    // ---- BLAS ------------------------------------------------------------------------------------------

    @Override
    public final void gemm(Transpose transA, Transpose transB, int m, int n, int k,
                           float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc) {
        String op = "gemm";
        transposes(op, transA, transB);
        gemmDims(op, m, n, k);
        f32(op, "a", a);
        f32(op, "b", b);
        f32(op, "c", c);
        matrixFits(op, "a", a, transA.isTransposed() ? k : m, transA.isTransposed() ? m : k, lda, 0, 1);
        matrixFits(op, "b", b, transB.isTransposed() ? n : k, transB.isTransposed() ? k : n, ldb, 0, 1);
        matrixFits(op, "c", c, m, n, ldc, 0, 1);
        apart(op, "c", c, "a", a, "b", b);
        if (m == 0 || n == 0) {
            return;
        }
        // alpha = 0 reads neither factor (as BLAS): a NaN in them must not reach C on one backend and not another.
        // k = 0 adds no product whatever alpha is (C = beta C, as BLAS): the kernels get alpha 0 then, since the
        // reference's NaN or infinite alpha times its empty sum (0) was NaN where OpenBLAS left beta C
        boolean noProduct = alpha == 0f || k == 0;
        written(c);
        gemmK(transA, transB, m, n, noProduct ? 0 : k, noProduct ? 0f : alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /**
     * C = alpha op(A) op(B) + beta C, row-major, for {@link #gemm} (the maths and strides are described there) and the
     * default {@link #gemmPackedK}. Checked: all F32; m and n are at least 1; each matrix as stored lies inside its
     * tensor, with {@code ld >= max(1, its stored columns)}, so that no element outside a tensor is addressed; c shares
     * no memory with a or b (a and b may overlap). k may be 0, and is passed as 0 where alpha is 0 as well, and alpha
     * as 0 where k is: then neither factor may be read (a NaN in them must not reach C) and C = beta C. Where beta is
     * 0, C must be written without being read (it may hold NaN). Only the m rows of n elements of C are written, never
     * the elements between rows.
     *
     * @param transA whether A is used transposed
     * @param transB whether B is used transposed
     * @param m      rows of op(A) and C, at least 1
     * @param n      columns of op(B) and C, at least 1
     * @param k      the inner extent, at least 0
     * @param alpha  the product's factor
     * @param a      F32 holding A: (m, k), or (k, m) when transposed, at row stride lda
     * @param lda    A's row stride in elements
     * @param b      F32 holding B: (k, n), or (n, k) when transposed, at row stride ldb
     * @param ldb    B's row stride in elements
     * @param beta   C's factor
     * @param c      F32 holding C (m, n) at row stride ldc
     * @param ldc    C's row stride in elements
     */
    protected abstract void gemmK(Transpose transA, Transpose transB, int m, int n, int k,
                                  float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc);

    @Override
    public final void gemmStridedBatched(Transpose transA, Transpose transB, int m, int n, int k,
                                         float alpha, Tensor a, int lda, long strideA, Tensor b, int ldb, long strideB,
                                         float beta, Tensor c, int ldc, long strideC, int batch) {
        String op = "gemmStridedBatched";
        transposes(op, transA, transB);
        gemmDims(op, m, n, k);
        if (batch < 0 || strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException(op + ": batch and strides must be >= 0, got batch " + batch
                    + ", strides " + strideA + ", " + strideB + ", " + strideC);
        }
        f32(op, "a", a);
        f32(op, "b", b);
        f32(op, "c", c);
        matrixFits(op, "a", a, transA.isTransposed() ? k : m, transA.isTransposed() ? m : k, lda, strideA, batch);
        matrixFits(op, "b", b, transB.isTransposed() ? n : k, transB.isTransposed() ? k : n, ldb, strideB, batch);
        matrixFits(op, "c", c, m, n, ldc, strideC, batch);
        if (batch > 1 && m > 0 && n > 0 && !cMatricesApart(m, n, ldc, strideC, batch)) {
            throw new IllegalArgumentException(op + ": strideC " + strideC + " makes the " + batch + " output matrices "
                    + "(" + m + ", " + n + ") at row stride " + ldc + " overlap; expected them one after another (strideC"
                    + " >= " + ((long) (m - 1) * ldc + n) + ") or side by side in each row (strideC >= " + n
                    + " and (batch - 1) strideC + n <= ldc)");
        }
        apart(op, "c", c, "a", a, "b", b);
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        // alpha = 0: as gemm. With no inner extent A and B are empty: like gemm's lda and ldb, their strides were not
        // checked against the tensors (matrixFits: an empty matrix fits anywhere), so the kernels get strides 0 and
        // never offset into A or B (openblas sliced A at i * strideA, past its end, after scaling matrix 0 of C)
        // k = 0: as gemm, alpha 0 (C = beta C whatever alpha is)
        int kk = alpha == 0f ? 0 : k;
        written(c);
        gemmStridedBatchedK(transA, transB, m, n, kk, kk == 0 ? 0f : alpha, a, lda, kk == 0 ? 0 : strideA, b, ldb,
                kk == 0 ? 0 : strideB, beta, c, ldc, strideC, batch);
    }

    /**
     * Whether batch matrices (m, n) at row stride ldc, strideC apart, share no element: one after another (strideC at
     * least one matrix's span, (m - 1) ldc + n), or side by side in each row (column blocks n wide, strideC apart, all
     * within ldc: interleaved outputs, each row of matrix p at p strideC + i ldc). Every kernel writes each C as gemm
     * does, whatever the layout; the second was refused as overlapping, which it is not.
     */
    private static boolean cMatricesApart(int m, int n, int ldc, long strideC, int batch) {
        long span = (long) (m - 1) * ldc + n;
        return strideC >= span || (strideC >= n && (batch - 1) * strideC + n <= ldc);
    }

    /**
     * {@link #gemmK} over batch matrices, matrix p of A, B and C starting p strideA, p strideB and p strideC elements
     * into its tensor, for {@link #gemmStridedBatched}; the default {@link #packK} also uses it for a strided weight
     * matrix in device memory. Checked: as gemmK for every matrix of the batch (each lies inside its tensor), batch at
     * least 1, strides at least 0 (0 reuses one A or B), the C matrices share no memory with one another (one after
     * another, or side by side in each row, where batch is above 1) nor with a or b. k may be 0 (also passed as 0 where alpha is 0): then C = beta
     * C for every matrix, A and B are not read, and strideA and strideB are 0.
     *
     * @param transA  whether each A is used transposed
     * @param transB  whether each B is used transposed
     * @param m       rows of op(A) and C, at least 1
     * @param n       columns of op(B) and C, at least 1
     * @param k       the inner extent, at least 0
     * @param alpha   the products' factor
     * @param a       F32 holding the batch of A
     * @param lda     row stride of each A
     * @param strideA elements from one A to the next
     * @param b       F32 holding the batch of B
     * @param ldb     row stride of each B
     * @param strideB elements from one B to the next
     * @param beta    C's factor
     * @param c       F32 holding the batch of C
     * @param ldc     row stride of each C
     * @param strideC elements from one C to the next
     * @param batch   the number of products, at least 1
     */
    protected abstract void gemmStridedBatchedK(Transpose transA, Transpose transB, int m, int n, int k,
                                                float alpha, Tensor a, int lda, long strideA, Tensor b, int ldb,
                                                long strideB, float beta, Tensor c, int ldc, long strideC, int batch);

    @Override
    public final PackedMatrix packedMatrix(Arena arena, int rows, int cols, PackedMatrix.Precision precision) {
        open("packedMatrix");
        arenaOpen("packedMatrix", arena);
        Objects.requireNonNull(precision, "packedMatrix: precision is null");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("packedMatrix: negative shape (" + rows + ", " + cols + ")");
        }
        long floats = packedSize(rows, cols, precision);   // at most about 2^62: no overflow below
        if (floats > Tensor.MAX_BYTES / Float.BYTES) {
            throw new IllegalArgumentException("packedMatrix: (" + rows + ", " + cols + ") in " + precision + " needs "
                    + floats + " floats, more than the 2^57 bytes that any 64-bit platform can address");
        }
        PackedMatrix p;
        try {
            p = packedMatrixK(arena, rows, cols, precision);
        } catch (IllegalStateException | WrongThreadException e) {   // the arena's, or allocate's for the storage
            throw arenaRefused("packedMatrix", arena, e);
        }
        if (p.owner() != this || p.rows() != rows || p.cols() != cols || p.precision() != precision
                || p.storage().size() != packedSize(rows, cols, precision)) {
            throw new IllegalStateException("packedMatrix: " + name() + " made " + p + " for (" + rows + ", " + cols
                    + ", " + precision + ")"); // a backend bug, not the caller's
        }
        return p;
    }

    /**
     * Allocates an unfilled packed matrix whose storage holds exactly {@link #packedSize} float32 elements, for
     * {@link #packedMatrix}. The default layout is B itself, row-major (for BF16: each float rounded to bfloat16, still
     * stored as a float); override it with {@link #packedSize}, {@link #packK} and {@link #gemmPackedK} for a layout of
     * one's own. Checked: the backend and the arena are open, precision is not null, rows and cols are at least 0
     * (either may be 0). The public method checks the result (owned by this backend, these rows, cols and precision,
     * storage of packedSize elements) and throws IllegalStateException, as for a backend bug, where it differs; a
     * refusal by the arena must come out as in {@link #allocateK}.
     *
     * @param arena     the caller's arena, open; owns the storage
     * @param rows      K, at least 0
     * @param cols      N, at least 0
     * @param precision F32 or BF16
     * @return an unfilled packed matrix owned by this backend
     */
    protected PackedMatrix packedMatrixK(Arena arena, int rows, int cols, PackedMatrix.Precision precision) {
        return new PackedMatrix(this, rows, cols, precision, allocate(arena, DType.F32, rows, cols));
    }

    /**
     * How many float32 elements this backend's packed layout of a (rows, cols) matrix takes; checked against the
     * storage before every pack and product, so that a kernel never reads past it. A pure function of its arguments
     * that agrees with {@link #packedMatrixK}; the default is {@code rows * cols}.
     *
     * @param rows      K, at least 0
     * @param cols      N, at least 0
     * @param precision F32 or BF16
     * @return the storage's element count
     */
    protected long packedSize(int rows, int cols, PackedMatrix.Precision precision) {
        return (long) rows * cols;
    }

    @Override
    public final void pack(PackedMatrix dst, Transpose trans, Tensor w) {
        String op = "pack";
        packedOwned(op, dst);
        nonNull(op, "trans", trans);
        f32(op, "w", w);
        int k = dst.rows(), n = dst.cols();
        if (trans.isTransposed()) {
            shape2(op, "w", w, n, k);
        } else {
            shape2(op, "w", w, k, n);
        }
        packChecked(op, dst, trans, w, trans.isTransposed() ? k : n);
    }

    @Override
    public final void pack(PackedMatrix dst, Transpose trans, Tensor w, int ldw) {
        String op = "pack";
        packedOwned(op, dst);
        nonNull(op, "trans", trans);
        f32(op, "w", w);
        int k = dst.rows(), n = dst.cols();
        if (trans.isTransposed()) {
            matrixFits(op, "w", w, n, k, ldw, 0, 1);
        } else {
            matrixFits(op, "w", w, k, n, ldw, 0, 1);
        }
        packChecked(op, dst, trans, w, ldw);
    }

    private void packChecked(String op, PackedMatrix dst, Transpose trans, Tensor w, int ldw) {
        noOverlap(op, "dst", dst.storage(), "w", w);
        written(dst.storage());
        if ((long) dst.rows() * dst.cols() != 0) {
            packK(dst, trans, w, ldw);
        }
        dst.markPacked();
    }

    /**
     * Fills dst from op(w), for both {@code pack} methods: K = dst.rows() rows and N = dst.cols() columns, w row-major
     * with row stride ldw. Checked: dst is this backend's, its storage live, F32 and of exactly {@link #packedSize}
     * elements; w is live and F32, and op(w) as stored ((K, N), or (N, K) when transposed) lies inside it at stride ldw
     * (for the three-argument pack, w is exactly that shape and ldw its row length); dst's storage shares no memory
     * with w; K and N are at least 1. The public method marks dst packed afterwards. A pack is a snapshot: later writes
     * to w must not show through dst. The default copies (or transposes) w into the row-major storage and, for BF16,
     * rounds every element to bfloat16 on the host.
     *
     * @param dst   the packed matrix to fill
     * @param trans whether w is used transposed
     * @param w     the weights, F32
     * @param ldw   w's row stride in elements
     */
    protected void packK(PackedMatrix dst, Transpose trans, Tensor w, int ldw) {
        // the default packedMatrixK's storage is already (rows, cols): no view (an allocation in every training step)
        Tensor s = dst.storage().rank() == 2 && dst.storage().dim(0) == dst.rows() && dst.storage().dim(1) == dst.cols()
                ? dst.storage() : dst.storage().view(dst.rows(), dst.cols());
        int k = dst.rows(), n = dst.cols();
        boolean dense = w.size() == (long) k * n && ldw == (trans.isTransposed() ? k : n);
        if (dense && trans.isTransposed()) {
            swapAxes01K(s, w, n, k, 1);
        } else if (dense) {
            copyK(s, w);
        } else if (w.device().isHost() && s.device().isHost()) {
            copyStrided(s, trans, w, ldw, k, n);
        } else {
            // a strided w in device memory: row i of s (1, n) = 1 * op(w)'s row i, a batch of k rank-1 products with
            // the scalar 1 (exact: x * 1 = x), which a device's batched gemm runs in one call without allocating;
            // op(w)'s row i is row i of w (a row vector at i * ldw) or column i of a transposed w (at i, ldw apart)
            Tensor one = unit("pack");
            if (trans.isTransposed()) {
                gemmStridedBatchedK(Transpose.NO, Transpose.YES, 1, n, 1, 1f, one, 1, 0, w, ldw, 1, 0f, s, n, n, k);
            } else {
                gemmStridedBatchedK(Transpose.NO, Transpose.NO, 1, n, 1, 1f, one, 1, 0, w, ldw, ldw, 0f, s, n, n, k);
            }
        }
        if (dst.precision() == PackedMatrix.Precision.BF16) {
            // rounded on the host a slice at a time: no float[] of the whole matrix (which could pass 2^31 - 1)
            float[] host = new float[(int) Math.min(s.size(), BF16_SLICE)];
            for (long at = 0; at < s.size(); at += host.length) {
                int count = (int) Math.min(host.length, s.size() - at);
                Tensor slice = s.flatSlice(at, count);
                MemorySegment h = MemorySegment.ofArray(host).asSlice(0, (long) count * Float.BYTES);
                copyOutK(h, slice);
                for (int i = 0; i < count; i++) {
                    host[i] = PackedMatrix.roundToBf16(host[i]);
                }
                copyInK(slice, h);
            }
        }
    }

    /** Floats of a packed matrix the default BF16 pack rounds at a time (64 KiB). */
    private static final int BF16_SLICE = 1 << 14;

    /** s (k, n) row-major = op(w), w in host memory at row stride ldw: rows copied in bulk, or w^T element-wise. */
    private static void copyStrided(Tensor s, Transpose trans, Tensor w, int ldw, int k, int n) {
        MemorySegment to = s.segment(), from = w.segment();
        long f = Float.BYTES;
        for (int i = 0; i < k; i++) {
            if (trans.isTransposed()) {
                for (int j = 0; j < n; j++) {
                    to.setAtIndex(ValueLayout.JAVA_INT, (long) i * n + j, // bits: NaN payloads kept, as copyK
                            from.getAtIndex(ValueLayout.JAVA_INT, (long) j * ldw + i));
                }
            } else {
                MemorySegment.copy(from, (long) i * ldw * f, to, (long) i * n * f, n * f);
            }
        }
    }

    /**
     * The scalar 1 as a (1,) tensor of this backend, allocated by the first strided device pack; freed by close. A pack
     * that passed its open check before close() ran is refused here rather than allocate an arena close() has already
     * looked for (nothing would free it): close() sets closed under this lock and reads unitArena after it.
     */
    private Tensor unit(String op) {
        Tensor u = unit;
        if (u != null) {
            return u;
        }
        synchronized (this) {
            open(op);
            if (unit == null) {
                Arena a = Arena.ofShared();
                try {
                    Tensor t = allocateK(a, DType.F32, new int[] {1});
                    fillK(t, 1f);
                    synchronize(); // a device fills on a stream: done before any other thread's stream reads it
                    unitArena = a;
                    unit = t;
                } catch (RuntimeException | Error e) {
                    // a failed fill or synchronisation (an id error owed to this thread, a device fault): the next
                    // pack tries again with a new arena, so this one is closed here, else its block stayed in use
                    a.close();
                    throw e;
                }
            }
            return unit;
        }
    }

    @Override
    public final void gemmPacked(Tensor c, Tensor a, PackedMatrix b, float beta) {
        String op = "gemmPacked";
        packedOwned(op, b);
        rank2(op, "a", a);
        f32(op, "a", a);
        f32(op, "c", c);
        int m = a.dim(0);
        shape2(op, "a", a, m, b.rows());
        shape2(op, "c", c, m, b.cols());
        gemmPackedChecked(op, m, c, b.cols(), a, Math.max(1, b.rows()), b, beta); // lda >= 1, as gemm's
    }

    @Override
    public final void gemmPacked(int m, Tensor c, int ldc, Tensor a, int lda, PackedMatrix b, float beta) {
        String op = "gemmPacked";
        packedOwned(op, b);
        if (m < 0) {
            throw new IllegalArgumentException(op + ": negative row count m = " + m);
        }
        f32(op, "a", a);
        f32(op, "c", c);
        matrixFits(op, "a", a, m, b.rows(), lda, 0, 1);
        matrixFits(op, "c", c, m, b.cols(), ldc, 0, 1);
        gemmPackedChecked(op, m, c, ldc, a, lda, b, beta);
    }

    private void gemmPackedChecked(String op, int m, Tensor c, int ldc, Tensor a, int lda, PackedMatrix b,
                                   float beta) {
        if (!b.isPacked()) {
            throw new IllegalStateException(op + ": " + b + " was never packed; call pack(b, trans, w) first");
        }
        apart(op, "c", c, "a", a, "b", b.storage());
        if (m == 0 || b.cols() == 0) {
            return;
        }
        // b.rows() = 0 reaches the kernel too: an empty sum, c = beta c over the m rows of c (not its gaps)
        written(c);
        gemmPackedK(m, c, ldc, a, lda, b, beta);
    }

    /**
     * c (m, n) = a (m, k) B + beta c, B packed (k = b.rows(), n = b.cols()), for both {@code gemmPacked} methods and
     * the default sequence kernels (which pass row strides 3H or 4H and views of each step). Checked: b is this
     * backend's, packed, its storage of {@link #packedSize} elements; a and c are F32 and lie inside their tensors at
     * row strides lda and ldc, {@code lda >= max(1, k)} and {@code ldc >= n}; c shares no memory with a or b's storage;
     * m and n are at least 1, k at least 0 (then c = beta c). Where beta is 0, c is not read; the elements of c between
     * its rows are neither read nor written. The default: gemmK over the row-major storage.
     *
     * @param m    the rows of a and c, at least 1
     * @param c    F32 holding (m, n) at row stride ldc
     * @param ldc  c's row stride in elements
     * @param a    F32 holding (m, k) at row stride lda
     * @param lda  a's row stride in elements
     * @param b    the packed (k, n) matrix
     * @param beta c's factor
     */
    protected void gemmPackedK(int m, Tensor c, int ldc, Tensor a, int lda, PackedMatrix b, float beta) {
        int k = b.rows(), n = b.cols();
        gemmK(Transpose.NO, Transpose.NO, m, n, k, 1f, a, lda, b.storage(), n, beta, c, ldc);
    }

    /** packedOwned, and packed at least once. */
    private void packedReady(String op, String name, PackedMatrix p) {
        packedOwned(op, p);
        if (!p.isPacked()) {
            throw new IllegalStateException(op + ": " + p + " was never packed; call pack(" + name + ", trans, w) first");
        }
    }

    private void packedOwned(String op, PackedMatrix p) {
        open(op);
        if (p == null) { // not requireNonNull(p, op + ...): that builds the message, a heap allocation, on every call
            throw new NullPointerException(op + ": packed matrix is null");
        }
        if (p.owner() != this) {
            throw new IllegalArgumentException(op + ": " + p + " belongs to the " + p.owner().name()
                    + " backend, not this " + name() + " backend; pack the weights with this one");
        }
        live(op, "packed storage", p.storage());
        dtype(op, "packed storage", p.storage(), DType.F32);
        if (p.storage().size() != packedSize(p.rows(), p.cols(), p.precision())) {
            throw new IllegalArgumentException(op + ": " + p + " has " + p.storage().size() + " elements of storage, "
                    + name() + " lays it out in exactly " + packedSize(p.rows(), p.cols(), p.precision()));
        }
    }

    @Override
    public final void addBias(Tensor y, Tensor b) {
        String op = "addBias";
        rank2(op, "y", y);
        f32(op, "y", y);
        f32(op, "b", b);
        shape1(op, "b", b, y.dim(1));
        noOverlap(op, "y", y, "b", b);
        if (y.size() == 0) {
            return;
        }
        written(y);
        addBiasK(y, b, y.dim(0), y.dim(1));
    }

    /**
     * y (m, n) += b (n,) added to every row, for {@link #addBias}. Checked: y is 2-D (m, n) and F32, b is F32 of shape
     * (n,), the two share no memory; m and n are at least 1.
     *
     * @param y (m, n), accumulated
     * @param b (n,)
     * @param m y's rows
     * @param n y's columns
     */
    protected abstract void addBiasK(Tensor y, Tensor b, int m, int n);

    @Override
    public final void sumRows(Tensor out, Tensor x, float beta) {
        String op = "sumRows";
        rank2(op, "x", x);
        f32(op, "x", x);
        f32(op, "out", out);
        shape1(op, "out", out, x.dim(1));
        noOverlap(op, "out", out, "x", x);
        if (x.dim(1) == 0) {
            return;
        }
        written(out);
        if (x.dim(0) == 0) { // out = beta * out + (a sum over no rows = 0), not reading out when beta = 0
            if (beta == 0f) {
                fillK(out, 0f);
            } else {
                scaleK(out, beta);
            }
            return;
        }
        sumRowsK(out, x, beta, x.dim(0), x.dim(1));
    }

    /**
     * out (n,) = beta * out + the sum of the m rows of x (m, n), for {@link #sumRows}; where beta is 0, out is written
     * without being read. The reference sums each column in double, rows in order. Checked: x is 2-D and F32, out is
     * F32 of shape (n,) and shares no memory with x; m and n are at least 1 (with no rows, this class has already
     * written {@code beta * out}).
     *
     * @param out  (n,), written or accumulated by beta
     * @param x    (m, n)
     * @param beta out's factor
     * @param m    x's rows
     * @param n    x's columns
     */
    protected abstract void sumRowsK(Tensor out, Tensor x, float beta, int m, int n);

    // ---- activations -----------------------------------------------------------------------------------

    @Override
    public final void sigmoidForward(Tensor y, Tensor x) {
        if (unary("sigmoidForward", y, x)) {
            return;
        }
        written(y);
        sigmoidForwardK(y, x);
    }

    /**
     * y = 1 / (1 + exp(-x)) element for element, for {@link #sigmoidForward}. Checked: y and x F32 with the same
     * element count (shapes may differ), y is x itself (in place) or shares no memory with it, at least one element.
     *
     * @param y F32, written
     * @param x F32
     */
    protected abstract void sigmoidForwardK(Tensor y, Tensor x);

    @Override
    public final void sigmoidBackward(Tensor dx, Tensor y, Tensor dy) {
        if (binary("sigmoidBackward", dx, y, dy)) {
            return;
        }
        written(dx);
        sigmoidBackwardK(dx, y, dy);
    }

    /**
     * dx = dy * y * (1 - y) element for element, for {@link #sigmoidBackward}. Checked: all F32 with the same element
     * count; dx is dy or y itself (in place) or shares no memory with it; y and dy may overlap; at least one element.
     *
     * @param dx F32, written
     * @param y  the forward's output
     * @param dy the incoming gradient
     */
    protected abstract void sigmoidBackwardK(Tensor dx, Tensor y, Tensor dy);

    @Override
    public final void tanhForward(Tensor y, Tensor x) {
        if (unary("tanhForward", y, x)) {
            return;
        }
        written(y);
        tanhForwardK(y, x);
    }

    /**
     * y = tanh(x) element for element, for {@link #tanhForward}. Checked: y and x F32 with the same element count
     * (shapes may differ), y is x itself (in place) or shares no memory with it, at least one element.
     *
     * @param y F32, written
     * @param x F32
     */
    protected abstract void tanhForwardK(Tensor y, Tensor x);

    @Override
    public final void tanhBackward(Tensor dx, Tensor y, Tensor dy) {
        if (binary("tanhBackward", dx, y, dy)) {
            return;
        }
        written(dx);
        tanhBackwardK(dx, y, dy);
    }

    /**
     * dx = dy * (1 - y * y) element for element, for {@link #tanhBackward}. Checked: all F32 with the same element
     * count; dx is dy or y itself (in place) or shares no memory with it; y and dy may overlap; at least one element.
     *
     * @param dx F32, written
     * @param y  the forward's output
     * @param dy the incoming gradient
     */
    protected abstract void tanhBackwardK(Tensor dx, Tensor y, Tensor dy);

    @Override
    public final void softmaxForward(Tensor y, Tensor x) {
        String op = "softmaxForward";
        rank2(op, "x", x);
        f32(op, "x", x);
        f32(op, "y", y);
        shape2(op, "y", y, x.dim(0), x.dim(1));
        inPlaceOrApart(op, "y", y, "x", x);
        if (x.size() == 0) {
            return;
        }
        written(y);
        softmaxForwardK(y, x, x.dim(0), x.dim(1));
    }

    /**
     * y (m, v) = the softmax of each row of x (m, v), for {@link #softmaxForward} (the reference subtracts the row's
     * maximum and sums in double). Checked: x 2-D and F32, y F32 of the same shape and x itself (in place) or apart
     * from it; m and v are at least 1.
     *
     * @param y (m, v), written
     * @param x (m, v)
     * @param m the rows
     * @param v the columns
     */
    protected abstract void softmaxForwardK(Tensor y, Tensor x, int m, int v);

    @Override
    public final void softmaxBackward(Tensor dx, Tensor y, Tensor dy) {
        String op = "softmaxBackward";
        rank2(op, "y", y);
        f32(op, "y", y);
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        shape2(op, "dy", dy, y.dim(0), y.dim(1));
        shape2(op, "dx", dx, y.dim(0), y.dim(1));
        inPlaceOrApart(op, "dx", dx, "dy", dy);
        inPlaceOrApart(op, "dx", dx, "y", y);
        if (y.size() == 0) {
            return;
        }
        written(dx);
        softmaxBackwardK(dx, y, dy, y.dim(0), y.dim(1));
    }

    /**
     * dx (m, v) = y * (dy - the row's sum of y * dy), for {@link #softmaxBackward}. Checked: all F32 of shape (m, v);
     * dx is dy or y itself (in place) or shares no memory with it; m and v are at least 1.
     *
     * @param dx (m, v), written
     * @param y  (m, v), the forward's output
     * @param dy (m, v), the incoming gradient
     * @param m  the rows
     * @param v  the columns
     */
    protected abstract void softmaxBackwardK(Tensor dx, Tensor y, Tensor dy, int m, int v);

    // ---- recurrent cells -------------------------------------------------------------------------------

    @Override
    public final void lstmCellForward(Tensor hNext, Tensor cNext, Tensor gates, Tensor cPrev) {
        String op = "lstmCellForward";
        rank2(op, "hNext", hNext);
        f32(op, "hNext", hNext);
        f32(op, "cNext", cNext);
        f32(op, "gates", gates);
        f32(op, "cPrev", cPrev);
        int n = hNext.dim(0), h = hNext.dim(1);
        shape2(op, "cNext", cNext, n, h);
        shape2(op, "gates", gates, n, gateColumns(op, h));
        shape2(op, "cPrev", cPrev, n, h);
        // the C kernels promise the compiler (restrict) that these four never share memory
        apart(op, "hNext", hNext, "cNext", cNext, "gates", gates);
        noOverlap(op, "hNext", hNext, "cPrev", cPrev);
        apart(op, "cNext", cNext, "gates", gates, "cPrev", cPrev);
        noOverlap(op, "gates", gates, "cPrev", cPrev);
        if (n == 0 || h == 0) { // no rows or no units: every output is empty
            return;
        }
        written(hNext, cNext, gates);
        lstmCellForwardK(hNext, cNext, gates, cPrev, n, h);
    }

    /**
     * One LSTM step after its products, for {@link #lstmCellForward} and the default {@link #lstmSequenceForwardK}: the
     * pre-activations in gates (n, 4H), sliced f, g, i, o, are overwritten with sigmoid(f), tanh(g), sigmoid(i),
     * sigmoid(o); cNext = f * cPrev + g * i and hNext = o * tanh(cNext) are written. Checked: all F32, hNext, cNext and
     * cPrev (n, h), gates (n, 4h) with 4h inside an int, the four pairwise apart (the C kernels promise their compiler
     * so); n and h are at least 1.
     *
     * @param hNext (n, h), written
     * @param cNext (n, h), written
     * @param gates (n, 4h), read and overwritten with the activated gates
     * @param cPrev (n, h)
     * @param n     the rows
     * @param h     the hidden size H
     */
    protected abstract void lstmCellForwardK(Tensor hNext, Tensor cNext, Tensor gates, Tensor cPrev, int n, int h);

    @Override
    public final void lstmCellBackward(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                                       Tensor dhNext, Tensor dcNext) {
        lstmCellBackward(dA, dcPrev, gates, cNext, cPrev, dhNext, null, dcNext, "lstmCellBackward");
    }

    @Override
    public final void lstmCellBackward(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                                       Tensor dhOut, Tensor dhCarry, Tensor dcNext) {
        f32("lstmCellBackward", "dhCarry", dhCarry); // null is not allowed here: the 7-argument form is for that
        lstmCellBackward(dA, dcPrev, gates, cNext, cPrev, dhOut, dhCarry, dcNext, "lstmCellBackward");
    }

    /** both forms; dhCarry null: none */
    private void lstmCellBackward(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                                  Tensor dhNext, Tensor dhCarry, Tensor dcNext, String op) {
        rank2(op, "dcPrev", dcPrev);
        f32(op, "dA", dA);
        f32(op, "dcPrev", dcPrev);
        f32(op, "gates", gates);
        f32(op, "cNext", cNext);
        f32(op, "cPrev", cPrev);
        f32(op, "dhNext", dhNext);
        f32(op, "dcNext", dcNext);
        int n = dcPrev.dim(0), h = dcPrev.dim(1);
        shape2(op, "dA", dA, n, gateColumns(op, h));
        shape2(op, "gates", gates, n, gateColumns(op, h));
        shape2(op, "cNext", cNext, n, h);
        shape2(op, "cPrev", cPrev, n, h);
        shape2(op, "dhNext", dhNext, n, h);
        shape2(op, "dcNext", dcNext, n, h);
        noOverlap(op, "dcPrev", dcPrev, "dcNext", dcNext);
        noOverlap(op, "dA", dA, "gates", gates);
        // the outputs share no memory with each other or any input (the C kernels' restrict)
        apart(op, "dA", dA, "dcPrev", dcPrev, "cNext", cNext);
        apart(op, "dA", dA, "cPrev", cPrev, "dhNext", dhNext);
        noOverlap(op, "dA", dA, "dcNext", dcNext);
        apart(op, "dcPrev", dcPrev, "gates", gates, "cNext", cNext);
        apart(op, "dcPrev", dcPrev, "cPrev", cPrev, "dhNext", dhNext);
        if (dhCarry != null) {
            shape2(op, "dhCarry", dhCarry, n, h);
            noOverlap(op, "dA", dA, "dhCarry", dhCarry);
            noOverlap(op, "dcPrev", dcPrev, "dhCarry", dhCarry);
        }
        if (n == 0 || h == 0) {
            return;
        }
        written(dA, dcPrev);
        lstmCellBackwardK(dA, dcPrev, gates, cNext, cPrev, dhNext, dhCarry, dcNext, n, h);
    }

    /**
     * The LSTM step's backward, for both {@code lstmCellBackward} methods and the default
     * {@link #lstmSequenceBackwardK}: with dh = dhNext + dhCarry (or dhNext where dhCarry is null) and ds = dcNext + dh
     * o (1 - tanh(cNext)^2), writes dcPrev = ds * f and dA (n, 4H), the gradient of the pre-activations sliced f, g, i,
     * o (each through its activation's derivative, from the activated gates). Checked: all F32 in the shapes below; dA
     * and dcPrev share no memory with each other or any input (dhCarry included); inputs may overlap one another; n and
     * h are at least 1.
     *
     * @param dA      (n, 4h), written
     * @param dcPrev  (n, h), written
     * @param gates   (n, 4h), the activated gates of the forward
     * @param cNext   (n, h)
     * @param cPrev   (n, h)
     * @param dhNext  (n, h), the hidden gradient (its first part where dhCarry is given)
     * @param dhCarry (n, h), the part carried back from the next step, or null for none
     * @param dcNext  (n, h)
     * @param n       the rows
     * @param h       the hidden size H
     */
    protected abstract void lstmCellBackwardK(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                                              Tensor dhNext, Tensor dhCarry, Tensor dcNext, int n, int h);

    @Override
    public final void lstmSequenceForward(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero) {
        String op = "lstmSequenceForward";
        sequenceForwardArguments(op, hs, cs, gates, wh);
        int t = gates.dim(0), n = gates.dim(1), h = wh.rows();
        if (t == 0 || n == 0 || h == 0) { // no steps, rows or units: nothing to write
            return;
        }
        written(hs, cs, gates);
        lstmSequenceForwardK(hs, cs, gates, wh, fromZero, t, n, h);
    }

    @Override
    public final void lstmSequenceForward(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero,
                                          Tensor table, Tensor ids) {
        String op = "lstmSequenceForward";
        sequenceForwardArguments(op, hs, cs, gates, wh);
        int t = gates.dim(0), n = gates.dim(1), h = wh.rows();
        rank2(op, "table", table);
        f32(op, "table", table);
        i32(op, "ids", ids);
        if ((long) table.dim(1) != 4L * h) {
            throw new IllegalArgumentException(op + ": table has shape " + Tensor.shapeString(table.shape())
                    + ", expected (V, 4H) with H = " + h + " (wh is " + wh + ")");
        }
        shape2(op, "ids", ids, t, n);
        rows(op, "ids", ids);   // the gather takes T N rows as an int
        apart(op, "gates", gates, "table", table, "ids", ids);
        apart(op, "hs", hs, "table", table, "ids", ids);
        apart(op, "cs", cs, "table", table, "ids", ids);
        int v = table.dim(0);
        idsInRange(op, "ids", ids, v, false);
        written(hs, cs, gates);
        if (t == 0 || n == 0) {
            return;
        }
        if (h == 0) {
            // nothing to gather or run, but device ids (not checkable here) still go to the gather, which checks
            // them with d = 0, so misuse is reported as on the host (as embeddingForward does)
            if (!ids.device().isHost()) {
                embeddingForwardK(gates, table, ids, t * n, v, 0);
            }
            return;
        }
        lstmSequenceForwardK(hs, cs, gates, wh, fromZero, table, ids, t, n, h, v);
    }

    /** lstmSequenceForward's hs, cs, gates and wh: shapes, dtypes, and no output sharing memory with another. */
    private void sequenceForwardArguments(String op, Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh) {
        packedReady(op, "wh", wh);
        rank3(op, "gates", gates);
        f32(op, "hs", hs);
        f32(op, "cs", cs);
        f32(op, "gates", gates);
        int t = gates.dim(0), n = gates.dim(1), h = wh.rows();
        if (wh.cols() != gates.dim(2) || (long) gates.dim(2) != 4L * h) {
            throw new IllegalArgumentException(op + ": wh is " + wh + " and gates has shape "
                    + Tensor.shapeString(gates.shape()) + ", expected Wh (H, 4H) and gates (T, N, 4H)");
        }
        int t1 = sequenceSteps(op, t);
        shape3(op, "hs", hs, t1, n, h);
        shape3(op, "cs", cs, t1, n, h);
        apart(op, "hs", hs, "cs", cs, "gates", gates);
        noOverlap(op, "cs", cs, "gates", gates);
        noOverlap(op, "hs", hs, "wh", wh.storage());
        noOverlap(op, "cs", cs, "wh", wh.storage());
        noOverlap(op, "gates", gates, "wh", wh.storage());
    }

    /**
     * The recurrence from looked-up pre-activations, for
     * {@link #lstmSequenceForward(Tensor, Tensor, Tensor, PackedMatrix, boolean, Tensor, Tensor)}: row r of gates[s] is
     * row ids[s, r] of table before step s, then as the other lstmSequenceForwardK. Checked: as there, and table
     * (v, 4h) F32, ids (t, n) I32 with t n inside an int, the outputs apart from table and ids; every id in [0, v)
     * where ids are on the host (else {@link #checkDeviceIds} was called instead, and v may be 0). An implementation
     * reads each id once where it uses it and never follows a bad one (another thread may have changed it since the
     * check): the host throws the check's IndexOutOfBoundsException, a device skips it and reports it. The default:
     * {@link #embeddingForwardK} over all t n rows into gates, then the other lstmSequenceForwardK.
     *
     * @param hs       (t+1, n, h): h_0 read, h_1 .. h_T written
     * @param cs       (t+1, n, h): c_0 read, c_1 .. c_T written
     * @param gates    (t, n, 4h), written: the activated gates
     * @param wh       Wh (h, 4h), packed by this backend
     * @param fromZero whether step 0 adds no product (h_0 is zero)
     * @param table    (v, 4h), the folded input projection
     * @param ids      (t, n) I32
     * @param t        the steps, at least 1
     * @param n        the rows, at least 1
     * @param h        the hidden size, at least 1
     * @param v        table's rows
     */
    protected void lstmSequenceForwardK(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero,
                                        Tensor table, Tensor ids, int t, int n, int h, int v) {
        embeddingForwardK(gates, table, ids, t * n, v, 4 * h);
        lstmSequenceForwardK(hs, cs, gates, wh, fromZero, t, n, h);
    }

    /**
     * The LSTM recurrence over t steps, for
     * {@link #lstmSequenceForward(Tensor, Tensor, Tensor, PackedMatrix, boolean)}: gates[s] += hs[s] Wh
     * (not at step 0 where fromZero), then the cell writes hs[s+1], cs[s+1] and activates gates[s]. Checked: wh is this
     * backend's and packed, (h, 4h); all F32, gates (t, n, 4h), hs and cs (t+1, n, h); hs, cs and gates pairwise apart
     * and apart from wh's storage; t, n and h are at least 1. An override must give the same bits as this default does
     * on this backend (the loop of its own {@link #gemmPackedK}, beta 1, and {@link #lstmCellForwardK}); the default
     * walks views of each step.
     *
     * @param hs       (t+1, n, h): h_0 read, h_1 .. h_T written
     * @param cs       (t+1, n, h): c_0 read, c_1 .. c_T written
     * @param gates    (t, n, 4h): x Wx + b of every step on entry, the activated gates on return
     * @param wh       Wh (h, 4h), packed by this backend
     * @param fromZero whether step 0 adds no product (h_0 is zero)
     * @param t        the steps
     * @param n        the rows
     * @param h        the hidden size H
     */
    protected void lstmSequenceForwardK(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero, int t,
                                        int n, int h) {
        Tensor[] hT = steps(hs), cT = steps(cs), gT = steps(gates);
        for (int s = 0; s < t; s++) {
            if (s > 0 || !fromZero) {
                gemmPackedK(n, gT[s], 4 * h, hT[s], h, wh, 1f);
            }
            lstmCellForwardK(hT[s + 1], cT[s + 1], gT[s], cT[s], n, h);
        }
    }

    @Override
    public final void lstmSequenceBackward(Tensor dA, Tensor dh0, Tensor dc0, Tensor work, Tensor gates, Tensor cs,
                                           Tensor dhs, Tensor dhLast, Tensor dcLast, PackedMatrix whT) {
        String op = "lstmSequenceBackward";
        packedReady(op, "whT", whT);
        rank3(op, "gates", gates);
        f32(op, "dA", dA);
        if (dh0 != null) {
            f32(op, "dh0", dh0);
        }
        f32(op, "dc0", dc0);
        f32(op, "work", work);
        f32(op, "gates", gates);
        f32(op, "cs", cs);
        int t = gates.dim(0), n = gates.dim(1), h = whT.cols();
        if (whT.rows() != gates.dim(2) || (long) gates.dim(2) != 4L * h) {
            throw new IllegalArgumentException(op + ": whT is " + whT + " and gates has shape "
                    + Tensor.shapeString(gates.shape()) + ", expected Wh^T (4H, H) and gates (T, N, 4H)");
        }
        shape3(op, "dA", dA, t, n, 4 * h);
        shape3(op, "cs", cs, sequenceSteps(op, t), n, h);
        if (dh0 != null) {
            shape2(op, "dh0", dh0, n, h);
        }
        shape2(op, "dc0", dc0, n, h);
        shape3(op, "work", work, 3, n, h);
        if (dhs != null) {
            f32(op, "dhs", dhs);
            shape3(op, "dhs", dhs, t, n, h);
        } else {
            if (dhLast == null) {
                throw new NullPointerException(op + ": dhs and dhLast are both null; one gradient is needed");
            }
            f32(op, "dhLast", dhLast);
            shape2(op, "dhLast", dhLast, n, h);
        }
        if (dcLast != null) {
            f32(op, "dcLast", dcLast);
            shape2(op, "dcLast", dcLast, n, h);
        }
        // no output may share memory with another output or an input (a part of the split reads its rows of the
        // inputs at every step while the other parts write theirs); no arrays here: a training step allocates nothing
        apart(op, "dA", dA, "dc0", dc0, "work", work);
        noOverlap(op, "dc0", dc0, "work", work);
        outputApart(op, "dA", dA, gates, cs, dhs, dhLast, dcLast, whT);
        outputApart(op, "dc0", dc0, gates, cs, dhs, dhLast, dcLast, whT);
        outputApart(op, "work", work, gates, cs, dhs, dhLast, dcLast, whT);
        if (dh0 != null) {
            noOverlap(op, "dA", dA, "dh0", dh0);
            apart(op, "dh0", dh0, "dc0", dc0, "work", work);
            outputApart(op, "dh0", dh0, gates, cs, dhs, dhLast, dcLast, whT);
        }
        written(dA, dc0, work, dh0);
        if (t == 0 || n == 0 || h == 0) { // no steps: the gradients of h_0, c_0 are those arriving at them
            if (n > 0 && h > 0) {
                if (dh0 != null) {
                    if (dhs == null) {
                        copyK(dh0, dhLast);
                    } else {
                        fillK(dh0, 0f);
                    }
                }
                if (dcLast == null) {
                    fillK(dc0, 0f);
                } else {
                    copyK(dc0, dcLast);
                }
            }
            return;
        }
        lstmSequenceBackwardK(dA, dh0, dc0, work, gates, cs, dhs, dhLast, dcLast, whT, t, n, h);
    }

    /**
     * The LSTM backward over t steps, for {@link #lstmSequenceBackward} (the recurrence is described there). Checked:
     * whT is this backend's and packed, (4h, h); all F32 in the shapes below; dhs, or else dhLast, is given; the
     * outputs (dA, dh0, dc0, work) share no memory with one another or any input; t, n and h are at least 1 (with no
     * steps, this class has written dh0 and dc0 itself). An override must give the same bits as this default does on
     * this backend: the loop of {@link #lstmCellBackwardK} and {@link #gemmPackedK} (beta 0), work holding the carried
     * dh and two cell-state gradients in turn, no product at step 0 where dh0 is null.
     *
     * @param dA     (t, n, 4h), written
     * @param dh0    (n, h), written; or null: not computed
     * @param dc0    (n, h), written
     * @param work   (3, n, h), scratch
     * @param gates  (t, n, 4h), the forward's activated gates
     * @param cs     (t+1, n, h), the forward's cell states
     * @param dhs    (t, n, h), the output gradients; or null: dhLast at the last step, zero before
     * @param dhLast (n, h), used where dhs is null
     * @param dcLast (n, h), the gradient arriving at c_T; or null for zero
     * @param whT    Wh^T (4h, h), packed by this backend
     * @param t      the steps
     * @param n      the rows
     * @param h      the hidden size H
     */
    protected void lstmSequenceBackwardK(Tensor dA, Tensor dh0, Tensor dc0, Tensor work, Tensor gates, Tensor cs,
                                         Tensor dhs, Tensor dhLast, Tensor dcLast, PackedMatrix whT, int t, int n,
                                         int h) {
        Tensor[] w = steps(work), dAT = steps(dA), gT = steps(gates), cT = steps(cs);
        Tensor[] dhT = dhs != null ? steps(dhs) : null;
        Tensor carry = w[0], next = w[1], prev = w[2];
        if (dcLast != null) {
            copyK(next, dcLast);
        } else {
            fillK(next, 0f);
        }
        for (int s = t - 1; s >= 0; s--) {
            Tensor dhNext = dhT != null ? dhT[s] : s == t - 1 ? dhLast : carry;
            Tensor dhCarry = s < t - 1 && dhT != null ? carry : null;
            lstmCellBackwardK(dAT[s], prev, gT[s], cT[s + 1], cT[s], dhNext, dhCarry, next, n, h);
            if (s > 0 || dh0 != null) {
                gemmPackedK(n, s > 0 ? carry : dh0, h, dAT[s], 4 * h, whT, 0f);
            }
            Tensor x = next;
            next = prev;
            prev = x;
        }
        copyK(dc0, next);
    }

    /**
     * The views t.get(0 .. dim(0)-1) of a tensor that the default sequence loops walk, made once per tensor and
     * backend: a layer passes the same buffers at every training step, which so makes no views (a step allocates
     * nothing). Weak keys: a cached tensor that its owner dropped is forgotten, and with it its views. Held by the
     * backend, not by the calling thread: a static ThreadLocal kept, from every pooled thread that had run a loop,
     * seq4j's Tensors and so a dropped copy of seq4j's classes (an application server's undeployed app) alive.
     */
    private Tensor[] steps(Tensor t) {
        synchronized (stepViews) { // a lock a sequence call, not a step
            Tensor[] views = stepViews.get(t);
            if (views == null || views.length != t.dim(0) || (views.length > 0 && !views[0].isAlive())) {
                views = new Tensor[t.dim(0)];
                for (int s = 0; s < views.length; s++) {
                    views[s] = t.get(s);
                }
                stepViews.put(t, views);
            }
            return views;
        }
    }

    private final Map<Tensor, Tensor[]> stepViews = new WeakHashMap<>();        // guarded by itself
    private final Map<Tensor, Tensor[]> candidateViews = new WeakHashMap<>();   // guarded by stepViews

    /**
     * Per step s of GRU gates (T, N, 3H), the view from column 2H of row 0 on (the candidate columns at row stride
     * 3H), cached as {@link #steps} caches its views. The step (N, 3H) is seen as (3N, H) rows of H and the view is
     * its rows 2 .. 3N-1: the (3N - 2) H elements a product with ldc = 3H writes, held in a 2-D shape (a flat view of
     * that many elements would need an int count, which wraps from N 3H - 2H > 2^31 - 1 on).
     */
    private Tensor[] candidates(Tensor gates, int h) {
        synchronized (stepViews) { // the one lock of both caches (steps below takes it again)
            Tensor[] views = candidateViews.get(gates);
            if (views == null || views.length != gates.dim(0) || (views.length > 0 && !views[0].isAlive())) {
                Tensor[] steps = steps(gates);
                views = new Tensor[steps.length];
                int n = gates.dim(1);
                if (3L * n > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("GRU sequence of N = " + n + " rows: the step-by-step loop sees"
                            + " a step as 3N rows of H, and 3N must be at most " + Integer.MAX_VALUE + "; split the batch");
                }
                for (int s = 0; s < views.length; s++) {
                    views[s] = steps[s].view(3 * n, h).slice(2, 3 * n);
                }
                candidateViews.put(gates, views);
            }
            return views;
        }
    }

    /** lstmSequenceBackward's output {@code out} shares no memory with an input. */
    private static void outputApart(String op, String name, Tensor out, Tensor gates, Tensor cs, Tensor dhs,
                                    Tensor dhLast, Tensor dcLast, PackedMatrix whT) {
        noOverlap(op, name, out, "gates", gates);
        noOverlap(op, name, out, "cs", cs);
        if (dhs != null) {
            noOverlap(op, name, out, "dhs", dhs);
        } else {
            noOverlap(op, name, out, "dhLast", dhLast);
        }
        if (dcLast != null) {
            noOverlap(op, name, out, "dcLast", dcLast);
        }
        noOverlap(op, name, out, "whT", whT.storage());
    }

    /** T + 1, the leading extent of hs and cs, which must fit in an int dimension. */
    private static int sequenceSteps(String op, int t) {
        if (t == Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": T = " + t + " steps need T + 1 states, more than an int "
                    + "dimension holds");
        }
        return t + 1;
    }

    // GRU cell (gates z, r, h; see Backend). Zero extents as for the LSTM cell: no rows or no units, no-op.

    @Override
    public final void gruGatesForward(Tensor rh, Tensor gates, Tensor hPrev) {
        String op = "gruGatesForward";
        rank2(op, "rh", rh);
        f32(op, "rh", rh);
        f32(op, "gates", gates);
        f32(op, "hPrev", hPrev);
        int n = rh.dim(0), h = rh.dim(1);
        shape2(op, "gates", gates, n, gruColumns(op, h));
        shape2(op, "hPrev", hPrev, n, h);
        apart(op, "rh", rh, "gates", gates, "hPrev", hPrev);
        noOverlap(op, "gates", gates, "hPrev", hPrev); // gates are written too (the C kernel's restrict)
        if (n == 0 || h == 0) {
            return;
        }
        written(rh, gates);
        gruGatesForwardK(rh, gates, hPrev, n, h);
    }

    /**
     * The GRU step's gates, for {@link #gruGatesForward} and the default {@link #gruSequenceForwardK}: columns [0, 2H)
     * of gates (the pre-activations of z and r) are overwritten with their sigmoids, rh = r * hPrev is written, and
     * columns [2H, 3H) are not touched. Checked: all F32, rh and hPrev (n, h), gates (n, 3h) with 3h inside an int, the
     * three pairwise apart; n and h are at least 1. The default sequence passes per-step views.
     *
     * @param rh    (n, h), written
     * @param gates (n, 3h), columns [0, 2h) read and overwritten
     * @param hPrev (n, h)
     * @param n     the rows
     * @param h     the hidden size H
     */
    protected abstract void gruGatesForwardK(Tensor rh, Tensor gates, Tensor hPrev, int n, int h);

    @Override
    public final void gruCellForward(Tensor hNext, Tensor gates, Tensor hPrev) {
        String op = "gruCellForward";
        rank2(op, "hNext", hNext);
        f32(op, "hNext", hNext);
        f32(op, "gates", gates);
        f32(op, "hPrev", hPrev);
        int n = hNext.dim(0), h = hNext.dim(1);
        shape2(op, "gates", gates, n, gruColumns(op, h));
        shape2(op, "hPrev", hPrev, n, h);
        apart(op, "hNext", hNext, "gates", gates, "hPrev", hPrev);
        noOverlap(op, "gates", gates, "hPrev", hPrev); // gates are written too (the C kernel's restrict)
        if (n == 0 || h == 0) {
            return;
        }
        written(hNext, gates);
        gruCellForwardK(hNext, gates, hPrev, n, h);
    }

    /**
     * The GRU step's candidate and new state, for {@link #gruCellForward} and the default {@link #gruSequenceForwardK}:
     * columns [2H, 3H) of gates are overwritten with hhat = their tanh, and hNext = (1 - z) * hPrev + z * hhat is
     * written (z from columns [0, H), already activated). Checked: all F32, hNext and hPrev (n, h), gates (n, 3h), the
     * three pairwise apart; n and h are at least 1.
     *
     * @param hNext (n, h), written
     * @param gates (n, 3h), columns [2h, 3h) read and overwritten
     * @param hPrev (n, h)
     * @param n     the rows
     * @param h     the hidden size H
     */
    protected abstract void gruCellForwardK(Tensor hNext, Tensor gates, Tensor hPrev, int n, int h);

    @Override
    public final void gruSequenceForward(Tensor hs, Tensor gates, Tensor rhs, PackedMatrix zr, PackedMatrix hh,
                                         boolean fromZero) {
        String op = "gruSequenceForward";
        gruBlocks(op, "zr", zr, "hh", hh);
        rank3(op, "gates", gates);
        f32(op, "hs", hs);
        f32(op, "gates", gates);
        f32(op, "rhs", rhs);
        int t = gates.dim(0), n = gates.dim(1), h = hh.rows();
        if (hh.cols() != h || zr.rows() != h || (long) zr.cols() != 2L * h || (long) gates.dim(2) != 3L * h) {
            throw new IllegalArgumentException(op + ": zr is " + zr + ", hh is " + hh + " and gates has shape "
                    + Tensor.shapeString(gates.shape()) + ", expected Wh[:, :2H] (H, 2H), Whh (H, H) and gates (T, N, 3H)");
        }
        shape3(op, "hs", hs, sequenceSteps(op, t), n, h);
        shape3(op, "rhs", rhs, t, n, h);
        apart(op, "hs", hs, "gates", gates, "rhs", rhs);
        noOverlap(op, "gates", gates, "rhs", rhs);
        apartFromBlocks(op, "hs", hs, "zr", zr, "hh", hh);
        apartFromBlocks(op, "gates", gates, "zr", zr, "hh", hh);
        apartFromBlocks(op, "rhs", rhs, "zr", zr, "hh", hh);
        if (t == 0 || n == 0 || h == 0) {
            return;
        }
        written(hs, gates, rhs);
        gruSequenceForwardK(hs, gates, rhs, zr, hh, fromZero, t, n, h);
    }

    @Override
    public final void gruSequenceBackward(Tensor dA, Tensor dh0, Tensor dhs, Tensor drh, Tensor gates, Tensor hs,
                                          PackedMatrix zrT, PackedMatrix hhT) {
        String op = "gruSequenceBackward";
        gruBlocks(op, "zrT", zrT, "hhT", hhT);
        rank3(op, "gates", gates);
        f32(op, "dA", dA);
        f32(op, "dh0", dh0);
        f32(op, "dhs", dhs);
        f32(op, "drh", drh);
        f32(op, "gates", gates);
        f32(op, "hs", hs);
        int t = gates.dim(0), n = gates.dim(1), h = hhT.rows();
        if (hhT.cols() != h || zrT.cols() != h || (long) zrT.rows() != 2L * h || (long) gates.dim(2) != 3L * h) {
            throw new IllegalArgumentException(op + ": zrT is " + zrT + ", hhT is " + hhT + " and gates has shape "
                    + Tensor.shapeString(gates.shape()) + ", expected Wh[:, :2H]^T (2H, H), Whh^T (H, H) and gates "
                    + "(T, N, 3H)");
        }
        shape3(op, "dA", dA, t, n, 3 * h);
        shape2(op, "dh0", dh0, n, h);
        shape3(op, "dhs", dhs, t, n, h);
        shape2(op, "drh", drh, n, h);
        shape3(op, "hs", hs, sequenceSteps(op, t), n, h);
        apart(op, "dA", dA, "dh0", dh0, "dhs", dhs);
        apart(op, "dA", dA, "drh", drh, "gates", gates);
        apart(op, "dh0", dh0, "drh", drh, "gates", gates);
        noOverlap(op, "dh0", dh0, "dhs", dhs);
        noOverlap(op, "drh", drh, "gates", gates);
        apart(op, "dhs", dhs, "drh", drh, "hs", hs);
        noOverlap(op, "dA", dA, "hs", hs);
        noOverlap(op, "dh0", dh0, "hs", hs);
        noOverlap(op, "dhs", dhs, "gates", gates);
        noOverlap(op, "drh", drh, "hs", hs);
        apartFromBlocks(op, "dA", dA, "zrT", zrT, "hhT", hhT);
        apartFromBlocks(op, "dh0", dh0, "zrT", zrT, "hhT", hhT);
        apartFromBlocks(op, "dhs", dhs, "zrT", zrT, "hhT", hhT);
        apartFromBlocks(op, "drh", drh, "zrT", zrT, "hhT", hhT);
        written(dA, dh0, dhs, drh);
        if (n == 0 || h == 0) {
            return;
        }
        if (t == 0) {
            fillK(dh0, 0f);   // no steps: h_0 reaches no output
            return;
        }
        gruSequenceBackwardK(dA, dh0, dhs, drh, gates, hs, zrT, hhT, t, n, h);
    }

    /** The two packed blocks of a GRU sequence call: this backend's, packed, and in one precision. */
    private void gruBlocks(String op, String nameA, PackedMatrix a, String nameB, PackedMatrix b) {
        packedReady(op, nameA, a);
        packedReady(op, nameB, b);
        if (a.precision() != b.precision()) {
            throw new IllegalArgumentException(op + ": " + nameA + " is " + a.precision() + " and " + nameB + " is "
                    + b.precision() + ", expected both packed in one precision");
        }
    }

    /** t shares no memory with either packed block. */
    private static void apartFromBlocks(String op, String name, Tensor t, String nameA, PackedMatrix a, String nameB,
                                        PackedMatrix b) {
        noOverlap(op, name, t, nameA, a.storage());
        noOverlap(op, name, t, nameB, b.storage());
    }

    /**
     * The GRU backward over t steps, for {@link #gruSequenceBackward} (the loop is described there). Checked: zrT
     * (2h, h) and hhT (h, h) are this backend's, packed, in one precision; all F32 in the shapes below; dA, dh0, dhs
     * and drh share no memory with one another, with gates or hs, or with the packed storages; t, n and h are at least
     * 1 (with no steps, this class has written dh0 = 0). An override must give the same bits as this default does on
     * this backend: dh0 = 0, then the loop of the two GRU backward kernels and {@link #gemmPackedK} (row stride 3H)
     * over views of each step; like the forward's default, it refuses an n whose 3n exceeds an int.
     *
     * @param dA    (t, n, 3h), written
     * @param dh0   (n, h), written
     * @param dhs   (t, n, h): each step's output gradient on entry, the whole gradient of h_{s+1} on return
     * @param drh   (n, h), work
     * @param gates (t, n, 3h), the forward's activated gates
     * @param hs    (t+1, n, h), the forward's states
     * @param zrT   Wh[:, :2H]^T (2h, h), packed
     * @param hhT   Whh^T (h, h), packed
     * @param t     the steps
     * @param n     the rows
     * @param h     the hidden size H
     */
    protected void gruSequenceBackwardK(Tensor dA, Tensor dh0, Tensor dhs, Tensor drh, Tensor gates, Tensor hs,
                                        PackedMatrix zrT, PackedMatrix hhT, int t, int n, int h) {
        Tensor[] dT = steps(dA), dhT = steps(dhs), gT = steps(gates), hT = steps(hs), cT = candidates(dA, h);
        fillK(dh0, 0f);
        for (int s = t - 1; s >= 0; s--) {
            Tensor dhPrev = s > 0 ? dhT[s - 1] : dh0;
            gruCellBackwardK(dT[s], gT[s], hT[s], dhT[s], n, h);
            gemmPackedK(n, drh, h, cT[s], 3 * h, hhT, 0f);
            gruGatesBackwardK(dT[s], dhPrev, gT[s], hT[s], dhT[s], drh, n, h);
            gemmPackedK(n, dhPrev, h, dT[s], 3 * h, zrT, 1f);
        }
    }

    /**
     * The GRU recurrence over t steps, for {@link #gruSequenceForward} (the loop is described there). Checked: zr
     * (h, 2h) and hh (h, h) are this backend's, packed, in one precision; all F32, gates (t, n, 3h), hs (t+1, n, h),
     * rhs (t, n, h), pairwise apart and apart from the packed storages; t, n and h are at least 1. An override must
     * give the same bits as this default does on this backend: the loop of {@link #gemmPackedK} (beta 1, row stride 3H)
     * and the two GRU kernels over views of each step, without the products at step 0 where fromZero. The default
     * refuses (IllegalArgumentException) an n whose 3n exceeds an int, which its step views need.
     *
     * @param hs       (t+1, n, h): h_0 read, h_1 .. h_T written
     * @param gates    (t, n, 3h): x Wx + b on entry, the activated gates on return
     * @param rhs      (t, n, h), written: r * h_prev of every step
     * @param zr       Wh[:, :2H] (h, 2h), packed
     * @param hh       Whh (h, h), packed
     * @param fromZero whether step 0 adds no products (h_0 is zero)
     * @param t        the steps
     * @param n        the rows
     * @param h        the hidden size H
     */
    protected void gruSequenceForwardK(Tensor hs, Tensor gates, Tensor rhs, PackedMatrix zr, PackedMatrix hh,
                                       boolean fromZero, int t, int n, int h) {
        Tensor[] hT = steps(hs), gT = steps(gates), rT = steps(rhs), cT = candidates(gates, h);
        for (int s = 0; s < t; s++) {
            boolean recurrent = s > 0 || !fromZero;
            if (recurrent) {
                gemmPackedK(n, gT[s], 3 * h, hT[s], h, zr, 1f);
            }
            gruGatesForwardK(rT[s], gT[s], hT[s], n, h);
            if (recurrent) {
                gemmPackedK(n, cT[s], 3 * h, rT[s], h, hh, 1f);
            }
            gruCellForwardK(hT[s + 1], gT[s], hT[s], n, h);
        }
    }

    @Override
    public final void gruCellBackward(Tensor dA, Tensor gates, Tensor hPrev, Tensor dhNext) {
        String op = "gruCellBackward";
        rank2(op, "hPrev", hPrev);
        f32(op, "dA", dA);
        f32(op, "gates", gates);
        f32(op, "hPrev", hPrev);
        f32(op, "dhNext", dhNext);
        int n = hPrev.dim(0), h = hPrev.dim(1);
        shape2(op, "dA", dA, n, gruColumns(op, h));
        shape2(op, "gates", gates, n, gruColumns(op, h));
        shape2(op, "dhNext", dhNext, n, h);
        apart(op, "dA", dA, "gates", gates, "hPrev", hPrev);
        noOverlap(op, "dA", dA, "dhNext", dhNext);
        if (n == 0 || h == 0) {
            return;
        }
        written(dA);
        gruCellBackwardK(dA, gates, hPrev, dhNext, n, h);
    }

    /**
     * The backward of the GRU candidate and update gate, for {@link #gruCellBackward} and the default
     * {@link #gruSequenceBackwardK}: dA[:, 0:H] = dhNext (hhat - hPrev) z (1 - z) and dA[:, 2H:3H] = dhNext z
     * (1 - hhat^2) are written; dA's columns [H, 2H) are not touched. Checked: all F32, dA and gates (n, 3h), hPrev and
     * dhNext (n, h); dA shares no memory with any input; n and h are at least 1.
     *
     * @param dA     (n, 3h), columns [0, h) and [2h, 3h) written
     * @param gates  (n, 3h), the forward's activated gates
     * @param hPrev  (n, h)
     * @param dhNext (n, h)
     * @param n      the rows
     * @param h      the hidden size H
     */
    protected abstract void gruCellBackwardK(Tensor dA, Tensor gates, Tensor hPrev, Tensor dhNext, int n, int h);

    @Override
    public final void gruGatesBackward(Tensor dA, Tensor dhPrev, Tensor gates, Tensor hPrev, Tensor dhNext,
                                       Tensor drh) {
        String op = "gruGatesBackward";
        rank2(op, "dhPrev", dhPrev);
        f32(op, "dA", dA);
        f32(op, "dhPrev", dhPrev);
        f32(op, "gates", gates);
        f32(op, "hPrev", hPrev);
        f32(op, "dhNext", dhNext);
        f32(op, "drh", drh);
        int n = dhPrev.dim(0), h = dhPrev.dim(1);
        shape2(op, "dA", dA, n, gruColumns(op, h));
        shape2(op, "gates", gates, n, gruColumns(op, h));
        shape2(op, "hPrev", hPrev, n, h);
        shape2(op, "dhNext", dhNext, n, h);
        shape2(op, "drh", drh, n, h);
        apart(op, "dA", dA, "dhPrev", dhPrev, "gates", gates);
        apart(op, "dA", dA, "hPrev", hPrev, "dhNext", dhNext);
        noOverlap(op, "dA", dA, "drh", drh);
        apart(op, "dhPrev", dhPrev, "gates", gates, "hPrev", hPrev);
        apart(op, "dhPrev", dhPrev, "dhNext", dhNext, "drh", drh);
        if (n == 0 || h == 0) {
            return;
        }
        written(dA, dhPrev);
        gruGatesBackwardK(dA, dhPrev, gates, hPrev, dhNext, drh, n, h);
    }

    /**
     * The backward of the GRU gates once drh is known, for {@link #gruGatesBackward} and the default
     * {@link #gruSequenceBackwardK}: dA[:, H:2H] = drh hPrev r (1 - r) is written, dhPrev += dhNext (1 - z) + drh r
     * accumulates; dA's other columns are not touched. Checked: all F32, dA and gates (n, 3h), the others (n, h); dA
     * and dhPrev share no memory with each other or any input; n and h are at least 1.
     *
     * @param dA     (n, 3h), columns [h, 2h) written
     * @param dhPrev (n, h), accumulated
     * @param gates  (n, 3h), the forward's activated gates
     * @param hPrev  (n, h)
     * @param dhNext (n, h)
     * @param drh    (n, h), the gradient w.r.t. r * hPrev
     * @param n      the rows
     * @param h      the hidden size H
     */
    protected abstract void gruGatesBackwardK(Tensor dA, Tensor dhPrev, Tensor gates, Tensor hPrev, Tensor dhNext,
                                              Tensor drh, int n, int h);

    // ---- embedding -------------------------------------------------------------------------------------

    @Override
    public final void embeddingForward(Tensor out, Tensor W, Tensor ids) {
        String op = "embeddingForward";
        rank2(op, "W", W);
        f32(op, "W", W);
        f32(op, "out", out);
        i32(op, "ids", ids);
        int v = W.dim(0), d = W.dim(1);
        int m = rows(op, "ids", ids);
        shape2(op, "out", out, m, d);
        apart(op, "out", out, "W", W, "ids", ids);
        idsInRange(op, "ids", ids, v, false);
        // with d = 0 nothing is read or written, but device ids (not checkable here) still go to the kernel,
        // which checks them on the device, so misuse is reported as with d > 0 and as on the host
        if (m == 0 || (d == 0 && ids.device().isHost())) {
            return;
        }
        written(out);
        embeddingForwardK(out, W, ids, m, v, d);
    }

    /**
     * Row r of out = row ids[r] of W, for r below m, for {@link #embeddingForward} and the gathered
     * lstmSequenceForward (its default {@link #lstmSequenceForwardK}, and with d = 0 where H is 0 and the ids are on a
     * device). Checked: W (v, d) 2-D and F32, ids I32 of m elements (any shape), out F32 (m, d)
     * and apart from W and ids; every id in [0, v) where ids are on the host (else {@link #checkDeviceIds} was called
     * instead); m is at least 1; d is at least 1 on the host but may be 0 where ids are on a device (nothing is copied,
     * the ids are still checked). The implementation reads each id once where it uses it and never follows a bad one
     * (another thread may have changed it since the check): the host throws the check's IndexOutOfBoundsException (the
     * outputs are then unspecified), a device skips it and reports it at its next synchronising call. Must match the
     * reference bit for bit.
     *
     * @param out (m, d), written
     * @param W   (v, d), the table
     * @param ids m ids, I32
     * @param m   the ids' count
     * @param v   the table's rows
     * @param d   the table's columns
     */
    protected abstract void embeddingForwardK(Tensor out, Tensor W, Tensor ids, int m, int v, int d);

    @Override
    public final void embeddingBackward(Tensor dW, Tensor ids, Tensor dout) {
        String op = "embeddingBackward";
        rank2(op, "dW", dW);
        f32(op, "dW", dW);
        f32(op, "dout", dout);
        i32(op, "ids", ids);
        int v = dW.dim(0), d = dW.dim(1);
        int m = rows(op, "ids", ids);
        shape2(op, "dout", dout, m, d);
        idsInRange(op, "ids", ids, v, false);
        apart(op, "dW", dW, "dout", dout, "ids", ids);
        if (m == 0 || (d == 0 && ids.device().isHost())) { // d = 0 on a device: see embeddingForward
            return;
        }
        written(dW);
        embeddingBackwardK(dW, ids, dout, m, v, d);
    }

    /**
     * Row ids[r] of dW += row r of dout, for every r below m, for {@link #embeddingBackward}: duplicate ids are summed,
     * in increasing r onto dW's value, as the reference adds (the conformance suite compares bit for bit). Checked and
     * required as for {@link #embeddingForwardK}: dW (v, d), dout (m, d), dW apart from dout and ids, ids in [0, v) on
     * the host, d = 0 only where ids are on a device; a bad id found here is never followed.
     *
     * @param dW   (v, d), accumulated
     * @param ids  m ids, I32
     * @param dout (m, d)
     * @param m    the ids' count
     * @param v    dW's rows
     * @param d    dW's columns
     */
    protected abstract void embeddingBackwardK(Tensor dW, Tensor ids, Tensor dout, int m, int v, int d);

    // ---- losses ----------------------------------------------------------------------------------------

    @Override
    public final void softmaxCrossEntropyForward(Tensor probs, Tensor loss, Tensor logits, Tensor labels) {
        String op = "softmaxCrossEntropyForward";
        rank2(op, "logits", logits);
        f32(op, "logits", logits);
        f32(op, "probs", probs);
        f32(op, "loss", loss);
        i32(op, "labels", labels);
        int m = logits.dim(0), v = logits.dim(1);
        shape2(op, "probs", probs, m, v);
        shape1(op, "loss", loss, 1);
        shape1(op, "labels", labels, m);
        inPlaceOrApart(op, "probs", probs, "logits", logits);
        noOverlap(op, "probs", probs, "labels", labels);
        apart(op, "loss", loss, "probs", probs, "logits", logits);
        noOverlap(op, "loss", loss, "labels", labels);
        idsInRange(op, "labels", labels, v, true);
        // no rows, or rows of nothing whose labels are all -1: no counted row, loss 0; with v = 0, device labels (not
        // checkable here) still go to the kernel, which checks them, so misuse is reported as on the host
        written(probs, loss);
        if (m == 0 || (v == 0 && labels.device().isHost())) {
            fillK(loss, 0f);
            return;
        }
        softmaxCrossEntropyForwardK(probs, loss, logits, labels, m, v);
    }

    /**
     * probs = the softmax of each row of logits, and loss[0] = the mean over the rows whose label is not -1 of -log
     * probs[r, labels[r]], divided by max(count, 1), for {@link #softmaxCrossEntropyForward}; loss is written even
     * where every label is -1 (0). The reference takes the log-sum-exp in double, exact where a probability underflows.
     * Checked: logits 2-D (m, v) F32, probs F32 (m, v) and logits itself or apart from it, loss F32 (1,) apart from the
     * others, labels I32 (m,), probs apart from labels; every label in [0, v) or -1 where labels are on the host (else
     * {@link #checkDeviceIds}); m is at least 1, v too on the host (on a device v may be 0: probs is then empty, loss
     * 0, and the labels still checked). A label is read once where used, as the embeddings' ids.
     *
     * @param probs  (m, v), written
     * @param loss   (1,), written
     * @param logits (m, v)
     * @param labels (m,) I32
     * @param m      the rows
     * @param v      the classes
     */
    protected abstract void softmaxCrossEntropyForwardK(Tensor probs, Tensor loss, Tensor logits, Tensor labels,
                                                        int m, int v);

    @Override
    public final void softmaxCrossEntropyBackward(Tensor dlogits, Tensor probs, Tensor labels, float dloss) {
        String op = "softmaxCrossEntropyBackward";
        rank2(op, "probs", probs);
        f32(op, "probs", probs);
        f32(op, "dlogits", dlogits);
        i32(op, "labels", labels);
        int m = probs.dim(0), v = probs.dim(1);
        shape2(op, "dlogits", dlogits, m, v);
        shape1(op, "labels", labels, m);
        inPlaceOrApart(op, "dlogits", dlogits, "probs", probs);
        noOverlap(op, "dlogits", dlogits, "labels", labels);
        idsInRange(op, "labels", labels, v, true);
        if (m == 0 || (v == 0 && labels.device().isHost())) { // v = 0 on a device: see softmaxCrossEntropyForward
            return;
        }
        written(dlogits);
        softmaxCrossEntropyBackwardK(dlogits, probs, labels, dloss, m, v);
    }

    /**
     * dlogits = (probs - onehot(labels)) * dloss / max(count, 1), count the rows whose label is not -1, and 0 on the
     * rows whose label is -1, for {@link #softmaxCrossEntropyBackward}. Checked: probs 2-D (m, v) F32, dlogits F32
     * (m, v) and probs itself or apart from it, labels I32 (m,) apart from dlogits; labels, m and v as in
     * {@link #softmaxCrossEntropyForwardK}, and read once where used.
     *
     * @param dlogits (m, v), written
     * @param probs   (m, v), the forward's
     * @param labels  (m,) I32
     * @param dloss   the loss's incoming gradient
     * @param m       the rows
     * @param v       the classes
     */
    protected abstract void softmaxCrossEntropyBackwardK(Tensor dlogits, Tensor probs, Tensor labels, float dloss,
                                                         int m, int v);

    @Override
    public final void mseForward(Tensor loss, Tensor y, Tensor t, float scale) {
        String op = "mseForward";
        f32(op, "loss", loss);
        f32(op, "y", y);
        f32(op, "t", t);
        shape1(op, "loss", loss, 1);
        sameSize(op, "y", y, "t", t);
        apart(op, "loss", loss, "y", y, "t", t);
        written(loss);
        if (y.size() == 0) { // a sum over nothing
            fillK(loss, 0f);
            return;
        }
        mseForwardK(loss, y, t, scale);
    }

    /**
     * loss[0] = scale * the sum of (y - t)^2 over every element (the reference sums in double), for
     * {@link #mseForward}. Checked: all F32, loss (1,) apart from y and t, y and t with the same element count
     * (shapes may differ) and at least one element.
     *
     * @param loss  (1,), written
     * @param y     the prediction
     * @param t     the target
     * @param scale the factor
     */
    protected abstract void mseForwardK(Tensor loss, Tensor y, Tensor t, float scale);

    @Override
    public final void mseBackward(Tensor dy, Tensor y, Tensor t, float scale) {
        String op = "mseBackward";
        f32(op, "dy", dy);
        f32(op, "y", y);
        f32(op, "t", t);
        sameSize(op, "y", y, "t", t);
        sameSize(op, "dy", dy, "y", y);
        inPlaceOrApart(op, "dy", dy, "y", y);
        inPlaceOrApart(op, "dy", dy, "t", t);
        if (y.size() == 0) {
            return;
        }
        written(dy);
        mseBackwardK(dy, y, t, scale);
    }

    /**
     * dy = 2 * scale * (y - t) element for element, for {@link #mseBackward}. Checked: all F32 with the same element
     * count; dy is y or t itself (in place) or shares no memory with it; at least one element.
     *
     * @param dy    written
     * @param y     the prediction
     * @param t     the target
     * @param scale the forward's factor
     */
    protected abstract void mseBackwardK(Tensor dy, Tensor y, Tensor t, float scale);

    // ---- attention -------------------------------------------------------------------------------------

    @Override
    public final void attentionWeightForward(Tensor a, Tensor hs, Tensor h) {
        String op = "attentionWeightForward";
        rank3(op, "hs", hs);
        f32(op, "hs", hs);
        f32(op, "h", h);
        f32(op, "a", a);
        int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
        shape2(op, "h", h, n, hd);
        shape2(op, "a", a, n, t);
        apart(op, "a", a, "hs", hs, "h", h);
        if (a.size() == 0) {
            return;
        }
        written(a);
        attentionWeightForwardK(a, hs, h, t, n, hd);
    }

    /**
     * a[r, s] = the softmax over s of hs[s, r, :] . h[r, :], for {@link #attentionWeightForward} and the default
     * {@link #timeAttentionForwardK}. Checked: hs 3-D (t, n, hd) time-major, h (n, hd), a (n, t), all F32, a apart from
     * hs and h; t and n are at least 1, hd may be 0 (every score 0: a = 1 / t).
     *
     * @param a  (n, t), written
     * @param hs (t, n, hd)
     * @param h  (n, hd)
     * @param t  the encoder steps
     * @param n  the rows
     * @param hd the hidden size
     */
    protected abstract void attentionWeightForwardK(Tensor a, Tensor hs, Tensor h, int t, int n, int hd);

    @Override
    public final void attentionWeightBackward(Tensor dhs, Tensor dh, Tensor a, Tensor hs, Tensor h, Tensor da) {
        String op = "attentionWeightBackward";
        rank3(op, "hs", hs);
        f32(op, "dhs", dhs);
        f32(op, "dh", dh);
        f32(op, "a", a);
        f32(op, "hs", hs);
        f32(op, "h", h);
        f32(op, "da", da);
        int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
        shape3(op, "dhs", dhs, t, n, hd);
        shape2(op, "dh", dh, n, hd);
        shape2(op, "a", a, n, t);
        shape2(op, "h", h, n, hd);
        shape2(op, "da", da, n, t);
        // the kernels read every input after writing some of the outputs: none may share memory
        noOverlap(op, "dhs", dhs, "dh", dh);
        apart(op, "dhs", dhs, "a", a, "hs", hs);
        apart(op, "dhs", dhs, "h", h, "da", da);
        apart(op, "dh", dh, "a", a, "hs", hs);
        apart(op, "dh", dh, "h", h, "da", da);
        written(dhs, dh);
        if (dh.size() == 0) { // n = 0 or hd = 0: dhs is empty too
            return;
        }
        if (t == 0) { // dh is a sum over no time steps
            fillK(dh, 0f);
            return;
        }
        attentionWeightBackwardK(dhs, dh, a, hs, h, da, t, n, hd);
    }

    /**
     * The backward of attentionWeightForwardK, for {@link #attentionWeightBackward} and the default
     * {@link #timeAttentionBackwardK}: with ds = a * (da - sum_s a * da), dhs[s, r, :] += ds[r, s] h[r, :] accumulates
     * and dh[r, :] = sum_s ds[r, s] hs[s, r, :] is written. Checked: all F32 in the shapes below; dhs and dh share no
     * memory with each other or any input; t, n and hd are at least 1 (with no steps, this class has written dh = 0).
     *
     * @param dhs (t, n, hd), accumulated
     * @param dh  (n, hd), written
     * @param a   (n, t), the forward's weights
     * @param hs  (t, n, hd)
     * @param h   (n, hd)
     * @param da  (n, t), the incoming gradient
     * @param t   the encoder steps
     * @param n   the rows
     * @param hd  the hidden size
     */
    protected abstract void attentionWeightBackwardK(Tensor dhs, Tensor dh, Tensor a, Tensor hs, Tensor h, Tensor da,
                                                     int t, int n, int hd);

    @Override
    public final void weightSumForward(Tensor c, Tensor hs, Tensor a) {
        String op = "weightSumForward";
        rank3(op, "hs", hs);
        f32(op, "hs", hs);
        f32(op, "a", a);
        f32(op, "c", c);
        int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
        shape2(op, "a", a, n, t);
        shape2(op, "c", c, n, hd);
        apart(op, "c", c, "hs", hs, "a", a);
        written(c);
        if (c.size() == 0) {
            return;
        }
        if (t == 0) { // c is a sum over no time steps
            fillK(c, 0f);
            return;
        }
        weightSumForwardK(c, hs, a, t, n, hd);
    }

    /**
     * c[r, :] = sum_s a[r, s] hs[s, r, :], for {@link #weightSumForward} and the default
     * {@link #timeAttentionForwardK}. Checked: hs 3-D (t, n, hd), a (n, t), c (n, hd), all F32, c apart from hs and a;
     * t, n and hd are at least 1 (with no steps, this class has written c = 0).
     *
     * @param c  (n, hd), written
     * @param hs (t, n, hd)
     * @param a  (n, t)
     * @param t  the encoder steps
     * @param n  the rows
     * @param hd the hidden size
     */
    protected abstract void weightSumForwardK(Tensor c, Tensor hs, Tensor a, int t, int n, int hd);

    @Override
    public final void weightSumBackward(Tensor dhs, Tensor da, Tensor hs, Tensor a, Tensor dc) {
        String op = "weightSumBackward";
        rank3(op, "hs", hs);
        f32(op, "dhs", dhs);
        f32(op, "da", da);
        f32(op, "hs", hs);
        f32(op, "a", a);
        f32(op, "dc", dc);
        int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
        shape3(op, "dhs", dhs, t, n, hd);
        shape2(op, "da", da, n, t);
        shape2(op, "a", a, n, t);
        shape2(op, "dc", dc, n, hd);
        noOverlap(op, "dhs", dhs, "da", da);
        apart(op, "dhs", dhs, "hs", hs, "a", a);
        noOverlap(op, "dhs", dhs, "dc", dc);
        apart(op, "da", da, "hs", hs, "a", a);
        noOverlap(op, "da", da, "dc", dc);
        written(dhs, da);
        if (da.size() == 0) { // n = 0 or t = 0: dhs is empty too
            return;
        }
        if (hd == 0) { // da is a dot product over no features
            fillK(da, 0f);
            return;
        }
        weightSumBackwardK(dhs, da, hs, a, dc, t, n, hd);
    }

    /**
     * The backward of weightSumForwardK, for {@link #weightSumBackward} and the default
     * {@link #timeAttentionBackwardK}: dhs[s, r, :] += a[r, s] dc[r, :] accumulates and da[r, s] = hs[s, r, :] .
     * dc[r, :] is written. Checked: all F32 in the shapes below; dhs and da share no memory with each other or any
     * input; t, n and hd are at least 1 (with hd = 0, this class has written da = 0).
     *
     * @param dhs (t, n, hd), accumulated
     * @param da  (n, t), written
     * @param hs  (t, n, hd)
     * @param a   (n, t)
     * @param dc  (n, hd), the incoming gradient
     * @param t   the encoder steps
     * @param n   the rows
     * @param hd  the hidden size
     */
    protected abstract void weightSumBackwardK(Tensor dhs, Tensor da, Tensor hs, Tensor a, Tensor dc,
                                               int t, int n, int hd);

    @Override
    public final void timeAttentionForward(Tensor a, Tensor c, Tensor hsEnc, Tensor hsDec) {
        String op = "timeAttentionForward";
        attentionStates(op, hsEnc, hsDec);
        f32(op, "a", a);
        f32(op, "c", c);
        int tEnc = hsEnc.dim(0), n = hsEnc.dim(1), hd = hsEnc.dim(2), tDec = hsDec.dim(0);
        shape3(op, "a", a, tDec, n, tEnc);
        shape3(op, "c", c, tDec, n, hd);
        // a part writes its sequences' rows while the others read theirs: no output may share memory
        noOverlap(op, "a", a, "c", c);
        apart(op, "a", a, "hsEnc", hsEnc, "hsDec", hsDec);
        apart(op, "c", c, "hsEnc", hsEnc, "hsDec", hsDec);
        written(a, c);
        if (tDec == 0 || n == 0) { // no steps or no sequences: nothing to write
            return;
        }
        if (tEnc == 0) { // a is empty; every context is a sum over no encoder steps
            if (c.size() > 0) {
                fillK(c, 0f);
            }
            return;
        }
        timeAttentionForwardK(a, c, hsEnc, hsDec, tEnc, tDec, n, hd);
    }

    /**
     * Attention over every decoder step, for {@link #timeAttentionForward}. Checked: hsEnc (tEnc, n, hd) and hsDec
     * (tDec, n, hd), a (tDec, n, tEnc), c (tDec, n, hd), all F32; a and c share no memory with each other or either
     * input; tEnc, tDec and n are at least 1, hd may be 0 (a = 1 / tEnc, c empty). An override must give the same bits
     * as this default does on this backend: the loop of {@link #attentionWeightForwardK} and {@link #weightSumForwardK}
     * (the latter only where hd is at least 1) over views of each decoder step.
     *
     * @param a     (tDec, n, tEnc), written
     * @param c     (tDec, n, hd), written
     * @param hsEnc (tEnc, n, hd)
     * @param hsDec (tDec, n, hd)
     * @param tEnc  the encoder steps
     * @param tDec  the decoder steps
     * @param n     the rows
     * @param hd    the hidden size
     */
    protected void timeAttentionForwardK(Tensor a, Tensor c, Tensor hsEnc, Tensor hsDec, int tEnc, int tDec, int n,
                                         int hd) {
        Tensor[] aT = steps(a), cT = steps(c), decT = steps(hsDec);
        for (int s = 0; s < tDec; s++) {
            attentionWeightForwardK(aT[s], hsEnc, decT[s], tEnc, n, hd);
            if (hd > 0) {
                weightSumForwardK(cT[s], hsEnc, aT[s], tEnc, n, hd);
            }
        }
    }

    @Override
    public final void timeAttentionBackward(Tensor dhsEnc, Tensor dhsDec, Tensor work, Tensor a, Tensor hsEnc,
                                            Tensor hsDec, Tensor dc) {
        String op = "timeAttentionBackward";
        attentionStates(op, hsEnc, hsDec);
        f32(op, "dhsEnc", dhsEnc);
        f32(op, "dhsDec", dhsDec);
        f32(op, "work", work);
        f32(op, "a", a);
        f32(op, "dc", dc);
        int tEnc = hsEnc.dim(0), n = hsEnc.dim(1), hd = hsEnc.dim(2), tDec = hsDec.dim(0);
        shape3(op, "dhsEnc", dhsEnc, tEnc, n, hd);
        shape3(op, "dhsDec", dhsDec, tDec, n, hd);
        shape2(op, "work", work, n, tEnc);
        shape3(op, "a", a, tDec, n, tEnc);
        shape3(op, "dc", dc, tDec, n, hd);
        apart(op, "dhsEnc", dhsEnc, "dhsDec", dhsDec, "work", work);
        noOverlap(op, "dhsDec", dhsDec, "work", work);
        apart(op, "dhsEnc", dhsEnc, "a", a, "hsEnc", hsEnc);
        apart(op, "dhsEnc", dhsEnc, "hsDec", hsDec, "dc", dc);
        apart(op, "dhsDec", dhsDec, "a", a, "hsEnc", hsEnc);
        apart(op, "dhsDec", dhsDec, "hsDec", hsDec, "dc", dc);
        apart(op, "work", work, "a", a, "hsEnc", hsEnc);
        apart(op, "work", work, "hsDec", hsDec, "dc", dc);
        written(dhsEnc, dhsDec, work);
        if (n == 0 || hd == 0) { // dhsEnc and dhsDec are empty
            return;
        }
        if (tEnc == 0 || tDec == 0) { // no encoder steps: dhsDec is a sum over none; no decoder steps: dhsEnc is zero
            Tensor zero = tEnc == 0 ? dhsDec : dhsEnc;
            if (zero.size() > 0) {
                fillK(zero, 0f);
            }
            return;
        }
        timeAttentionBackwardK(dhsEnc, dhsDec, work, a, hsEnc, hsDec, dc, tEnc, tDec, n, hd);
    }

    /**
     * The backward of attention over every decoder step, for {@link #timeAttentionBackward}. Checked: the shapes below,
     * all F32; the outputs (dhsEnc, dhsDec, work) share no memory with one another or any input; every extent is at
     * least 1 (this class has handled the others). An override must give the same bits as this default does on this
     * backend: dhsEnc = 0, then the loop of {@link #weightSumBackwardK} and {@link #attentionWeightBackwardK} over
     * views of each decoder step, work holding da.
     *
     * @param dhsEnc (tEnc, n, hd), written
     * @param dhsDec (tDec, n, hd), written
     * @param work   (n, tEnc), scratch
     * @param a      (tDec, n, tEnc), the forward's weights
     * @param hsEnc  (tEnc, n, hd)
     * @param hsDec  (tDec, n, hd)
     * @param dc     (tDec, n, hd), the contexts' gradient
     * @param tEnc   the encoder steps
     * @param tDec   the decoder steps
     * @param n      the rows
     * @param hd     the hidden size
     */
    protected void timeAttentionBackwardK(Tensor dhsEnc, Tensor dhsDec, Tensor work, Tensor a, Tensor hsEnc,
                                          Tensor hsDec, Tensor dc, int tEnc, int tDec, int n, int hd) {
        Tensor[] aT = steps(a), dDecT = steps(dhsDec), decT = steps(hsDec), dcT = steps(dc);
        fillK(dhsEnc, 0f);
        for (int s = 0; s < tDec; s++) {
            weightSumBackwardK(dhsEnc, work, hsEnc, aT[s], dcT[s], tEnc, n, hd);
            attentionWeightBackwardK(dhsEnc, dDecT[s], aT[s], hsEnc, decT[s], work, tEnc, n, hd);
        }
    }

    /** TimeAttention's states: hsEnc (T_enc, N, H) and hsDec (T_dec, N, H), float, the same N and H. */
    private void attentionStates(String op, Tensor hsEnc, Tensor hsDec) {
        rank3(op, "hsEnc", hsEnc);
        rank3(op, "hsDec", hsDec);
        f32(op, "hsEnc", hsEnc);
        f32(op, "hsDec", hsDec);
        shape3(op, "hsDec", hsDec, hsDec.dim(0), hsEnc.dim(1), hsEnc.dim(2));
    }

    /** The output {@code out} shares no memory with either input (two at a time: no array, no allocation). */
    private static void apart(String op, String name, Tensor out, String name1, Tensor in1, String name2, Tensor in2) {
        noOverlap(op, name, out, name1, in1);
        noOverlap(op, name, out, name2, in2);
    }

    // ---- dropout ---------------------------------------------------------------------------------------

    @Override
    public final void dropoutMask(Tensor mask, float ratio, long seed) {
        f32("dropoutMask", "mask", mask);
        if (!(ratio >= 0f && ratio < 1f)) {
            throw new IllegalArgumentException("dropoutMask: ratio must be in [0, 1), got " + ratio);
        }
        if (mask.size() == 0) {
            return;
        }
        written(mask);
        dropoutMaskK(mask, ratio, seed);
    }

    /**
     * mask[i] = 1 / (1 - ratio) (in float) where {@link CounterRandom#uniform}(seed, i) is at least ratio, else 0, i
     * the flat index, for {@link #dropoutMask}. Must match the reference bit for bit: every backend draws the same mask
     * for a seed. Checked: mask is F32 with at least one element, ratio is in [0, 1).
     *
     * @param mask  F32, written
     * @param ratio the drop probability
     * @param seed  the stream
     */
    protected abstract void dropoutMaskK(Tensor mask, float ratio, long seed);

    // ---- optimizers ------------------------------------------------------------------------------------

    @Override
    public final void sgdUpdate(Tensor param, Tensor grad, float lr) {
        f32("sgdUpdate", "param", param);
        f32("sgdUpdate", "grad", grad);
        sameSize("sgdUpdate", "param", param, "grad", grad);
        noOverlap("sgdUpdate", "param", param, "grad", grad);
        if (param.size() == 0) {
            return;
        }
        written(param);
        sgdUpdateK(param, grad, lr);
    }

    /**
     * param -= lr * grad element for element, for {@link #sgdUpdate}. Checked: both F32 with the same element count, no
     * overlap, at least one element.
     *
     * @param param the parameters, updated
     * @param grad  the gradient
     * @param lr    the learning rate
     */
    protected abstract void sgdUpdateK(Tensor param, Tensor grad, float lr);

    @Override
    public final void momentumUpdate(Tensor param, Tensor v, Tensor grad, float lr, float momentum) {
        String op = "momentumUpdate";
        if (optimizerState(op, param, "v", v, grad)) {
            return;
        }
        written(param, v);
        momentumUpdateK(param, v, grad, lr, momentum);
    }

    /**
     * v = momentum * v - lr * grad, then param += v, for {@link #momentumUpdate}. Checked: all F32 with the same
     * element count, pairwise apart, at least one element. May flush subnormals to zero (Backend's optimizer section).
     *
     * @param param    the parameters, updated
     * @param v        the velocity, updated
     * @param grad     the gradient
     * @param lr       the learning rate
     * @param momentum the velocity's decay
     */
    protected abstract void momentumUpdateK(Tensor param, Tensor v, Tensor grad, float lr, float momentum);

    @Override
    public final void adagradUpdate(Tensor param, Tensor h, Tensor grad, float lr, float eps) {
        if (optimizerState("adagradUpdate", param, "h", h, grad)) {
            return;
        }
        written(param, h);
        adagradUpdateK(param, h, grad, lr, eps);
    }

    /**
     * h += grad^2, then param -= lr * grad / (sqrt(h) + eps), in float, for {@link #adagradUpdate}. Checked: all F32
     * with the same element count, pairwise apart, at least one element. May flush subnormals to zero
     * (Backend's optimizer section).
     *
     * @param param the parameters, updated
     * @param h     the sum of squared gradients, updated
     * @param grad  the gradient
     * @param lr    the learning rate
     * @param eps   added to the root
     */
    protected abstract void adagradUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float eps);

    @Override
    public final void rmspropUpdate(Tensor param, Tensor h, Tensor grad, float lr, float decay, float eps) {
        if (optimizerState("rmspropUpdate", param, "h", h, grad)) {
            return;
        }
        written(param, h);
        rmspropUpdateK(param, h, grad, lr, decay, eps);
    }

    /**
     * h = decay * h + (1 - decay) * grad^2, then param -= lr * grad / (sqrt(h) + eps), in float, for
     * {@link #rmspropUpdate}. Checked: all F32 with the same element count, pairwise apart, at least one element. May
     * flush subnormals to zero (Backend's optimizer section).
     *
     * @param param the parameters, updated
     * @param h     the running mean of squared gradients, updated
     * @param grad  the gradient
     * @param lr    the learning rate
     * @param decay the mean's decay
     * @param eps   added to the root
     */
    protected abstract void rmspropUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float decay, float eps);

    @Override
    public final void adamUpdate(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                                 float eps) {
        adamUpdate(param, m, v, grad, lrT, beta1, beta2, eps, false);
    }

    @Override
    public final void adamUpdate(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                                 float eps, boolean zeroGrad) {
        String op = "adamUpdate";
        boolean empty = optimizerState(op, param, "m", m, grad);
        f32(op, "v", v);
        sameSize(op, "param", param, "v", v);
        noOverlap(op, "grad", grad, "v", v); // with zeroGrad an overlap would zero what the update just wrote
        apart(op, "v", v, "param", param, "m", m);
        written(param, m, v, zeroGrad ? grad : null);
        if (empty) {
            return;
        }
        if (zeroGrad) {
            adamUpdateZeroK(param, m, v, grad, lrT, beta1, beta2, eps);
        } else {
            adamUpdateK(param, m, v, grad, lrT, beta1, beta2, eps);
        }
    }

    /**
     * m += (1 - beta1) (grad - m), v += (1 - beta2) (grad^2 - v), then param -= lrT * m / (sqrt(v) + eps), in float,
     * for {@link #adamUpdate(Tensor, Tensor, Tensor, Tensor, float, float, float, float)}. Checked: all F32 with the
     * same element count, param, m, v and grad pairwise apart, at least one element. May flush subnormals to zero
     * (Backend's optimizer section).
     *
     * @param param the parameters, updated
     * @param m     the first moment, updated
     * @param v     the second moment, updated
     * @param grad  the gradient
     * @param lrT   the step's bias-corrected learning rate
     * @param beta1 the first moment's decay
     * @param beta2 the second moment's decay
     * @param eps   added to the root
     */
    protected abstract void adamUpdateK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1,
                                        float beta2, float eps);

    /**
     * {@link #adamUpdateK}, then grad = 0, for
     * {@link #adamUpdate(Tensor, Tensor, Tensor, Tensor, float, float, float, float, boolean)} with zeroGrad. Checked
     * as adamUpdateK (grad overlaps none of the others). A backend may fuse the two into one pass over memory; the
     * default runs the update and then {@link #fillK}.
     *
     * @param param the parameters, updated
     * @param m     the first moment, updated
     * @param v     the second moment, updated
     * @param grad  the gradient, zero on return
     * @param lrT   the step's bias-corrected learning rate
     * @param beta1 the first moment's decay
     * @param beta2 the second moment's decay
     * @param eps   added to the root
     */
    protected void adamUpdateZeroK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                                   float eps) {
        adamUpdateK(param, m, v, grad, lrT, beta1, beta2, eps);
        fillK(grad, 0f);
    }

    // ---- reductions ------------------------------------------------------------------------------------

    @Override
    public final void sumOfSquares(Tensor out, Tensor x) {
        f32("sumOfSquares", "out", out);
        f32("sumOfSquares", "x", x);
        shape1("sumOfSquares", "out", out, 1);
        noOverlap("sumOfSquares", "out", out, "x", x);
        written(out);
        if (x.size() == 0) {
            fillK(out, 0f);
            return;
        }
        sumOfSquaresK(out, x);
    }

    /**
     * out[0] = the sum of x^2 over every element (the reference sums in double), for {@link #sumOfSquares}. Checked:
     * out F32 (1,) apart from x, x F32 with at least one element.
     *
     * @param out (1,), written
     * @param x   F32, any shape
     */
    protected abstract void sumOfSquaresK(Tensor out, Tensor x);

    @Override
    public final void argmaxRows(Tensor ids, Tensor x) {
        String op = "argmaxRows";
        rank2(op, "x", x);
        f32(op, "x", x);
        i32(op, "ids", ids);
        shape1(op, "ids", ids, x.dim(0));
        noOverlap(op, "ids", ids, "x", x);
        if (x.dim(1) == 0) {
            throw new IllegalArgumentException(op + ": x " + x + " has no columns to take the largest of");
        }
        if (x.dim(0) == 0) {
            return;
        }
        written(ids);
        argmaxRowsK(ids, x, x.dim(0), x.dim(1));
    }

    /**
     * ids[r] = the column of the largest value in row r of x (m, v), for {@link #argmaxRows}: the row scanned left to
     * right, a column replacing the best so far only where strictly greater, so the first of equal values wins, and NaN
     * wins in column 0 and is passed over elsewhere. Must match the reference exactly. Checked: x 2-D and F32, ids I32
     * (m,) apart from x; m and v are at least 1.
     *
     * @param ids (m,) I32, written
     * @param x   (m, v)
     * @param m   the rows
     * @param v   the columns
     */
    protected abstract void argmaxRowsK(Tensor ids, Tensor x, int m, int v);

    // ---- lifetime --------------------------------------------------------------------------------------

    @Override
    public final boolean isOpen() {
        return !closed;
    }

    /**
     * Closes the backend once: later kernel calls and allocations throw IllegalStateException, and closing
     * again does nothing. Work already inside a kernel on another thread is the caller's to finish first.
     */
    @Override
    public final void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (unitArena != null) { // before closeK: its memory may come from a pool closeK releases
            unitArena.close();
        }
        closeK();
    }

    /**
     * Releases what the implementation holds (native handles, streams, pools); the default holds nothing. Runs once, on
     * the thread that called {@link #close()}, after the backend is marked closed (every later public call throws) and
     * after the memory of the scalar the default {@link #packK} may have allocated is freed. Other threads are not
     * inside a call: {@link Backend} leaves that to the caller.
     */
    protected void closeK() {
    }

    // ---- writes ----------------------------------------------------------------------------------------

    // Every public method that writes tensors counts a write on each of them (Tensor.writes) once its arguments are
    // checked, before its kernel runs: a layer that keeps an input of its caller's for its backward compares the
    // count and refuses a backward after the input was written (CallOrder.keep). Outputs, in-place operands,
    // gradients added into and scratch count; inputs only read never do (a layer's kept input is read by the kernels
    // of later layers). A kernel refused after this point (a bad id found on a device) may have written, so it counts.
    // Fixed arities, not varargs: a training step allocates nothing.

    private static void written(Tensor a) {
        a.markWritten();
    }

    private static void written(Tensor a, Tensor b) {
        a.markWritten();
        b.markWritten();
    }

    private static void written(Tensor a, Tensor b, Tensor c) {
        a.markWritten();
        b.markWritten();
        c.markWritten();
    }

    /** As the others; d may be null (an output not asked for) */
    private static void written(Tensor a, Tensor b, Tensor c, Tensor d) {
        written(a, b, c);
        if (d != null) {
            d.markWritten();
        }
    }

    // ---- checks ----------------------------------------------------------------------------------------

    private void open(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": backend " + name() + " is closed");
        }
    }

    /** {@link #live}: what every public method checks of a tensor argument, with op's own rule for heap memory. */
    @Override
    public final void requireOperand(String op, String name, Tensor t) {
        // first: openblas's acceptsHeap(null) threw the JVM's NullPointerException for a heap tensor, and a usable
        // tensor passed with no name to refuse it by
        Objects.requireNonNull(op, "requireOperand: op is null");
        Objects.requireNonNull(name, "requireOperand: name is null");
        live(op, name, t);
    }

    /**
     * The check every public method makes of a tensor argument, for a subclass's own methods: the backend is open, the
     * tensor is not null, is on this backend's device, is owned by no other backend, its memory is alive and accessible
     * from this thread, and it is native memory unless {@link #acceptsHeap}(op) says otherwise.
     *
     * @param op   the public method's name, for messages (and acceptsHeap)
     * @param name the argument's name, for messages
     * @param t    the tensor
     * @throws IllegalStateException    if the backend is closed, or t's arena is closed or confined to another thread
     * @throws NullPointerException     if t is null
     * @throws IllegalArgumentException if t is on another device, owned by another backend, or on the heap where op's
     *                                  kernel cannot read it
     */
    protected final void live(String op, String name, Tensor t) {
        open(op);
        if (t == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
        if (t.device() != device()) {
            throw new IllegalArgumentException(op + ": " + name + " " + t + " is on " + t.device() + " but the "
                    + name() + " backend works on " + device() + "; copy it there first");
        }
        if (t.owner() != null && t.owner() != this) {   // another GPU backend's stream orders its writes
            throw new IllegalArgumentException(op + ": " + name + " " + t + " is owned by " + ownerName(t.owner())
                    + ", not this " + name() + " backend, and its owner orders its writes (a GPU backend's stream); use"
                    + " it with its owner, or copy it through the host");
        }
        t.requireUsable(op, name);   // else FFM's bare WrongThreadException, mid-kernel
        if (!t.segment().isNative() && !acceptsHeap(op)) {
            throw new IllegalArgumentException(op + ": " + name + " " + t + " lies on the Java heap (a float[],"
                    + " int[] or heap buffer), which the " + name() + " backend's " + op + " cannot read; copy it into"
                    + " a tensor from allocate() (copyIn, copy) or wrap native memory (an Arena segment, a direct"
                    + " buffer)");
        }
    }

    /** How a tensor's owner is named in messages: a backend by its name, anything else (Tensor.ownedBy) by its class. */
    private static String ownerName(Object owner) {
        return owner instanceof Backend b ? "another " + b.name() + " backend" : "a " + owner.getClass().getName();
    }

    /**
     * Whether this backend's kernel {@code op} (the public method's name, e.g. "gemm") takes tensors over Java heap
     * memory ({@code Tensor.wrap(float[], ...)}, {@code MemorySegment.ofArray}, heap buffers). Native kernels cannot
     * reach the heap through ordinary downcalls, so the default is no: {@link #live} then refuses such a tensor
     * with one clear IllegalArgumentException before any kernel runs. The Java backend says yes everywhere; the
     * OpenBLAS backend for its memory copies and gemm (through critical downcalls); CUDA never.
     *
     * @param op the name of the public method being checked
     * @return true if op's kernel may be given heap segments
     */
    protected boolean acceptsHeap(String op) {
        return false;
    }

    /**
     * The arena of allocate or packedMatrix: not null, and not closed. (One confined to another thread is found by the
     * allocation itself, see {@link #arenaRefused}: an Arena tells its owner only through a segment it allocated.)
     */
    private static void arenaOpen(String op, Arena arena) {
        nonNull(op, "arena", arena);
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(op + ": the arena is already closed");
        }
    }

    /**
     * What allocate and packedMatrix throw when the allocation refused the arena: confined to another thread
     * (WrongThreadException, or the IllegalStateException that Tensor.allocateHost or a nested allocate made of it), or
     * closed by another thread since arenaOpen; one line naming the method and the arena, the refusal as the cause. Any
     * other exception as it came.
     */
    private static RuntimeException arenaRefused(String op, Arena arena, RuntimeException e) {
        if (!arena.scope().isAlive()) {
            return new IllegalStateException(op + ": the arena is already closed", e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof WrongThreadException) {
                return new IllegalStateException(op + ": the arena is confined to another thread (another thread's"
                        + " Arena.ofConfined()); allocate from that thread, or use a shared arena", e);
            }
        }
        return e;
    }

    private void f32(String op, String name, Tensor t) {
        live(op, name, t);
        dtype(op, name, t, DType.F32);
    }

    private void i32(String op, String name, Tensor t) {
        live(op, name, t);
        dtype(op, name, t, DType.I32);
    }

    /** A null argument is a NullPointerException naming the method and the argument (its message built only then). */
    private static void nonNull(String op, String name, Object o) {
        if (o == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
    }

    private static void transposes(String op, Transpose transA, Transpose transB) {
        nonNull(op, "transA", transA);
        nonNull(op, "transB", transB);
    }

    /**
     * The caller's host memory of copyIn or copyOut: not null, still alive (a device backend would hand a freed
     * address to its copy engine) and, when written, writable (a device's copy would write through a read-only
     * mapping unchecked).
     */
    private static void hostSegment(String op, String name, MemorySegment s, boolean written) {
        nonNull(op, name, s);
        Tensor.requireUsable(op, name, s, s);
        if (written && s.isReadOnly()) {
            throw new IllegalArgumentException(op + ": " + name + " " + s + " is read-only; copy out into writable"
                    + " memory");
        }
        // a device tensor's segment() holds a device address: the host would read or write it (a SIGSEGV)
        if (s.isNative() && s.byteSize() > 0 && DeviceMemory.overlaps(s.address(), s.byteSize())) {
            throw new IllegalArgumentException(op + ": " + name + " " + s + " is device memory (a GPU tensor's"
                    + " segment()?), which the host cannot " + (written ? "write" : "read") + "; copy through the"
                    + " device backend (its copyOut into host memory, or copy between its tensors)");
        }
    }

    private static void dtype(String op, String name, Tensor t, DType expected) {
        if (t.dtype() != expected) {
            throw new IllegalArgumentException(op + ": " + name + " must be " + expected + " but is " + t.dtype());
        }
    }

    private static void rank2(String op, String name, Tensor t) {
        nonNull(op, name, t);
        if (t.rank() != 2) {
            throw new IllegalArgumentException(op + ": " + name + " must be 2-D but has shape "
                    + Tensor.shapeString(t.shape()));
        }
    }

    private static void rank3(String op, String name, Tensor t) {
        nonNull(op, name, t);
        if (t.rank() != 3) {
            throw new IllegalArgumentException(op + ": " + name + " must be 3-D (T, N, H) but has shape "
                    + Tensor.shapeString(t.shape()));
        }
    }

    private static void shape1(String op, String name, Tensor t, int d0) {
        if (t.rank() != 1 || t.dim(0) != d0) {
            throw shapeError(op, name, t, Tensor.shapeString(d0));
        }
    }

    private static void shape2(String op, String name, Tensor t, int d0, int d1) {
        if (t.rank() != 2 || t.dim(0) != d0 || t.dim(1) != d1) {
            throw shapeError(op, name, t, Tensor.shapeString(d0, d1));
        }
    }

    private static void shape3(String op, String name, Tensor t, int d0, int d1, int d2) {
        if (t.rank() != 3 || t.dim(0) != d0 || t.dim(1) != d1 || t.dim(2) != d2) {
            throw shapeError(op, name, t, Tensor.shapeString(d0, d1, d2));
        }
    }

    private static IllegalArgumentException shapeError(String op, String name, Tensor t, String expected) {
        return new IllegalArgumentException(op + ": " + name + " has shape " + Tensor.shapeString(t.shape())
                + ", expected " + expected);
    }

    private static void sameSize(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException(op + ": " + nameA + " " + Tensor.shapeString(a.shape()) + " and "
                    + nameB + " " + Tensor.shapeString(b.shape()) + " must have the same number of elements ("
                    + a.size() + " vs " + b.size() + ")");
        }
    }

    private static void length(String op, Tensor t, int length) {
        if (t.size() != length) {
            throw new IllegalArgumentException(op + ": array of length " + length + " does not match " + t + " ("
                    + t.size() + " elements)");
        }
    }

    /** Checks y = f(x); returns whether there is nothing to compute (no elements). */
    private boolean unary(String op, Tensor y, Tensor x) {
        f32(op, "y", y);
        f32(op, "x", x);
        sameSize(op, "y", y, "x", x);
        inPlaceOrApart(op, "y", y, "x", x);
        return y.size() == 0;
    }

    /** Checks dx = f(y, dy); returns whether there is nothing to compute. */
    private boolean binary(String op, Tensor dx, Tensor y, Tensor dy) {
        f32(op, "dx", dx);
        f32(op, "y", y);
        f32(op, "dy", dy);
        sameSize(op, "dx", dx, "y", y);
        sameSize(op, "dy", dy, "y", y);
        inPlaceOrApart(op, "dx", dx, "dy", dy);
        inPlaceOrApart(op, "dx", dx, "y", y);
        return dx.size() == 0;
    }

    /** Checks an optimizer's buffers; returns whether there is nothing to update. */
    private boolean optimizerState(String op, Tensor param, String stateName, Tensor state, Tensor grad) {
        f32(op, "param", param);
        f32(op, stateName, state);
        f32(op, "grad", grad);
        sameSize(op, "param", param, stateName, state);
        sameSize(op, "param", param, "grad", grad);
        // param and the state are written and grad is read after them: no two may share memory
        apart(op, "grad", grad, "param", param, stateName, state);
        noOverlap(op, "param", param, stateName, state);
        return param.size() == 0;
    }

    private static void gemmDims(String op, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(op + ": dimensions must be >= 0, got m=" + m + ", n=" + n + ", k=" + k);
        }
    }

    /**
     * A (rows, cols) matrix with row stride ld, repeated batch times at the given stride, must lie inside t.
     * This is what keeps native gemm from reading or writing outside the tensor.
     */
    private static void matrixFits(String op, String name, Tensor t, int rows, int cols, int ld, long stride,
                                   int batch) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(op + ": ld" + name + " = " + ld + " must be at least " + (cols > 0
                    ? "the " + cols + " columns of " + name + " as stored"
                    : "1 (a row stride is at least 1, also for 0 columns)"));
        }
        if (rows == 0 || cols == 0 || batch == 0) {
            return;
        }
        // (batch - 1) * stride + (rows - 1) * ld + cols, exactly: a stride near 2^62 times the batch wraps a
        // long to a small number that would pass, and the kernel would then write far outside the tensor
        long extent;
        try {
            extent = Math.addExact(Math.addExact(Math.multiplyExact(batch - 1L, stride), (rows - 1L) * ld), cols);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(op + ": " + name + " as a (" + rows + ", " + cols + ") matrix with ld "
                    + ld + ", stride " + stride + " and batch " + batch + " spans more than " + Long.MAX_VALUE
                    + " elements, but the tensor " + Tensor.shapeString(t.shape()) + " has only " + t.size(), e);
        }
        if (extent > t.size()) {
            throw new IllegalArgumentException(op + ": " + name + " as a (" + rows + ", " + cols + ") matrix with ld "
                    + ld + (batch > 1 ? ", stride " + stride + " and batch " + batch : "") + " spans " + extent
                    + " elements, but the tensor " + Tensor.shapeString(t.shape()) + " has only " + t.size());
        }
    }

    /** f1 + f2 columns of a concatenation, which must fit in the int the kernels take. */
    private static int sumOfColumns(String op, int f1, int f2) {
        try {
            return Math.addExact(f1, f2);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(op + ": " + f1 + " + " + f2 + " columns is more than the "
                    + Integer.MAX_VALUE + " an int dimension holds", e);
        }
    }

    /** The 4H columns of LSTM gates (f, g, i, o), which must fit in an int dimension. */
    private static int gateColumns(String op, int h) {
        try {
            return Math.multiplyExact(4, h);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(op + ": H = " + h + " gives 4H = " + 4L * h + " gate columns, more than "
                    + "the " + Integer.MAX_VALUE + " an int dimension holds", e);
        }
    }

    /** The 3H columns of GRU gates (z, r, h), which must fit in an int dimension. */
    private static int gruColumns(String op, int h) {
        try {
            return Math.multiplyExact(3, h);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(op + ": H = " + h + " gives 3H = " + 3L * h + " gate columns, more than "
                    + "the " + Integer.MAX_VALUE + " an int dimension holds", e);
        }
    }

    /** The element count of an id tensor as the int row count the kernels take. */
    private static int rows(String op, String name, Tensor ids) {
        if (ids.size() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + name + " " + Tensor.shapeString(ids.shape()) + " has "
                    + ids.size() + " ids, more than the " + Integer.MAX_VALUE + " rows a kernel takes");
        }
        return (int) ids.size();
    }

    private static void noOverlap(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (a.overlaps(b)) {
            throw new IllegalArgumentException(op + ": " + nameA + " and " + nameB + " overlap in memory; "
                    + nameA + " must be a separate buffer");
        }
    }

    /**
     * An elementwise output that may be its input itself (in place: each element is read before it is written) but
     * not part of it: an output shifted against its input would read elements the kernel has already written.
     */
    private static void inPlaceOrApart(String op, String nameOut, Tensor out, String nameIn, Tensor in) {
        boolean same = out.segment().heapBase().equals(in.segment().heapBase())
                && out.segment().address() == in.segment().address() && out.byteSize() == in.byteSize();
        if (!same && out.overlaps(in)) {
            throw new IllegalArgumentException(op + ": " + nameOut + " and " + nameIn + " overlap in memory without "
                    + "being the same elements; " + nameOut + " must be " + nameIn + " itself (in place) or a separate "
                    + "buffer");
        }
    }


    /**
     * Every id lies in [0, bound), or is -1 where ignorable. Host tensors are checked here, before any
     * native call; device tensors cannot be read cheaply, so device kernels skip such ids and report them
     * (see {@link #checkDeviceIds}).
     */
    private void idsInRange(String op, String name, Tensor ids, int bound, boolean allowIgnore) {
        if (!ID_OPERATIONS.contains(op)) {   // every backend's tests reach here: a new operation cannot be missed
            throw new IllegalStateException(op + " checks ids but is not in AbstractBackend.ID_OPERATIONS");
        }
        if (!ids.device().isHost()) {
            checkDeviceIds(op, name, ids, bound, allowIgnore);
            return;
        }
        hostIdsInRange(op, name, ids, bound, allowIgnore);
    }

    /** The host check itself: reads every id of {@code ids} (memory the host can read), throws at the first bad one. */
    static void hostIdsInRange(String op, String name, Tensor ids, int bound, boolean allowIgnore) {
        MemorySegment s = ids.segment();
        long size = ids.size();
        for (long i = 0; i < size; i++) {
            int id = s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i);
            if ((id < 0 || id >= bound) && !(allowIgnore && id == -1)) {
                throw badId(op, name, i, id, bound, allowIgnore);
            }
        }
    }

    /**
     * The exception for name[i] = id outside [0, bound) (and not the ignore label -1 where allowIgnore): the check's,
     * and a host kernel's that reads the id again and finds it changed since (by another thread), as Backend says.
     */
    static IndexOutOfBoundsException badId(String op, String name, long i, int id, int bound, boolean allowIgnore) {
        return new IndexOutOfBoundsException(op + ": " + name + "[" + i + "] = " + id + " is outside [0, "
                + bound + ")" + (allowIgnore ? " and is not the ignore label -1" : "")
                + (name.equals("labels") ? " (the vocabulary size)" : " (the number of rows of the table)"));
    }

    /**
     * The operations whose ids or labels {@link #checkDeviceIds} may be asked about: a device backend maps each to
     * the kernel that checks them (and tests that it knows every one, without a device).
     */
    protected static final Set<String> ID_OPERATIONS = Set.of("embeddingForward", "embeddingBackward",
            "lstmSequenceForward", "softmaxCrossEntropyForward", "softmaxCrossEntropyBackward");

    /**
     * Hook for backends whose id tensors live off the host, called by the public methods of {@link #ID_OPERATIONS}
     * instead of the host's range check (which would read device memory), before the K method, and also where no K
     * method follows (no ids, or a zero extent). It may not read the ids: it arranges that the kernel checks them,
     * skipping every id outside [0, bound) (and not the ignored -1 where allowIgnore) and reporting it as the
     * IndexOutOfBoundsException the host check throws, at the latest at the next synchronising call
     * (copyOut, item, synchronize). The default refuses with IllegalStateException: a backend on another device must
     * say how it guards its kernels.
     *
     * @param op          the public method, one of ID_OPERATIONS
     * @param name        the argument's name (ids or labels)
     * @param ids         the I32 ids, in device memory
     * @param bound       the exclusive upper bound (rows of the table, or classes)
     * @param allowIgnore whether -1 (an ignored label) is allowed
     */
    protected void checkDeviceIds(String op, String name, Tensor ids, int bound, boolean allowIgnore) {
        throw new IllegalStateException(op + ": " + name + " lives on " + ids.device() + " and " + name()
                + " has no device-side id check");
    }
}
