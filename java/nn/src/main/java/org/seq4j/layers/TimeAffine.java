// The book's TimeAffine: one GEMM over all T*N rows, out = x W + b. With transposedW the weight is
// stored (V, D) and used as W^T, which is how BetterRnnlm ties the output layer to the embedding.
// Generation calls it with a few rows at a time over unchanged weights (a decoder step): every forward of at most
// PACKED_ROWS rows multiplies by W (not transposed) packed by the first of them and kept (KeptPack, as the recurrent
// layers' Wh), so the backend does not re-pack it inside every small sgemm, and a forward gives the same bits whatever
// forwards came before it.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.internal.Rows;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's TimeAffine: one GEMM over all T*N rows, out = x W + b. With transposedW the weight is stored
 * (V, D) and used as W^T, which is how BetterRnnlm ties the output layer to the embedding.
 */
public final class TimeAffine implements AutoCloseable {
    private final Backend backend;
    private final Parameter W;          // (D, V), or (V, D) when transposedW
    private final Parameter b;          // (V,)
    private final boolean transposedW;
    private final int D, V;
    private final int ldD, ldV;   // the row strides of D and V wide rows: max(1, extent)
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private final ViewCache doutView = new ViewCache();
    private final KeptPack packedW;     // W (D, V) packed, for forwards of at most PACKED_ROWS rows; null if transposedW

    /** The most rows a forward multiplies by the packed W: the packed product is made for few rows (N = 1 .. 128). */
    static final int PACKED_ROWS = 128;

    private int sizedT = -1, sizedN = -1;
    private Tensor out, out2;           // (T, N, V) and its (T*N, V) view
    private Tensor dx;                  // (T, N, D)
    private Tensor x;                   // (T, N, D) the last forward's input (the caller's, or xCopy)
    private Tensor xCopy;               // (T, N, D) a Java-heap x copied for the packed product, made when first needed

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param W       (D, V)
     * @param b       (V,)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public TimeAffine(Backend backend, Parameter W, Parameter b) {
        this(backend, W, b, false);
    }

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param W           (D, V), or (V, D) when transposedW
     * @param b           (V,)
     * @param transposedW whether W is stored transposed (tied to an embedding)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public TimeAffine(Backend backend, Parameter W, Parameter b, boolean transposedW) {
        Shapes.arguments("TimeAffine", backend, "W b", W, b);
        if (W.value().rank() != 2 || b.value().rank() != 1) {
            throw new IllegalArgumentException("TimeAffine needs W 2-D and b 1-D, got " + W + " and " + b);
        }
        this.D = transposedW ? W.dim(1) : W.dim(0);
        this.V = transposedW ? W.dim(0) : W.dim(1);
        this.ldD = Math.max(1, D);   // a row stride is at least 1, also for an extent of 0 (BLAS's rule; Affine's)
        this.ldV = Math.max(1, V);
        if (b.dim(0) != V) {
            throw new IllegalArgumentException("TimeAffine: b " + b + " must have " + V + " elements to match W " + W
                    + (transposedW ? " (used transposed)" : ""));
        }
        this.backend = backend;
        this.W = W;
        this.b = b;
        this.transposedW = transposedW;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("TimeAffine", W, b);
        this.packedW = transposedW ? null
                : new KeptPack(backend, W, D, PackedMatrix.Precision.F32, new KeptPack.Block(W.value(), V, V));
    }

