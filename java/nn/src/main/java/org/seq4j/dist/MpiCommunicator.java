// MPI_COMM_WORLD of Open MPI through the jextract bindings: MPI_Init_thread (SERIALIZED), errors returned
// instead of fatal (MPI_ERRORS_RETURN, turned into DistributedException), the collectives in place, and
// MPI_Finalize on close. One per process (MPI starts once), used by one thread at a time (a second thread
// arriving during a call is refused).
//
// A rank that dies must never leave the others blocked for ever. Open MPI's mpirun usually notices a rank that
// exits without MPI_Finalize and kills the job; where it does not (a rank that hangs, a network that drops
// packets), a watchdog thread ends this process with one line on stderr and exit code 3 when a collective
// has not returned within the configured timeout. It halts the JVM (Runtime.halt) on purpose: the thread
// that blocks is inside native MPI code, which Java cannot interrupt, and shutdown hooks could block too.
package org.seq4j.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.function.IntSupplier;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Confinement;
import org.seq4j.bindings.mpi.mpi_h;
import org.seq4j.tensor.Tensor;

/**
 * MPI_COMM_WORLD of Open MPI: MPI initialised SERIALIZED, errors returned as {@link DistributedException},
 * collectives in place, MPI_Finalize on close. A watchdog ends this process (exit code {@link #WATCHDOG_EXIT})
 * when a collective has not returned within the timeout, so a dead rank never blocks the others for ever.
 */
public final class MpiCommunicator implements Communicator {
    /** Exit code of a process that the watchdog ends. */
    public static final int WATCHDOG_EXIT = 3;

