// The kernel set of seq4j: everything the book's layers and optimizers need, on one device.
//
// Conventions (every implementation, every kernel):
// - Arguments come in the order outputs, then values saved for backward, then inputs, then scalars.
//   Gradients carry a d prefix. The shape of every tensor argument is given in its comment, with the
//   book's letters: N batch, T time steps, D input features, H hidden size, V vocabulary, M rows.
// - Sequences are time-major inside layers: (T, N, F), so step t is the contiguous block (N, F).
// - Outputs are written (=) unless the comment says += (accumulate). Parameter gradients accumulate;
//   the optimizer step zeroes them. An output may alias an input only where the comment says so.
// - Arguments are checked once, in AbstractBackend (shapes, dtypes, devices, live memory, index
//   ranges); implementations never re-check shapes. Ids and labels outside their range are an exception
//   before any native code runs (host tensors) or are skipped and reported by the device (CUDA); the
//   kernels (native and Java) check each id again where they use it (memory may change after the check),
//   never follow a bad one, and report it as the same IndexOutOfBoundsException.
// - Zero extents, the same on every backend (decided in AbstractBackend): any extent may be 0. A kernel
//   whose outputs are all empty does nothing. An output that is a sum over an empty extent is 0: sumRows
//   with no rows gives beta * out, weightSumForward with T = 0 gives c = 0, attentionWeightBackward with
//   T = 0 gives dh = 0, weightSumBackward with H = 0 gives da = 0, sumOfSquares and mseForward of no
//   elements give 0, and softmaxCrossEntropyForward with no counted rows (M = 0, V = 0, or every label -1)
//   gives loss 0 (the mean is taken over max(count, 1) rows). The one refusal: argmaxRows over zero
//   columns has no answer and throws IllegalArgumentException. gemm with M or N = 0 does nothing, with
//   K = 0 it gives C = beta C.
package org.seq4j.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;

/**
 * Threads: a Backend is safe to share between threads. Its kernels keep no per-call state in the backend
 * (results land only in the tensors passed in), and a result never depends on what other threads are
 * doing: work is split by shapes and the backend's thread count only (on the CPU a call that finds the
 * native pool busy with another thread's call runs the same parts one after another on its own thread).
 * Two threads may run kernels at once on separate tensors; two threads writing the same tensor, or one
 * writing what another reads, is the caller's race, as for any memory. What a backend does not make safe
 * is the objects built on it: models, their workspaces, optimizers and trainers are confined to one thread
 * at a time (see {@code Model}).
 *
 * <p>Lifetime: {@link #close()} releases the backend; afterwards every kernel call, copy and
 * {@link #allocate} throws IllegalStateException("... backend NAME is closed"), including those a model
 * built on the backend makes on its next forward. Closing again does nothing. Close a backend only when
 * no other thread is inside one of its calls.
 *
 * <p>Errors: every method checks its arguments before any kernel runs. A wrong shape, dtype or device, a
 * tensor on the Java heap given to a kernel that cannot read it, or overlapping memory where separate buffers
 * are needed, is an IllegalArgumentException whose message names the method and the argument; a closed backend,
 * or a tensor or segment whose arena is closed or confined to another thread, is an IllegalStateException; a null
 * argument (a tensor, an array, a segment, a Transpose, an arena) a NullPointerException naming the method and the
 * argument, except where a parameter says it may be null. Shapes
 * below use the book's letters: N batch, T time steps, D input features, H hidden size, V vocabulary, M rows.
 */
public interface Backend extends AutoCloseable {

    /**
     * Short name used on the command line and in logs.
     *
     * @return java, openblas or cuda
     */
    String name();

    /**
     * Where this backend's tensors live.
     *
     * @return CPU or CUDA
     */
    Device device();

    /**
     * One line on what this backend runs on (library, version, threads, GPU), for logs.
     *
     * @return the description
     */
    String description();

    // ---- memory ----------------------------------------------------------------------------------------

    /**
     * A zero-filled tensor on this backend's device whose memory is released when {@code arena} closes.
     *
     * @param arena where the memory's lifetime belongs
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return the new tensor
     * @throws IllegalArgumentException if a dimension is negative, or the byte size overflows a long or is over 2^57
     *                                  (more than any 64-bit platform can address: refused, where a smaller request
     *                                  is tried)
     * @throws IllegalStateException    if the backend or the arena is closed, or the arena is confined to another
     *                                  thread
     */
    Tensor allocate(Arena arena, DType dtype, int... shape);

    /**
     * dst = src, element for element; any shapes of equal size, same dtype, separate memory.
     *
     * @param dst the destination
     * @param src the source
     * @throws IllegalArgumentException if sizes or dtypes differ or the two overlap
     */
    void copy(Tensor dst, Tensor src);

    /**
     * Copies a host array into a float32 tensor on this device.
     *
     * @param dst the destination, float32
     * @param src exactly {@code dst.size()} elements, row-major
     * @throws IllegalArgumentException if dst is not float32 or the length differs
     */
    void copyIn(Tensor dst, float[] src);

    /**
     * Copies a host array into an int32 tensor on this device.
     *
     * @param dst the destination, int32
     * @param src exactly {@code dst.size()} elements, row-major
     * @throws IllegalArgumentException if dst is not int32 or the length differs
     */
    void copyIn(Tensor dst, int[] src);

    /**
     * Copies {@code src.byteSize()} host bytes (native or heap) into {@code dst}.
     *
     * @param dst the destination
     * @param src host memory of exactly {@code dst.byteSize()} bytes
     * @throws IllegalArgumentException if the byte sizes differ
     * @throws IllegalStateException    if src's arena is closed
     */
    void copyIn(Tensor dst, MemorySegment src);

    /**
     * Copies a float32 tensor on this device out into a host array.
     *
     * @param dst exactly {@code src.size()} elements
     * @param src the source, float32
     * @throws IllegalArgumentException if src is not float32 or the length differs
     */
    void copyOut(float[] dst, Tensor src);

    /**
     * Copies an int32 tensor on this device out into a host array.
     *
     * @param dst exactly {@code src.size()} elements
     * @param src the source, int32
     * @throws IllegalArgumentException if src is not int32 or the length differs
     */
    void copyOut(int[] dst, Tensor src);

    /**
     * Copies a tensor on this device out into host memory (native or heap).
     *
     * @param dst host memory of exactly {@code src.byteSize()} bytes, writable
     * @param src the source
     * @throws IllegalArgumentException if the byte sizes differ or dst is read-only
     * @throws IllegalStateException    if dst's arena is closed
     */
    void copyOut(MemorySegment dst, Tensor src);

