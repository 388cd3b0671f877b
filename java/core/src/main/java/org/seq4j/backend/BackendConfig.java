// How to create a backend: threads, device and library paths, as one immutable value passed to
// BackendProvider.create. fromEnvironment() reads the documented properties and variables once, so no code
// needs System.setProperty to configure a backend.
package org.seq4j.backend;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The settings a {@link BackendProvider} creates a backend with.
 *
 * @param threads   CPU threads of a native backend's work split; 0 means one per available core
 * @param device    the GPU index for accelerator backends (0 = the first)
 * @param libraries explicit native library paths by key, e.g. {@code "openblas"} → {@code /opt/lib/libopenblas.so.0}
 *                  or {@code "cuda"} → a folder of CUDA libraries; a library named here that does not load is an
 *                  error, never a silent fallback
 */
public record BackendConfig(int threads, int device, Map<String, Path> libraries) {

    /** Library key of OpenBLAS (-Dseq4j.openblas, SEQ4J_OPENBLAS). */
    public static final String OPENBLAS = "openblas";
    /**
     * Library key of the folder that holds the CUDA runtime and cuBLAS: the cuda backend loads them from there or
     * not at all. Not read from the environment: SEQ4J_CUDA_LIBS and -Dseq4j.cuda.libs are searched first by the
     * cuda backend itself, which then falls back to the usual places (and a machine without a GPU to openblas).
     */
    public static final String CUDA = "cuda";

    /**
     * Checks and freezes the settings.
     *
     * @throws IllegalArgumentException if threads or device is negative
     * @throws NullPointerException     if libraries, or one of its keys or paths, is null
     */
    public BackendConfig {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (one per core) or more, got " + threads);
        }
        if (device < 0) {
            throw new IllegalArgumentException("device must be 0 or more, got " + device);
        }
        java.util.Objects.requireNonNull(libraries, "BackendConfig: libraries is null (Map.of() for none)");
        libraries.forEach((key, path) -> {
            if (key == null || path == null) { // Map.copyOf's own NPE names neither
                throw new NullPointerException("BackendConfig: library " + key + " -> " + path + " has a null key or path");
            }
        });
        libraries = Map.copyOf(libraries);
    }

    /**
     * Defaults: one thread per core, device 0, libraries found by the usual search.
     *
     * @return the default configuration
     */
    public static BackendConfig defaults() {
        return new BackendConfig(0, 0, Map.of());
    }

    /**
     * The configuration the environment asks for: {@code -Dseq4j.threads} or {@code SEQ4J_THREADS},
     * {@code -Dseq4j.cuda.device}, {@code -Dseq4j.openblas} or {@code SEQ4J_OPENBLAS}. A device setting that is no GPU
     * index ({@code 1x}, {@code -1}) reads as 0 here and is refused by the cuda backend, the one that uses it
     * (BackendMisconfiguredException from its constructor), so that it stops no other backend.
     *
     * @return the configuration
     * @throws IllegalArgumentException if the thread count is not a number of 0 or more
     */
    public static BackendConfig fromEnvironment() {
        return fromEnvironment(System::getProperty, System::getenv);
    }

    /**
     * The configuration the environment asks for, with the given thread count in place of {@code -Dseq4j.threads}
     * and {@code SEQ4J_THREADS}, which are not read: a caller that names its count is not stopped by a malformed one
     * there ({@code new OpenBlasBackend(4)} under {@code -Dseq4j.threads=abc}).
     *
     * @param threads the count, 0 for one per core
     * @return the configuration
     * @throws IllegalArgumentException if threads is negative (no other setting is read as a number here: a device
     *                                  setting that is no GPU index reads as 0, as in {@link #fromEnvironment()})
     */
    public static BackendConfig fromEnvironment(int threads) {
        return fromEnvironment(threads, System::getProperty, System::getenv);
    }

    /** {@link #fromEnvironment()} over the given property and environment lookups (for tests). */
    static BackendConfig fromEnvironment(Function<String, String> properties, Function<String, String> environment) {
        int threads = number("-Dseq4j.threads / SEQ4J_THREADS",
                firstSet(properties.apply("seq4j.threads"), environment.apply("SEQ4J_THREADS")), 0);
        if (threads < 0) {
            throw new IllegalArgumentException("-Dseq4j.threads / SEQ4J_THREADS must be 0 (one per core) or more, got "
                    + threads);
        }
        return fromEnvironment(threads, properties, environment);
    }

    /** {@link #fromEnvironment(int)} over the given lookups: every setting but the thread count. */
    static BackendConfig fromEnvironment(int threads, Function<String, String> properties,
                                         Function<String, String> environment) {
        // the GPU index: the cuda backend reads the property again and refuses a value it does not take in its own
        // words (BackendMisconfiguredException, CudaOptions); here such a value stopped openblas and java as well
        int device = gpuIndex(properties.apply("seq4j.cuda.device"));
        String openblas = firstSet(properties.apply("seq4j.openblas"), environment.apply("SEQ4J_OPENBLAS"));
        return new BackendConfig(threads, device, openblas == null ? Map.of() : Map.of(OPENBLAS, Path.of(openblas)));
    }

    /**
     * This configuration with another thread count.
     *
     * @param threads the count, 0 for one per core
     * @return a new configuration
     * @throws IllegalArgumentException if threads is negative
     */
    public BackendConfig withThreads(int threads) {
        return new BackendConfig(threads, device, libraries);
    }

    /**
     * This configuration with another GPU index.
     *
     * @param device the index, 0 for the first GPU
     * @return a new configuration
     * @throws IllegalArgumentException if device is negative
     */
    public BackendConfig withDevice(int device) {
        return new BackendConfig(threads, device, libraries);
    }

    /**
     * The explicit path of a library, if one was given.
     *
     * @param key {@link #OPENBLAS} or {@link #CUDA}
     * @return the path, or empty
     */
    public Optional<Path> library(String key) {
        java.util.Objects.requireNonNull(key, "BackendConfig.library: key is null");
        return Optional.ofNullable(libraries.get(key));
    }

    /**
     * The thread count to use.
     *
     * @return {@link #threads()}, or the available cores when it is 0
     */
    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    private static String firstSet(String a, String b) {
        if (a != null && !a.isBlank()) {
            return a.trim();
        }
        return b != null && !b.isBlank() ? b.trim() : null;
    }

    /** -Dseq4j.cuda.device as a GPU index, or 0 (the default) for a value that is none. */
    private static int gpuIndex(String value) {
        try {
            return value == null ? 0 : Math.max(0, Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static int number(String what, String value, int dflt) {
        if (value == null || value.isBlank()) {
            return dflt;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a whole number, got '" + value + "'");
        }
    }
}
