// Bad input found by the command line itself (an option out of range, a question the model cannot read):
// ends the command with its one-line message and exit code 2.
package org.seq4j.cli;

final class BadInputException extends RuntimeException {
    BadInputException(String message) {
        super(message);
    }

    BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
