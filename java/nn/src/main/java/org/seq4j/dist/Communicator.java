// The all-reduce abstraction of data-parallel training: a group of `size()` processes, this one `rank()`,
// and the few collectives a synchronous data-parallel step needs. Every rank must make the same calls in the
// same order with the same sizes (that is what a collective is); `agree` checks the configuration first.
// Implementations: SingleProcess (size 1, every collective a no-op) and MpiCommunicator (Open MPI via FFM).
//
// Thread confinement: a communicator is used by one thread at a time (MPI is initialised SERIALIZED).
package org.seq4j.dist;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

public interface Communicator extends AutoCloseable {

    /** This process's rank, 0 .. size() - 1; rank 0 writes checkpoints, metrics and charts. */
    int rank();

    /** Number of processes training together. */
    int size();

    /** "single process", or e.g. "MPI rank 1 of 2 (Open MPI v4.1.4 ...)". */
    String describe();

    /** x = sum over ranks of x, in place, for a float32 tensor on {@code backend} (host or device). */
    void allReduceSum(Backend backend, Tensor x);

    /** values = sum over ranks of values, in place. */
    void allReduceSum(double[] values);

    /** values = min over ranks of values, in place (max is min of the negated values). */
    void allReduceMin(long[] values);

    /** x = rank 0's x on every rank, for a float32 tensor on {@code backend}. */
    void broadcast(Backend backend, Tensor x);

    /** values = rank 0's values on every rank. */
    void broadcast(long[] values);

    /** Returns when every rank has called it. */
    void barrier();

    /** True where rank() == 0: the one process that writes files and prints. */
    default boolean isRoot() {
        return rank() == 0;
    }

    /**
     * Checks that every rank passes the same {@code configuration} text (model spec, sizes, seed, data size),
     * by one all-reduce of (hash, -hash) under min. On a mismatch every rank throws the same one-line
     * {@link ConfigurationMismatchException}, so all of them end instead of deadlocking in a later collective of
     * another size. Free with one rank.
     */
    default void agree(String what, String configuration) {
        if (size() == 1) {
            return;
        }
        long hash = Hashes.sha256Long(configuration);
        long[] minMax = {hash, -hash};
        allReduceMin(minMax);
        if (minMax[0] != hash || -minMax[1] != hash) {
            throw new ConfigurationMismatchException("the " + size() + " ranks do not agree on the " + what + " (this is rank "
                    + rank() + ", hash " + Long.toHexString(hash) + "; hashes over ranks range from "
                    + Long.toHexString(minMax[0]) + " to " + Long.toHexString(-minMax[1])
                    + "): start every rank with the same arguments and the same data");
        }
    }

    /**
     * Ends every rank of the job now with {@code exitCode} (MPI_Abort), for a failure on this rank that the
     * others cannot know about and would otherwise wait for in their next collective. A single process: nothing
     * (the caller ends itself).
     */
    default void abort(int exitCode) {
    }

    /** Finalizes (MPI_Finalize after a barrier); a no-op for a single process. */
    @Override
    void close();

    /** The communicator of a process that trains alone. */
    static Communicator single() {
        return SingleProcess.INSTANCE;
    }
}
