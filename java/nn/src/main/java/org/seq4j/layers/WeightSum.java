// The book's WeightSum (ch08): the context c[n, :] (N, H) = sum_t a[n, t] * hs[t, n, :], hs (T, N, H) time-major.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

public final class WeightSum implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private Tensor c;            // (N, H)
    private Tensor dhs;          // (T, N, H)
    private Tensor da;           // (N, T)
    private Tensor hs, a;        // the last forward's inputs

    public WeightSum(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend);
    }

    /** c (N, H) for hs (T, N, H) and a (N, T). */
    public Tensor forward(Tensor hs, Tensor a) {
        if (hs.rank() != 3 || !Shapes.is2(a, hs.dim(1), hs.dim(0))) {
            throw new IllegalArgumentException("WeightSum.forward needs hs (T, N, H) and a (N, T), got " + hs + " and "
                    + a);
        }
        if (!Shapes.same(dhs, hs)) {
            int t = hs.dim(0), n = hs.dim(1), hd = hs.dim(2);
            ws.reset();
            c = ws.floats(n, hd);
            dhs = ws.floats(t, n, hd);
            da = ws.floats(n, t);
        }
        backend.weightSumForward(c, hs, a);
        this.hs = hs;
        this.a = a;
        return c;
    }

    /** dhs (T, N, H) for dc (N, H); da() holds the gradient w.r.t. a. */
    public Tensor backward(Tensor dc) {
        if (hs == null) {
            throw new IllegalStateException("WeightSum.backward before forward");
        }
        backend.fill(dhs, 0f);
        backend.weightSumBackward(dhs, da, hs, a, dc);
        return dhs;
    }

    public Tensor da() {
        return da;
    }

    @Override
    public void close() {
        ws.close();
    }
}
