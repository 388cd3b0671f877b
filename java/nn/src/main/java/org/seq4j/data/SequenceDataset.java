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
}
