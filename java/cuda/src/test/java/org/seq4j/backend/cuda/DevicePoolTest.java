// DevicePool's bookkeeping on a fake allocator: reuse by size, rounding, the retry after running out of
// memory, and what happens to blocks that come back after close.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DevicePoolTest {

    /** Hands out increasing fake addresses, up to a byte budget; records frees. */
    static final class FakeDevice implements DevicePool.Allocator {
        long capacity;
        long used;
        long next = 1 << 20;
        final Set<Long> live = new HashSet<>();
        final List<Long> freed = new ArrayList<>();
        final java.util.Map<Long, Long> sizes = new java.util.HashMap<>();

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long malloc(long bytes) {
            if (used + bytes > capacity) {
                return 0;
            }
            long p = next;
            next += bytes + 4096;
            used += bytes;
            live.add(p);
            sizes.put(p, bytes);
            return p;
        }

        @Override
        public void free(long pointer) {
            assertTrue(live.remove(pointer), "free of " + pointer + ", which is not a live block");
            used -= sizes.remove(pointer);
            freed.add(pointer);
        }
    }

    @Test
    void aReleasedBlockServesTheNextRequestOfTheSameRoundedSize() {
        FakeDevice device = new FakeDevice(1 << 30);
        DevicePool pool = new DevicePool(device);
        long a = pool.acquire(1000);
        pool.release(a, 1000);
        long b = pool.acquire(1024);   // 1000 and 1024 both round up to 1024
        assertEquals(a, b, "a block of the same rounded size is reused");
        long c = pool.acquire(1000);
        assertNotEquals(b, c, "a block in use is never handed out twice");
        DevicePool.Stats s = pool.stats();
        assertEquals(2, s.mallocs(), "mallocs");
        assertEquals(1, s.reuses(), "reuses");
        assertEquals(2, s.blocksInUse(), "blocks in use");
        assertEquals(2048, s.bytesInUse(), "bytes in use (rounded)");
        assertEquals(0, s.blocksCached(), "cached blocks");
    }

    @Test
    void aSteadyStateStepAllocatesNothing() {
        FakeDevice device = new FakeDevice(1 << 30);
        DevicePool pool = new DevicePool(device);
        long[] sizes = {4 * 128 * 512, 4 * 128 * 128, 4 * 13, 4 * 128 * 512, 4};
        for (int step = 0; step < 5; step++) {
            long[] blocks = new long[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                blocks[i] = pool.acquire(sizes[i]);
            }
            for (int i = 0; i < sizes.length; i++) {
                pool.release(blocks[i], sizes[i]);
            }
        }
        assertEquals(sizes.length, pool.stats().mallocs(), "only the first step allocates");
        assertEquals(sizes.length * 4L, pool.stats().reuses(), "every later request reuses a block");
    }

    @Test
    void runningOutOfMemoryFreesTheCacheAndRetriesOnce() {
        FakeDevice device = new FakeDevice(4096);
        DevicePool pool = new DevicePool(device);
        long a = pool.acquire(2048);
        pool.release(a, 2048);                 // cached: the device still counts it as used
        long b = pool.acquire(3072);           // needs the cached 2048 back
        assertEquals(List.of(a), device.freed, "the cached block was freed to make room");
        assertEquals(0, pool.stats().bytesCached(), "nothing cached after the trim");
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> pool.acquire(2048));
        assertTrue(e.getMessage().contains("3072 bytes in use"), e.getMessage());
        pool.release(b, 3072);
    }

    @Test
    void closeFreesTheCacheAndLaterReleasesGoStraightToTheDevice() {
        FakeDevice device = new FakeDevice(1 << 20);
        DevicePool pool = new DevicePool(device);
        long cached = pool.acquire(100), live = pool.acquire(600);
        pool.release(cached, 100);
        pool.close();
        assertEquals(List.of(cached), device.freed, "close frees the cache");
        pool.release(live, 600);               // a tensor whose arena closes after the backend
        assertEquals(List.of(cached, live), device.freed, "a block released after close is freed at once");
        assertTrue(device.live.isEmpty(), "nothing leaked");
        assertThrows(IllegalStateException.class, () -> pool.acquire(4));
    }

    @Test
    void roundUpUsesTheGranule() {
        assertEquals(512, DevicePool.roundUp(1));
        assertEquals(512, DevicePool.roundUp(512));
        assertEquals(1024, DevicePool.roundUp(513));
    }
}
