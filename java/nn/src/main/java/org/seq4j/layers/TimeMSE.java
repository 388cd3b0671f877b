// Mean squared error for regression over time-major outputs ys (T, N, F), with the scale of seed 004's
// TimeOutputWithLoss: loss = 0.5 * sum over the selected elements of (y - t)^2, divided by N (the batch),
// so dys = (y - t) / N. Steps.ALL scores every step (targets (T, N, F)); Steps.LAST only the last step
// (many-to-one, targets (N, F)) and gives the other steps a zero gradient.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/**
 * Mean squared error for regression over time-major outputs ys (T, N, F): loss = 0.5 * sum over the selected
 * elements of (y - t)^2, divided by N (the batch), so dys = (y - t) / N.
 */
public final class TimeMSE implements AutoCloseable {
    /** Which steps the loss looks at. */
    public enum Steps {
        /** Every step is scored; targets (T, N, F). */
        ALL,
        /** Only the last step (many-to-one); targets (N, F), the other steps get a zero gradient. */
        LAST
    }

    private final Backend backend;
    private final Steps steps;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("TimeMSE");   // forward, then one backward
    private final ViewCache lastStep = new ViewCache();
    private final ViewCache dysLast = new ViewCache();
    private Tensor loss;       // (1,)
    private Tensor dys;        // (T, N, F)
    private Tensor ys, ts;     // the last forward's inputs (ys itself, or its last step)
    private float scale;

    /**
     * A loss layer.
     *
     * @param backend runs the kernels
     * @param steps   which steps are scored
     */
    public TimeMSE(Backend backend, Steps steps) {
        this.backend = backend;
        this.steps = steps;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * Which steps are scored.
     *
     * @return ALL or LAST
     */
    public Steps steps() {
        return steps;
    }

    /**
     * loss (1,) = 0.5 * sum((y - t)^2) / N over ys (T, N, F) and ts (T, N, F), or (N, F) for Steps.LAST.
     *
     * @param ys (T, N, F) predictions, kept for backward
     * @param ts (T, N, F) targets, or (N, F) for LAST
     * @return loss (1,), the layer's buffer
     * @throws IllegalArgumentException if the shapes do not fit, or ys or ts lies in this layer's own buffers
     */
    public Tensor forward(Tensor ys, Tensor ts) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            Shapes.requireInput("TimeMSE.forward", "ys", ys);   // else "mseForward: ..."
            Shapes.requireInput("TimeMSE.forward", "ts", ts);
            // ys or ts in this layer's dys (its last backward's output, fed back): with Steps.LAST the backward's
            // fill of dys zeroed the predictions before it read them, every gradient silently 0
            ws.refuseOwn("TimeMSE.forward", "ys", ys);
            ws.refuseOwn("TimeMSE.forward", "ts", ts);
            if (ys.rank() != 3) {
                throw new IllegalArgumentException("TimeMSE.forward needs ys (T, N, F), got " + ys);
            }
            int t = ys.dim(0), n = ys.dim(1), f = ys.dim(2);
            if (n < 1 || (steps == Steps.LAST && t < 1)) {
                // the loss divides by N; LAST scores step T - 1
                throw new IllegalArgumentException("TimeMSE.forward (" + steps + " steps) needs ys (T" + (steps
                        == Steps.LAST ? " >= 1" : "") + ", N >= 1, F), got " + ys);
            }
            boolean ok = steps == Steps.ALL ? Shapes.same(ys, ts) : Shapes.is2(ts, n, f);
            if (!ok) {
                throw new IllegalArgumentException("TimeMSE.forward (" + steps + " steps) needs targets "
                        + (steps == Steps.ALL ? "(T=" + t + ", N=" + n + ", F=" + f + ")" : "(N=" + n + ", F=" + f
                                + ")")
                        + " for ys " + ys + ", got " + ts);
            }
            if (!Shapes.same(dys, ys)) {
                dys = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                loss = ws.floats(1);
                dys = ws.floats(t, n, f);
            }
            Tensor scored = steps == Steps.ALL ? ys : lastStep.row(ys, t - 1);
            this.scale = 0.5f / n;
            backend.mseForward(loss, scored, ts, scale);
            this.ys = scored;
            this.ts = ts;
            calls.keep("ys", scored);
            calls.keep("ts", ts);
            calls.forwardReturned();
            return loss;
        } finally {
            calls.exit();
        }
    }

    /**
     * dys (T, N, F) = dout * (y - t) / N on the selected steps, 0 elsewhere.
     *
     * @param dout the loss's gradient (1 for the loss itself)
     * @return dys (T, N, F), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(float dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardStarts();
            if (steps == Steps.ALL) {
                backend.mseBackward(dys, ys, ts, scale * dout);
            } else {
                backend.fill(dys, 0f);
                backend.mseBackward(dysLast.row(dys, dys.dim(0) - 1), ys, ts, scale * dout);
            }
            return dys;
        } finally {
            calls.exit();
        }
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
