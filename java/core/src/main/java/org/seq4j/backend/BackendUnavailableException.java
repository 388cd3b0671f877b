// Thrown when a backend asked for by name cannot be loaded on this machine; the message says why.
// BackendMisconfiguredException, its one subclass, marks an explicit setting that is wrong.
package org.seq4j.backend;

/** A backend cannot load on this machine; the message says why. */
public class BackendUnavailableException extends RuntimeException {
    /**
     * An exception with its message.
     *
     * @param message why the backend cannot load
     */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /**
     * An exception with its message and cause.
     *
     * @param message why the backend cannot load
     * @param cause   the underlying failure
     */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
