// GemmReplay records the products a whole-sequence call runs inside itself (no backend call of their own), so that
// "the step's GEMMs alone" keeps the recurrent products when a layer moves to a sequence call.
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeGRU;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

class GemmReplayTest {

    /**
     * The calls a TimeGRU forward and backward over packed weights record: the same but for 2 products a recurrent step
     * each way.
     */
    private static int recorded(Backend real, int t) {
        int d = 4, h = 6, n = 3;
        try (GemmReplay r = GemmReplay.record(real, rec -> {
            ParameterStore s = ParameterStore.builder(rec).declare("Wx", Init.normal(0.3), d, 3 * h)
                    .declare("Wh", Init.normal(0.3), h, 3 * h).declare("b", Init.zeros(), 3 * h).build(1);
            TimeGRU gru = new TimeGRU(rec, s.get("Wx"), s.get("Wh"), s.get("b"), false);
            Workspace ws = new Workspace(rec);
            float[] x = new float[t * n * d];
            Random random = new Random(2);
            for (int i = 0; i < x.length; i++) {
                x[i] = random.nextFloat() - 0.5f;
            }
            Tensor xs = ws.floats(t, n, d);
            rec.copyIn(xs, x);
            Tensor hs = gru.forward(xs);   // t - 1 >= 2 products at N = 3 pay for a pack: the sequence calls
            gru.backward(hs);              // dhs = hs, any gradient will do
            return () -> {
                gru.close();
                ws.close();
                s.close();
            };
        })) {
            return r.size();
        }
    }

    /**
     * A TimeLSTM from h_0 = 0, forward and backward over packed weights, dh() read or not, recorded and then replayed:
     * the number of calls recorded.
     */
    private static int recordedLstm(Backend real, int t, boolean readDh) {
        int d = 4, h = 6, n = 3;
        try (GemmReplay r = GemmReplay.record(real, rec -> {
            ParameterStore s = ParameterStore.builder(rec).declare("Wx", Init.normal(0.3), d, 4 * h)
                    .declare("Wh", Init.normal(0.3), h, 4 * h).declare("b", Init.zeros(), 4 * h).build(1);
            TimeLSTM lstm = new TimeLSTM(rec, s.get("Wx"), s.get("Wh"), s.get("b"), false);
            Workspace ws = new Workspace(rec);
            Tensor xs = ws.floats(t, n, d);
            rec.fill(xs, 0.25f);
            lstm.backward(lstm.forward(xs));   // dhs = hs, any gradient will do
            if (readDh) {
                lstm.dh();
            }
            return () -> {
                lstm.close();
                ws.close();
                s.close();
            };
        })) {
            r.replay();     // every recorded call runs again (a product recorded into a null output would throw)
            return r.size();
        }
    }

    @Test
    void anLstmBackwardWithoutDh0RecordsTheProductsItMakesAndReplaysThem() {
        try (Backend java = Backends.create("java")) {
            assertEquals(2 * (7 - 4), recordedLstm(java, 7, false) - recordedLstm(java, 4, false),
                    "3 more recurrent steps: 3 more products each way");
            assertEquals(1, recordedLstm(java, 5, true) - recordedLstm(java, 5, false),
                    "dh() read: the one product the backward left out");
        }
    }

    @Test
    void aGruSequenceForwardAndBackwardAreRecordedAsTwoProductsAStepEach() {
        try (Backend java = Backends.create("java")) {
            assertEquals(4 * (7 - 4), recorded(java, 7) - recorded(java, 4),
                    "3 more recurrent steps: 3 more products into the z, r columns and 3 into the candidate columns, "
                    + "and 3 each out of them");
        }
    }
}
