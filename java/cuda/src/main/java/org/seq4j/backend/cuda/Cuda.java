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
