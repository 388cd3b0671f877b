// copyIn / copyOut of every backend refuse a "host" segment that is device memory (a GPU tensor's segment(), handed
// to a CPU backend): the host read or wrote the device address, a SIGSEGV that took the JVM. The device backends
// register their blocks in DeviceMemory; here host memory stands in for a block (registered, then forgotten), so
// that a check that failed would copy host memory, not crash.
package org.seq4j.backend.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class DeviceMemoryTest {
    @Test
    void overlapsFindsAnyByteOfARegisteredBlock() {
        long base = 0x7f00_0000_0000L;   // never dereferenced
        DeviceMemory.add(base, 100);
        DeviceMemory.add(base + 200, 50);
        try {
            assertTrue(DeviceMemory.overlaps(base, 1));
            assertTrue(DeviceMemory.overlaps(base + 99, 1), "the block's last byte");
            assertFalse(DeviceMemory.overlaps(base + 100, 100), "the gap between the blocks");
            assertTrue(DeviceMemory.overlaps(base - 10, 11), "a range ending on the first byte");
            assertFalse(DeviceMemory.overlaps(base - 10, 10), "a range ending just before");
            assertTrue(DeviceMemory.overlaps(base + 150, 60), "into the second block");
            assertTrue(DeviceMemory.overlaps(base + 50, 1000), "over both");
            assertFalse(DeviceMemory.overlaps(base + 250, 8), "just past the second");
        } finally {
            DeviceMemory.remove(base);
            DeviceMemory.remove(base + 200);
        }
        assertFalse(DeviceMemory.overlaps(base, 1), "forgotten once freed");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void copiesRefuseDeviceMemoryAsHostMemory(String backend) {
        Backend b = TestBackends.get(backend);
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = b.allocate(arena, DType.F32, 4);
            MemorySegment block = arena.allocate(64, 64);
            DeviceMemory.add(block.address(), 32);   // the first 32 bytes stand for a device block
            try {
                IllegalArgumentException in = assertThrows(IllegalArgumentException.class,
                        () -> b.copyIn(t, block.asSlice(0, 16)));
                assertTrue(in.getMessage().startsWith("copyIn: src ") && in.getMessage().contains(" is device memory"
                        + " (a GPU tensor's segment()?), which the host cannot read"), in.getMessage());
                IllegalArgumentException out = assertThrows(IllegalArgumentException.class,
                        () -> b.copyOut(block.asSlice(16, 16), t));
                assertTrue(out.getMessage().contains("which the host cannot write"), out.getMessage());
                b.copyIn(t, block.asSlice(32, 16));   // host memory right after the block: taken
                b.copyOut(block.asSlice(48, 16), t);
                assertEquals(0f, block.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 12));
            } finally {
                DeviceMemory.remove(block.address());
            }
        }
    }
}
