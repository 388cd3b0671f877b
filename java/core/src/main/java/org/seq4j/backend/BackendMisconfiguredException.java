// Thrown when a setting given explicitly does not work: a library path (-Dseq4j.openblas, SEQ4J_OPENBLAS) that
// does not load, a -Dseq4j.gemm that is neither auto nor openblas. Unlike a plain BackendUnavailableException it ends backend selection with an error: what was
// asked for explicitly must not be replaced by a quieter, slower fallback.
package org.seq4j.backend;

/** A setting given explicitly does not work: backend selection stops with this error instead of falling back. */
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
