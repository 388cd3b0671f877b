// train and the files in and around its run folder that are not its own (red-team finds): the clean-up of an
// interrupted run's temporary files deletes only those seq4j's writers make, of the run's own files.
package org.seq4j.cli;

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
import org.seq4j.io.AtomicOutput;

class TrainFolderSafetyTest {
    @TempDir
    Path dir;

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
                ".model.npz.03k.tmp", ".chart.0123.tmp");
        for (String f : users) {
            Files.writeString(out.resolve(f), "mine");
        }
        Path target = Files.writeString(dir.resolve("elsewhere.txt"), "mine too");
        Files.createSymbolicLink(out.resolve(".model.npz.3k2j9x.tmp"), target);
        List<String> stale = List.of(AtomicOutput.temporaryName("chart.png", ""),
                AtomicOutput.temporaryName("vocabulary.txt", ".kept"), ".metrics.csv.9z.tmp");
        for (String f : stale) {
            Files.write(out.resolve(f), new byte[100]);
        }
        Result r = seq4j("train", "waves", "--backend", "java", "--epochs", "1", "--hidden", "4", "--out", out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("run folder " + out + ": removed 3 temporary files of an interrupted run"), r.out());
        for (String f : users) {
            assertEquals("mine", Files.readString(out.resolve(f)), f);
        }
        assertTrue(Files.isSymbolicLink(out.resolve(".model.npz.3k2j9x.tmp")), "the link stays");
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
}
