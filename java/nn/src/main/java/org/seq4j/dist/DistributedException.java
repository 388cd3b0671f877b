// A failure of distributed training that every rank reports the same way: ranks that disagree on the
// configuration, an MPI call that returned an error, an MPI library that cannot be loaded when it was asked for.
package org.seq4j.dist;

/**
 * A failure of distributed training: ranks that disagree on the configuration, an MPI call that returned an
 * error, an MPI library that cannot be loaded when it was asked for.
 */
public class DistributedException extends RuntimeException {
    /**
     * A failure without a cause.
     *
     * @param message one line: what failed and what was expected
     */
    public DistributedException(String message) {
        super(message);
    }

    /**
     * A failure caused by another exception.
     *
     * @param message one line: what failed and what was expected
     * @param cause the underlying exception
     */
    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