    /**
     * Reads one element of a float32 tensor to the host (a synchronisation point on GPU).
     *
     * @param x     a float32 tensor
     * @param index the flat, row-major index
     * @return the element
     * @throws IndexOutOfBoundsException if index is outside {@code [0, x.size())}
     */
    float item(Tensor x, long index);

    /** Waits until all work queued on this backend has finished (nothing to wait for on CPU). */
    void synchronize();

    // ---- elementwise -----------------------------------------------------------------------------------

    /**
     * x[i] = value for every element (float32, or int32 when value is integral).
     *
     * @param x     the tensor to fill
     * @param value the value
     * @throws IllegalArgumentException if x is int32 and value is not an int32 value (an integer in
     *                                  {@code [-2^31, 2^31 - 1]}; 2^31 itself is refused, not clamped)
     */
    void fill(Tensor x, float value);

    /**
     * x *= alpha.
     *
     * @param x     a float32 tensor, any shape
     * @param alpha the factor
     */
    void scale(Tensor x, float alpha);

    /**
     * y += alpha * x, any shapes of equal size (BLAS's axpy, its output first like every operation here).
     *
     * @param y     float32, accumulated
     * @param x     float32, same size
     * @param alpha the factor
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void addScaled(Tensor y, Tensor x, float alpha);

    /**
     * y += alpha * x: {@link #addScaled(Tensor, Tensor, float) addScaled(y, x, alpha)} under BLAS's name and
     * argument order, which put the output last, against every other operation here.
     *
     * @param alpha the factor
     * @param x     float32
     * @param y     float32, accumulated
     * @throws IllegalArgumentException as addScaled
     * @deprecated use {@link #addScaled(Tensor, Tensor, float)}, output first
     */
    @Deprecated(since = "0.1.0", forRemoval = true)
    default void axpy(float alpha, Tensor x, Tensor y) {
        addScaled(y, x, alpha);
    }

    /**
     * out = a * b element-wise; out may alias a or b.
     *
     * @param out float32, written
     * @param a   float32, same size
     * @param b   float32, same size
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void mul(Tensor out, Tensor a, Tensor b);

    /**
     * out (T, N, F) = in (N, T, F) with the first two axes swapped; any 4-byte dtype; rank 2 means F = 1.
     *
     * @param out (T, N, F) or (T, N), same dtype as in, separate memory
     * @param in  (N, T, F) or (N, T)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void swapAxes01(Tensor out, Tensor in);

    /**
     * out (M, F1+F2) = [a (M, F1) | b (M, F2)], columns side by side.
     *
     * @param out (M, F1 + F2)
     * @param a   (M, F1)
     * @param b   (M, F2)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void concatColumns(Tensor out, Tensor a, Tensor b);

    /**
     * da (M, F1) = dout[:, :F1], db (M, F2) = dout[:, F1:]; the inverse of concatColumns.
     *
     * @param da   (M, F1)
     * @param db   (M, F2)
     * @param dout (M, F1 + F2)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void splitColumns(Tensor da, Tensor db, Tensor dout);

    // ---- BLAS ------------------------------------------------------------------------------------------

    /**
     * C = alpha * op(A) * op(B) + beta * C, all row-major, like cblas_sgemm with CblasRowMajor.
     * op(A) is (m, k), op(B) is (k, n), C is (m, n). lda, ldb, ldc are the row strides in elements of the
     * matrices as stored; each tensor is read as a flat buffer that must hold the whole strided matrix.
     * With beta = 0, C is not read (it may hold NaN); with alpha = 0, neither A nor B is (C = beta C). Host tensors may lie on the Java heap on the java and
     * openblas backends (see {@link Tensor#wrap(float[], int...)}).
     *
     * @param transA whether A is used transposed
     * @param transB whether B is used transposed
     * @param m      rows of op(A) and C
     * @param n      columns of op(B) and C
     * @param k      columns of op(A), rows of op(B); 0 gives C = beta C
     * @param alpha  the product's factor
     * @param a      float32 holding A as stored: (m, k), or (k, m) when transposed, with row stride lda
     * @param lda    A's row stride in elements, at least {@code max(1, its stored columns)}
     * @param b      float32 holding B as stored: (k, n), or (n, k) when transposed
     * @param ldb    B's row stride in elements
     * @param beta   C's factor
     * @param c      float32 holding C (m, n) with row stride ldc; must not overlap a or b
     * @param ldc    C's row stride in elements
     * @throws IllegalArgumentException if a dimension is negative, a stride too small, a matrix does not fit in its
     *                                  tensor, or C overlaps A or B
     */
    void gemm(Transpose transA, Transpose transB, int m, int n, int k,
              float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc);

    /**
     * gemm over {@code batch} matrices: matrix i of A starts strideA elements after matrix i-1 (same for B
     * and C). Used where each batch row owns one small product, e.g. (T, H) times (H,) per sequence.
     *
     * @param transA  whether each A is used transposed
     * @param transB  whether each B is used transposed
     * @param m       rows of op(A) and C
     * @param n       columns of op(B) and C
     * @param k       columns of op(A), rows of op(B); 0 gives C = beta C for every matrix, and A and B, then
     *                empty, are not read: as gemm's lda and ldb, strideA and strideB need not keep them inside a and b
     * @param alpha   the products' factor
     * @param a       float32 holding the batch of A
     * @param lda     row stride of each A
     * @param strideA elements from one A to the next ({@code >= 0}; 0 reuses one A)
     * @param b       float32 holding the batch of B
     * @param ldb     row stride of each B
     * @param strideB elements from one B to the next
     * @param beta    C's factor
     * @param c       float32 holding the batch of C; the C matrices must not overlap each other, A or B
     * @param ldc     row stride of each C
     * @param strideC elements from one C to the next: at least (m - 1) ldc + n (one after another), or at least n with
     *                (batch - 1) strideC + n at most ldc (side by side in each row: interleaved outputs)
     * @param batch   the number of products ({@code >= 0})
     * @throws IllegalArgumentException as gemm, or if a stride or batch is negative or the C matrices overlap
     */
    void gemmStridedBatched(Transpose transA, Transpose transB, int m, int n, int k,
                            float alpha, Tensor a, int lda, long strideA, Tensor b, int ldb, long strideB,
                            float beta, Tensor c, int ldc, long strideC, int batch);

