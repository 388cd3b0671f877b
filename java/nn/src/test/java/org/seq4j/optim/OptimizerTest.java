// Each optimizer, two steps over a whole parameter store, against the book's update formulas evaluated on the
// host in double; every step must also zero the gradients and respect a changed learning rate.
package org.seq4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.testing.TestBackends;

class OptimizerTest {
    // float32 kernels against double formulas over two steps: a few roundings of values of order 1
    static final double ATOL = 1e-6, RTOL = 1e-5;
    static final int SIZE = 7;

    /** The book's update on the host: state arrays, in double. */
    interface HostRule {
        void update(double[] p, double[] g, double lr, int iteration);
    }

    private void check(Supplier<Optimizer> make, HostRule rule) {
        Backend backend = TestBackends.reference();
        Random rng = new Random(3);
        try (ParameterStore store = ParameterStore.builder(backend).declare("w", Init.normal(1), SIZE).build(9);
             Optimizer opt = make.get()) {
            double[] p = new double[SIZE];
            float[] start = store.copyOut("w");
            for (int i = 0; i < SIZE; i++) {
                p[i] = start[i];
            }
            for (int it = 1; it <= 3; it++) {
                if (it == 3) {
                    opt.setLearningRate(opt.learningRate() / 4);   // RnnlmTrainer divides the learning rate
                }
                float[] g = new float[SIZE];
                double[] gd = new double[SIZE];
                for (int i = 0; i < SIZE; i++) {
                    g[i] = (float) rng.nextGaussian();
                    gd[i] = g[i];
                }
                backend.copyIn(store.get("w").grad(), g);
                opt.step(store);
                rule.update(p, gd, opt.learningRate(), it);
                float[] got = store.copyOut("w");
                float[] grad = store.copyOutGrad("w");
                for (int i = 0; i < SIZE; i++) {
                    assertEquals(p[i], got[i], ATOL + RTOL * Math.abs(p[i]), "step " + it + ", element " + i);
                    assertEquals(0f, grad[i], "the step zeroes the gradients");
                }
            }
        }
    }

    @Test
    void sgd() {
        check(() -> new SGD(0.1f), (p, g, lr, it) -> {
            for (int i = 0; i < p.length; i++) {
                p[i] -= lr * g[i];
            }
        });
    }

    @Test
    void momentum() {
        double[] v = new double[SIZE];
        check(() -> new Momentum(0.1f, 0.9f), (p, g, lr, it) -> {
            for (int i = 0; i < p.length; i++) {
                v[i] = 0.9f * v[i] - lr * g[i];
                p[i] += v[i];
            }
        });
    }

    @Test
    void adaGrad() {
        double[] h = new double[SIZE];
        check(() -> new AdaGrad(0.1f), (p, g, lr, it) -> {
            for (int i = 0; i < p.length; i++) {
                h[i] += g[i] * g[i];
                p[i] -= lr * g[i] / (Math.sqrt(h[i]) + 1e-7);
            }
        });
    }

    @Test
    void rmsprop() {
        double[] h = new double[SIZE];
        check(() -> new RMSprop(0.1f, 0.99f), (p, g, lr, it) -> {
            for (int i = 0; i < p.length; i++) {
                h[i] = 0.99f * h[i] + (1 - 0.99f) * g[i] * g[i];
                p[i] -= lr * g[i] / (Math.sqrt(h[i]) + 1e-7);
            }
        });
    }

    @Test
    void adam() {
        double[] m = new double[SIZE], v = new double[SIZE];
        check(() -> new Adam(0.1f), (p, g, lr, it) -> {
            double lrT = lr * Math.sqrt(1 - Math.pow(0.999f, it)) / (1 - Math.pow(0.9f, it));
            for (int i = 0; i < p.length; i++) {
                m[i] += (1 - 0.9f) * (g[i] - m[i]);
                v[i] += (1 - 0.999f) * (g[i] * g[i] - v[i]);
                p[i] -= lrT * m[i] / (Math.sqrt(v[i]) + 1e-7);
            }
        });
    }

