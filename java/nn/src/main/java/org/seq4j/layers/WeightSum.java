// The book's WeightSum (ch08): the context c[n, :] (N, H) = sum_t a[n, t] * hs[t, n, :], hs (T, N, H) time-major.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/** The book's WeightSum (ch08): c[n, :] (N, H) = sum_t a[n, t] * hs[t, n, :], hs (T, N, H) time-major. */
public final class WeightSum implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("WeightSum");   // forward, then one backward
    private Tensor c;            // (N, H)
    private Tensor dhs;          // (T, N, H)
    private Tensor da;           // (N, T)
    private Tensor hs, a;        // the last forward's inputs

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public WeightSum(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * c (N, H) for hs (T, N, H) and a (N, T).
     *
     * @param hs (T, N, H), kept for backward
     * @param a  (N, T), kept for backward
     * @return c (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes do not fit, or an input lies in this layer's own buffers
     */
    public Tensor forward(Tensor hs, Tensor a) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            if (hs.rank() != 3 || !Shapes.is2(a, hs.dim(1), hs.dim(0))) {
                throw new IllegalArgumentException("WeightSum.forward needs hs (T, N, H) and a (N, T), got " + hs
                        + " and "
                        + a);
            }
            ws.refuseOwn("WeightSum.forward", "hs", hs);
            ws.refuseOwn("WeightSum.forward", "a", a);
            if (!Shapes.same(dhs, hs)) {
                int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
                dhs = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                c = ws.floats(n, hd);
                da = ws.floats(n, t);
                dhs = ws.floats(t, n, hd);
            }
            backend.weightSumForward(c, hs, a);
            this.hs = hs;
            this.a = a;
            calls.keep("hs", hs);
            calls.keep("a", a);
            calls.forwardReturned();
            return c;
        } finally {
            calls.exit();
        }
    }

    /**
     * dhs (T, N, H) for dc (N, H); da() holds the gradient w.r.t. a.
     *
     * @param dc (N, H)
     * @return dhs (T, N, H), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(Tensor dc) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "weightSumBackward", "WeightSum.backward", "dc", dc);
            if (!Shapes.same(dc, c)) {
                throw Shapes.gradientShape("WeightSum.backward", "dc", dc, "the forward's output (N, H)", c.shape());
            }
            // its last dhs (a step of it) or da (T = H): filled and written while dc is read
            Workspace.refuseWritten("WeightSum.backward", "dc", dc, "dhs", dhs);
            Workspace.refuseWritten("WeightSum.backward", "dc", dc, "da", da);
            calls.backwardStarts();
            backend.fill(dhs, 0f);
            backend.weightSumBackward(dhs, da, hs, a, dc);
            calls.backwardReturned();
            return dhs;
        } finally {
            calls.exit();
        }
    }

    /**
     * The gradient w.r.t. a of the last forward's backward.
     *
     * @return da (N, T)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor da() {
        calls.requireBackward("da");
        return da;
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
