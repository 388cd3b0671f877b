// A model written outside seq4j's packages on AbstractModel, as a user would: one TimeAffine and TimeMSE over
// (N, T, F) windows. Checks that the base gives such a model the protocol the book's models have (the loss and
// the gradients of W and b as computed by hand, backward refused before a forward, after a forward that threw, on
// another thread, a second time and after a backward that threw part-way, close once) with nothing but the three
// methods the subclass writes.
package org.seq4j.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeMSE;
import org.seq4j.models.AbstractModel;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class CustomModelTest {
    static final int N = 3, T = 2, F = 2;

    /** y = x W + b at every step, loss TimeMSE over every step: 0.5 sum((y - t)^2) / N. */
    static final class AffineRegression extends AbstractModel {
        private final TimeAffine affine;
        private final TimeMSE mse;
        int closed;   // closeLayers calls
        boolean failBackward;   // backwardHeld throws after adding the gradients, as a backend failure would

        AffineRegression(Backend backend) {
            super(backend, ParameterStore.builder(backend)
                    .declare("W", Init.zeros(), F, F)
                    .declare("b", Init.zeros(), F)
                    .build(1));
            affine = new TimeAffine(backend, store.get("W"), store.get("b"));
            mse = new TimeMSE(backend, TimeMSE.Steps.ALL);
        }

        @Override
        protected float forwardHeld(String op, Tensor xs, Tensor ts) {
            ws.reset();
            Tensor x = ws.floats(T, N, F);
            Tensor t = ws.floats(T, N, F);
            backend.swapAxes01(x, xs);
            backend.swapAxes01(t, ts);
            return backend.item(mse.forward(affine.forward(x), t), 0);
        }

        @Override
        protected void backwardHeld() {
            affine.backward(mse.backward(1f));
            if (failBackward) {
                throw new IllegalStateException("a backend failure after the gradients were added");
            }
        }

        @Override
        protected void closeLayers() {
            closed++;
            affine.close();
            mse.close();
        }
    }

    @Test
    void aSubclassGetsTheLossItsGradientsAndTheStepProtocol() throws Exception {
        Backend backend = TestBackends.reference();
        float[] w = {0.5f, -1f, 2f, 0.25f}, b = {0.1f, -0.2f};
        float[] x = new float[N * T * F], t = new float[N * T * F];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 5) - 2f;
            t[i] = (i % 3) * 0.5f;
        }
        // by hand: y = x W + b per (n, s); loss 0.5 sum (y - t)^2 / N; db = sum (y - t) / N, dW = sum x^T (y - t) / N
        double loss = 0;
        double[] db = new double[F], dW = new double[F * F];
        for (int r = 0; r < N * T; r++) {
            for (int j = 0; j < F; j++) {
                double y = b[j];
                for (int k = 0; k < F; k++) {
                    y += (double) x[r * F + k] * w[k * F + j];
                }
                double d = y - t[r * F + j];
                loss += 0.5 * d * d / N;
                db[j] += d / N;
                for (int k = 0; k < F; k++) {
                    dW[k * F + j] += x[r * F + k] * d / N;
                }
            }
        }
        AffineRegression model = new AffineRegression(backend);
        try (Arena arena = Arena.ofConfined()) {
            model.store().copyIn("W", w);
            model.store().copyIn("b", b);
            Tensor xs = backend.allocate(arena, DType.F32, N, T, F), ts = backend.allocate(arena, DType.F32, N, T, F);
            Tensor wrong = backend.allocate(arena, DType.F32, N, T + 1, F);
            backend.copyIn(xs, x);
            backend.copyIn(ts, t);

            IllegalStateException early = assertThrows(IllegalStateException.class, model::backward);
            assertTrue(early.getMessage().contains("AffineRegression.backward before forward"), early.getMessage());

            assertEquals(loss, model.forward(xs, ts), 1e-5 * Math.max(1, Math.abs(loss)));
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread thread = new Thread(() -> {
                try {
                    model.backward();
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            thread.start();
            thread.join();
            assertTrue(other.get() instanceof IllegalStateException && other.get().getMessage().contains("follows a forward"),
                    "backward on another thread: " + other.get());

            // a forward that throws leaves no forward to follow: its activations are half written
            assertThrows(IllegalArgumentException.class, () -> model.forward(xs, wrong));
            IllegalStateException afterBad = assertThrows(IllegalStateException.class, model::backward);
            assertTrue(afterBad.getMessage().contains("AffineRegression.backward before forward"), afterBad.getMessage());

            assertEquals(loss, model.forward(xs, ts), 1e-5 * Math.max(1, Math.abs(loss)));
            model.backward();
            float[] gotDb = model.store().copyOutGrad("b"), gotDw = model.store().copyOutGrad("W");
            for (int j = 0; j < F; j++) {
                assertEquals(db[j], gotDb[j], 1e-5, "db[" + j + "]");
            }
            for (int i = 0; i < F * F; i++) {
                assertEquals(dW[i], gotDw[i], 1e-5, "dW[" + i + "]");
            }
            IllegalStateException twice = assertThrows(IllegalStateException.class, model::backward);
            assertTrue(twice.getMessage().contains("AffineRegression.backward: already ran for this forward; run forward"
                    + " again"), twice.getMessage());

            // a backward that throws part-way has used its forward: a retry would add the gradients a second time
            model.forward(xs, ts);
            model.failBackward = true;
            assertThrows(IllegalStateException.class, model::backward);
            model.failBackward = false;
            IllegalStateException retry = assertThrows(IllegalStateException.class, model::backward);
            // as a layer says it: its one backward ran, though it threw
            assertTrue(retry.getMessage().contains("AffineRegression.backward: already ran for this forward"),
                    retry.getMessage());
        } finally {
            model.close();
        }
        model.close();
        assertEquals(1, model.closed, "closeLayers runs once however often close is called");
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> model.forward(null, null));
        assertTrue(closed.getMessage().contains("already closed"), closed.getMessage());
    }
}
