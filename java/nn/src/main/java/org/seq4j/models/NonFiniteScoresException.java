// Thrown where generation or a beam search finds a question's scores NaN, +Infinity, or -Infinity for every id: the
// weights are not finite, or so large that a product overflows float (a checkpoint of finite weights near 3e38 loads
// and then overflows). An IllegalStateException as before, of its own type so that a caller (the CLI) can tell this
// failure of the model's values from a bug.
package org.seq4j.models;

/** A question's scores are not finite: the model's weights are not, or overflow float in its products. */
public final class NonFiniteScoresException extends IllegalStateException {
    /**
     * An exception whose message is {@code what}, then what it means.
     *
     * @param what where and what was found, e.g. "Rnnlm.generate: the scores of prompt 0 hold NaN (id 3)"
     */
    public NonFiniteScoresException(String what) {
        super(what + ": the model's weights are not finite, or so large that its products overflow float (a diverged "
                + "training run, values written with copyIn, an edited checkpoint); expected finite scores");
    }

    private NonFiniteScoresException(String message, NonFiniteScoresException cause) {
        super(message, cause);
    }

    /**
     * The same failure named first by the public call that ran into it inside one of its parts: a seq2seq model's
     * generate gets it from its decoder ("Seq2seq.generate: Decoder.generate: at step 1 ...").
     *
     * @param op the public call, "Seq2seq.generate"
     * @return an exception whose message is op, then this one's
     */
    NonFiniteScoresException within(String op) {
        return new NonFiniteScoresException(op + ": " + getMessage(), this);
    }
}
