// The book's TimeAttention (ch08): Attention at every decoder step, all over the same encoder states.
// hsEnc (T_enc, N, H) and hsDec (T_dec, N, H) time-major; the gradient w.r.t. hsEnc accumulates over steps.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/**
 * The book's TimeAttention (ch08): Attention at every decoder step over the same encoder states, all
 * time-major; the gradient w.r.t. the encoder states accumulates over the steps.
 */
public final class TimeAttention implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("TimeAttention");   // forward, then one backward
    private int sizedTenc = -1, sizedTdec = -1, sizedN = -1, sizedH = -1;
    private Tensor weights;      // (T_dec, N, T_enc) attention weights of every step
    private Tensor out;          // (T_dec, N, H) contexts
    private Tensor dhsEnc;       // (T_enc, N, H)
    private Tensor dhsDec;       // (T_dec, N, H)
    private Tensor work;         // (N, T_enc) scratch
    private Tensor hsEnc, hsDec; // the last forward's inputs

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public TimeAttention(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * Contexts (T_dec, N, H) for encoder states hsEnc (T_enc, N, H) and decoder states hsDec (T_dec, N, H).
     *
     * @param hsEnc (T_enc, N, H), kept for backward
     * @param hsDec (T_dec, N, H), kept for backward
     * @return the contexts (T_dec, N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public Tensor forward(Tensor hsEnc, Tensor hsDec) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            // T_enc >= 1: the softmax over no encoder steps has no weights (the contexts came out as zeros)
            if (hsEnc.rank() != 3 || hsDec.rank() != 3 || hsEnc.dim(0) < 1 || hsEnc.dim(1) != hsDec.dim(1)
                    || hsEnc.dim(2) != hsDec.dim(2)) {
                throw new IllegalArgumentException("TimeAttention.forward needs hsEnc (T_enc >= 1, N, H) and hsDec "
                        + "(T_dec, N, H), got "
                        + hsEnc + " and " + hsDec);
            }
            ws.refuseOwn("TimeAttention.forward", "hsEnc", hsEnc);
            ws.refuseOwn("TimeAttention.forward", "hsDec", hsDec);
            int tEnc = hsEnc.dim(0), tDec = hsDec.dim(0), n = hsDec.dim(1), h = hsDec.dim(2);
            if (tEnc != sizedTenc || tDec != sizedTdec || n != sizedN || h != sizedH) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                weights = ws.floats(tDec, n, tEnc);
                out = ws.floats(tDec, n, h);
                dhsEnc = ws.floats(tEnc, n, h);
                dhsDec = ws.floats(tDec, n, h);
                work = ws.floats(n, tEnc);
                sizedTenc = tEnc;
                sizedTdec = tDec;
                sizedN = n;
                sizedH = h;
            }
            backend.timeAttentionForward(weights, out, hsEnc, hsDec);
            this.hsEnc = hsEnc;
            this.hsDec = hsDec;
            calls.keep("hsEnc", hsEnc);
            calls.keep("hsDec", hsDec);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dhsEnc (T_enc, N, H) for dout (T_dec, N, H); dhsDec() holds the gradient w.r.t. hsDec.
     *
     * @param dout (T_dec, N, H)
     * @return dhsEnc (T_enc, N, H), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     * @throws IllegalArgumentException if dout is not (T_dec, N, H) float32
     */
    public Tensor backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "timeAttentionBackward", "TimeAttention.backward", "dout", dout);
            if (!Shapes.same(dout, out)) {
                throw Shapes.gradientShape("TimeAttention.backward", "dout", dout, "the forward's output (T_dec, N, H)", out.shape());
            }
            // its last dhsEnc or dhsDec (T_enc = T_dec): the kernel writes them while it reads dout
            Workspace.refuseWritten("TimeAttention.backward", "dout", dout, "dhsEnc", dhsEnc);
            Workspace.refuseWritten("TimeAttention.backward", "dout", dout, "dhsDec", dhsDec);
            calls.backwardStarts();
            // every step's WeightSum and AttentionWeight gradients accumulate into dhsEnc
            backend.timeAttentionBackward(dhsEnc, dhsDec, work, weights, hsEnc, hsDec, dout);
            calls.backwardReturned();
            return dhsEnc;
        } finally {
            calls.exit();
        }
    }

    /**
     * The gradient w.r.t. hsDec of the last forward's backward.
     *
     * @return dhsDec (T_dec, N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor dhsDec() {
        calls.requireBackward("dhsDec");
        return dhsDec;
    }

    /**
     * Attention weights of the last forward: row [t, n] is step t's distribution over the encoder steps.
     *
     * @return (T_dec, N, T_enc)
     * @throws IllegalStateException if no forward returned (none ran, or the last one threw)
     */
    public Tensor attentionWeights() {
        calls.requireForward("attentionWeights");
        return weights;
    }

    /**
     * Whether {@code t} lies in this layer's own buffers: its output or a gradient it handed out, or a view of one. A
     * model part that hands them on (a decoder's attention weights, its encoder states' gradient) asks it to refuse
     * them back as an input it keeps reading.
     *
     * @param t any tensor
     * @return true if t's memory is this layer's
     * @throws NullPointerException if t is null
     */
    public boolean holds(Tensor t) {
        java.util.Objects.requireNonNull(t, "TimeAttention.holds: t is null");
        return ws.holds(t);
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
