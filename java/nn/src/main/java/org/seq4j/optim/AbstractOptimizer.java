// State handling shared by the optimizers: state buffers shaped like the flat parameter buffer, allocated
// zero-filled on the first step and bound to that store once it succeeds; one thread at a time, nothing after close.
// And the gradients' check, before every update: one reduction over them (ClipGrads.measure), which refuses NaN or an
// infinity before anything is written, clipping or not (with clipping off a step wrote NaN into the weights, and after
// the last step of training the model was left NaN), and which clipAndStep's clip shares; for the optimizers that keep
// squared gradients, also finite gradients whose squares overflow a float (Adam's v went Inf, then NaN). And the
// update's own reach: a learning rate near float's range (RMSprop at 1e38 moves a weight by ten times that) wrote
// infinite weights and returned as if it had stepped. Each built-in optimizer bounds how far its update may move a
// weight, and how large a product it forms on the way, from the gradients' norm and a few scalars kept across steps
// (reach); only a reach of 1e30 or more, a rate no training uses, has the update replayed on host copies in double
// first (requireMovesFit), refusing before anything is written.
package org.seq4j.optim;

import java.lang.foreign.Arena;
import org.seq4j.backend.Confinement;
import org.seq4j.layers.Parameter;
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
    private long steps;             // updates that ran, for settings(): a rank whose state stepped alone is told apart
    private final Confinement guard = new Confinement(getClass().getSimpleName());
    // built once: step must not allocate
    private final String stepOp = getClass().getSimpleName() + ".step";
    private final String clipAndStepOp = getClass().getSimpleName() + ".clipAndStep";

    /**
     * An optimizer with learning rate {@code lr}.
     *
     * @param lr the learning rate, finite and >= 0 (0 leaves the weights as they are; -0.0 is taken as 0)
     * @throws IllegalArgumentException otherwise
     */
    protected AbstractOptimizer(float lr) {
        this.lr = checkedRate(getClass().getSimpleName(), lr);
    }

    @Override
    public float learningRate() {
        return lr;
    }

    @Override
    public final void setLearningRate(float lr) {
        float checked = checkedRate(getClass().getSimpleName() + ".setLearningRate", lr);
        guard.enter("setLearningRate");
        try {
            this.lr = checked;
        } finally {
            guard.exit();
        }
    }

    /**
     * lr, if it is finite and >= 0, refused alike by the constructors and setLearningRate otherwise (NaN, the
     * infinities, negative rates). -0.0 equals 0 and updates as 0 does; it is kept as +0.0, so learningRate() shows
     * the rate that runs (a schedule such as lr * (1 - t / T) may land on either zero).
     */
    private static float checkedRate(String op, float lr) {
        if (!(lr >= 0f) || Float.isInfinite(lr)) {
            throw new IllegalArgumentException(op + ": learning rate must be finite and >= 0, got " + lr);
        }
        return lr + 0f;   // -0.0 + 0.0 is +0.0; every other rate unchanged
    }

    /**
     * The class's simple name, the learning rate, the other hyperparameters and, for an optimizer that keeps state
     * (velocity, moments), the count of updates that ran (a refused step counts none), as its state follows them:
     * {@code "Momentum lr 0.1, momentum 0.9, 0 steps"}, {@code "SGD lr 0.5"}.
     *
     * @return the settings, one line
     */
    @Override
    public String settings() {
        String name = getClass().getSimpleName() + " lr " + lr + hyperparameters();
        return stateCount() == 0 ? name : name + ", " + steps + (steps == 1 ? " step" : " steps");
    }

    /** The updates that ran (a refused step counts none): Adam's t is this plus one during a step. */
    final long steps() {
        return steps;
    }

    /**
     * The hyperparameters other than the learning rate, for settings(): ", name value" each, or nothing.
     *
     * @return the text, empty for none
     */
    String hyperparameters() {
        return "";
    }

    @Override
    public final void step(ParameterStore params) {
        requireParams(stepOp, params);
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
     * @param maxNorm the largest global L2 norm of the gradients allowed, above 0; Float.POSITIVE_INFINITY clips
     *                nothing (the step alone, its check of the gradients included)
     * @return the global norm before clipping, as a float: Float.POSITIVE_INFINITY for finite gradients whose norm
     *         passes float's range (about 3.4e38; the clip took the norm in double), never for an infinite gradient,
     *         which is refused
     * @throws NonFiniteGradientException if a gradient is NaN or infinite, naming the parameter: nothing is scaled or
     *                                  written
     */
    @Override
    public final float clipAndStep(ParameterStore params, float maxNorm) {
        requireParams(clipAndStepOp, params);
        ClipGrads.requireMaxNorm(clipAndStepOp, maxNorm);
        guard.enter("clipAndStep");
        try {
            return stepHeld(params, clipAndStepOp, maxNorm);
        } finally {
            guard.exit();
        }
    }

    /**
     * Refuses a null store in the call's words: the first step said "Cannot invoke ParameterStore.backend() because
     * params is null", a later one (bound to a store) that the null was not the store it stepped first. The message is
     * built only when thrown: step must not allocate.
     */
    static void requireParams(String op, ParameterStore params) {
        if (params == null) {
            throw new NullPointerException(op + ": params is null; expected the model's ParameterStore (model.store())");
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
            // "another": the two stores of two models of one configuration print alike
            throw new IllegalArgumentException(getClass().getSimpleName() + " is bound to the store it stepped first, "
                    + bound + ", and cannot step another one, " + params + "; use one optimizer per model");
        }
        if (!params.backend().isOpen()) {   // else the first kernel's words: "sumOfSquares: backend java is closed"
            throw new IllegalStateException(op + ": the store's backend " + params.backend().name() + " is closed; "
                    + "expected it open while its parameters are trained");
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
        float rate = maxNorm > 0f ? ClipGrads.rate(maxNorm, norm) : 1f;
        if (squaresGradients()) {   // before the clip scales them: a refusal leaves the gradients as they were too
            ClipGrads.requireSquaresFit(params, op, norm, rate);
            requireStateFits(params, op, norm, rate);
        }
        if (!(reach(norm * rate) < SAFE_REACH)) {   // a rate near float's range: the update is replayed on the host
            requireMovesFit(params, op, rate);
        }
        if (maxNorm > 0f) {
            ClipGrads.scale(params, maxNorm, norm);
        }
        boolean first = bound == null;
        try {
            update(params);
            bound = params;
            steps++;
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
     * Below this, no move of a weight and no product on the way can leave float's range: a finite weight (at most
     * Float.MAX_VALUE, whose ulp is 2^104) moved by less than half that ulp (2^103, about 1.01e31) stays finite, with
     * a tenth of it to spare for the kernels' own rounding and the norm's.
     */
    static final double SAFE_REACH = 1e30;

    /** A float sum or product rounds up by at most (1 + 2^-24) a rounding: bounds kept in double grow by this. */
    static final double ROUNDING = 1 + 0x1p-22;

    /**
     * What requireMovesFit lets an update write or form: half of float's range, far past the double replay's rounding
     * and the kernels' differences from it (a fused multiply-add or not, the order of a product and a division).
     */
    static final double HOST_LIMIT = Float.MAX_VALUE / 2.0;

    /**
     * For the built-in optimizers: an upper bound on how far this step's update may move any weight and on every
     * product it forms on the way (lr * grad, ...), from the largest gradient it will apply (at most the global norm,
     * after the clip) and what the optimizer keeps of its state's size; cheap, on the host, every step. It may also
     * note what the step makes of those bounds (kept even if the step is then refused: a bound only needs to hold).
     * 0 here (a subclass of another package is not checked).
     *
     * @param gradMax the largest gradient the update applies, at most
     * @return the bound; SAFE_REACH or more has the update replayed by requireMovesFit first
     */
    double reach(double gradMax) {
        return 0;
    }

    /**
     * For the built-in optimizers whose reach passed SAFE_REACH: the update replayed on host copies in double, each
     * parameter by {@link #replay}, refusing a step that would write a weight or form a product past HOST_LIMIT before
     * anything is written.
     *
     * @param rate the factor the clip will scale the gradients by (1 when it does not)
     * @throws NonFiniteGradientException naming the first weight the update would move out of float's range
     */
    final void requireMovesFit(ParameterStore params, String op, float rate) {
        Tensor[] kept = existingState();   // none before the first step: the state is zero
        int count = stateCount();
        for (Parameter p : params.parameters()) {
            float[] w = params.copyOut(p.name());
            float[] g = params.copyOutGrad(p.name());
            if (rate != 1f) {
                for (int i = 0; i < g.length; i++) {
                    g[i] *= rate;   // what the clip's scaleGrads writes
                }
            }
            float[][] s = new float[count][w.length];
            for (int k = 0; kept != null && k < count; k++) {
                params.backend().copyOut(s[k], params.part(kept[k], p.name()));
            }
            for (int i = 0; i < w.length; i++) {
                double[] moved = replay(w[i], g[i], s, i);   // {the new weight, the largest product on the way}
                if (!(Math.abs(moved[0]) <= HOST_LIMIT && Math.abs(moved[1]) <= HOST_LIMIT)) {
                    double worst = Math.abs(moved[0]) >= Math.abs(moved[1]) ? moved[0] : moved[1];
                    throw NonFiniteGradientException.updateOverflows(op, p.name(), w[i], worst, i, p.shape(),
                            learningRate());
                }
            }
        }
    }

    /**
     * For requireMovesFit: how many state buffers the update reads (Adam 2, AdaGrad, RMSprop and Momentum 1). 0 here.
     *
     * @return the count
     */
    int stateCount() {
        return 0;
    }

    /**
     * For requireMovesFit: one element's update in double, as the kernels compute it in float (where they flush a
     * subnormal to zero, the replay takes the smaller value: a root under Float.MIN_NORMAL as 0).
     *
     * @param w     the weight
     * @param g     its gradient, as the clip leaves it
     * @param state the parameter's part of each state buffer
     * @param i     the element
     * @return {the new weight, the largest product formed on the way}
     */
    double[] replay(float w, float g, float[][] state, int i) {
        return new double[] {w, 0};
    }

    /**
     * The denominator an adaptive update divides by, as small as the kernels may make it: sqrt(h) + eps, with an h
     * that float flushes to zero taken as zero.
     *
     * @param h   the new sum or mean of squares, in double
     * @param eps the epsilon added to the root
     * @return the denominator
     */
    static double root(double h, float eps) {
        return (h < Float.MIN_NORMAL ? 0 : Math.sqrt(h)) + eps;
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
