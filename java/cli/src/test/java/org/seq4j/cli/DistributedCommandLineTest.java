// seq4j train under mpirun: data-parallel through the command line (only rank 0 prints and writes, the loss
// equals one process's), and ranks started with different arguments end with one line each. Uses seq4j-nn's MPI
// test helpers (MpiRuns); skipped, with the reason, where mpirun is not installed.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.mpitest.MpiRuns.count;
import static org.seq4j.mpitest.MpiRuns.java;
import static org.seq4j.mpitest.MpiRuns.line;
import static org.seq4j.mpitest.MpiRuns.mpirun;
import static org.seq4j.mpitest.MpiRuns.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.mpitest.MpiRuns;

class DistributedCommandLineTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void findMpirun() {
        MpiRuns.findMpirun();
    }

    /** The command line's training options for a small, quick addition run (shards of 16 and 17 rows). */
    static List<String> cliTrain(Path out, int hidden) {
        return List.of("org.seq4j.cli.Main", "train", "addition", "--model", "peeky", "--epochs", "1", "--lines", "1000",
                "--batch", "33", "--hidden", Integer.toString(hidden), "--wordvec", "8", "--threads", "1",
                "--mpi-timeout", "60", "--out", out.toString());
    }

    @Test
    void theCommandLineTrainsDataParallelAndOnlyRankZeroWrites() throws Exception {
        Path out = dir.resolve("run");
        List<String> cmd = mpirun(2);
        cmd.addAll(cliTrain(out, 16));
        MpiRuns.Run r = run(cmd);
        assertEquals(0, r.exit(), r.output());
        assertEquals(1, count(r.output(), "distributed: data-parallel, MPI rank 0 of 2"), r.output());
        assertEquals(1, count(r.output(), "epoch 1/1: loss"), "only rank 0 reports:\n" + r.output());
        List<String> files = new ArrayList<>(List.of("model.npz", "best.npz", "metrics.csv", "addition.txt"));
        if (Charts.drawable()) { // a machine without fonts trains without charts, and says so
            files.add("chart.png");
        }
        for (String f : files) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing:\n" + r.output());
        }
        // the same run in one process ends with the same loss (4 decimals) and accuracy
        java.io.StringWriter single = new java.io.StringWriter();
        List<String> args = new ArrayList<>(cliTrain(dir.resolve("single"), 16).subList(1, cliTrain(out, 16).size()));
        int timeout = args.indexOf("--mpi-timeout"); // refused with --distributed none, where it would do nothing
        args.subList(timeout, timeout + 2).clear();
        args.addAll(List.of("--distributed", "none"));
        int exit = Main.run(new java.io.PrintWriter(single, true), new java.io.PrintWriter(
                java.io.Writer.nullWriter()), args.toArray(String[]::new));
        assertEquals(0, exit, single.toString());
        assertEquals(line(single.toString(), "epoch 1/1: loss").replaceAll(", [0-9.]+ s$", ""),
                line(r.output(), "epoch 1/1: loss").replaceAll(", [0-9.]+ s$", ""));
    }

    /**
     * A run folder of another task's run under mpirun: every rank learns of rank 0's refusal in a broadcast, so they
     * end together with exit code 2, rank 0 naming the run it found. They used to end the job with MPI_Abort ("ending
     * every rank"), as for a failure only one rank knows of, and a rank's abort could end rank 0 before it printed why.
     */
    @Test
    void aRunFolderOfAnotherTaskIsRefusedByEveryRankWithoutAnAbort() throws Exception {
        Path waves = dir.resolve("waves-run");
        java.io.StringWriter first = new java.io.StringWriter();
        int exit = Main.run(new java.io.PrintWriter(first, true), new java.io.PrintWriter(java.io.Writer.nullWriter()),
                "train", "waves", "--backend", "java", "--epochs", "1", "--hidden", "4", "--distributed", "none",
                "--out", waves.toString());
        assertEquals(0, exit, first.toString());
        byte[] weights = Files.readAllBytes(waves.resolve("model.npz"));
        List<String> cmd = mpirun(2);
        cmd.addAll(cliTrain(waves, 16));
        MpiRuns.Run r = run(cmd);
        assertEquals(2, r.exit(), r.output());
        assertEquals(1, count(r.output(), "seq4j: run folder " + waves + " holds a run of another task (waves"),
                r.output());
        assertEquals(1, count(r.output(), "seq4j: rank 0 refused the run folder " + waves), r.output());
        assertFalse(r.output().contains("ending every rank"), "an MPI_Abort instead of a common end:\n" + r.output());
        assertFalse(r.output().contains("\tat "), "a stack trace instead of one line:\n" + r.output());
        assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(waves.resolve("model.npz"))),
                "the waves run's model.npz changed");
    }

    /**
     * One mpirun, two programs (MPMD): rank 0 with H = 16, rank 1 with H = 17, each with the extra arguments; the
     * command line's check comes first, before the trainer's check of the model's layout.
     */
    static MpiRuns.Run mismatchedRanks(Path dir, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(MpiRuns.mpirun.toString(), "--allow-run-as-root", "--oversubscribe", "-np", "1"));
        cmd.addAll(java());
        cmd.addAll(cliTrain(dir.resolve("a"), 16));
        cmd.addAll(List.of(extra));
        cmd.addAll(List.of(":", "-np", "1"));
        cmd.addAll(java());
        cmd.addAll(cliTrain(dir.resolve("b"), 17));
        cmd.addAll(List.of(extra));
        return run(cmd);
    }

    @Test
    void ranksStartedWithDifferentArgumentsEndWithOneLineEach() throws Exception {
        MpiRuns.Run r = mismatchedRanks(dir);
        assertEquals(2, r.exit(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertEquals(1, count(r.output(), "seq4j: the 2 ranks do not agree on the model, epochs and data ("
                    + "--model, sizes, --seed, --reverse, --epochs, --eval-limit, the data) (this is rank " + rank), r.output());
        }
        assertFalse(r.output().contains("\tat "), "a stack trace instead of one line:\n" + r.output());
    }

    /** With --verbose that every-rank failure ends with each rank's stack trace, as any other failure does. */
    @Test
    void ranksStartedWithDifferentArgumentsShowTheirStackTracesWithVerbose() throws Exception {
        MpiRuns.Run r = mismatchedRanks(dir, "--verbose");
        assertEquals(2, r.exit(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertTrue(r.output().contains("ConfigurationMismatchException: the 2 ranks do not agree on the model, "
                    + "epochs and data"), r.output());
            assertTrue(r.output().contains("(this is rank " + rank), r.output());
        }
        assertTrue(count(r.output(), "\tat org.seq4j.cli.TrainCommand.call") >= 2,
                "each rank's stack trace:\n" + r.output());
        assertFalse(r.output().contains("ending every rank"), "an MPI_Abort instead of a common end:\n" + r.output());
    }

    /**
     * A job of one rank trains alone, and says so: --distributed mpi started with no launcher (Open MPI starts a job
     * of one rank), which printed nothing about MPI, as if the data-parallel job the user meant had started; and
     * mpirun -np 1. Only the first names the launcher it lacks.
     */
    @Test
    void aJobOfOneRankSaysItTrainsAlone() throws Exception {
        List<String> alone = new ArrayList<>(java());
        alone.addAll(cliTrain(dir.resolve("alone"), 8));
        alone.addAll(List.of("--distributed", "mpi"));
        MpiRuns.Run r = run(alone);
        assertEquals(0, r.exit(), r.output());
        assertEquals(1, count(r.output(), "distributed: MPI rank 0 of 1"), r.output());
        assertEquals(1, count(r.output(), ", so this process trains alone (no MPI launcher started it: mpirun -np N "
                + "runs N ranks)"), r.output());

        List<String> one = mpirun(1);
        one.addAll(cliTrain(dir.resolve("one"), 8));
        r = run(one);
        assertEquals(0, r.exit(), r.output());
        assertEquals(1, count(r.output(), "distributed: MPI rank 0 of 1"), r.output());
        assertTrue(line(r.output(), "distributed: MPI rank 0 of 1").endsWith(", so this process trains alone"),
                r.output());
    }
}
