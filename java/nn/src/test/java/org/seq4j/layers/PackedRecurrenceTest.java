// When TimeLSTM packs Wh: for every forward with a recurrent product (kept while Wh is unchanged: whatever came
// before, the same forward takes the same path), and Wh^T once per backward of two or more recurrent products over
// more than one row, or of eight or more over one row; each packed pass's loop is one lstmSequenceForward /
// lstmSequenceBackward over the packed matrix, and a backward of fewer products keeps the plain gemm per step.
// Counted through a proxy over the reference backend, which forwards every call; that the packed products give
// the same training step is TrainingStepEquivalenceTest's and the gradient checks' business.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

class PackedRecurrenceTest {
    private static String run(int t, int n, boolean fromState) {
        return RecurrentCalls.run((b, p, stateful) -> new TimeLSTM(b, p.get("Wx"), p.get("Wh"), p.get("b"), stateful),
                4, t, n, fromState);
    }

    @Test
    void packsOncePerPassWhenThereAreProductsToShare() {
        // forward from h0 = 0: T - 1 = 4 recurrent products in one sequence call, plus the input projection's gemm;
        // backward: T = 5 in one call, plus the gemms of dWx, dWh and dxs
        String sequences = "forward: {gemm=1, lstmSequenceForward=1, pack=1}, "
                + "backward: {gemm=3, lstmSequenceBackward=1, pack=1}";
        assertEquals(sequences, run(5, 3, false));
        // from a carried state (the first step has a product too): the same calls
        assertEquals(sequences, run(5, 2, true));
    }

    @Test
    void leavesTheGradientOfH0ToItsFirstRead() {
        // over a packed Wh^T the backward makes no product for dh0; dh() makes it once, from dA_0 and the pack, so an
        // optimizer step between backward and dh() changes nothing: the same bits as a twin read right away
        Map<String, Integer> counts = new TreeMap<>();
        Backend b = RecurrentCalls.counting(counts);
        int t = 5, n = 3, h = RecurrentCalls.H;
        float[] early = new float[n * h], late = new float[n * h];
        for (boolean moveWh : new boolean[] {false, true}) {
            try (ParameterStore store = RecurrentCalls.store(b, 4); Workspace ws = new Workspace(b);
                 TimeLSTM lstm = new TimeLSTM(b, store.get("Wx"), store.get("Wh"), store.get("b"), false)) {
                Random r = new Random(3);
                Tensor xs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * RecurrentCalls.D), t, n,
                        RecurrentCalls.D);
                Tensor dhs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * h), t, n, h);
                lstm.forward(xs);
                lstm.backward(dhs);
                if (moveWh) {
                    b.fill(store.get("Wh").value(), 0.5f);  // as an optimizer step would, before dh() is read
                }
                counts.clear();
                b.copyOut(moveWh ? late : early, lstm.dh());
                b.copyOut(moveWh ? late : early, lstm.dh());
                assertEquals("{gemmPacked=1}", counts.toString(), "dh() twice after one backward");
            }
        }
        assertArrayEquals(early, late);
    }

    @Test
    void theGradientOfH0AfterCloseIsRefusedNotRead() {
        // the product left to dh() would read freed tensors: a closed layer refuses it with an exception
        Backend b = org.seq4j.testing.TestBackends.reference();
        int t = 5, n = 3, h = RecurrentCalls.H;
        TimeLSTM lstm;
        try (ParameterStore store = RecurrentCalls.store(b, 4); Workspace ws = new Workspace(b)) {
            lstm = new TimeLSTM(b, store.get("Wx"), store.get("Wh"), store.get("b"), false);
            Random r = new Random(3);
            lstm.forward(GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * RecurrentCalls.D), t, n,
                    RecurrentCalls.D));
            lstm.backward(GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * h), t, n, h));
            lstm.close();
        }
        assertThrows(IllegalStateException.class, lstm::dh);
    }

    @Test
    void packsEveryForwardWithAProductButTheBackwardOnlyWhereItPays() {
        String forward = "forward: {gemm=1, lstmSequenceForward=1, pack=1}";
        // N = 1: the backward's matrix-vector products are packed from eight on (T = 9 from zero: 9 backward products)
        assertEquals(forward + ", backward: {gemm=8}", run(5, 1, false));
        assertEquals(forward + ", backward: {gemm=3, lstmSequenceBackward=1, pack=1}", run(9, 1, false));
        assertEquals(forward + ", backward: {gemm=3, lstmSequenceBackward=1, pack=1}", run(8, 1, false));
        // T = 1 from a state (a decoder's step): one product each way; the forward's multiplies by the kept pack
        assertEquals(forward + ", backward: {gemm=4}", run(1, 4, true));
        // from zero: no forward product, and no dWh product (its one row of h is h_0 = 0)
        assertEquals("forward: {gemm=1}, backward: {gemm=3}", run(1, 4, false));
    }
}