    /**
     * A matrix of K rows and N columns in this backend's packed layout, not yet filled: {@link #pack} fills it,
     * {@link #gemmPacked} multiplies by it. Its memory comes from {@code arena}.
     *
     * @param arena     owns the packed storage
     * @param rows      K, at least 0
     * @param cols      N, at least 0
     * @param precision how the weights are kept (BF16 changes results: opt-in only)
     * @return an unfilled packed matrix owned by this backend
     * @throws IllegalArgumentException if a dimension is negative or the storage is over 2^57 bytes (allocate)
     * @throws IllegalStateException    if the backend or the arena is closed, or the arena is confined to another
     *                                  thread
     */
    PackedMatrix packedMatrix(Arena arena, int rows, int cols, PackedMatrix.Precision precision);

    /**
     * Packs op(w) into dst: w (K, N), or (N, K) when transposed, contiguous float32. dst keeps these values until
     * the next pack (a snapshot; pack again after w changes).
     *
     * @param dst   a packed matrix of this backend, (K, N)
     * @param trans whether w is used transposed
     * @param w     the weights
     * @throws IllegalArgumentException if dst belongs to another backend or op(w) is not (K, N)
     */
    void pack(PackedMatrix dst, Transpose trans, Tensor w);

    /**
     * Packs op(w) into dst, w read as a row-major matrix with row stride ldw in the style of {@link #gemm}: (K, N)
     * with ldw >= N, or (N, K) with ldw >= K when transposed; w is a flat buffer that must hold the whole strided
     * matrix (its shape is not read), e.g. a {@link Tensor#flatSlice} from a column block of a wider matrix.
     * {@link #pack(PackedMatrix, Transpose, Tensor)} is this with w contiguous.
     *
     * @param dst   a packed matrix of this backend, (K, N)
     * @param trans whether w is used transposed
     * @param w     the weights, float32
     * @param ldw   elements from one row of w as stored to the next
     * @throws IllegalArgumentException if dst belongs to another backend, ldw is smaller than a row of w, or the
     *                                  strided matrix does not fit in w
     */
    void pack(PackedMatrix dst, Transpose trans, Tensor w, int ldw);

    /**
     * c (M, N) = a (M, K) B + beta c, B packed: the same product as {@code gemm(NO, NO, M, N, K, 1, a, K, B, N,
     * beta, c, N)} for F32 (within float rounding of a different order of additions); BF16 multiplies the
     * bfloat16-rounded weights in float32. With beta = 0, c is not read.
     *
     * @param c    (M, N) float32, contiguous; must not overlap a
     * @param a    (M, K) float32, contiguous
     * @param b    a packed matrix of this backend, (K, N), packed
     * @param beta c's factor
     * @throws IllegalArgumentException if the shapes do not agree or b belongs to another backend
     * @throws IllegalStateException if b was never packed
     */
    void gemmPacked(Tensor c, Tensor a, PackedMatrix b, float beta);

    /**
     * c (M, N) = a (M, K) B + beta c, B packed, with a and c row-major at row strides lda and ldc in the style of
     * {@link #gemm}: the same product as {@code gemm(NO, NO, M, N, K, 1, a, lda, B, N, beta, c, ldc)} (F32, up to
     * the order of additions). a and c are flat buffers that must hold their whole strided matrices, e.g. the
     * columns [j, j + N) of an (M, ldc) matrix as a {@link Tensor#flatSlice} from element j; elements of c between
     * its rows are neither read nor written. {@link #gemmPacked(Tensor, Tensor, PackedMatrix, float)} is this
     * with contiguous a and c.
     *
     * @param m    M, at least 0
     * @param c    float32, holding (M, N) at row stride ldc; must not overlap a
     * @param ldc  elements from one row of c to the next, at least N
     * @param a    float32, holding (M, K) at row stride lda
     * @param lda  elements from one row of a to the next, at least max(1, K)
     * @param b    a packed matrix of this backend, (K, N), packed
     * @param beta c's factor
     * @throws IllegalArgumentException if m is negative, a leading dimension is too small, a matrix does not fit
     *                                  in its tensor or b belongs to another backend
     * @throws IllegalStateException    if b was never packed
     */
    void gemmPacked(int m, Tensor c, int ldc, Tensor a, int lda, PackedMatrix b, float beta);

