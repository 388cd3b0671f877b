// BackendConfig.fromEnvironment: a bad setting is an error that names the property it came from. Backends' own
// setting too (-Dseq4j.backend), which requireNative() used to ignore without a word; and a bad setting that a backend
// does not use (the java backend uses no thread count) does not stop that backend.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.seq4j.testing.TestBackends;

class BackendConfigTest {

    private static BackendConfig from(Map<String, String> properties) {
        return BackendConfig.fromEnvironment(properties::get, name -> null);
    }

    @Test
    void readsTheDocumentedProperties() {
        BackendConfig c = from(Map.of("seq4j.threads", " 3 ", "seq4j.cuda.device", "1"));
        assertEquals(3, c.threads());
        assertEquals(1, c.device());
        assertEquals(BackendConfig.defaults(), from(Map.of()));
    }

    @Test
    void aNegativeThreadCountNamesItsProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> from(Map.of("seq4j.threads", "-2")));
        assertTrue(e.getMessage().contains("-Dseq4j.threads"), e.getMessage());
    }

    /**
     * A device setting that is no GPU index stopped every backend here (IllegalArgumentException from fromEnvironment,
     * before any backend was built: openblas and java too); it reads as 0 now, and the cuda backend, which uses it,
     * refuses it in its own words (CudaOptionsTest).
     */
    @Test
    void aDeviceThatIsNoGpuIndexStopsOnlyTheCudaBackend() throws Exception {
        for (String bad : new String[] {"1x", "-1"}) {
            assertEquals(0, from(Map.of("seq4j.cuda.device", bad)).device(), bad);
            assertEquals("java", with("seq4j.cuda.device", bad, () -> name(Backends.create("java"))));
            TestBackends.get("openblas"); // skips if OpenBLAS is not available here
            assertEquals("openblas", with("seq4j.cuda.device", bad, () -> name(Backends.create("openblas"))));
        }
    }

    /** Runs call with the system property key set to value, and the property as it was afterwards. */
    private static <T> T with(String key, String value, Callable<T> call) throws Exception {
        String before = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return call.call();
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    private static String name(Backend b) {
        try (b) {
            return b.name();
        }
    }

    /** It said "unknown backend 'nope'; known here: ...", which does not say where the name came from. */
    @Test
    void anUnknownForcedBackendNamesTheSetting() throws Exception {
        for (Callable<Backend> call : java.util.List.<Callable<Backend>>of(Backends::select, Backends::requireNative,
                () -> Backends.select(BackendConfig.defaults()))) {
            var e = assertThrows(IllegalArgumentException.class, () -> with("seq4j.backend", " nope ", call));
            assertTrue(e.getMessage().startsWith("-Dseq4j.backend=nope: unknown backend 'nope'; known here: "),
                    e.getMessage());
        }
    }

    /** forcedName() says what select() would force, in the provider's name, and refuses a name as select() does. */
    @Test
    void theForcedNameIsCheckedWithoutCreatingAnything() throws Exception {
        assertEquals(java.util.Optional.of("java"), with("seq4j.backend", " JAVA ", Backends::forcedName));
        var e = assertThrows(IllegalArgumentException.class, () -> with("seq4j.backend", "nope", Backends::forcedName));
        assertTrue(e.getMessage().startsWith("-Dseq4j.backend=nope: unknown backend 'nope'; known here: "),
                e.getMessage());
        assumeTrue(System.getenv("SEQ4J_BACKEND") == null, "SEQ4J_BACKEND is set in this test's environment");
        assertEquals(java.util.Optional.empty(), with("seq4j.backend", " ", Backends::forcedName));
    }

    /** probe() said "its probe failed: java.lang.IllegalArgumentException: ..." for a thread count out of range. */
    @Test
    void aRefusedSettingIsAProbesReasonInItsOwnWords() throws Exception {
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        Backends.Status openblas = with("seq4j.threads", "65", () -> Backends.probe().stream()
                .filter(st -> st.name().equals("openblas")).findFirst().orElseThrow());
        assertEquals(false, openblas.available(), openblas.toString());
        assertTrue(openblas.detail().contains("65") && !openblas.detail().contains("IllegalArgumentException"),
                openblas.detail());
    }

    /** requireNative() took the best native backend whatever -Dseq4j.backend said; forcing java is now refused. */
    @Test
    void requireNativeRefusesAForcedJavaBackend() throws Exception {
        var e = assertThrows(BackendMisconfiguredException.class,
                () -> with("seq4j.backend", "java", Backends::requireNative));
        assertEquals("Backends.requireNative: -Dseq4j.backend=java forces the java reference backend, which "
                + "requireNative() refuses; unset it, or call Backends.select()", e.getMessage());
    }

    @Test
    void requireNativeTakesAForcedNativeBackend() throws Exception {
        TestBackends.get("openblas");
        assertEquals("openblas", with("seq4j.backend", "openblas", () -> name(Backends.requireNative())));
    }

    /** -Dseq4j.threads=abc made create("java") fail, a backend that uses no threads. */
    @Test
    void aThreadCountThatIsNoNumberStopsOnlyTheBackendsThatUseIt() throws Exception {
        assertEquals("java", with("seq4j.threads", "abc", () -> name(Backends.create("java"))));
        assertEquals("java", with("seq4j.threads", "abc",
                () -> with("seq4j.backend", "java", () -> name(Backends.select()))));
        var e = assertThrows(IllegalArgumentException.class,
                () -> with("seq4j.threads", "abc", () -> name(Backends.create("openblas"))));
        assertTrue(e.getMessage().contains("-Dseq4j.threads / SEQ4J_THREADS must be a whole number, got 'abc'"),
                e.getMessage());
    }

    /** new OpenBlasBackend(4) read -Dseq4j.threads too, and failed on 'abc' although its argument replaces it. */
    @Test
    void anExplicitThreadCountDoesNotReadTheThreadSetting() throws Exception {
        BackendConfig c = BackendConfig.fromEnvironment(3, Map.of("seq4j.threads", "abc", "seq4j.cuda.device", "1")::get,
                name -> null);
        assertEquals(new BackendConfig(3, 1, Map.of()), c);
        assertThrows(IllegalArgumentException.class, () -> BackendConfig.fromEnvironment(-1));
        TestBackends.get("openblas"); // skips if OpenBLAS is not available here
        assertEquals(2, with("seq4j.threads", "abc", () -> {
            try (var b = new org.seq4j.backend.openblas.OpenBlasBackend(2)) {
                return b.threads();
            }
        }));
    }
}
