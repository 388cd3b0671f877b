// The command line's evaluation helpers switch dropout off for their forward and put back the mode they found.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.JavaBackend;
import org.seq4j.data.WaveSets;
import org.seq4j.models.WavePredictor;
import org.seq4j.train.Batches;

class EvaluationModeTest {
    /**
     * regressionLoss left every model in training mode, whatever mode its caller had set; it now puts back the
     * caller's, also when the forward throws.
     */
    @Test
    void regressionLossPutsBackTheCallersMode() {
        WaveSets.NoisySine sine = WaveSets.noisySine();
        Batches set = Batches.of(sine.inputs(), sine.targets());   // F = 1
        try (Backend backend = new JavaBackend(); WavePredictor m = new WavePredictor(backend, 1, 4, 1);
             WavePredictor wrongF = new WavePredictor(backend, 2, 4, 1)) {
            for (boolean mode : new boolean[] {false, true}) {
                m.setTraining(mode);
                Cli.regressionLoss(m, set);
                assertEquals(mode, m.isTraining(), "isTraining after regressionLoss of a model set to " + mode);
            }
            wrongF.setTraining(false);
            assertThrows(IllegalArgumentException.class, () -> Cli.regressionLoss(wrongF, set));
            assertEquals(false, wrongF.isTraining(), "isTraining after a regressionLoss that threw, of a model set"
                    + " to false");
        }
    }
}
