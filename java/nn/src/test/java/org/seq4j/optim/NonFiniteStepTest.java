// Every optimizer, on every backend, refuses gradients that are NaN or infinite before its step writes anything, with
// clipping or without: NonFiniteGradientException naming the parameter, the weights bit for bit as they were, the
// gradients as they were, and the optimizer's state untouched (its next step matches that of a twin that never saw the
// refused one). Before, only ClipGrads refused them: without clipping the step wrote NaN into the weights, and after
// the last step of training an in-memory model was left NaN. And the check costs one reduction over the gradients per
// step, shared with the clip: clipAndStep measures them once, as ClipGrads.clip alone does. Adam, AdaGrad and RMSprop,
// which keep squared gradients, also refuse a finite gradient whose square is infinite in float. And every optimizer
// refuses a step whose update would take a weight out of float's range (a learning rate near it), nothing written.
package org.seq4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.testing.TestBackends;

class NonFiniteStepTest {
    static final float MAX_NORM = 5f;

    static Stream<Named<Supplier<Optimizer>>> optimizers() {
        return Stream.of(Named.of("SGD", () -> new SGD(0.1f)), Named.of("Momentum", () -> new Momentum(0.1f, 0.9f)),
                Named.of("AdaGrad", () -> new AdaGrad(0.1f)), Named.of("RMSprop", () -> new RMSprop(0.1f, 0.99f)),
                Named.of("Adam", () -> new Adam(0.1f)));
    }

    /** Every backend here times every optimizer. */
    static Stream<Arguments> cases() {
        return TestBackends.all().flatMap(b -> optimizers().map(o -> Arguments.of(b, o)));
    }

    /** v (2,) and w (3,), the same values for the same seed. */
    private static ParameterStore store(Backend b) {
        return ParameterStore.builder(b).declare("v", Init.normal(1), 2).declare("w", Init.normal(1), 3).build(7);
    }

