// GemmReplay records the products of a W1-shaped training step the way the step makes them: on the CPU backend
// with its AVX-512 kernels (which prefer packs) that includes the weight gradients' gemmPacked(YES, ...) and the
// packs of dA they multiply by, so W1Seq2seqStepBench.gemmsOnly replays the step's products; and the replay runs.
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.Tensor;

class GemmReplayTest {

    @Test
    void recordsAndReplaysTheWeightGradientsPackedProducts() {
        try (Backend b = Backends.create("openblas"); Arena arena = Arena.ofShared()) {
            Assumptions.assumeTrue(b.prefersPacked(), "the CPU backend packs only on its AVX-512 kernels; this CPU runs "
                    + "another clone, where the step has no packed weight gradients to record");
            // W1's model with H = 16 and N = 8: 7 steps in, 4 out; both LSTMs take their inputs folded (V = 13 rows,
            // fewer than T*N), so each backward packs Wh^T and dA once and multiplies dWh = Hprev^T dA by dA packed
            SplittableRandom r = new SplittableRandom(Workloads.SEED);
            Tensor xs = Workloads.ids(b, arena, r, 13, 8, 7), ts = Workloads.ids(b, arena, r, 13, 8, 5);
            try (GemmReplay gemms = GemmReplay.record(b, rec -> {
                Seq2seq twin = new Seq2seq(rec, 13, 16, 16, Workloads.SEED);
                try (Adam a = new Adam(0.001f)) {
                    Workloads.trainStep(twin, a, xs, ts, 5f);
                }
                return twin;
            })) {
                java.util.Map<String, Integer> counts = gemms.counts();
                assertEquals(2, counts.get("gemmPacked(a^T)"), "dWh of the encoder and the decoder: " + counts);
                // per LSTM: Wh packed by the forward, Wh^T and dA by the backward
                assertEquals(6, counts.get("pack"), "packs: " + counts);
                gemms.replay();
            }
        }
    }
}