    /** A refused update leaves Adam's step count, and so its next bias correction, where it was. */
    @Test
    void aRefusedAdamStepCountsNothing() {
        Backend backend = TestBackends.reference();
        ParameterStore store = ParameterStore.builder(backend).declare("w", Init.normal(1), 4).build(1);
        try (Adam adam = new Adam(0.1f)) {
            adam.step(store);
            assertEquals(1, adam.iteration());
            store.close();
            assertThrows(IllegalStateException.class, () -> adam.step(store));
            assertEquals(1, adam.iteration(), "the refused step is not counted");
        }
    }

    /**
     * An optimizer is bound to a store by the state it keeps for it, so a first step that was refused binds nothing:
     * it used to bind the store it refused (here a closed one) and then refuse every other.
     */
    @Test
    void aRefusedFirstStepBindsNoStore() {
        Backend backend = TestBackends.reference();
        ParameterStore closed = ParameterStore.builder(backend).declare("w", Init.normal(1), 4).build(1);
        closed.close();
        try (Adam adam = new Adam(0.1f);
             ParameterStore store = ParameterStore.builder(backend).declare("w", Init.normal(1), 4).build(2);
             ParameterStore other = ParameterStore.builder(backend).declare("w", Init.normal(1), 4).build(3)) {
            assertThrows(IllegalStateException.class, () -> adam.step(closed));
            adam.step(store);
            assertEquals(1, adam.iteration());
            var e = assertThrows(IllegalArgumentException.class, () -> adam.step(other));
            assertTrue(e.getMessage().startsWith("Adam is bound to the store it stepped first, ")
                    && e.getMessage().contains("and cannot step another one") && e.getMessage().contains(
                    "one optimizer per model"), e.getMessage());
        }
    }

    /** A step over a store whose backend was closed says so naming the step, not the first kernel ("sumOfSquares"). */
    @Test
    void aStepAfterTheBackendClosedNamesTheStep() {
        try (org.seq4j.backend.Backend backend = org.seq4j.backend.Backends.create("java");
             Adam adam = new Adam(0.1f)) {
            ParameterStore store = ParameterStore.builder(backend).declare("w", Init.normal(1), 4).build(2);
            backend.close();
            var e = assertThrows(IllegalStateException.class, () -> adam.step(store));
            assertEquals("Adam.step: the store's backend java is closed; expected it open while its parameters are "
                    + "trained", e.getMessage());
            assertEquals(0, adam.iteration());
        }
    }

    /**
     * A null store is named by the call: the first step said "Cannot invoke ParameterStore.backend() because params is
     * null", a later one that Adam "cannot step another one, null", and ClipGrads.clip "Cannot invoke
     * ParameterStore.claim(String)".
     */
    @Test
    void aNullStoreIsNamedByTheCall() {
        try (Adam adam = new Adam(0.1f); SGD sgd = new SGD(0.1f);
             ParameterStore store = ParameterStore.builder(TestBackends.reference()).declare("w", Init.normal(1), 4)
                     .build(2)) {
            String expected = ": params is null; expected the model's ParameterStore (model.store())";
            assertEquals("SGD.step" + expected, assertThrows(NullPointerException.class, () -> sgd.step(null)).getMessage());
            assertEquals("SGD.clipAndStep" + expected,
                    assertThrows(NullPointerException.class, () -> sgd.clipAndStep(null, 1f)).getMessage());
            assertEquals("ClipGrads.clip" + expected,
                    assertThrows(NullPointerException.class, () -> ClipGrads.clip(null, 1f)).getMessage());
            adam.step(store);
            assertEquals("Adam.step" + expected, assertThrows(NullPointerException.class, () -> adam.step(null)).getMessage());
            assertEquals(1, adam.iteration());
        }
    }

