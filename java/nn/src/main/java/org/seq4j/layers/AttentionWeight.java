// The book's AttentionWeight (ch08): scores s[n, t] = hs[t, n, :] . h[n, :], then a (N, T) = softmax over t.
// Encoder states hs are time-major (T, N, H) here.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/**
 * The book's AttentionWeight (ch08): s[n, t] = hs[t, n, :] . h[n, :], then a (N, T) = softmax over t;
 * hs is time-major (T, N, H).
 */
public final class AttentionWeight implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("AttentionWeight");   // forward, then one backward
    private Tensor a;            // (N, T)
    private Tensor dhs;          // (T, N, H)
    private Tensor dh;           // (N, H)
    private Tensor hs, h;        // the last forward's inputs

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public AttentionWeight(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * a (N, T) for hs (T, N, H) and h (N, H).
     *
     * @param hs (T, N, H), kept for backward
     * @param h  (N, H), kept for backward
     * @return a (N, T), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes do not fit, or an input lies in this layer's own buffers
     */
    public Tensor forward(Tensor hs, Tensor h) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            // T >= 1: the softmax over no encoder steps has no weights
            if (hs.rank() != 3 || hs.dim(0) < 1 || !Shapes.is2(h, hs.dim(1), hs.dim(2))) {
                throw new IllegalArgumentException("AttentionWeight.forward needs hs (T >= 1, N, H) and h (N, H), got "
                        + hs
                        + " and " + h);
            }
            ws.refuseOwn("AttentionWeight.forward", "hs", hs);
            ws.refuseOwn("AttentionWeight.forward", "h", h);
            if (!Shapes.same(dhs, hs)) {
                int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
                dhs = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                a = ws.floats(n, t);
                dh = ws.floats(n, hd);
                dhs = ws.floats(t, n, hd);
            }
            backend.attentionWeightForward(a, hs, h);
            this.hs = hs;
            this.h = h;
            calls.keep("hs", hs);
            calls.keep("h", h);
            calls.forwardReturned();
            return a;
        } finally {
            calls.exit();
        }
    }

    /**
     * dhs (T, N, H) for da (N, T); dh() holds the gradient w.r.t. h.
     *
     * @param da (N, T)
     * @return dhs (T, N, H), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(Tensor da) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "attentionWeightBackward", "AttentionWeight.backward", "da", da);
            if (!Shapes.same(da, a)) {
                throw Shapes.gradientShape("AttentionWeight.backward", "da", da, "the forward's output (N, T)", a.shape());
            }
            // its last dhs (a step of it, T = H) or dh: filled and written while da is read
            Workspace.refuseWritten("AttentionWeight.backward", "da", da, "dhs", dhs);
            Workspace.refuseWritten("AttentionWeight.backward", "da", da, "dh", dh);
            calls.backwardStarts();
            backend.fill(dhs, 0f);
            backend.attentionWeightBackward(dhs, dh, a, hs, h, da);
            calls.backwardReturned();
            return dhs;
        } finally {
            calls.exit();
        }
    }

    /**
     * The gradient w.r.t. h of the last forward's backward.
     *
     * @return dh (N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor dh() {
        calls.requireBackward("dh");
        return dh;
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
