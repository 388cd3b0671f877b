// Status checks for the CUDA runtime, cuBLAS and our kernels: every call's status goes through one of
// these, which turns anything but success into a CudaException naming the call, the status and its text.
package org.seq4j.backend.cuda;

import java.lang.foreign.MemorySegment;
import org.seq4j.bindings.cublas.cublas_h;
import org.seq4j.bindings.cudart.cudart_h;

final class Cuda {
    private Cuda() {
    }

    /** Throws unless {@code status} (a cudaError_t) is cudaSuccess. */
    static void check(int status, String function) {
        if (status != 0) {
            throw new CudaException(function, status, errorName(status), errorString(status));
        }
    }

    /**
     * Throws unless a kernel's launch {@code status} is cudaSuccess. A sticky status (a kernel faulted while
     * running) is an EARLIER kernel's fault that this launch only reported: the message says so. {@code more} is
     * appended to the description (the backend's word that the context is now dead, or "").
     */
    static void checkLaunch(int status, String function, String more) {
        if (status != 0) {
            throw isStickyFault(status)
                    ? new CudaException(function + ": reported at its launch, but the fault is an earlier kernel's",
                            status, errorName(status), errorString(status) + "; " + PIN_HINT + more)
                    : new CudaException(function, status, errorName(status), errorString(status) + more);
        }
    }

    /**
     * Throws unless a synchronisation's {@code status} is cudaSuccess, saying how to find a faulting kernel;
     * {@code more} appended to the description.
     */
    static void checkSynchronize(int status, String function, boolean syncEveryLaunch, String more) {
        if (status != 0) {
            throw new CudaException(function, status, errorName(status), errorString(status)
                    + (isStickyFault(status) && !syncEveryLaunch
                            ? "; a kernel queued since the last synchronisation faulted: " + PIN_HINT : "") + more);
        }
    }

    private static final String PIN_HINT = "rerun with -Dseq4j.cuda.sync=true to have the failing operation named";

    /** Errors raised by a kernel while it ran: sticky, returned by every later call of the context. */
    static boolean isStickyFault(int status) {
        return status == cudart_h.cudaErrorIllegalAddress() || status == cudart_h.cudaErrorLaunchFailure()
                || status == cudart_h.cudaErrorAssert() || status == cudart_h.cudaErrorMisalignedAddress()
                || status == cudart_h.cudaErrorIllegalInstruction() || status == cudart_h.cudaErrorHardwareStackError()
                || status == cudart_h.cudaErrorInvalidPc() || status == cudart_h.cudaErrorInvalidAddressSpace()
                || status == cudart_h.cudaErrorLaunchTimeout();
    }

    /** Throws unless {@code status} (a cublasStatus_t) is CUBLAS_STATUS_SUCCESS. */
    static void checkBlas(int status, String function) {
        if (status != cublas_h.CUBLAS_STATUS_SUCCESS()) {
            throw new CudaException(function, status, string(cublas_h.cublasGetStatusName(status), "cuBLAS status " + status),
                    string(cublas_h.cublasGetStatusString(status), "no description"));
        }
    }

    static String errorName(int status) {
        return string(cudart_h.cudaGetErrorName(status), "cudaError " + status);
    }

    static String errorString(int status) {
        return string(cudart_h.cudaGetErrorString(status), "no description");
    }

    /** A C string returned by the library (static storage), or {@code orElse} for NULL. */
    static String string(MemorySegment cString, String orElse) {
        return cString.equals(MemorySegment.NULL) ? orElse : cString.reinterpret(1024).getString(0);
    }
}
