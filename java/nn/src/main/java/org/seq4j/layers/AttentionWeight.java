// The book's AttentionWeight (ch08): scores s[n, t] = hs[t, n, :] . h[n, :], then a (N, T) = softmax over t.
// Encoder states hs are time-major (T, N, H) here.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

public final class AttentionWeight implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private Tensor a;            // (N, T)
    private Tensor dhs;          // (T, N, H)
    private Tensor dh;           // (N, H)
    private Tensor hs, h;        // the last forward's inputs

    public AttentionWeight(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend);
    }

    /** a (N, T) for hs (T, N, H) and h (N, H). */
    public Tensor forward(Tensor hs, Tensor h) {
        if (hs.rank() != 3 || !Shapes.is2(h, hs.dim(1), hs.dim(2))) {
            throw new IllegalArgumentException("AttentionWeight.forward needs hs (T, N, H) and h (N, H), got " + hs
                    + " and " + h);
        }
        if (!Shapes.same(dhs, hs)) {
            int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
            ws.reset();
            a = ws.floats(n, t);
            dhs = ws.floats(t, n, hd);
            dh = ws.floats(n, hd);
        }
        backend.attentionWeightForward(a, hs, h);
        this.hs = hs;
        this.h = h;
        return a;
    }

    /** dhs (T, N, H) for da (N, T); dh() holds the gradient w.r.t. h. */
    public Tensor backward(Tensor da) {
        if (hs == null) {
            throw new IllegalStateException("AttentionWeight.backward before forward");
        }
        backend.fill(dhs, 0f);
        backend.attentionWeightBackward(dhs, dh, a, hs, h, da);
        return dhs;
    }

    public Tensor dh() {
        return dh;
    }

    @Override
    public void close() {
        ws.close();
    }
}
