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
     * @param momentum the velocity's decay (the book: 0.9)
     */
    public Momentum(float lr, float momentum) {
        super(lr);
        this.momentum = momentum;
    }

    @Override
    protected void update(ParameterStore p) {
        Tensor v = state(p, 1)[0];
        p.backend().momentumUpdate(p.values(), v, p.grads(), learningRate(), momentum);
    }
}
