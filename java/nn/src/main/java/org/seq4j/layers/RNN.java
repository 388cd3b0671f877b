// The book's RNN cell, one step: h_next = tanh(h_prev Wh + x Wx + b).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/** The book's RNN cell, one step: h_next = tanh(h_prev Wh + x Wx + b). TimeRNN runs many steps. */
public final class RNN implements AutoCloseable {
    private final Backend backend;
    private final Parameter Wx, Wh, b;   // (D, H), (H, H), (H,)
    private final int D, H;
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private int sizedN = -1;
    private Tensor hNext;                // (N, H)
    private Tensor dt;                   // (N, H) gradient of the pre-activation
    private Tensor dx, dhPrev;           // (N, D), (N, H)
    private Tensor x, hPrev;             // the last forward's inputs

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param Wx      (D, H)
     * @param Wh      (H, H)
     * @param b       (H,)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public RNN(Backend backend, Parameter Wx, Parameter Wh, Parameter b) {
        Shapes.arguments("RNN", backend, "Wx Wh b", Wx, Wh, b);
        this.H = Wh.dim(0);
        this.D = Wx.dim(0);
        if (Wx.value().rank() != 2 || Wh.value().rank() != 2 || Wx.dim(1) != H || Wh.dim(1) != H || b.value().rank() != 1
                || b.dim(0) != H) {
            throw new IllegalArgumentException("RNN needs Wx (D, H), Wh (H, H), b (H,), got " + Wx + ", " + Wh + ", " + b);
        }
        this.backend = backend;
        this.Wx = Wx;
        this.Wh = Wh;
        this.b = b;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("RNN", Wx, Wh, b);
    }

    /**
     * h_next (N, H) for x (N, D) and h_prev (N, H).
     *
     * @param x     (N, D), kept for backward
     * @param hPrev (N, H), kept for backward
     * @return h_next (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes do not fit, or an input lies in this layer's own buffers
     */
    public Tensor forward(Tensor x, Tensor hPrev) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            if (x.dtype() != DType.F32 || x.rank() != 2 || x.dim(1) != D || !Shapes.isF32(hPrev, x.dim(0), H)) {
                throw new IllegalArgumentException("RNN.forward needs x (N, D=" + D + ") and h_prev (N, H=" + H
                        + "), both float32, got "
                        + x + " and " + hPrev);
            }
            ws.refuseOwn("RNN.forward", "x", x);
            ws.refuseOwn("RNN.forward", "hPrev", hPrev);   // its last h_next, say: a loop over one cell
            int n = x.dim(0);
            if (n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                hNext = ws.floats(n, H);
                dt = ws.floats(n, H);
                dx = ws.floats(n, D);
                dhPrev = ws.floats(n, H);
                sizedN = n;
            }
            backend.matmul(Transpose.NO, Transpose.NO, 1f, hPrev, Wh.value(), 0f, hNext);
            backend.matmul(Transpose.NO, Transpose.NO, 1f, x, Wx.value(), 1f, hNext);
            backend.addBias(hNext, b.value());
            backend.tanhForward(hNext, hNext);
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
     * dx (N, D) for dh_next (N, H); dhPrev() holds dh_prev; Wx, Wh, b gradients accumulate.
     *
     * @param dhNext (N, H), the shape of the forward's output
     * @return dx (N, D), the layer's buffer
     * @throws IllegalArgumentException if dhNext is not the forward output's (N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public Tensor backward(Tensor dhNext) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "tanhBackward", "RNN.backward", "dhNext", dhNext);
            // tanhBackward takes any shape of N*H values: an (H, N) dhNext would be read as (N, H)
            if (!Shapes.is2(dhNext, sizedN, H)) {
                throw Shapes.gradientShape("RNN.backward", "dhNext", dhNext, "the forward's output (N, H)", sizedN, H);
            }
            calls.backwardStarts();
            backend.tanhBackward(dt, hNext, dhNext);          // dt = dh_next * (1 - h_next^2)
            backend.sumRows(b.grad(), dt, 1f);
            backend.matmul(Transpose.YES, Transpose.NO, 1f, hPrev, dt, 1f, Wh.grad());
            backend.matmul(Transpose.NO, Transpose.YES, 1f, dt, Wh.value(), 0f, dhPrev);
            backend.matmul(Transpose.YES, Transpose.NO, 1f, x, dt, 1f, Wx.grad());
            backend.matmul(Transpose.NO, Transpose.YES, 1f, dt, Wx.value(), 0f, dx);
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
