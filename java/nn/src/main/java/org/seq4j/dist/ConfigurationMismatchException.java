// Ranks that were started with different configurations (model, sizes, seed, data): every rank throws this
// same exception at the same collective, so all of them can end together and cleanly (MPI_Finalize).
package org.seq4j.dist;

public final class ConfigurationMismatchException extends DistributedException {
    public ConfigurationMismatchException(String message) {
        super(message);
    }
}
