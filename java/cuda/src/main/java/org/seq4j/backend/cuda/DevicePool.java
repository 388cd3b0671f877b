// A caching pool of device allocations keyed by size, so that a training step whose tensors keep their
// shapes does no cudaMalloc (which is slow and synchronises the device) after its first step.
//
// Blocks are never split or merged: a request is rounded up to a multiple of GRANULE bytes and served from
// the free list of exactly that size, or by a new allocation. Released blocks go back to their list; they
// are reused only by work queued later on the same stream, so stream order makes reuse safe without
// waiting. When an allocation fails for lack of memory the pool frees every cached block and tries once
// more. Thread-safe: arenas may be closed, and blocks released, from any thread.
package org.seq4j.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

final class DevicePool implements AutoCloseable {

    /** Allocation sizes are rounded up to this many bytes (cudaMalloc aligns to 256 anyway). */
    static final long GRANULE = 512;

    /** The device allocator underneath: cudaMalloc/cudaFree on a GPU, a fake in tests. */
    interface Allocator {
        /** A new block of {@code bytes}, or 0 when the device is out of memory; other failures throw. */
        long malloc(long bytes);

        void free(long pointer);
    }

    /** What the pool holds: blocks handed out and cached, and how often it had to allocate. */
    record Stats(long bytesInUse, long bytesCached, long blocksInUse, long blocksCached, long mallocs, long reuses) {
    }

    private final Allocator allocator;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long bytesInUse, bytesCached, blocksInUse, blocksCached, mallocs, reuses;
    private boolean closed;

    DevicePool(Allocator allocator) {
        this.allocator = allocator;
    }

    static long roundUp(long bytes) {
        if (bytes > Long.MAX_VALUE - (GRANULE - 1)) {
            throw new IllegalArgumentException("CUDA allocation of " + bytes + " bytes: rounded up to a multiple of "
                    + GRANULE + " it overflows a long");
        }
        return (bytes + GRANULE - 1) / GRANULE * GRANULE;
    }

    /** A block of at least {@code bytes} (> 0); give it back with release(pointer, bytes). */
    synchronized long acquire(long bytes) {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed; its device memory pool cannot allocate");
        }
        long size = roundUp(bytes);
        ArrayDeque<Long> list = free.get(size);
        long p;
        if (list != null && !list.isEmpty()) {
            p = list.pop();
            bytesCached -= size;
            blocksCached--;
            reuses++;
        } else {
            p = allocator.malloc(size);
            if (p == 0) {
                trim();
                p = allocator.malloc(size);
                if (p == 0) {
                    throw new OutOfMemoryError("CUDA device memory exhausted: cannot allocate " + size + " bytes with "
                            + bytesInUse + " bytes in use by live tensors (the pool's cache was freed first)");
                }
            }
            mallocs++;
        }
        bytesInUse += size;
        blocksInUse++;
        return p;
    }

    /** Returns a block from acquire(bytes) to the pool (or to the device, once the pool is closed). */
    synchronized void release(long pointer, long bytes) {
        long size = roundUp(bytes);
        bytesInUse -= size;
        blocksInUse--;
        if (closed) {
            allocator.free(pointer);
            return;
        }
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(pointer);
        bytesCached += size;
        blocksCached++;
    }

    /** Frees every cached block. */
    synchronized void trim() {
        for (ArrayDeque<Long> list : free.values()) {
            for (long p : list) {
                allocator.free(p);
            }
        }
        free.clear();
        bytesCached = 0;
        blocksCached = 0;
    }

    synchronized Stats stats() {
        return new Stats(bytesInUse, bytesCached, blocksInUse, blocksCached, mallocs, reuses);
    }

    /** Frees the cache; blocks still held by live tensors are freed when they come back. */
    @Override
    public synchronized void close() {
        if (!closed) {
            trim();
            closed = true;
        }
    }
}
