// The book's SGD: param -= lr * grad.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

/** The book's SGD: param -= lr * grad. */
public final class SGD extends AbstractOptimizer {

    /**
     * An SGD optimizer; the book's default lr is 0.01.
     *
     * @param lr the learning rate, finite and >= 0 (else IllegalArgumentException)
     */
    public SGD(float lr) {
        super(lr);
    }

    @Override
    protected void update(ParameterStore p) {
        p.backend().sgdUpdate(p.values(), p.grads(), learningRate());
    }

    /** lr * grad: the move and its one product. */
    @Override
    double reach(double gradMax) {
        return learningRate() * gradMax * ROUNDING;
    }

    @Override
    double[] replay(float w, float g, float[][] state, int i) {
        double product = (double) learningRate() * g;
        return new double[] {w - product, product};
    }
}
