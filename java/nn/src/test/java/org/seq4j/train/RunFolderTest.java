// RunFolder: a killed run's temporary files are removed when the folder is opened again; a place that
// cannot be written fails at open() with the reason; and a run closed or interrupted before keep() leaves
// nothing behind and puts back the files it replaced.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.io.AtomicOutput;

class RunFolderTest {
    @TempDir
    Path dir;

    private static Set<String> names(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    /** The files the runs of these tests write (the command line's train names its own). */
    static final Set<String> FILES = Set.of("model.npz", "best.npz", "metrics.csv", "chart.png", "vocabulary.txt",
            "addition.txt");

    @Test
    void staleTemporaryFilesOfAKilledRunAreRemoved() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        // what a kill during AtomicOutput (the chart's too), or with a file kept aside, or during open's probe, or during
        // a chart of an older version leaves behind
        List<String> stale = new java.util.ArrayList<>(List.of(".model.npz.00000003k2j9x.tmp",
                ".metrics.csv.000000000001a.tmp", ".best.npz.3w5e11264sgsf.tmp", ".vocabulary.txt.0000000000000.tmp",
                ".best.npz.00000000000k3.kept.tmp", ".seq4j-probe.00000000000zz.tmp", ".chart.123.tmp", ".chart.123.tmp.png", ".chart4567", ".chart4567.png",
                ".chart.17505759788855320138.tmp", ".chart.17505759788855320138.tmp.png"));
        // the names seq4j's writers give, as they give them
        try (AtomicOutput out = AtomicOutput.open(run.resolve("chart.png"))) {
            stale.add(out.tempFile().getFileName().toString());
        }
        stale.add(AtomicOutput.temporaryName("addition.txt", ".kept"));
        for (String s : stale) {
            Files.write(run.resolve(s), new byte[1000]);
        }
        List<String> kept = new java.util.ArrayList<>(List.of("model.npz", "notes.tmp", ".hidden", "data.tmp.txt",
                ".notes.tmp", ".draft.tmp", ".a.B.tmp"));   // a user's own hidden temporary files are not stale
        // nor those of the old pattern's shapes: not a temporary of a file the run writes, or not in the writer's form
        // (upper case, fewer or more than 13 digits (the random part is zero-padded to 13: "old" was one), past
        // 2^64 - 1; the chart's decimals likewise)
        kept.addAll(List.of(".notes.old.tmp", ".draft.v2.tmp", ".emacs.d.tmp", ".notes.txt.3k2j9x.tmp",
                ".model.npz.3K2J9X.tmp", ".model.npz.03k.tmp", ".model.npz.3k2j9x.tmp", ".model.npz.old.tmp",
                ".model.npz.3w5e11264sgsg.tmp",
                ".model.npz.12345678901234.tmp", ".model.npz.tmp", ".model.npz..tmp", ".model.npz.3k.old.tmp",
                ".model.npz.3k.kept.tmp.png", ".notes.3k.kept.tmp", ".chart.0123.tmp", ".chart.18446744073709551616.tmp",
                ".chart.12a.tmp", ".chart.v2.png", ".prediction.png.3k2j9x.tmp"));
        for (String s : kept) {
            Files.writeString(run.resolve(s), "mine");
        }
        // a link of a stale name is not the run's temporary file: neither it nor its target is deleted
        Path target = Files.writeString(dir.resolve("target.txt"), "mine");
        Files.createSymbolicLink(run.resolve(".model.npz.0000000005xq1.tmp"), target);
        kept.add(".model.npz.0000000005xq1.tmp");
        try (RunFolder f = RunFolder.open(run, FILES)) {
            assertEquals(Set.copyOf(stale), f.removedStaleFiles().stream().map(p -> p.getFileName().toString())
                    .collect(Collectors.toSet()));
            assertEquals(union(kept, RunFolder.LOCK), names(run), "the stale files gone, the run's lock there");
            f.keep();
        }
        assertEquals(Set.copyOf(kept), names(run), "the lock gone with the run");
        assertTrue(Files.isSymbolicLink(run.resolve(".model.npz.0000000005xq1.tmp")));
        assertEquals("mine", Files.readString(target));
        for (String s : kept) {
            if (!Files.isSymbolicLink(run.resolve(s))) {
                assertEquals("mine", Files.readString(run.resolve(s)), s);
            }
        }
    }

