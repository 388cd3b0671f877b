// ClipGrads on every backend: the book's rule (scale by maxNorm / (norm + 1e-6) where that is below 1), including
// finite gradients whose sum of squares passes float's range, which used to come out as an infinite norm and a
// scale by 0 (every gradient zeroed, the step silently lost); a max norm of +Infinity clips nothing, 0, negative and NaN
// ones are refused naming ClipGrads.clip.
package org.seq4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.testing.TestBackends;

class ClipGradsTest {
    static Stream<Named<String>> backends() {
        return TestBackends.all();
    }

    /** Clips {@code g} to norm 5 on {@code backend}; returns the gradients after, and checks the norm returned. */
    private static float[] clip(String backend, float[] g, double expectedNorm) {
        Backend b = TestBackends.get(backend);
        try (ParameterStore store = ParameterStore.builder(b).declare("w", Init.zeros(), g.length).build(1)) {
            b.copyIn(store.get("w").grad(), g);
            float norm = ClipGrads.clip(store, 5f);
            assertEquals(expectedNorm, norm, Math.abs(expectedNorm) * 1e-6, "the norm before clipping");
            return store.copyOutGrad("w");
        }
    }

    private static double norm(float[] g) {
        double sum = 0;
        for (float x : g) {
            sum += (double) x * x;
        }
        return Math.sqrt(sum);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void gradientsAboveTheNormAreScaledToIt(String backend) {
        float[] g = {3f, -4f, 12f, 0f, 1e-3f};
        check(backend, g);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void gradientsBelowTheNormAreLeftAsTheyAre(String backend) {
        float[] g = {0.3f, -0.4f, 1.2f};
        float[] after = clip(backend, g, norm(g));
        for (int i = 0; i < g.length; i++) {
            assertEquals(g[i], after[i], 0f, "element " + i);
        }
    }

    /** Squares up to 1e41 and 1e76: float's sum overflows, the norm (4e20, 1e38) does not. */
    @ParameterizedTest
    @MethodSource("backends")
    void finiteGradientsWhoseSquaresPassFloatsRangeAreClippedNotZeroed(String backend) {
        check(backend, new float[] {1e20f, -2e20f, 3e20f, 0f, 1e-3f, 7f});
        check(backend, new float[] {1e38f, -3e37f, 1f});
    }

    /**
     * A norm beyond float's range (3.7e20: squares up to 9e40) but below maxNorm (1e30): the book's rate is above 1 and
     * nothing is clipped. The gradients were scaled by 2^-64 to measure the norm and must come back exactly (each is
     * above 2^-62), not scaled up by the rate (2.7e9 times, before min(1, rate)).
     */
    @ParameterizedTest
    @MethodSource("backends")
    void aNormBeyondFloatsRangeBelowMaxNormLeavesThemAsTheyAre(String backend) {
        float[] g = {1e20f, -2e20f, 3e20f, 1e-3f, 7f};
        Backend b = TestBackends.get(backend);
        try (ParameterStore store = ParameterStore.builder(b).declare("w", Init.zeros(), g.length).build(1)) {
            b.copyIn(store.get("w").grad(), g);
            float norm = ClipGrads.clip(store, 1e30f);
            assertEquals(norm(g), norm, norm(g) * 1e-6, "the norm before clipping");
            float[] after = store.copyOutGrad("w");
            for (int i = 0; i < g.length; i++) {
                assertEquals(g[i], after[i], 0f, "element " + i + " with maxNorm 1e30 above the norm");
            }
        }
    }

    private static void check(String backend, float[] g) {
        double n = norm(g);
        float[] after = clip(backend, g, n);
        double rate = 5 / (n + 1e-6);
        for (int i = 0; i < g.length; i++) {
            assertEquals(g[i] * rate, after[i], Math.abs(g[i] * rate) * 1e-6 + 1e-30, "element " + i);
        }
        assertEquals(5.0, norm(after), 5e-6, "the norm after clipping");
    }

    /**
     * A gradient that is NaN or infinite: the book's clip_grads scales them all by 0 (NaN where one is infinite) or,
     * for a NaN norm, does nothing, and the optimizer's step then writes NaN into the weights. Refused with the
     * parameter named, the gradients as they were; finite ones whose squares pass float's range are still clipped.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void aGradientThatIsNotFiniteIsRefusedAndLeftAsItWas(String backend) {
        Backend b = TestBackends.get(backend);
        float[][] cases = {{Float.POSITIVE_INFINITY, 1f, -2f}, {1f, Float.NaN, -2f},
            {1e20f, Float.NEGATIVE_INFINITY, 3f}, {1e20f, 2e20f, Float.NaN}};
        for (float[] g : cases) {
            try (ParameterStore store = ParameterStore.builder(b).declare("v", Init.zeros(), 2)
                    .declare("w", Init.zeros(), g.length).build(1)) {
                b.copyIn(store.get("w").grad(), g);
                NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class,
                        () -> ClipGrads.clip(store, 5f), java.util.Arrays.toString(g));
                assertEquals("w", e.parameter());
                assertTrue(e.getMessage().startsWith("ClipGrads.clip: the gradient of w holds "), e.getMessage());
                assertTrue(e.getMessage().contains("not finite"), e.getMessage());
                float[] after = store.copyOutGrad("w");
                for (int i = 0; i < g.length; i++) {
                    assertEquals(g[i], after[i], 0f, java.util.Arrays.toString(g) + " element " + i + " changed");
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aMaxNormThatIsNotPositiveIsRefused(String backend) {
        Backend b = TestBackends.get(backend);
        try (ParameterStore store = ParameterStore.builder(b).declare("w", Init.zeros(), 2).build(1)) {
            for (float bad : new float[] {0f, -0f, -1f, Float.NEGATIVE_INFINITY, Float.NaN}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> ClipGrads.clip(store, bad));
                // it said "clip: max norm must be > 0, got NaN": no class, and not what asks for no clipping
                assertEquals("ClipGrads.clip: max norm must be > 0 (Infinity: no clipping), got " + bad, e.getMessage());
            }
        }
    }

    /**
     * A max norm of +Infinity clips nothing (as PyTorch's clip_grad_norm_ with max_norm=inf): the gradients are left
     * bit for bit and their norm returned; a gradient that is NaN or infinite is still refused, not passed on to the
     * step (PyTorch, error_if_nonfinite=False by default, multiplies by a NaN or 0 factor). clipAndStep with
     * Infinity steps as step alone.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void anInfiniteMaxNormClipsNothingAndStillRefusesNonFiniteGradients(String backend) {
        Backend b = TestBackends.get(backend);
        float[] g = {3e20f, -4e20f, 1e-30f, 7f};
        try (ParameterStore store = ParameterStore.builder(b).declare("w", Init.zeros(), g.length).build(1)) {
            b.copyIn(store.get("w").grad(), g);
            assertEquals(5e20f, ClipGrads.clip(store, Float.POSITIVE_INFINITY), 1e15f);
            assertArrayEquals(g, store.copyOutGrad("w"), 0f);
            float[] nan = {1f, Float.NaN, 2f, 3f};
            b.copyIn(store.get("w").grad(), nan);
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class,
                    () -> ClipGrads.clip(store, Float.POSITIVE_INFINITY));
            assertTrue(e.getMessage().startsWith("ClipGrads.clip: the gradient of w holds NaN at flat index 1"),
                    e.getMessage());
        }
        float[] small = {0.5f, -0.25f, 2f, 1f};
        try (ParameterStore a = ParameterStore.builder(b).declare("w", Init.zeros(), small.length).build(1);
             ParameterStore c = ParameterStore.builder(b).declare("w", Init.zeros(), small.length).build(1);
             SGD one = new SGD(0.1f); SGD two = new SGD(0.1f)) {
            b.copyIn(a.get("w").grad(), small);
            b.copyIn(c.get("w").grad(), small);
            one.clipAndStep(a, Float.POSITIVE_INFINITY);
            two.step(c);
            assertArrayEquals(c.copyOut("w"), a.copyOut("w"), 0f);
        }
    }
}
