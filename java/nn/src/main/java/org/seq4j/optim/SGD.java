// The book's SGD: param -= lr * grad.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

public final class SGD extends AbstractOptimizer {

    /** The book's default lr is 0.01. */
    public SGD(float lr) {
        super(lr);
    }

    @Override
    protected void update(ParameterStore p) {
        p.backend().sgdUpdate(p.values(), p.grads(), learningRate());
    }
}
