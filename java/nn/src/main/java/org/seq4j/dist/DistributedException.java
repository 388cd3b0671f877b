// A failure of distributed training that every rank reports the same way: ranks that disagree on the
// configuration, an MPI call that returned an error, an MPI library that cannot be loaded when it was asked for.
package org.seq4j.dist;

public class DistributedException extends RuntimeException {
    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
