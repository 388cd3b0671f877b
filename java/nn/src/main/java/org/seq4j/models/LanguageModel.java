// A language model over token ids: SimpleRnnlm, Rnnlm and BetterRnnlm, which a trainer (truncated BPTT)
// drives without knowing which.
//
// forward(xs, ts): xs (N, T) int32 word ids, ts (N, T) int32 the next word of each (label -1 is ignored).
// The recurrent layers are stateful: each forward continues from the previous one's last state, as the
// book's RnnlmTrainer expects; resetState() starts over (at the start of an epoch or an evaluation).
package org.seq4j.models;

public interface LanguageModel extends Model {

    /** How generate picks the next word from the scores. */
    enum Sampling {
        /** The highest score (greedy). */
        ARGMAX,
        /** A draw from softmax(scores), as the book's RnnlmGen does. */
        SAMPLE
    }

    int vocabSize();

    /** Forgets the carried recurrent state of the training path. */
    void resetState();

    /**
     * Continues N prompts at once: prompts[n] (all of one length >= 1) are fed word by word, then {@code length}
     * words are generated, each from the scores after the previous one. Ids in {@code skipIds} are never
     * generated (the book's skip_ids). Returns int[N][length], prompts excluded. Runs on a separate copy of the
     * layers from a zero state, with dropout off, so the training state is untouched.
     */
    int[][] generate(int[][] prompts, int length, Sampling sampling, long seed, int... skipIds);

    /**
     * Beam search continuation of N prompts (as generate): K = beam hypotheses per prompt, all N*K advancing in
     * one forward per step, for at most {@code length} words. A hypothesis that emits {@code endId} is finished
     * (-1: no end id, all run the full length); finished and full-length hypotheses are ranked by their summed
     * log-probability / length^lengthPenalty (0: no penalty). Ids in skipIds are never emitted. K = 1 without
     * an end id gives exactly generate's ARGMAX words. See Beam for the scores. The models of this package
     * implement it; other implementations of this interface may not.
     */
    default Beam.Result beamSearch(int[][] prompts, int length, int beam, double lengthPenalty, int endId,
                                   int... skipIds) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement beam search");
    }

    /** One sequence from a single start id. */
    default int[] generate(int startId, int length, Sampling sampling, long seed, int... skipIds) {
        return generate(new int[][] {{startId}}, length, sampling, seed, skipIds)[0];
    }
}
