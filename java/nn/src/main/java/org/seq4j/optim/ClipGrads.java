// The book's clip_grads: gradient clipping by the global norm over every parameter. One reduction over the
// flat gradient buffer gives the norm; if max_norm / (norm + 1e-6) < 1, one scale kernel shrinks them all.
// A norm that is not finite is looked into on the host: a gradient that is NaN or infinite is refused (the step would
// write NaN into the weights), finite ones whose squares overflow a float are measured there in double.
// The measurement (measure) is also every optimizer step's check (AbstractOptimizer), clipping or not; its clipAndStep
// measures once for both, where ClipGrads.clip then step measure twice.
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
     * <p>
     * Followed by an optimizer step, which measures the gradients again for its own check, this reduces over them
     * twice; {@link Optimizer#clipAndStep} clips and steps with one measurement.
     *
     * @param params  the model's parameters; their gradients are scaled in place
     * @param maxNorm the largest global L2 norm allowed, above 0; Float.POSITIVE_INFINITY clips nothing (as PyTorch's
     *                clip_grad_norm_ with max_norm=inf): the gradients are measured (and refused if not finite), and
     *                left as they are
     * @return the global norm before clipping, as a float: Float.POSITIVE_INFINITY for finite gradients whose norm
     *         passes float's range (about 3.4e38; the clip took the norm in double), never for an infinite gradient,
     *         which is refused
     * @throws IllegalArgumentException if maxNorm is not above 0 (0, negative, negative infinity or NaN)
     * @throws NonFiniteGradientException if a gradient is NaN or infinite (nothing is scaled), also with a max norm of
     *         infinity
     * @throws NullPointerException if params is null
     */
    public static float clip(ParameterStore params, float maxNorm) {
        AbstractOptimizer.requireParams("ClipGrads.clip", params);   // "Cannot invoke ParameterStore.claim(String)"
        requireMaxNorm("ClipGrads.clip", maxNorm);   // "clip: ..." named no class
        params.claim("ClipGrads.clip");   // the norm and the scaling by it, with no other thread's write between
        try {
            double norm = measure(params, "ClipGrads.clip");
            scale(params, maxNorm, norm);
            return (float) norm;
        } finally {
            params.release();
        }
    }

    /**
     * Refuses a max norm that is not above 0 (0, negative or NaN), naming {@code op} and what it takes: the message
     * said "> 0" alone, where no clipping is Infinity (a trainer's maxGrad of 0 calls step alone instead).
     */
    static void requireMaxNorm(String op, float maxNorm) {
        if (!(maxNorm > 0f)) {
            throw new IllegalArgumentException(op + ": max norm must be > 0 (Infinity: no clipping), got " + maxNorm);
        }
    }

    /**
     * The global L2 norm of the gradients: one reduction on the device; only when that is not finite, the gradients on
     * the host (hostNorm), which refuses NaN or an infinity naming the parameter. A finite result means every gradient
     * is finite (a NaN or infinite one makes the sum of squares NaN or infinite).
     *
     * @param op the call, for the message ("clip", "Adam.step")
     * @throws NonFiniteGradientException if a gradient is NaN or infinite (nothing is written)
     */
    static double measure(ParameterStore params, String op) {
        double norm = params.gradNorm();
        return Double.isFinite(norm) ? norm : hostNorm(params, op);
    }

    /** The book's rule: scales every gradient by maxNorm / (norm + 1e-6) where that is below 1. */
    static void scale(ParameterStore params, float maxNorm, double norm) {
        float rate = rate(maxNorm, norm);
        if (rate != 1f) {
            params.scaleGrads(rate);
        }
    }

    /** The factor scale applies: maxNorm / (norm + 1e-6) where that is below 1, else 1 (no scaling). */
    static float rate(float maxNorm, double norm) {
        double rate = maxNorm / (norm + 1e-6);
        return rate < 1 ? (float) rate : 1f;
    }

    /** Below this a float's square is finite (sqrt(Float.MAX_VALUE) = 1.8446743e19): the squares check's bound. */
    private static final double SQUARE_BOUND = 1.8e19;

    /**
     * Refuses gradients that, scaled by {@code rate} as the clip scales them (1 when it does not), hold a value whose
     * square is infinite in float, for an optimizer that keeps squared gradients (Adam's v, AdaGrad's and RMSprop's h):
     * its state would turn infinite, so that weight stops moving, and Adam's v turns NaN the step after (Inf - Inf).
     * Only a norm of at least ~1.8e19 can hold such a value, so only then are the gradients read on the host.
     *
     * @throws NonFiniteGradientException naming the first such parameter and value (nothing is written)
     */
    static void requireSquaresFit(ParameterStore params, String op, double norm, float rate) {
        if (!(norm * rate >= SQUARE_BOUND)) {
            return;
        }
        for (Parameter p : params.parameters()) {
            float[] g = params.copyOutGrad(p.name());
            for (int i = 0; i < g.length; i++) {
                float scaled = rate == 1f ? g[i] : g[i] * rate;   // what the clip's scaleGrads writes
                if (Float.isInfinite(scaled * scaled)) {
                    throw NonFiniteGradientException.squareOverflows(op, p.name(), scaled + " at flat index " + i
                            + " of " + Tensor.shapeString(p.value().shape()) + (rate == 1f ? "" : " once clipped"));
                }
            }
        }
    }

    /**
     * The global norm in double over host copies of the gradients, one parameter at a time (a NaN or infinite norm is
     * rare: a diverged step, or finite gradients past ~1e19 whose squares overflow a float).
     *
     * @throws NonFiniteGradientException naming the first parameter whose gradient holds NaN or an infinity
     */
    private static double hostNorm(ParameterStore params, String op) {
        double sum = 0;
        for (Parameter p : params.parameters()) {
            float[] g = params.copyOutGrad(p.name());
            for (int i = 0; i < g.length; i++) {
                if (!Float.isFinite(g[i])) {
                    throw new NonFiniteGradientException(op, p.name(), g[i] + " at flat index " + i + " of "
                            + Tensor.shapeString(p.value().shape()));
                }
                sum += (double) g[i] * g[i];
            }
        }
        if (!Double.isFinite(sum)) {   // not reachable with finite floats (each square below 1.2e77), but said if so
            throw new NonFiniteGradientException(op, null, "a sum of squares of " + sum);
        }
        return Math.sqrt(sum);
    }
}
