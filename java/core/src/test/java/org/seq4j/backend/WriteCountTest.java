// Tensor.writes counts what a Backend call writes and nothing it only reads: a layer compares the count of the input
// it keeps between its forward and its backward (CallOrder), so an uncounted output would let a changed input through
// and a counted input would refuse a backward whose input only another kernel read. Checked for a kernel of each
// kind (copies, elementwise, products, packed products, cells, gathers and scatters, the loss, the optimizers) on
// every backend, inputs and outputs apart.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class WriteCountTest {
    static final int N = 3, H = 4, V = 5;

    /** Runs call and checks that exactly the tensors named in written changed their count. */
    private static void counts(String what, Map<String, Tensor> tensors, Runnable call, String... written) {
        Map<String, Long> before = new LinkedHashMap<>();
        tensors.forEach((name, t) -> before.put(name, t.writes()));
        call.run();
        java.util.Set<String> out = java.util.Set.of(written);
        tensors.forEach((name, t) -> {
            if (out.contains(name)) {
                assertNotEquals(before.get(name), t.writes(), what + ": " + name + " was written but not counted");
            } else {
                assertEquals(before.get(name), t.writes(), what + ": " + name + " was only read but counted");
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void eachCallCountsItsOutputsAndNotItsInputs(String backendName) {
        Backend b = TestBackends.get(backendName);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = b.allocate(arena, DType.F32, N, H), y = b.allocate(arena, DType.F32, N, H);
            Tensor w = b.allocate(arena, DType.F32, H, 4 * H), gates = b.allocate(arena, DType.F32, N, 4 * H);
            Tensor c = b.allocate(arena, DType.F32, N, H), hNext = b.allocate(arena, DType.F32, N, H);
            Tensor cNext = b.allocate(arena, DType.F32, N, H), ids = b.allocate(arena, DType.I32, N);
            Tensor table = b.allocate(arena, DType.F32, V, H), dTable = b.allocate(arena, DType.F32, V, H);
            Tensor logits = b.allocate(arena, DType.F32, N, V), probs = b.allocate(arena, DType.F32, N, V);
            Tensor loss = b.allocate(arena, DType.F32, 1), m = b.allocate(arena, DType.F32, N, H);
            Tensor v = b.allocate(arena, DType.F32, N, H);
            Map<String, Tensor> all = new LinkedHashMap<>();
            all.put("x", x);
            all.put("y", y);
            all.put("w", w);
            all.put("gates", gates);
            all.put("c", c);
            all.put("hNext", hNext);
            all.put("cNext", cNext);
            all.put("ids", ids);
            all.put("table", table);
            all.put("dTable", dTable);
            all.put("logits", logits);
            all.put("probs", probs);
            all.put("loss", loss);
            all.put("m", m);
            all.put("v", v);
            counts("fill", all, () -> b.fill(x, 0.5f), "x");
            counts("copy", all, () -> b.copy(y, x), "y");
            counts("copyIn", all, () -> b.copyIn(x, new float[N * H]), "x");
            counts("copyOut", all, () -> b.copyOut(new float[N * H], x));
            counts("item", all, () -> b.item(x, 0));
            counts("addScaled", all, () -> b.addScaled(y, x, 2f), "y");
            counts("matmul", all, () -> b.matmul(Transpose.NO, Transpose.NO, 1f, x, w, 0f, gates), "gates");
            PackedMatrix packed = b.packedMatrix(arena, H, 4 * H, PackedMatrix.Precision.F32);
            all.put("packed", packed.storage());
            counts("pack", all, () -> b.pack(packed, Transpose.NO, w), "packed");
            counts("gemmPacked", all, () -> b.gemmPacked(gates, x, packed, 1f), "gates");
            counts("lstmCellForward", all, () -> b.lstmCellForward(hNext, cNext, gates, c), "hNext", "cNext", "gates");
            counts("embeddingForward", all, () -> b.embeddingForward(y, table, ids), "y");
            counts("embeddingBackward", all, () -> b.embeddingBackward(dTable, ids, y), "dTable");
            counts("softmaxCrossEntropyForward", all, () -> b.softmaxCrossEntropyForward(probs, loss, logits, ids),
                    "probs", "loss");
            counts("sumOfSquares", all, () -> b.sumOfSquares(loss, x), "loss");
            counts("adamUpdate", all, () -> b.adamUpdate(x, m, v, y, 0.01f, 0.9f, 0.999f, 1e-8f, false), "x", "m",
                    "v");
            counts("adamUpdate zeroing", all, () -> b.adamUpdate(x, m, v, y, 0.01f, 0.9f, 0.999f, 1e-8f, true), "x",
                    "m", "v", "y");
            counts("a write to a view", all, () -> b.fill(gates.slice(1, 2), 0f), "gates");
        }
    }
}
