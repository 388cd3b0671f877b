// The device memory live in this process, as the device backends allocated it, so that host code refuses it as host
// memory: a CUDA tensor's segment() holds a device address, and copyIn / copyOut of a CPU backend handed it as host
// memory would read or write that address on the host (a SIGSEGV, the JVM gone). seq4j-cuda registers every block it
// gets from cudaMalloc and forgets it at cudaFree; with no device backend in the process the map stays empty and the
// check is one isEmpty().
package org.seq4j.backend.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/** Device memory ranges live in this process, registered by the device backends. */
public final class DeviceMemory {
    private static final ConcurrentSkipListMap<Long, Long> RANGES = new ConcurrentSkipListMap<>(); // start -> end

    private DeviceMemory() {
    }

    /**
     * Records device memory [address, address + bytes), as allocated (blocks never overlap one another).
     *
     * @param address the block's device address
     * @param bytes   its size, at least 1
     */
    public static void add(long address, long bytes) {
        RANGES.put(address, address + bytes);
    }

    /**
     * Forgets the block that starts at {@code address}, as it is freed.
     *
     * @param address the block's device address
     */
    public static void remove(long address) {
        RANGES.remove(address);
    }

    /**
     * Whether [address, address + bytes) overlaps device memory. Blocks are disjoint, so the one that starts last at
     * or before the range's last byte is the only one to look at: any overlapping block either is it or ends before
     * it starts, past the range's first byte.
     *
     * @param address the first byte
     * @param bytes   how many bytes, at least 1
     * @return true where some byte of the range is device memory
     */
    public static boolean overlaps(long address, long bytes) {
        if (RANGES.isEmpty()) {
            return false;
        }
        Map.Entry<Long, Long> e = RANGES.floorEntry(address + bytes - 1);
        return e != null && e.getValue() > address;
    }
}
