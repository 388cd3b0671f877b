// A layer serves one thread at a time, checked: a second thread calling while one is inside a forward or backward gets
// IllegalStateException naming the layer and both threads. Before (a red-team find), two threads' forwards into one
// TimeAffine wrote each other's outputs: 616 to 13,915 wrong results in ~400,000 forwards, and no exception. Held
// deterministically here: the first thread's call waits inside its first kernel (a gate in front of the reference
// backend) while the second one calls; then the first finishes with its own result and the layer is handed over.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class LayerThreadsTest {

    /** The reference backend, where the first kernel call of the thread armed waits until released. */
    private static final class Gate {
        private volatile Thread armed;
        private final CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);

        Backend wrap(Backend delegate) {
            return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                    (proxy, method, args) -> {
                        if (armed == Thread.currentThread()) {
                            armed = null;
                            inside.countDown();
                            if (!release.await(60, TimeUnit.SECONDS)) {
                                throw new AssertionError("the gate was not released");
                            }
                        }
                        try {
                            return method.invoke(delegate, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }
    }

    /** The call is refused: the layer's name, "in use by" the holder, and the caller. */
    private static void inUse(String layer, Executable call, String what) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call, what);
        assertTrue(e.getMessage().startsWith(layer + ".") && e.getMessage().contains("in use by thread \"holder\"")
                && e.getMessage().contains("called from " + org.seq4j.backend.Confinement.describe(
                        Thread.currentThread())), what + ": " + e.getMessage());
    }

    /**
     * Every kind of layer (SecondBackwardTest's cases): while a thread is inside its forward, another thread's forward,
     * every backward and close() are refused, adding nothing; once the first is out, the layer serves the second thread:
     * a backward of the first thread's forward adds what a backward of the same forward added before, and a forward and
     * backward of its own run.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.layers.SecondBackwardTest#cases")
    void aSecondThreadIsRefusedWhileOneIsInside(Function<LayerFixture, SecondBackwardTest.Calls> make)
            throws Exception {
        Gate gate = new Gate();
        try (LayerFixture c = new LayerFixture(gate.wrap(TestBackends.reference()))) {
            SecondBackwardTest.Calls calls = make.apply(c);
            calls.forward().run();   // sized: the watched forward's first backend call is inside it
            float[] before = values(c.backend, c.store.grads());
            calls.backwards()[0].run();
            float[] afterBackward = values(c.backend, c.store.grads());
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread holder = Thread.ofPlatform().name("holder").start(() -> {
                gate.armed = Thread.currentThread();
                try {
                    calls.forward().run();
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            try {
                assertTrue(gate.inside.await(30, TimeUnit.SECONDS), calls.layer() + ": the holder's forward ran no "
                        + "kernel");
                inUse(calls.layer(), calls.forward()::run, "a second forward");
                for (Runnable backward : calls.backwards()) {
                    inUse(calls.layer(), backward::run, "a backward");
                }
                inUse(calls.layer(), calls.owned()::close, "close()");
            } finally {
                gate.release.countDown();
                holder.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertNull(failed.get(), "the holder's forward");
            assertArrayEquals(afterBackward, values(c.backend, c.store.grads()), "the refused calls added nothing");
            // handed over: this thread's backward of the holder's forward adds what the first backward added (the
            // holder's forward saw the same inputs and weights), then a forward and backward of its own
            calls.backwards()[0].run();
            float[] twice = values(c.backend, c.store.grads());
            for (int i = 0; i < twice.length; i++) {
                float expected = afterBackward[i] + (afterBackward[i] - before[i]);
                assertEquals(expected, twice[i], 1e-5f * Math.max(1f, Math.abs(expected)), calls.layer()
                        + ": gradient " + i + " of a backward of the holder's forward");
            }
            calls.forward().run();
            calls.backwards()[0].run();
        }
    }

    /**
     * A forward that throws on one thread leaves no claim behind: the layer serves the next thread (the claim is released
     * in a finally block, not by the forward's return).
     */
    @Test
    void aForwardThatThrewLeavesTheLayerFreeForAnotherThread() throws Exception {
        try (LayerFixture c = new LayerFixture()) {
            TimeAffine affine = new TimeAffine(c.backend, c.p("affine.W"), c.p("affine.b"));
            TimeLSTM lstm = new TimeLSTM(c.backend, c.p("lstm.Wx"), c.p("lstm.Wh"), c.p("lstm.b"), false);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread other = Thread.ofPlatform().name("other").start(() -> {
                for (Runnable bad : new Runnable[] {() -> affine.forward(c.hs3[0]), () -> lstm.forward(c.hs3[0])}) {
                    try {
                        bad.run();   // (T, N, H=4) where D = 3 is expected
                    } catch (IllegalArgumentException expected) {
                        thrown.accumulateAndGet(expected, (a, b) -> a == null ? b : a);
                    }
                }
            });
            other.join(TimeUnit.SECONDS.toMillis(60));
            assertTrue(thrown.get() != null, "the wrong shape was refused");
            Tensor out = affine.forward(c.xs3[0]);
            affine.backward(c.dV3[0]);
            lstm.forward(c.xs3[0]);
            lstm.backward(c.dH3[0]);
            assertTrue(out.dim(2) == LayerFixture.V, "forward ran on this thread");
            affine.close();
            lstm.close();
        }
    }
}
