// train and the files in and around its run folder that are not its own (red-team finds): --data is refused where the
// run would write over it, and so is a folder whose model.npz or best.npz is not a readable seq4j checkpoint; the
// clean-up of an interrupted run's temporary files deletes only those seq4j's writers make, of the run's own files.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.cli.CliRuns.Result;
import org.seq4j.data.ToySet;
import org.seq4j.io.AtomicOutput;
import org.seq4j.io.NpyArray;
import org.seq4j.io.Npz;
import org.seq4j.train.RunFolder;

class TrainFolderSafetyTest {
    @TempDir
    Path dir;

    /** The one line of a bad-input failure: exit code 2, one line on stderr. */
    private static String badInput(Result r) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        return r.err().strip();
    }

    private static List<String> names(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * --data a file of the run folder that the run writes (metrics.csv, a checkpoint, lm's vocabulary.txt, the lock file)
     * or deletes (a name of an interrupted run's temporary file): train read it, then replaced it with its own, exit code
     * 0 and the data gone. Refused now in one line before anything is written, however the two paths are spelled (a link
     * to the file, "./", a relative path, the folder through a link); a file of the folder that this task does not write
     * is read as any other.
     */
    @Test
    void dataThatTheRunWouldWriteOverIsRefused() throws IOException {
        Path same = Files.createDirectories(dir.resolve("same"));
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), same);
        Path set = dir.resolve("set.txt");
        ToySet.ADDITION.write(set, 400, 3);
        byte[] bytes = Files.readAllBytes(set);
        String stale = AtomicOutput.temporaryName("chart.png", "");
        record Case(String task, String name, String data, String out) {
        }
        Path cwd = Path.of("").toAbsolutePath();
        List<Case> cases = List.of(
                new Case("addition", "metrics.csv", same.resolve("metrics.csv").toString(), same.toString()),
                new Case("addition", "model.npz", dir.resolve("link.txt").toString(), same + "/."),
                new Case("date", "best.npz", cwd.relativize(same.resolve("best.npz")).toString(), alias.toString()),
                new Case("lm", "vocabulary.txt", alias.resolve("vocabulary.txt").toString(), "./" + cwd.relativize(same)),
                new Case("addition", RunFolder.LOCK, same.resolve(RunFolder.LOCK).toString(), same.toString()),
                new Case("addition", stale, same.resolve(stale).toString(), same.toString()));
        for (Case c : cases) {
            Path file = Files.write(same.resolve(c.name()), bytes);
            if (c.name().equals("model.npz")) {
                Files.createSymbolicLink(dir.resolve("link.txt"), file);
            }
            List<String> before = names(same);
            String line = badInput(seq4j("train", c.task(), "--backend", "java", "--epochs", "1", "--hidden", "8",
                    "--data", c.data(), "--out", c.out()));
            String expected = c.name().equals(stale)
                    ? "seq4j: --data " + c.data() + " is named as a temporary file of an interrupted run (" + stale
                    + "), which this run deletes from its folder; rename it or give another --out"
                    : "seq4j: --data " + c.data() + " is a file this run writes into its folder (" + c.name()
                    + (c.name().equals(RunFolder.LOCK) ? ", its lock file, deleted at its end" : "")
                    + "); move it or give another --out";
            assertEquals(expected, line, c.toString());
            assertEquals(before, names(same), "nothing written or deleted: " + c);
            assertArrayEquals(bytes, Files.readAllBytes(file), "the data as it was: " + c);
            Files.delete(file);
        }
        // addition writes no vocabulary.txt: a data file of that name in its folder is read, and stays
        Path vocabulary = Files.write(same.resolve("vocabulary.txt"), bytes);
        Result r = seq4j("train", "addition", "--model", "peeky", "--backend", "java", "--epochs", "1", "--batch", "32",
                "--hidden", "8", "--wordvec", "8", "--data", vocabulary.toString(), "--out", same.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertArrayEquals(bytes, Files.readAllBytes(vocabulary));
        assertTrue(Files.exists(same.resolve("model.npz")), "the run trained");
    }

    /**
     * A folder given as --out that holds a user's hidden files named like temporary files (".notes.old.tmp"), and a
     * link of a temporary file's name: train deleted them all as "temporary files of an interrupted run", in a folder that
     * never held a run. They stay now; the temporary files seq4j's writers leave (the chart's, through AtomicOutput now,
     * a copy kept aside) are still removed.
     */
    @Test
    void theCleanUpOfAnInterruptedRunDeletesOnlyItsOwnTemporaryFiles() throws IOException {
        Path out = Files.createDirectories(dir.resolve("mine"));
        List<String> users = List.of(".notes.old.tmp", ".draft.v2.tmp", ".emacs.d.tmp", ".notes.txt.3k2j9x.tmp",
                ".model.npz.03k.tmp", ".chart.0123.tmp", ".model.npz.old.tmp", ".metrics.csv.backup.tmp");
        for (String f : users) {
            Files.writeString(out.resolve(f), "mine");
        }
        Path target = Files.writeString(dir.resolve("elsewhere.txt"), "mine too");
        Files.createSymbolicLink(out.resolve(".model.npz.00000003k2j9x.tmp"), target);
        List<String> stale = List.of(AtomicOutput.temporaryName("chart.png", ""),
                AtomicOutput.temporaryName("vocabulary.txt", ".kept"), ".metrics.csv.000000000009z.tmp");
        for (String f : stale) {
            Files.write(out.resolve(f), new byte[100]);
        }
        Result r = seq4j("train", "waves", "--backend", "java", "--epochs", "1", "--hidden", "4", "--out", out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("run folder " + out + ": removed 3 temporary files of an interrupted run"), r.out());
        for (String f : users) {
            assertEquals("mine", Files.readString(out.resolve(f)), f);
        }
        assertTrue(Files.isSymbolicLink(out.resolve(".model.npz.00000003k2j9x.tmp")), "the link stays");
        assertEquals("mine too", Files.readString(target));
        for (String f : stale) {
            assertTrue(Files.notExists(out.resolve(f)), f);
        }
        if (Charts.drawable()) {   // the chart, written through AtomicOutput now, is a PNG of the two charts
            assertEquals(1280, javax.imageio.ImageIO.read(out.resolve("chart.png").toFile()).getWidth());
        }
        try (var files = Files.list(out)) {   // and left no temporary file
            assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".chart.png."))
                    .toList());
        }
    }

    /**
     * A folder whose model.npz or best.npz is numpy's own (np.savez, no description) was said to hold "a run already
     * (unreadable)" and its files were replaced, while a run of another task is refused to keep its files. Refused now in
     * one line naming the file, and so is a seq4j checkpoint that cannot be read (cut short): nothing is written. A
     * readable one is replaced, as before.
     */
    @Test
    void aFolderWhoseCheckpointIsNotSeq4jsOrUnreadableIsRefused() throws IOException {
        Path set = dir.resolve("set.txt");
        ToySet.ADDITION.write(set, 400, 3);
        String[] train = {"train", "addition", "--model", "peeky", "--backend", "java", "--epochs", "1", "--batch", "32",
                "--hidden", "8", "--wordvec", "8", "--data", set.toString(), "--out"};
        java.util.function.Function<Path, Result> trainInto = out -> {
            String[] args = java.util.Arrays.copyOf(train, train.length + 1);
            args[train.length] = out.toString();
            return seq4j(args);
        };
        for (String name : List.of("model.npz", "best.npz")) {
            Path foreign = Files.createDirectories(dir.resolve("foreign-" + name));
            java.util.LinkedHashMap<String, NpyArray> arrays = new java.util.LinkedHashMap<>();
            arrays.put("weights", NpyArray.of(new float[] {0, 1, 2, 3}, new int[] {4}));
            Npz.save(foreign.resolve(name), arrays);
            byte[] bytes = Files.readAllBytes(foreign.resolve(name));
            assertEquals("seq4j: " + foreign.resolve(name) + " is not a seq4j checkpoint (it has no model.properties); "
                    + "give another --out or move it", badInput(trainInto.apply(foreign)));
            assertEquals(List.of(name), names(foreign), "nothing written");
            assertArrayEquals(bytes, Files.readAllBytes(foreign.resolve(name)));
        }

        Path run = dir.resolve("run");
        Result first = trainInto.apply(run);
        assertEquals(0, first.code(), first.out() + first.err());
        Path model = run.resolve("model.npz");
        byte[] whole = Files.readAllBytes(model);
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length / 2);
        Files.write(model, cut);
        List<String> before = names(run);
        String line = badInput(trainInto.apply(run));
        assertTrue(line.startsWith("seq4j: " + model + ": ") && line.endsWith("; this run would replace it, but it cannot"
                + " be read as a seq4j checkpoint: give another --out or move it"), line);
        assertEquals(before, names(run), "nothing written");
        assertArrayEquals(cut, Files.readAllBytes(model), "the cut checkpoint as it was");

        Files.write(model, whole);   // a readable checkpoint of seq4j: replaced, as it was
        Result again = trainInto.apply(run);
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("run folder " + run + ": holds a run already (addition peeky, epoch 1); its "
                + "checkpoints will be replaced"), again.out());
    }
}
