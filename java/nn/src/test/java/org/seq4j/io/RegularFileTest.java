// Every public reader of a user's path refuses what is not a regular file before opening it: a FIFO blocked
// open(2) until a writer came (for ever: seq4j train --data fifo hung), and /dev/zero, whose size is 0, passed
// the 2 GiB check and was read until the heap ran out. Each call runs under a timeout, so that a regression
// fails here instead of hanging the build.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.data.DataFileException;
import org.seq4j.data.SequenceLoader;
import org.seq4j.data.WordCorpus;
import org.seq4j.data.WordVocabulary;
import org.seq4j.models.Seq2seq;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.CheckpointException;

class RegularFileTest {
    private static final String NOT_REGULAR = ": is not a regular file (a FIFO, socket or device); expected ";

    /** A FIFO at {@code file}, made with mkfifo(1); the test is skipped where there is none. */
    private static Path fifo(Path file) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", file.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no mkfifo command here (" + e.getMessage() + "): FIFOs are not tested");
            throw e;
        }
        assertEquals(true, p.waitFor(10, TimeUnit.SECONDS), "mkfifo did not finish");
        assertEquals(0, p.exitValue(), "mkfifo " + file + ": " + new String(p.getInputStream().readAllBytes()));
        return file;
    }

    /** {@code call} throws {@code type} with exactly {@code message} within 10 s (it blocked for ever before). */
    private static void assertRefused(Class<? extends IOException> type, String message, Executable call) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            IOException e = assertThrows(type, call);
            assertEquals(message, e.getMessage());
        }, "blocked: the path was opened before it was checked");
    }

    @Test
    void aFifoIsRefusedByEveryReaderBeforeItIsOpened(@TempDir Path dir) throws Exception {
        Path f = fifo(dir.resolve("data.txt"));
        String text = f + NOT_REGULAR + "a text file";
        assertRefused(DataFileException.class, text, () -> SequenceLoader.load(f));
        assertRefused(DataFileException.class, text, () -> SequenceLoader.readLines(f));
        assertRefused(DataFileException.class, text, () -> WordVocabulary.read(f));
        assertRefused(DataFileException.class, text, () -> WordCorpus.load(f));

        String npz = f + NOT_REGULAR + "a .npz file";
        assertRefused(NpzFormatException.class, npz, () -> Npz.load(f));
        assertRefused(NpzFormatException.class, npz, () -> Npz.load(f, Set.of("x")));
        assertRefused(NpzFormatException.class, npz, () -> Npz.entry(f, "x", 10));
        assertRefused(NpzFormatException.class, npz, () -> Npz.text(f, "x", 10));
        assertRefused(NpzFormatException.class, npz, () -> Checkpoint.meta(f));
        try (Seq2seq m = new Seq2seq(TestBackends.reference(), 13, 4, 8, 1)) {
            assertRefused(NpzFormatException.class, npz, () -> Checkpoint.load(f, m));
        }
        assertRefused(CheckpointException.class, f + NOT_REGULAR + "a run folder of seq4j train, or a .npz in one",
                () -> Checkpoint.file(f, null));
    }

    /**
     * A symbolic link in a loop, or to a file that is gone, was reported as "no such .npz file" (Files.exists follows
     * links), which sent a user looking for a file that the listing shows; the reason now says it is such a link.
     */
    @Test
    void aLinkThatLeadsNowhereIsSaidToBeOne(@TempDir Path dir) throws Exception {
        Path loop = dir.resolve("loop.npz");
        try {
            Files.createSymbolicLink(loop, loop.getFileName());
            Files.createSymbolicLink(dir.resolve("gone.npz"), dir.resolve("deleted.npz"));
        } catch (UnsupportedOperationException | IOException e) {
            assumeTrue(false, "no symbolic links here (" + e + ")");
        }
        String link = ": a symbolic link that leads to no file (its target is missing, or the links loop)";
        for (Path p : new Path[] {loop, dir.resolve("gone.npz")}) {
            assertRefused(java.nio.file.NoSuchFileException.class, p + ": no such .npz file" + link, () -> Npz.load(p));
            assertRefused(java.nio.file.NoSuchFileException.class, p + ": no checkpoint here" + link,
                    () -> Checkpoint.meta(p));
            assertRefused(java.nio.file.NoSuchFileException.class, p + ": no such checkpoint (a run folder of seq4j "
                    + "train, or a .npz in one)" + link, () -> Checkpoint.file(p, null));
        }
        Path data = dir.resolve("data.txt");
        Files.createSymbolicLink(data, dir.resolve("deleted.txt"));
        assertRefused(java.nio.file.NoSuchFileException.class, data + ": no such data file" + link,
                () -> SequenceLoader.load(data));
        // a path with nothing there is still just missing
        Path none = dir.resolve("none.npz");
        assertRefused(java.nio.file.NoSuchFileException.class, none + ": no such .npz file", () -> Npz.load(none));
    }

    /** A null path named in the message (it was a bare NullPointerException from Files). */
    @Test
    void aNullPathIsNamed() {
        assertEquals("RegularFile.missing: file is null",
                assertThrows(NullPointerException.class, () -> RegularFile.missing(null, "no such file")).getMessage());
        assertEquals("RegularFile.refusal: file is null",
                assertThrows(NullPointerException.class, () -> RegularFile.refusal(null, "a text file")).getMessage());
    }

    /**
     * A null expected (or noSuch) is refused whatever the path is: refusal returned null (no refusal) for a regular
     * file and said "expected null" of a folder; missing returned "null".
     */
    @Test
    void aNullExpectationIsNamed(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a.txt"), "x");
        for (Path p : new Path[] {file, dir, dir.resolve("none")}) {
            assertEquals("RegularFile.refusal: expected is null; expected what the file should be",
                    assertThrows(NullPointerException.class, () -> RegularFile.refusal(p, null)).getMessage());
            assertEquals("RegularFile.missing: noSuch is null; expected the reason for a missing file",
                    assertThrows(NullPointerException.class, () -> RegularFile.missing(p, null)).getMessage());
        }
    }

    /** A run folder whose model.npz is a FIFO: the folder is fine, the file in it is named. */
    @Test
    void aFifoInARunFolderIsNamed(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Path f = fifo(run.resolve(Checkpoint.WEIGHTS));
        String npz = f + NOT_REGULAR + "the .npz file that seq4j train writes";
        assertRefused(CheckpointException.class, npz, () -> Checkpoint.file(run, Checkpoint.Pick.LAST));
        assertRefused(CheckpointException.class, npz, () -> Checkpoint.file(run, null));
        assertRefused(NpzFormatException.class, f + NOT_REGULAR + "a .npz file", () -> Checkpoint.meta(run));
    }

    /**
     * /dev/zero has size 0, so the 2 GiB check passed and the read went on until the heap was gone: an
     * OutOfMemoryError (the CLI's exit code 1, "internal error") instead of one line naming the file.
     */
    @Test
    void aDeviceIsRefusedNotReadWithoutEnd() {
        Path zero = Path.of("/dev/zero");
        assumeTrue(Files.exists(zero) && !Files.isRegularFile(zero), "no /dev/zero device here");
        String text = zero + NOT_REGULAR + "a text file";
        assertRefused(DataFileException.class, text, () -> WordVocabulary.read(zero));
        assertRefused(DataFileException.class, text, () -> SequenceLoader.load(zero));
        assertRefused(NpzFormatException.class, zero + NOT_REGULAR + "a .npz file", () -> Npz.load(zero));
    }
}
