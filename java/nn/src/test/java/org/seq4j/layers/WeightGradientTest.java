// TimeLSTM's and TimeGRU's weight gradients (dWx, dWh; GRU: dWh's gate blocks and dWhh over dA's strided candidate
// columns), which the CPU backend computes on its AVX-512 and AVX2 kernels with seq4j_gemm_tn
// (OpenBlasBackend.gemmTnPays), against the reference: with an input xs, and folded into an embedding, over passes that
// accumulate.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class WeightGradientTest {
    // H = 67: every weight gradient's c is at least 64 columns wide (the CPU backend's rule for seq4j_gemm_tn), GRU's
    // dWhh is (H, H) over dA's candidate columns at row stride 3H, and each ends in a partial 16-column panel
    static final int D = 3, H = 67, V = 4;

    private static TimeRecurrent lstm(Backend b, ParameterStore p, boolean stateful) {
        return new TimeLSTM(b, p.get("Wx"), p.get("Wh"), p.get("b"), stateful);
    }

    private static TimeRecurrent gru(Backend b, ParameterStore p, boolean stateful) {
        return new TimeGRU(b, p.get("Wx"), p.get("Wh"), p.get("b"), stateful);
    }

    /**
     * On the CPU backend (any clone; seq4j_gemm_tn's blocks on AVX-512) against the reference. Tolerance |got -
     * ref| <= 1e-4 (1 + |ref|): the C kernels' exp and tanh differ from Math's by up to about 1e-5 relative
     * (ConformanceTest's TRANSCENDENTAL) and the products' sums of at most 3 x 15 terms by a few float roundings; a
     * wrong row, column block or stride gives errors of the gradients' own size (0.1 to 1).
     */
    @Test
    void cpuGradientsAgreeWithTheReference() {
        Backend cpu = TestBackends.get("openblas");
        for (boolean isGru : new boolean[] {false, true}) {
            for (boolean folded : new boolean[] {false, true}) {
                Map<String, float[]> ref = gradients(TestBackends.reference(), isGru, folded);
                Map<String, float[]> got = gradients(cpu, isGru, folded);
                for (String name : ref.keySet()) {
                    float[] r = ref.get(name), g = got.get(name);
                    assertEquals(r.length, g.length, name);
                    double worst = 0;
                    for (int i = 0; i < r.length; i++) {
                        worst = Math.max(worst, Math.abs(g[i] - r[i]) / (1 + Math.abs(r[i])));
                    }
                    double w = worst;
                    assertTrue(w <= 1e-4, () -> (isGru ? "GRU" : "LSTM") + (folded ? " folded" : "") + ": " + name
                            + " differs from the reference by " + w + " (relative to 1 + |ref|)");
                }
            }
        }
    }

    /**
     * Wx, Wh, b (and the embedding's) gradients and dxs after three passes that accumulate: (T, N) = (5, 3) twice,
     * then (3, 3) (a new size).
     */
    private static Map<String, float[]> gradients(Backend b, boolean isGru, boolean folded) {
        int gates = isGru ? 3 : 4;
        Map<String, float[]> out = new LinkedHashMap<>();
        try (ParameterStore store = ParameterStore.builder(b).declare("Wx", Init.scaledNormal(D), D, gates * H)
                .declare("Wh", Init.scaledNormal(H), H, gates * H).declare("b", Init.normal(0.1), gates * H)
                .declare("E", Init.normal(1), V, D).build(4); Workspace ws = new Workspace(b);
             TimeRecurrent rnn = isGru ? gru(b, store, false) : lstm(b, store, false)) {
            TimeEmbedding embed = new TimeEmbedding(b, store.get("E"));
            Random r = new Random(5);
            int n = 3;
            for (int t : new int[] {5, 5, 3}) {
                Tensor dhs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * H), t, n, H);
                if (folded) {
                    int[] ids = new int[t * n];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = r.nextInt(V);
                    }
                    rnn.forward(embed, GradientCheck.ints(b, ws, ids, t, n));
                    rnn.backward(embed, dhs);
                } else {
                    Tensor xs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * D), t, n, D);
                    rnn.forward(xs);
                    float[] dxs = new float[t * n * D];
                    b.copyOut(dxs, rnn.backward(dhs));
                    out.put("dxs T=" + t + " pass " + out.size(), dxs);
                }
            }
            for (String name : new String[] {"Wx", "Wh", "b", "E"}) {
                out.put("d" + name, store.copyOutGrad(name));
            }
        }
        return out;
    }
}
