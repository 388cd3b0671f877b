// Which weight gradients C = A^T B the CPU backend sends to seq4j_gemm_tn rather than OpenBLAS's sgemm, clone by clone
// (OpenBlasBackend.gemmTnPays gives the measurements behind each rule). Each shape is a product the book's workloads
// make; the rule is checked as a function of the clone, so every clone's rule is checked on any CPU. A mistake here
// is slow, not wrong (both compute the product within gemm's bound), and so invisible to the conformance suite:
// W2's dW (650 x 2600, its last panel partial) went to the AVX2 clone's gemm_tn for a day at 1.2-1.4x sgemm's time.
package org.seq4j.backend.openblas;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GemmTnRoutingTest {
    private static final int AVX512 = 3, AVX2 = 2, NONE = 0;

    @Test
    void w2sLargeWeightGradientStaysOnSgemmUnlessOpenBlasRunsHalfWidth() {
        for (int level : new int[] {NONE, AVX2, AVX512}) {
            assertFalse(OpenBlasBackend.gemmTnPays(level, false, 650, 2600), "level " + level + ": W2's 650 x 2600");
            assertFalse(OpenBlasBackend.gemmTnPays(level, false, 650, 2600 - 64), "level " + level + ": 650 x 2536");
        }
        assertTrue(OpenBlasBackend.gemmTnPays(AVX512, true, 650, 2600), "WIDE: every c");
    }

    @Test
    void avx2TakesNarrowOutputLayersAndFewRowsOnly() {
        assertTrue(OpenBlasBackend.gemmTnPays(AVX2, false, 128, 13), "W1's output dW");
        assertTrue(OpenBlasBackend.gemmTnPays(AVX2, false, 512, 59), "W4's output dW");
        assertTrue(OpenBlasBackend.gemmTnPays(AVX2, false, 16, 512), "16 rows");
        assertFalse(OpenBlasBackend.gemmTnPays(AVX2, false, 128, 512), "W1's dWh: even inside the step");
        assertFalse(OpenBlasBackend.gemmTnPays(AVX2, false, 256, 1024), "past W1's size");
        assertFalse(OpenBlasBackend.gemmTnPays(AVX2, false, 16, 4), "too narrow");
        assertFalse(OpenBlasBackend.gemmTnPays(AVX2, false, 128, 32), "whole panels");
    }

    @Test
    void avx512TakesTheRecurrentLayersWeightGradients() {
        assertTrue(OpenBlasBackend.gemmTnPays(AVX512, false, 128, 512), "W1's dWh");
        assertTrue(OpenBlasBackend.gemmTnPays(AVX512, false, 256, 1024), "W4's dWh");
        assertFalse(OpenBlasBackend.gemmTnPays(AVX512, false, 128, 13), "a narrow c: sgemm's unless WIDE");
        assertFalse(OpenBlasBackend.gemmTnPays(NONE, false, 128, 512), "baseline, aarch64, -Dseq4j.gemm=openblas");
    }
}