    /** The temporary names AtomicOutput makes are those it reads back, with their tag; no others. */
    @Test
    void temporaryNamesAreReadBackExactly() {
        for (String name : List.of("model.npz", "chart.png", "a.b.c", "x")) {
            for (String tag : List.of("", ".kept")) {
                for (int i = 0; i < 100; i++) {
                    String temp = AtomicOutput.temporaryName(name, tag);
                    assertEquals(name, AtomicOutput.temporaryOf(temp, tag), temp);
                    // a kept copy's name read without its tag is the temporary of another name ("model.npz.<random>")
                    org.junit.jupiter.api.Assertions.assertNotEquals(name, AtomicOutput.temporaryOf(temp,
                            tag.isEmpty() ? ".kept" : ""), temp);
                }
            }
        }
        assertTrue(RunFolder.isStale(".model.npz.0000000000000.tmp", FILES));
        assertFalse(RunFolder.isStale(".model.npz.0000000000000.tmp", Set.of("best.npz")), "not a file of that run");
        assertFalse(RunFolder.isStale(".chart.123.tmp", Set.of("model.npz")), "no chart in that run");
    }

    private static Set<String> union(List<String> names, String name) {
        Set<String> all = new java.util.HashSet<>(names);
        all.add(name);
        return all;
    }

    /**
     * A symbolic link in the folder (model.npz pointing at another run's) that a run replaces by a file before its
     * first checkpoint is made again by undo: it stayed a regular file, the interrupted run's model, though the message
     * said every file the run replaced was put back (a red-team find). The link's target is never written.
     */
    @Test
    void aLinkTheRunReplacedIsMadeAgainByUndo() throws IOException {
        Path run = Files.createDirectories(dir.resolve("linked"));
        Path target = Files.writeString(dir.resolve("elsewhere.npz"), "another run's model");
        Path link = Files.createSymbolicLink(run.resolve("model.npz"), target);
        try (RunFolder f = RunFolder.open(run, FILES)) {
            f.write("model.npz", file -> replace(file, "this run's model"));
            assertFalse(Files.isSymbolicLink(link));
        }
        assertTrue(Files.isSymbolicLink(link), "the link is back");
        assertEquals(target, Files.readSymbolicLink(link));
        assertEquals("another run's model", Files.readString(target), "its target untouched");
        assertEquals(Set.of("model.npz"), names(run));
    }

    /**
     * Two runs into one folder mixed their files, and both said they had finished: the first one's "best.npz" was the
     * second's model (a red-team find), and the second's open() deleted the first's temporary files as stale. A second
     * open while one run holds the folder is refused with one line, before it touches anything; once the first is
     * closed the folder opens again.
     */
    @Test
    void aSecondRunIntoAFolderInUseIsRefusedBeforeItTouchesAnything() throws IOException {
        Path run = dir.resolve("busy");
        try (RunFolder first = RunFolder.open(run, FILES)) {
            Path live = run.resolve(".model.npz.00000003k2j9x.tmp");   // the first run's file being written
            Files.writeString(live, "half a checkpoint");
            IOException e = assertThrows(IOException.class, () -> RunFolder.open(run, FILES));
            assertEquals("run folder " + run + " is in use by another training run (it holds "
                    + run.resolve(RunFolder.LOCK) + "); wait for that run to end, or write this one to another folder",
                    e.getMessage());
            assertTrue(Files.exists(live), "the second open deleted the first run's temporary file");
            first.write("metrics.csv", file -> replace(file, "epoch"));
            first.keep();
        }
        assertFalse(Files.exists(run.resolve(RunFolder.LOCK)), "the lock file is deleted at close");
        try (RunFolder again = RunFolder.open(run, FILES)) {
            assertTrue(Files.exists(run.resolve(RunFolder.LOCK)));
        }
    }

    @Test
    void closingBeforeKeepRemovesWhatTheRunAddedAndTheFoldersItCreated() throws IOException {
        Path run = dir.resolve("runs/a/b");
        try (RunFolder f = RunFolder.open(run, FILES)) {
            Files.writeString(f.resolve("addition.txt"), "1+1_2");
        }
        assertFalse(Files.exists(dir.resolve("runs")), "runs/a/b and its new parents are gone again");

        Path existing = Files.createDirectories(dir.resolve("existing"));
        Files.writeString(existing.resolve("notes.txt"), "mine");
        try (RunFolder f = RunFolder.open(existing, FILES)) {
            f.write("addition.txt", file -> Files.writeString(file, "1+1_2"));
            // another program's file, written into the folder while the run is open: not the run's to delete (it was)
            Files.writeString(existing.resolve("report.txt"), "not the run's");
        }
        assertEquals(Set.of("notes.txt", "report.txt"), names(existing), "only the run's own files are removed");
        Files.delete(existing.resolve("report.txt"));

        try (RunFolder f = RunFolder.open(existing, FILES)) {
            Files.writeString(f.resolve("model.npz"), "a checkpoint");
            f.keep();
        }
        assertEquals(Set.of("notes.txt", "model.npz"), names(existing), "kept: a run with a checkpoint stays");
    }

