// Thrown when a backend asked for by name cannot be loaded on this machine; the message says why.
// BackendMisconfiguredException, its one subclass, marks an explicit setting that is wrong.
package org.seq4j.backend;

public class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
