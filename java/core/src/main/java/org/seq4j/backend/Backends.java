// Finds and creates backends through the BackendProvider services on the class or module path. select()
// tries them best first (cuda, openblas, java) and logs why each one it passes over was skipped;
// -Dseq4j.backend=NAME (or SEQ4J_BACKEND) forces one, and a backend asked for by name, or a native library
// configured by path, that cannot load is an error, never a quiet fallback. The backend chosen is logged at DEBUG
// only: a library's success is no news on an application's stderr (the CLI's --verbose shows it).
package org.seq4j.backend;

import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Backend discovery and selection. Providers are found with {@link ServiceLoader} in seq4j-core's class loader
 * (so two copies of seq4j in sibling class loaders each see their own), ordered by {@link BackendProvider#rank()}.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    /**
     * Whether a backend could be created here, and if not, why.
     *
     * @param name      the backend's name
     * @param available whether it can load
     * @param detail    what was found, or why it cannot load
     */
    public record Status(String name, boolean available, String detail) {
    }

    private Backends() {
    }

    /**
     * The providers found with ServiceLoader, best first; the Java reference is always among them. A provider that
     * cannot be instantiated, or gives its backend a null or blank name, is skipped with a WARNING in the log
     * ({@link #probe()} lists it).
     *
     * @return the providers by rank
     */
    public static List<BackendProvider> providers() {
        return found(null);
    }

    /**
     * The providers by rank, each under its name in lower case; a provider that cannot be instantiated, or names
     * itself null or blank, is skipped (logged, and added to {@code skipped} where given): one such jar on the class
     * path stopped every call here, create("java") too, with a ServiceConfigurationError.
     */
    private static List<BackendProvider> found(List<Status> skipped) {
        Map<String, BackendProvider> byName = new LinkedHashMap<>();
        var it = ServiceLoader.load(BackendProvider.class, BackendProvider.class.getClassLoader()).iterator();
        while (true) {
            BackendProvider p;
            String name;
            try {
                if (!it.hasNext()) {
                    break;
                }
                p = it.next();
                name = p.name();
            } catch (java.util.ServiceConfigurationError | RuntimeException | LinkageError e) {
                skip(skipped, "(a provider)", "it could not be loaded: " + e);
                continue;   // ServiceLoader goes on to the next provider after such an error
            }
            if (name == null || name.isBlank()) {
                skip(skipped, p.getClass().getName(), "it names its backend " + (name == null ? "null" : "'" + name
                        + "'") + "; a backend needs a name");
                continue;
            }
            byName.putIfAbsent(key(name), p);
        }
        byName.putIfAbsent("java", new JavaBackendProvider()); // even where service files were stripped
        List<BackendProvider> out = new ArrayList<>(byName.values());
        out.sort(Comparator.comparingInt(BackendProvider::rank).thenComparing(BackendProvider::name));
        return out;
    }

    /** The skips logged so far: providers() runs on every lookup, and a broken provider warned at each one. */
    private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static void skip(List<Status> skipped, String who, String why) {
        if (WARNED.add(who + ": " + why)) {
            LOG.log(Level.WARNING, "seq4j: skipped backend provider {0}: {1}", who, why);
        }
        if (skipped != null) {
            skipped.add(new Status(who, false, "skipped: " + why));
        }
    }

    /** A name as providers are looked up by it: trimmed, lower case. */
    private static String key(String name) {
        return name.trim().toLowerCase(Locale.ROOT);
    }

    /**
     * The names of the backends found, best first.
     *
     * @return the names
     */
    public static List<String> names() {
        return providers().stream().map(BackendProvider::name).toList();
    }

    /**
     * The backend that {@code -Dseq4j.backend} (else {@code SEQ4J_BACKEND}) forces {@link #select()} to create, if
     * either is set: for a caller that checks its settings before it does any work (the CLI checks them before it
     * generates or reads its data).
     *
     * @return the forced backend's provider name, or empty where neither setting is given
     * @throws IllegalArgumentException if the setting names no provider on the class or module path (the message names
     *                                  the setting, as select() would)
     */
    public static java.util.Optional<String> forcedName() {
        Forced forced = forced();
        if (forced == null) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(provider(forced.name()).name());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(forced + ": " + e.getMessage(), e);
        }
    }

    /**
     * The provider of a backend.
     *
     * @param name the backend's name, any case
     * @return its provider
     * @throws IllegalArgumentException for a name no provider on the class or module path has
     * @throws NullPointerException     if name is null
     */
    public static BackendProvider provider(String name) {
        nonNull("provider", "name", name);
        String key = key(name);
        for (BackendProvider p : providers()) {
            if (key(p.name()).equals(key)) {   // a provider named "MyCPU" was listed as known and found under no name
                return p;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; known here: " + String.join(", ", names())
                + (key.equals("cuda") ? " (the cuda backend is in the artifact org.seq4j:seq4j-cuda)" : ""));
    }

    /**
     * A new backend by name, configured from the environment.
     *
     * @param name the backend's name: java, openblas, cuda
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException with the reason if it cannot load here
     * @throws IllegalArgumentException for a name no provider on the class or module path has, or a setting it uses
     *                                  that is not a number where a number is expected (see
     *                                  {@link BackendConfig#fromEnvironment()}; the java backend uses none)
     * @throws NullPointerException     if name is null
     */
    public static Backend create(String name) {
        nonNull("create", "name", name);
        BackendProvider p = provider(name);
        return p.create(environmentFor(p));
    }

    /**
     * A new backend by name with the given configuration.
     *
     * @param name   the backend's name: java, openblas, cuda
     * @param config threads, device and library paths
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException with the reason if it cannot load here
     * @throws IllegalArgumentException for a name no provider on the class or module path has
     * @throws NullPointerException     if name or config is null
     */
    public static Backend create(String name, BackendConfig config) {
        nonNull("create", "name", name);
        nonNull("create", "config", config);   // before the name is looked up: the same for every backend
        return provider(name).create(config);
    }

    /**
     * The backend forced by {@code -Dseq4j.backend} or {@code SEQ4J_BACKEND} if set (an error if it cannot load),
     * else the best one that loads, configured from the environment. See {@link #select(BackendConfig)}.
     *
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException if a forced backend, or a native library configured by path, cannot load
     * @throws IllegalArgumentException    if {@code -Dseq4j.backend} / {@code SEQ4J_BACKEND} names no backend found
     *                                     here, or a setting of {@link BackendConfig#fromEnvironment()} that the
     *                                     backend uses is not a number where a number is expected
     */
    public static Backend select() {
        return select(null, false);
    }

    /**
     * The backend forced by {@code -Dseq4j.backend} or {@code SEQ4J_BACKEND} if set (an error if it cannot load),
     * else the best one that loads. Passing over an optional accelerator is logged at INFO; falling back to the
     * Java reference because the CPU backend did not load is a WARNING with the reason; the backend chosen, at DEBUG.
     *
     * @param config threads, device and library paths
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException if a forced backend, or a native library configured by path, cannot load
     * @throws IllegalArgumentException    if {@code -Dseq4j.backend} / {@code SEQ4J_BACKEND} names no backend found
     *                                     here
     */
    public static Backend select(BackendConfig config) {
        nonNull("select", "config", config);
        return select(config, false);
    }

    /**
     * The best native (non-Java) backend that loads, for programs that would rather fail than run on the slow
     * reference. A native backend forced by {@code -Dseq4j.backend} or {@code SEQ4J_BACKEND} is the one taken (an
     * error if it cannot load), as {@link #select(BackendConfig)} takes it; forcing {@code java} is refused.
     *
     * @param config threads, device and library paths
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException   listing why each native backend could not load, or why the forced one
     *                                       could not
     * @throws BackendMisconfiguredException if {@code -Dseq4j.backend} / {@code SEQ4J_BACKEND} forces {@code java}
     * @throws IllegalArgumentException      if {@code -Dseq4j.backend} / {@code SEQ4J_BACKEND} names no backend
     *                                       found here
     */
    public static Backend requireNative(BackendConfig config) {
        nonNull("requireNative", "config", config);
        return select(config, true);
    }

    /**
     * {@link #requireNative(BackendConfig)} configured from the environment.
     *
     * @return the backend, open; close it when done
     * @throws BackendUnavailableException   listing why each native backend could not load, or why the forced one
     *                                       could not
     * @throws BackendMisconfiguredException if {@code -Dseq4j.backend} / {@code SEQ4J_BACKEND} forces {@code java}
     * @throws IllegalArgumentException      if {@code -Dseq4j.backend} / {@code SEQ4J_BACKEND} names no backend
     *                                       found here, or a setting of {@link BackendConfig#fromEnvironment()} is
     *                                       not a number where a number is expected
     */
    public static Backend requireNative() {
        return select(null, true);
    }

    /**
     * select() and requireNative(): the forced backend, else the best that loads (a native one for requireNative).
     * A null config is read from the environment for each backend tried (see environmentFor).
     */
    private static Backend select(BackendConfig config, boolean nativeOnly) {
        Forced forced = forced();
        if (forced == null) {
            return choose(config, nativeOnly);
        }
        BackendProvider p;
        try {
            p = provider(forced.name());
        } catch (IllegalArgumentException e) { // name where the name came from: the caller passed none
            throw new IllegalArgumentException(forced + ": " + e.getMessage(), e);
        }
        if (nativeOnly && p instanceof JavaBackendProvider) {
            throw new BackendMisconfiguredException("Backends.requireNative: " + forced + " forces the java reference "
                    + "backend, which requireNative() refuses; unset it, or call Backends.select()");
        }
        Backend b = p.create(config != null ? config : environmentFor(p));
        LOG.log(Level.DEBUG, "seq4j: using backend {0} (forced by {1}): {2}", b.name(), forced, b.description());
        return b;
    }

    /**
     * A backend forced by a setting.
     *
     * @param setting {@code -Dseq4j.backend} or {@code SEQ4J_BACKEND}
     * @param name    its value, trimmed
     */
    private record Forced(String setting, String name) {
        @Override
        public String toString() {
            return setting + "=" + name;
        }
    }

    /** -Dseq4j.backend, else SEQ4J_BACKEND; null when neither is set. */
    private static Forced forced() {
        String property = System.getProperty("seq4j.backend");
        if (property != null && !property.isBlank()) {
            return new Forced("-Dseq4j.backend", property.trim());
        }
        String variable = System.getenv("SEQ4J_BACKEND");
        return variable != null && !variable.isBlank() ? new Forced("SEQ4J_BACKEND", variable.trim()) : null;
    }

    /**
     * The configuration from the environment for p's backend. The Java reference uses none of it (no threads, device
     * or library), so a -Dseq4j.threads that is no number does not stop it.
     */
    private static BackendConfig environmentFor(BackendProvider p) {
        return p instanceof JavaBackendProvider ? BackendConfig.defaults() : BackendConfig.fromEnvironment();
    }

    /** A null argument: a NullPointerException naming the method and the argument, not the JDK's about a local. */
    private static void nonNull(String method, String name, Object o) {
        if (o == null) {
            throw new NullPointerException("Backends." + method + ": " + name + " is null");
        }
    }

    /** The best backend that loads (a native one if nativeOnly); a null config is read per backend (environmentFor). */
    private static Backend choose(BackendConfig given, boolean nativeOnly) {
        List<String> reasons = new ArrayList<>();
        for (BackendProvider p : providers()) {
            if (nativeOnly && p.name().equals("java")) {
                continue;
            }
            BackendConfig config = given != null ? given : environmentFor(p);
            try {
                Backend b = p.create(config);
                if (p.name().equals("java") && !reasons.isEmpty()) {
                    LOG.log(Level.WARNING, "falling back to the slow java reference backend: {0} (seq4j info says more)", String.join("; ", reasons));
                }
                LOG.log(Level.DEBUG, "seq4j: using backend {0}: {1}", b.name(), b.description());
                return b;
            } catch (BackendMisconfiguredException e) {
                throw e; // an explicit setting that does not work is an error, not a reason to fall back
            } catch (BackendUnavailableException e) {
                if (config.library(p.name()).isPresent()) {
                    throw new BackendUnavailableException("backend " + p.name() + " was configured with the library "
                            + config.library(p.name()).get() + " but cannot load: " + e.getMessage(), e);
                }
                if (p.expectedHere()) {
                    // one line however long the reason; INFO and `seq4j info` have it whole
                    String why = String.valueOf(e.getMessage());
                    reasons.add(p.name() + ": " + (why.length() <= 200 ? why : why.substring(0, 197) + "..."));
                    LOG.log(Level.INFO, "seq4j: skipped backend {0}: {1}", p.name(), why);
                } else {
                    LOG.log(Level.INFO, "seq4j: skipped backend {0}: {1}", p.name(), e.getMessage());
                }
            }
        }
        if (nativeOnly) {
            throw new BackendUnavailableException("no native backend loads here: " + (reasons.isEmpty()
                    ? "none is on the class or module path" : String.join("; ", reasons)));
        }
        throw new IllegalStateException("no backend could be loaded; the java backend should always load");
    }

    /**
     * Asks every provider whether its backend can run here, and why not; loads nothing for good.
     *
     * @return one status per provider, best first, then one per provider skipped (not loaded, or without a name)
     */
    public static List<Status> probe() {
        List<Status> skipped = new ArrayList<>();
        List<Status> out = new ArrayList<>();
        for (BackendProvider p : found(skipped)) {
            BackendProvider.Probe r;
            try {
                r = p.probe();
            } catch (IllegalArgumentException | UncheckedIOException e) {
                // a setting it reads (SEQ4J_THREADS=65), or no folder to extract its libraries into: the message says
                // which, and the class name in front of it ("java.io.UncheckedIOException: cannot extract") said nothing
                r = BackendProvider.Probe.unavailable(String.valueOf(e.getMessage()));
            } catch (RuntimeException | LinkageError e) {   // one provider's failure is its status, not everyone's
                r = BackendProvider.Probe.unavailable("its probe failed: " + e);
            }
            out.add(new Status(p.name(), r.available(), r.detail()));
        }
        out.addAll(skipped);   // what could not be loaded, last: seq4j info shows why
        return out;
    }
}
