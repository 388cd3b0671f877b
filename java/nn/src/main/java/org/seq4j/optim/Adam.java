// The book's Adam with its bias correction folded into the step size:
// lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m += (1 - beta1)(grad - m); v += (1 - beta2)(grad^2 - v);
// param -= lr_t * m / (sqrt(v) + 1e-7). lr_t is computed in double on the host, once per step.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/**
 * The book's Adam with its bias correction folded into the step size:
 * lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m += (1 - beta1)(grad - m); v += (1 - beta2)(grad^2 - v);
 * param -= lr_t * m / (sqrt(v) + 1e-7).
 */
public final class Adam extends AbstractOptimizer {
    /** The book's epsilon added to the root. */
    public static final float EPS = 1e-7f;
    private final float beta1, beta2;
    private double mBound;   // at least every |m| (0 before the first step): m is a running mean of the gradients
    private float lrT;       // the step under way's lr_t: set by reach, which every step calls before update

    /**
     * Adam with the book's defaults: beta1 0.9, beta2 0.999 (the book's lr is 0.001).
     *
     * @param lr the learning rate, finite and >= 0 (else IllegalArgumentException)
     */
    public Adam(float lr) {
        this(lr, 0.9f, 0.999f);
    }

    /**
     * Adam with the given moments' decays.
     *
     * @param lr the learning rate, finite and >= 0 (else IllegalArgumentException)
     * @param beta1 the first moment's decay, in [0, 1)
     * @param beta2 the second moment's decay, in [0, 1)
     * @throws IllegalArgumentException if a beta is outside [0, 1)
     */
    public Adam(float lr, float beta1, float beta2) {
        super(lr);
        if (!(beta1 >= 0f && beta1 < 1f) || !(beta2 >= 0f && beta2 < 1f)) {
            throw new IllegalArgumentException("Adam needs beta1 and beta2 in [0, 1), got " + beta1 + ", " + beta2);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
    }

    /**
     * Steps taken so far (the book's iter).
     *
     * @return the count
     */
    public long iteration() {
        return steps();
    }

    @Override
    protected void update(ParameterStore p) {
        Tensor[] mv = state(p, 2);
        p.backend().adamUpdate(p.values(), mv[0], mv[1], p.grads(), lrT, beta1, beta2, EPS, true);
    }

    /**
     * lr_t * m, divided by sqrt(v) + eps: at most lr_t times the largest |m| over eps, and m, a running mean of the
     * gradients, stays within the largest gradient it has taken in.
     */
    @Override
    double reach(double gradMax) {
        long t = steps() + 1;   // lr_t in double, once a step; update and replay use it (a refused step counts none)
        lrT = (float) (learningRate() * Math.sqrt(1.0 - Math.pow(beta2, t)) / (1.0 - Math.pow(beta1, t)));
        mBound = Math.max(mBound, gradMax * ROUNDING);
        return lrT * mBound / EPS;
    }

    @Override
    int stateCount() {
        return 2;
    }

    @Override
    double[] replay(float w, float g, float[][] state, int i) {
        double m = state[0][i] + (1.0 - beta1) * (g - (double) state[0][i]);
        double v = state[1][i] + (1.0 - beta2) * (g * (double) g - state[1][i]);
        double product = (double) lrT * m;
        return new double[] {w - product / root(v, EPS), product};
    }

    /** The update zeroes the gradients in its pass (Backend.adamUpdate with zeroGrad): step needs no fill after it. */
    @Override
    protected boolean updateZeroesGrads() {
        return true;
    }

    /** v keeps squared gradients: a gradient whose square is infinite in float is refused (AbstractOptimizer). */
    @Override
    protected boolean squaresGradients() {
        return true;
    }

    @Override
    String hyperparameters() {
        return ", beta1 " + beta1 + ", beta2 " + beta2;
    }
}
