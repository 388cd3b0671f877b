// The book's clip_grads: gradient clipping by the global norm over every parameter. One reduction over the
// flat gradient buffer gives the norm; if max_norm / (norm + 1e-6) < 1, one scale kernel shrinks them all.
// A norm that is not finite is looked into on the host: a gradient that is NaN or infinite is refused (the step would
// write NaN into the weights), finite ones whose squares overflow a float are measured there in double.
package org.seq4j.optim;

import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/** The book's clip_grads: gradient clipping by the global norm over every parameter. */
public final class ClipGrads {
    private ClipGrads() {
    }

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when that is below 1, so the global norm is at most
     * about maxNorm.
     * <p>
     * Finite gradients whose sum of squares passes float's range (gradients above about 1e19) are measured again on
     * the host in double, and clipped by that norm, as the book's clip_grads would with exact arithmetic; the float32
     * numpy of the book (and PyTorch's clip_grad_norm_) take the infinite norm instead and scale every gradient by 0.
     * <p>
     * A gradient that is NaN or infinite (training diverged, or an input held an infinity: saturated gates keep the
     * loss finite while the gradients are not) is refused with a {@link NonFiniteGradientException} naming the
     * parameter, the gradients left as they were. The book scales them all by 0 (NaN where one is infinite) or, for a
     * NaN norm, does nothing; either way the optimizer's next step wrote NaN into the weights without a word.
     *
     * @param params  the model's parameters; their gradients are scaled in place
     * @param maxNorm the largest global L2 norm allowed
     * @return the global norm before clipping
     * @throws IllegalArgumentException if maxNorm is not above 0 (0, negative or NaN)
     * @throws NonFiniteGradientException if a gradient is NaN or infinite (nothing is scaled)
     */
    public static float clip(ParameterStore params, float maxNorm) {
        if (!(maxNorm > 0f)) {
            throw new IllegalArgumentException("clip: max norm must be > 0, got " + maxNorm);
        }
        double norm = params.gradNorm();
        if (!Double.isFinite(norm)) {
            norm = hostNorm(params);   // throws if a gradient is not finite
        }
        double rate = maxNorm / (norm + 1e-6);
        if (rate < 1) {
            params.scaleGrads((float) rate);
        }
        return (float) norm;
    }

    /**
     * The global norm in double over host copies of the gradients, one parameter at a time (a NaN or infinite norm is
     * rare: a diverged step, or finite gradients past ~1e19 whose squares overflow a float).
     *
     * @throws NonFiniteGradientException naming the first parameter whose gradient holds NaN or an infinity
     */
    private static double hostNorm(ParameterStore params) {
        double sum = 0;
        for (Parameter p : params.parameters()) {
            float[] g = params.copyOutGrad(p.name());
            for (int i = 0; i < g.length; i++) {
                if (!Float.isFinite(g[i])) {
                    throw new NonFiniteGradientException("clip", p.name(), g[i] + " at flat index " + i + " of "
                            + Tensor.shapeString(p.value().shape()));
                }
                sum += (double) g[i] * g[i];
            }
        }
        if (!Double.isFinite(sum)) {   // not reachable with finite floats (each square below 1.2e77), but said if so
            throw new NonFiniteGradientException("clip", null, "a sum of squares of " + sum);
        }
        return Math.sqrt(sum);
    }
}
