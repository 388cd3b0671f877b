// The book's TimeLSTM over a time-major sequence xs (T, N, D) -> hs (T, N, H), with the fast structure:
// one GEMM for x Wx (+ b) over all T*N rows before the loop, then per step one GEMM h_prev Wh (beta = 1)
// into that step's gate block and one fused lstmCellForward. Gates are sliced f, g, i, o as in the book.
//
// h0 sits in front of hs in one (T+1, N, H) buffer (same for c), so "h_prev of every step" is the contiguous
// slice [0, T) and the weight gradients after the loop are single GEMMs over all T*N rows.
// Stateful (truncated BPTT, decoders): the next forward starts from the last h, c (or from setState);
// the gradient never flows into a previous forward.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

public final class TimeLSTM implements AutoCloseable {
    private final Backend backend;
    private final Parameter Wx;   // (D, 4H)
    private final Parameter Wh;   // (H, 4H)
    private final Parameter b;    // (4H,)
    private final int D, H;
    private final boolean stateful;
    private final Workspace ws;
    private final Workspace stateWs;

    // carried state (stateful only), sized (N, H) independently of T
    private Tensor hState, cState;
    private boolean hasH, hasC;
    private int stateN = -1;

    // workspace for one (T, N)
    private int sizedT = -1, sizedN = -1;
    private Tensor gates, gates2;       // (T, N, 4H) pre-activations in, activated gates out; (T*N, 4H) view
    private Tensor hAll, cAll;          // (T+1, N, H): [h0; h1 .. hT], [c0; c1 .. cT]
    private Tensor hs;                  // (T, N, H) = hAll[1 .. T], what forward returns
    private Tensor dA, dA2;             // (T, N, 4H) gate-pre-activation gradients of every step; (T*N, 4H)
    private Tensor dhsWork;             // (T, N, H) dhs + the dh flowing back from step t+1
    private Tensor dxs;                 // (T, N, D)
    private Tensor dh0;                 // (N, H) gradient w.r.t. h0
    private Tensor dcPing, dcPong;      // (N, H) two buffers: lstmCellBackward's dcPrev must not be dcNext
    private Tensor dc0;                 // whichever of the two holds the gradient w.r.t. c0 after backward
    private Tensor[] gatesT, hT, cT, dAT, dhsT;   // per-step views, made once per size
    private Tensor x;                   // (T, N, D) the last forward's input (the caller's)
    private boolean backwardDone;

    public TimeLSTM(Backend backend, Parameter Wx, Parameter Wh, Parameter b, boolean stateful) {
        if (Wx.value().rank() != 2 || Wh.value().rank() != 2 || b.value().rank() != 1) {
            throw new IllegalArgumentException("TimeLSTM needs Wx (D, 4H), Wh (H, 4H), b (4H,), got " + Wx + ", " + Wh
                    + ", " + b);
        }
        this.H = Wh.dim(0);
        this.D = Wx.dim(0);
        if (Wh.dim(1) != 4 * H || Wx.dim(1) != 4 * H || b.dim(0) != 4 * H) {
            throw new IllegalArgumentException("TimeLSTM needs Wx (D, 4H), Wh (H, 4H), b (4H,) with one H, got " + Wx
                    + ", " + Wh + ", " + b);
        }
        this.backend = backend;
        this.Wx = Wx;
        this.Wh = Wh;
        this.b = b;
        this.stateful = stateful;
        this.ws = new Workspace(backend);
        this.stateWs = new Workspace(backend);
    }

    public int inputSize() {
        return D;
    }

    public int hiddenSize() {
        return H;
    }

    public boolean isStateful() {
        return stateful;
    }

