// The book's RMSprop: h = decay * h + (1 - decay) * grad^2; param -= lr * grad / (sqrt(h) + 1e-7).
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

/** The book's RMSprop: h = decay * h + (1 - decay) * grad^2; param -= lr * grad / (sqrt(h) + 1e-7). */
public final class RMSprop extends AbstractOptimizer {
    /** The book's epsilon added to the root. */
    public static final float EPS = 1e-7f;
    private final float decayRate;

    /**
     * An RMSprop optimizer; the book's defaults are lr 0.01, decay rate 0.99.
     *
     * @param lr the learning rate, finite and >= 0 (else IllegalArgumentException)
     * @param decayRate the running mean's decay (the book: 0.99), in [0, 1)
     * @throws IllegalArgumentException if decayRate is outside [0, 1) (NaN made every parameter NaN at the first step;
     *                                  1 keeps the mean of squares at 0, so every step divides by the epsilon alone)
     */
    public RMSprop(float lr, float decayRate) {
        super(lr);
        if (!(decayRate >= 0f && decayRate < 1f)) {
            throw new IllegalArgumentException("RMSprop needs a decay rate in [0, 1) (the book: 0.99), got " + decayRate);
        }
        this.decayRate = decayRate;
    }

    @Override
    protected void update(ParameterStore p) {
        p.backend().rmspropUpdate(p.values(), state(p, 1)[0], p.grads(), learningRate(), decayRate, EPS);
    }

    /** h keeps squared gradients: a gradient whose square is infinite in float is refused (AbstractOptimizer). */
    @Override
    protected boolean squaresGradients() {
        return true;
    }

    /**
     * lr * grad, divided by sqrt(h) + eps: at most lr times the largest gradient over eps (at the first step h is
     * (1 - decay) grad^2 and the move lr / sqrt(1 - decay): ten times lr at the book's decay).
     */
    @Override
    double reach(double gradMax) {
        return learningRate() * gradMax / EPS * ROUNDING;
    }

    @Override
    int stateCount() {
        return 1;
    }

    @Override
    double[] replay(float w, float g, float[][] state, int i) {
        double h = decayRate * (double) state[0][i] + (1.0 - decayRate) * g * (double) g;
        double product = (double) learningRate() * g;
        return new double[] {w - product / root(h, EPS), product};
    }

    @Override
    String hyperparameters() {
        return ", decay rate " + decayRate;
    }
}
