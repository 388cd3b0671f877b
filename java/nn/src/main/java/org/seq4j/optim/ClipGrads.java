// The book's clip_grads: gradient clipping by the global norm over every parameter. One reduction over the
// flat gradient buffer gives the norm; if max_norm / (norm + 1e-6) < 1, one scale kernel shrinks them all.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

/** The book's clip_grads: gradient clipping by the global norm over every parameter. */
public final class ClipGrads {
    private ClipGrads() {
    }

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when that is below 1, so the global norm is at most
     * about maxNorm.
     *
     * @param params  the model's parameters; their gradients are scaled in place
     * @param maxNorm the largest global L2 norm allowed
     * @return the global norm before clipping
     */
    public static float clip(ParameterStore params, float maxNorm) {
        if (!(maxNorm > 0f)) {
            throw new IllegalArgumentException("clip: max norm must be > 0, got " + maxNorm);
        }
        float norm = params.gradNorm();
        float rate = (float) (maxNorm / (norm + 1e-6));
        if (rate < 1f) {
            params.scaleGrads(rate);
        }
        return norm;
    }
}
