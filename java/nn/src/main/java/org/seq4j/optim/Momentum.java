// The book's Momentum SGD: v = momentum * v - lr * grad; param += v.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/** The book's Momentum SGD: v = momentum * v - lr * grad; param += v. */
public final class Momentum extends AbstractOptimizer {
    private final float momentum;

    /**
     * A Momentum optimizer; the book's defaults are lr 0.01, momentum 0.9.
     *
     * @param lr the learning rate, finite and >= 0 (else IllegalArgumentException)
     * @param momentum the velocity's decay (the book: 0.9), in [0, 1)
     * @throws IllegalArgumentException if momentum is outside [0, 1) (NaN made every parameter NaN at the first step,
     *                                  1 and above a velocity that never decays or grows without bound)
     */
    public Momentum(float lr, float momentum) {
        super(lr);
        if (!(momentum >= 0f && momentum < 1f)) {
            throw new IllegalArgumentException("Momentum needs a momentum in [0, 1) (the book: 0.9), got " + momentum);
        }
        this.momentum = momentum;
    }

    @Override
    protected void update(ParameterStore p) {
        Tensor v = state(p, 1)[0];
        p.backend().momentumUpdate(p.values(), v, p.grads(), learningRate(), momentum);
    }
}
