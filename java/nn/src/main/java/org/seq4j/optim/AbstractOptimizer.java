// State handling shared by the optimizers: state buffers shaped like the flat parameter buffer, allocated
// zero-filled on the first step and bound to that store once it succeeds; one thread at a time, nothing after close.
// And the gradients' check, before every update: one reduction over them (ClipGrads.measure), which refuses NaN or an
// infinity before anything is written, clipping or not (with clipping off a step wrote NaN into the weights, and after
// the last step of training the model was left NaN), and which clipAndStep's clip shares; for the optimizers that keep
// squared gradients, also finite gradients whose squares overflow a float (Adam's v went Inf, then NaN).
package org.seq4j.optim;

import java.lang.foreign.Arena;
import org.seq4j.backend.Confinement;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The optimizers' shared part: learning rate checks, thread confinement, and state buffers shaped like the flat
 * parameter buffer, made zero-filled on the first step and bound to that store.
 */
public abstract class AbstractOptimizer implements Optimizer {
    private float lr;
    private ParameterStore bound;   // the store of the first step that succeeded; the state follows it
    private Arena arena;
    private Tensor[] state;
    private final Confinement guard = new Confinement(getClass().getSimpleName());
    // built once: step must not allocate
    private final String stepOp = getClass().getSimpleName() + ".step";
    private final String clipAndStepOp = getClass().getSimpleName() + ".clipAndStep";

    /**
     * An optimizer with learning rate {@code lr}.
     *
     * @param lr the learning rate, finite and >= 0
     * @throws IllegalArgumentException otherwise
     */
    protected AbstractOptimizer(float lr) {
        this.lr = checkedRate(lr);
    }

    @Override
    public float learningRate() {
        return lr;
    }

    @Override
    public final void setLearningRate(float lr) {
        float checked = checkedRate(lr);
        guard.enter("setLearningRate");
        try {
            this.lr = checked;
        } finally {
            guard.exit();
        }
    }

    private static float checkedRate(float lr) {
        if (!(lr >= 0f) || Float.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        }
        return lr;
    }

    @Override
    public final void step(ParameterStore params) {
        guard.enter("step");   // after close this throws: the state is gone, and starting over would be silent
        try {
            stepHeld(params, stepOp, 0f);
        } finally {
            guard.exit();
        }
    }

    /**
     * ClipGrads.clip(params, maxNorm), then step(params), with one reduction over the gradients for both: the norm
     * that the clip scales by is the one that the step's check found finite.
     *
     * @param params  the model's parameters and gradients
     * @param maxNorm the largest global L2 norm of the gradients allowed, above 0
     * @return the global norm before clipping
     * @throws NonFiniteGradientException if a gradient is NaN or infinite, naming the parameter: nothing is scaled or
     *                                  written
     */
    @Override
    public final float clipAndStep(ParameterStore params, float maxNorm) {
        ClipGrads.requireMaxNorm(clipAndStepOp, maxNorm);
        guard.enter("clipAndStep");
        try {
            return stepHeld(params, clipAndStepOp, maxNorm);
        } finally {
            guard.exit();
        }
    }

