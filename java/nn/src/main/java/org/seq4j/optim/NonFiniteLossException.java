// Thrown where a training loop reads its loss and finds NaN or infinity, naming the step, instead of
// training on silently with garbage parameters.
package org.seq4j.optim;

public final class NonFiniteLossException extends ArithmeticException {
    private final long step;
    private final float loss;

    public NonFiniteLossException(float loss, long step) {
        super("the loss is " + loss + " at step " + step + "; training diverged (try a smaller learning rate or "
                + "gradient clipping, and check the inputs for NaN)");
        this.step = step;
        this.loss = loss;
    }

    /** Returns {@code loss} if it is finite, else throws naming {@code step}. Call it where the loss is read. */
    public static float requireFinite(float loss, long step) {
        if (!Float.isFinite(loss)) {
            throw new NonFiniteLossException(loss, step);
        }
        return loss;
    }

    public long step() {
        return step;
    }

    public float loss() {
        return loss;
    }
}
