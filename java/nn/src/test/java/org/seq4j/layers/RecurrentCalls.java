// What PackedRecurrenceTest and PackedGruRecurrenceTest count: the gemm, pack, gemmPacked, lstmSequence* and
// gruSequence* calls a
// recurrent layer makes in one forward and one backward, through a proxy over the reference backend that forwards
// every call.
package org.seq4j.layers;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

final class RecurrentCalls {
    static final int D = 3, H = 5;

    /** Makes the layer under test over its (Wx, Wh, b) on the given backend. */
    interface Layer {
        TimeRecurrent make(Backend b, ParameterStore store, boolean stateful);
    }

    private RecurrentCalls() {
    }

    /**
     * The reference backend, counting the calls named pack, gemmPacked, gemm, lstmSequence* and gruSequence* into
     * counts.
     */
    static Backend counting(Map<String, Integer> counts) {
        Backend real = TestBackends.reference();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("pack") || method.getName().equals("gemmPacked")
                            || method.getName().equals("gemm") || method.getName().startsWith("lstmSequence")
                            || method.getName().startsWith("gruSequence")) {
                        counts.merge(method.getName(), 1, Integer::sum);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** Wx (D, gates H), Wh (H, gates H), b (gates H), seeded. */
    static ParameterStore store(Backend b, int gates) {
        return ParameterStore.builder(b).declare("Wx", Init.scaledNormal(D), D, gates * H)
                .declare("Wh", Init.scaledNormal(H), H, gates * H).declare("b", Init.normal(0.1), gates * H).build(4);
    }

    /**
     * Runs forward and backward over (T, N) from h0 = 0, or from a random state when fromState, and returns the calls
     * counted in each, "forward: ..., backward: ...".
     */
    static String run(Layer layer, int gates, int t, int n, boolean fromState) {
        Map<String, Integer> forward = new TreeMap<>(), backward = new TreeMap<>();
        Map<String, Integer> counts = new TreeMap<>();
        Backend b = counting(counts);
        try (ParameterStore store = store(b, gates); Workspace ws = new Workspace(b);
             TimeRecurrent rnn = layer.make(b, store, fromState)) {
            Random r = new Random(3);
            if (fromState) {
                rnn.setState(GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, n * H), n, H));
            }
            Tensor xs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * D), t, n, D);
            Tensor dhs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * H), t, n, H);
            counts.clear();
            rnn.forward(xs);
            forward.putAll(counts);
            counts.clear();
            rnn.backward(dhs);
            backward.putAll(counts);
        }
        return "forward: " + forward + ", backward: " + backward;
    }
}