    /**
     * The step, held: the checks, the clip where maxNorm is above 0, the update. Returns the norm before clipping. The
     * store, and the model it belongs to, is claimed from the check to the zeroing: a copyIn, a checkpoint load or a
     * generate on another thread meanwhile is refused (and refuses this step), where it read or wrote weights half
     * updated.
     */
    private float stepHeld(ParameterStore params, String op, float maxNorm) {
        if (bound != null && bound != params) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " holds state for " + bound
                    + " and cannot step " + params + "; use one optimizer per model");
        }
        params.claim(op);
        try {
            return stepClaimed(params, op, maxNorm);
        } finally {
            params.release();
        }
    }

    private float stepClaimed(ParameterStore params, String op, float maxNorm) {
        params.claimGrads(op);
        // NaN or an infinity is refused here, before anything is written: the weights, the state and the gradients
        // stay as they were
        double norm = ClipGrads.measure(params, op);
        if (squaresGradients()) {   // before the clip scales them: a refusal leaves the gradients as they were too
            float rate = maxNorm > 0f ? ClipGrads.rate(maxNorm, norm) : 1f;
            ClipGrads.requireSquaresFit(params, op, norm, rate);
            requireStateFits(params, op, norm, rate);
        }
        if (maxNorm > 0f) {
            ClipGrads.scale(params, maxNorm, norm);
        }
        boolean first = bound == null;
        try {
            update(params);
            bound = params;
            updated();
        } catch (RuntimeException | Error e) {
            if (first) {   // a refused first step binds no store and keeps no state made for it
                dropState();
            }
            throw e;
        } finally {
            params.valuesWritten();   // copies derived from the values (bf16 inference weights) are stale now
        }
        if (updateZeroesGrads()) {
            params.gradsZeroed();
        } else {
            params.zeroGrads();
        }
        return (float) norm;
    }

    /**
     * One kernel call over params.values() and params.grads().
     *
     * @param params the parameters to update
     */
    protected abstract void update(ParameterStore params);

    /**
     * Whether {@link #update} keeps the square of each gradient in float state (Adam's v, AdaGrad's and RMSprop's h):
     * then step refuses a finite gradient whose square is infinite in float (above about 1.8e19, after the clip where
     * it clips), with a {@link NonFiniteGradientException}, where the state would turn infinite and the weight stop
     * moving (Adam's NaN the step after). False here.
     *
     * @return false here
     */
    protected boolean squaresGradients() {
        return false;
    }

    /**
     * For an optimizer that squares gradients, after they passed {@link ClipGrads#requireSquaresFit} and before the
     * clip scales them: refuses a step that would make its state overflow a float (AdaGrad's accumulating h). Nothing
     * here; package-private, as is {@link #updated}.
     *
     * @param norm the gradients' global L2 norm before the clip
     * @param rate the factor the clip will scale them by (1 when it does not)
     * @throws NonFiniteGradientException if the state would turn infinite (nothing is written)
     */
    void requireStateFits(ParameterStore params, String op, double norm, float rate) {
    }

    /** After an update that succeeded. Nothing here. */
    void updated() {
    }

    /**
     * The state buffers made so far, without making them.
     *
     * @return the buffers, or null before the first update
     */
    final Tensor[] existingState() {
        return state;
    }

    /**
     * Whether {@link #update} leaves every gradient zero (its kernel clears them as it applies them), so that step
     * skips its fill over the gradients; false unless a subclass says so.
     *
     * @return false here
     */
    protected boolean updateZeroesGrads() {
        return false;
    }

    /**
     * {@code count} zero-filled state buffers shaped like the flat parameter buffer, made on first use.
     *
     * @param params the parameters the state follows
     * @param count  how many buffers (Adam: 2, momentum: 1)
     * @return the buffers, the same ones at every call
     */
    protected final Tensor[] state(ParameterStore params, int count) {
        if (state == null) {
            // kept only whole: an allocation that fails (device memory) leaves no half-made state for the next step
            Arena a = Arena.ofShared();
            Tensor[] s = new Tensor[count];
            try {
                for (int i = 0; i < count; i++) {
                    s[i] = params.backend().allocate(a, DType.F32, Math.toIntExact(params.values().size()));
                }
            } catch (RuntimeException | Error e) {
                a.close();
                throw e;
            }
            arena = a;
            state = s;
        }
        return state;
    }

    @Override
    public final void close() {
        if (!guard.enterClose()) {
            return;
        }
        try {
            dropState();
        } finally {
            guard.exit();
        }
    }

    private void dropState() {
        if (arena != null) {
            arena.close();
            arena = null;
            state = null;
        }
    }
}
