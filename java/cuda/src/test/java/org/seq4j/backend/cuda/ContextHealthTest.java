// ContextHealth without a GPU, fed statuses by hand: the first sticky fault (a kernel's illegal address, a failed
// launch, ...) is latched with the function it surfaced at and refuses every later call in one sentence; other
// failures (out of memory, a bad argument) leave the backend usable; a closed backend says it is closed.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.seq4j.bindings.cudart.cudart_h;

class ContextHealthTest {
    private static final String CLOSED = "synchronize: backend cuda is closed";

    /** The real predicate (cudart_h's constants need no library), names made up: cudaGetErrorName needs the runtime. */
    private static ContextHealth health() {
        return new ContextHealth("cuda", Cuda::isStickyFault, s -> s == 700 ? "cudaErrorIllegalAddress" : "status " + s);
    }

    @Test
    void theFirstStickyFaultIsLatchedWithWhereItSurfacedAndRefusesEveryLaterCall() {
        ContextHealth h = health();
        h.require(CLOSED);   // fresh: usable
        assertTrue(h.observe(cudart_h.cudaErrorIllegalAddress(), "seq4j_cuda_mul"));
        assertTrue(h.faulted());
        var e = assertThrows(IllegalStateException.class, () -> h.require(CLOSED));
        assertTrue(e.getMessage().startsWith("backend cuda is unusable: its CUDA context faulted (cudaErrorIllegalAddress,"
                + " first seen at seq4j_cuda_mul)"), e.getMessage());
        assertTrue(e.getMessage().contains("close the backend and restart the process"), e.getMessage());
        // a later fault (another status, elsewhere) leaves the first in place: it is the one worth reading
        assertTrue(h.observe(cudart_h.cudaErrorLaunchFailure(), "cublasSgemm_v2"));
        assertEquals(e.getMessage(), assertThrows(IllegalStateException.class, () -> h.require(CLOSED)).getMessage());
    }

    @Test
    void everyStickyStatusOfTheRuntimeLatches() {
        int[] sticky = {cudart_h.cudaErrorIllegalAddress(), cudart_h.cudaErrorLaunchFailure(),
            cudart_h.cudaErrorHardwareStackError(), cudart_h.cudaErrorIllegalInstruction(),
            cudart_h.cudaErrorMisalignedAddress(), cudart_h.cudaErrorInvalidAddressSpace(), cudart_h.cudaErrorInvalidPc(),
            cudart_h.cudaErrorAssert(), cudart_h.cudaErrorLaunchTimeout()};
        for (int status : sticky) {
            ContextHealth h = health();
            assertTrue(h.observe(status, "f"), "status " + status);
            assertThrows(IllegalStateException.class, () -> h.require(CLOSED), "status " + status);
        }
    }

    @Test
    void otherFailuresLeaveTheBackendUsable() {
        ContextHealth h = health();
        for (int status : new int[] {0, cudart_h.cudaErrorMemoryAllocation(), cudart_h.cudaErrorNotReady(),
            cudart_h.cudaErrorNoDevice(), 1 /* cudaErrorInvalidValue */}) {
            assertFalse(h.observe(status, "cudaMalloc"), "status " + status);
        }
        assertFalse(h.faulted());
        h.require(CLOSED);
    }

    @Test
    void aClosedBackendSaysItIsClosedInTheCallersWords() {
        ContextHealth h = health();
        h.close();
        assertTrue(h.closed());
        assertEquals(CLOSED, assertThrows(IllegalStateException.class, () -> h.require(CLOSED)).getMessage());
        h.observe(cudart_h.cudaErrorIllegalAddress(), "x");   // closed first: closed is what a call is told
        assertEquals(CLOSED, assertThrows(IllegalStateException.class, () -> h.require(CLOSED)).getMessage());
    }
}