    /**
     * The constructors and setLearningRate take the same rates, 0 and -0.0 included (kept as +0.0, which learningRate
     * shows), and refuse the same ones naming the call (the message named no call).
     */
    @Test
    void constructorsAndSetLearningRateRefuseTheSameRatesByName() {
        float[] bad = {-Float.MIN_VALUE, -1e-9f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (float lr : bad) {
            String rest = ": learning rate must be finite and >= 0, got " + lr;
            assertEquals("SGD" + rest, assertThrows(IllegalArgumentException.class, () -> new SGD(lr)).getMessage());
            assertEquals("Adam" + rest, assertThrows(IllegalArgumentException.class, () -> new Adam(lr)).getMessage());
            assertEquals("Momentum" + rest,
                    assertThrows(IllegalArgumentException.class, () -> new Momentum(lr, 0.9f)).getMessage());
            assertEquals("AdaGrad" + rest, assertThrows(IllegalArgumentException.class, () -> new AdaGrad(lr)).getMessage());
            assertEquals("RMSprop" + rest,
                    assertThrows(IllegalArgumentException.class, () -> new RMSprop(lr, 0.99f)).getMessage());
            try (SGD sgd = new SGD(0.5f); Adam adam = new Adam(0.5f)) {
                assertEquals("SGD.setLearningRate" + rest,
                        assertThrows(IllegalArgumentException.class, () -> sgd.setLearningRate(lr)).getMessage());
                assertEquals("Adam.setLearningRate" + rest,
                        assertThrows(IllegalArgumentException.class, () -> adam.setLearningRate(lr)).getMessage());
                assertEquals(0.5f, sgd.learningRate(), "a refused rate changes nothing");
            }
        }
        try (SGD sgd = new SGD(0f); Adam adam = new Adam(Float.MIN_VALUE)) {
            assertEquals(0f, sgd.learningRate());
            sgd.setLearningRate(Float.MAX_VALUE);
            adam.setLearningRate(0f);
            assertEquals(0, Float.floatToRawIntBits(adam.learningRate()), "+0.0");
        }
        try (SGD sgd = new SGD(-0f); Adam adam = new Adam(0.5f)) {
            assertEquals(0, Float.floatToRawIntBits(sgd.learningRate()), "-0.0 taken as +0.0 by the constructor");
            adam.setLearningRate(-0f);
            assertEquals(0, Float.floatToRawIntBits(adam.learningRate()), "-0.0 taken as +0.0 by setLearningRate");
        }
    }

    /**
     * settings() names every hyperparameter and, where the optimizer keeps state, the updates that ran, which the
     * trainers agree on across ranks; a refused step counts none. An optimizer of one's own gets its class and learning rate from the default.
     */
    @Test
    void settingsNameEveryHyperparameterAndTheStepsTaken() {
        Backend backend = TestBackends.reference();
        try (SGD sgd = new SGD(0.5f); Momentum momentum = new Momentum(0.1f, 0.9f); AdaGrad adaGrad = new AdaGrad(0.01f);
             RMSprop rmsProp = new RMSprop(0.01f, 0.99f); Adam adam = new Adam(0.001f, 0.9f, 0.999f);
             ParameterStore store = ParameterStore.builder(backend).declare("w", Init.normal(1), SIZE).build(9)) {
            assertEquals("SGD lr 0.5", sgd.settings());
            sgd.step(store);
            assertEquals("SGD lr 0.5", sgd.settings(), "no state: the steps SGD took change nothing of the next");
            assertEquals("Momentum lr 0.1, momentum 0.9, 0 steps", momentum.settings());
            assertEquals("AdaGrad lr 0.01, 0 steps", adaGrad.settings());
            assertEquals("RMSprop lr 0.01, decay rate 0.99, 0 steps", rmsProp.settings());
            assertEquals("Adam lr 0.001, beta1 0.9, beta2 0.999, 0 steps", adam.settings());
            adam.step(store);
            assertEquals("Adam lr 0.001, beta1 0.9, beta2 0.999, 1 step", adam.settings());
            float[] g = new float[SIZE];
            g[2] = Float.NaN;
            backend.copyIn(store.get("w").grad(), g);
            assertThrows(NonFiniteGradientException.class, () -> adam.step(store));
            assertEquals("Adam lr 0.001, beta1 0.9, beta2 0.999, 1 step", adam.settings(), "a refused step counts none");
            assertTrue(!new Adam(0.001f, 0.8f, 0.999f).settings().equals(adam.settings().replace("1 step", "0 steps")),
                    "another beta1, other settings");
        }
        Optimizer own = new Optimizer() {
            @Override
            public void step(ParameterStore params) {
            }

            @Override
            public float learningRate() {
                return 0.25f;
            }

            @Override
            public void setLearningRate(float lr) {
            }

            @Override
            public void close() {
            }
        };
        assertEquals(own.getClass().getName() + " lr 0.25", own.settings());
    }
}
