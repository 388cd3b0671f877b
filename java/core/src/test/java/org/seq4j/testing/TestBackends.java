// Backends for parameterised tests: every backend found (ServiceLoader) is listed by name; a test asks for it
// with get(name), which skips the test through Assumptions (with the reason) where it cannot load.
// One instance per backend is shared by the whole test run and closed at JVM exit.
package org.seq4j.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.Backends;

public final class TestBackends {
    private static final Map<String, Object> CACHE = new ConcurrentHashMap<>();

    private TestBackends() {
    }

    /**
     * Every backend found on the test class path, for @MethodSource; java first. {@code -Dseq4j.test.backends=a,b}
     * narrows it to those names (seq4j-cuda's build reruns core's suites for cuda alone this way).
     */
    public static Stream<Named<String>> all() {
        String only = System.getProperty("seq4j.test.backends", "");
        List<String> wanted = only.isBlank() ? List.of() : List.of(only.trim().split("\\s*,\\s*"));
        return Backends.names().stream().filter(n -> wanted.isEmpty() || wanted.contains(n))
                .sorted((a, b) -> a.equals("java") ? -1 : b.equals("java") ? 1 : 0)
                .map(n -> Named.of(n, n));
    }

    /** Every known backend except the java reference, for tests that compare against it. */
    public static Stream<Named<String>> accelerated() {
        return all().filter(n -> !n.getPayload().equals("java"));
    }

    /** The java reference backend (always available). */
    public static Backend reference() {
        return get("java");
    }

    /** The shared instance of backend {@code name}; skips the calling test, with the reason, if it cannot load. */
    public static Backend get(String name) {
        Object o = CACHE.computeIfAbsent(name, TestBackends::load);
        assumeTrue(o instanceof Backend, () -> "backend " + name + " is not available here: " + o);
        return (Backend) o;
    }

    private static Object load(String name) {
        try {
            Backend b = Backends.create(name);
            Runtime.getRuntime().addShutdownHook(new Thread(b::close));
            return b;
        } catch (BackendUnavailableException e) {
            return e.getMessage();
        }
    }
}
