// The book's RMSprop: h = decay * h + (1 - decay) * grad^2; param -= lr * grad / (sqrt(h) + 1e-7).
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

public final class RMSprop extends AbstractOptimizer {
    public static final float EPS = 1e-7f;
    private final float decayRate;

    /** The book's defaults are lr 0.01, decay rate 0.99. */
    public RMSprop(float lr, float decayRate) {
        super(lr);
        this.decayRate = decayRate;
    }

    @Override
    protected void update(ParameterStore p) {
        p.backend().rmspropUpdate(p.values(), state(p, 1)[0], p.grads(), learningRate(), decayRate, EPS);
    }
}
