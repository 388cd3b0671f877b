// The book's Momentum SGD: v = momentum * v - lr * grad; param += v.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/** The book's Momentum SGD: v = momentum * v - lr * grad; param += v. */
public final class Momentum extends AbstractOptimizer {
    private final float momentum;
    private double vBound;   // at least every |v| (0 before the first step)
    private double nextV;    // what vBound becomes once the step under way has updated v

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

    /**
     * The new v is the move: at most momentum times the largest |v| plus lr times the largest gradient, and so is each
     * of its two products. The bound is kept across steps (a v half written by a failed update is below the larger of
     * the old and new bounds, which it keeps until a step succeeds).
     */
    @Override
    double reach(double gradMax) {
        nextV = momentum * vBound + learningRate() * gradMax * ROUNDING;
        vBound = Math.max(vBound, nextV);
        return nextV;
    }

    @Override
    void updated() {
        vBound = nextV;
    }

    @Override
    int stateCount() {
        return 1;
    }

    @Override
    double[] replay(float w, float g, float[][] state, int i) {
        double kept = momentum * (double) state[0][i];
        double product = (double) learningRate() * g;
        double v = kept - product;
        return new double[] {w + v, Math.max(Math.max(Math.abs(kept), Math.abs(product)), Math.abs(v))};
    }

    @Override
    String hyperparameters() {
        return ", momentum " + momentum;
    }
}
