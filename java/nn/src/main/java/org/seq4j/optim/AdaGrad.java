// The book's AdaGrad: h += grad^2; param -= lr * grad / (sqrt(h) + 1e-7).
// h only grows, so gradients of ~1e17 and up (unclipped) make it overflow a float within some hundreds of steps; an
// infinite h freezes its weight without a word (grad / Inf = 0). A bound on h kept on the host (the sum of the steps'
// squared norms, from the check every step makes anyway) costs nothing; only once it nears float's range is h read
// and each h + grad^2 checked exactly, and the bound reset to what h holds.
package org.seq4j.optim;

import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/** The book's AdaGrad: h += grad^2; param -= lr * grad / (sqrt(h) + 1e-7). */
public final class AdaGrad extends AbstractOptimizer {
    /** The book's epsilon added to the root. */
    public static final float EPS = 1e-7f;

    // past this bound h is read and checked on the host: a factor of 4 below float's range covers the norm's own
    // rounding (a float reduction) many times over
    private static final double CHECK_ABOVE = Float.MAX_VALUE / 4.0;

    private double hBound;     // at least every element of h (0 before the first step)
    private double nextBound;  // what hBound becomes once the step under way has updated h

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

    /**
     * h keeps squared gradients: a gradient whose square is infinite in float is refused (AbstractOptimizer), and so is
     * a step whose h + grad^2 would be (h accumulates: gradients of 1e18 overflow it within a few hundred steps).
     */
    @Override
    protected boolean squaresGradients() {
        return true;
    }

    @Override
    void requireStateFits(ParameterStore params, String op, double norm, float rate) {
        double applied = norm * rate;   // every element's g^2 is at most the squared global norm
        nextBound = (hBound + applied * applied) * ROUNDING;
        if (nextBound > CHECK_ABOVE) {
            nextBound = measuredBound(params, op, rate);
        }
    }

    @Override
    void updated() {
        hBound = nextBound;
    }

    /** lr * grad, divided by sqrt(h) + eps: at most lr times the largest gradient over eps. */
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
        double product = (double) learningRate() * g;
        return new double[] {w - product / root(state[0][i] + (double) g * g, EPS), product};
    }

    /**
     * The largest h + g^2 in float over host copies of h and the gradients (scaled by rate as the clip scales them).
     *
     * @throws NonFiniteGradientException at the first element where it is infinite (nothing is written)
     */
    private double measuredBound(ParameterStore params, String op, float rate) {
        Tensor[] state = existingState();   // none before the first step: h is zero
        double max = 0;
        for (Parameter p : params.parameters()) {
            float[] h = new float[(int) p.size()];
            if (state != null) {
                params.backend().copyOut(h, params.part(state[0], p.name()));
            }
            float[] g = params.copyOutGrad(p.name());
            for (int i = 0; i < g.length; i++) {
                float scaled = rate == 1f ? g[i] : g[i] * rate;   // what the clip's scaleGrads writes
                float next = h[i] + scaled * scaled;   // as the kernels add it, fused (C may contract it) or not
                if (Float.isInfinite(next) || Float.isInfinite(Math.fma(scaled, scaled, h[i]))) {
                    throw NonFiniteGradientException.stateOverflows(op, p.name(), "h = " + h[i] + " and a gradient of "
                            + scaled + " at flat index " + i + " of " + Tensor.shapeString(p.shape()));
                }
                max = Math.max(max, next);
            }
        }
        return max * ROUNDING;
    }
}
