// The book's appendix GRU cell, one step, gates sliced z, r, h in Wx (D, 3H), Wh (H, 3H), b (3H,):
// z = sigmoid(x Wxz + h Whz + bz), r = sigmoid(x Wxr + h Whr + br), hhat = tanh(x Wxh + (r h) Whh + bh),
// h_next = (1 - z) h + z hhat. Two recurrent GEMMs and two fused kernels each way (see TimeGRU, the fast way to run
// many steps, and Backend for the kernels).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's appendix GRU cell, one step, gates z, r, hhat: z = sigmoid(x Wxz + h_prev Whz + bz),
 * r = sigmoid(x Wxr + h_prev Whr + br), hhat = tanh(x Wxh + (r h_prev) Whh + bh), h_next = (1 - z) h_prev + z hhat.
 * TimeGRU runs many steps.
 */
public final class GRU implements AutoCloseable {
    private final Backend backend;
    private final Parameter Wx, Wh, b;   // (D, 3H), (H, 3H), (3H,)
    private final Tensor Whh, dWhh;      // Wh[:, 2H:] and its gradient, flat views read with row stride 3H
    private final int D, H;
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private int sizedN = -1;
    private Tensor gates, gatesH;        // (N, 3H) pre-activations, then [z | r | hhat]; its candidate columns
    private Tensor rh;                   // (N, H) r * h_prev
    private Tensor hNext;                // (N, H)
    private Tensor dA, dAh;              // (N, 3H); its candidate columns
    private Tensor drh;                  // (N, H)
    private Tensor dx, dhPrev;           // (N, D), (N, H)
    private Tensor x, hPrev;             // the last forward's inputs

    /**
     * A GRU step on the given weights (shared, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param Wx      (D, 3H), gate columns z, r, hhat
     * @param Wh      (H, 3H)
     * @param b       (3H,)
     * @throws IllegalArgumentException unless Wx is (D, 3H), Wh (H, 3H) and b (3H,) with one H
     */
    public GRU(Backend backend, Parameter Wx, Parameter Wh, Parameter b) {
        Shapes.arguments("GRU", backend, "Wx Wh b", Wx, Wh, b);
        this.H = Wh.dim(0);
        this.D = Wx.dim(0);
        if (Wx.value().rank() != 2 || Wh.value().rank() != 2 || (long) Wx.dim(1) != 3L * H
                || (long) Wh.dim(1) != 3L * H || b.value().rank() != 1 || (long) b.dim(0) != 3L * H) {
            throw new IllegalArgumentException("GRU needs Wx (D, 3H), Wh (H, 3H), b (3H,), got " + Wx + ", " + Wh
                    + ", " + b);
        }
        this.backend = backend;
        this.Wx = Wx;
        this.Wh = Wh;
        this.b = b;
        this.Whh = TimeGRU.candidateColumns("GRU", "Wh", Wh.value(), H);
        this.dWhh = TimeGRU.candidateColumns("GRU", "Wh's gradient", Wh.grad(), H);
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("GRU", Wx, Wh, b);
    }

    /**
     * h_next (N, H) for x (N, D) and h_prev (N, H); the result is this layer's until the next forward.
     *
     * @param x     (N, D)
     * @param hPrev (N, H)
     * @return h_next (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes differ from the above, or an input lies in this layer's own
     *         buffers
     */
    public Tensor forward(Tensor x, Tensor hPrev) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            if (x.dtype() != DType.F32 || x.rank() != 2 || x.dim(1) != D || !Shapes.isF32(hPrev, x.dim(0), H)) {
                throw new IllegalArgumentException("GRU.forward needs x (N, D=" + D + ") and h_prev (N, H=" + H
                        + "), both float32, got "
                        + x + ", " + hPrev);
            }
            ws.refuseOwn("GRU.forward", "x", x);
            ws.refuseOwn("GRU.forward", "hPrev", hPrev);   // its last h_next, say: a loop over one cell
            int n = x.dim(0), g = 3 * H;
            if (n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                gates = ws.floats(n, g);
                gatesH = TimeGRU.candidateColumns("GRU.forward", "gates (N, 3H)", gates, H);
                rh = ws.floats(n, H);
                hNext = ws.floats(n, H);
                dA = ws.floats(n, g);
                dAh = TimeGRU.candidateColumns("GRU.forward", "dA (N, 3H)", dA, H);
                drh = ws.floats(n, H);
                dx = ws.floats(n, D);
                dhPrev = ws.floats(n, H);
                sizedN = n;
            }
            backend.matmul(Transpose.NO, Transpose.NO, 1f, x, Wx.value(), 0f, gates);
            backend.addBias(gates, b.value());
            backend.gemm(Transpose.NO, Transpose.NO, n, 2 * H, H, 1f, hPrev, H, Wh.value(), g, 1f, gates, g);
            backend.gruGatesForward(rh, gates, hPrev);
            backend.gemm(Transpose.NO, Transpose.NO, n, H, H, 1f, rh, H, Whh, g, 1f, gatesH, g);
            backend.gruCellForward(hNext, gates, hPrev);
            this.x = x;
            this.hPrev = hPrev;
            calls.keep("x", x);
            calls.keep("hPrev", hPrev);
            calls.forwardReturned();
            return hNext;
        } finally {
            calls.exit();
        }
    }

    /**
     * dx (N, D) for dh_next (N, H); dhPrev() holds the gradient w.r.t. h_prev; Wx, Wh, b gradients accumulate.
     *
     * @param dhNext (N, H), N that of the last forward
     * @return dx (N, D), the layer's buffer
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     * @throws IllegalArgumentException if dh_next is not the forward output's (N, H)
     */
    public Tensor backward(Tensor dhNext) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "gruCellBackward", "GRU.backward", "dhNext", dhNext);
            if (!Shapes.is2(dhNext, sizedN, H)) {
                throw Shapes.gradientShape("GRU.backward", "dhNext", dhNext, "the forward's output (N, H)", sizedN, H);
            }
            // its last dhPrev (a loop over one cell): filled and written while dhNext is read (dx after its last read)
            Workspace.refuseWritten("GRU.backward", "dhNext", dhNext, "dhPrev", dhPrev);
            calls.backwardStarts();
            int n = sizedN, g = 3 * H;
            backend.gruCellBackward(dA, gates, hPrev, dhNext);
            backend.gemm(Transpose.NO, Transpose.YES, n, H, H, 1f, dAh, g, Whh, g, 0f, drh, H);
            backend.fill(dhPrev, 0f);
            backend.gruGatesBackward(dA, dhPrev, gates, hPrev, dhNext, drh);
            backend.gemm(Transpose.NO, Transpose.YES, n, H, 2 * H, 1f, dA, g, Wh.value(), g, 1f, dhPrev, H);
            backend.gemm(Transpose.YES, Transpose.NO, H, 2 * H, n, 1f, hPrev, H, dA, g, 1f, Wh.grad(), g);
            backend.gemm(Transpose.YES, Transpose.NO, H, H, n, 1f, rh, H, dAh, g, 1f, dWhh, g);
            backend.matmul(Transpose.YES, Transpose.NO, 1f, x, dA, 1f, Wx.grad());
            backend.sumRows(b.grad(), dA, 1f);
            backend.matmul(Transpose.NO, Transpose.YES, 1f, dA, Wx.value(), 0f, dx);
            calls.backwardReturned();
            return dx;
        } finally {
            calls.exit();
        }
    }

    /**
     * The gradient w.r.t. h_prev of the last forward's backward.
     *
     * @return dh_prev (N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor dhPrev() {
        calls.requireBackward("dhPrev");
        return dhPrev;
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
