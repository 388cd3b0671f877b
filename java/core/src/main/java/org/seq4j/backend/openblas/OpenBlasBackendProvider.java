// ServiceLoader entry of the CPU backend (OpenBLAS + seq4j's C kernels).
package org.seq4j.backend.openblas;

import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendConfig;
import org.seq4j.backend.BackendProvider;
import org.seq4j.backend.BackendUnavailableException;

/** Provides {@link OpenBlasBackend}; expected to load wherever seq4j ships its C kernels. */
public final class OpenBlasBackendProvider implements BackendProvider {
    /** For ServiceLoader. */
    public OpenBlasBackendProvider() {
    }

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public int rank() {
        return 10;
    }

    @Override
    public boolean expectedHere() {
        return true;
    }

    @Override
    public Probe probe() {
        try (OpenBlasBackend b = new OpenBlasBackend(BackendConfig.fromEnvironment())) {
            return Probe.available(b.description());
        } catch (BackendUnavailableException e) {
            return Probe.unavailable(e.getMessage());
        }
    }

    @Override
    public Backend create(BackendConfig config) {
        if (config == null) {   // the same line on every backend
            throw new NullPointerException("BackendProvider.create: config is null");
        }
        return new OpenBlasBackend(config);
    }
}
