// A tensor whose writes one backend orders (a GPU backend's stream: CudaBackend marks what it allocates) is refused
// by every other backend, views included, where a second CudaBackend's kernels would not have waited for writes
// still queued on the first one's stream (a silent race). Tested here with two Java backends and a marked tensor:
// the check is AbstractBackend's, the same for every backend; CudaBackendGpuTest runs it with CudaBackend's tensors.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

class TensorOwnerTest {

    @Test
    void anotherBackendsTensorIsRefusedAndViewsKeepTheirOwner() {
        try (Backend a = new JavaBackend(); Backend b = new JavaBackend(); Arena arena = Arena.ofConfined()) {
            Tensor plain = a.allocate(arena, DType.F32, 2, 3);
            assertNull(plain.owner(), "memory without an order of its own has no owner");
            Tensor t = plain.ownedBy(a);
            for (Tensor v : new Tensor[] {t, t.get(1), t.slice(0, 1), t.view(3, 2), t.flatSlice(2, 3)}) {
                assertSame(a, v.owner(), "a view keeps the owner: " + v);
                a.fill(v, 1f);   // its owner takes it
                var e = assertThrows(IllegalArgumentException.class, () -> b.fill(v, 2f));
                assertTrue(e.getMessage().startsWith("fill: x ") && e.getMessage().contains(
                        "is owned by another java backend, not this java backend, and its owner orders its writes"),
                        e.getMessage());
            }
            // an owner that is no backend is named by its class (it was called "another java backend")
            var other = assertThrows(IllegalArgumentException.class, () -> a.fill(plain.ownedBy("me"), 2f));
            assertTrue(other.getMessage().contains("is owned by a java.lang.String, not this java backend"),
                    other.getMessage());
            b.fill(plain, 3f);   // the same memory without the mark: nothing to check
            assertSame(a, t.ownedBy(a).owner(), "marking again by the same owner is allowed");
            assertThrows(IllegalStateException.class, () -> t.ownedBy(b));
            assertThrows(NullPointerException.class, () -> plain.ownedBy(null));
        }
    }
}
