// Thrown when a library path set explicitly (-Dseq4j.openblas, SEQ4J_OPENBLAS) names something that does
// not load. Unlike a plain BackendUnavailableException it ends backend selection with an error: what was
// asked for explicitly must not be replaced by a quieter, slower fallback.
package org.seq4j.backend;

/** A library path set explicitly does not load: backend selection stops with this error instead of falling back. */
public final class BackendMisconfiguredException extends BackendUnavailableException {
    /**
     * An exception with its message.
     *
     * @param message what was configured and why it does not load
     */
    public BackendMisconfiguredException(String message) {
        super(message);
    }

    /**
     * An exception with its message and cause.
     *
     * @param message what was configured and why it does not load
     * @param cause   the underlying failure
     */
    public BackendMisconfiguredException(String message, Throwable cause) {
        super(message, cause);
    }
}
