// Whether the CUDA backend may still queue work: not closed, and its CUDA context not dead.
//
// A kernel that faults on the device (an illegal address, a failed launch, a device-side assert: the "sticky"
// errors of Cuda.isStickyFault) leaves the whole CUDA context unusable: every later runtime call of the process on
// that device returns the same error, and cuBLAS reports CUBLAS_STATUS_EXECUTION_FAILED. Without a latch each of
// those later calls blamed itself ("cudaMemsetAsync: cudaErrorIllegalAddress" from an allocate, a gemm's
// EXECUTION_FAILED), far from the fault. So the first sticky status any call sees is latched here with the function it
// surfaced at, and every later call of the backend is refused with one IllegalStateException saying what happened and
// what to do. Only a restart of the process gets a working context back (cudaDeviceReset would free the memory of
// every other user of the device in this process), so the latch is never cleared; close() still releases what it can.
package org.seq4j.backend.cuda;

import java.util.function.IntFunction;
import java.util.function.IntPredicate;

final class ContextHealth {
    private final String backend;
    private final IntPredicate sticky;
    private final IntFunction<String> statusName;

    private volatile boolean closed;
    private volatile int faultStatus;      // 0 until a sticky status is seen
    private volatile String faultAt;       // the function that first returned it

    /**
     * @param backend    the backend's name, for the messages
     * @param sticky     whether a status is a sticky fault (Cuda::isStickyFault)
     * @param statusName a status's name (Cuda::errorName), read only when a message is built
     */
    ContextHealth(String backend, IntPredicate sticky, IntFunction<String> statusName) {
        this.backend = backend;
        this.sticky = sticky;
        this.statusName = statusName;
    }

    /**
     * Looks at a failed call's status (not 0): a sticky fault is latched, the first one with the function it surfaced
     * at; later ones leave the first in place.
     *
     * @return true if the status is a sticky fault (the context is dead)
     */
    synchronized boolean observe(int status, String function) {
        if (status == 0 || !sticky.test(status)) {
            return false;
        }
        if (faultStatus == 0) {
            faultAt = function;
            faultStatus = status;
        }
        return true;
    }

    /** Whether a sticky fault was seen. */
    boolean faulted() {
        return faultStatus != 0;
    }

    /** Marks the backend closed (under its lock, by close). */
    void close() {
        closed = true;
    }

    boolean closed() {
        return closed;
    }

    /**
     * Throws IllegalStateException if the backend is closed ({@code closedMessage}) or its context faulted (saying
     * which status, where it was first seen, and to restart).
     */
    void require(String closedMessage) {
        if (closed) {
            throw new IllegalStateException(closedMessage);
        }
        if (faultStatus != 0) {
            throw new IllegalStateException(faultMessage());
        }
    }

    /** The refusal after a sticky fault. */
    String faultMessage() {
        return "backend " + backend + " is unusable: its CUDA context faulted (" + statusName.apply(faultStatus)
                + ", first seen at " + faultAt + "), which no call can undo; close the backend and restart the process"
                + " (run with -Dseq4j.cuda.sync=true to have the faulting operation named)";
    }

    /** What the call that first met the fault adds to its own exception's message. */
    static String firstSeenSuffix() {
        return "; the CUDA context is now unusable: every later call of this backend throws IllegalStateException;"
                + " close the backend and restart the process";
    }
}
