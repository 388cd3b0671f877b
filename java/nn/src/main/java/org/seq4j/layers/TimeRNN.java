// The book's TimeRNN over a time-major sequence xs (T, N, D) -> hs (T, N, H), structured like TimeLSTM:
// one GEMM x Wx + b for all steps before the loop, then per step one GEMM h_prev Wh (beta = 1) into that
// step's block and one tanh. h0 sits in front of hs in one (T+1, N, H) buffer.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.internal.Rows;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's TimeRNN over a time-major sequence xs (T, N, D) to hs (T, N, H): one GEMM x Wx + b for all
 * steps, then per step one GEMM h_prev Wh and one tanh. A stateful layer starts each forward from the previous one's
 * last h, another from zeros.
 */
public final class TimeRNN implements AutoCloseable {
    private final Backend backend;
    private final Parameter Wx;   // (D, H)
    private final Parameter Wh;   // (H, H)
    private final Parameter b;    // (H,)
    private final int D, H;
    private final boolean stateful;
    private final Workspace ws;
    private final Workspace stateWs;

    private Tensor hState;        // (N, H) carried state (stateful only)
    private boolean hasH;
    private int stateN = -1;

    private int sizedT = -1, sizedN = -1;
    private Tensor pre, pre2;     // (T, N, H) pre-activations x Wx + b + h_prev Wh; (T*N, H) view
    private Tensor hAll;          // (T+1, N, H) [h0; h1 .. hT]
    private Tensor hs;            // (T, N, H) view of hAll[1 .. T]
    private Tensor dT, dT2;       // (T, N, H) gradient of every step's pre-activation; (T*N, H)
    private Tensor dhsWork;       // (T, N, H) dhs + dh flowing back
    private Tensor dxs;           // (T, N, D)
    private Tensor dh0;           // (N, H)
    private Tensor[] preT, hT, dTT, dhsT;
    private Tensor x;
    private final CallOrder calls;   // forward, then one backward over unchanged weights

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param Wx       (D, H)
     * @param Wh       (H, H)
     * @param b        (H,)
     * @param stateful whether each forward starts from the last one's final h (else from zeros)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public TimeRNN(Backend backend, Parameter Wx, Parameter Wh, Parameter b, boolean stateful) {
        Shapes.arguments("TimeRNN", backend, "Wx Wh b", Wx, Wh, b);
        this.H = Wh.dim(0);
        this.D = Wx.dim(0);
        if (Wx.value().rank() != 2 || Wh.value().rank() != 2 || Wx.dim(1) != H || Wh.dim(1) != H || b.value().rank() != 1
                || b.dim(0) != H) {
            throw new IllegalArgumentException("TimeRNN needs Wx (D, H), Wh (H, H), b (H,), got " + Wx + ", " + Wh + ", "
                    + b);
        }
        this.backend = backend;
        this.Wx = Wx;
        this.Wh = Wh;
        this.b = b;
        this.stateful = stateful;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.stateWs = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("TimeRNN", Wx, Wh, b);
    }

    private void resize(int t, int n) {
        sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
        ws.reset();
        pre = ws.floats(t, n, H);
        pre2 = pre.view(t * n, H);
        hAll = ws.floats(t + 1, n, H);
        hs = hAll.slice(1, t + 1);
        dT = ws.floats(t, n, H);
        dT2 = dT.view(t * n, H);
        dhsWork = ws.floats(t, n, H);
        dxs = ws.floats(t, n, D);
        dh0 = ws.floats(n, H);
        preT = new Tensor[t];
        dTT = new Tensor[t];
        dhsT = new Tensor[t];
        hT = new Tensor[t + 1];
        for (int s = 0; s < t; s++) {
            preT[s] = pre.get(s);
            dTT[s] = dT.get(s);
            dhsT[s] = dhsWork.get(s);
        }
        for (int s = 0; s <= t; s++) {
            hT[s] = hAll.get(s);
        }
        sizedT = t;
        sizedN = n;
    }

    /**
     * hs (T, N, H) for xs (T, N, D).
     *
     * @param xs (T, N, D), T and N at least 1
     * @return hs (T, N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if xs does not fit
     * @throws IllegalStateException if a carried state has another batch size N
     */
    public Tensor forward(Tensor xs) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing to follow or read until this forward returns
            if (xs.dtype() != DType.F32 || xs.rank() != 3 || xs.dim(2) != D || xs.dim(0) < 1 || xs.dim(1) < 1) {
                throw new IllegalArgumentException("TimeRNN.forward needs xs float32 (T >= 1, N >= 1, D=" + D + "), got " + xs);
            }
            ws.refuseOwn("TimeRNN.forward", "xs", xs);
            int t = xs.dim(0), n = xs.dim(1);
            Rows.of("TimeRNN.forward", t, n);
            if (stateful && hasH && n != stateN) {
                throw new IllegalStateException("TimeRNN holds a state for N=" + stateN + " but the input has N=" + n
                        + "; call resetState() or setState(...) first");
            }
            if (t != sizedT || n != sizedN) {
                resize(t, n);
            }
            backend.gemm(Transpose.NO, Transpose.NO, t * n, H, D, 1f, xs, D, Wx.value(), H, 0f, pre, H);
            backend.addBias(pre2, b.value());
            boolean fromZero = !(stateful && hasH);
            if (fromZero) {
                backend.fill(hT[0], 0f);
            } else {
                backend.copy(hT[0], hState);
            }
            for (int s = 0; s < t; s++) {
                if (s > 0 || !fromZero) { // h_0 = 0 adds nothing to the first step
                    backend.gemm(Transpose.NO, Transpose.NO, n, H, H, 1f, hT[s], H, Wh.value(), H, 1f, preT[s], H);
                }
                backend.tanhForward(hT[s + 1], preT[s]);
            }
            if (stateful) {
                sizeState(n);
                backend.copy(hState, hT[t]);
                hasH = true;
            }
            this.x = xs;
            calls.keep("xs", xs);   // the backward reads it again (Wx's gradient)
            calls.forwardReturned();
            return hs;
        } finally {
            calls.exit();
        }
    }

    private void sizeState(int n) {
        if (n != stateN) {
            stateN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            stateWs.reset();
            hState = stateWs.floats(n, H);
            stateN = n;
        }
    }

    /**
     * dxs (T, N, D) for dhs (T, N, H); Wx, Wh, b gradients accumulate; dh() holds the gradient w.r.t. h0.
     *
     * @param dhs (T, N, H)
     * @return dxs (T, N, D), the layer's buffer
     * @throws IllegalArgumentException if dhs is not the forward output's (T, N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public Tensor backward(Tensor dhs) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            int t = sizedT, n = sizedN, m = t * n;
            Shapes.requireGradient(backend, "copy", "TimeRNN.backward", "dhs", dhs);
            if (!Shapes.is3(dhs, t, n, H)) {
                throw Shapes.gradientShape("TimeRNN.backward", "dhs", dhs, "the forward's output (T, N, H)", t, n, H);
            }
            calls.backwardStarts();   // dh() is refused until this backward returns: it reads what it writes
            backend.copy(dhsWork, dhs);
            for (int s = t - 1; s >= 0; s--) {
                // forward: h_t = tanh(pre_t), so dpre_t = dh_t * (1 - h_t^2); dh_{t-1} += dpre_t Wh^T
                backend.tanhBackward(dTT[s], hT[s + 1], dhsT[s]);
                if (s > 0) {
                    backend.gemm(Transpose.NO, Transpose.YES, n, H, H, 1f, dTT[s], H, Wh.value(), H, 1f, dhsT[s - 1],
                            H);
                } else {
                    backend.gemm(Transpose.NO, Transpose.YES, n, H, H, 1f, dTT[s], H, Wh.value(), H, 0f, dh0, H);
                }
            }
            backend.gemm(Transpose.YES, Transpose.NO, D, H, m, 1f, x, D, dT, H, 1f, Wx.grad(), H);
            backend.gemm(Transpose.YES, Transpose.NO, H, H, m, 1f, hAll, H, dT, H, 1f, Wh.grad(), H);
            backend.sumRows(b.grad(), dT2, 1f);
            backend.gemm(Transpose.NO, Transpose.YES, m, D, H, 1f, dT, H, Wx.value(), H, 0f, dxs, D);
            calls.backwardReturned();
            return dxs;
        } finally {
            calls.exit();
        }
    }

    /**
     * The state to start the next forward from (stateful only).
     *
     * @param h (N, H), copied
     * @throws IllegalStateException if the layer is not stateful, or h lives in a closed arena
     * @throws IllegalArgumentException if h is not (N, H) float32
     * @throws NullPointerException if h is null
     */
    public void setState(Tensor h) {
        calls.enter("setState");   // one thread at a time: a second one inside is refused
        try {
            if (!stateful) {
                throw new IllegalStateException("setState on a TimeRNN that is not stateful would be ignored by "
                        + "forward");
            }
            Shapes.requireState(backend, "TimeRNN.setState", "h", h);   // before the carried state is dropped below
            if (h.rank() != 2 || h.dim(0) < 1 || h.dim(1) != H) {   // N = 0: no forward takes it
                throw new IllegalArgumentException("TimeRNN.setState needs h (N >= 1, H=" + H + "), got " + h);
            }
            // the old state goes first: a call that throws below (allocating for another N) leaves none, not one in the
            // closed buffers of the old N
            resetState();
            sizeState(h.dim(0));
            backend.copy(hState, h);
            hasH = true;
        } finally {
            calls.exit();
        }
    }

    /** Forgets the carried state: the next forward starts from zeros. */
    public void resetState() {
        calls.enter("resetState");   // one thread at a time: a second one inside is refused
        try {
            hasH = false;
        } finally {
            calls.exit();
        }
    }

    /**
     * The last forward's final hidden state.
     *
     * @return h (N, H)
     * @throws IllegalStateException if no forward returned
     */
    public Tensor h() {
        calls.requireForward("h");
        return hT[sizedT];
    }

    /**
     * Gradient w.r.t. h0 after backward (the book's dh).
     *
     * @return dh (N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor dh() {
        calls.requireBackward("dh");
        return dh0;
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
        stateWs.close();
    }
}
