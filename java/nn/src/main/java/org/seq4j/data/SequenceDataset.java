// A toy sequence set (addition, date) loaded as the book's dataset/sequence.py loads it: train and test
// pairs of character ids, and the character vocabulary they use.
package org.seq4j.data;

/**
 * A toy sequence set (addition, date) loaded as the book's dataset/sequence.py loads it.
 *
 * @param train      the training pairs
 * @param test       the test pairs (the last tenth)
 * @param vocabulary the characters both use
 */
public record SequenceDataset(SequencePairs train, SequencePairs test, CharVocabulary vocabulary) {
    /**
     * Checks that no component is null: one was taken, to fail with a bare NPE wherever it was first used.
     *
     * @throws NullPointerException if train, test or vocabulary is null
     */
    public SequenceDataset {
        if (train == null || test == null || vocabulary == null) {
            throw new NullPointerException("SequenceDataset: " + (train == null ? "train" : test == null ? "test"
                    : "vocabulary") + " is null");
        }
    }
}
