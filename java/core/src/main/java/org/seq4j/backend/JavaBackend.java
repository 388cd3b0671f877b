// The reference backend: every kernel as plain scalar loops over host memory, written to be read and
// checked against the book's formulas, not to be fast. Every other backend is tested against this one.
// Sums (gemm, softmax, reductions) accumulate in double so that the reference is the more exact side.
package org.seq4j.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;

/**
 * The pure-Java reference backend: every kernel as plain scalar loops over host memory, sums in double.
 * Slow, single-threaded, and the standard every other backend is tested against. It takes tensors over Java
 * heap memory ({@code float[]}, {@code int[]}) for every kernel.
 */
public final class JavaBackend extends AbstractBackend {

    /** A new reference backend; it holds nothing native. */
    public JavaBackend() {
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String description() {
        return "pure-Java scalar reference, single-threaded";
    }

    /** Every kernel reads its tensors from Java, so heap memory (float[], int[]) is as good as native. */
    @Override
    protected boolean acceptsHeap(String op) {
        return true;
    }

    // ---- element access ---------------------------------------------------------------------------------

    private static float get(Tensor t, long i) {
        return t.segment().getAtIndex(JAVA_FLOAT, i);
    }

    private static void set(Tensor t, long i, float v) {
        t.segment().setAtIndex(JAVA_FLOAT, i, v);
    }

    private static int getInt(Tensor t, long i) {
        return t.segment().getAtIndex(JAVA_INT, i);
    }

    /**
     * ids[r], read once and checked where the kernel uses it: AbstractBackend checked every id before the kernel, but
     * another thread may have changed one since, and a kernel never follows a bad one (Backend's contract). The
     * caller uses the returned value only, never reads ids[r] again.
     *
     * @throws IndexOutOfBoundsException the check's, for an id outside [0, bound) that is not an allowed -1
     */
    private static int id(String op, String name, Tensor ids, long r, int bound, boolean allowIgnore) {
        int id = getInt(ids, r);
        if ((id < 0 || id >= bound) && !(allowIgnore && id == -1)) {
            throw AbstractBackend.badId(op, name, r, id, bound, allowIgnore);
        }
        return id;
    }

    private static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    private static float tanh(float x) {
        return (float) Math.tanh(x);
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
        return get(x, index);
    }

    @Override
    public void synchronize() {
    }

    // ---- elementwise -----------------------------------------------------------------------------------

    @Override
    protected void fillK(Tensor x, float value) {
        for (long i = 0; i < x.size(); i++) {
            if (x.dtype() == DType.I32) {
                x.segment().setAtIndex(JAVA_INT, i, (int) value);
            } else {
                set(x, i, value);
            }
        }
    }

    @Override
    protected void scaleK(Tensor x, float alpha) {
        for (long i = 0; i < x.size(); i++) {
            set(x, i, get(x, i) * alpha);
        }
    }

    @Override
    protected void addScaledK(Tensor y, Tensor x, float alpha) {
        for (long i = 0; i < y.size(); i++) {
            set(y, i, get(y, i) + alpha * get(x, i));
        }
    }

    @Override
    protected void mulK(Tensor out, Tensor a, Tensor b) {
        for (long i = 0; i < out.size(); i++) {
            set(out, i, get(a, i) * get(b, i));
        }
    }

    @Override
    protected void swapAxes01K(Tensor out, Tensor in, int n, int t, int f) {
        for (int ni = 0; ni < n; ni++) {
            for (int ti = 0; ti < t; ti++) {
                for (int fi = 0; fi < f; fi++) {
                    long from = ((long) ni * t + ti) * f + fi;
                    long to = ((long) ti * n + ni) * f + fi;
                    out.segment().setAtIndex(JAVA_INT, to, in.segment().getAtIndex(JAVA_INT, from));
                }
            }
        }
    }

    @Override
    protected void concatColumnsK(Tensor out, Tensor a, Tensor b, int m, int f1, int f2) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < f1; j++) {
                set(out, (long) r * (f1 + f2) + j, get(a, (long) r * f1 + j));
            }
            for (int j = 0; j < f2; j++) {
                set(out, (long) r * (f1 + f2) + f1 + j, get(b, (long) r * f2 + j));
            }
        }
    }

    @Override
    protected void splitColumnsK(Tensor da, Tensor db, Tensor dout, int m, int f1, int f2) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < f1; j++) {
                set(da, (long) r * f1 + j, get(dout, (long) r * (f1 + f2) + j));
            }
            for (int j = 0; j < f2; j++) {
                set(db, (long) r * f2 + j, get(dout, (long) r * (f1 + f2) + f1 + j));
            }
        }
    }

    // ---- BLAS ------------------------------------------------------------------------------------------

    @Override
    protected void gemmK(Transpose transA, Transpose transB, int m, int n, int k,
                         float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc) {
        gemmAt(transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc);
    }

    @Override
    protected void gemmStridedBatchedK(Transpose transA, Transpose transB, int m, int n, int k,
                                       float alpha, Tensor a, int lda, long strideA, Tensor b, int ldb, long strideB,
                                       float beta, Tensor c, int ldc, long strideC, int batch) {
        for (int p = 0; p < batch; p++) {
            gemmAt(transA, transB, m, n, k, alpha, a, p * strideA, lda, b, p * strideB, ldb, beta, c, p * strideC, ldc);
        }
    }

    /** One row of C in double, per thread, grown when needed: a steady training step allocates nothing. */
    private static final ThreadLocal<double[][]> GEMM_ROW = ThreadLocal.withInitial(() -> new double[1][0]);

    private static double[] gemmRow(int n) {
        double[][] holder = GEMM_ROW.get();
        if (holder[0].length < n) {
            holder[0] = new double[n];
        }
        return holder[0];
    }

    /**
     * C[i, j] = alpha * sum_l op(A)[i, l] * op(B)[l, j] + beta * C[i, j], each matrix at an element offset.
     * Row i of C is summed in double over l (outer) and j (inner), so that op(B)'s row l is read in order.
     */
    private static void gemmAt(Transpose transA, Transpose transB, int m, int n, int k,
                               float alpha, Tensor a, long offA, int lda, Tensor b, long offB, int ldb,
                               float beta, Tensor c, long offC, int ldc) {
        double[] row = gemmRow(n);
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(row, 0, n, 0);
            for (int l = 0; l < k; l++) {
                double av = transA.isTransposed() ? get(a, offA + (long) l * lda + i) : get(a, offA + (long) i * lda + l);
                for (int j = 0; j < n; j++) {
                    float bv = transB.isTransposed() ? get(b, offB + (long) j * ldb + l) : get(b, offB + (long) l * ldb + j);
                    row[j] += av * bv;
                }
            }
            for (int j = 0; j < n; j++) {
                long ci = offC + (long) i * ldc + j;
                // beta == 0 overwrites C without reading it, as BLAS does (C may hold NaN garbage)
                double old = beta == 0f ? 0 : (double) beta * get(c, ci);
                set(c, ci, (float) (alpha * row[j] + old));
            }
        }
    }

    @Override
    protected void addBiasK(Tensor y, Tensor b, int m, int n) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                long i = (long) r * n + j;
                set(y, i, get(y, i) + get(b, j));
            }
        }
    }

    @Override
    protected void sumRowsK(Tensor out, Tensor x, float beta, int m, int n) {
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int r = 0; r < m; r++) {
                sum += get(x, (long) r * n + j);
            }
            double old = beta == 0f ? 0 : (double) beta * get(out, j);
            set(out, j, (float) (old + sum));
        }
    }

    // ---- activations -----------------------------------------------------------------------------------

    @Override
    protected void sigmoidForwardK(Tensor y, Tensor x) {
        for (long i = 0; i < y.size(); i++) {
            set(y, i, sigmoid(get(x, i)));
        }
    }

    @Override
    protected void sigmoidBackwardK(Tensor dx, Tensor y, Tensor dy) {
        for (long i = 0; i < dx.size(); i++) {
            float yi = get(y, i);
            set(dx, i, get(dy, i) * yi * (1f - yi));
        }
    }

    @Override
    protected void tanhForwardK(Tensor y, Tensor x) {
        for (long i = 0; i < y.size(); i++) {
            set(y, i, tanh(get(x, i)));
        }
    }

    @Override
    protected void tanhBackwardK(Tensor dx, Tensor y, Tensor dy) {
        for (long i = 0; i < dx.size(); i++) {
            float yi = get(y, i);
            set(dx, i, get(dy, i) * (1f - yi * yi));
        }
    }

    @Override
    protected void softmaxForwardK(Tensor y, Tensor x, int m, int v) {
        for (int r = 0; r < m; r++) {
            long row = (long) r * v;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, get(x, row + j));
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(get(x, row + j) - max);
            }
            for (int j = 0; j < v; j++) {
                set(y, row + j, (float) (Math.exp(get(x, row + j) - max) / sum));
            }
        }
    }

    @Override
    protected void softmaxBackwardK(Tensor dx, Tensor y, Tensor dy, int m, int v) {
        for (int r = 0; r < m; r++) {
            long row = (long) r * v;
            double dot = 0;
            for (int j = 0; j < v; j++) {
                dot += (double) get(y, row + j) * get(dy, row + j);
            }
            for (int j = 0; j < v; j++) {
                set(dx, row + j, (float) (get(y, row + j) * (get(dy, row + j) - dot)));
            }
        }
    }

    // ---- recurrent cells -------------------------------------------------------------------------------

    @Override
    protected void lstmCellForwardK(Tensor hNext, Tensor cNext, Tensor gates, Tensor cPrev, int n, int h) {
        for (int r = 0; r < n; r++) {
            long g0 = (long) r * 4 * h;   // this row of gates: [f | g | i | o], each H wide
            for (int j = 0; j < h; j++) {
                float f = sigmoid(get(gates, g0 + j));
                float g = tanh(get(gates, g0 + h + j));
                float i = sigmoid(get(gates, g0 + 2 * h + j));
                float o = sigmoid(get(gates, g0 + 3 * h + j));
                set(gates, g0 + j, f);
                set(gates, g0 + h + j, g);
                set(gates, g0 + 2 * h + j, i);
                set(gates, g0 + 3 * h + j, o);

                long k = (long) r * h + j;
                float c = f * get(cPrev, k) + g * i;
                set(cNext, k, c);
                set(hNext, k, o * tanh(c));
            }
        }
    }

    @Override
    protected void lstmCellBackwardK(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                                     Tensor dhNext, Tensor dhCarry, Tensor dcNext, int n, int h) {
        // forward: c = f * cPrev + g * i, hNext = o * tanh(c). So with dh = dhNext (+ dhCarry) and ds = dL/dc
        // (both paths):
        //   ds = dcNext + dh * o * (1 - tanh(c)^2)
        //   dcPrev = ds * f,  df = ds * cPrev,  dg = ds * i,  di = ds * g,  do = dh * tanh(c)
        // and each through its activation: sigmoid' = y (1 - y), tanh' = 1 - y^2.
        for (int r = 0; r < n; r++) {
            long g0 = (long) r * 4 * h;
            for (int j = 0; j < h; j++) {
                long k = (long) r * h + j;
                float f = get(gates, g0 + j);
                float g = get(gates, g0 + h + j);
                float i = get(gates, g0 + 2 * h + j);
                float o = get(gates, g0 + 3 * h + j);
                float tanhC = tanh(get(cNext, k));
                float dh = dhCarry == null ? get(dhNext, k) : get(dhNext, k) + get(dhCarry, k);

                float ds = get(dcNext, k) + dh * o * (1f - tanhC * tanhC);
                set(dA, g0 + j, ds * get(cPrev, k) * f * (1f - f));
                set(dA, g0 + h + j, ds * i * (1f - g * g));
                set(dA, g0 + 2 * h + j, ds * g * i * (1f - i));
                set(dA, g0 + 3 * h + j, dh * tanhC * o * (1f - o));
                set(dcPrev, k, ds * f);
            }
        }
    }

    // GRU cell, gates sliced z, r, h: each row of gates is [z | r | hhat], each H wide (see Backend).

    @Override
    protected void gruGatesForwardK(Tensor rh, Tensor gates, Tensor hPrev, int n, int h) {
        for (int row = 0; row < n; row++) {
            long g0 = (long) row * 3 * h;
            for (int j = 0; j < h; j++) {
                float z = sigmoid(get(gates, g0 + j));
                float r = sigmoid(get(gates, g0 + h + j));
                set(gates, g0 + j, z);
                set(gates, g0 + h + j, r);
                long k = (long) row * h + j;
                set(rh, k, r * get(hPrev, k));
            }
        }
    }

    @Override
    protected void gruCellForwardK(Tensor hNext, Tensor gates, Tensor hPrev, int n, int h) {
        for (int row = 0; row < n; row++) {
            long g0 = (long) row * 3 * h;
            for (int j = 0; j < h; j++) {
                float z = get(gates, g0 + j);
                float hhat = tanh(get(gates, g0 + 2 * h + j));
                set(gates, g0 + 2 * h + j, hhat);
                long k = (long) row * h + j;
                float hp = get(hPrev, k);
                set(hNext, k, (1f - z) * hp + z * hhat);
            }
        }
    }

    @Override
    protected void gruCellBackwardK(Tensor dA, Tensor gates, Tensor hPrev, Tensor dhNext, int n, int h) {
        // forward: h_next = (1 - z) h_prev + z hhat, so dz = dh (hhat - h_prev) and dhhat = dh z;
        // through the activations: z = sigmoid(.) gives z (1 - z), hhat = tanh(.) gives 1 - hhat^2
        for (int row = 0; row < n; row++) {
            long g0 = (long) row * 3 * h;
            for (int j = 0; j < h; j++) {
                long k = (long) row * h + j;
                float z = get(gates, g0 + j);
                float hhat = get(gates, g0 + 2 * h + j);
                float dh = get(dhNext, k);
                set(dA, g0 + j, dh * (hhat - get(hPrev, k)) * z * (1f - z));
                set(dA, g0 + 2 * h + j, dh * z * (1f - hhat * hhat));
            }
        }
    }

    @Override
    protected void gruGatesBackwardK(Tensor dA, Tensor dhPrev, Tensor gates, Tensor hPrev, Tensor dhNext,
                                     Tensor drh, int n, int h) {
        // forward: rh = r h_prev, so dr = drh h_prev and h_prev receives drh r; h_next = (1 - z) h_prev + ...
        // gives h_prev dh (1 - z) directly. r = sigmoid(.) gives r (1 - r).
        for (int row = 0; row < n; row++) {
            long g0 = (long) row * 3 * h;
            for (int j = 0; j < h; j++) {
                long k = (long) row * h + j;
                float z = get(gates, g0 + j);
                float r = get(gates, g0 + h + j);
                float d = get(drh, k);
                set(dA, g0 + h + j, d * get(hPrev, k) * r * (1f - r));
                set(dhPrev, k, get(dhPrev, k) + (get(dhNext, k) * (1f - z) + d * r));
            }
        }
    }

    // ---- embedding -------------------------------------------------------------------------------------

    @Override
    protected void embeddingForwardK(Tensor out, Tensor W, Tensor ids, int m, int v, int d) {
        lookUp("embeddingForward", out, W, ids, m, v, d);
    }

    /** The look-up of the lstm's ids, as embeddingForward's, but a bad id named by this op. */
    @Override
    protected void lstmSequenceForwardK(Tensor hs, Tensor cs, Tensor gates, PackedMatrix wh, boolean fromZero,
                                        Tensor table, Tensor ids, int t, int n, int h, int v) {
        lookUp("lstmSequenceForward", gates, table, ids, t * n, v, 4 * h);
        lstmSequenceForwardK(hs, cs, gates, wh, fromZero, t, n, h);
    }

    /** out row r = W row ids[r]; each id read once, and checked where it is used (see id). */
    private static void lookUp(String op, Tensor out, Tensor W, Tensor ids, int m, int v, int d) {
        for (int r = 0; r < m; r++) {
            int id = id(op, "ids", ids, r, v, false);
            for (int j = 0; j < d; j++) {
                set(out, (long) r * d + j, get(W, (long) id * d + j));
            }
        }
    }

    @Override
    protected void embeddingBackwardK(Tensor dW, Tensor ids, Tensor dout, int m, int v, int d) {
        for (int r = 0; r < m; r++) {
            int id = id("embeddingBackward", "ids", ids, r, v, false);
            for (int j = 0; j < d; j++) {
                long k = (long) id * d + j;
                set(dW, k, get(dW, k) + get(dout, (long) r * d + j));
            }
        }
    }

    // ---- losses ----------------------------------------------------------------------------------------

    @Override
    protected void softmaxCrossEntropyForwardK(Tensor probs, Tensor loss, Tensor logits, Tensor labels, int m, int v) {
        double total = 0;
        int count = 0;
        for (int r = 0; r < m; r++) {
            long row = (long) r * v;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, get(logits, row + j));
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(get(logits, row + j) - max);
            }
            int label = id("softmaxCrossEntropyForward", "labels", labels, r, v, true);
            if (label != -1) {
                // -log softmax(x)[label] = log(sum exp(x - max)) - (x[label] - max), exact even when p underflows
                total += Math.log(sum) - (get(logits, row + label) - max);
                count++;
            }
            for (int j = 0; j < v; j++) {
                set(probs, row + j, (float) (Math.exp(get(logits, row + j) - max) / sum));
            }
        }
        set(loss, 0, (float) (total / Math.max(count, 1)));
    }

    @Override
    protected void softmaxCrossEntropyBackwardK(Tensor dlogits, Tensor probs, Tensor labels, float dloss, int m,
                                                int v) {
        int count = 0;
        for (int r = 0; r < m; r++) {
            if (getInt(labels, r) != -1) {   // a label changed since only changes the scale (as the C kernel)
                count++;
            }
        }
        float scale = dloss / Math.max(count, 1);
        for (int r = 0; r < m; r++) {
            long row = (long) r * v;
            int label = id("softmaxCrossEntropyBackward", "labels", labels, r, v, true);
            for (int j = 0; j < v; j++) {
                float g = label == -1 ? 0f : (get(probs, row + j) - (j == label ? 1f : 0f)) * scale;
                set(dlogits, row + j, g);
            }
        }
    }

    @Override
    protected void mseForwardK(Tensor loss, Tensor y, Tensor t, float scale) {
        double sum = 0;
        for (long i = 0; i < y.size(); i++) {
            double diff = (double) get(y, i) - get(t, i);   // in double, as the C and CUDA kernels: y - t may pass float's range
            sum += diff * diff;
        }
        set(loss, 0, (float) (scale * sum));
    }

    @Override
    protected void mseBackwardK(Tensor dy, Tensor y, Tensor t, float scale) {
        for (long i = 0; i < y.size(); i++) {
            set(dy, i, 2f * scale * (get(y, i) - get(t, i)));
        }
    }

    // ---- attention -------------------------------------------------------------------------------------

    @Override
    protected void attentionWeightForwardK(Tensor a, Tensor hs, Tensor h, int t, int n, int hd) {
        for (int r = 0; r < n; r++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < t; s++) {
                double dot = 0;
                for (int j = 0; j < hd; j++) {
                    dot += (double) get(hs, ((long) s * n + r) * hd + j) * get(h, (long) r * hd + j);
                }
                set(a, (long) r * t + s, (float) dot);
                max = Math.max(max, (float) dot);
            }
            double sum = 0;
            for (int s = 0; s < t; s++) {
                sum += Math.exp(get(a, (long) r * t + s) - max);
            }
            for (int s = 0; s < t; s++) {
                long k = (long) r * t + s;
                set(a, k, (float) (Math.exp(get(a, k) - max) / sum));
            }
        }
    }

    @Override
    protected void attentionWeightBackwardK(Tensor dhs, Tensor dh, Tensor a, Tensor hs, Tensor h, Tensor da,
                                            int t, int n, int hd) {
        for (int r = 0; r < n; r++) {
            // softmax backward over t: ds = a * (da - sum_t a * da)
            double dot = 0;
            for (int s = 0; s < t; s++) {
                dot += (double) get(a, (long) r * t + s) * get(da, (long) r * t + s);
            }
            for (int j = 0; j < hd; j++) {
                set(dh, (long) r * hd + j, 0f);
            }
            for (int s = 0; s < t; s++) {
                float ds = (float) (get(a, (long) r * t + s) * (get(da, (long) r * t + s) - dot));
                for (int j = 0; j < hd; j++) {
                    long hsIndex = ((long) s * n + r) * hd + j;
                    long hIndex = (long) r * hd + j;
                    set(dhs, hsIndex, get(dhs, hsIndex) + ds * get(h, hIndex));
                    set(dh, hIndex, get(dh, hIndex) + ds * get(hs, hsIndex));
                }
            }
        }
    }

    @Override
    protected void weightSumForwardK(Tensor c, Tensor hs, Tensor a, int t, int n, int hd) {
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < hd; j++) {
                double sum = 0;
                for (int s = 0; s < t; s++) {
                    sum += (double) get(a, (long) r * t + s) * get(hs, ((long) s * n + r) * hd + j);
                }
                set(c, (long) r * hd + j, (float) sum);
            }
        }
    }

    @Override
    protected void weightSumBackwardK(Tensor dhs, Tensor da, Tensor hs, Tensor a, Tensor dc, int t, int n, int hd) {
        for (int r = 0; r < n; r++) {
            for (int s = 0; s < t; s++) {
                float as = get(a, (long) r * t + s);
                double dot = 0;
                for (int j = 0; j < hd; j++) {
                    long hsIndex = ((long) s * n + r) * hd + j;
                    float dcj = get(dc, (long) r * hd + j);
                    set(dhs, hsIndex, get(dhs, hsIndex) + as * dcj);
                    dot += (double) get(hs, hsIndex) * dcj;
                }
                set(da, (long) r * t + s, (float) dot);
            }
        }
    }

    // ---- dropout ---------------------------------------------------------------------------------------

    @Override
    protected void dropoutMaskK(Tensor mask, float ratio, long seed) {
        float keep = 1f / (1f - ratio);
        for (long i = 0; i < mask.size(); i++) {
            set(mask, i, CounterRandom.uniform(seed, i) >= ratio ? keep : 0f);
        }
    }

    // ---- optimizers ------------------------------------------------------------------------------------

    @Override
    protected void sgdUpdateK(Tensor param, Tensor grad, float lr) {
        for (long i = 0; i < param.size(); i++) {
            set(param, i, get(param, i) - lr * get(grad, i));
        }
    }

    @Override
    protected void momentumUpdateK(Tensor param, Tensor v, Tensor grad, float lr, float momentum) {
        for (long i = 0; i < param.size(); i++) {
            float vi = momentum * get(v, i) - lr * get(grad, i);
            set(v, i, vi);
            set(param, i, get(param, i) + vi);
        }
    }

    @Override
    protected void adagradUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float eps) {
        for (long i = 0; i < param.size(); i++) {
            float g = get(grad, i);
            float hi = get(h, i) + g * g;
            set(h, i, hi);
            set(param, i, get(param, i) - lr * g / ((float) Math.sqrt(hi) + eps));
        }
    }

    @Override
    protected void rmspropUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float decay, float eps) {
        for (long i = 0; i < param.size(); i++) {
            float g = get(grad, i);
            float hi = decay * get(h, i) + (1f - decay) * g * g;
            set(h, i, hi);
            set(param, i, get(param, i) - lr * g / ((float) Math.sqrt(hi) + eps));
        }
    }

    @Override
    protected void adamUpdateK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                               float eps) {
        for (long i = 0; i < param.size(); i++) {
            float g = get(grad, i);
            float mi = get(m, i) + (1f - beta1) * (g - get(m, i));
            float vi = get(v, i) + (1f - beta2) * (g * g - get(v, i));
            set(m, i, mi);
            set(v, i, vi);
            set(param, i, get(param, i) - lrT * mi / ((float) Math.sqrt(vi) + eps));
        }
    }

    // ---- reductions ------------------------------------------------------------------------------------

    @Override
    protected void sumOfSquaresK(Tensor out, Tensor x) {
        double sum = 0;
        for (long i = 0; i < x.size(); i++) {
            double xi = get(x, i);
            sum += xi * xi;
        }
        set(out, 0, (float) sum);
    }

    @Override
    protected void argmaxRowsK(Tensor ids, Tensor x, int m, int v) {
        for (int r = 0; r < m; r++) {
            int best = 0;
            for (int j = 1; j < v; j++) {
                if (get(x, (long) r * v + j) > get(x, (long) r * v + best)) {
                    best = j;
                }
            }
            ids.segment().setAtIndex(JAVA_INT, r, best);
        }
    }
}
