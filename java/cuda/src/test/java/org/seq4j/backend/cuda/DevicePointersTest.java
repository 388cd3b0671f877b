// DevicePointers' decisions without a GPU, on the attributes a runtime would report: a CUDA tensor must be memory of
// the backend's GPU (or managed memory) inside its allocation; a host segment of copyIn/copyOut must not be device
// memory. And the hand-written downcall links and answers with a status (no crash) where no driver is.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.seq4j.bindings.cudart.cudart_h;

class DevicePointersTest {
    private static final long AT = 0x7f00_0000_1000L;

    private static String device(DevicePointers.Attributes a, DevicePointers.Range r, long bytes) {
        return DevicePointers.deviceProblem(a, r, AT, bytes, 0, s -> "cudaErrorInvalidValue");
    }

    private static DevicePointers.Attributes ok(int type, int device) {
        return new DevicePointers.Attributes(0, type, device);
    }

    @Test
    void hostMemoryTaggedCudaIsRefused() {
        String why = device(ok(DevicePointers.UNREGISTERED, -2), null, 64);
        assertTrue(why.contains("is host memory,") && why.contains("copyIn"), why);
        why = device(ok(DevicePointers.HOST, 0), null, 64);
        assertTrue(why.contains("is host memory (pinned)"), why);
    }

    @Test
    void anotherDevicesMemoryIsRefusedAndManagedMemoryIsNot() {
        String why = device(ok(DevicePointers.DEVICE, 1), null, 64);
        assertTrue(why.contains("memory of CUDA device 1, but this backend runs on device 0"), why);
        assertNull(device(ok(DevicePointers.MANAGED, 1), null, 64));
        assertNull(device(ok(DevicePointers.DEVICE, 0), null, 64));
    }

    @Test
    void anAddressTheRuntimeDoesNotKnowIsRefused() {
        String why = device(new DevicePointers.Attributes(1, -1, -1), null, 64);
        assertTrue(why.contains("no memory the CUDA runtime knows (cudaPointerGetAttributes: cudaErrorInvalidValue)"), why);
    }

    @Test
    void aTensorMustLieInsideItsAllocationWhereTheDriverGivesIt() {
        DevicePointers.Attributes d = ok(DevicePointers.DEVICE, 0);
        assertNull(device(d, new DevicePointers.Range(AT, 64), 64));           // exactly the allocation
        assertNull(device(d, new DevicePointers.Range(AT - 64, 192), 64));     // a slice inside it
        String why = device(d, new DevicePointers.Range(AT, 64), 68);
        assertTrue(why.contains("(68 bytes) runs past its device allocation of 64 bytes"), why);
        assertTrue(device(d, new DevicePointers.Range(AT + 4, 64), 4).contains("runs past"));   // starts before it
        assertTrue(device(d, new DevicePointers.Range(AT - 8, 8), Long.MAX_VALUE).contains("runs past"));   // no overflow
    }

    @Test
    void aHostSegmentThatIsDeviceMemoryIsRefusedByCopies() {
        String in = DevicePointers.hostProblem(ok(DevicePointers.DEVICE, 0), "copyIn");
        assertTrue(in.contains("is CUDA device memory") && in.contains("cannot read") && in.contains("copy(dst, src)"), in);
        String out = DevicePointers.hostProblem(ok(DevicePointers.DEVICE, 0), "copyOut");
        assertTrue(out.contains("cannot write"), out);
        for (int type : new int[] {DevicePointers.UNREGISTERED, DevicePointers.HOST, DevicePointers.MANAGED}) {
            assertNull(DevicePointers.hostProblem(ok(type, 0), "copyIn"), "type " + type);
        }
        assertNull(DevicePointers.hostProblem(new DevicePointers.Attributes(1, -1, -1), "copyIn"));   // unknown: host
    }

    /** The hand-written binding of cudaPointerGetAttributes links and returns a status, where the runtime is installed. */
    @Test
    void theQueryAnswersWithAStatusWithoutADriver() {
        CudaKernelsLibraryTest.loadWithoutADriver();   // skips, saying why, where it cannot
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(DevicePointers.ATTRIBUTES_BYTES, 8);
            DevicePointers.Attributes a = DevicePointers.attributes(out, out.address());
            assertNotEquals(0, a.status(), "no driver, yet cudaPointerGetAttributes succeeded");
            cudart_h.cudaGetLastError();
            assertEquals(java.util.Optional.empty(), DevicePointers.range(arena.allocate(16, 8), out.address()));
        }
    }
}