    /**
     * c (M, N) = alpha * op(a) * op(b) + beta * c for contiguous 2-D tensors; the dimensions come from the
     * shapes. The usual way layers call gemm.
     *
     * @param transA whether a is used transposed
     * @param transB whether b is used transposed
     * @param alpha  the product's factor
     * @param a      (M, K), or (K, M) when transposed
     * @param b      (K, N), or (N, K) when transposed
     * @param beta   c's factor
     * @param c      (M, N)
     * @throws IllegalArgumentException if a tensor is not 2-D or the shapes do not agree
     */
    default void matmul(Transpose transA, Transpose transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        java.util.Objects.requireNonNull(transA, "matmul: transA is null");
        java.util.Objects.requireNonNull(transB, "matmul: transB is null");
        java.util.Objects.requireNonNull(a, "matmul: a is null");
        java.util.Objects.requireNonNull(b, "matmul: b is null");
        java.util.Objects.requireNonNull(c, "matmul: c is null");
        if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2) {
            throw new IllegalArgumentException("matmul needs 2-D tensors, got a " + a + ", b " + b + ", c " + c);
        }
        int m = transA.isTransposed() ? a.dim(1) : a.dim(0);
        int k = transA.isTransposed() ? a.dim(0) : a.dim(1);
        int kb = transB.isTransposed() ? b.dim(1) : b.dim(0);
        int n = transB.isTransposed() ? b.dim(0) : b.dim(1);
        if (k != kb || c.dim(0) != m || c.dim(1) != n) {
            throw new IllegalArgumentException("matmul shapes do not agree: op(a) is (" + m + ", " + k + "), op(b) is ("
                    + kb + ", " + n + "), c is " + Tensor.shapeString(c.shape()) + "; expected c (" + m + ", " + n
                    + ") and equal inner dimensions");
        }
        // a row stride is at least 1 even for a matrix with no columns (k = 0: C = beta * C)
        gemm(transA, transB, m, n, k, alpha, a, Math.max(1, a.dim(1)), b, Math.max(1, b.dim(1)), beta, c,
                Math.max(1, c.dim(1)));
    }

    /**
     * y (M, N) += b (N,), broadcast over rows.
     *
     * @param y (M, N), accumulated
     * @param b (N,)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void addBias(Tensor y, Tensor b);

    /**
     * out (N,) = beta * out + sum over rows of x (M, N). beta = 1 accumulates a bias gradient.
     *
     * @param out  (N,)
     * @param x    (M, N)
     * @param beta out's factor (0 overwrites)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void sumRows(Tensor out, Tensor x, float beta);

    // ---- activations -----------------------------------------------------------------------------------

    /**
     * y = 1 / (1 + exp(-x)); y may alias x. Where the exact result is subnormal (x below about -87.3), a native
     * backend's exp may give 0 where the Java reference gives the subnormal: an absolute difference below 1.2E-38,
     * within every conformance tolerance. The same holds for the activated gates of the fused LSTM and GRU cells, where
     * a gate's product with a state of magnitude S then differs by up to S * 1.2E-38: only past 1E30 or so does that
     * show (and with an infinite state, NaN where the reference keeps the infinity: 0 * Infinity).
     *
     * @param y float32, same size as x
     * @param x float32
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void sigmoidForward(Tensor y, Tensor x);

    /**
     * dx = dy * y * (1 - y); dx may alias dy.
     *
     * @param dx float32, written
     * @param y  the forward output
     * @param dy the incoming gradient
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void sigmoidBackward(Tensor dx, Tensor y, Tensor dy);

    /**
     * y = tanh(x); y may alias x. With one GEMM before it, this is the RNN cell: h = tanh(x Wx + h Wh + b).
     *
     * @param y float32, same size as x
     * @param x float32
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void tanhForward(Tensor y, Tensor x);

    /**
     * dx = dy * (1 - y^2); dx may alias dy. The RNN cell's backward.
     *
     * @param dx float32, written
     * @param y  the forward output
     * @param dy the incoming gradient
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void tanhBackward(Tensor dx, Tensor y, Tensor dy);

    /**
     * y (M, V) = softmax of each row of x (M, V); y may alias x.
     *
     * @param y (M, V)
     * @param x (M, V)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void softmaxForward(Tensor y, Tensor x);

    /**
     * dx (M, V) = y * (dy - sum(y * dy, row)); dx may alias dy.
     *
     * @param dx (M, V)
     * @param y  (M, V), the forward output
     * @param dy (M, V), the incoming gradient
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void softmaxBackward(Tensor dx, Tensor y, Tensor dy);

    // ---- recurrent cells -------------------------------------------------------------------------------

    /**
     * One LSTM step after its GEMMs, fused into one pass.
     * gates (N, 4H): in, the pre-activation A = x Wx + h_prev Wh + b sliced f, g, i, o;
     *                out, the activated gates sigmoid(f), tanh(g), sigmoid(i), sigmoid(o), kept for backward.
     * cNext (N, H) = f * cPrev + g * i;  hNext (N, H) = o * tanh(cNext).
     *
     * @param hNext (N, H), written
     * @param cNext (N, H), written
     * @param gates (N, 4H), read and overwritten with the activated gates
     * @param cPrev (N, H)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void lstmCellForward(Tensor hNext, Tensor cNext, Tensor gates, Tensor cPrev);

    /**
     * The LSTM step's backward, fused into one pass. Given the activated gates (N, 4H), cNext and cPrev
     * (N, H) from the forward pass and the incoming dhNext, dcNext (N, H):
     * dA (N, 4H) = the gradient of the pre-activation, sliced f, g, i, o;  dcPrev (N, H) = ds * f.
     * dcPrev must be a separate buffer from dcNext (the native kernels promise the compiler no overlap).
     *
     * @param dA     (N, 4H), written; separate from gates
     * @param dcPrev (N, H), written
     * @param gates  (N, 4H), the activated gates from lstmCellForward
     * @param cNext  (N, H)
     * @param cPrev  (N, H)
     * @param dhNext (N, H)
     * @param dcNext (N, H)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void lstmCellBackward(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                          Tensor dhNext, Tensor dcNext);

    // The GRU of the book's appendix, gates sliced z, r, h (update, reset, candidate) in Wx (D, 3H), Wh (H, 3H),
    // b (3H,):  z = sigmoid(x Wxz + h Whz + bz),  r = sigmoid(x Wxr + h Whr + br),
    //           hhat = tanh(x Wxh + (r * h) Whh + bh),  h_next = (1 - z) * h + z * hhat.
    // The reset gate multiplies h BEFORE Whh, so a step is: GEMM h Wh[:, :2H] into gates[:, :2H]; gruGatesForward;
    // GEMM (r * h) Whh into gates[:, 2H:]; gruCellForward. Backward runs gruCellBackward; GEMM
    // drh = dA[:, 2H:] Whh^T; gruGatesBackward; GEMM dh_prev += dA[:, :2H] Wh[:, :2H]^T.

    /**
     * The GRU step's first fused kernel: the update and reset gates, and the reset hidden state.
     * gates (N, 3H): in, columns [0, 2H) hold the pre-activations of z and r (x Wx + h_prev Wh + b, sliced z, r);
     *                out, they hold sigmoid(z), sigmoid(r), kept for backward; columns [2H, 3H) are not touched.
     * rh (N, H) = r * hPrev, the left factor of the candidate's GEMM (r * h_prev) Whh.
     *
     * @param rh    (N, H), written: r * hPrev
     * @param gates (N, 3H), columns [0, 2H) read and overwritten with sigmoid(z), sigmoid(r)
     * @param hPrev (N, H)
     * @throws IllegalArgumentException if a shape differs from the above, a tensor is not float32, or two of rh,
     *         gates and hPrev overlap
     */
    void gruGatesForward(Tensor rh, Tensor gates, Tensor hPrev);

    /**
     * The GRU step's second fused kernel: the candidate and the new hidden state.
     * gates (N, 3H): columns [0, 2H) hold sigmoid(z), sigmoid(r) (from gruGatesForward); columns [2H, 3H) hold,
     *                in, the candidate's pre-activation x Wxh + (r * h_prev) Whh + bh and, out, hhat = its tanh.
     * hNext (N, H) = (1 - z) * hPrev + z * hhat.
     *
     * @param hNext (N, H), written
     * @param gates (N, 3H), columns [2H, 3H) read and overwritten with hhat
     * @param hPrev (N, H)
     * @throws IllegalArgumentException if a shape differs from the above, a tensor is not float32, or two of
     *         hNext, gates and hPrev overlap
     */
    void gruCellForward(Tensor hNext, Tensor gates, Tensor hPrev);

    /**
     * The backward of gruCellForward and of the update gate: from the activated gates (N, 3H) and hPrev (N, H)
     * of the forward and the incoming dhNext (N, H), writes the pre-activation gradients of z and of the
     * candidate, dA[:, 0:H] = dhNext (hhat - hPrev) z (1 - z) and dA[:, 2H:3H] = dhNext z (1 - hhat^2).
     * dA (N, 3H)'s reset columns [H, 2H) are not touched (gruGatesBackward writes them).
     *
     * @param dA     (N, 3H), columns [0, H) and [2H, 3H) written
     * @param gates  (N, 3H), the activated gates from the forward
     * @param hPrev  (N, H)
     * @param dhNext (N, H)
     * @throws IllegalArgumentException if a shape differs from the above, a tensor is not float32, or dA
     *         overlaps an input
     */
    void gruCellBackward(Tensor dA, Tensor gates, Tensor hPrev, Tensor dhNext);

    /**
     * The backward of gruGatesForward, once drh (N, H) = dA[:, 2H:] Whh^T, the gradient w.r.t. r * h_prev, is
     * known: dA[:, H:2H] = drh hPrev r (1 - r), and dhPrev (N, H) += dhNext (1 - z) + drh r (accumulates: the
     * caller adds dA[:, :2H] Wh[:, :2H]^T with one more GEMM). Only the reset columns of dA (N, 3H) are written.
     *
     * @param dA     (N, 3H), columns [H, 2H) written
     * @param dhPrev (N, H), accumulated (+=)
     * @param gates  (N, 3H), the activated gates from the forward
     * @param hPrev  (N, H)
     * @param dhNext (N, H)
     * @param drh    (N, H), the gradient w.r.t. r * hPrev
     * @throws IllegalArgumentException if a shape differs from the above, a tensor is not float32, or dA or
     *         dhPrev overlaps another argument
     */
    void gruGatesBackward(Tensor dA, Tensor dhPrev, Tensor gates, Tensor hPrev, Tensor dhNext, Tensor drh);

    /**
     * The GRU recurrence over T steps in one call: for s = 0 .. T-1, gates[s][:, :2H] += hs[s] Wh[:, :2H],
     * {@link #gruGatesForward} (rhs[s] = r * hs[s]), gates[s][:, 2H:] += rhs[s] Whh, {@link #gruCellForward} (hs[s+1]);
     * at s = 0 without the two products when {@code fromZero} (h_0 is zero: they would add zeros). The same result,
     * bit for bit, as that loop of {@link #gemmPacked(int, Tensor, int, Tensor, int, PackedMatrix, float)} (beta 1, row
     * stride 3H) and the two kernels on this backend; a backend may run it without a call per step (the CPU backend
     * splits the rows among its threads, each running its rows through every step).
     *
     * @param hs       (T+1, N, H): h_0 in hs[0] (read; zeros when fromZero), h_1 .. h_T written
     * @param gates    (T, N, 3H): x Wx + b of every step on entry (sliced z, r, hhat), the activated gates on return
     * @param rhs      (T, N, H), written: r * h_prev of every step (the backward's left factor of dWhh)
     * @param zr       Wh[:, :2H] (H, 2H), packed by this backend
     * @param hh       Whh = Wh[:, 2H:] (H, H), packed by this backend in zr's precision
     * @param fromZero whether the first step adds no products (h_0 is zero)
     * @throws IllegalArgumentException if a shape or dtype does not fit, a packed matrix belongs to another backend,
     *                                  the two differ in precision, or two of hs, gates, rhs and the packed weights
     *                                  share memory (the message names them)
     * @throws IllegalStateException if zr or hh was never packed
     */
    void gruSequenceForward(Tensor hs, Tensor gates, Tensor rhs, PackedMatrix zr, PackedMatrix hh, boolean fromZero);

    /**
     * The GRU backward over T steps in one call: dh0 = 0, then for s = T-1 .. 0 {@link #gruCellBackward} (dA[s] of z
     * and hhat), drh = dA[s][:, 2H:] Whh^T, {@link #gruGatesBackward} (dA[s] of r, into dh_prev), and dh_prev +=
     * dA[s][:, :2H] Wh[:, :2H]^T, where dh_prev is dhs[s-1] (holding that step's own output gradient on entry) or dh0.
     * The same result, bit for bit, as that loop of {@link #gemmPacked(int, Tensor, int, Tensor, int, PackedMatrix,
     * float)} (row stride 3H) and the two kernels on this backend; a backend may run it without a call per step.
     *
     * @param dA    (T, N, 3H), written: the gradient of every step's gate pre-activations (sliced z, r, hhat)
     * @param dh0   (N, H), written: the gradient of h_0
     * @param dhs   (T, N, H): each step's output gradient on entry; overwritten (dhs[s] ends as the whole gradient of
     *              h_{s+1}, the carried part included)
     * @param drh   (N, H), work: dA[s][:, 2H:] Whh^T of the step at hand
     * @param gates (T, N, 3H), the activated gates of the forward
     * @param hs    (T+1, N, H), the forward's states h_0 .. h_T
     * @param zrT   Wh[:, :2H]^T (2H, H), packed by this backend
     * @param hhT   Whh^T (H, H), packed by this backend in zrT's precision
     * @throws IllegalArgumentException if a shape or dtype does not fit, a packed matrix belongs to another backend,
     *                                  the two differ in precision, or an output shares memory with another argument
     * @throws IllegalStateException if zrT or hhT was never packed
     */
    void gruSequenceBackward(Tensor dA, Tensor dh0, Tensor dhs, Tensor drh, Tensor gates, Tensor hs, PackedMatrix zrT,
                             PackedMatrix hhT);
    /**
     * {@link #lstmCellBackward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)} with the incoming hidden
     * gradient in two parts (N, H), summed in the kernel: dhNext = dhOut + dhCarry, where dhOut is the gradient
     * of the layer's output at this step and dhCarry the one carried back from the step after (dA Wh^T). A
     * time loop so needs no copy of its output gradients to accumulate into. dhCarry is only read.
     *
     * @param dA      (N, 4H), written; separate from gates
     * @param dcPrev  (N, H), written
     * @param gates   (N, 4H), the activated gates from lstmCellForward
     * @param cNext   (N, H)
     * @param cPrev   (N, H)
     * @param dhOut   (N, H), the gradient of this step's output
     * @param dhCarry (N, H), the gradient carried back from the next step
     * @param dcNext  (N, H)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void lstmCellBackward(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                          Tensor dhOut, Tensor dhCarry, Tensor dcNext);

    /**
     * The LSTM recurrence over T steps in one call: for s = 0 .. T-1, gates[s] += hs[s] Wh (left out at s = 0 when
     * {@code fromZero}: the caller's h_0 is zero, so the product would add zeros), then the cell of
     * {@link #lstmCellForward} writes hs[s+1], cs[s+1] and activates gates[s] in place. The same result, bit for bit,
     * as that loop of {@link #gemmPacked(Tensor, Tensor, PackedMatrix, float)} (beta 1) and lstmCellForward on this
     * backend; a backend may run it without a call per step (the CPU backend splits the rows among its threads, each
     * running its rows through every step).
     *
     * @param hs       (T+1, N, H): h_0 in hs[0] (read), h_1 .. h_T written
     * @param cs       (T+1, N, H): c_0 in cs[0] (read), c_1 .. c_T written
     * @param gates    (T, N, 4H): x Wx + b of every step on entry, the activated gates (f, g, i, o) on return
     * @param wh       Wh (H, 4H), packed by this backend in either precision
     * @param fromZero whether the first step adds no product (h_0 is zero)
     * @throws IllegalArgumentException if a shape or dtype does not fit, wh belongs to another backend, or two of
     *                                  hs, cs, gates and wh share memory (the message names them)
     * @throws IllegalStateException if wh was never packed
     */
    void lstmSequenceForward(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero);

    /**
     * {@link #lstmSequenceForward(Tensor, Tensor, Tensor, PackedMatrix, boolean)} with the pre-activations looked up:
     * before step s, row r of gates[s] is set to row ids[s, r] of table, the folded input projection E Wx + b (V, 4H)
     * of a layer that reads token ids, so gates is only written. The same result, bit for bit, as
     * {@link #embeddingForward} of all T N ids into gates (viewed (T N, 4H)) followed by that call; a backend may
     * gather each step's rows just before its product reads them (the CPU backend does, in every part of its split,
     * so the T N rows are not written out to memory and read back).
     *
     * @param hs       (T+1, N, H): h_0 in hs[0] (read), h_1 .. h_T written
     * @param cs       (T+1, N, H): c_0 in cs[0] (read), c_1 .. c_T written
     * @param gates    (T, N, 4H), written: the activated gates (f, g, i, o) of every step
     * @param wh       Wh (H, 4H), packed by this backend in either precision
     * @param fromZero whether the first step adds no product (h_0 is zero)
     * @param table    (V, 4H) float32
     * @param ids      (T, N) int32, each in [0, V)
     * @throws IllegalArgumentException if a shape or dtype does not fit, wh belongs to another backend, or an output
     *                                  (hs, cs, gates) shares memory with another argument (the message names them)
     * @throws IndexOutOfBoundsException if an id is outside [0, V), naming its position
     * @throws IllegalStateException if wh was never packed
     */
    void lstmSequenceForward(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero, Tensor table,
                             Tensor ids);

    /**
     * The backward of {@link #lstmSequenceForward} over all T steps in one call: for s = T-1 .. 0,
     * {@link #lstmCellBackward} with dh = dhs[s] + the dh carried from step s+1 and dc from step s+1 (dcLast at the
     * last step) gives dA[s], then dh_{s-1} = dA[s] Wh^T is carried to step s-1. The same result, bit for bit, as that
     * loop on this backend. A caller that may not need the gradient of h_0 (an encoder's h_0 is no parameter) passes
     * dh0 = null: step 0's product is left out, and {@code gemmPacked(dh0, dA[0], whT, 0)} gives it later, the same
     * bits, while dA and whT are unchanged.
     *
     * @param dA     (T, N, 4H), written: the gate pre-activation gradients of every step
     * @param dh0    (N, H), written: the gradient w.r.t. h_0; or null: not computed
     * @param dc0    (N, H), written: the gradient w.r.t. c_0
     * @param work   (3, N, H), scratch, overwritten
     * @param gates  (T, N, 4H), the forward's activated gates
     * @param cs     (T+1, N, H), the forward's cell states, c_0 first
     * @param dhs    (T, N, H), the gradients of hs[1 .. T]; or null: dhLast at the last step, zero before it
     * @param dhLast (N, H), used when dhs is null (else ignored, may be null)
     * @param dcLast (N, H), the gradient arriving at c_T; or null for zero
     * @param whT    Wh^T (4H, H), packed by this backend
     * @throws IllegalArgumentException if a shape or dtype does not fit, whT belongs to another backend, or an output
     *                                  (dA, dh0, dc0, work) shares memory with another argument
     * @throws IllegalStateException if whT was never packed
     * @throws NullPointerException if dhs and dhLast are both null
     */
    void lstmSequenceBackward(Tensor dA, Tensor dh0, Tensor dc0, Tensor work, Tensor gates, Tensor cs, Tensor dhs,
                              Tensor dhLast, Tensor dcLast, PackedMatrix whT);

    // ---- embedding -------------------------------------------------------------------------------------

    /**
     * out (M, D) = W[ids] (gather of rows); ids (M,) int32 in [0, V).
     *
     * @param out (M, D)
     * @param W   (V, D)
     * @param ids (M,) int32
     * @throws IndexOutOfBoundsException if an id is outside [0, V), naming its position
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void embeddingForward(Tensor out, Tensor W, Tensor ids);

    /**
     * dW (V, D) += scatter of dout (M, D) into rows ids (M,); duplicate ids are summed.
     *
     * @param dW   (V, D), accumulated
     * @param ids  (M,) int32
     * @param dout (M, D)
     * @throws IndexOutOfBoundsException if an id is outside [0, V), naming its position
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void embeddingBackward(Tensor dW, Tensor ids, Tensor dout);

    // ---- losses ----------------------------------------------------------------------------------------

    /**
     * probs (M, V) = softmax(logits) per row; loss (1,) = -sum(log probs[r, labels[r]]) / count over the rows
     * whose label is not -1 (count = at least 1). labels (M,) int32 in [0, V) or -1 (ignored). probs may
     * alias logits.
     *
     * @param probs  (M, V), written
     * @param loss   (1,), the mean loss in nats
     * @param logits (M, V)
     * @param labels (M,) int32
     * @throws IndexOutOfBoundsException if a label is outside [0, V) and not -1
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void softmaxCrossEntropyForward(Tensor probs, Tensor loss, Tensor logits, Tensor labels);

    /**
     * dlogits (M, V) = (probs - onehot(labels)) * dloss / count, and 0 on ignored rows (label -1).
     * dlogits may alias probs.
     *
     * @param dlogits (M, V), written
     * @param probs   (M, V) from the forward pass
     * @param labels  (M,) int32
     * @param dloss   the loss's incoming gradient (1 for a plain mean)
     * @throws IndexOutOfBoundsException if a label is outside [0, V) and not -1
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void softmaxCrossEntropyBackward(Tensor dlogits, Tensor probs, Tensor labels, float dloss);

    /**
     * loss (1,) = scale * sum((y - t)^2) over all elements of y and t (same shape).
     *
     * @param loss  (1,)
     * @param y     the prediction
     * @param t     the target, same shape
     * @param scale the factor (e.g. 1 / count for a mean)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void mseForward(Tensor loss, Tensor y, Tensor t, float scale);

    /**
     * dy = 2 * scale * (y - t); the gradient of scale * sum((y - t)^2).
     *
     * @param dy    same shape as y, written
     * @param y     the prediction
     * @param t     the target
     * @param scale the forward pass's factor
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void mseBackward(Tensor dy, Tensor y, Tensor t, float scale);

    // ---- attention -------------------------------------------------------------------------------------

    /**
     * The book's AttentionWeight: s[n, t] = hs[t, n, :] . h[n, :], a (N, T) = softmax over t.
     * hs (T, N, H) is time-major encoder states, h (N, H) the decoder state.
     *
     * @param a  (N, T), the attention weights
     * @param hs (T, N, H)
     * @param h  (N, H)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void attentionWeightForward(Tensor a, Tensor hs, Tensor h);

    /**
     * Backward of attentionWeightForward: ds = a * (da - sum_t(a * da));
     * dhs[t, n, :] += ds[n, t] * h[n, :]  (accumulates);  dh[n, :] = sum_t ds[n, t] * hs[t, n, :]  (writes).
     *
     * @param dhs (T, N, H), accumulated
     * @param dh  (N, H), written
     * @param a   (N, T) from the forward pass
     * @param hs  (T, N, H)
     * @param h   (N, H)
     * @param da  (N, T), the incoming gradient
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void attentionWeightBackward(Tensor dhs, Tensor dh, Tensor a, Tensor hs, Tensor h, Tensor da);

    /**
     * The book's WeightSum: c[n, :] (N, H) = sum_t a[n, t] * hs[t, n, :], hs (T, N, H), a (N, T).
     *
     * @param c  (N, H), the context vectors
     * @param hs (T, N, H)
     * @param a  (N, T)
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void weightSumForward(Tensor c, Tensor hs, Tensor a);

    /**
     * Backward of weightSumForward: dhs[t, n, :] += a[n, t] * dc[n, :]  (accumulates);
     * da[n, t] = hs[t, n, :] . dc[n, :]  (writes).
     *
     * @param dhs (T, N, H), accumulated
     * @param da  (N, T), written
     * @param hs  (T, N, H)
     * @param a   (N, T)
     * @param dc  (N, H), the incoming gradient
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void weightSumBackward(Tensor dhs, Tensor da, Tensor hs, Tensor a, Tensor dc);

    /**
     * The book's TimeAttention over every decoder step in one call: for s = 0 .. T_dec-1,
     * {@link #attentionWeightForward}(a[s], hsEnc, hsDec[s]) then {@link #weightSumForward}(c[s], hsEnc, a[s]). The
     * same result, bit for bit, as that loop on this backend; a backend may run it without a call per step (the CPU
     * backend takes each sequence through every decoder step, so its encoder states are read from memory once).
     *
     * @param a     (T_dec, N, T_enc), written: the attention weights of every step
     * @param c     (T_dec, N, H), written: the contexts
     * @param hsEnc (T_enc, N, H), the encoder states
     * @param hsDec (T_dec, N, H), the decoder states
     * @throws IllegalArgumentException if a shape or dtype does not fit, or a or c shares memory with another
     *                                  argument (the message names them)
     */
    void timeAttentionForward(Tensor a, Tensor c, Tensor hsEnc, Tensor hsDec);

    /**
     * The backward of {@link #timeAttentionForward}: dhsEnc = 0, then for s = 0 .. T_dec-1
     * {@link #weightSumBackward}(dhsEnc, work, hsEnc, a[s], dc[s]) and
     * {@link #attentionWeightBackward}(dhsEnc, dhsDec[s], a[s], hsEnc, hsDec[s], work). The same result, bit for bit,
     * as that loop on this backend.
     *
     * @param dhsEnc (T_enc, N, H), written (not accumulated): the gradient w.r.t. the encoder states
     * @param dhsDec (T_dec, N, H), written: the gradient w.r.t. the decoder states
     * @param work   (N, T_enc), scratch, overwritten
     * @param a      (T_dec, N, T_enc), the forward's attention weights
     * @param hsEnc  (T_enc, N, H)
     * @param hsDec  (T_dec, N, H)
     * @param dc     (T_dec, N, H), the gradient w.r.t. the contexts
     * @throws IllegalArgumentException if a shape or dtype does not fit, or an output (dhsEnc, dhsDec, work) shares
     *                                  memory with another argument (the message names them)
     */
    void timeAttentionBackward(Tensor dhsEnc, Tensor dhsDec, Tensor work, Tensor a, Tensor hsEnc, Tensor hsDec,
                               Tensor dc);

    // ---- dropout ---------------------------------------------------------------------------------------

    /**
     * mask[i] = 1 / (1 - ratio) where u(seed, i) >= ratio, else 0; u is a counter-based uniform in [0, 1)
     * (SplitMix64 of seed and i), so every backend draws the identical mask for the same seed. u is a multiple of
     * 2^-24 (0 among them), so an element is kept with probability exactly 1 - ratio where ratio is such a multiple,
     * and ratio 0 keeps every element (the book's {@code rand > ratio} draws from doubles, where u = 0 is rare
     * enough; with 24 bits it is not: {@code > 0} dropped one element in 2^24).
     *
     * @param mask  float32, any shape
     * @param ratio the drop probability, in [0, 1)
     * @param seed  the stream; the same seed gives the same mask
     * @throws IllegalArgumentException if ratio is outside [0, 1)
     */
    void dropoutMask(Tensor mask, float ratio, long seed);

    // ---- optimizers: one call updates a whole flat parameter buffer ------------------------------------
    // A backend may flush subnormal values (below Float.MIN_NORMAL in magnitude) to zero in these updates, as the
    // openblas backend's kernels do: state that a zero gradient decays (momentum's v, RMSprop's h, Adam's m and v)
    // enters the subnormals and, rounding to nearest, stays there (the decay stalls a few units of 2^-149 above 0),
    // and on Intel cores every operation on a subnormal is a microcode assist (Adam over 150,576 parameters 1.6 ms
    // instead of 37 us, at every step). Such state then differs from the reference's by less than Float.MIN_NORMAL
    // (ConformanceTest.optimizerStateThroughTheSubnormals). A step whose numerator is subnormal (a subnormal gradient,
    // or lr * g, lr_t * m below Float.MIN_NORMAL) is dropped, where the reference takes it: with h or v near 0 that
    // step is up to its numerator / eps, so a parameter may differ from the reference's by up to
    // max(1, lr) * Float.MIN_NORMAL / eps a step (1.2E-31 at eps = 1e-7; SGD and momentum: max(1, lr) *
    // Float.MIN_NORMAL), which is below an ulp of any parameter 2^24 times larger than that
    // (ConformanceTest.subnormalGradientsStepsStayWithinTheirBound). The calling thread's own arithmetic keeps its
    // subnormals. With eps = 0 a flushed v or h makes the step divide by 0 where the reference divides by a tiny root:
    // give eps > 0 (every optimizer of seq4j-nn does).

    /**
     * param -= lr * grad.
     *
     * @param param the flat parameter buffer
     * @param grad  its gradient, same size
     * @param lr    the learning rate
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void sgdUpdate(Tensor param, Tensor grad, float lr);

    /**
     * v = momentum * v - lr * grad; param += v.
     *
     * @param param    the parameters
     * @param v        the velocity, same size
     * @param grad     the gradient
     * @param lr       the learning rate
     * @param momentum the velocity's decay
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void momentumUpdate(Tensor param, Tensor v, Tensor grad, float lr, float momentum);

    /**
     * h += grad^2; param -= lr * grad / (sqrt(h) + eps).
     *
     * @param param the parameters
     * @param h     the sum of squared gradients, same size
     * @param grad  the gradient
     * @param lr    the learning rate
     * @param eps   added to the root
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void adagradUpdate(Tensor param, Tensor h, Tensor grad, float lr, float eps);

    /**
     * h = decay * h + (1 - decay) * grad^2; param -= lr * grad / (sqrt(h) + eps).
     *
     * @param param the parameters
     * @param h     the running mean of squared gradients
     * @param grad  the gradient
     * @param lr    the learning rate
     * @param decay the mean's decay
     * @param eps   added to the root
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void rmspropUpdate(Tensor param, Tensor h, Tensor grad, float lr, float decay, float eps);

    /**
     * The book's Adam with the bias correction folded into lrT = lr * sqrt(1 - beta2^t) / (1 - beta1^t):
     * m += (1 - beta1) (grad - m); v += (1 - beta2) (grad^2 - v); param -= lrT * m / (sqrt(v) + eps).
     *
     * @param param the parameters
     * @param m     the first moment, same size
     * @param v     the second moment, same size
     * @param grad  the gradient
     * @param lrT   the step's corrected learning rate
     * @param beta1 the first moment's decay
     * @param beta2 the second moment's decay
     * @param eps   added to the root
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void adamUpdate(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2, float eps);

    /**
     * {@link #adamUpdate(Tensor, Tensor, Tensor, Tensor, float, float, float, float)}, then grad = 0 where zeroGrad:
     * for an optimizer that clears the gradients once applied (Optimizer.step). A backend may do both in one pass
     * over memory (the CPU backend's kernel does); by default, the update and then a fill. No two of param, m, v
     * and grad may share memory (each is written, or read after one is).
     *
     * @param param    the parameters
     * @param m        the first moment, same size
     * @param v        the second moment, same size
     * @param grad     the gradient; zero on return where zeroGrad
     * @param lrT      the step's corrected learning rate
     * @param beta1    the first moment's decay
     * @param beta2    the second moment's decay
     * @param eps      added to the root
     * @param zeroGrad whether to zero grad as well
     * @throws IllegalArgumentException if a shape, dtype or device does not fit, or two of param, m, v and grad
     *                                  overlap (the message names the arguments)
     */
    default void adamUpdate(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                            float eps, boolean zeroGrad) {
        adamUpdate(param, m, v, grad, lrT, beta1, beta2, eps);
        if (zeroGrad) {
            fill(grad, 0f);
        }
    }

    // ---- reductions ------------------------------------------------------------------------------------

    /**
     * out (1,) = sum of x^2 over all elements (accumulated in double where the backend can).
     *
     * @param out (1,)
     * @param x   float32, any shape
     * @throws IllegalArgumentException if a shape, dtype or device does not fit (the message names the argument)
     */
    void sumOfSquares(Tensor out, Tensor x);

    /**
     * ids (M,) int32 = index of the largest value in each row of x (M, V); the first one on ties. A row is scanned
     * left to right keeping the first value that no later one is greater than, so NaN (greater than nothing, and
     * nothing greater than it) wins in column 0 and is passed over elsewhere, on every backend (numpy's argmax takes
     * the first NaN instead).
     *
     * @param ids (M,) int32
     * @param x   (M, V)
     * @throws IllegalArgumentException if V = 0 (no answer), or a shape, dtype or device does not fit
     */
    void argmaxRows(Tensor ids, Tensor x);

    /**
     * Whether the backend is open: false from the moment {@link #close} begins, after which every method that touches
     * tensors or allocates throws IllegalStateException. For code that holds a backend it did not open (a model) and
     * wants to refuse in its own words.
     *
     * @return true until close
     */
    boolean isOpen();

    /**
     * Refuses {@code t} as argument {@code name} of this backend's method {@code op} would refuse it, and runs nothing:
     * null, a closed backend, memory that is closed, confined to another thread, on another device, owned by another
     * backend, or on the Java heap where op's kernel cannot read it. Shapes are op's own to check. For code that checks
     * a caller's tensor before it changes any state of its own: a layer's backward refused for its gradient leaves its
     * forward for a corrected call ({@code CallOrder}).
     *
     * @param op   the name of the public method that will read t, e.g. "sumRows" (the message names it)
     * @param name the argument's name in the message, e.g. "dout"
     * @param t    the tensor
     * @throws NullPointerException     if op, name or t is null
     * @throws IllegalStateException    if the backend is closed, or t's memory is closed or confined to another thread
     * @throws IllegalArgumentException if t is on another device, owned by another backend, or on the heap where op
     *                                  cannot read it
     */
    default void requireOperand(String op, String name, Tensor t) {
        java.util.Objects.requireNonNull(op, "requireOperand: op is null");
        java.util.Objects.requireNonNull(name, "requireOperand: name is null");
        if (t == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
    }

    /**
     * Releases what the backend holds (handles, streams, pools); afterwards every other method that touches
     * tensors or allocates throws IllegalStateException, and closing again does nothing. Tensors it allocated
     * die with their arenas.
     */
    @Override
    void close();
}
