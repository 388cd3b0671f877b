// Tensor.writes is one count for all the views of one allocation or wrap (view, slice, get, flatSlice). A layer keeps
// its forward's input and refuses its backward when that count moved. Checked here for slices: every write that reaches
// the kept input's elements, through the input, its parent, a sibling view that overlaps it, a view of a view, is
// refused (no false negative: no gradient from values the forward never saw); a write to a sibling slice whose elements
// are disjoint from the input's is refused too (a false positive, documented in Tensor.writes), and the refusal says
// that a write to any view of the same allocation counts, so that the caller is not left looking for a write to the
// input itself. A forward of the input again runs, and a write to another allocation leaves the backward alone.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class SliceWriteCountTest {
    static final int T = 3, N = 2, D = 4, H = 4;

    static Stream<Named<String>> backends() {
        return TestBackends.all();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void everyWriteReachingAKeptSliceIsRefusedAndADisjointSiblingsIsRefusedClearly(String backendName) {
        Backend b = TestBackends.get(backendName);
        long sliceSize = (long) T * N * D;
        // writes to the parent X (2, T, N, D) of the kept input xa = X.get(0); the sibling xb = X.get(1)
        Map<String, BiConsumer<Tensor, Tensor>> overlapping = new LinkedHashMap<>();
        overlapping.put("the parent, copyIn", (parent, xa) -> b.copyIn(parent, new float[(int) parent.size()]));
        overlapping.put("a flat slice across both halves", (parent, xa) -> b.fill(parent.flatSlice(sliceSize - 2, 4), 1f));
        overlapping.put("a view of the parent, one row of xa", (parent, xa) -> b.fill(parent.view(2 * T, N, D).get(T - 1),
                1f));
        overlapping.put("a slice of a view of xa", (parent, xa) -> b.fill(xa.view(T * N, D).slice(1, 2), 2f));
        overlapping.put("the parent's get(0).get(0)", (parent, xa) -> b.fill(parent.get(0).get(0), 3f));
        try (ParameterStore s = ParameterStore.builder(b).declare("Wx", Init.scaledNormal(D), D, 4 * H)
                .declare("Wh", Init.scaledNormal(H), H, 4 * H).declare("b", Init.zeros(), 4 * H)
                .declare("W", Init.scaledNormal(D), D, H).declare("ab", Init.zeros(), H).build(3);
             Arena arena = Arena.ofConfined();
             TimeLSTM lstm = new TimeLSTM(b, s.get("Wx"), s.get("Wh"), s.get("b"), false);
             TimeAffine affine = new TimeAffine(b, s.get("W"), s.get("ab"))) {
            Tensor parent = b.allocate(arena, DType.F32, 2, T, N, D);
            Tensor dhs = b.allocate(arena, DType.F32, T, N, H);
            b.fill(dhs, 0.5f);
            Tensor other = b.allocate(arena, DType.F32, T, N, D);
            for (var layer : Map.<String, Runnable[]>of(
                    "TimeLSTM", new Runnable[] {() -> lstm.forward(parent.get(0)), () -> lstm.backward(dhs)},
                    "TimeAffine", new Runnable[] {() -> affine.forward(parent.get(0)), () -> affine.backward(dhs)})
                    .entrySet()) {
                String name = layer.getKey();
                Runnable forward = layer.getValue()[0], backward = layer.getValue()[1];
                for (var write : overlapping.entrySet()) {
                    forward.run();
                    write.getValue().accept(parent, parent.get(0));
                    IllegalStateException e = assertThrows(IllegalStateException.class, backward::run,
                            name + " after a write through " + write.getKey());
                    assertEquals(name + ".backward: " + (name.equals("TimeLSTM") ? "xs" : "x") + " Tensor(3, 2, 4) F32 on "
                            + b.device() + ", the forward's input that " + name + " keeps for its backward, was written "
                            + "since the forward (itself, or a view of the same allocation: a write to another, disjoint"
                            + " slice of it counts too); the gradients would be computed from values the forward never "
                            + "saw: run forward again, or write the input only after the backward", e.getMessage());
                }
                // the sibling: disjoint elements, the same allocation. Refused all the same, in the same words
                forward.run();
                b.fill(parent.get(1), 4f);
                assertThrows(IllegalStateException.class, backward::run, name + " after a write to the sibling slice");
                // another allocation: the backward runs
                forward.run();
                b.fill(other, 5f);
                backward.run();
            }
        }
    }
}
