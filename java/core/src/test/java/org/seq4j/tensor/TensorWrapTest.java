// Tensor.wrap of memory it must refuse before any kernel or accessor touches it. Device memory: a GPU tensor's
// segment() wrapped as a CPU tensor was taken, and its first read (getFloat, any CPU kernel) read the device address on
// the host, a SIGSEGV that took the JVM. The device backends register their blocks in DeviceMemory; here host memory
// stands in for a block (registered, then forgotten), so that a check that failed would read host memory, not crash.
package org.seq4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.internal.DeviceMemory;

class TensorWrapTest {

    @Test
    void deviceMemoryIsRefusedAsHostMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(64, 64);
            DeviceMemory.add(block.address(), 32);   // the first 32 bytes stand for a device block
            try {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> Tensor.wrapHost(block.asSlice(0, 16), 4));
                assertTrue(e.getMessage().contains(" is device memory (a GPU tensor's segment()?), which the host"
                        + " cannot read or write"), e.getMessage());
                assertThrows(IllegalArgumentException.class,
                        () -> Tensor.wrap(block.asSlice(28, 8), DType.I32, Device.CPU, 2), "its last bytes");
                // as a device tensor it is what it is; host memory right after the block is host memory
                assertEquals(Device.CUDA, Tensor.wrap(block.asSlice(0, 16), DType.F32, Device.CUDA, 4).device());
                assertEquals(0f, Tensor.wrapHost(block.asSlice(32, 16), 4).getFloat(0));
            } finally {
                DeviceMemory.remove(block.address());
            }
        }
    }

    @Test
    void aNullPointerIsRefusedAsMemory() {
        // what MemorySegment.ofAddress(p).reinterpret(n) makes of a C allocator's NULL; never read here
        MemorySegment nothing = MemorySegment.NULL.reinterpret(16);
        for (Device device : Device.values()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Tensor.wrap(nothing, DType.F32, device, 4), device.name());
            assertTrue(e.getMessage().contains("is a null pointer of 16 bytes"), e.getMessage());
        }
        assertEquals(0, Tensor.wrapHost(MemorySegment.NULL, 0).size(), "no bytes: nothing is ever read");
    }

    /** The shape helpers named a null argument in a bare NullPointerException from a loop. */
    @Test
    void theShapeHelpersNameANullArgument() {
        assertEquals("Tensor.shapeString: shape is null",
                assertThrows(NullPointerException.class, () -> Tensor.shapeString((int[]) null)).getMessage());
        assertEquals("Tensor.sizeOf: shape is null",
                assertThrows(NullPointerException.class, () -> Tensor.sizeOf((int[]) null)).getMessage());
        assertEquals("Tensor.byteSizeOf: shape is null",
                assertThrows(NullPointerException.class, () -> Tensor.byteSizeOf(DType.F32, (int[]) null)).getMessage());
        assertEquals("Tensor.byteSizeOf: dtype is null",
                assertThrows(NullPointerException.class, () -> Tensor.byteSizeOf(null, 2)).getMessage());
    }

    /** requireUsable with no segment threw the JVM's "Cannot invoke MemorySegment.scope()" (CoreApiFuzzTest). */
    @Test
    void requireUsableNamesANullSegment() {
        assertEquals("Model.forward: xs is null", assertThrows(NullPointerException.class,
                () -> Tensor.requireUsable("Model.forward", "xs", "the tensor", null)).getMessage());
    }
}
