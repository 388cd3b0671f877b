// Pinned host memory for copies between Java memory and the GPU, used as a ring so that copyIn returns
// without waiting for the device: the caller's bytes are copied into the ring (a host memcpy), the transfer
// is queued from there, and an event recorded after it says when that stretch of the ring may be written
// again. The ring only waits when it is full of transfers the device has not done yet.
//
// Use: reserve(n) a slice, fill it (or queue a device-to-host copy into it), queue the transfer, then
// queued() records its event; drained() after the stream was synchronised frees the whole ring at once.
// One thread at a time, like the backend that owns it.
package org.seq4j.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

final class StagingRing implements AutoCloseable {

    /** Slices start at multiples of this (pinned copies run at full speed from 256-byte aligned addresses). */
    static final long ALIGN = 256;

    /** The CUDA calls underneath, on the backend's stream: pinned memory and events; a fake in tests. */
    interface Host {
        MemorySegment allocatePinned(long bytes);

        void freePinned(MemorySegment block);

        long newEvent();

        /** Records {@code event} on the stream, after the work queued so far. */
        void record(long event);

        /** Whether the device has passed {@code event} (without waiting). */
        boolean isDone(long event);

        /** Waits until the device has passed {@code event}. */
        void await(long event);

        void destroyEvent(long event);
    }

    /** What the ring did: how often it had to wait for the device, and how often it grew. */
    record Stats(long capacity, long waits, long grows) {
    }

    /** A stretch [start, end) of the ring read or written by a transfer queued before {@code event}. */
    private record Region(long start, long end, long event) {
    }

    private final Host host;
    private final long initialBytes;
    private final long maxBytes;
    private MemorySegment buffer = MemorySegment.NULL;
    private long capacity;
    private long head;                       // where the next slice starts, unless it must wrap to 0
    private long reservedStart = -1, reservedEnd;
    private final ArrayDeque<Region> inFlight = new ArrayDeque<>();   // oldest first
    private final ArrayDeque<Long> spareEvents = new ArrayDeque<>();
    private long waits, grows;

    /** A ring of {@code initialBytes} pinned bytes (allocated on first use), growing up to {@code maxBytes}. */
    StagingRing(Host host, long initialBytes, long maxBytes) {
        if (initialBytes < ALIGN || maxBytes < initialBytes) {
            throw new IllegalArgumentException("staging ring sizes: need " + ALIGN + " <= initial (" + initialBytes
                    + ") <= max (" + maxBytes + ")");
        }
        this.host = host;
        this.initialBytes = initialBytes;
        this.maxBytes = maxBytes;
    }

    /** The largest slice reserve() hands out: copies larger than this go through the ring in pieces. */
    long maxSlice() {
        return maxBytes / 2;
    }

    /**
     * A slice of {@code bytes} (1 .. maxSlice()) of pinned memory that no queued transfer uses; waits for
     * the device only when the ring is full. Call queued() after queueing the transfer that uses it.
     */
    MemorySegment reserve(long bytes) {
        if (bytes <= 0 || bytes > maxSlice()) {
            throw new IllegalArgumentException("staging slice of " + bytes + " bytes; expected 1 .. " + maxSlice());
        }
        if (reservedStart >= 0) {
            throw new IllegalStateException("reserve() twice without queued(): the first slice has no event");
        }
        long size = (bytes + ALIGN - 1) / ALIGN * ALIGN;
        if (size > capacity) {
            grow(size);
        }
        retireDone();
        long start = head + size <= capacity ? head : 0;   // the tail end [head, capacity) is skipped on a wrap
        // every transfer that still uses part of [start, start + size) must finish first; events pass in
        // stream order, so waiting for the newest such transfer waits for all older ones
        Region newest = null;
        for (Region r : inFlight) {
            if (r.start() < start + size && start < r.end()) {
                newest = r;
            }
        }
        if (newest != null) {
            host.await(newest.event());
            waits++;
            Region r;
            do {
                r = inFlight.removeFirst();
                spareEvents.push(r.event());
            } while (r != newest);
        }
        reservedStart = start;
        reservedEnd = start + size;
        head = reservedEnd;
        return buffer.asSlice(start, bytes);
    }

    /** Marks the slice of the last reserve() as in use until the work queued so far on the stream is done. */
    void queued() {
        if (reservedStart < 0) {
            throw new IllegalStateException("queued() without reserve()");
        }
        long event = spareEvents.isEmpty() ? host.newEvent() : spareEvents.pop();
        host.record(event);
        inFlight.addLast(new Region(reservedStart, reservedEnd, event));
        reservedStart = -1;
    }

    /** Forgets the slice of the last reserve() when queueing its transfer failed: nothing uses it. */
    void cancel() {
        reservedStart = -1;
    }

    /** The stream was synchronised: every transfer is done and the whole ring is free. */
    void drained() {
        while (!inFlight.isEmpty()) {
            spareEvents.push(inFlight.removeFirst().event());
        }
        head = 0;
    }

    Stats stats() {
        return new Stats(capacity, waits, grows);
    }

    /** Frees the pinned memory and the events; the caller has synchronised the stream. */
    @Override
    public void close() {
        drained();
        while (!spareEvents.isEmpty()) {
            host.destroyEvent(spareEvents.pop());
        }
        if (!buffer.equals(MemorySegment.NULL)) {
            host.freePinned(buffer);
            buffer = MemorySegment.NULL;
            capacity = 0;
        }
    }

    private void retireDone() {
        while (!inFlight.isEmpty() && host.isDone(inFlight.peekFirst().event())) {
            spareEvents.push(inFlight.removeFirst().event());
        }
    }

    /** Replaces the buffer by one of at least {@code size} bytes, once the transfers using the old one are done. */
    private void grow(long size) {
        long next = Math.max(initialBytes, capacity);
        while (next < 2 * size) {   // room for two slices of this size: one filling while the other transfers
            next *= 2;
        }
        next = Math.min(next, maxBytes);
        if (!inFlight.isEmpty()) {
            host.await(inFlight.peekLast().event());
            waits++;
        }
        drained();
        if (!buffer.equals(MemorySegment.NULL)) {
            host.freePinned(buffer);
            buffer = MemorySegment.NULL;
            grows++;
        }
        // forgotten before the larger one is asked for: a failed allocation (cudaMallocHost out of pinned memory)
        // leaves no buffer and no capacity, so the next reserve grows again, where it sliced the NULL segment (an
        // IndexOutOfBoundsException from asSlice at every later copy) with the old capacity still set
        capacity = 0;
        head = 0;
        buffer = host.allocatePinned(next);
        capacity = next;
    }
}