    private void resize(int t, int n) {
        ws.reset();
        gates = ws.floats(t, n, 4 * H);
        gates2 = gates.view(t * n, 4 * H);
        hAll = ws.floats(t + 1, n, H);
        cAll = ws.floats(t + 1, n, H);
        hs = hAll.slice(1, t + 1);
        dA = ws.floats(t, n, 4 * H);
        dA2 = dA.view(t * n, 4 * H);
        dhsWork = ws.floats(t, n, H);
        dxs = ws.floats(t, n, D);
        dh0 = ws.floats(n, H);
        dcPing = ws.floats(n, H);
        dcPong = ws.floats(n, H);
        gatesT = new Tensor[t];
        dAT = new Tensor[t];
        dhsT = new Tensor[t];
        hT = new Tensor[t + 1];
        cT = new Tensor[t + 1];
        for (int s = 0; s < t; s++) {
            gatesT[s] = gates.get(s);
            dAT[s] = dA.get(s);
            dhsT[s] = dhsWork.get(s);
        }
        for (int s = 0; s <= t; s++) {
            hT[s] = hAll.get(s);
            cT[s] = cAll.get(s);
        }
        sizedT = t;
        sizedN = n;
    }

    private void sizeState(int n) {
        if (n != stateN) {
            stateWs.reset();
            hState = stateWs.floats(n, H);
            cState = stateWs.floats(n, H);
            stateN = n;
        }
    }

    /** hs (T, N, H) for xs (T, N, D); the result is this layer's until the next forward. */
    public Tensor forward(Tensor xs) {
        if (xs.rank() != 3 || xs.dim(2) != D) {
            throw new IllegalArgumentException("TimeLSTM.forward needs xs (T, N, D=" + D + "), got " + xs);
        }
        int t = xs.dim(0), n = xs.dim(1);
        if (t < 1 || n < 1) {
            throw new IllegalArgumentException("TimeLSTM.forward needs T >= 1 and N >= 1, got " + xs);
        }
        if (stateful && (hasH || hasC) && n != stateN) {
            throw new IllegalStateException("TimeLSTM holds a state for N=" + stateN + " but the input has N=" + n
                    + "; call resetState() or setState(...) first");
        }
        if (t != sizedT || n != sizedN) {
            resize(t, n);
        }
        int g = 4 * H;
        int m = t * n;

        // A = x Wx + b for all steps at once: (T*N, D) (D, 4H)
        backend.gemm(Transpose.NO, Transpose.NO, m, g, D, 1f, xs, D, Wx.value(), g, 0f, gates, g);
        backend.addBias(gates2, b.value());

        if (stateful && hasH) {
            backend.copy(hT[0], hState);
        } else {
            backend.fill(hT[0], 0f);
        }
        if (stateful && hasC) {
            backend.copy(cT[0], cState);
        } else {
            backend.fill(cT[0], 0f);
        }

        for (int s = 0; s < t; s++) {
            // A_t += h_{t-1} Wh, then the fused cell: gates activated in place, c_t and h_t written
            backend.gemm(Transpose.NO, Transpose.NO, n, g, H, 1f, hT[s], H, Wh.value(), g, 1f, gatesT[s], g);
            backend.lstmCellForward(hT[s + 1], cT[s + 1], gatesT[s], cT[s]);
        }

        if (stateful) {
            sizeState(n);
            backend.copy(hState, hT[t]);
            backend.copy(cState, cT[t]);
            hasH = true;
            hasC = true;
        }
        this.x = xs;
        this.backwardDone = false;
        return hs;
    }

    /** dxs (T, N, D) for dhs (T, N, H); Wx, Wh, b gradients accumulate. No gradient arrives at the last c. */
    public Tensor backward(Tensor dhs) {
        return backward(dhs, null);
    }

