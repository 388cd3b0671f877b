// The all-reduce abstraction of data-parallel training: a group of `size()` processes, this one `rank()`,
// and the few collectives a synchronous data-parallel step needs. Every rank must make the same calls in the
// same order with the same sizes (that is what a collective is); `agree` checks the configuration first.
// Implementations: SingleProcess (size 1, every collective a no-op) and MpiCommunicator (Open MPI via FFM).
//
// Thread confinement: a communicator is used by one thread at a time (MPI is initialised SERIALIZED).
package org.seq4j.dist;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/**
 * A group of {@link #size()} processes, this one {@link #rank()}, and the collectives of synchronous
 * data-parallel training. Every rank makes the same calls in the same order with the same sizes;
 * {@link #agree} checks the configuration first. Used by one thread at a time.
 */
public interface Communicator extends AutoCloseable {

    /**
     * This process's rank; rank 0 writes checkpoints, metrics and charts.
     *
     * @return 0 .. size() - 1
     */
    int rank();

    /**
     * Number of processes training together.
     *
     * @return at least 1
     */
    int size();

    /**
     * One line for logs and {@code seq4j info}.
     *
     * @return "single process", or e.g. "MPI rank 1 of 2 (Open MPI v4.1.4 ...)"
     */
    String describe();

    /**
     * x = sum over ranks of x, in place.
     *
     * @param backend the backend that owns {@code x} (host or device memory)
     * @param x a float32 tensor of the same shape on every rank
     */
    void allReduceSum(Backend backend, Tensor x);

    /**
     * values = sum over ranks of values, in place.
     *
     * @param values the same length on every rank
     */
    void allReduceSum(double[] values);

    /**
     * values = min over ranks of values, in place (max is min of the negated values).
     *
     * @param values the same length on every rank
     */
    void allReduceMin(long[] values);

    /**
     * x = rank 0's x on every rank, in place.
     *
     * @param backend the backend that owns {@code x} (host or device memory)
     * @param x a float32 tensor of the same shape on every rank
     */
    void broadcast(Backend backend, Tensor x);

    /**
     * values = rank 0's values on every rank, in place.
     *
     * @param values the same length on every rank
     */
    void broadcast(long[] values);

    /** Returns when every rank has called it. */
    void barrier();

    /**
     * Whether this is the one process that writes files and prints.
     *
     * @return rank() == 0
     */
    default boolean isRoot() {
        return rank() == 0;
    }

    /**
     * Checks that every rank passes the same {@code configuration} text (model spec, sizes, seed, data size),
     * by one all-reduce of (hash, ~hash) under min (~ reverses the order of longs: the second is ~ the largest hash).
     * On a mismatch every rank throws a one-line {@link ConfigurationMismatchException} naming its own configuration
     * (its first 300 characters), so all of them end instead of deadlocking in a later collective of
     * another size. Free with one rank.
     *
     * @param what what is compared, for the message, e.g. "model (class, parameter names and shapes)"
     * @param configuration the text that must be equal on every rank
     * @throws ConfigurationMismatchException on every rank when any two ranks differ
     */
    default void agree(String what, String configuration) {
        agree(what, configuration, "start every rank with the same arguments and the same data");
    }

    /**
     * {@link #agree(String, String)} with the advice its message ends with.
     *
     * @param what what is compared, for the message
     * @param configuration the text that must be equal on every rank
     * @param remedy what to do about a mismatch, the message's end
     * @throws ConfigurationMismatchException on every rank when any two ranks differ
     */
    default void agree(String what, String configuration, String remedy) {
        // checked on every rank alike before the collective (a null configuration hashed as "null" on one rank only)
        java.util.Objects.requireNonNull(what, "Communicator.agree: what is null");
        java.util.Objects.requireNonNull(configuration, "Communicator.agree: configuration is null");
        if (size() == 1) {
            return;
        }
        long hash = Hashes.sha256Long(configuration);
        long[] minMax = {hash, ~hash};   // not -hash: -Long.MIN_VALUE is itself, and that rank would agree with anything
        allReduceMin(minMax);
        if (minMax[0] != hash || ~minMax[1] != hash) {
            // each rank names its own text: the lines of two ranks side by side show what differs (the hashes do not);
            // its start only (a model's layout names every parameter), on one line (one's own may hold line breaks)
            int shown = 300;
            String mine = (configuration.length() <= shown ? configuration
                    : configuration.substring(0, shown) + "... (" + configuration.length() + " characters)")
                    .replaceAll("\\p{Cntrl}", " ");
            throw new ConfigurationMismatchException("the " + size() + " ranks do not agree on the " + what + " (this is rank "
                    + rank() + ", with \"" + mine + "\", hash " + Long.toHexString(hash) + "; hashes over ranks range from "
                    + Long.toHexString(minMax[0]) + " to " + Long.toHexString(~minMax[1]) + "): " + remedy);
        }
    }

    /**
     * Ends every rank of the job now with {@code exitCode} (MPI_Abort), for a failure on this rank that the
     * others cannot know about and would otherwise wait for in their next collective. A single process: nothing
     * (the caller ends itself).
     *
     * @param exitCode the exit status of every process of the job
     */
    default void abort(int exitCode) {
    }

    /** Finalizes (MPI_Finalize after a barrier); a no-op for a single process. */
    @Override
    void close();

    /**
     * The communicator of a process that trains alone.
     *
     * @return rank 0 of 1, every collective a no-op
     */
    static Communicator single() {
        return SingleProcess.INSTANCE;
    }
}
