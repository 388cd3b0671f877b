// WordCorpus and SequenceDataset refuse a null component when made, naming the record and the component:
// WordCorpus(null, null).size() was a bare "Cannot read the array length because this.ids is null", and a
// WordCorpus whose ids lay outside its vocabulary was taken, to fail far from the call.
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class DataRecordsTest {
    @Test
    void wordCorpusChecksItsComponents() {
        WordVocabulary v = WordVocabulary.of(List.of("a", "b"));
        assertEquals(3, new WordCorpus(new int[] {0, 1, 0}, v).size());
        assertEquals("WordCorpus: ids is null",
                assertThrows(NullPointerException.class, () -> new WordCorpus(null, v)).getMessage());
        assertEquals("WordCorpus: vocabulary is null",
                assertThrows(NullPointerException.class, () -> new WordCorpus(new int[1], null)).getMessage());
        assertEquals("WordCorpus: ids[1] is 2; expected an id of the vocabulary, 0 to 1",
                assertThrows(IllegalArgumentException.class, () -> new WordCorpus(new int[] {0, 2}, v)).getMessage());
        assertEquals("WordCorpus: ids[0] is -1; expected an id of the vocabulary, 0 to 1",
                assertThrows(IllegalArgumentException.class, () -> new WordCorpus(new int[] {-1}, v)).getMessage());
    }

    @Test
    void sequenceDatasetRefusesNullComponents() {
        SequencePairs p = new SequencePairs(new int[0][], new int[0][]);
        CharVocabulary v = CharVocabulary.of("ab_");
        new SequenceDataset(p, p, v);
        assertEquals("SequenceDataset: train is null",
                assertThrows(NullPointerException.class, () -> new SequenceDataset(null, p, v)).getMessage());
        assertEquals("SequenceDataset: test is null",
                assertThrows(NullPointerException.class, () -> new SequenceDataset(p, null, v)).getMessage());
        assertEquals("SequenceDataset: vocabulary is null",
                assertThrows(NullPointerException.class, () -> new SequenceDataset(p, p, null)).getMessage());
    }
}
