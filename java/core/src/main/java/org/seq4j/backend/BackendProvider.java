// The service that makes a backend known to seq4j: found with java.util.ServiceLoader (module-info
// "provides", or META-INF/services on the class path). Adding a backend is one Backend class plus one
// provider entry; Backends, the command line and the conformance suite pick it up.
package org.seq4j.backend;

/**
 * A kind of backend: its name, how preferred it is, whether it can run here, and a factory.
 * Implementations must be public with a public no-argument constructor, and cheap to construct: loading
 * native libraries belongs in {@link #probe()} and {@link #create(BackendConfig)}.
 */
public interface BackendProvider {

    /**
     * Whether a backend can run here, and if not, why (one line for a person to act on).
     *
     * @param available whether {@link #create} would succeed with the defaults
     * @param detail    what was found, or what is missing and where it was looked for
     */
    record Probe(boolean available, String detail) {
        /**
         * Available.
         *
         * @param detail what was found
         * @return an available probe
         */
        public static Probe available(String detail) {
            return new Probe(true, detail);
        }

        /**
         * Not available.
         *
         * @param reason what is missing and where it was looked for
         * @return an unavailable probe
         */
        public static Probe unavailable(String reason) {
            return new Probe(false, reason);
        }
    }

    /**
     * The backend's name as users type it, lower case: {@code java}, {@code openblas}, {@code cuda}.
     *
     * @return the name
     */
    String name();

    /**
     * Preference when selecting automatically: lower is tried first (cuda 0, openblas 10, java 100).
     *
     * @return the rank
     */
    int rank();

    /**
     * Whether this provider's backend would fall back to the Java reference for a reason worth a WARNING
     * when it cannot load here (true for the CPU backend on a supported platform; false for optional
     * accelerators, whose absence is normal).
     *
     * @return true if its absence is worth a warning
     */
    default boolean expectedHere() {
        return false;
    }

    /**
     * Checks, without keeping anything open, whether {@link #create} would succeed with the defaults.
     *
     * @return the answer and its reason
     */
    Probe probe();

    /**
     * A new backend.
     *
     * @param config threads, device and library paths
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException with the reason when it cannot load here
     * @throws NullPointerException        if config is null ("BackendProvider.create: config is null")
     */
    Backend create(BackendConfig config);
}
