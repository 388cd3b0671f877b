// Tensor.overlaps: whether two tensors share a byte, for views of one buffer, separate buffers, Java arrays and empty
// tensors. The backends' aliasing checks (AbstractBackend) and the parameters' (Parameter, CallOrder) rest on it.
package org.seq4j.tensor;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class TensorOverlapsTest {

    @Test
    void viewsOfOneBufferOverlapWhereTheirElementsMeet() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocateHost(arena, DType.F32, 4, 3);
            assertTrue(t.overlaps(t));
            assertTrue(t.get(1).overlaps(t), "a row and its matrix");
            assertTrue(t.flatSlice(2, 2).overlaps(t.get(1)), "elements 2..3 against the row of 3..5");
            assertFalse(t.flatSlice(0, 3).overlaps(t.get(1)), "adjacent: elements 0..2 and 3..5");
            assertFalse(t.get(1).overlaps(t.flatSlice(0, 3)), "the same, in the other order");
            assertFalse(t.flatSlice(0, 0).overlaps(t), "no bytes, no overlap");
            assertFalse(t.overlaps(Tensor.allocateHost(arena, DType.F32, 4, 3)), "another buffer");
        }
    }

    @Test
    void javaArraysOverlapOnlyWithThemselves() {
        float[] a = new float[6], b = new float[6];
        Tensor ta = Tensor.wrap(a, 2, 3);
        assertTrue(ta.overlaps(Tensor.wrap(a, 3, 2)));
        assertFalse(ta.overlaps(Tensor.wrap(b, 2, 3)), "arrays' addresses are offsets into each array");
    }
}
