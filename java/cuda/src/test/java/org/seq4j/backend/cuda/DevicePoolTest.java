// DevicePool's bookkeeping on a fake allocator: reuse by size class, the classes themselves, the cap on the
// cache, the retry after running out of memory, and what happens to blocks that come back after close.
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
    private static final long UNCAPPED = Long.MAX_VALUE;

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
        DevicePool pool = new DevicePool(device, UNCAPPED);
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
        DevicePool pool = new DevicePool(device, UNCAPPED);
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
        DevicePool pool = new DevicePool(device, UNCAPPED);
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
        DevicePool pool = new DevicePool(device, UNCAPPED);
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
    void sizeClassesAreGranuleStepsUpToOneMebibyteThenEightPerPowerOfTwo() {
        assertEquals(512, DevicePool.sizeClass(1));
        assertEquals(1 << 20, DevicePool.sizeClass(1 << 20));
        assertEquals((1 << 20) + (1 << 17), DevicePool.sizeClass((1 << 20) + 1), "just above 1 MiB: steps of 128 KiB");
        assertEquals(10L << 20, DevicePool.sizeClass((9L << 20) + 5), "9 MiB + 5 is in the 10 MiB class (steps of 1 MiB)");
        for (long bytes : new long[] {513, 999_999, 1_048_577, 3_000_000, 123_456_789, 5L << 30, (1L << 40) + 7}) {
            long c = DevicePool.sizeClass(bytes);
            assertTrue(c >= bytes && c - bytes <= Math.max(DevicePool.GRANULE, bytes / 8),
                    bytes + " -> " + c + ": at least the request, at most 12.5% (or one granule) more");
            assertEquals(c, DevicePool.sizeClass(c), "a class is its own class: " + c);
        }
        assertThrows(IllegalArgumentException.class, () -> DevicePool.sizeClass(0));
        assertThrows(ArithmeticException.class, () -> DevicePool.sizeClass(Long.MAX_VALUE), "no silent overflow");
    }

    @Test
    void nearbySizesShareABlock() {
        FakeDevice device = new FakeDevice(1L << 40);
        DevicePool pool = new DevicePool(device, UNCAPPED);
        long a = pool.acquire(3_000_000);
        pool.release(a, 3_000_000);
        assertEquals(a, pool.acquire(2_900_000), "2.9 MB and 3.0 MB fall in the same class (3 MiB)");
        assertEquals(1, pool.stats().mallocs());
    }

    @Test
    void theCacheStaysUnderItsCapByFreeingTheOldestBlocks() {
        FakeDevice device = new FakeDevice(1L << 40);
        DevicePool pool = new DevicePool(device, 3 * 1024);
        long a = pool.acquire(1024), b = pool.acquire(1024), c = pool.acquire(1024), d = pool.acquire(1024);
        pool.release(a, 1024);
        pool.release(b, 1024);
        pool.release(c, 1024);
        assertEquals(List.of(), device.freed, "3 KiB cached: at the cap, not over it");
        pool.release(d, 1024);
        assertEquals(List.of(a), device.freed, "over the cap: the block cached longest ago goes back to the device");
        DevicePool.Stats s = pool.stats();
        assertEquals(3 * 1024, s.bytesCached());
        assertEquals(1, s.evictions());
        assertEquals(d, pool.acquire(1024), "the newest cached block is reused first");
        long big = pool.acquire(8192);
        pool.release(big, 8192);
        assertTrue(device.freed.contains(big), "a block larger than the whole cap is freed at once");
        assertTrue(pool.stats().bytesCached() <= 3 * 1024, "cached " + pool.stats().bytesCached());
    }

    @Test
    void aCapOfZeroCachesNothingAndNothingLeaks() {
        FakeDevice device = new FakeDevice(1L << 40);
        DevicePool pool = new DevicePool(device, 0);
        long a = pool.acquire(100);
        pool.release(a, 100);
        assertEquals(List.of(a), device.freed);
        assertEquals(0, pool.stats().bytesCached());
        assertEquals(0, pool.stats().bytesInUse(), "bytes in use after every block came back");
        pool.close();
        assertTrue(device.live.isEmpty(), "nothing leaked");
        assertThrows(IllegalArgumentException.class, () -> new DevicePool(device, -1));
    }

    @Test
    void roundUpUsesTheGranule() {
        assertEquals(512, DevicePool.roundUp(1));
        assertEquals(512, DevicePool.roundUp(512));
        assertEquals(1024, DevicePool.roundUp(513));
    }
}
