// Where a Tensor's bytes live. CPU memory can be read from Java; CUDA memory is a device pointer
// that is only ever handed to CUDA calls, never dereferenced on the host.
package org.seq4j.tensor;

/** Where a {@link Tensor}'s memory lives. */
public enum Device {
    /** Host memory, readable from Java (native or, for some kernels, Java heap). */
    CPU,
    /** CUDA device memory: a device pointer, handed to CUDA calls only. */
    CUDA;

    /**
     * Whether tensors on this device can be read and written from Java.
     *
     * @return true for {@link #CPU}
     */
    public boolean isHost() {
        return this == CPU;
    }
}
