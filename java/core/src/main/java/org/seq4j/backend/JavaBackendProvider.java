// ServiceLoader entry of the pure-Java reference backend: always available, tried last.
package org.seq4j.backend;

/** Provides {@link JavaBackend}, the reference; it loads everywhere. */
public final class JavaBackendProvider implements BackendProvider {
    /** For ServiceLoader. */
    public JavaBackendProvider() {
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Probe probe() {
        return Probe.available("pure Java reference (scalar loops)");
    }

    @Override
    public Backend create(BackendConfig config) {
        if (config == null) {   // unused here, but null is refused the same on every backend
            throw new NullPointerException("BackendProvider.create: config is null");
        }
        return new JavaBackend();
    }
}
