// GemmReplay records the products a whole-sequence call runs inside itself (no backend call of their own), so that
// "the step's GEMMs alone" keeps the recurrent products when a layer moves to a sequence call; and an LSTM sequence
// call's other work (a cell a step) for "the rest alone".
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.Transpose;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeGRU;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

class GemmReplayTest {

    /**
     * The calls recorded for a forward and a backward of a TimeLSTM (gates = 4) or TimeGRU (gates = 3) over packed
     * weights from h_0 = 0, dh() read afterwards or not; the recording is then replayed, so a product recorded into
     * a null output would throw.
     */
    private static int recorded(Backend real, int gates, int t, boolean readDh) {
        try (GemmReplay r = recording(real, gates, t, readDh)) {
            r.replay();
            return r.size();
        }
    }

    private static GemmReplay recording(Backend real, int gates, int t, boolean readDh) {
        int d = 4, h = 6, n = 3;
        return GemmReplay.record(real, rec -> {
            ParameterStore s = ParameterStore.builder(rec).declare("Wx", Init.normal(0.3), d, gates * h)
                    .declare("Wh", Init.normal(0.3), h, gates * h).declare("b", Init.zeros(), gates * h).build(1);
            TimeRecurrent layer = gates == 4 ? new TimeLSTM(rec, s.get("Wx"), s.get("Wh"), s.get("b"), false)
                    : new TimeGRU(rec, s.get("Wx"), s.get("Wh"), s.get("b"), false);
            Workspace ws = new Workspace(rec);
            float[] x = new float[t * n * d];
            Random random = new Random(2);
            for (int i = 0; i < x.length; i++) {
                x[i] = random.nextFloat() - 0.5f;
            }
            Tensor xs = ws.floats(t, n, d);
            rec.copyIn(xs, x);
            layer.backward(layer.forward(xs));   // t - 1 >= 2 products at N = 3 pay for a pack; dhs = hs will do
            if (readDh) {
                layer.dh();
            }
            return () -> {
                layer.close();
                ws.close();
                s.close();
            };
        });
    }

    @Test
    void anLstmBackwardWithoutDh0RecordsTheProductsItMakesAndReplaysThem() {
        try (Backend java = Backends.create("java")) {
            assertEquals(2 * (7 - 4), recorded(java, 4, 7, false) - recorded(java, 4, 4, false),
                    "3 more recurrent steps: 3 more products each way");
            assertEquals(1, recorded(java, 4, 5, true) - recorded(java, 4, 5, false),
                    "dh() read: the one product the backward left out");
        }
    }

    @Test
    void theRestLeavesABiasedProductAsTheStepLeftIt() {
        // y = a b + bias, as a folded table or the logits are made: the rest alone replays addBias without the product
        // that rewrites y, so adding the bias again would grow y by it every replay
        try (Backend java = Backends.create("java"); Arena arena = Arena.ofConfined()) {
            Tensor a = Tensor.ofFloats(arena, new float[] {1, 2, 3, 4}, 2, 2);
            Tensor b = Tensor.ofFloats(arena, new float[] {1, 0, 0, 1}, 2, 2);
            Tensor bias = Tensor.ofFloats(arena, new float[] {10, -20}, 2);
            Tensor y = Tensor.allocateHost(arena, DType.F32, 2, 2);
            try (GemmReplay r = GemmReplay.record(java, rec -> {
                rec.matmul(Transpose.NO, Transpose.NO, 1f, a, b, 0f, y);
                rec.addBias(y, bias);
                return () -> { };
            })) {
                assertEquals(1, r.restSize(), "addBias is the rest");
                r.replayRest();
                r.replayRest();
                assertArrayEquals(new float[] {11, -18, 13, -16}, y.toFloatArray(), "y as the step left it");
                assertArrayEquals(new float[] {10, -20}, bias.toFloatArray(), "the bias untouched");
            }
        }
    }

    @Test
    void anLstmSequenceCallsRestIsACellAStepEachWayAndReplays() {
        try (Backend java = Backends.create("java")) {
            int[] rest = new int[2];
            for (int i = 0; i < 2; i++) {
                try (GemmReplay r = recording(java, 4, i == 0 ? 4 : 7, false)) {
                    r.replayRest();   // a call recorded into a closed or wrong tensor would throw here
                    rest[i] = r.restSize();
                }
            }
            assertEquals(2 * (7 - 4), rest[1] - rest[0], "3 more steps: 3 more cell forwards and 3 more cell backwards");
        }
    }

    @Test
    void theRestOfAGruStepIsRefused() {
        try (Backend java = Backends.create("java"); GemmReplay r = recording(java, 3, 4, false)) {
            assertEquals(-1, r.restSize());
            assertThrows(IllegalStateException.class, r::replayRest, "its sequence calls are not split");
        }
    }

    @Test
    void aGruSequenceForwardAndBackwardAreRecordedAsTwoProductsAStepEach() {
        try (Backend java = Backends.create("java")) {
            assertEquals(4 * (7 - 4), recorded(java, 3, 7, false) - recorded(java, 3, 4, false),
                    "3 more recurrent steps: 3 more products into the z, r columns and 3 into the candidate columns, "
                    + "and 3 each out of them");
        }
    }
}
