// The book's Attention (ch08): AttentionWeight then WeightSum, for one decoder step h (N, H) over the
// encoder states hs (T, N, H). Both backward kernels accumulate into one dhs, which is the book's dhs0 + dhs1.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/**
 * The book's Attention (ch08) for one decoder step: AttentionWeight then WeightSum over the encoder states
 * hs (T, N, H).
 */
public final class Attention implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("Attention");   // forward, then one backward
    private Tensor a;            // (N, T) attention weights
    private Tensor c;            // (N, H) context
    private Tensor dhs;          // (T, N, H)
    private Tensor da;           // (N, T)
    private Tensor dh;           // (N, H)
    private Tensor hs, h;

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public Attention(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * The context c (N, H) for hs (T, N, H) and h (N, H).
     *
     * @param hs (T, N, H), time-major encoder states, kept for backward
     * @param h  (N, H), the decoder state
     * @return c (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes do not fit, or an input lies in this layer's own buffers
     */
    public Tensor forward(Tensor hs, Tensor h) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            // T >= 1: the softmax over no encoder steps has no weights (the context came out as zeros)
            if (hs.rank() != 3 || hs.dim(0) < 1 || !Shapes.is2(h, hs.dim(1), hs.dim(2))) {
                throw new IllegalArgumentException("Attention.forward needs hs (T >= 1, N, H) and h (N, H), got " + hs
                        + " and "
                        + h);
            }
            ws.refuseOwn("Attention.forward", "hs", hs);
            ws.refuseOwn("Attention.forward", "h", h);
            if (!Shapes.same(dhs, hs)) {
                int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
                dhs = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                a = ws.floats(n, t);
                c = ws.floats(n, hd);
                da = ws.floats(n, t);
                dh = ws.floats(n, hd);
                dhs = ws.floats(t, n, hd);
            }
            backend.attentionWeightForward(a, hs, h);
            backend.weightSumForward(c, hs, a);
            this.hs = hs;
            this.h = h;
            calls.keep("hs", hs);
            calls.keep("h", h);
            calls.forwardReturned();
            return c;
        } finally {
            calls.exit();
        }
    }

    /**
     * dhs (T, N, H) for dc (N, H); dh() holds the gradient w.r.t. h.
     *
     * @param dc (N, H)
     * @return dhs (T, N, H), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(Tensor dc) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "weightSumBackward", "Attention.backward", "dc", dc);
            if (!Shapes.same(dc, c)) {
                throw Shapes.gradientShape("Attention.backward", "dc", dc, "the forward's output (N, H)", c.shape());
            }
            // a step of its last dhs: filled and written while dc is read (dh is written after dc's last read)
            Workspace.refuseWritten("Attention.backward", "dc", dc, "dhs", dhs);
            calls.backwardStarts();
            backend.fill(dhs, 0f);
            backend.weightSumBackward(dhs, da, hs, a, dc);
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

    /**
     * The attention weights a (N, T) of the last forward.
     *
     * @return a (N, T), rows summing to 1
     * @throws IllegalStateException if no forward returned (none ran, or the last one threw)
     */
    public Tensor attentionWeight() {
        calls.requireForward("attentionWeight");
        return a;
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
