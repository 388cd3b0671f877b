// The book's LSTM cell, one step: A = x Wx + h_prev Wh + b sliced f, g, i, o;
// c_next = sigmoid(f) * c_prev + tanh(g) * sigmoid(i); h_next = sigmoid(o) * tanh(c_next).
// The element-wise part is one fused kernel each way; TimeLSTM is the fast way to run many steps.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's LSTM cell, one step: A = x Wx + h_prev Wh + b sliced f, g, i, o;
 * c_next = sigmoid(f) c_prev + tanh(g) sigmoid(i); h_next = sigmoid(o) tanh(c_next). TimeLSTM runs many steps.
 */
public final class LSTM implements AutoCloseable {
    private final Backend backend;
    private final Parameter Wx, Wh, b;   // (D, 4H), (H, 4H), (4H,)
    private final int D, H;
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private int sizedN = -1;
    private Tensor gates;                // (N, 4H) pre-activations, then activated gates
    private Tensor hNext, cNext;         // (N, H)
    private Tensor dA;                   // (N, 4H)
    private Tensor dx, dhPrev, dcPrev;   // (N, D), (N, H), (N, H)
    private Tensor x, hPrev, cPrev;      // the last forward's inputs

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param Wx      (D, 4H), gate columns f, g, i, o
     * @param Wh      (H, 4H)
     * @param b       (4H,)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public LSTM(Backend backend, Parameter Wx, Parameter Wh, Parameter b) {
        Shapes.arguments("LSTM", backend, "Wx Wh b", Wx, Wh, b);
        this.H = Wh.dim(0);
        this.D = Wx.dim(0);
        if (Wx.value().rank() != 2 || Wh.value().rank() != 2 || (long) Wx.dim(1) != 4L * H || (long) Wh.dim(1) != 4L * H
                || b.value().rank() != 1 || (long) b.dim(0) != 4L * H) {   // in long: 4H wraps in int past 2^29
            throw new IllegalArgumentException("LSTM needs Wx (D, 4H), Wh (H, 4H), b (4H,), got " + Wx + ", " + Wh
                    + ", " + b);
        }
        this.backend = backend;
        this.Wx = Wx;
        this.Wh = Wh;
        this.b = b;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("LSTM", Wx, Wh, b);
    }

    /**
     * h_next (N, H) for x (N, D), h_prev (N, H), c_prev (N, H); cNext() holds c_next.
     *
     * @param x     (N, D)
     * @param hPrev (N, H)
     * @param cPrev (N, H)
     * @return h_next (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes do not fit, or an input lies in this layer's own buffers
     */
    public Tensor forward(Tensor x, Tensor hPrev, Tensor cPrev) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            if (x.dtype() != DType.F32 || x.rank() != 2 || x.dim(1) != D || !Shapes.isF32(hPrev, x.dim(0), H)
                    || !Shapes.isF32(cPrev, x.dim(0), H)) {
                throw new IllegalArgumentException("LSTM.forward needs x (N, D=" + D + "), h_prev and c_prev (N, H=" + H
                        + "), all float32, got " + x + ", " + hPrev + ", " + cPrev);
            }
            ws.refuseOwn("LSTM.forward", "x", x);
            ws.refuseOwn("LSTM.forward", "hPrev", hPrev);   // its last h_next, say: a loop over one cell
            ws.refuseOwn("LSTM.forward", "cPrev", cPrev);
            int n = x.dim(0);
            if (n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                gates = ws.floats(n, 4 * H);
                hNext = ws.floats(n, H);
                cNext = ws.floats(n, H);
                dA = ws.floats(n, 4 * H);
                dx = ws.floats(n, D);
                dhPrev = ws.floats(n, H);
                dcPrev = ws.floats(n, H);
                sizedN = n;
            }
            backend.matmul(Transpose.NO, Transpose.NO, 1f, x, Wx.value(), 0f, gates);
            backend.matmul(Transpose.NO, Transpose.NO, 1f, hPrev, Wh.value(), 1f, gates);
            backend.addBias(gates, b.value());
            backend.lstmCellForward(hNext, cNext, gates, cPrev);
            this.x = x;
            this.hPrev = hPrev;
            this.cPrev = cPrev;
            calls.keep("x", x);
            calls.keep("hPrev", hPrev);
            calls.keep("cPrev", cPrev);
            calls.forwardReturned();
            return hNext;
        } finally {
            calls.exit();
        }
    }

    /**
     * The cell state of the last forward.
     *
     * @return c_next (N, H)
     * @throws IllegalStateException if no forward returned (none ran, or the last one threw)
     */
    public Tensor cNext() {
        calls.requireForward("cNext");
        return cNext;
    }

    /**
     * dx (N, D) for dh_next, dc_next (N, H); dhPrev() and dcPrev() hold the gradients w.r.t. h_prev and c_prev;
     * Wx, Wh, b gradients accumulate.
     *
     * @param dhNext (N, H)
     * @param dcNext (N, H)
     * @return dx (N, D), the layer's buffer
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public Tensor backward(Tensor dhNext, Tensor dcNext) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "lstmCellBackward", "LSTM.backward", "dhNext", dhNext);
            Shapes.requireGradient(backend, "lstmCellBackward", "LSTM.backward", "dcNext", dcNext);
            if (!Shapes.same(dhNext, hNext)) {
                throw Shapes.gradientShape("LSTM.backward", "dhNext", dhNext, "the forward's h_next (N, H)",
                        hNext.shape());
            }
            if (!Shapes.same(dcNext, cNext)) {
                throw Shapes.gradientShape("LSTM.backward", "dcNext", dcNext, "the forward's c_next (N, H)",
                        cNext.shape());
            }
            // its last dcPrev (a loop over one cell): the cell's kernel writes it while it reads both (dx and dhPrev
            // are written after their last read)
            Workspace.refuseWritten("LSTM.backward", "dhNext", dhNext, "dcPrev", dcPrev);
            Workspace.refuseWritten("LSTM.backward", "dcNext", dcNext, "dcPrev", dcPrev);
            calls.backwardStarts();
            backend.lstmCellBackward(dA, dcPrev, gates, cNext, cPrev, dhNext, dcNext);
            backend.matmul(Transpose.YES, Transpose.NO, 1f, hPrev, dA, 1f, Wh.grad());
            backend.matmul(Transpose.YES, Transpose.NO, 1f, x, dA, 1f, Wx.grad());
            backend.sumRows(b.grad(), dA, 1f);
            backend.matmul(Transpose.NO, Transpose.YES, 1f, dA, Wx.value(), 0f, dx);
            backend.matmul(Transpose.NO, Transpose.YES, 1f, dA, Wh.value(), 0f, dhPrev);
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

    /**
     * The gradient w.r.t. c_prev of the last forward's backward.
     *
     * @return dc_prev (N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor dcPrev() {
        calls.requireBackward("dcPrev");
        return dcPrev;
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
