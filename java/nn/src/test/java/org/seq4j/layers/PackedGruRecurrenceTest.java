// When TimeGRU packs its recurrent blocks: Wh[:, :2H] and Whh for every forward with a recurrent product (kept while
// Wh is unchanged), their transposes once per backward by KeptPack.packs' rule on the number of steps with products
// (two or more over several rows, eight or more over one row); a packed pass is one call, gruSequenceForward or gruSequenceBackward, whose products are strided products
// into or out of the gate columns. And the BF16
// inference blocks: packed by the first forward, not again until Wh changes. Counted through a proxy over the
// reference backend; that the packed products give the same values is GruGradientTest's,
// TrainingStepEquivalenceTest's and InferencePrecisionTest's business.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;

class PackedGruRecurrenceTest {
    static final int D = RecurrentCalls.D;

    private static String run(int t, int n, boolean fromState) {
        return RecurrentCalls.run((b, p, stateful) -> new TimeGRU(b, p.get("Wx"), p.get("Wh"), p.get("b"), stateful),
                3, t, n, fromState);
    }

    @Test
    void packsBothBlocksOncePerPassWhenThereAreProductsToShare() {
        // forward from h0 = 0: the input projection's gemm, then the recurrence over both packed blocks in one
        // gruSequenceForward (its T - 1 = 4 steps of two products: ConformanceTest.gruSequence); backward: one
        // gruSequenceBackward (T = 5 steps of two), plus the gemms of dWx, dWh[:, :2H], dWhh and dxs
        assertEquals("forward: {gemm=1, gruSequenceForward=1, pack=2}, backward: {gemm=4, gruSequenceBackward=1, "
                + "pack=2}", run(5, 3, false));
        // from a carried state the first step has its products too (inside the call)
        assertEquals("forward: {gemm=1, gruSequenceForward=1, pack=2}, backward: {gemm=4, gruSequenceBackward=1, "
                + "pack=2}", run(5, 2, true));
    }

    @Test
    void packsEveryForwardWithAProductButTheBackwardOnlyWhereItPays() {
        String forward = "forward: {gemm=1, gruSequenceForward=1, pack=2}";
        // N = 1: the backward packs from eight steps on (T = 9 from zero: 9 backward steps)
        assertEquals(forward + ", backward: {gemm=14}", run(5, 1, false));
        assertEquals(forward + ", backward: {gemm=4, gruSequenceBackward=1, pack=2}", run(9, 1, false));
        assertEquals(forward + ", backward: {gemm=4, gruSequenceBackward=1, pack=2}", run(8, 1, false));
        // T = 1 from a state (a decoder's step): one step each way; the forward's multiplies by the kept blocks
        assertEquals(forward + ", backward: {gemm=6}", run(1, 4, true));
        // from zero: no forward product, and no products for dWh (their rows of h and r h are h_0 = 0's)
        assertEquals("forward: {gemm=1}, backward: {gemm=4}", run(1, 4, false));
    }

    @Test
    void inferenceBlocksArePackedOnceUntilWhChanges() {
        Map<String, Integer> counts = new TreeMap<>();
        Backend b = RecurrentCalls.counting(counts);
        try (ParameterStore store = RecurrentCalls.store(b, 3); Workspace ws = new Workspace(b);
             TimeGRU gru = new TimeGRU(b, store.get("Wx"), store.get("Wh"), store.get("b"), false)) {
            gru.setInferencePrecision(PackedMatrix.Precision.BF16);
            Tensor xs = GradientCheck.tensor(b, ws, GradientCheck.randn(new Random(4), 1, 3 * 2 * D), 3, 2, D);
            gru.forward(xs); // even for 2 steps with products: the copy is asked for, whatever the rule says
            assertEquals("{gemm=1, gruSequenceForward=1, pack=2}", counts.toString(), "first forward");
            counts.clear();
            gru.forward(xs);
            assertEquals("{gemm=1, gruSequenceForward=1}", counts.toString(), "second forward, Wh unchanged");
            counts.clear();
            store.get("Wh").version().advance();
            gru.forward(xs);
            assertEquals("{gemm=1, gruSequenceForward=1, pack=2}", counts.toString(), "forward after Wh changed");
        }
    }
}