    /**
     * settleAtExit, which the command line's interrupt notice calls before it says what the folder keeps: undoes an
     * unkept run (and a keep() after it changes nothing: the next write is refused), leaves a kept one. The notice
     * said "the files this run wrote are removed" while the training thread went on to keep epoch 1's (a red-team find).
     */
    @Test
    void settleAtExitUndoesAnUnkeptRunForGood() throws IOException {
        Path run = dir.resolve("settled");
        try (RunFolder f = RunFolder.open(run, FILES)) {
            f.write("model.npz", file -> replace(file, "epoch 1"));
            assertFalse(f.settleAtExit(), "not kept: undone");
            assertFalse(Files.exists(run.resolve("model.npz")), "its file removed");
            f.keep();   // the training thread, late
            IOException e = assertThrows(IOException.class, () -> f.write("model.npz", file -> replace(file, "2")));
            assertTrue(e.getMessage().contains("the run was undone"), e.getMessage());
        }
        Path kept = dir.resolve("kept");
        try (RunFolder f = RunFolder.open(kept, FILES)) {
            f.write("model.npz", file -> replace(file, "epoch 1"));
            f.keep();
            assertTrue(f.settleAtExit(), "kept");
        }
        assertEquals("epoch 1", Files.readString(kept.resolve("model.npz")));
    }

