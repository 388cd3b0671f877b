// How backends load where the machine is unfriendly, each case in a fresh JVM (ChildJvm), so that libraries
// load from scratch: a cache folder that cannot be written (the libraries go to a temporary folder instead),
// Backends.requireNative() with and without a native backend to be had, and a JVM that denies seq4j native access
// (--illegal-native-access=deny without --enable-native-access), on the class path and on the module path.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.bindings.cblas.cblas_h;
import org.seq4j.testing.BackendChoices;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

public class NativeLoadingTest {
    @TempDir
    Path dir;

    /**
     * The child: prints "strict: NAME" or "strict failed: MESSAGE", then "select: NAME", then "openblas: NAME" or
     * "openblas failed: MESSAGE" (asked for by name: where a GPU is found, select() takes cuda first).
     */
    public static void main(String[] args) {
        try (Backend b = Backends.requireNative()) {
            System.out.println("strict: " + b.name());
        } catch (BackendUnavailableException e) {
            System.out.println("strict failed: " + e.getMessage());
        }
        try (Backend b = Backends.select()) {
            System.out.println("select: " + b.name());
        }
        try (Backend b = Backends.create("openblas")) {
            System.out.println("openblas: " + b.name());
        } catch (BackendUnavailableException e) {
            System.out.println("openblas failed: " + e.getMessage());
        }
    }

    private ChildJvm.Result child(String classPath, String... jvmOptions) throws Exception {
        List<String> options = new java.util.ArrayList<>(List.of(jvmOptions));
        if (classPath != null) {
            options.addAll(List.of("-cp", classPath)); // a later -cp replaces ChildJvm's own
        }
        return ChildJvm.run(dir, Duration.ofSeconds(120), options, NativeLoadingTest.class.getName());
    }

    @Test
    void anUnwritableCacheFolderFallsBackToATemporaryFolder() throws Exception {
        TestBackends.get("openblas"); // skips, with the reason, where openblas cannot load at all
        Path readOnly = Files.createDirectories(dir.resolve("ro"));
        Files.writeString(readOnly.resolve("blocker"), "a file where the cache folder would be");
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        // a cache "folder" below a regular file can never be created, even by root
        ChildJvm.Result r = child(null, "-Dseq4j.cache=" + readOnly.resolve("blocker").resolve("seq4j"),
                "-Djava.io.tmpdir=" + tmp);
        assertEquals(0, r.exitCode(), r.toString());
        // and the temporary folders go when the JVM exits: every run used to leave two empty ones per library
        try (var left = Files.walk(tmp)) {
            assertEquals(List.of(tmp), left.toList(), "left behind in the temporary folder");
        }
        assertTrue(r.out().contains("openblas: openblas"), r.toString());
        // and the choices by rank still end on a native backend (openblas, or cuda where a GPU is found)
        assertTrue(r.out().contains("strict: ") && !r.out().contains("strict failed")
                && r.out().contains("select: ") && !r.out().contains("select: java"), r.toString());
    }

