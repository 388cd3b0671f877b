// Where a Tensor's bytes live. CPU memory can be read from Java; CUDA memory is a device pointer
// that is only ever handed to CUDA calls, never dereferenced on the host.
package org.seq4j.tensor;

public enum Device {
    CPU,
    CUDA;

    public boolean isHost() {
        return this == CPU;
    }
}
