// The extraction cache (~/.cache/seq4j, or -Dseq4j.cache): each new library content gets a folder of its own, so
// every upgrade used to leave its predecessors there forever (208 MB seen). Now a load touches the folder it uses,
// and extracting a new folder prunes seq4j's own folders that no load touched for -Dseq4j.cache.keepDays (30), and
// leftovers of extractions that died. Also: two JVMs extracting into an empty cache at once both load.
package org.seq4j.backend.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

public class NativeCacheTest {
    @TempDir
    Path dir;
    private Path cache;
    private String savedCache;
    private String savedKeep;

    @BeforeEach
    void useATemporaryCache() throws Exception {
        cache = Files.createDirectories(dir.resolve("cache"));
        savedCache = System.getProperty("seq4j.cache");
        savedKeep = System.getProperty("seq4j.cache.keepDays");
        System.setProperty("seq4j.cache", cache.toString());
        System.clearProperty("seq4j.cache.keepDays");
    }

    @AfterEach
    void restore() {
        restore("seq4j.cache", savedCache);
        restore("seq4j.cache.keepDays", savedKeep);
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    private static final Instant NOW = Instant.now();

    private Path folder(String name, Duration age, String... files) throws Exception {
        Path f = Files.createDirectories(cache.resolve(name));
        for (String file : files) {
            Files.writeString(f.resolve(file), "library");
        }
        Files.setLastModifiedTime(f, FileTime.from(NOW.minus(age)));
        return f;
    }

    private Set<String> left() throws Exception {
        try (var list = Files.list(cache)) {
            return list.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    /** A class loader with one loose library file, lib/libx.so, holding {@code content}. */
    private ClassLoader loaderWith(String content) throws Exception {
        Path root = Files.createTempDirectory(dir, "classes");
        Files.createDirectories(root.resolve("lib"));
        Files.writeString(root.resolve("lib/libx.so"), content);
        return new URLClassLoader(new URL[] {root.toUri().toURL()}, null);
    }

    @Test
    void extractingANewFolderPrunesOnlySeq4jsFoldersUnusedForThirtyDays() throws Exception {
        Duration old = Duration.ofDays(31), recent = Duration.ofDays(29);
        folder("seq4j-cpu-00000000000000aa", old, "libseq4j_cpu.so");       // an old upgrade: goes
        folder("openblas-00000000000000bb", old, "libopenblas.so.0", "libgfortran.so.5"); // goes
        folder("seq4j-cuda-00000000000000cc", recent, "libseq4j_cuda.so");  // used 29 days ago: stays
        folder("seq4j-cpu-tmp-123456", Duration.ofDays(2), "libseq4j_cpu.so"); // a dead extraction: goes
        folder("seq4j-cpu-tmp-654321", Duration.ofMinutes(1), "libseq4j_cpu.so"); // one under way: stays
        // not of seq4j's naming, or not a folder of files only: stay, however old
        folder("mine-00000000000000dd", old, "x");
        folder("openblas-0000000000000", old, "x");
        folder("openblas-00000000000000ee.bak", old, "x");
        Path nested = folder("seq4j-cpu-00000000000000ff", old);
        Files.createDirectories(nested.resolve("sub"));
        Files.setLastModifiedTime(nested, FileTime.from(NOW.minus(old)));
        Files.writeString(cache.resolve("openblas-0000000000000011"), "a file, not a folder");
        Files.setLastModifiedTime(cache.resolve("openblas-0000000000000011"), FileTime.from(NOW.minus(old)));

        Path fresh = NativeLibraries.extract(loaderWith("v2"), "lib/", List.of("libx.so"), "seq4j-cpu");

        assertEquals(new TreeSet<>(List.of(fresh.getFileName().toString(), "seq4j-cuda-00000000000000cc",
                "seq4j-cpu-tmp-654321", "mine-00000000000000dd", "openblas-0000000000000",
                "openblas-00000000000000ee.bak", "seq4j-cpu-00000000000000ff", "openblas-0000000000000011")), left());
        assertEquals("v2", Files.readString(fresh.resolve("libx.so")));
    }

    @Test
    void keepDaysZeroKeepsEverything() throws Exception {
        System.setProperty("seq4j.cache.keepDays", "0");
        folder("seq4j-cpu-00000000000000aa", Duration.ofDays(400), "libseq4j_cpu.so");
        NativeLibraries.extract(loaderWith("v2"), "lib/", List.of("libx.so"), "seq4j-cpu");
        assertTrue(left().contains("seq4j-cpu-00000000000000aa"), left().toString());
    }

    @Test
    void aLoadTouchesTheFolderItUsesSoThatItIsNotPruned() throws Exception {
        ClassLoader v1 = loaderWith("v1");
        Path first = NativeLibraries.extract(v1, "lib/", List.of("libx.so"), "seq4j-cpu");
        Files.setLastModifiedTime(first, FileTime.from(NOW.minus(Duration.ofDays(40))));
        assertEquals(first, NativeLibraries.extract(v1, "lib/", List.of("libx.so"), "seq4j-cpu"), "reused");
        assertTrue(Files.getLastModifiedTime(first).toInstant().isAfter(NOW.minus(Duration.ofHours(1))),
                "touched on use: " + Files.getLastModifiedTime(first));
        Path second = NativeLibraries.extract(loaderWith("v2"), "lib/", List.of("libx.so"), "seq4j-cpu");
        assertEquals(Set.of(first.getFileName().toString(), second.getFileName().toString()), left(),
                "the folder in use stays");
    }

    @Test
    void aFolderMissingAFileIsExtractedAgain() throws Exception {
        ClassLoader v1 = loaderWith("v1");
        Path first = NativeLibraries.extract(v1, "lib/", List.of("libx.so"), "seq4j-cpu");
        Files.delete(first.resolve("libx.so")); // by hand, or a pruner that died half way
        Path again = NativeLibraries.extract(v1, "lib/", List.of("libx.so"), "seq4j-cpu");
        assertEquals(first, again);
        assertEquals("v1", Files.readString(again.resolve("libx.so")));
        assertEquals(Set.of(first.getFileName().toString()), left(), "nothing set aside is left");
    }

    /**
     * A cached library cut short (a power loss after an extraction that never reached the disk, a restore from a full
     * disk) was loaded as it was, and the JVM died of SIGBUS in the dynamic linker mapping it. A file of another size
     * than its resource now makes the folder be extracted again: for a loose file (sized by reading it) and a jar entry
     * (sized by the jar's directory).
     */
    @Test
    void aFolderHoldingAFileCutShortIsExtractedAgain() throws Exception {
        String library = "a library of forty-odd bytes, to be cut short";
        Path jar = dir.resolve("libs.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new java.util.jar.JarEntry("lib/libx.so"));
            out.write(library.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.closeEntry();
        }
        for (ClassLoader loader : List.of(loaderWith(library), new URLClassLoader(new URL[] {jar.toUri().toURL()},
                null))) {
            Path first = NativeLibraries.extract(loader, "lib/", List.of("libx.so"), "seq4j-cpu");
            Files.writeString(first.resolve("libx.so"), library.substring(0, 20));
            Path again = NativeLibraries.extract(loader, "lib/", List.of("libx.so"), "seq4j-cpu");
            assertEquals(first, again);
            assertEquals(library, Files.readString(again.resolve("libx.so")), "extracted again, whole");
        }
    }

    @Test
    void pruningAFolderThatIsGoneOrUnreadableNeverThrows() throws Exception {
        Files.writeString(dir.resolve("root-is-a-file"), "x");
        NativeLibraries.prune(dir.resolve("root-is-a-file"), dir.resolve("x"), NOW);
        NativeLibraries.prune(dir.resolve("missing"), dir.resolve("x"), NOW);
        System.setProperty("seq4j.cache.keepDays", "thirty");
        folder("seq4j-cpu-00000000000000aa", Duration.ofDays(400), "libseq4j_cpu.so");
        NativeLibraries.prune(cache, cache.resolve("x"), NOW); // a bad setting: prunes nothing, throws nothing
        assertFalse(left().isEmpty());
    }

    @Test
    void aKeepDaysPastTheClocksRangeKeepsEveryFolderAndNeverThrows() throws Exception {
        folder("seq4j-cpu-00000000000000aa", Duration.ofDays(400), "libseq4j_cpu.so");
        folder("seq4j-cpu-tmp-123456", Duration.ofDays(2), "libseq4j_cpu.so"); // a dead extraction: still goes
        for (String days : List.of("1000000000000", "106751991167300", String.valueOf(Long.MAX_VALUE))) {
            System.setProperty("seq4j.cache.keepDays", days);
            NativeLibraries.prune(cache, cache.resolve("x"), NOW); // threw DateTimeException or ArithmeticException
            assertEquals(Set.of("seq4j-cpu-00000000000000aa"), left(), days);
        }
    }

    /** Child: loads openblas (with the cache of -Dseq4j.cache) and prints its description. */
    public static void main(String[] args) {
        try (Backend b = Backends.create("openblas")) {
            System.out.println("loaded: " + b.description());
        }
    }

    @Test
    void aBadKeepDaysIsOneWarningAndTheLibrariesStillLoad() throws Exception {
        TestBackends.get("openblas");
        Path empty = Files.createDirectories(dir.resolve("bad-keep-days"));
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120),
                List.of("-Dseq4j.cache=" + empty, "-Dseq4j.cache.keepDays=thirty"), NativeCacheTest.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("loaded: "), r.toString());
        assertTrue(r.err().contains("WARNING: not pruning the native library cache: -Dseq4j.cache.keepDays=thirty: "
                + "expected a whole number of days (0 or less: never prune the cache)"), r.toString());
        // once, though the child extracts two libraries (OpenBLAS and seq4j's kernels), each followed by a prune
        assertEquals(1, r.err().lines().filter(l -> l.contains("not pruning the native library cache")).count(),
                r.toString());
    }

    /** Child: loads openblas and lists the seq4j folders of java.io.tmpdir while its libraries are loaded. */
    public static final class TemporaryFolderChild {
        public static void main(String[] args) throws java.io.IOException {
            try (Backend b = Backends.create("openblas");
                 var list = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
                System.out.println("loaded: " + b.description());
                list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("seq4j-")).sorted()
                        .forEach(n -> System.out.println("temporary: " + n));
            }
        }
    }

    /**
     * README, "The native library cache": where the cache cannot be written, the libraries go to a temporary folder
     * deleted when the JVM exits. Here the cache's path runs through a regular file, so no folder can be made there
     * (running as root, a folder without write permission would still be written).
     */
    @Test
    void aCacheThatCannotBeWrittenLoadsFromATemporaryFolderGoneAtExit() throws Exception {
        TestBackends.get("openblas");
        Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
        Path tmp = Files.createDirectories(dir.resolve("java-tmp"));
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120),
                List.of("-Dseq4j.cache=" + file.resolve("cache"), "-Djava.io.tmpdir=" + tmp),
                TemporaryFolderChild.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("loaded: "), r.toString());
        assertTrue(r.out().contains("temporary: seq4j-seq4j-cpu-"), "seq4j's kernels from a temporary folder: " + r);
        assertEquals("x", Files.readString(file), "the file in the cache's path as it was");
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.map(p -> p.getFileName().toString()).toList(),
                    "the temporary folders are deleted when the JVM exits");
        }
    }

    /** Child: loads openblas and prints the message of the UncheckedIOException that refused it. */
    public static final class RefusedChild {
        public static void main(String[] args) {
            try (Backend b = Backends.create("openblas")) {
                System.out.println("loaded: " + b.description());
            } catch (java.io.UncheckedIOException e) {
                System.out.println("refused: " + e.getMessage());
            }
        }
    }

    /**
     * Where neither the cache nor java.io.tmpdir can be written, the message names both folders and why: it said only
     * "cannot extract native libraries into /x/seq4j/seq4j-cpu-... nor into a temporary folder", the reasons in its
     * cause and a suppressed exception, which `seq4j info` (its openblas line, Backends.probe's detail) did not show.
     */
    @Test
    void aCacheAndATemporaryFolderThatCannotBeWrittenAreNamedWithTheirReasons() throws Exception {
        TestBackends.get("openblas");
        Path file = Files.writeString(dir.resolve("not-a-folder-either"), "x");
        Path cacheRoot = file.resolve("cache"), tmp = file.resolve("tmp");
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120),
                List.of("-Dseq4j.cache=" + cacheRoot, "-Djava.io.tmpdir=" + tmp), RefusedChild.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        String q = java.util.regex.Pattern.quote(cacheRoot.toString()), t = java.util.regex.Pattern.quote(tmp.toString());
        String expected = "refused: cannot extract native libraries into " + q + "/(seq4j-cpu|openblas)-[0-9a-f]{16} \\("
                + q + ": [^)]+\\) nor into a temporary folder in java.io.tmpdir " + t + " \\(" + t + "/seq4j-[^ )]+: "
                + "[^)]+\\); make one of them writable, or set -Dseq4j.cache to a writable folder";
        assertTrue(r.out().strip().matches(expected), r.toString());
    }

    @Test
    void twoJvmsExtractingIntoAnEmptyCacheAtOnceBothLoad() throws Exception {
        TestBackends.get("openblas");
        Path shared = Files.createDirectories(dir.resolve("shared"));
        var a = new java.util.concurrent.FutureTask<>(() -> ChildJvm.run(dir, Duration.ofSeconds(120),
                List.of("-Dseq4j.cache=" + shared), NativeCacheTest.class.getName()));
        var b = new java.util.concurrent.FutureTask<>(() -> ChildJvm.run(dir, Duration.ofSeconds(120),
                List.of("-Dseq4j.cache=" + shared), NativeCacheTest.class.getName()));
        Thread.ofPlatform().start(a);
        Thread.ofPlatform().start(b);
        for (ChildJvm.Result r : List.of(a.get(), b.get())) {
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.out().contains("loaded: "), r.toString());
            assertFalse(r.out().contains("/tmp/seq4j-"), "fell back to a temporary folder: " + r);
        }
        try (var list = Files.list(shared)) {
            List<String> names = list.map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(names.stream().noneMatch(n -> n.contains("-tmp-")), "temporary folders left: " + names);
        }
    }

    /**
     * The cache folder: -Dseq4j.cache, else $XDG_CACHE_HOME/seq4j where that is absolute, else ~/.cache/seq4j. A relative
     * XDG_CACHE_HOME, which the XDG specification calls invalid, was taken from the working folder: one cache per folder
     * a program ran in, each extracted again.
     */
    @Test
    void theCacheRootPassesOverARelativeXdgCacheHome() {
        assertEquals(Path.of("/c/seq4j"), NativeLibraries.cacheRoot(null, "/c", "/home/u"));
        assertEquals(Path.of("/e"), NativeLibraries.cacheRoot("/e", "/c", "/home/u"));
        assertEquals(Path.of("rel-explicit"), NativeLibraries.cacheRoot("rel-explicit", "/c", "/home/u"));
        for (String unused : new String[] {null, "", " ", "cache", "./cache", "~/.cache"}) {
            assertEquals(Path.of("/home/u/.cache/seq4j"), NativeLibraries.cacheRoot(null, unused, "/home/u"),
                    "XDG_CACHE_HOME=" + unused);
        }
    }
}
