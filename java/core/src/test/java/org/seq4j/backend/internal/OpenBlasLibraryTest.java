// The OpenBLAS load order (explicit path, system library, Maven artifact) as a pure decision, and the
// real thing in fresh JVMs: the artifact fallback and an explicit -Dseq4j.openblas both load and multiply.
package org.seq4j.backend.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.BackendConfig;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.Backends;
import org.seq4j.backend.openblas.OpenBlasBackend;
import org.seq4j.testing.LoadOpenBlas;
import org.seq4j.testing.TestBackends;

class OpenBlasLibraryTest {
    private static final Path NO_ARTIFACT_CALLED = Path.of("/artifact/must/not/be/used");

    @Test
    void explicitPropertyWinsOverEverything(@TempDir Path dir) throws IOException {
        Path lib = Files.createFile(dir.resolve("libopenblas.so.0"));
        var where = OpenBlasLibrary.locate(Map.of("seq4j.openblas", lib.toString())::get,
                Map.of("SEQ4J_OPENBLAS", "/elsewhere", "LD_LIBRARY_PATH", dir.toString()), files -> NO_ARTIFACT_CALLED);
        assertEquals(OpenBlasBackend.Source.EXPLICIT, where.source());
        assertEquals(lib, where.path());
    }

    @Test
    void environmentVariableIsTheSecondWayToBeExplicit(@TempDir Path dir) throws IOException {
        Path lib = Files.createFile(dir.resolve("my-openblas.so"));
        var where = OpenBlasLibrary.locate(k -> null, Map.of("SEQ4J_OPENBLAS", lib.toString()), files -> NO_ARTIFACT_CALLED);
        assertEquals(OpenBlasBackend.Source.EXPLICIT, where.source());
    }

