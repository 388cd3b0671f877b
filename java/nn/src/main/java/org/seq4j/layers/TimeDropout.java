// The book's TimeDropout (inverted dropout): in training, out = xs * mask with mask = 1/(1 - ratio) where a
// uniform draw is at least ratio, else 0; in evaluation, out = xs. Masks come from Backend.dropoutMask, a
// counter-based generator, so every backend draws the same mask; the seed advances on every training forward that returns.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/**
 * The book's TimeDropout (inverted dropout): in training, out = xs * mask with mask = 1/(1 - ratio) where a
 * uniform draw is at least ratio, else 0; in evaluation, out = xs. Every backend draws the same masks for a seed; the
 * seed advances on every training forward that returns.
 */
public final class TimeDropout implements AutoCloseable {
    /** Added to the seed on every training forward: an odd 64-bit constant, so successive seeds never repeat. */
    private static final long SEED_STEP = 0xD1B54A32D192ED03L;

    private final Backend backend;
    private final float ratio;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("TimeDropout");   // forward, then one backward
    private long seed;
    private boolean training = true;
    private boolean lastWasTraining;
    private Tensor mask, out, dx;   // shaped like xs
    private Tensor xs;              // the last forward's input (the caller's): its shape is the one backward takes

    /**
     * A dropout layer, in training mode.
     *
     * @param backend runs the kernels
     * @param ratio   the drop probability, in [0, 1)
     * @param seed    the first mask's seed
     * @throws IllegalArgumentException if ratio is outside [0, 1)
     */
    public TimeDropout(Backend backend, float ratio, long seed) {
        if (!(ratio >= 0f && ratio < 1f)) {
            throw new IllegalArgumentException("TimeDropout ratio must be in [0, 1), got " + ratio);
        }
        this.backend = backend;
        this.ratio = ratio;
        this.seed = seed;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * The book's train_flg: true draws masks, false passes xs through.
     *
     * @param training the mode
     */
    public void setTraining(boolean training) {
        calls.enter("setTraining");   // one thread at a time: a second one inside is refused
        try {
            this.training = training;
        } finally {
            calls.exit();
        }
    }

    /**
     * Whether forward draws masks.
     *
     * @return the mode
     */
    public boolean isTraining() {
        return training;
    }

    /**
     * Restarts the mask sequence (for reproducible runs and gradient checks).
     *
     * @param seed the next mask's seed
     */
    public void setSeed(long seed) {
        calls.enter("setSeed");   // one thread at a time: a second one inside is refused
        try {
            this.seed = seed;
        } finally {
            calls.exit();
        }
    }

    /**
     * The next mask's seed: where setSeed left it, moved on by each training forward that returned.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * The drop probability.
     *
     * @return ratio, in [0, 1)
     */
    public float ratio() {
        return ratio;
    }

    /**
     * xs * mask in training (a new mask each call), xs itself in evaluation.
     *
     * @param xs float32, any shape, e.g. (T, N, D)
     * @return the result, xs's shape: the layer's buffer, valid until its next forward, or xs itself
     */
    public Tensor forward(Tensor xs) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            // null, or closed: the mask's product refused it as "mul: a ..."; evaluation returned it as is, to fail
            // further on
            Shapes.requireInput("TimeDropout.forward", "xs", xs);
            lastWasTraining = training;
            this.xs = xs;
            if (!training) {
                calls.forwardReturned();
                return xs;
            }
            if (!Shapes.same(mask, xs)) {
                mask = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                out = ws.floats(xs.shape());
                dx = ws.floats(xs.shape());
                mask = ws.floats(xs.shape());
            }
            backend.dropoutMask(mask, ratio, seed);
            backend.mul(out, xs, mask);
            seed += SEED_STEP;   // once the mask is used: a refused forward draws the same mask again
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dout * mask (the same mask as the forward), or dout itself after an evaluation forward.
     *
     * @param dout the forward output's shape
     * @return dxs
     * @throws IllegalArgumentException if dout does not have the forward output's shape (another shape of the same
     *         size is refused too: the mask would be applied to the wrong elements)
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            if (lastWasTraining) {
                Shapes.requireGradient(backend, "mul", "TimeDropout.backward", "dout", dout);
            } else if (dout == null) {   // handed back as it is (below)
                throw new NullPointerException("TimeDropout.backward: dout is null");
            } else {   // handed back as it is: one of a closed arena failed further on, in another call's words
                dout.requireUsable("TimeDropout.backward", "dout");
            }
            // mul takes any shape of the same size: an (N, T, D) dout would be masked by the (T, N, D) mask's elements
            if (!Shapes.same(dout, xs)) {
                throw Shapes.gradientShape("TimeDropout.backward", "dout", dout, "the forward's output", xs.shape());
            }
            calls.backwardStarts();
            if (!lastWasTraining) {
                return dout;
            }
            backend.mul(dx, dout, mask);
            return dx;
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
