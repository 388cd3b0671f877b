// Thrown where a training loop reads its loss and finds NaN or infinity, naming the step, instead of
// training on silently with garbage parameters.
package org.seq4j.optim;

/** A training loop found its loss NaN or infinite; the message names the step and what to try. */
public final class NonFiniteLossException extends ArithmeticException {
    /** The step the loss was read at. */
    private final long step;
    /** The loss read. */
    private final float loss;

    /**
     * An exception naming the loss and the step.
     *
     * @param loss the loss read
     * @param step the step it was read at
     */
    public NonFiniteLossException(float loss, long step) {
        super("the loss is " + loss + " at step " + step + "; training diverged (try a smaller learning rate or "
                + "gradient clipping, and check the inputs for NaN)");
        this.step = step;
        this.loss = loss;
    }

    /**
     * Returns {@code loss} if it is finite, else throws naming {@code step}. Call it where the loss is read.
     *
     * @param loss the loss read
     * @param step the step, for the message
     * @return loss
     * @throws NonFiniteLossException if loss is NaN or infinite
     */
    public static float requireFinite(float loss, long step) {
        if (!Float.isFinite(loss)) {
            throw new NonFiniteLossException(loss, step);
        }
        return loss;
    }

    /**
     * The step the loss was read at.
     *
     * @return the step
     */
    public long step() {
        return step;
    }

    /**
     * The loss read.
     *
     * @return NaN or an infinity
     */
    public float loss() {
        return loss;
    }
}
