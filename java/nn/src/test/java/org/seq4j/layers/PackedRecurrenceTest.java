// When TimeLSTM packs Wh: once per forward and Wh^T once per backward, for passes of two or more recurrent
// products over more than one row, or of eight or more over one row, and then runs each pass's loop as one
// lstmSequenceForward / lstmSequenceBackward over the packed matrix; fewer products keep the plain gemm per step.
// Counted through a proxy over the reference backend, which forwards every call; that the packed products give
// the same training step is TrainingStepEquivalenceTest's and the gradient checks' business.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

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
    void keepsThePlainGemmForFewProducts() {
        // N = 1: matrix-vector products, packed from eight on (T = 9 from zero: 8 forward, 9 backward products)
        assertEquals("forward: {gemm=5}, backward: {gemm=8}", run(5, 1, false));
        assertEquals("forward: {gemm=1, lstmSequenceForward=1, pack=1}, backward: {gemm=3, lstmSequenceBackward=1, "
                + "pack=1}", run(9, 1, false));
        assertEquals("forward: {gemm=8}, backward: {gemm=3, lstmSequenceBackward=1, pack=1}", run(8, 1, false));
        // T = 1 from a state (a decoder's step): one product each way, not worth a pack
        assertEquals("forward: {gemm=2}, backward: {gemm=4}", run(1, 4, true));
        assertEquals("forward: {gemm=1}, backward: {gemm=4}", run(1, 4, false)); // from zero: no forward product
    }
}
