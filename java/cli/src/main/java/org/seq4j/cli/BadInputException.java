// Bad input found by the command line itself (an option out of range, a question the model cannot read):
// ends the command with its one-line message and exit code 2.
package org.seq4j.cli;

final class BadInputException extends RuntimeException {
    private final boolean onEveryRank;

    BadInputException(String message) {
        this(message, null, false);
    }

    BadInputException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private BadInputException(String message, Throwable cause, boolean onEveryRank) {
        super(message, cause);
        this.onEveryRank = onEveryRank;
    }

    /**
     * Bad input that every rank of an MPI job found at the same point (rank 0 decided, then told them all in a
     * collective): the ranks end together, through MPI_Finalize, instead of one of them ending the job with MPI_Abort.
     *
     * @param message the one-line message
     * @return the exception
     */
    static BadInputException onEveryRank(String message) {
        return new BadInputException(message, null, true);
    }

    /** Whether every rank throws it at the same point ({@link #onEveryRank}). */
    boolean isOnEveryRank() {
        return onEveryRank;
    }
}