    /**
     * out (T, N, V) = x (T, N, D) W + b.
     *
     * @param x (T, N, D), kept for backward
     * @return out (T, N, V), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if x is not (T, N, D), or x lies in this layer's own buffers
     */
    public Tensor forward(Tensor x) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            if (x.dtype() != DType.F32 || x.rank() != 3 || x.dim(2) != D) {
                throw new IllegalArgumentException("TimeAffine.forward needs x float32 (T, N, D=" + D + "), got " + x);
            }
            ws.refuseOwn("TimeAffine.forward", "x", x);
            boolean packed = !transposedW && (long) x.dim(0) * x.dim(1) <= PACKED_ROWS;
            // a Java-heap x, which a native backend's gemm reads and its gemmPacked cannot, is copied for the packed
            // product (at most 128 rows): taken at every size, as Affine takes it, with the bits of a native x
            boolean copied = packed && x.device().isHost() && !x.segment().isNative();
            Shapes.requireOperand(backend, copied ? "copyIn" : packed ? "gemmPacked" : "gemm", "TimeAffine.forward",
                    "x", x);
            int t = x.dim(0), n = x.dim(1);
            Rows.of("TimeAffine.forward", t, n);
            if (t != sizedT || n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                out = ws.floats(t, n, V);
                out2 = out.view(t * n, V);
                dx = ws.floats(t, n, D);
                xCopy = null;
                sizedT = t;
                sizedN = n;
            }
            if (copied) {
                if (xCopy == null) {
                    xCopy = ws.floats(t, n, D);
                }
                backend.copyIn(xCopy, x.segment());
                x = xCopy;
            }
            int m = t * n;
            if (transposedW) {
                backend.gemm(Transpose.NO, Transpose.YES, m, V, D, 1f, x, ldD, W.value(), ldD, 0f, out, ldV);
            } else if (packed) {
                backend.gemmPacked(m, out, ldV, x, ldD, packedW.current()[0], 0f);
            } else {
                backend.gemm(Transpose.NO, Transpose.NO, m, V, D, 1f, x, ldD, W.value(), ldV, 0f, out, ldV);
            }
            backend.addBias(out2, b.value());
            this.x = x;
            calls.keep("x", x);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dx (T, N, D) = dout W^T; dW += x^T dout; db += sum of dout's rows.
     *
     * @param dout (T, N, V), the shape of the forward's output
     * @return dx (T, N, D), the layer's buffer
     * @throws IllegalArgumentException if dout is not the forward output's (T, N, V)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public Tensor backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "sumRows", "TimeAffine.backward", "dout", dout);
            // the GEMMs below take element counts: an (N, T, V) dout would be read as (T, N, V), its rows paired with
            // the wrong rows of x in dW
            if (!Shapes.is3(dout, sizedT, sizedN, V)) {
                throw Shapes.gradientShape("TimeAffine.backward", "dout", dout, "the forward's output (T, N, V)",
                        sizedT, sizedN, V);
            }
            // its last dx (D = V): the product writes dx while it reads dout
            Workspace.refuseWritten("TimeAffine.backward", "dout", dout, "dx", dx);
            calls.backwardStarts();
            int m = sizedT * sizedN;
            Tensor dout2 = doutView.matrix(dout, m, V);
            // db first: sumRows refuses a heap dout, which the GEMMs take; after them it left dW added, db not
            backend.sumRows(b.grad(), dout2, 1f);
            if (transposedW) {
                // out = x W^T with W (V, D): dx = dout W, dW (V, D) += dout^T x
                backend.gemm(Transpose.NO, Transpose.NO, m, D, V, 1f, dout, ldV, W.value(), ldD, 0f, dx, ldD);
                backend.gemm(Transpose.YES, Transpose.NO, V, D, m, 1f, dout, ldV, x, ldD, 1f, W.grad(), ldD);
            } else {
                backend.gemm(Transpose.NO, Transpose.YES, m, D, V, 1f, dout, ldV, W.value(), ldV, 0f, dx, ldD);
                backend.gemm(Transpose.YES, Transpose.NO, D, V, m, 1f, x, ldD, dout, ldV, 1f, W.grad(), ldV);
            }
            return dx;
        } finally {
            calls.exit();
        }
    }

    /**
     * Whether {@code t} lies in this layer's own buffers: its output or a gradient it handed out, or a view of one. A
     * model part that hands them on (a decoder's scores) asks it to refuse them back as an input it keeps reading.
     *
     * @param t any tensor
     * @return true if t's memory is this layer's
     * @throws NullPointerException if t is null
     */
    public boolean holds(Tensor t) {
        java.util.Objects.requireNonNull(t, "TimeAffine.holds: t is null");
        return ws.holds(t);
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
        if (packedW != null) {
            packedW.close();
        }
    }
}
