// Backends for parameterised tests: every backend found (ServiceLoader) is listed by name; a test asks for it
// with get(name), which skips the test through Assumptions (with the reason) where it cannot load.
// One instance per backend is shared by the whole test run and closed at JVM exit.
package org.seq4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.Backends;
import org.seq4j.backend.DeviceLabelledBackend;
import org.seq4j.tensor.Tensor;

public final class TestBackends {
    private static final Map<String, Object> CACHE = new ConcurrentHashMap<>();

    private TestBackends() {
    }

    /**
     * Every backend found on the test class path, for @MethodSource; java first. {@code -Dseq4j.test.backends=a,b}
     * narrows it to those names (seq4j-cuda's build reruns core's suites for cuda alone this way); {@code javadevice}
     * there adds {@link DeviceLabelledBackend}, the Java kernels over memory labelled as a device's.
     */
    public static Stream<Named<String>> all() {
        String only = System.getProperty("seq4j.test.backends", "");
        List<String> wanted = only.isBlank() ? List.of() : List.of(only.trim().split("\\s*,\\s*"));
        // the test-only device backend runs where it is asked for by name
        Stream<String> names = Stream.concat(Backends.names().stream(),
                wanted.contains(DeviceLabelledBackend.NAME) ? Stream.of(DeviceLabelledBackend.NAME) : Stream.empty());
        return names.filter(n -> wanted.isEmpty() || wanted.contains(n))
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

    /** Whether backend {@code name} loads here (then {@link #get} gives it), for a test that runs on those that do. */
    public static boolean available(String name) {
        return CACHE.computeIfAbsent(name, TestBackends::load) instanceof Backend;
    }

    /** A copy of a float32 tensor's elements on any backend (a device's tensors are copied out through it). */
    public static float[] values(Backend b, Tensor t) {
        float[] out = new float[Math.toIntExact(t.size())];
        b.copyOut(out, t);
        return out;
    }

    /**
     * Asserts that two runs that should give the same floats did: bit for bit on the host backends, whose kernels fix
     * the order of every sum whatever the shape; within 1e-5 of the largest |expected| element on a device backend,
     * where cuBLAS picks its GEMM kernel, and with it the order of a dot product's terms, by the product's shape (a
     * folded table of V rows against T*N rows of the plain path, a chunk of steps against the whole sequence). (The
     * embedding backward's scatter-add no longer adds in a varying order: it has the reference's bits everywhere.) A
     * float32 sum of k terms in another order moves by at most about k * 6e-8 of the terms' magnitude, and these tests
     * sum at most a few dozen terms into one element: well under 1e-5.
     */
    public static void assertSameRun(Backend b, float[] expected, float[] actual, String what) {
        if (b.device().isHost()) {
            assertArrayEquals(expected, actual, what);
            return;
        }
        float max = 0f;
        for (float e : expected) {
            max = Math.max(max, Math.abs(e));
        }
        assertArrayEquals(expected, actual, 1e-5f * max, what + " (" + b.name() + ": within 1e-5 of max |expected| = "
                + max + ")");
    }

    /**
     * A new instance of backend {@code name}, the caller's to close (for tests that close or break it): Backends.create,
     * or the test-only {@link DeviceLabelledBackend}.
     */
    public static Backend fresh(String name) {
        return name.equals(DeviceLabelledBackend.NAME) ? new DeviceLabelledBackend() : Backends.create(name);
    }

    private static Object load(String name) {
        try {
            Backend b = fresh(name);
            Runtime.getRuntime().addShutdownHook(new Thread(b::close));
            return b;
        } catch (BackendUnavailableException e) {
            return e.getMessage();
        }
    }
}