    /** Seeded finite gradients into every parameter, then a step (clipped or not). */
    private static void goodStep(ParameterStore store, Optimizer opt, long seed, boolean clip) {
        Random r = new Random(seed);
        for (Parameter p : store.parameters()) {
            float[] g = new float[(int) p.size()];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (4 * r.nextGaussian());
            }
            store.backend().copyIn(p.grad(), g);
        }
        if (clip) {
            opt.clipAndStep(store, MAX_NORM);
        } else {
            opt.step(store);
        }
    }

    private static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            b[i] = Float.floatToRawIntBits(x[i]);
        }
        return b;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void gradientsThatAreNotFiniteAreRefusedBeforeTheStepWritesAnything(String backend, Supplier<Optimizer> make) {
        Backend b = TestBackends.get(backend);
        float[][] cases = {{Float.POSITIVE_INFINITY, 1f, -2f}, {1f, Float.NaN, -2f},
            {1e20f, Float.NEGATIVE_INFINITY, 3f}, {1e20f, 2e20f, Float.NaN}};
        for (boolean clip : new boolean[] {false, true}) {
            for (float[] g : cases) {
                try (ParameterStore store = store(b); ParameterStore twin = store(b); Optimizer opt = make.get();
                     Optimizer twinOpt = make.get()) {
                    String what = (clip ? "clipAndStep " : "step ") + java.util.Arrays.toString(g);
                    goodStep(store, opt, 1, clip);   // so that the optimizers with state hold some
                    goodStep(twin, twinOpt, 1, clip);
                    int[] values = bits(values(b, store.values()));
                    b.copyIn(store.get("v").grad(), new float[] {0.5f, -0.5f});
                    b.copyIn(store.get("w").grad(), g);
                    int[] grads = bits(values(b, store.grads()));
                    NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class,
                            () -> {
                                if (clip) {
                                    opt.clipAndStep(store, MAX_NORM);
                                } else {
                                    opt.step(store);
                                }
                            }, what + " should be refused");
                    String op = opt.getClass().getSimpleName() + (clip ? ".clipAndStep" : ".step");
                    assertEquals("w", e.parameter(), what);
                    assertTrue(e.getMessage().startsWith(op + ": the gradient of w holds "), e.getMessage());
                    assertTrue(e.getMessage().contains("nothing was updated"), e.getMessage());
                    assertArrayEquals(values, bits(values(b, store.values())), what + ": the weights changed");
                    assertArrayEquals(grads, bits(values(b, store.grads())), what + ": the gradients changed");
                    // the refused step left the optimizer's state (moments, velocity, step count) alone
                    store.zeroGrads();
                    goodStep(store, opt, 2, clip);
                    goodStep(twin, twinOpt, 2, clip);
                    assertArrayEquals(bits(values(b, twin.values())), bits(values(b, store.values())),
                            what + ": the next step differs from a twin's that never saw the refused one");
                }
            }
        }
    }

    /**
     * A finite gradient whose square is infinite in float (above ~1.845e19): Adam wrote v = Inf and left the weight
     * where it was, and its next step wrote v = Inf - Inf = NaN and a NaN weight (an audit's find; AdaGrad's and
     * RMSprop's h turned infinite and froze the weight for good). The optimizers that keep squared gradients refuse it
     * as a non-finite one, nothing written; the others take it; clipped, it is small and every optimizer takes it.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aGradientWhoseSquareOverflowsIsRefusedWhereTheOptimizerSquaresIt(String backend, Supplier<Optimizer> make) {
        Backend b = TestBackends.get(backend);
        for (float big : new float[] {1.85e19f, 3e19f, -1e30f, Float.MAX_VALUE}) {
            try (ParameterStore store = store(b); ParameterStore twin = store(b); Optimizer opt = make.get();
                 Optimizer twinOpt = make.get()) {
                goodStep(store, opt, 1, false);
                goodStep(twin, twinOpt, 1, false);
                int[] values = bits(values(b, store.values()));
                b.copyIn(store.get("v").grad(), new float[] {0.5f, -0.5f});
                b.copyIn(store.get("w").grad(), new float[] {1f, big, 2f});
                int[] grads = bits(values(b, store.grads()));
                boolean squares = opt instanceof Adam || opt instanceof AdaGrad || opt instanceof RMSprop;
                if (squares) {
                    NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> opt.step(store),
                            big + " should be refused");
                    assertEquals("w", e.parameter());
                    String op = opt.getClass().getSimpleName() + ".step";
                    assertTrue(e.getMessage().startsWith(op + ": the gradient of w holds " + big + " at flat index 1 of"
                            + " (3,), whose square is infinite in float"), e.getMessage());
                    assertArrayEquals(values, bits(values(b, store.values())), big + ": the weights changed");
                    assertArrayEquals(grads, bits(values(b, store.grads())), big + ": the gradients changed");
                    store.zeroGrads();
                    goodStep(store, opt, 2, false);   // the state is as a twin's that never saw the refused step
                    goodStep(twin, twinOpt, 2, false);
                    assertArrayEquals(bits(values(b, twin.values())), bits(values(b, store.values())), big
                            + ": the next step differs from a twin's");
                } else {
                    opt.step(store);   // SGD and Momentum square nothing: a huge step, but the maths the book's
                }
                // clipped first, the same gradient is small: taken by every optimizer, and the weights stay finite
                b.copyIn(twin.get("v").grad(), new float[] {0.5f, -0.5f});
                b.copyIn(twin.get("w").grad(), new float[] {1f, big, 2f});
                twinOpt.clipAndStep(twin, MAX_NORM);
                for (float x : values(b, twin.values())) {
                    assertTrue(Float.isFinite(x), big + " clipped: " + x);
                }
            }
        }
        // the largest gradient whose square fits (1.8446743e19^2 = 3.4028234e38 rounds to MAX_VALUE) is taken
        try (ParameterStore store = store(b); Optimizer opt = make.get()) {
            float edge = (float) Math.sqrt(Float.MAX_VALUE);
            while (Float.isInfinite(edge * edge)) {
                edge = Math.nextDown(edge);
            }
            b.copyIn(store.get("w").grad(), new float[] {1f, edge, 2f});
            opt.step(store);
            for (float x : values(b, store.values())) {
                assertTrue(Float.isFinite(x), "a gradient of " + edge + ": " + x);
            }
        }
    }

    /**
     * AdaGrad's h only grows: gradients of 1e18 (each square finite) made it infinite after some 340 steps, and from then
     * on the weight stopped moving (grad / sqrt(Inf) = 0) without a word. The step that would make it infinite is
     * refused, nothing written; every step before it moved the weight.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void adaGradRefusesTheStepWhoseAccumulatedSquaresWouldOverflow(String backend) {
        Backend b = TestBackends.get(backend);
        try (ParameterStore store = store(b); Optimizer opt = new AdaGrad(0.1f)) {
            float[] grad = {1f, 1e18f, 2f};
            int steps = 0;
            NonFiniteGradientException refused = null;
            while (refused == null && steps < 1000) {
                b.copyIn(store.get("v").grad(), new float[] {0.5f, -0.5f});
                b.copyIn(store.get("w").grad(), grad);
                float before = store.copyOut("w")[1];
                int[] values = bits(values(b, store.values()));
                try {
                    opt.step(store);
                    steps++;
                    assertTrue(store.copyOut("w")[1] < before, "step " + steps + " did not move w[1] from " + before);
                } catch (NonFiniteGradientException e) {
                    refused = e;
                    assertArrayEquals(values, bits(values(b, store.values())), "the refused step wrote weights");
                }
            }
            assertTrue(refused != null, "no step refused in " + steps);
            // 1e36 a step: the 340th sum is 3.40e38, the largest float
            assertTrue(steps >= 330 && steps <= 341, "refused after " + steps + " steps");
            assertEquals("w", refused.parameter());
            assertTrue(refused.getMessage().startsWith("AdaGrad.step: the sum of squared gradients kept for w would pass"
                    + " float's range with h = "), refused.getMessage());
            assertTrue(refused.getMessage().contains("and a gradient of 1.0E18 at flat index 1 of (3,)"),
                    refused.getMessage());
        }
    }

    /**
     * Gradients just under the overflow's reach are taken: the check on the host refuses only a sum that is infinite in
     * float, and the bound kept between checks lets ordinary training (clipped norms) never read h at all.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void adaGradTakesLargeGradientsWhoseSumsStayFinite(String backend) {
        Backend b = TestBackends.get(backend);
        try (ParameterStore store = store(b); Optimizer opt = new AdaGrad(0.1f)) {
            // 1e19^2 = 1e38 a step: h is 3e38 after three steps, finite; the fourth would pass 3.4e38
            for (int step = 1; step <= 4; step++) {
                b.copyIn(store.get("w").grad(), new float[] {1f, 1e19f, 2f});
                if (step < 4) {
                    opt.step(store);
                } else {
                    assertThrows(NonFiniteGradientException.class, () -> opt.step(store), "step 4");
                }
            }
            for (float x : values(b, store.values())) {
                assertTrue(Float.isFinite(x), "" + x);
            }
        }
    }

    /**
     * The reference backend, counting its calls of {@code counted} into count: sumOfSquares (the reduction over the
     * gradients), copyOut (host copies, which the replay of a step reads through).
     */
    private static Backend counting(String counted, AtomicInteger count) {
        Backend real = TestBackends.reference();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals(counted)) {
                        count.incrementAndGet();
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /**
     * One reduction over the gradients per step: step's check, or clipAndStep's clip and check together (the CLI's
     * path, and Trainer's with a max norm); ClipGrads.clip followed by step measures twice. clipAndStep updates the
     * weights bit for bit as ClipGrads.clip then step do.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void aStepMeasuresTheGradientsOnceClippedOrNot(Supplier<Optimizer> make) {
        AtomicInteger count = new AtomicInteger();
        Backend b = counting("sumOfSquares", count);
        try (ParameterStore store = store(b); ParameterStore twin = store(b); Optimizer opt = make.get();
             Optimizer twinOpt = make.get()) {
            for (int step = 1; step <= 3; step++) {
                count.set(0);
                goodStep(store, opt, step, false);
                assertEquals(1, count.get(), "step " + step + ": reductions over the gradients in step");
                count.set(0);
                goodStep(store, opt, 10 + step, true);
                assertEquals(1, count.get(), "step " + step + ": reductions over the gradients in clipAndStep");
                goodStep(twin, twinOpt, step, false);
                Random r = new Random(10 + step);
                for (Parameter p : twin.parameters()) {
                    float[] g = new float[(int) p.size()];
                    for (int i = 0; i < g.length; i++) {
                        g[i] = (float) (4 * r.nextGaussian());
                    }
                    b.copyIn(p.grad(), g);
                }
                count.set(0);
                ClipGrads.clip(twin, MAX_NORM);
                twinOpt.step(twin);
                assertEquals(2, count.get(), "ClipGrads.clip then step");
                assertArrayEquals(bits(values(b, twin.values())), bits(values(b, store.values())),
                        "step " + step + ": clipAndStep against ClipGrads.clip then step");
            }
        }
    }

    /** The optimizer {@code make} would make, at learning rate lr (its other settings the book's). */
    private static Optimizer withRate(Supplier<Optimizer> make, float lr) {
        return switch (make.get()) {
            case SGD o -> new SGD(lr);
            case Momentum o -> new Momentum(lr, 0.9f);
            case AdaGrad o -> new AdaGrad(lr);
            case RMSprop o -> new RMSprop(lr, 0.99f);
            case Adam o -> new Adam(lr);
            default -> throw new AssertionError(make.get());
        };
    }

    /**
     * A learning rate near float's range with finite gradients: RMSprop at 1e38 wrote infinite weights into 461 of a
     * model's 714 and returned as if it had stepped (a red-team probe's find; its first move is lr / sqrt(1 - decay),
     * ten times lr). Every optimizer refuses the step whose update would take a weight past half of float's range,
     * naming it, before anything is written, clipped or not; its state is as a twin's that never saw the step.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void anUpdateThatWouldLeaveFloatsRangeIsRefusedBeforeItWrites(String backend, Supplier<Optimizer> make) {
        Backend b = TestBackends.get(backend);
        for (boolean clip : new boolean[] {false, true}) {
            try (ParameterStore store = store(b); ParameterStore twin = store(b);
                 Optimizer opt = withRate(make, Float.MAX_VALUE); Optimizer twinOpt = withRate(make, Float.MAX_VALUE)) {
                b.copyIn(store.get("v").grad(), new float[] {0f, 0f});   // v does not move: w is the one named
                b.copyIn(store.get("w").grad(), new float[] {1f, 10f, 2f});
                int[] values = bits(values(b, store.values()));
                int[] grads = bits(values(b, store.grads()));
                String op = opt.getClass().getSimpleName() + (clip ? ".clipAndStep" : ".step");
                NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> {
                    if (clip) {
                        opt.clipAndStep(store, MAX_NORM);
                    } else {
                        opt.step(store);
                    }
                }, op + " at lr " + Float.MAX_VALUE);
                assertEquals("w", e.parameter(), e.getMessage());
                assertTrue(e.getMessage().startsWith(op + ": the update would take w at flat index "), e.getMessage());
                assertTrue(e.getMessage().contains("past half of float's range"), e.getMessage());
                assertTrue(e.getMessage().contains("nothing was updated (try a smaller learning rate)"),
                        e.getMessage());
                assertArrayEquals(values, bits(values(b, store.values())), op + ": the weights changed");
                assertArrayEquals(grads, bits(values(b, store.grads())), op + ": the gradients changed");
                // at an ordinary rate again, the next step is a twin's that never saw the refused one
                opt.setLearningRate(0.1f);
                twinOpt.setLearningRate(0.1f);
                store.zeroGrads();
                goodStep(store, opt, 2, clip);
                goodStep(twin, twinOpt, 2, clip);
                assertArrayEquals(bits(values(b, twin.values())), bits(values(b, store.values())),
                        op + ": the next step differs from a twin's");
            }
        }
    }

    /**
     * A large rate whose moves stay finite is the user's to take: the check replays those steps on the host (their
     * reach passes 1e30) and lets them through, the weights finite and moved, as the kernels compute them.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aLargeRateWhoseMovesStayFiniteIsTaken(String backend, Supplier<Optimizer> make) {
        Backend b = TestBackends.get(backend);
        try (ParameterStore store = store(b); Optimizer opt = withRate(make, 1e36f)) {
            for (int step = 1; step <= 3; step++) {
                float[] before = values(b, store.values());
                goodStep(store, opt, step, true);
                float[] after = values(b, store.values());
                for (int i = 0; i < after.length; i++) {
                    assertTrue(Float.isFinite(after[i]), "step " + step + ": " + after[i] + " at " + i);
                }
                assertTrue(!java.util.Arrays.equals(before, after), "step " + step + " did not move the weights");
            }
        }
    }

    /**
     * The check costs ordinary training nothing but a few operations on the host: at the book's rates no step reads a
     * value back (the bound from the norm the step measures anyway stays far below 1e30); at a rate near float's range
     * the same step is replayed on host copies first.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void onlyARateNearFloatsRangeHasTheUpdateReplayedOnTheHost(Supplier<Optimizer> make) {
        AtomicInteger copies = new AtomicInteger();
        Backend b = counting("copyOut", copies);
        for (boolean clip : new boolean[] {false, true}) {
            try (ParameterStore store = store(b); Optimizer opt = make.get(); Optimizer huge = withRate(make, 1e36f)) {
                for (int step = 1; step <= 5; step++) {
                    copies.set(0);
                    goodStep(store, opt, step, clip);
                    assertEquals(0, copies.get(), "step " + step + " at lr 0.1 read values back");
                }
                copies.set(0);
                try (ParameterStore other = store(b)) {
                    goodStep(other, huge, 1, clip);
                    assertTrue(copies.get() > 0, "a step at lr 1e36 was not replayed on the host");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void aMaxNormThatIsNotPositiveIsRefused(Supplier<Optimizer> make) {
        try (ParameterStore store = store(TestBackends.reference()); Optimizer opt = make.get()) {
            for (float bad : new float[] {0f, -1f, Float.NaN}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> opt.clipAndStep(store, bad));
                assertEquals(opt.getClass().getSimpleName() + ".clipAndStep: max norm must be > 0 (Infinity: no "
                        + "clipping), got " + bad,
                        e.getMessage());
            }
        }
    }
}
