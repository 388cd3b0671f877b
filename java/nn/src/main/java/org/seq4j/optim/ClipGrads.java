// The book's clip_grads: gradient clipping by the global norm over every parameter. One reduction over the
// flat gradient buffer gives the norm; if max_norm / (norm + 1e-6) < 1, one scale kernel shrinks them all.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

/** The book's clip_grads: gradient clipping by the global norm over every parameter. */
public final class ClipGrads {
    private ClipGrads() {
    }

    /** 2^-64: brings the square of any finite gradient up to 2^64 (float's largest is below 2^128) into float's range. */
    private static final float DOWN = 0x1p-64f;

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when that is below 1, so the global norm is at most
     * about maxNorm.
     * <p>
     * Finite gradients whose sum of squares passes float's range (gradients above about 1e19) are measured again
     * scaled down by 2^-64 (exact for every gradient above 2^-62), and clipped by the norm that measures, as the book's
     * clip_grads would with exact arithmetic; the float32 numpy of the book (and PyTorch's clip_grad_norm_) take the
     * infinite norm instead and scale every gradient by 0. A gradient that is infinite does get that: all become 0 (or
     * NaN where one is NaN), as there; a NaN norm leaves the gradients as they are, as there.
     *
     * @param params  the model's parameters; their gradients are scaled in place
     * @param maxNorm the largest global L2 norm allowed
     * @return the global norm before clipping (infinite where it is beyond float's range)
     * @throws IllegalArgumentException if maxNorm is not above 0 (0, negative or NaN)
     */
    public static float clip(ParameterStore params, float maxNorm) {
        if (!(maxNorm > 0f)) {
            throw new IllegalArgumentException("clip: max norm must be > 0, got " + maxNorm);
        }
        float norm = params.gradNorm();
        if (norm == Float.POSITIVE_INFINITY) {
            params.scaleGrads(DOWN);
            double scaled = params.gradNorm();
            if (Double.isFinite(scaled)) {
                // the gradients are now g 2^-64: the factor that gives g min(1, maxNorm / (|g| + 1e-6)) is that rate
                // times 2^64 (a rate of 1 or more leaves them as they were, as the book does: a maxNorm above the
                // norm, which a norm beyond float's range can be below, must not scale them up)
                double trueNorm = scaled / DOWN;
                params.scaleGrads((float) (Math.min(1.0, maxNorm / (trueNorm + 1e-6)) / DOWN));
                return (float) trueNorm;
            }
        }
        float rate = (float) (maxNorm / (norm + 1e-6));
        if (rate < 1f) {
            params.scaleGrads(rate);
        }
        return norm;
    }
}
