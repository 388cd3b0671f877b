// Bad input found by the command line itself (an option out of range, a question the model cannot read):
// ends the command with its one-line message and exit code 2.
package org.seq4j.cli;

class BadInputException extends RuntimeException {
    BadInputException(String message) {
        super(message);
    }

    BadInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Bad input that every rank of an MPI job found at the same point (rank 0 decided, then told them all in a
     * collective): caught with the other exceptions every rank throws together, so the ranks end through MPI_Finalize
     * instead of one of them ending the job with MPI_Abort.
     */
    static final class OnEveryRank extends BadInputException {
        OnEveryRank(String message) {
            super(message);
        }
    }
}
