// StagingRing on a fake device whose progress the test controls: a slice is never handed out while a
// queued transfer still uses any of its bytes, the ring waits only when it is full, and it grows and frees
// what it allocated.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StagingRingTest {

    /** Events are numbered in the order they are recorded; the device has finished everything up to done. */
    static class FakeHost implements StagingRing.Host {
        final Arena arena = Arena.ofAuto();
        final Set<Long> liveBuffers = new HashSet<>();
        final Set<Long> liveEvents = new HashSet<>();
        final Map<Long, Long> recordedAt = new HashMap<>();
        long nextEvent = 1, recorded, done, awaits;

        @Override
        public MemorySegment allocatePinned(long bytes) {
            MemorySegment s = arena.allocate(bytes, StagingRing.ALIGN);
            liveBuffers.add(s.address());
            return s;
        }

        @Override
        public void freePinned(MemorySegment block) {
            assertTrue(liveBuffers.remove(block.address()), "freed a buffer that is not live");
        }

        @Override
        public long newEvent() {
            liveEvents.add(nextEvent);
            return nextEvent++;
        }

        @Override
        public void record(long event) {
            assertTrue(liveEvents.contains(event), "record of a destroyed event");
            recordedAt.put(event, ++recorded);
        }

        @Override
        public boolean isDone(long event) {
            return recordedAt.get(event) <= done;
        }

        @Override
        public void await(long event) {
            awaits++;
            done = Math.max(done, recordedAt.get(event));
        }

        @Override
        public void destroyEvent(long event) {
            assertTrue(liveEvents.remove(event), "destroyed an event twice");
        }
    }

    /** A queued transfer as the test sees it: which bytes, and the recording number of its event. */
    private record Transfer(long start, long end, long seq) {
    }

    @Test
    void aSliceNeverOverlapsATransferTheDeviceHasNotFinished() {
        FakeHost host = new FakeHost();
        StagingRing ring = new StagingRing(host, 4096, 1 << 16);
        SplittableRandom random = new SplittableRandom(7);
        List<Transfer> queued = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            long bytes = 1 + random.nextLong(random.nextBoolean() ? 300 : ring.maxSlice());
            MemorySegment slice = ring.reserve(bytes);
            assertEquals(bytes, slice.byteSize());
            assertEquals(0, slice.address() % StagingRing.ALIGN, "aligned");
            long start = slice.address(), end = start + bytes;
            for (Transfer t : queued) {
                boolean finished = t.seq() <= host.done;
                assertTrue(finished || end <= t.start() || t.end() <= start,
                        "step " + i + ": slice [" + start + ", " + end + ") overlaps unfinished transfer " + t);
            }
            ring.queued();
            queued.add(new Transfer(start, end, host.recorded));
            if (random.nextInt(4) == 0) {
                host.done = Math.max(host.done, host.recorded - random.nextInt(3));   // the device catches up
            }
            if (random.nextInt(200) == 0) {
                host.done = host.recorded;                       // a synchronisation
                ring.drained();
            }
        }
        assertTrue(ring.stats().waits() > 0, "the ring filled up now and then: " + ring.stats());
        ring.close();
        assertTrue(host.liveBuffers.isEmpty() && host.liveEvents.isEmpty(), "close frees buffers and events");
    }

    @Test
    void smallCopiesDoNotWaitWhileTheRingHasRoom() {
        FakeHost host = new FakeHost();
        StagingRing ring = new StagingRing(host, 1 << 20, 1 << 24);
        for (int step = 0; step < 100; step++) {
            for (int copy = 0; copy < 4; copy++) {   // a training step's ids and labels: a few KiB each
                ring.reserve(128 * 7 * 4);
                ring.queued();
            }
            host.done = host.recorded - 2;            // the device lags two copies behind
        }
        assertEquals(0, host.awaits, "never waited: " + ring.stats());
        assertEquals(0, ring.stats().waits());
        ring.close();
    }

    @Test
    void aLargeSliceGrowsTheRingAfterWaitingForTheOldOne() {
        FakeHost host = new FakeHost();
        StagingRing ring = new StagingRing(host, 1024, 1 << 20);
        ring.reserve(100);
        ring.queued();
        MemorySegment big = ring.reserve(100_000);
        assertEquals(100_000, big.byteSize());
        assertTrue(ring.stats().capacity() >= 200_000, "room for two such slices: " + ring.stats());
        assertEquals(1, ring.stats().grows());
        assertEquals(1, host.awaits, "the old buffer was in use: waited before freeing it");
        assertEquals(1, host.liveBuffers.size(), "the old buffer was freed");
        ring.queued();
        ring.close();
        assertTrue(host.liveBuffers.isEmpty());
    }

    @Test
    void misuseIsRejected() {
        StagingRing ring = new StagingRing(new FakeHost(), 1024, 4096);
        assertThrows(IllegalArgumentException.class, () -> ring.reserve(0));
        assertThrows(IllegalArgumentException.class, () -> ring.reserve(ring.maxSlice() + 1));
        assertThrows(IllegalStateException.class, ring::queued);
        ring.reserve(10);
        assertThrows(IllegalStateException.class, () -> ring.reserve(10), "reserve twice without queued");
        ring.cancel();                            // the copy could not be queued: the slice is free again
        ring.reserve(10);
        assertThrows(IllegalArgumentException.class, () -> new StagingRing(new FakeHost(), 4096, 1024));
        ring.queued();
        ring.close();
    }

    @Test
    void aGrowthWhosePinnedAllocationFailsLeavesARingThatGrowsAgain() {
        FakeHost host = new FakeHost() {
            boolean failNext;

            @Override
            public MemorySegment allocatePinned(long bytes) {
                if (failNext) {
                    failNext = false;
                    throw new CudaException("cudaMallocHost(" + bytes + " bytes)", 2, "cudaErrorMemoryAllocation",
                            "out of memory");
                }
                failNext = bytes == 4096;   // the first buffer is allocated; the growth after it fails once
                return super.allocatePinned(bytes);
            }
        };
        StagingRing ring = new StagingRing(host, 4096, 1 << 16);
        ring.reserve(1000);
        ring.queued();
        assertThrows(CudaException.class, () -> ring.reserve(8192));
        // a slice the old capacity held: before, asSlice of the NULL buffer threw IndexOutOfBoundsException here
        MemorySegment slice = ring.reserve(1000);
        assertEquals(1000, slice.byteSize());
        ring.queued();
        ring.drained();
        ring.close();
        assertTrue(host.liveBuffers.isEmpty(), "a pinned buffer was not freed");
    }
}
