// A backward given a gradient on the Java heap (Tensor.wrap(float[])) either runs whole or is refused with nothing
// added. TimeAffine's and Affine's backward ran two products, which take heap memory, before sumRows, which the CPU
// backend refuses it for: dW was added, db not, and the run that followed the message (copy dout to native memory,
// forward again, backward) had dW twice (an adopter's find). db is now summed first.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class HeapGradientTest {

    /** A layer's forward on the fixture's native input, and its backward of a heap gradient of the output's shape. */
    private record Case(AutoCloseable layer, Runnable forward, Function<Tensor, Object> backward, int[] outShape) {
    }

    static Stream<Arguments> cases() {
        Stream<Named<Function<LayerFixture, Case>>> layers = Stream.of(
                Named.of("TimeAffine", c -> {
                    TimeAffine l = new TimeAffine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Case(l, () -> l.forward(c.xs3[0]), l::backward,
                            new int[] {LayerFixture.T[0], LayerFixture.N[0], LayerFixture.V});
                }),
                Named.of("Affine", c -> {
                    Affine l = new Affine(c.backend, c.p("affine.W"), c.p("affine.b"));
                    return new Case(l, () -> l.forward(c.x2[0]), l::backward,
                            new int[] {LayerFixture.N[0], LayerFixture.V});
                }));
        return layers.flatMap(l -> TestBackends.all().map(b -> Arguments.of(b, l)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aHeapGradientIsTakenWholeOrRefusedWithNothingAdded(String backendName, Function<LayerFixture, Case> make)
            throws Exception {
        Backend backend = TestBackends.get(backendName);
        try (LayerFixture c = new LayerFixture(backend)) {
            Case k = make.apply(c);
            int n = 1;
            for (int d : k.outShape()) {
                n *= d;
            }
            float[] dout = GradientCheck.randn(new Random(3), 1.0, n);
            k.forward().run();
            float[] before = values(backend, c.store.grads());
            try {
                k.backward().apply(Tensor.wrap(dout, k.outShape()));
            } catch (IllegalArgumentException refused) {
                assertTrue(refused.getMessage().contains("heap"), refused.getMessage());
                assertArrayEquals(before, values(backend, c.store.grads()), "a refused backward added nothing");
                return;
            }
            // taken: the same gradients as from native memory
            float[] heap = values(backend, c.store.grads());
            c.store.zeroGrads();
            k.forward().run();
            k.backward().apply(GradientCheck.tensor(backend, c.ws, dout, k.outShape()));
            assertArrayEquals(values(backend, c.store.grads()), heap, "a heap gradient gave other gradients");
            k.layer().close();
        }
    }
}
