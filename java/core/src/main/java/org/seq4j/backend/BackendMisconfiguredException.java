// Thrown when a library path set explicitly (-Dseq4j.openblas, SEQ4J_OPENBLAS) names something that does
// not load. Unlike a plain BackendUnavailableException it ends backend selection with an error: what was
// asked for explicitly must not be replaced by a quieter, slower fallback.
package org.seq4j.backend;

public final class BackendMisconfiguredException extends BackendUnavailableException {
    public BackendMisconfiguredException(String message) {
        super(message);
    }

    public BackendMisconfiguredException(String message, Throwable cause) {
        super(message, cause);
    }
}
