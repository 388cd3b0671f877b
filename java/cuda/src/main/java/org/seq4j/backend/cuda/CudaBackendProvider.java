// ServiceLoader entry of the CUDA backend: an optional add-on (artifact seq4j-cuda), tried first when present.
package org.seq4j.backend.cuda;

import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendConfig;
import org.seq4j.backend.BackendProvider;
import org.seq4j.backend.BackendUnavailableException;

/** Provides {@link CudaBackend}; its absence (no GPU, driver or CUDA libraries) is normal and logged at INFO. */
public final class CudaBackendProvider implements BackendProvider {
    /** For ServiceLoader. */
    public CudaBackendProvider() {
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public Probe probe() {
        try (CudaBackend b = new CudaBackend(BackendConfig.fromEnvironment().device())) {
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
        return new CudaBackend(config.device(), config.library(BackendConfig.CUDA));
    }
}
