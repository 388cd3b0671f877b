// A caching pool of device allocations by size class, so that a training step whose tensors keep their
// shapes does no cudaMalloc (which is slow and synchronises the device) after its first step.
//
// Blocks are never split or merged: a request is rounded up to its size class (sizeClass) and served from
// that class's free list, or by a new allocation. Released blocks go back to their list; they are reused
// only by work queued later on the same stream, so stream order makes reuse safe without waiting. The
// cache is capped: once more than maxCachedBytes sit unused, the blocks cached longest ago are freed
// (cudaFree waits for the device, so a block still read by queued work is never freed under it). When an
// allocation fails for lack of memory the pool frees every cached block and tries once more.
// Thread-safe: arenas may be closed, and blocks released, from any thread.
package org.seq4j.backend.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

final class DevicePool implements AutoCloseable {

    /** Small requests are rounded up to a multiple of this many bytes (cudaMalloc aligns to 256 anyway). */
    static final long GRANULE = 512;
    /** Requests up to this size use GRANULE steps; larger ones 8 classes per power of two (<= 12.5% slack). */
    static final long SMALL = 1L << 20;
    private static final int CLASSES_PER_OCTAVE_LOG2 = 3;

    /** The device allocator underneath: cudaMalloc/cudaFree on a GPU, a fake in tests. */
    interface Allocator {
        /** A new block of {@code bytes}, or 0 when the device is out of memory; other failures throw. */
        long malloc(long bytes);

        void free(long pointer);
    }

    /**
     * What the pool holds: blocks handed out and cached, the cap on the cache, how often it had to allocate
     * or could reuse, and how many cached blocks it freed because the cache was over its cap.
     */
    record Stats(long bytesInUse, long bytesCached, long blocksInUse, long blocksCached, long mallocs, long reuses,
                 long maxCachedBytes, long evictions) {
    }

    private final Allocator allocator;
    private final long maxCachedBytes;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();   // size class -> cached blocks, newest first
    private final LinkedHashMap<Long, Long> cacheOrder = new LinkedHashMap<>();   // cached block -> class, oldest first
    private long bytesInUse, bytesCached, blocksInUse, blocksCached, mallocs, reuses, evictions;
    private boolean closed;

    /** A pool that keeps at most {@code maxCachedBytes} of unused blocks (>= 0; 0 caches nothing). */
    DevicePool(Allocator allocator, long maxCachedBytes) {
        if (maxCachedBytes < 0) {
            throw new IllegalArgumentException("the pool's cache cap must be >= 0 bytes, got " + maxCachedBytes);
        }
        this.allocator = allocator;
        this.maxCachedBytes = maxCachedBytes;
    }

    /** The size class of a request of {@code bytes} (> 0): the size of the block that serves it. */
    static long sizeClass(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("a device block must have > 0 bytes, got " + bytes);
        }
        if (bytes <= SMALL) {
            return roundUp(bytes, GRANULE);
        }
        int octave = 63 - Long.numberOfLeadingZeros(bytes - 1);   // 2^octave < bytes <= 2^(octave + 1)
        return roundUp(bytes, 1L << (octave - CLASSES_PER_OCTAVE_LOG2));
    }

    /** {@code bytes} rounded up to a multiple of the granule, for callers that size scratch space. */
    static long roundUp(long bytes) {
        return roundUp(bytes, GRANULE);
    }

    private static long roundUp(long bytes, long step) {
        return Math.multiplyExact(Math.addExact(bytes, step - 1) / step, step);
    }

    /** A block of at least {@code bytes} (> 0); give it back with release(pointer, bytes). */
    synchronized long acquire(long bytes) {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed; its device memory pool cannot allocate");
        }
        long size = sizeClass(bytes);
        ArrayDeque<Long> list = free.get(size);
        long p;
        if (list != null && !list.isEmpty()) {
            p = list.pop();
            cacheOrder.remove(p);
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
        long size = sizeClass(bytes);
        bytesInUse -= size;
        blocksInUse--;
        if (closed || size > maxCachedBytes) {
            allocator.free(pointer);
            return;
        }
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(pointer);
        cacheOrder.put(pointer, size);
        bytesCached += size;
        blocksCached++;
        // over the cap: free the blocks that have waited longest (the one just cached is the newest)
        Iterator<Map.Entry<Long, Long>> oldest = cacheOrder.entrySet().iterator();
        while (bytesCached > maxCachedBytes) {
            Map.Entry<Long, Long> e = oldest.next();
            long p = e.getKey(), s = e.getValue();
            oldest.remove();
            free.get(s).removeFirstOccurrence(p);
            allocator.free(p);
            bytesCached -= s;
            blocksCached--;
            evictions++;
        }
    }

    /** Frees every cached block. */
    synchronized void trim() {
        for (long p : cacheOrder.keySet()) {
            allocator.free(p);
        }
        free.clear();
        cacheOrder.clear();
        bytesCached = 0;
        blocksCached = 0;
    }

    synchronized Stats stats() {
        return new Stats(bytesInUse, bytesCached, blocksInUse, blocksCached, mallocs, reuses, maxCachedBytes,
                evictions);
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
