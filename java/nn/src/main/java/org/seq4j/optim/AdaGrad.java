// The book's AdaGrad: h += grad^2; param -= lr * grad / (sqrt(h) + 1e-7).
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

/** The book's AdaGrad: h += grad^2; param -= lr * grad / (sqrt(h) + 1e-7). */
public final class AdaGrad extends AbstractOptimizer {
    /** The book's epsilon added to the root. */
    public static final float EPS = 1e-7f;

    /**
     * An AdaGrad optimizer; the book's default lr is 0.01.
     *
     * @param lr the learning rate, finite and >= 0 (else IllegalArgumentException)
     */
    public AdaGrad(float lr) {
        super(lr);
    }

    @Override
    protected void update(ParameterStore p) {
        p.backend().adagradUpdate(p.values(), state(p, 1)[0], p.grads(), learningRate(), EPS);
    }

    /** h keeps squared gradients: a gradient whose square is infinite in float is refused (AbstractOptimizer). */
    @Override
    protected boolean squaresGradients() {
        return true;
    }
}