    /**
     * write takes a file name of the folder and nothing else, and nothing after close(): "../x" and absolute paths
     * wrote outside the folder (left there by a close before keep), and a write after keep() and close() landed with
     * the lock let go (red-team finds).
     */
    @Test
    void writeTakesOnlyAFileOfTheFolderWhileItIsOpen() throws IOException {
        Path run = dir.resolve("confined");
        RunFolder.Write text = file -> replace(file, "x");
        try (RunFolder f = RunFolder.open(run, FILES)) {
            for (String name : new String[] {"../escaped.txt", dir.resolve("abs.txt").toString(), "sub/inner.txt", "..",
                    ".", ""}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.write(name, text),
                        name);
                assertTrue(e.getMessage().startsWith("RunFolder.write: '" + name + "' is not a file name"),
                        e.getMessage());
            }
            // a NUL: the JDK's InvalidPathException with the raw character in its message, before
            IllegalArgumentException nul = assertThrows(IllegalArgumentException.class, () -> f.write("a\0b", text));
            assertTrue(nul.getMessage().startsWith("RunFolder.write: 'a\\0b' is not a file name"), nul.getMessage());
            f.write("model.npz", text);
            f.keep();
            f.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.write("late.txt", text));
            assertTrue(e.getMessage().contains("the run folder was closed"), e.getMessage());
        }
        assertEquals(Set.of("model.npz"), names(run));
        assertEquals(Set.of("confined"), names(dir), "nothing written beside the folder");
    }

    /** Asserts that {@code call} throws {@code type} with a message starting with {@code start}. */
    private static void refused(Class<? extends Throwable> type, String start,
                                org.junit.jupiter.api.function.Executable call) {
        Throwable e = assertThrows(type, call, start);
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(start), e.getMessage());
    }

    @Test
    void nullArgumentsAreRefusedByName() throws IOException {
        Path run = dir.resolve("nulls");
        Set<String> withNull = new java.util.HashSet<>(Set.of("model.npz"));
        withNull.add(null);
        refused(NullPointerException.class, "RunFolder.isStale: name is null",
                () -> RunFolder.isStale(null, Set.of()));
        refused(NullPointerException.class, "RunFolder.isStale: files is null", () -> RunFolder.isStale("a", null));
        refused(NullPointerException.class, "RunFolder.staleFiles: dir is null",
                () -> RunFolder.staleFiles(null, FILES));
        refused(NullPointerException.class, "RunFolder.staleFiles: files is null",
                () -> RunFolder.staleFiles(dir, null));
        refused(NullPointerException.class, "RunFolder.staleFiles: files holds null",
                () -> RunFolder.staleFiles(dir, withNull));
        refused(NullPointerException.class, "RunFolder.open: dir is null", () -> RunFolder.open(null, FILES));
        refused(NullPointerException.class, "RunFolder.open: files is null", () -> RunFolder.open(run, null));
        refused(NullPointerException.class, "RunFolder.open: files holds null", () -> RunFolder.open(run, withNull));
        refused(NullPointerException.class, "RunFolder.reason: e is null", () -> RunFolder.reason(null));
        assertFalse(Files.exists(run), "a refused open() made nothing");
        try (RunFolder f = RunFolder.open(run, FILES)) {
            refused(NullPointerException.class, "RunFolder.resolve: name is null", () -> f.resolve(null));
            refused(NullPointerException.class, "RunFolder.write: name is null", () -> f.write(null, file -> { }));
            refused(NullPointerException.class, "RunFolder.write: write is null", () -> f.write("model.npz", null));
        }
        assertFalse(Files.exists(run), "nothing left");
    }

    @Test
    void namesThatAreNotAPlainFileNameAreRefused() throws IOException {
        Path run = dir.resolve("plain");
        String[] bad = {"../x", dir.resolve("abs.txt").toString(), "/etc/passwd", "", ".", "..", "sub/inner.txt", "a/",
            "./a"};
        try (RunFolder f = RunFolder.open(run, FILES)) {
            for (String name : bad) {
                refused(IllegalArgumentException.class, "RunFolder.resolve: '" + name + "' is not a file name",
                        () -> f.resolve(name));
            }
            refused(IllegalArgumentException.class, "RunFolder.resolve: 'a\\0' is not a file name",
                    () -> f.resolve("a\0"));
            refused(IllegalArgumentException.class, "RunFolder.write: 'a/' is not a file name",
                    () -> f.write("a/", file -> replace(file, "x")));
            assertEquals(run.resolve("model.npz"), f.resolve("model.npz"));
            assertEquals(run.resolve(RunFolder.LOCK), f.resolve(RunFolder.LOCK));
        }
        for (String name : bad) {
            refused(IllegalArgumentException.class, "RunFolder.open: '" + name + "' is not a file name",
                    () -> RunFolder.open(run, Set.of("model.npz", name)));
            refused(IllegalArgumentException.class, "RunFolder.staleFiles: '" + name + "' is not a file name",
                    () -> RunFolder.staleFiles(run, Set.of(name)));
        }
        refused(IllegalArgumentException.class, "RunFolder.open: '\\n/' is not a file name",
                () -> RunFolder.open(run, Set.of("\n/")));
        assertEquals(Set.of(), names(dir), "nothing made");
    }

    /** Writes {@code text} to {@code file} as the run's writers do: a temporary file renamed over it. */
    private static void replace(Path file, String text) throws IOException {
        AtomicOutput.write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * A run into the folder of an earlier run that fails before its first checkpoint: the files it replaced are put
     * back as they were. Only the files it added were deleted: its vocabulary.txt stayed beside the earlier run's
     * checkpoints, and generate read the two together (other words for the same ids).
     */
    @Test
    void closingBeforeKeepPutsBackTheFilesTheRunReplaced() throws IOException {
        Path run = Files.createDirectories(dir.resolve("earlier-run"));
        Files.writeString(run.resolve("vocabulary.txt"), "the\ncat\n");
        Files.writeString(run.resolve("best.npz"), "the earlier run's checkpoint");
        try (RunFolder f = RunFolder.open(run, FILES)) {
            f.write("vocabulary.txt", file -> replace(file, "cat\nthe\n"));
            f.write("vocabulary.txt", file -> replace(file, "cat\nthe\ndog\n")); // kept aside once: the earlier one
            f.write("metrics.csv", file -> replace(file, "epoch"));
            assertEquals("cat\nthe\ndog\n", Files.readString(run.resolve("vocabulary.txt")), "written");
        }
        assertEquals("the\ncat\n", Files.readString(run.resolve("vocabulary.txt")), "put back");
        assertEquals("the earlier run's checkpoint", Files.readString(run.resolve("best.npz")));
        assertEquals(Set.of("vocabulary.txt", "best.npz"), names(run), "nothing added stays, nothing kept aside");

        try (RunFolder f = RunFolder.open(run, FILES)) {
            f.write("vocabulary.txt", file -> replace(file, "a\nb\n"));
            f.write("best.npz", file -> replace(file, "this run's checkpoint"));
            f.keep();
        }
        assertEquals("a\nb\n", Files.readString(run.resolve("vocabulary.txt")), "kept: the run's own");
        assertEquals(Set.of("vocabulary.txt", "best.npz"), names(run), "the copies kept aside are gone");

        // a writer that rewrites in place would change the copy to put back as well: refused, not silently lost
        try (RunFolder f = RunFolder.open(run, FILES)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> f.write("best.npz", file -> Files.writeString(file, "in place")));
            assertTrue(e.getMessage().contains("rewritten in place"), e.getMessage());
        }
    }

    @Test
    void aFileInTheWayIsNamedWithTheReason() throws IOException {
        Path file = Files.writeString(dir.resolve("taken"), "a file");
        IOException e = assertThrows(IOException.class, () -> RunFolder.open(file, FILES));
        assertTrue(e.getMessage().startsWith("cannot create run folder " + file + ": ") && e.getMessage().length()
                > ("cannot create run folder " + file + ": ").length(), e.getMessage());
        assertEquals("a file", Files.readString(file));
    }

    @Test
    void anUnwritablePlaceFailsAtOpenWithTheReason() {
        // Linux's sysfs refuses new folders and files even to root (file permissions would not stop root)
        Path sys = Path.of("/sys/kernel");
        assumeTrue(System.getProperty("os.name").equals("Linux") && Files.isDirectory(sys), "no Linux /sys here");
        for (Path target : List.of(Path.of("/sys/seq4j-run"), sys)) {
            IOException e = assertThrows(IOException.class, () -> RunFolder.open(target, FILES));
            String prefix = "cannot " + (target.equals(sys) ? "write" : "create") + " run folder " + target + ": ";
            assertTrue(e.getMessage().startsWith(prefix) && e.getMessage().length() > prefix.length() + 3, e.getMessage());
        }
    }

    /**
     * A run interrupted before its first checkpoint (SIGTERM, as Ctrl-C or a killed job): the JVM's shutdown undoes it
     * as close() would, so the folder it created is gone, and in a folder that held a run the file it replaced is put
     * back; one interrupted after keep() stays.
     */
    @Test
    void anInterruptedRunIsUndoneUntilKept() throws Exception {
        Path earlier = Files.createDirectories(dir.resolve("earlier"));
        Files.writeString(earlier.resolve("addition.txt"), "the earlier run's");
        for (boolean kept : new boolean[] {false, true}) {
            Path run = dir.resolve(kept ? "kept" : "interrupted"), ready = dir.resolve(run.getFileName() + ".ready");
            interruptInChild(run, kept, ready, () -> {
                // the child holds the folder: another process's run into it is refused
                IOException e = assertThrows(IOException.class, () -> RunFolder.open(run, FILES));
                assertTrue(e.getMessage().contains("is in use by another training run"), e.getMessage());
            });
            assertEquals(kept, Files.exists(run.resolve("addition.txt")), kept ? "a kept run stays" : "undone");
            if (kept) {
                assertEquals(Set.of("addition.txt"), names(run), "its lock file is gone at the JVM's end");
            }
            assertEquals(kept, Files.exists(run), kept ? "its folder stays" : "the folder it created is removed");
        }
        interruptInChild(earlier, false, dir.resolve("earlier.ready"), () -> { });
        assertEquals("the earlier run's", Files.readString(earlier.resolve("addition.txt")), "put back");
        assertEquals(Set.of("addition.txt"), names(earlier));
    }

    /** What a test checks while the child holds its run folder. */
    private interface WhileHeld {
        void check() throws Exception;
    }

    /**
     * Runs Interrupted on {@code run} in a child JVM, once it is ready runs {@code whileHeld}, and ends it with
     * SIGTERM.
     */
    private static void interruptInChild(Path run, boolean kept, Path ready, WhileHeld whileHeld) throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Interrupted.class.getName(), run.toString(),
                Boolean.toString(kept), ready.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(
                ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(ready)) {
                assertTrue(p.isAlive() && System.nanoTime() < deadline, "the child never got ready");
                Thread.sleep(20);
            }
            whileHeld.check();
            p.destroy(); // SIGTERM: shutdown hooks run
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the child did not end on SIGTERM");
        } finally {
            p.destroyForcibly();
        }
    }

    /** The child of anInterruptedRunIsUndoneUntilKept: opens a run folder, writes a file, waits to be killed. */
    public static final class Interrupted {
        public static void main(String[] args) throws Exception {
            RunFolder run = RunFolder.open(Path.of(args[0]), FILES);
            run.write("addition.txt", file -> replace(file, "1+1  _2 \n"));
            if (Boolean.parseBoolean(args[1])) {
                run.keep();
            }
            Files.writeString(Path.of(args[2]), "ready");
            Thread.sleep(600_000);
        }
    }
}
