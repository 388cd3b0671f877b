// Thrown where gradients are measured (every optimizer step, clipped or not, and ClipGrads.clip) and one of them is NaN
// or infinite, naming the parameter, instead of letting the optimizer's step write NaN into the weights. The sibling of
// NonFiniteLossException: a loss can stay finite while its gradients are not (an input holding an infinity saturates
// the gates).
package org.seq4j.optim;

/**
 * Gradients that hold NaN or an infinity, or a step they would make overflow (an optimizer's squares, or a weight moved
 * past float's range); the message names the parameter, the value and what to check.
 */
public final class NonFiniteGradientException extends ArithmeticException {
    /** The parameter whose gradient holds the value, or null when none was found on the host (see the message). */
    private final String parameter;

    /**
     * An exception naming the parameter.
     *
     * @param op        the operation that measured the gradients, for the message ("Adam.step", "clip")
     * @param parameter the parameter whose gradient is not finite, or null if unknown
     * @param problem   what was found, e.g. "NaN at flat index 3 of (4, 16)"
     */
    public NonFiniteGradientException(String op, String parameter, String problem) {
        this(op + ": the gradient" + (parameter == null ? "s" : " of " + parameter) + " hold" + (parameter == null
                ? "" : "s") + " " + problem + ", which is not finite; nothing was updated (training diverged or the"
                + " inputs hold NaN or infinity: check them, or try a smaller learning rate)", parameter);
    }

    private NonFiniteGradientException(String message, String parameter) {
        super(message);
        this.parameter = parameter;
    }

    /**
     * A finite gradient whose square is infinite in float, refused by an optimizer that keeps squared gradients.
     *
     * @param op        the step, for the message ("Adam.step")
     * @param parameter the parameter whose gradient holds the value
     * @param problem   what was found, e.g. "3.0E19 at flat index 0 of (4, 16)"
     * @return the exception
     */
    static NonFiniteGradientException squareOverflows(String op, String parameter, String problem) {
        return new NonFiniteGradientException(op + ": the gradient of " + parameter + " holds " + problem + ", whose"
                + " square is infinite in float: the optimizer keeps squared gradients, which would turn infinite (the"
                + " weight would stop moving, Adam's state turn NaN a step later); nothing was updated (clip the"
                + " gradients: clipAndStep or ClipGrads.clip, or try a smaller learning rate)", parameter);
    }

    /**
     * A step that would make an optimizer's accumulated squares (AdaGrad's h) infinite in float.
     *
     * @param op        the step, for the message ("AdaGrad.step")
     * @param parameter the parameter whose state would overflow
     * @param problem   what was found, e.g. "h = 3.0E38 and a gradient of 2.0E18 at flat index 0 of (4, 16)"
     * @return the exception
     */
    static NonFiniteGradientException stateOverflows(String op, String parameter, String problem) {
        return new NonFiniteGradientException(op + ": the sum of squared gradients kept for " + parameter + " would pass"
                + " float's range with " + problem + " (it would turn infinite and the weight stop moving); nothing was"
                + " updated (clip the gradients: clipAndStep or ClipGrads.clip, or try a smaller learning rate)",
                parameter);
    }

    /**
     * A step whose update would move a weight out of float's range (a learning rate near it: RMSprop moves a weight by
     * up to lr / sqrt(1 - decay) a step, ten times lr at the book's decay).
     *
     * @param op        the step, for the message ("RMSprop.step")
     * @param parameter the parameter whose weight would overflow
     * @param weight    the weight before the step
     * @param next      what the step would make of it, in double, or its product on the way where that is larger
     * @param index     the flat index in the parameter
     * @param shape     the parameter's shape
     * @param lr        the learning rate
     * @return the exception
     */
    static NonFiniteGradientException updateOverflows(String op, String parameter, float weight, double next, int index,
                                                      int[] shape, float lr) {
        return new NonFiniteGradientException(op + ": the update would take " + parameter + " at flat index " + index
                + " of " + org.seq4j.tensor.Tensor.shapeString(shape) + " from " + weight
                + " past half of float's range (to about " + String.format(java.util.Locale.ROOT, "%.3g", next) + "; learning rate " + lr
                + "); nothing was updated (try a smaller learning rate)", parameter);
    }

    /**
     * The parameter whose gradient is not finite.
     *
     * @return its name, or null if unknown
     */
    public String parameter() {
        return parameter;
    }
}
