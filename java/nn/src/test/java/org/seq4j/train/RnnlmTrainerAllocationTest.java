// RnnlmTrainer sizes its batch tensors (xs, ts and their host buffers) for the epoch's batch and time, keyed on xs's
// shape. An allocation that fails there (out of memory) must leave the old set whole: before, xs of the new size was
// kept over the old ts and buffers, so the next epoch of that size skipped the allocation and failed filling them
// (ArrayIndexOutOfBoundsException). Here the allocation of ts fails; the epoch after it must train exactly as in a
// trainer that never failed.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.layers.FailingAllocations;
import org.seq4j.models.Rnnlm;
import org.seq4j.optim.SGD;
import org.seq4j.testing.TestBackends;

class RnnlmTrainerAllocationTest {
    static final int V = 11, D = 5, H = 6;

    @Test
    void aFailedBatchAllocationLeavesTheTrainerWhole() {
        Backend backend = TestBackends.reference();
        int[] corpus = new int[200];
        Random rng = new Random(3);
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = rng.nextInt(V);
        }
        Trainer.Listener quiet = new Trainer.Listener() {
        };
        double expected;
        float[] expectedWeights;
        try (Rnnlm model = new Rnnlm(backend, V, D, H, 1); SGD sgd = new SGD(0.1f);
             RnnlmTrainer trainer = new RnnlmTrainer(model, sgd, 0f)) {
            trainer.fitEpoch(1, corpus, 2, 3, quiet);
            expected = trainer.fitEpoch(2, corpus, 3, 4, quiet);
            expectedWeights = model.store().values().toFloatArray();
        }
        FailingAllocations failing = new FailingAllocations(backend);
        try (Rnnlm model = new Rnnlm(failing.backend(), V, D, H, 1); SGD sgd = new SGD(0.1f);
             RnnlmTrainer trainer = new RnnlmTrainer(model, sgd, 0f)) {
            trainer.fitEpoch(1, corpus, 2, 3, quiet);
            failing.arm(1);   // the epoch's first allocations are xs, then ts, of the new size
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> trainer.fitEpoch(2, corpus, 3, 4, quiet));
            failing.disarm();
            assertEquals(FailingAllocations.MESSAGE, e.getMessage());
            assertEquals(expected, trainer.fitEpoch(2, corpus, 3, 4, quiet),
                    "the epoch after a failed batch allocation should train as if it had not failed");
            assertArrayEquals(expectedWeights, model.store().values().toFloatArray(), "the weights after that epoch");
        }
    }
}
