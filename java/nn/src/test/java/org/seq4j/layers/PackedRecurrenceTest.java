// When TimeLSTM packs Wh: once per forward and Wh^T once per backward, for passes of two or more recurrent
// products over more than one row, or of eight or more over one row; fewer products keep the plain gemm.
// Counted through a proxy over the reference backend, which forwards every call; that the packed products give
// the same training step is TrainingStepEquivalenceTest's and the gradient checks' business.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class PackedRecurrenceTest {
    static final int D = 3, H = 5;

    /** The reference backend, counting the calls named pack, gemmPacked and gemm into counts. */
    private static Backend counting(Map<String, Integer> counts) {
        Backend real = TestBackends.reference();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("pack") || method.getName().equals("gemmPacked")
                            || method.getName().equals("gemm")) {
                        counts.merge(method.getName(), 1, Integer::sum);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** Runs forward and backward over (T, N) and returns the calls counted in each, "forward: ..., backward: ...". */
    private static String run(int t, int n, boolean fromState) {
        Map<String, Integer> forward = new TreeMap<>(), backward = new TreeMap<>();
        Map<String, Integer> counts = new TreeMap<>();
        Backend b = counting(counts);
        try (ParameterStore store = ParameterStore.builder(b).declare("Wx", Init.scaledNormal(D), D, 4 * H)
                .declare("Wh", Init.scaledNormal(H), H, 4 * H).declare("b", Init.normal(0.1), 4 * H).build(4);
             Workspace ws = new Workspace(b);
             TimeLSTM lstm = new TimeLSTM(b, store.get("Wx"), store.get("Wh"), store.get("b"), fromState)) {
            Random r = new Random(3);
            if (fromState) {
                lstm.setState(GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, n * H), n, H));
            }
            Tensor xs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * D), t, n, D);
            Tensor dhs = GradientCheck.tensor(b, ws, GradientCheck.randn(r, 1, t * n * H), t, n, H);
            counts.clear();
            lstm.forward(xs);
            forward.putAll(counts);
            counts.clear();
            lstm.backward(dhs);
            backward.putAll(counts);
        }
        return "forward: " + forward + ", backward: " + backward;
    }

    @Test
    void packsOncePerPassWhenThereAreProductsToShare() {
        // forward from h0 = 0: T - 1 = 4 recurrent products, plus the input projection's gemm; backward: T = 5
        // recurrent products, plus the gemms of dWx, dWh and dxs
        assertEquals("forward: {gemm=1, gemmPacked=4, pack=1}, backward: {gemm=3, gemmPacked=5, pack=1}",
                run(5, 3, false));
        // from a carried state the first step has a product too
        assertEquals("forward: {gemm=1, gemmPacked=5, pack=1}, backward: {gemm=3, gemmPacked=5, pack=1}",
                run(5, 2, true));
    }

    @Test
    void keepsThePlainGemmForFewProducts() {
        // N = 1: matrix-vector products, packed from eight on (T = 9 from zero: 8 forward, 9 backward products)
        assertEquals("forward: {gemm=5}, backward: {gemm=8}", run(5, 1, false));
        assertEquals("forward: {gemm=1, gemmPacked=8, pack=1}, backward: {gemm=3, gemmPacked=9, pack=1}",
                run(9, 1, false));
        assertEquals("forward: {gemm=8}, backward: {gemm=3, gemmPacked=8, pack=1}", run(8, 1, false));
        // T = 1 from a state (a decoder's step): one product each way, not worth a pack
        assertEquals("forward: {gemm=2}, backward: {gemm=4}", run(1, 4, true));
        assertEquals("forward: {gemm=1}, backward: {gemm=4}", run(1, 4, false)); // from zero: no forward product
    }
}
