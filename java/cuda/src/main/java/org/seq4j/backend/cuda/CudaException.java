// A failed CUDA runtime, cuBLAS or seq4j kernel call: the message names the function, the status name and
// NVIDIA's description of it, e.g. "cudaMalloc: cudaErrorMemoryAllocation (out of memory)".
package org.seq4j.backend.cuda;

public final class CudaException extends RuntimeException {
    private final int status;

    public CudaException(String function, int status, String name, String description) {
        super(function + ": " + name + " (" + description + ")");
        this.status = status;
    }

    /** The raw status: a cudaError_t for the runtime and our kernels, a cublasStatus_t for cuBLAS. */
    public int status() {
        return status;
    }
}