    @Test
    void explicitPathThatIsNotAFileIsAnError(@TempDir Path dir) {
        Path missing = dir.resolve("nope.so");
        var e = assertThrows(BackendUnavailableException.class, () -> OpenBlasLibrary.locate(
                Map.of("seq4j.openblas", missing.toString())::get, Map.of(), files -> NO_ARTIFACT_CALLED));
        assertTrue(e.getMessage().contains("-Dseq4j.openblas") && e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void systemLibraryOnTheLoaderPathComesSecond(@TempDir Path dir) throws IOException {
        Path lib = Files.createFile(dir.resolve("libopenblas.so.0"));
        var where = OpenBlasLibrary.locate(k -> null, Map.of("LD_LIBRARY_PATH", "/no/such/dir:" + dir), files -> NO_ARTIFACT_CALLED);
        assertEquals(OpenBlasBackend.Source.SYSTEM, where.source());
        assertEquals(lib, where.path());
        assertEquals(1, where.skipped().size(), "the explicit path was passed over, with a reason");
    }

    @Test
    void mavenArtifactIsTheFallbackAndSaysWhatWasSkipped() {
        boolean systemHasOne = OpenBlasLibrary.SYSTEM_FOLDERS.stream()
                .anyMatch(f -> Files.isRegularFile(Path.of(f, OpenBlasLibrary.SONAME)));
        assumeTrue(!systemHasOne, "this machine has a system libopenblas.so.0, which comes before the artifact");
        List<List<String>> asked = new ArrayList<>();
        var where = OpenBlasLibrary.locate(k -> null, Map.of(), files -> {
            asked.add(files);
            return Path.of("/cache/openblas-x");
        });
        assertEquals(OpenBlasBackend.Source.MAVEN_ARTIFACT, where.source());
        assertEquals(Path.of("/cache/openblas-x/libopenblas.so.0"), where.path());
        assertEquals(List.of(OpenBlasLibrary.ARTIFACT_FILES), asked, "the artifact's libraries, libgfortran included");
        assertEquals(2, where.skipped().size());
    }

    /** A build with 64-bit integers is refused by its configuration; the usual builds' configurations pass. */
    @Test
    void anOpenBlasOf64BitIntegersIsRefused() {
        Path p = Path.of("/x/libopenblas64.so.0");
        String why = OpenBlasLibrary.int64Refusal(p, "OpenBLAS 0.3.21  USE64BITINT DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64");
        assertTrue(why != null && why.startsWith(p + " is an OpenBLAS built with 64-bit integers") && why.contains(
                "libopenblas0"), why);
        assertEquals(null, OpenBlasLibrary.int64Refusal(p, "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64"));
        assertEquals(null, OpenBlasLibrary.int64Refusal(p, "?"));
    }

    /**
     * Debian's ILP64 OpenBLAS (libopenblas64-0-pthread: cblas_sgemm under its usual name, every size a 64-bit integer)
     * given as the explicit library: refused in a fresh JVM, naming why, before any product. It loaded and passed the
     * cblas_sgemm check before, and every product then read its 32-bit sizes as 64-bit ones.
     */
    @Test
    void debiansIlp64BuildIsRefusedInAFreshJvm() throws Exception {
        Path ilp64 = Path.of("/usr/lib/x86_64-linux-gnu/openblas64-pthread/libopenblas64.so.0");
        assumeTrue(Files.isRegularFile(ilp64), "no " + ilp64 + " (apt-get install libopenblas64-0-pthread to run this "
                + "test; .ci/run does)");
        Child c = child(List.of("-Dseq4j.openblas=" + ilp64));
        assertTrue(c.exit() != 0 && c.out().contains(ilp64 + " is an OpenBLAS built with 64-bit integers")
                && !c.out().contains("product="), c.out());
    }

    /**
     * Debian's reference BLAS (libblas3) has cblas_sgemm but none of OpenBLAS's own functions: given as the explicit
     * library it passed the cblas_sgemm check, and the first thread setting died in a binding's class initialiser
     * (ExceptionInInitializerError, a 25-line stack trace, in every command). Now refused in one line, naming what it
     * lacks.
     */
    @Test
    void aReferenceBlasIsRefusedInAFreshJvm() throws Exception {
        Path reference = Path.of("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3");
        assumeTrue(Files.isRegularFile(reference), "no " + reference + " (apt-get install libblas3 to run this test; "
                + ".ci/run does)");
        Child c = child(List.of("-Dseq4j.openblas=" + reference));
        assertTrue(c.exit() != 0 && c.out().contains(reference + " has cblas_sgemm but no openblas_get_config, "
                + "openblas_get_corename, openblas_get_num_threads, openblas_set_num_threads: it is another BLAS")
                && !c.out().contains("ExceptionInInitializerError") && !c.out().contains("product="), c.out());
    }

    /** A child JVM's exit code and output (stdout and stderr together). */
    private record Child(int exit, String out) {
    }

    /** Runs LoadOpenBlas in a fresh JVM with the given extra JVM options. */
    private static Child child(List<String> jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        cmd.addAll(jvmOptions);
        cmd.add(LoadOpenBlas.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        return new Child(p.exitValue(), out);
    }

    /** As child, which must succeed; returns its output. */
    private static String runFresh(List<String> jvmOptions) throws Exception {
        Child c = child(jvmOptions);
        assertEquals(0, c.exit(), "child JVM failed:\n" + c.out());
        return c.out();
    }

    @Test
    void defaultLoadInAFreshJvmMultiplies() throws Exception {
        String out = runFresh(List.of());
        assertTrue(out.contains("product=7.0,10.0,15.0,22.0"), out);
    }

    @Test
    void explicitPathLoadsInAFreshJvm() throws Exception {
        // use the library that this JVM loaded (extracted from the artifact, or the system's) as the explicit one
        Path loaded = ((OpenBlasBackend) TestBackends.get("openblas")).location().path();
        String out = runFresh(List.of("-Dseq4j.openblas=" + loaded));
        assertTrue(out.contains("source=EXPLICIT path=" + loaded), out);
        assertTrue(out.contains("product=7.0,10.0,15.0,22.0"), out);
    }

    /**
     * Once this JVM has loaded an OpenBLAS, a backend configured with another file is refused (it ran on the first
     * library before, while its configuration named the other); the file loaded, under any name, is accepted.
     */
    @Test
    void aPathOtherThanTheLoadedOneIsRefused(@TempDir Path dir) throws IOException {
        Path loaded = ((OpenBlasBackend) TestBackends.get("openblas")).location().path();
        Path other = Files.writeString(dir.resolve("libopenblas.so.0"), "not the loaded one");
        for (Path p : List.of(other, dir.resolve("missing.so"), dir)) {
            var e = assertThrows(BackendMisconfiguredException.class, () -> Backends.create("openblas",
                    new BackendConfig(0, 0, Map.of(BackendConfig.OPENBLAS, p))).close());
            assertTrue(e.getMessage().contains("names " + p + ", but this JVM already loaded OpenBLAS from " + loaded),
                    e.getMessage());
        }
        Path link = Files.createSymbolicLink(dir.resolve("link.so"), loaded);
        for (Path p : List.of(loaded, link)) {
            try (var b = Backends.create("openblas", new BackendConfig(0, 0, Map.of(BackendConfig.OPENBLAS, p)))) {
                assertEquals(loaded, ((OpenBlasBackend) b).location().path());
            }
        }
    }

    @Test
    void systemLibraryLoadsInAFreshJvmWhenInstalled() throws Exception {
        Path system = OpenBlasLibrary.SYSTEM_FOLDERS.stream().map(f -> Path.of(f, OpenBlasLibrary.SONAME))
                .filter(Files::isRegularFile).findFirst().orElse(null);
        assumeTrue(system != null, "no system libopenblas.so.0 in " + OpenBlasLibrary.SYSTEM_FOLDERS
                + " (apt-get install libopenblas0 to run this test)");
        String out = runFresh(List.of());
        assertTrue(out.contains("source=SYSTEM"), out);
        assertTrue(out.contains("product=7.0,10.0,15.0,22.0"), out);
    }
}
