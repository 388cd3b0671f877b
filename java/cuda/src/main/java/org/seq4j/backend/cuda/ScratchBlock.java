// The CUDA backend's one block of device scratch for its reductions (row losses, partial sums, a label count):
// grown on demand from the DevicePool, one user at a time in stream order, given back on close.
package org.seq4j.backend.cuda;

final class ScratchBlock {
    private final DevicePool pool;
    private long pointer;   // 0 while none is held
    private long bytes;     // what pointer was acquired with; 0 while none is held

    ScratchBlock(DevicePool pool) {
        this.pool = pool;
    }

    /**
     * The address of a block of at least {@code need} bytes (0 while none is needed and none is held). A block too
     * small is given back first: stream order keeps the work already queued on it safe. It is forgotten before the
     * larger one is asked for, so that a failed acquire (out of memory) leaves no block at all, never the one just
     * given back: the next call would otherwise hand that out again while the pool serves it to a tensor, and close
     * would give it back a second time.
     */
    long at(long need) {
        if (bytes < need) {
            long grown = DevicePool.roundUp(Math.max(need, 2 * bytes));
            release();
            pointer = pool.acquire(grown);
            bytes = grown;
        }
        return pointer;
    }

    /** Gives the block back to the pool (nothing where none is held). */
    void release() {
        if (pointer != 0) {
            long p = pointer, b = bytes;
            pointer = 0;
            bytes = 0;
            pool.release(p, b);
        }
    }

    /** Bytes held (0 where none), for tests. */
    long bytes() {
        return bytes;
    }
}