    /**
     * dxs (T, N, D) for dhs (T, N, H) and dcLast (N, H), the gradient arriving at the last cell state (null
     * for none; a seq2seq whose decoder starts from the encoder's (h, c) passes the decoder's dc here).
     * Afterwards dh() and dc() hold the gradients w.r.t. the initial h0 and c0.
     */
    public Tensor backward(Tensor dhs, Tensor dcLast) {
        if (x == null) {
            throw new IllegalStateException("TimeLSTM.backward before forward");
        }
        int t = sizedT, n = sizedN, g = 4 * H, m = t * n;
        if (dhs.size() != (long) m * H) {
            throw new IllegalArgumentException("TimeLSTM.backward needs dhs (T=" + t + ", N=" + n + ", H=" + H
                    + "), got " + dhs);
        }
        backend.copy(dhsWork, dhs);
        Tensor dcNext = dcPing;
        if (dcLast != null) {
            backend.copy(dcNext, dcLast);
        } else {
            backend.fill(dcNext, 0f);
        }
        for (int s = t - 1; s >= 0; s--) {
            Tensor dcPrev = dcNext == dcPing ? dcPong : dcPing;
            // dhsT[s] already holds dhs_t + dh_next (the GEMM of step s+1 added it)
            backend.lstmCellBackward(dAT[s], dcPrev, gatesT[s], cT[s + 1], cT[s], dhsT[s], dcNext);
            // dh_prev = dA_t Wh^T: into step s-1's incoming gradient, or out as dh for h0
            if (s > 0) {
                backend.gemm(Transpose.NO, Transpose.YES, n, H, g, 1f, dAT[s], g, Wh.value(), g, 1f, dhsT[s - 1], H);
            } else {
                backend.gemm(Transpose.NO, Transpose.YES, n, H, g, 1f, dAT[s], g, Wh.value(), g, 0f, dh0, H);
            }
            dcNext = dcPrev;
        }
        dc0 = dcNext;

        // dWx += x^T dA, dWh += Hprev^T dA (Hprev = hAll[0 .. T)), db += sum of dA's rows, dxs = dA Wx^T
        backend.gemm(Transpose.YES, Transpose.NO, D, g, m, 1f, x, D, dA, g, 1f, Wx.grad(), g);
        backend.gemm(Transpose.YES, Transpose.NO, H, g, m, 1f, hAll, H, dA, g, 1f, Wh.grad(), g);
        backend.sumRows(b.grad(), dA2, 1f);
        backend.gemm(Transpose.NO, Transpose.YES, m, D, g, 1f, dA, g, Wx.value(), g, 0f, dxs, D);
        backwardDone = true;
        return dxs;
    }

    /** The state to start the next forward from (stateful only). c == null starts from c = 0, as in the book. */
    public void setState(Tensor h, Tensor c) {
        if (!stateful) {
            throw new IllegalStateException("setState on a TimeLSTM that is not stateful would be ignored by forward");
        }
        if (h.rank() != 2 || h.dim(1) != H || (c != null && (c.rank() != 2 || c.dim(0) != h.dim(0) || c.dim(1) != H))) {
            throw new IllegalArgumentException("TimeLSTM.setState needs h (N, H=" + H + ") and c (N, H) or null, got h "
                    + h + ", c " + c);
        }
        sizeState(h.dim(0));
        backend.copy(hState, h);
        hasH = true;
        if (c != null) {
            backend.copy(cState, c);
        }
        hasC = c != null;
    }

    public void setState(Tensor h) {
        setState(h, null);
    }

    /** Forgets the carried state: the next forward starts from h = c = 0. */
    public void resetState() {
        hasH = false;
        hasC = false;
    }

    /** The last forward's final hidden state h_T (N, H), a view into this layer's buffer. */
    public Tensor h() {
        requireForward();
        return hT[sizedT];
    }

    /** The last forward's final cell state c_T (N, H). */
    public Tensor c() {
        requireForward();
        return cT[sizedT];
    }

    /** hs (T, N, H) of the last forward. */
    public Tensor hs() {
        requireForward();
        return hs;
    }

    /** Gradient w.r.t. the initial h0 (N, H), after backward (the book's dh). */
    public Tensor dh() {
        requireBackward();
        return dh0;
    }

    /** Gradient w.r.t. the initial c0 (N, H), after backward. */
    public Tensor dc() {
        requireBackward();
        return dc0;
    }

    private void requireForward() {
        if (x == null) {
            throw new IllegalStateException("TimeLSTM has not run forward yet");
        }
    }

    private void requireBackward() {
        if (!backwardDone) {
            throw new IllegalStateException("TimeLSTM has not run backward since its last forward");
        }
    }

    @Override
    public void close() {
        ws.close();
        stateWs.close();
    }
}