    @Test
    void requireNativeThrowsWhereOnlyTheJavaBackendLoads() throws Exception {
        TestBackends.get("openblas");
        assumeNoSystemOpenBlas();
        // without OpenBLAS's jar (and with no system OpenBLAS) no native backend can load
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(s -> !s.contains("bytedeco" + File.separator + "openblas")
                        && !Path.of(s).getFileName().toString().startsWith("openblas-"))
                .collect(Collectors.joining(File.pathSeparator));
        ChildJvm.Result r = child(classPath);
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("strict failed: no native backend loads here: openblas: "), r.toString());
        assertTrue(r.out().contains("select: java"), "select() still falls back: " + r);
        assertTrue(r.err().contains("WARNING") && r.err().contains("falling back to the slow java reference backend"),
                "and says so at WARNING: " + r);
    }

    /**
     * Native access denied, on the class path: the first binding class initialised threw ExceptionInInitializerError
     * with no message, and every later call NoClassDefFoundError for the life of the JVM. Now openblas is unavailable
     * with the flag to add, select() falls back to java, and each later call says the same.
     */
    @Test
    void deniedNativeAccessOnTheClassPathNamesTheFlag() throws Exception {
        ChildJvm.Result r = ChildJvm.runWithoutNativeAccess(dir, Duration.ofSeconds(120),
                List.of("--illegal-native-access=deny"), BackendChoices.class.getName());
        assertDeniedNamesTheFlag(r, "--enable-native-access=ALL-UNNAMED");
    }

    /**
     * The same with seq4j-core and its bindings on the module path: the flag names the modules; also where only the
     * bindings have native access (System.load, in org.seq4j.core, threw a raw IllegalCallerException).
     */
    @Test
    void deniedNativeAccessOnTheModulePathNamesTheModules() throws Exception {
        ChildJvm.Result r = ChildJvm.runWithoutNativeAccess(dir, Duration.ofSeconds(120),
                modulePath(false, "--illegal-native-access=deny"), BackendChoices.class.getName());
        assertDeniedNamesTheFlag(r, "--enable-native-access=org.seq4j.bindings,org.seq4j.core");
        ChildJvm.Result half = ChildJvm.runWithoutNativeAccess(dir, Duration.ofSeconds(120), modulePath(false,
                "--illegal-native-access=deny", "--enable-native-access=org.seq4j.bindings"),
                BackendChoices.class.getName());
        assertTrue(half.out().contains("native access is denied to module org.seq4j.core"), half.toString());
        assertTrue(half.out().contains("openblas again failed: " + BackendUnavailableException.class.getName()
                + ": cannot load the seq4j C kernels: native access is denied to module org.seq4j.core"),
                half.toString());
        assertTrue(half.out().contains("select: java"), half.toString());
    }

    /** And the flags those messages name are enough: with them, the same JVMs get openblas. */
    @Test
    void theFlagsTheMessagesNameAreEnough() throws Exception {
        TestBackends.get("openblas");
        ChildJvm.Result cp = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("--illegal-native-access=deny"),
                BackendChoices.class.getName()); // ChildJvm.run passes --enable-native-access=ALL-UNNAMED
        assertTrue(cp.out().contains("openblas: openblas"), cp.toString());
        ChildJvm.Result mp = ChildJvm.runWithoutNativeAccess(dir, Duration.ofSeconds(120), modulePath(true,
                "--illegal-native-access=deny", "--enable-native-access=org.seq4j.bindings,org.seq4j.core"),
                BackendChoices.class.getName());
        assertTrue(mp.out().contains("openblas: openblas"), mp.toString());
    }

    private static void assertDeniedNamesTheFlag(ChildJvm.Result r, String flag) {
        assertEquals(0, r.exitCode(), r.toString());
        assertFalse(r.toString().contains("ExceptionInInitializerError")
                || r.toString().contains("NoClassDefFoundError"), r.toString());
        assertTrue(r.out().contains("probe openblas: false: native access is denied to "), r.toString());
        assertTrue(r.out().contains("select: java"), "select() falls back, as for a missing library: " + r);
        String unavailable = BackendUnavailableException.class.getName();
        for (String call : List.of("probe openblas: false", "strict failed: " + unavailable,
                "openblas failed: " + unavailable, "openblas again failed: ", "maxThreads failed: ")) {
            String line = r.out().lines().filter(l -> l.startsWith(call)).findFirst().orElse("(no line " + call + ")");
            assertTrue(line.contains(flag), line + "\n" + r);
        }
    }

    /**
     * JVM options that put seq4j-core and its bindings (and, with openblasJar, OpenBLAS's platform jar, which no module
     * requires) on the module path, and only the test classes on the class path.
     */
    private static List<String> modulePath(boolean openblasJar, String... options) throws Exception {
        List<String> path = new java.util.ArrayList<>(List.of(location(cblas_h.class), location(Backends.class)));
        if (openblasJar) {
            Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                    .filter(s -> Path.of(s).getFileName().toString().startsWith("openblas-")).forEach(path::add);
        }
        List<String> out = new java.util.ArrayList<>(List.of(options));
        out.addAll(List.of("-p", String.join(File.pathSeparator, path), "--add-modules", "org.seq4j.core",
                "-cp", location(BackendChoices.class))); // a later -cp replaces ChildJvm's own
        return out;
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private static void assumeNoSystemOpenBlas() {
        org.junit.jupiter.api.Assumptions.assumeTrue(List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                        "/usr/lib64", "/usr/lib", "/usr/lib/x86_64-linux-gnu/openblas-pthread").stream()
                .noneMatch(f -> Files.exists(Path.of(f, "libopenblas.so.0"))), "a system OpenBLAS is installed");
    }
}