    private static final String NAME = "MpiCommunicator";
    private static final Duration MAX_TIMEOUT = Duration.ofNanos(Long.MAX_VALUE);
    private static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1); // mpi.h: #define MPI_IN_PLACE ((void *) 1)

    // MPI starts once per process: a second communicator would call MPI after the first one's MPI_Finalize, and
    // Open MPI answers any call after MPI_Finalize by aborting the process
    private static MpiCommunicator open;

    private final MpiLibrary mpi;
    private final Watchdog watchdog;
    // MPI_THREAD_SERIALIZED: calls from two threads at once are undefined (seen: MPI_ERR_TRUNCATE, collectives
    // paired across threads, a hang), so a second thread arriving during a call is refused
    private final Confinement guard = new Confinement("MpiCommunicator");
    private final int rank, size;
    private boolean closed;

    private MpiCommunicator(MpiLibrary mpi, Duration timeout) {
        this.mpi = mpi;
        this.watchdog = new Watchdog(timeout);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(ValueLayout.JAVA_INT);
            check(mpi_h.MPI_Finalized(flag), "MPI_Finalized");
            if (flag.get(ValueLayout.JAVA_INT, 0) != 0) {
                throw new DistributedException("MPI was already finalized in this process (an MpiCommunicator was "
                        + "closed), and MPI starts only once per process: open one communicator and close it when training ends");
            }
            check(mpi_h.MPI_Initialized(flag), "MPI_Initialized");
            if (flag.get(ValueLayout.JAVA_INT, 0) == 0) {
                MemorySegment provided = arena.allocate(ValueLayout.JAVA_INT);
                // argc and argv NULL: allowed since MPI-2; mpirun passes what MPI needs in the environment
                collective("MPI_Init_thread", () -> mpi_h.MPI_Init_thread(MemorySegment.NULL, MemorySegment.NULL,
                        mpi_h.MPI_THREAD_SERIALIZED(), provided));
                if (provided.get(ValueLayout.JAVA_INT, 0) < mpi_h.MPI_THREAD_SERIALIZED()) {
                    throw new DistributedException("the MPI library offers thread level "
                            + provided.get(ValueLayout.JAVA_INT, 0) + " but seq4j needs MPI_THREAD_SERIALIZED ("
                            + mpi_h.MPI_THREAD_SERIALIZED() + ")");
                }
            }
            check(mpi_h.MPI_Comm_set_errhandler(mpi.commWorld, mpi.errorsReturn), "MPI_Comm_set_errhandler");
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            check(mpi_h.MPI_Comm_size(mpi.commWorld, out), "MPI_Comm_size");
            this.size = out.get(ValueLayout.JAVA_INT, 0);
            check(mpi_h.MPI_Comm_rank(mpi.commWorld, out), "MPI_Comm_rank");
            this.rank = out.get(ValueLayout.JAVA_INT, 0);
        } catch (RuntimeException | Error e) {
            watchdog.stop(); // no communicator is made to close it: each refused start left a watchdog thread running
            throw e;
        }
        watchdog.rank = rank;
        watchdog.size = size;
    }

    /**
     * Initialises MPI (once per process) and returns MPI_COMM_WORLD. {@code timeout}: how long any collective,
     * MPI_Init included, may block before the watchdog ends this process.
     *
     * @param timeout positive, at most 2^63 - 1 ns (292 years)
     * @return this process's rank of MPI_COMM_WORLD
     * @throws DistributedException when libmpi does not load or MPI does not start, or was finalized already
     * @throws IllegalStateException when a communicator of this process is still open (MPI starts once per process)
     */
    public static synchronized MpiCommunicator init(Duration timeout) {
        // named, as Distributed.open names it (a bare "Cannot invoke Duration.isNegative()")
        java.util.Objects.requireNonNull(timeout, "MpiCommunicator.init: timeout is null; expected how long a "
                + "collective may block, e.g. Duration.ofMinutes(10)");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the MPI timeout must be positive, got " + timeout);
        }
        if (timeout.compareTo(MAX_TIMEOUT) > 0) { // the watchdog counts in nanoseconds: toNanos() would overflow
            throw new IllegalArgumentException("the MPI timeout must be at most " + MAX_TIMEOUT.toDays()
                    + " days (2^63 - 1 ns), got " + timeout);
        }
        if (open != null) {
            throw new IllegalStateException("MPI is already started in this process (" + open.describe() + "), and it "
                    + "starts only once per process: use that communicator, not a second one");
        }
        open = new MpiCommunicator(MpiLibrary.load(), timeout);
        return open;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String describe() {
        return "MPI rank " + rank + " of " + size + " (" + mpi.version() + ", " + mpi.path() + ")";
    }

    @Override
    public void allReduceSum(Backend backend, Tensor x) {
        CollectiveArgs.requireFloat(x, NAME, "allReduceSum");
        int count = CollectiveArgs.count(x, NAME, "allReduceSum");
        if (x.device().isHost()) {
            // MPI writes the sum through the segment, which no Backend call counts: a layer that kept x for its
            // backward refuses it (Tensor.writes), as after a copyIn
            x.markWritten();
            collective("MPI_Allreduce of " + count + " floats", () -> mpi_h.MPI_Allreduce(IN_PLACE, x.segment(), count,
                    mpi.floatType, mpi.opSum, mpi.commWorld));
            return;
        }
        // device memory: through a host copy (a CUDA-aware MPI or NCCL would reduce in place; docs/DISTRIBUTED.md)
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(x.byteSize(), 64);
            backend.copyOut(host, x);
            collective("MPI_Allreduce of " + count + " floats", () -> mpi_h.MPI_Allreduce(IN_PLACE, host, count,
                    mpi.floatType, mpi.opSum, mpi.commWorld));
            backend.copyIn(x, host);
        }
    }

    @Override
    public void allReduceSum(double[] values) {
        CollectiveArgs.requireArray(values, NAME, "allReduceSum");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, values);
            collective("MPI_Allreduce of " + values.length + " doubles", () -> mpi_h.MPI_Allreduce(IN_PLACE, s,
                    values.length, mpi.doubleType, mpi.opSum, mpi.commWorld));
            MemorySegment.copy(s, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
        }
    }

    @Override
    public void allReduceMin(long[] values) {
        CollectiveArgs.requireArray(values, NAME, "allReduceMin");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_LONG, values);
            collective("MPI_Allreduce of " + values.length + " longs", () -> mpi_h.MPI_Allreduce(IN_PLACE, s,
                    values.length, mpi.longType, mpi.opMin, mpi.commWorld));
            MemorySegment.copy(s, ValueLayout.JAVA_LONG, 0, values, 0, values.length);
        }
    }

    @Override
    public void broadcast(Backend backend, Tensor x) {
        CollectiveArgs.requireFloat(x, NAME, "broadcast");
        int count = CollectiveArgs.count(x, NAME, "broadcast");
        if (x.device().isHost()) {
            if (rank != 0) {   // the others' x is overwritten through its segment (uncounted, as allReduceSum's)
                x.markWritten();
            }
            collective("MPI_Bcast of " + count + " floats", () -> mpi_h.MPI_Bcast(x.segment(), count, mpi.floatType, 0,
                    mpi.commWorld));
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(x.byteSize(), 64);
            backend.copyOut(host, x);
            collective("MPI_Bcast of " + count + " floats", () -> mpi_h.MPI_Bcast(host, count, mpi.floatType, 0,
                    mpi.commWorld));
            if (rank != 0) {   // the root's x is only read: copying it back would count a write that changed nothing
                backend.copyIn(x, host);
            }
        }
    }

    @Override
    public void broadcast(long[] values) {
        CollectiveArgs.requireArray(values, NAME, "broadcast");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_LONG, values);
            collective("MPI_Bcast of " + values.length + " longs", () -> mpi_h.MPI_Bcast(s, values.length,
                    mpi.longType, 0, mpi.commWorld));
            MemorySegment.copy(s, ValueLayout.JAVA_LONG, 0, values, 0, values.length);
        }
    }

    @Override
    public void barrier() {
        collective("MPI_Barrier", () -> mpi_h.MPI_Barrier(mpi.commWorld));
    }

    @Override
    public void abort(int exitCode) {
        if (closed) { // Open MPI answers MPI_Abort after MPI_Finalize with its own abort, exit code 1
            throw new IllegalStateException("MPI_Abort: this communicator is closed (MPI_Finalize was called); "
                    + "end the process itself (System.exit)");
        }
        mpi_h.MPI_Abort(mpi.commWorld, exitCode);
    }

    /** A barrier, so no rank finalizes while another still sends, then MPI_Finalize. */
    @Override
    public void close() {
        guard.enter("close"); // refused while another thread is inside a collective, whose watchdog must stay
        try {
            if (closed) {
                return;
            }
            try {
                barrier();
                closed = true;
                collective("MPI_Finalize", mpi_h::MPI_Finalize);
            } finally {
                closed = true;
                watchdog.stop();
                synchronized (MpiCommunicator.class) {
                    open = null;
                }
            }
        } finally {
            guard.exit();
        }
    }

    private void collective(String what, IntSupplier call) {
        guard.enter(what);
        try {
            if (closed && !what.equals("MPI_Finalize")) {
                throw new IllegalStateException(what + ": this communicator is closed (MPI_Finalize was called)");
            }
            watchdog.enter(what);
            int rc;
            try {
                rc = call.getAsInt();
            } finally {
                watchdog.leave();
            }
            check(rc, what);
        } finally {
            guard.exit();
        }
    }

    /** The call this communicator is inside now, or null (for tests that need a call in progress). */
    String inside() {
        return watchdog.deadline == 0 ? null : watchdog.current;
    }

    private void check(int rc, String what) {
        if (rc != mpi_h.MPI_SUCCESS()) {
            throw new DistributedException(what + " failed on rank " + rank + ": " + errorString(rc) + " (MPI error " + rc + ")");
        }
    }

    private static String errorString(int rc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(mpi_h.MPI_MAX_ERROR_STRING() + 1L);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            return mpi_h.MPI_Error_string(rc, text, length) == mpi_h.MPI_SUCCESS() ? text.getString(0) : "unknown error";
        }
    }

    /** Ends the process when a call inside MPI has not returned within the timeout. */
    private static final class Watchdog {
        private final long timeoutNanos;
        private final Thread thread;
        private volatile long deadline;   // System.nanoTime() by which the current call must return; 0: none
        private volatile String current;
        private volatile boolean stopped;
        volatile int rank = -1, size = -1;

        Watchdog(Duration timeout) {
            this.timeoutNanos = timeout.toNanos();
            this.thread = Thread.ofPlatform().daemon().name("seq4j-mpi-watchdog").unstarted(this::run);
            thread.start();
        }

        void enter(String what) {
            current = what;
            long d = System.nanoTime() + timeoutNanos;
            deadline = d == 0 ? 1 : d;
        }

        void leave() {
            deadline = 0;
        }

        void stop() {
            stopped = true;
            thread.interrupt();
        }

        private void run() {
            long tick = Math.max(10_000_000L, Math.min(1_000_000_000L, timeoutNanos / 10));
            while (!stopped) {
                try {
                    Thread.sleep(Duration.ofNanos(tick));
                } catch (InterruptedException e) {
                    return;
                }
                long d = deadline;
                if (d != 0 && System.nanoTime() - d > 0) {
                    System.err.printf("seq4j: MPI rank %s of %s: %s did not return within %.0f s; another rank has "
                                    + "died or hangs, so this one ends (exit %d) [--mpi-timeout changes the limit]%n",
                            rank < 0 ? "?" : rank, size < 0 ? "?" : size, current, timeoutNanos / 1e9, WATCHDOG_EXIT);
                    System.err.flush();
                    Runtime.getRuntime().halt(WATCHDOG_EXIT);
                }
            }
        }
    }
}
