// Finds and creates backends. select() tries cuda, then openblas, then java, and logs why each one it
// passes over was skipped (a fall back to java at WARNING); -Dseq4j.backend=java|openblas|cuda (or
// SEQ4J_BACKEND) forces one, and a backend asked for by name, or an explicit library path, that cannot
// load is an error, never a quiet fallback.
package org.seq4j.backend;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

public final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    /** The known backends, best first. Each factory throws BackendUnavailableException with the reason. */
    private static final Map<String, Supplier<Backend>> FACTORIES = new LinkedHashMap<>();

    static {
        FACTORIES.put("cuda", org.seq4j.backend.cuda.CudaBackend::new);
        FACTORIES.put("openblas", org.seq4j.backend.openblas.OpenBlasBackend::new);
        FACTORIES.put("java", JavaBackend::new);
    }

    /** Whether a backend could be created here, and if not, why. */
    public record Status(String name, boolean available, String detail) {
    }

    private Backends() {
    }

    /** The names seq4j knows, best first. */
    public static List<String> names() {
        List<String> names = new ArrayList<>(FACTORIES.keySet());
        // best first: accelerators before the reference
        names.sort((a, b) -> Integer.compare(rank(a), rank(b)));
        return names;
    }

    private static int rank(String name) {
        return switch (name) {
            case "cuda" -> 0;
            case "openblas" -> 1;
            case "java" -> 3;
            default -> 2;
        };
    }

    /**
     * A new backend by name. Throws BackendUnavailableException, with the reason, if it cannot load here,
     * and IllegalArgumentException for a name seq4j does not know.
     */
    public static Backend create(String name) {
        Supplier<Backend> factory = FACTORIES.get(name.toLowerCase(Locale.ROOT));
        if (factory == null) {
            throw new IllegalArgumentException("unknown backend '" + name + "'; known: " + String.join(", ", names()));
        }
        return factory.get();
    }

    /**
     * The backend forced by -Dseq4j.backend or SEQ4J_BACKEND if set (an error if it cannot load), else the
     * best one that loads, logging why the better ones were skipped.
     */
    public static Backend select() {
        String forced = System.getProperty("seq4j.backend", System.getenv("SEQ4J_BACKEND"));
        if (forced != null && !forced.isBlank()) {
            Backend b = create(forced.trim());
            LOG.log(Level.INFO, "seq4j: using backend {0} (forced): {1}", b.name(), b.description());
            return b;
        }
        List<String> skipped = new ArrayList<>();
        for (String name : names()) {
            try {
                Backend b = create(name);
                LOG.log(Level.INFO, "seq4j: using backend {0}: {1}", b.name(), b.description());
                if (b instanceof JavaBackend && !skipped.isEmpty()) {
                    // the reference is many times slower than the native backends: say so, once, with why
                    LOG.log(Level.WARNING, "falling back to the slow java reference backend: {0} (seq4j info "
                            + "says more)", String.join("; ", skipped));
                }
                return b;
            } catch (BackendMisconfiguredException e) {
                throw e; // an explicit setting that does not work is an error, not a reason to fall back
            } catch (BackendUnavailableException e) {
                LOG.log(Level.INFO, "seq4j: skipped backend {0}: {1}", name, e.getMessage());
                String why = String.valueOf(e.getMessage());
                // one line however long the reasons (cuda's lists every folder searched); INFO has them whole
                skipped.add(name + ": " + (why.length() <= 200 ? why : why.substring(0, 197) + "..."));
            }
        }
        throw new IllegalStateException("no backend could be loaded; the java backend should always load");
    }

    /** Tries every known backend once and reports what loads and why the others do not. */
    public static List<Status> probe() {
        List<Status> out = new ArrayList<>();
        for (String name : names()) {
            try (Backend b = create(name)) {
                out.add(new Status(name, true, b.description()));
            } catch (BackendUnavailableException e) {
                out.add(new Status(name, false, e.getMessage()));
            }
        }
        return out;
    }
}
