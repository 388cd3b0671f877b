// Thrown when a backend asked for by name cannot be loaded on this machine; the message says why.
package org.seq4j.backend;

public final class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
