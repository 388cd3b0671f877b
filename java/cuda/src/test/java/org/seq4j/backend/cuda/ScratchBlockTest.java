// ScratchBlock on DevicePoolTest's fake allocator (no GPU): it grows, and a failed growth (out of memory) leaves
// it holding nothing, so that the block it gave back is never handed out again by it nor given back twice.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScratchBlockTest {

    @Test
    void growsOnlyWhenAskedForMoreAndGivesTheOldBlockBack() {
        DevicePoolTest.FakeDevice device = new DevicePoolTest.FakeDevice(1 << 30);
        DevicePool pool = new DevicePool(device, 0);   // caches nothing: a released block is freed at once
        ScratchBlock scratch = new ScratchBlock(pool);
        assertEquals(0, scratch.at(0), "nothing needed, nothing held");
        long a = scratch.at(1000);
        assertEquals(a, scratch.at(800), "a smaller need is served by the block held");
        long b = scratch.at(5000);
        assertNotEquals(a, b);
        assertTrue(device.freed.contains(a), "the smaller block was given back");
        scratch.release();
        assertEquals(0, pool.stats().blocksInUse());
        assertEquals(0, device.live.size());
    }

    @Test
    void aGrowthThatRunsOutOfMemoryLeavesNoBlockBehind() {
        DevicePoolTest.FakeDevice device = new DevicePoolTest.FakeDevice(64 << 10);
        DevicePool pool = new DevicePool(device, Long.MAX_VALUE);   // caches every block given back
        ScratchBlock scratch = new ScratchBlock(pool);
        long a = scratch.at(4096);
        assertThrows(OutOfMemoryError.class, () -> scratch.at(1 << 20));
        assertEquals(0, scratch.bytes(), "after the failure it holds nothing");
        assertEquals(0, pool.stats().blocksInUse(), "the old block went back to the pool, once");

        // the old block went back to the pool, whose retry then freed it to the device: the scratch must take a live
        // block of its own, not the freed one (the device may have given that to a tensor in the meantime)
        assertTrue(device.freed.contains(a), "the pool freed its cache, the old block with it, before its retry");
        long tensor = pool.acquire(4096);
        long again = scratch.at(4096);
        assertTrue(device.live.contains(again), "the scratch holds a live block, not the freed " + a);
        assertNotEquals(tensor, again, "the scratch takes a block of its own, not the tensor's");

        // and close gives back exactly what is held: one release each
        scratch.release();
        pool.release(tensor, 4096);
        assertEquals(0, pool.stats().blocksInUse());
        assertEquals(2, pool.stats().blocksCached(), "two distinct blocks cached, none twice");
    }
}
