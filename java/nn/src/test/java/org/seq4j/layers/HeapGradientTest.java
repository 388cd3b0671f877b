// A backward given a gradient on the Java heap (Tensor.wrap(float[])) either runs whole, adding what the same gradient
// in native memory adds, or is refused with nothing added, its forward left for the call with a native copy.
// TimeAffine's and Affine's backward ran two products, which take heap memory, before sumRows, which the CPU backend
// refuses it for: dW was added, db not, and the run that followed the message (copy dout to native memory, forward
// again, backward) had dW twice (an adopter's find); db is summed first since. Then a refused heap gradient still used
// the forward up (the kernel refused it after the layer's backward had started): every layer now checks its
// gradients' memory before that. Every backward of every layer (GradientShapeTest's cases), on every backend (cuda
// refuses every heap gradient: host memory).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.values;

import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class HeapGradientTest {

    static Stream<Arguments> cases() {
        return GradientShapeTest.cases().flatMap(l -> TestBackends.all().map(b -> Arguments.of(b, l)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aHeapGradientIsTakenWholeOrRefusedWithNothingAdded(String backendName,
            Function<LayerFixture, GradientShapeTest.Call> make) throws Exception {
        Backend backend = TestBackends.get(backendName);
        try (LayerFixture c = new LayerFixture(backend)) {
            GradientShapeTest.Call call = make.apply(c);
            try (AutoCloseable owned = call.owned()) {
                Tensor heap = Tensor.wrap(values(backend, call.right()), call.right().shape());
                // what the gradient in native memory adds to the parameter gradients, from zero
                c.store.zeroGrads();
                call.forward().run();
                call.backward().accept(call.right());
                float[] nativeGrads = values(backend, c.store.grads());

                c.store.zeroGrads();
                call.forward().run();
                try {
                    call.backward().accept(heap);
                } catch (IllegalArgumentException refused) {
                    // a CPU backend's kernels that cannot read the heap say so; a GPU backend's say it is host memory
                    String why = backend.device().isHost() ? "lies on the Java heap"
                            : "is on CPU but the " + backendName + " backend works on " + backend.device();
                    assertTrue(refused.getMessage().contains(why), refused.getMessage());
                    assertArrayEquals(new float[nativeGrads.length], values(backend, c.store.grads()),
                            call.refusal() + ": a refused backward added something");
                    // the forward is left: the same backward from native memory runs
                    call.backward().accept(call.right());
                }
                assertArrayEquals(nativeGrads, values(backend, c.store.grads()),
                        call.refusal() + ": a heap gradient, or the native one after its refusal, gave other gradients");
            }
        }
    }
}
