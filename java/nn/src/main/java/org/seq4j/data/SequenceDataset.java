// A toy sequence set (addition, date) loaded as the book's dataset/sequence.py loads it: train and test
// pairs of character ids, and the character vocabulary they use.
package org.seq4j.data;

public record SequenceDataset(SequencePairs train, SequencePairs test, CharVocabulary vocabulary) {
}
