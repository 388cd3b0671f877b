// Ranks that were started with different configurations (model, sizes, seed, data): every rank throws this
// same exception at the same collective, so all of them can end together and cleanly (MPI_Finalize).
package org.seq4j.dist;

/**
 * Ranks started with different configurations (model, sizes, seed, data); every rank throws it at the same
 * collective, so all of them end together.
 */
public final class ConfigurationMismatchException extends DistributedException {
    /**
     * A mismatch.
     *
     * @param message one line: what differs and what to do
     */
    public ConfigurationMismatchException(String message) {
        super(message);
    }
}
