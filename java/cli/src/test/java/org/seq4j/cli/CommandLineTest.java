// The command line end to end, small: train writes checkpoints (last and best, each with its description
// inside), metrics and a chart that decode; eval and generate read them, eval printing the figure the run recorded
// (a language model's valid perplexity too, read in the run's own streams and steps); bad input ends in one line
// naming the problem, exit code 2 and nothing left behind; an internal error exits with 1; a backend that was
// asked for and does not load is an error, and a fall back to the java backend a WARNING line.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.cli.CliRuns.Result;
import org.seq4j.data.ToySet;
import org.seq4j.io.Npz;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.ZipBomb;
import org.seq4j.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine;

class CommandLineTest {
    @TempDir
    static Path dir;
    static Path data, run;
    static Result trained;

    /** One tiny training run that the other tests read. */
    @BeforeAll
    static void trainOnce() throws IOException {
        data = dir.resolve("addition.txt");
        ToySet.ADDITION.write(data, 400, 3);
        run = dir.resolve("run");
        trained = seq4j("train", "addition", "--model", "peeky", "--backend", "java", "--epochs", "3", "--batch", "32",
                "--hidden", "16", "--wordvec", "8", "--data", data.toString(), "--out", run.toString());
        assertEquals(0, trained.code(), trained.out() + trained.err());
        assertTrue(trained.out().contains("epoch 3/3:") && trained.out().contains("test accuracy"), trained.out());
    }

    /** The one line of a bad-input failure: exit code 2, one line on stderr, nothing on stdout after the start. */
    private static String badInput(Result r) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        assertTrue(r.err().startsWith("seq4j: "), r.err());
        return r.err().strip();
    }

    @Test
    void trainWritesCheckpointsMetricsAndAChart() throws IOException {
        for (String f : List.of("model.npz", "best.npz", "metrics.csv")) {
            assertTrue(Files.size(run.resolve(f)) > 0, f);
        }
        assertFalse(Files.exists(run.resolve("model.properties")), "the description is inside each .npz");
        List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals("epoch,train_loss,test_accuracy,seconds", csv.get(0));
        assertEquals(4, csv.size(), "a header and three epochs");
        if (!Charts.drawable()) { // a machine without fonts: training warns and goes on without charts
            assertFalse(Files.exists(run.resolve("chart.png")), "no chart where none can be drawn");
            return;
        }
        BufferedImage png = ImageIO.read(run.resolve("chart.png").toFile());
        assertEquals(1280, png.getWidth(), "two 640-pixel charts side by side");
        assertEquals(420, png.getHeight());
        assertEquals("3", Checkpoint.meta(run.resolve("model.npz")).getProperty("epoch"), "model.npz: the last epoch");
    }

    @Test
    void theReportedCheckpointIsTheBestEpochAndEvalUsesIt() throws IOException {
        // best.npz holds the epoch of the highest accuracy in metrics.csv (the first such), and train names it
        List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
        int bestEpoch = 0;
        double best = -1;
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",");
            if (Double.parseDouble(f[2]) > best) {
                best = Double.parseDouble(f[2]);
                bestEpoch = Integer.parseInt(f[0]);
            }
        }
        Properties meta = Checkpoint.meta(run.resolve("best.npz"));
        assertEquals(Integer.toString(bestEpoch), meta.getProperty("epoch"));
        Matcher m = Pattern.compile("best test accuracy ([0-9.]+)% \\(epoch (\\d+)\\): checkpoint (\\S+);")
                .matcher(trained.out());
        assertTrue(m.find(), trained.out());
        assertEquals(bestEpoch, Integer.parseInt(m.group(2)));
        assertEquals(run.resolve("best.npz").toString(), m.group(3));
        // eval picks best.npz by default and reproduces the accuracy train reported for it
        Result eval = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("checkpoint: " + run.resolve("best.npz") + " (epoch " + bestEpoch),
                eval.out());
        assertTrue(eval.out().contains("test accuracy " + m.group(1) + "%"), m.group(1) + " in " + eval.out());
        Result last = seq4j("eval", "--checkpoint", run.toString(), "--weights", "last", "--backend", "java");
        assertEquals(0, last.code(), last.err());
        assertTrue(last.out().contains("checkpoint: " + run.resolve("model.npz") + " (epoch 3"), last.out());
        String lastAccuracy = String.format("%.2f%%", 100 * Double.parseDouble(csv.get(3).split(",")[2]));
        assertTrue(last.out().contains("test accuracy " + lastAccuracy), lastAccuracy + " in " + last.out());
    }

    /** --threads 0 is one thread per core, as SEQ4J_THREADS=0 is (it was refused as "at least 1"). */
    @Test
    void threadsZeroIsOnePerCore() {
        Result zero = seq4j("eval", "--checkpoint", run.toString(), "--backend", "openblas", "--threads", "0");
        assertEquals(0, zero.code(), zero.out() + zero.err());
        Matcher m = Pattern.compile("; (\\d+) threads on a pool").matcher(zero.out());
        assertTrue(m.find(), zero.out());
        int perCore = Math.min(org.seq4j.backend.openblas.OpenBlasBackend.maxThreads(),
                Runtime.getRuntime().availableProcessors());
        assertEquals(perCore, Integer.parseInt(m.group(1)), "--threads 0: one per core");
    }

    /**
     * The per-epoch evaluation runs the whole set as one batch between training epochs of batch 10. Its figure is the
     * models' loss, 0.5 x the squared errors summed over the scored steps / N windows, and is named so in metrics.csv,
     * train's lines and eval's: as "MSE loss (eval)" it read as the mean squared error, which is twice it for the
     * predictor (one step scored) and a twelfth of it for seq2seq (24 steps); eval prints that mean beside it.
     */
    @Test
    void wavesTrainForSeveralEpochsAndPlotThePrediction() throws IOException {
        for (String model : List.of("seq2seq", "predictor")) {
            Path out = dir.resolve("waves-" + model);
            Result r = seq4j("train", "waves", "--model", model, "--backend", "java", "--epochs", "3", "--hidden", "8",
                    "--out", out.toString());
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("epoch 3/3:") && r.out().contains("free-running prediction"), r.out());
            assertTrue(r.out().contains(", eval loss (0.5 SSE/N) ") && r.out().contains("best eval loss (0.5 SSE/N) ")
                    && Files.exists(out.resolve("best.npz")), r.out());
            List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
            assertEquals(List.of("epoch,train_loss,eval_loss_(0.5_SSE/N),seconds", 4), List.of(csv.get(0), csv.size()),
                    "a header and three epochs");
            assertTrue(!Charts.drawable() || ImageIO.read(out.resolve("prediction.png").toFile()).getWidth() > 0, model);

            Result eval = seq4j("eval", "--checkpoint", out.toString(), "--weights", "last", "--backend", "java");
            assertEquals(0, eval.code(), eval.err());
            Matcher m = Pattern.compile("waves " + model + ": eval loss \\(0\\.5 SSE/N\\) ([0-9.]+) over (\\d+) "
                    + "windows \\(mean squared error (\\S+) over their (\\d+) target values\\)\n").matcher(eval.out());
            assertTrue(m.find(), eval.out());
            assertEquals(csv.get(3).split(",")[2], m.group(1), "metrics.csv's last epoch against eval's");
            int steps = model.equals("seq2seq") ? 24 : 1;
            assertEquals(Integer.parseInt(m.group(2)) * steps, Integer.parseInt(m.group(4)), eval.out());
            double loss = Double.parseDouble(m.group(1)), mse = Double.parseDouble(m.group(3));
            assertEquals(2 * loss / steps, mse, 1e-6 + 1e-5 * mse, eval.out()); // loss printed to 6 decimals
        }
    }

    @Test
    void trainingIntoAFolderAgainRemovesTheTemporaryFilesOfAKilledRun() throws IOException {
        Path again = Files.createDirectories(dir.resolve("killed-before"));
        List<String> stale = List.of(".model.npz.0000000005xq1.tmp", ".metrics.csv.000000000009z.tmp", ".chart.42.tmp.png");
        for (String f : stale) {
            Files.write(again.resolve(f), new byte[4096]);
        }
        Files.writeString(again.resolve("notes.txt"), "mine");
        Result r = seq4j("train", "waves", "--backend", "java", "--epochs", "1", "--hidden", "4", "--out", again.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("removed 3 temporary files of an interrupted run"), r.out());
        try (var files = Files.list(again)) {
            List<String> left = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp") || n.endsWith(".tmp.png"))
                    .toList();
            assertEquals(List.of(), left);
        }
        assertEquals("mine", Files.readString(again.resolve("notes.txt")));
        // a second run into the same folder says what it replaces (it was silent)
        Result second = seq4j("train", "waves", "--backend", "java", "--epochs", "1", "--hidden", "4", "--out",
                again.toString());
        assertEquals(0, second.code(), second.out() + second.err());
        assertTrue(second.out().contains("holds a run already (waves seq2seq, epoch 1); its checkpoints will be replaced"),
                second.out());
        assertTrue(badInput(seq4j("train", "waves", "--backend", "java", "--out", "")).contains("--out is empty"));
    }

    /** A batch larger than a wave set ended as an "internal error" (exit 1) from Trainer; now bad input, as elsewhere. */
    @Test
    void aWaveBatchLargerThanItsSetIsBadInput() {
        for (String model : new String[] {"seq2seq", "predictor"}) {
            String e = badInput(seq4j("train", "waves", "--model", model, "--backend", "java", "--batch", "100000",
                    "--epochs", "1", "--out", dir.resolve("waves-batch-" + model).toString()));
            assertTrue(e.startsWith("seq4j: a batch of 100000 (--batch) is larger than the ") && e.contains("use at most"),
                    e);
            assertFalse(Files.exists(dir.resolve("waves-batch-" + model)), "no run folder is left");
        }
    }

    /**
     * A run folder holding another task's run: train replaced its checkpoints, metrics and chart and left its own
     * files (here the waves' prediction.png; a language model's corpus.txt and vocabulary.txt) mixed with the new
     * run's. It is refused now, in one line, before anything is written.
     */
    @Test
    void trainingIntoAFolderOfAnotherTasksRunIsRefused() throws IOException {
        Path waves = dir.resolve("waves-run");
        Result first = seq4j("train", "waves", "--backend", "java", "--epochs", "1", "--hidden", "4", "--out",
                waves.toString());
        assertEquals(0, first.code(), first.out() + first.err());
        List<String> before;
        try (var files = Files.list(waves)) {
            before = files.map(f -> f.getFileName().toString()).sorted().toList();
        }
        byte[] weights = Files.readAllBytes(waves.resolve("model.npz"));
        String line = badInput(seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1",
                "--hidden", "4", "--wordvec", "4", "--out", waves.toString()));
        assertTrue(line.contains("holds a run of another task (waves seq2seq, epoch 1)")
                && line.contains("give another --out"), line);
        try (var files = Files.list(waves)) {
            assertEquals(before, files.map(f -> f.getFileName().toString()).sorted().toList(), "files after the refusal");
        }
        assertArrayEquals(weights, Files.readAllBytes(waves.resolve("model.npz")), "the waves run's model.npz");
    }

    @Test
    void evalAndGenerateReadTheCheckpoint() {
        Result eval = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("test accuracy"), eval.out());
        Result gen = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "12+34", "5+6");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().contains("12+34 -> ") && gen.out().contains("5+6 -> "), gen.out());
        Result file = seq4j("generate", "--checkpoint", run.resolve("model.npz").toString(), "--backend", "java", "1+1");
        assertEquals(0, file.code(), file.err());
        assertTrue(file.out().contains("checkpoint: " + run.resolve("model.npz")), file.out());
    }

    @Test
    void aRunFolderOfAnOlderVersionStillEvaluates() throws IOException {
        // older seq4j: the arrays only in model.npz, the description in model.properties beside it, no best.npz
        Path old = Files.createDirectories(dir.resolve("old-run"));
        Npz.save(old.resolve("model.npz"), new java.util.LinkedHashMap<>(Npz.load(run.resolve("model.npz")).arrays()));
        try (var out = Files.newOutputStream(old.resolve("model.properties"))) {
            Checkpoint.meta(run.resolve("model.npz")).store(out, null);
        }
        Result eval = seq4j("eval", "--checkpoint", old.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("checkpoint: " + old.resolve("model.npz")), eval.out());
    }

    @Test
    void badInputEndsInOneClearLine() throws IOException {
        assertTrue(badInput(seq4j("train", "addition", "--model", "nope")).contains("no model 'nope'"));

        Path x = dir.resolve("x");
        String e = badInput(seq4j("train", "addition", "--data", dir.resolve("missing.txt").toString(), "--out", x.toString()));
        assertTrue(e.contains("missing.txt"), e);
        assertFalse(Files.exists(x), "a failed run leaves no run folder");

        Path bad = dir.resolve("bad.txt");
        Files.writeString(bad, "1+1    _2   \nno separator here\n");
        Path y = dir.resolve("y");
        e = badInput(seq4j("train", "addition", "--backend", "java", "--data", bad.toString(), "--out", y.toString()));
        assertTrue(e.contains("line 2"), e);
        assertFalse(Files.exists(y), "a failed run leaves no run folder");

        e = badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "1x+2"));
        assertTrue(e.contains("'x'") && e.contains("not in the vocabulary"), e);

        Path corrupt = Files.createDirectories(dir.resolve("corrupt"));
        byte[] npz = Files.readAllBytes(run.resolve("model.npz"));
        Files.write(corrupt.resolve("model.npz"), Arrays.copyOf(npz, npz.length / 2));
        e = badInput(seq4j("eval", "--checkpoint", corrupt.toString(), "--backend", "java"));
        assertTrue(e.contains("model.npz"), e);
    }

    /**
     * A checkpoint whose model.npz is a zip bomb (1 MiB that inflates to 1 GiB of zeros after a header for two
     * floats) or a header of 60,000 nested '(': eval ends in one line and exit code 2, in a child JVM whose 64 MiB
     * heap and 1 MiB stack would not survive reading the whole bomb or parsing the header recursively. The bomb
     * is refused from the headers now, before anything is inflated: its one array is not the model's (NpzTest holds
     * Npz.load to the bomb itself).
     */
    @Test
    void evalOfAHostileCheckpointEndsInOneLine() throws Exception {
        byte[] head = ZipBomb.floatHeader("(2,)");
        Map<String, byte[]> hostile = new LinkedHashMap<>();   // by what the line says of it
        hostile.put("the model needs encoder.embed.W (13, 8) but the file has only [W]",
                ZipBomb.zip("W.npy", head, 1024, head.length + 8));
        hostile.put("nested deeper than", ZipBomb.zip("W.npy", ZipBomb.nestedHeader(60_000), 0, -1));
        int n = 0;
        for (Map.Entry<String, byte[]> bad : hostile.entrySet()) {
            Path checkpoint = Files.createDirectories(dir.resolve("hostile-" + n++));
            // the description as an older version wrote it, beside the .npz: the hostile .npz cannot carry it
            try (var out = Files.newOutputStream(checkpoint.resolve(Checkpoint.META))) {
                Checkpoint.meta(run).store(out, null);
            }
            Files.write(checkpoint.resolve("model.npz"), bad.getValue());
            ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-Xmx64m", "-Xss1m"),
                    Main.class.getName(), "eval", "--checkpoint", checkpoint.toString(), "--backend", "java");
            assertEquals(2, r.exitCode(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r);
            assertTrue(r.err().contains("model.npz") && r.err().contains(bad.getKey()), r.toString());
        }
    }

    /**
     * With neither the native library cache nor java.io.tmpdir writable, `seq4j info` ended at its "selected" line with
     * exit code 2 (Backends.select's UncheckedIOException, which it did not catch), before the OpenBLAS and MPI lines;
     * and each of its lines said only "... nor into a temporary folder", the reasons in the exception's cause. Now it
     * reports each line, each naming both folders and why.
     */
    @Test
    void infoWithNoFolderToExtractTheNativeLibrariesIntoReportsEveryLine() throws Exception {
        Path file = Files.writeString(dir.resolve("info-not-a-folder"), "x");
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120),
                List.of("-Dseq4j.cache=" + file.resolve("cache"), "-Djava.io.tmpdir=" + file.resolve("tmp")),
                Main.class.getName(), "info");
        assertEquals(0, r.exitCode(), r.toString());
        String why = " (" + file.resolve("cache") + ": ";
        String tmp = ") nor into a temporary folder in java.io.tmpdir " + file.resolve("tmp") + " (";
        for (String line : new String[] {"selected  none, an error: cannot extract native libraries into ",
            "OpenBLAS  not loaded: cannot extract native libraries into ", "MPI       "}) {
            String found = r.out().lines().filter(l -> l.startsWith(line)).findFirst().orElse(null);
            assertTrue(found != null, line + " in " + r);
            assertTrue(line.startsWith("MPI") || found.contains(why) && found.contains(tmp), found);
        }
    }

    /** An UncheckedIOException whose message carries its cause's words already: one line, not those words twice. */
    @Test
    void aFailureWhoseMessageHoldsItsCausesWordsSaysThemOnce() {
        var e = new java.io.UncheckedIOException("cannot extract into /x (/x: no such file or folder)",
                new java.nio.file.NoSuchFileException("/x"));
        assertEquals("seq4j: cannot extract into /x (/x: no such file or folder)", Main.line(e));
        var other = new java.io.UncheckedIOException("cannot read /y", new java.nio.file.NoSuchFileException("/z"));
        assertEquals("seq4j: cannot read /y: no such file: /z", Main.line(other));
    }

    /**
     * A run killed (SIGKILL) before its first checkpoint leaves its lock file and the data it generated (a red-team
     * find): a retry of the same task was refused ("holds addition.txt but no checkpoint, so it is not a run of seq4j
     * train"), and a run of another task trained into the folder and left the other set beside its own. Now the retry
     * runs, and the other task is refused as a run of another task is, the folder left as it was.
     */
    @Test
    void theFolderOfARunKilledBeforeItsFirstCheckpointTakesARetryAndRefusesAnotherTask() throws IOException {
        for (String task : new String[] {"addition", "date"}) {
            Path killed = Files.createDirectories(dir.resolve("killed-" + task));
            Files.writeString(killed.resolve(org.seq4j.train.RunFolder.LOCK), "");
            Files.writeString(killed.resolve("addition.txt"), "16+75  _91  \n".repeat(20));
            Result r = seq4j("train", task, "--backend", "java", "--epochs", "1", "--lines", "200", "--batch", "16",
                    "--hidden", "8", "--out", killed.toString());
            if (task.equals("addition")) {
                assertEquals(0, r.code(), r.toString());
                assertTrue(Files.exists(killed.resolve(Checkpoint.WEIGHTS)), "the retry ran");
            } else {
                assertEquals("seq4j: run folder " + killed + " holds the start of a run of another task (addition: its "
                        + "addition.txt and .seq4j-run.lock, left by a run killed before its first checkpoint), whose "
                        + "files would stay mixed with this date run's; give another --out, or delete that run first",
                        badInput(r));
                try (var files = Files.list(killed)) {
                    assertEquals(2, files.count(), "the folder as it was");
                }
            }
        }
    }

    @Test
    void optionsOutOfRangeOrUnusedAreRejectedBeforeAnythingIsWritten() throws IOException {
        // item: --epochs 0 once "trained", reported "best test accuracy -100.00%" and named files that did not exist
        Path out = dir.resolve("never");
        Map<List<String>, String> cases = new java.util.LinkedHashMap<>();
        cases.put(List.of("addition", "--epochs", "0"), "--epochs must be at least 1, got 0");
        cases.put(List.of("addition", "--epochs", "-3"), "--epochs must be at least 1, got -3");
        cases.put(List.of("addition", "--clip", "-1"), "--clip must be a finite number >= 0");
        cases.put(List.of("addition", "--clip", "NaN"), "--clip must be a finite number >= 0");
        // "must be a number >= 0 ..., got Infinity" named nothing wrong; 0 is --clip's "off"
        cases.put(List.of("addition", "--clip", "Infinity"), "--clip must be a finite number >= 0 (0: no clipping), got "
                + "Infinity");
        cases.put(List.of("addition", "--lr", "0"), "--lr must be a positive number");
        // read as Infinity: "--lr must be a positive number, got Infinity"
        cases.put(List.of("addition", "--lr", "1e39"), "'1e39' is past float's range (at most 3.4028235E38 in magnitude)");
        cases.put(List.of("addition", "--batch", "0"), "--batch must be at least 1");
        cases.put(List.of("addition", "--lines", "3"), "--lines must be from 10");
        cases.put(List.of("date", "--lines", "20000000"), "--lines must be from 10 (the last tenth is the test set) to "
                + "10000000, got 20000000");
        cases.put(List.of("addition", "--backend", "java", "--lines", "600000"),
                "--lines 600000: the addition set has at most 500500");
        cases.put(List.of("addition", "--backend", "java", "--hidden", "2147483647"), "the model's sizes do not fit");
        cases.put(List.of("addition", "--backend", "java", "--threads", "2"),
                "--threads sets the openblas backend's CPU threads; --backend java does not use it");
        cases.put(List.of("addition", "--distributed", "none", "--mpi-timeout", "5"),
                "--mpi-timeout is for data-parallel training");
        cases.put(List.of("addition", "--optimizer", "lion"), "unknown optimizer 'lion'");
        // a baseline recorded as model=reverse (and the other way round), trained without a word
        cases.put(List.of("addition", "--model", "reverse", "--no-reverse"), "--model reverse feeds the questions "
                + "reversed by its name; --no-reverse makes it --model baseline: give that instead");
        cases.put(List.of("date", "--model", "baseline", "--reverse"), "--model baseline feeds the questions as "
                + "written by its name; --reverse makes it --model reverse: give that instead");
        cases.put(List.of("addition", "--threads", "-1"), "--threads must be 0 (one per core) or from 1 to 64, got -1");
        cases.put(List.of("addition", "--threads", "100000"), "--threads must be 0 (one per core) or from 1 to 64, got 100000");
        cases.put(List.of("addition", "--backend", "tpu"), "unknown backend 'tpu'");
        cases.put(List.of("waves", "--data", data.toString()), "train waves does not use --data");
        cases.put(List.of("waves", "--lines", "100"), "train waves does not use --lines");
        cases.put(List.of("lm", "--model", "rnnlm", "--dropout", "0.3"), "--dropout is for --model better");
        cases.put(List.of("lm", "--model", "better", "--wordvec", "8", "--hidden", "16"), "must equal --hidden");
        // found by the model after the corpus was generated and the backend opened (its run folder then removed)
        cases.put(List.of("lm", "--model", "better", "--wordvec", "8"),
                "--wordvec (8) must equal --hidden (650, the default)");
        cases.put(List.of("addition", "--mpi-timeout", "0"), "--mpi-timeout must be at least 1 second, got 0");
        // numpy's seeds are 32-bit unsigned: these were "internal error: IllegalArgumentException", exit code 1
        cases.put(List.of("addition", "--backend", "java", "--seed", "-1"),
                "--seed must be from 0 to 4294967295 (numpy's seeds), got -1");
        cases.put(List.of("waves", "--backend", "java", "--seed", "4294967296"),
                "--seed must be from 0 to 4294967295 (numpy's seeds), got 4294967296");
        cases.put(List.of("lm", "--backend", "java", "--seed", "-5"), "--seed must be from 0 to 4294967295");
        // N * T of 2^32 wrapped to 0 as an int: "internal error: ArithmeticException: / by zero", exit code 1
        cases.put(List.of("lm", "--backend", "java", "--batch", "65536", "--time-size", "65536"),
                "too few for one batch of 65536 streams of 65536 steps");
        cases.put(List.of("addition", "--model", "attention", "--bidirectional", "--hidden", "15"),
                "--bidirectional gives each direction half of --hidden, so it must be even, got 15");
        for (var c : cases.entrySet()) {
            List<String> args = new ArrayList<>(List.of("train"));
            args.addAll(c.getKey());
            args.addAll(List.of("--out", out.toString()));
            String e = badInput(seq4j(args.toArray(String[]::new)));
            assertTrue(e.contains(c.getValue()), c.getKey() + ": " + e);
            assertFalse(Files.exists(out), c.getKey() + " left a run folder behind");
        }
        // a batch larger than the training set is found once the data is read, still before any training
        String e = badInput(seq4j("train", "addition", "--backend", "java", "--batch", "1000", "--data", data.toString(),
                "--out", out.toString()));
        assertTrue(e.contains("--batch") && e.contains("360 training"), e);
        assertFalse(Files.exists(out));

        assertTrue(badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "")).contains("empty"));
        assertTrue(badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--start", "the",
                "1+1")).contains("--start"));
        assertTrue(badInput(seq4j("eval", "--checkpoint", run.toString(), "--backend", "java", "--limit", "-1"))
                .contains("--limit"));
        assertTrue(badInput(seq4j("eval", "--checkpoint", run.toString(), "--weights", "worst")).contains("worst"));
        // a question left blank or carrying the answer marker
        assertTrue(badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "   "))
                .contains("question 1 is empty"));
        assertTrue(badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "1+2_"))
                .contains("'_' starts the answer"));
        assertTrue(badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--beam", "100000",
                "1+2")).contains("--beam must be from 1 to 4096 hypotheses, got 100000"));
        // a data file whose questions are empty
        Path empty = Files.writeString(dir.resolve("empty-questions.txt"), "_315 \n".repeat(20));
        assertTrue(badInput(seq4j("train", "addition", "--backend", "java", "--data", empty.toString(), "--out",
                out.toString())).contains("line 1"), "names the line");
        assertFalse(Files.exists(out));
        // an edited checkpoint whose answers would be two billion characters long: refused, not decoded for hours
        Path edited = Files.createDirectories(dir.resolve("edited"));
        Properties meta = Checkpoint.meta(run);
        meta.setProperty("answer_length", "2000000000");
        withDescription(Checkpoint.file(run, null), meta, edited.resolve("model.npz"));
        e = badInput(seq4j("generate", "--checkpoint", edited.toString(), "--backend", "java", "1+2"));
        assertTrue(e.contains("answer_length=2000000000") && e.contains("from 2 to 65536"), e);
        // one whose start_id names another character than '_': every answer changed without a word (a red-team find)
        meta = Checkpoint.meta(run);
        meta.setProperty("start_id", meta.getProperty("start_id").equals("1") ? "2" : "1");
        withDescription(Checkpoint.file(run, null), meta, edited.resolve("model.npz"));
        e = badInput(seq4j("generate", "--checkpoint", edited.toString(), "--backend", "java", "1+2"));
        assertTrue(e.contains("its start_id ") && e.contains(", not the '_' that starts every answer"), e);
        // one whose hidden size makes parameters no memory holds: the checkpoint's fault, not an internal error
        meta = Checkpoint.meta(run);
        meta.setProperty("hidden", "1000000000");
        withDescription(Checkpoint.file(run, null), meta, edited.resolve("model.npz"));
        e = badInput(seq4j("eval", "--checkpoint", edited.toString(), "--backend", "java"));
        assertTrue(e.contains("its description makes no model"), e);
        // one whose hidden size its arrays do not have: refused from the arrays' headers, before the model is built
        // (hidden=16000 built a model of about 16 GB first, or ran out of heap and advised more of it)
        meta = Checkpoint.meta(run);
        meta.setProperty("hidden", "2000");
        withDescription(Checkpoint.file(run, null), meta, edited.resolve("model.npz"));
        e = badInput(seq4j("generate", "--checkpoint", edited.toString(), "--backend", "java", "1+2"));
        assertEquals("seq4j: " + edited.resolve("model.npz") + ", array 'encoder.lstm.Wx': shape (8, 64) does not "
                + "match the (8, 8000) its model.properties implies (addition peeky: vocab=13, wordvec=8, hidden=2000, "
                + "cell=lstm)", e);
        // options that would be ignored: refused, naming the option
        assertTrue(badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--beam", "2",
                "--end", "x", "1+1")).contains("--end is for language models"));
        assertTrue(badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--beam", "2",
                "--length-penalty", "0.5", "1+1")).contains("--length-penalty is for language models"));
        e = badInput(seq4j("eval", "--checkpoint", run.resolve("model.npz").toString(), "--weights", "last",
                "--backend", "java"));
        assertTrue(e.contains("--weights picks best.npz or model.npz in a run folder") && e.contains("model.npz"), e);
    }

    /**
     * A vocabulary that disagrees with the model's vocab V, or a vocabulary.txt that is not one word a line: the
     * checkpoint's fault, one line, exit code 2. Before: a seq2seq vocabulary with a character more than V fed id V
     * to the embedding ("internal error", exit 1), one with a character fewer could decode an id it lacks; a
     * vocabulary.txt with an empty line shifted every later id (another perplexity, exit code 0), one of bad UTF-8
     * was "seq4j: Input length = 1", one that is a folder "seq4j: Is a directory".
     */
    @Test
    void aVocabularyThatDisagreesWithTheModelIsTheCheckpointsFault() throws IOException {
        Properties meta = Checkpoint.meta(run);
        String chars = meta.getProperty("vocabulary"), v = meta.getProperty("vocab");
        Path edited = Files.createDirectories(dir.resolve("vocabulary-edited"));
        for (String wrong : List.of(chars + "x", chars.substring(1))) {
            meta.setProperty("vocabulary", wrong);
            withDescription(Checkpoint.file(run, null), meta, edited.resolve("model.npz"));
            String e = badInput(seq4j("generate", "--checkpoint", edited.toString(), "--backend", "java", "1+1"));
            assertEquals("seq4j: " + edited.resolve("model.npz") + ": its vocabulary has " + wrong.length()
                    + " characters but vocab=" + v + "; they must agree", e);
        }

        Path lm = dir.resolve("lm");
        Result r = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "4",
                "--wordvec", "4", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        Path words = lm.resolve("vocabulary.txt");
        List<String> good = Files.readAllLines(words);
        String size = Checkpoint.meta(lm).getProperty("vocab");
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put(", line 2: an empty line; expected one word a line", (good.get(0) + "\n\n" + String.join("\n",
                good.subList(1, good.size())) + "\n").getBytes(StandardCharsets.UTF_8));
        bad.put(": has " + (good.size() + 1) + " words but the model beside it (" + lm.resolve("best.npz")
                + ") has vocab=" + size + "; they must agree", (String.join("\n", good) + "\nzzz\n")
                .getBytes(StandardCharsets.UTF_8));
        bad.put(", line 1: not valid UTF-8: byte 0xFF at byte 1 of the line", new byte[] {(byte) 0xFF, '\n'});
        for (var c : bad.entrySet()) {
            Files.write(words, c.getValue());
            for (String command : List.of("eval", "generate")) {
                String e = badInput(seq4j(command, "--checkpoint", lm.toString(), "--backend", "java"));
                assertEquals("seq4j: " + words.toAbsolutePath() + c.getKey(), e, command);
            }
        }
        Files.delete(words);
        Files.createDirectory(words);
        assertEquals("seq4j: " + words.toAbsolutePath() + ": is a folder; expected a text file",
                badInput(seq4j("eval", "--checkpoint", lm.toString(), "--backend", "java")));
    }

    /**
     * A language model's vocabulary.txt of as many words in another order (another run's, on another text) is
     * refused by its fingerprint in the checkpoint, naming both files; it was read as the model's words, every id
     * another word. A checkpoint of an older version, without the fingerprint, is read as before; one without its
     * vocabulary.txt says that it needs it.
     */
    @Test
    void aLanguageModelsVocabularyOfAnotherRunIsRefusedByItsFingerprint(@TempDir Path tmp) throws IOException {
        Path lm = tmp.resolve("lm");
        Result r = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "4",
                "--wordvec", "4", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        Path words = lm.resolve("vocabulary.txt");
        List<String> good = Files.readAllLines(words);
        List<String> swapped = new ArrayList<>(good);
        Collections.swap(swapped, 0, 1);
        Files.write(words, swapped);
        // eval on --data: without it, the training text's fingerprint refuses the ids the swapped words give it
        for (List<String> command : List.of(List.of("eval", "--data", lm.resolve("corpus.txt").toString()),
                List.of("generate", "--start", good.get(1)))) {
            List<String> args = new ArrayList<>(command);
            args.addAll(List.of("--checkpoint", lm.toString(), "--backend", "java"));
            String e = badInput(seq4j(args.toArray(String[]::new)));
            assertTrue(e.startsWith("seq4j: " + words.toAbsolutePath() + ": is not the vocabulary "
                    + lm.resolve("best.npz") + " was trained with (its words' fingerprint is ") && e.contains(
                    "use the vocabulary.txt of that checkpoint's own run"), e);
        }
        // a checkpoint of an older version has no fingerprint: only the word count is checked, as before
        Path old = Files.createDirectories(tmp.resolve("old"));
        Properties meta = Checkpoint.meta(lm.resolve("best.npz"));
        meta.remove(Cli.VOCABULARY_FINGERPRINT);
        withDescription(lm.resolve("best.npz"), meta, old.resolve("best.npz"));
        Files.write(old.resolve("vocabulary.txt"), swapped);
        Result eval = seq4j("eval", "--checkpoint", old.toString(), "--backend", "java", "--data",
                lm.resolve("corpus.txt").toString());
        assertEquals(0, eval.code(), eval.err());

        Files.delete(old.resolve("vocabulary.txt"));
        String e = badInput(seq4j("generate", "--checkpoint", old.resolve("best.npz").toString(), "--backend", "java"));
        assertEquals("seq4j: " + old.resolve("best.npz") + ": a language model's checkpoint needs the vocabulary.txt of "
                + "its run folder beside it (its words, one a line in id order); there is no "
                + old.resolve("vocabulary.txt").toAbsolutePath(), e);
    }

    /**
     * A FIFO or a device given as a data file or a checkpoint: one line naming it, exit code 2. Before: a FIFO blocked
     * in open(2) for ever (train --data, eval --data and generate --checkpoint hung), and /dev/zero, whose size is 0,
     * was read until the heap was gone ("out of memory", exit code 1).
     */
    @Test
    void aFifoOrADeviceIsRefusedInOneLineNotWaitedOn() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk;
        try {
            mk = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no mkfifo command here (" + e.getMessage() + "): FIFOs are not tested");
            return;
        }
        assertTrue(mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0, "mkfifo " + fifo);
        String text = "seq4j: " + fifo + ": is not a regular file (a FIFO, socket or device); expected a text file";
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            assertEquals(text, badInput(seq4j("train", "addition", "--backend", "java", "--epochs", "1", "--data",
                    fifo.toString(), "--out", dir.resolve("fifo-run").toString())));
            assertEquals(text, badInput(seq4j("eval", "--checkpoint", run.toString(), "--backend", "java", "--data",
                    fifo.toString())));
            assertEquals("seq4j: " + fifo + ": is not a regular file (a FIFO, socket or device); expected a run folder"
                    + " of seq4j train, or a .npz in one",
                    badInput(seq4j("generate", "--checkpoint", fifo.toString(), "--backend", "java", "1+2")));
        }, "blocked on the FIFO");
        Path zero = Path.of("/dev/zero");
        assumeTrue(Files.exists(zero), "no /dev/zero here");
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Result r = seq4j("train", "addition", "--backend", "java", "--epochs", "1", "--data", zero.toString(),
                    "--out", dir.resolve("zero-run").toString());
            assertEquals("seq4j: /dev/zero: is not a regular file (a FIFO, socket or device); expected a text file",
                    badInput(r));
            // refused with the options, before the backend opened and said so
            assertEquals("", r.out(), "nothing printed before the refusal");
        }, "read /dev/zero");
    }

    /**
     * A copy of the checkpoint {@code from} at {@code to} whose description is {@code meta}. A description from
     * Checkpoint.meta carries no digest (meta drops its keys), so the copy reads as a checkpoint of a seq4j from before
     * the digest, whose values are taken as they are: the edits the tests make with it are refused by the checks they
     * hold, which still guard such checkpoints (EditedDescriptionCommandLineTest edits one with its digest).
     */
    static void withDescription(Path from, Properties meta, Path to) throws IOException {
        try (var in = new java.util.zip.ZipFile(from.toFile());
             var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(to))) {
            for (var entry : java.util.Collections.list(in.entries())) {
                out.putNextEntry(new java.util.zip.ZipEntry(entry.getName()));
                if (entry.getName().equals(Checkpoint.META)) {
                    meta.store(out, null);
                } else {
                    in.getInputStream(entry).transferTo(out);
                }
                out.closeEntry();
            }
        }
    }

    /**
     * A path option given as "" names itself, before anything else is read or opened. --data "" was the working
     * folder: "seq4j: : is a folder; expected a text file", said by eval after it had opened the backend and loaded
     * the model; --checkpoint "" looked for best.npz in the working folder.
     */
    @Test
    void anEmptyPathOptionIsNamedBeforeAnythingElse() {
        Map<List<String>, String> cases = new LinkedHashMap<>();
        cases.put(List.of("train", "addition", "--data", ""), "seq4j: --data is empty; give the data file (or leave "
                + "--data out to train on a generated set)");
        cases.put(List.of("train", "lm", "--data", " ", "--out", dir.resolve("never").toString()),
                "seq4j: --data is empty; give the data file (or leave --data out to train on a generated set)");
        cases.put(List.of("train", "waves", "--out", ""), "seq4j: --out is empty; give the run folder to write (default "
                + "runs/<task>-<model>-<time>)");
        cases.put(List.of("eval", "--checkpoint", run.toString(), "--data", ""), "seq4j: --data is empty; give the file "
                + "to evaluate on (or leave --data out for the training data's held-out part)");
        cases.put(List.of("eval", "--checkpoint", ""), "seq4j: --checkpoint is empty; give a run folder of seq4j "
                + "train, or a .npz in one");
        cases.put(List.of("generate", "--checkpoint", "", "1+1"), "seq4j: --checkpoint is empty; give a run folder of "
                + "seq4j train, or a .npz in one");
        for (var c : cases.entrySet()) {
            List<String> args = new ArrayList<>(c.getKey());
            args.addAll(List.of("--backend", "java"));
            Result r = seq4j(args.toArray(String[]::new));
            assertEquals(c.getValue(), badInput(r), c.getKey().toString());
            assertEquals("", r.out(), c.getKey() + ": nothing read or opened before (no checkpoint, no backend line)");
        }
        assertFalse(Files.exists(dir.resolve("never")));
    }

    @Test
    void messagesQuoteLittleAndPointAtWhatTheUserTyped() throws IOException {
        // a line of a million characters without '_' is quoted in about 80
        Path huge = dir.resolve("huge.txt");
        Files.writeString(huge, "1+1    _2   \n" + "9".repeat(1_000_000) + "\n");
        Path out = dir.resolve("huge-run");
        String e = badInput(seq4j("train", "addition", "--backend", "java", "--data", huge.toString(), "--out",
                out.toString()));
        assertTrue(e.contains("line 2") && e.contains("1000000 characters") && e.length() < huge.toString().length() + 200, e);
        // a folder as --data: the message names it
        e = badInput(seq4j("train", "addition", "--backend", "java", "--data", dir.toString(), "--out", out.toString()));
        assertTrue(e.contains(dir.toString()) && e.contains("folder"), e);
        // generate: the position in the question as typed, not in the reversed, padded one the model reads
        e = badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "12a+3"));
        assertTrue(e.contains("\"12a+3\"") && e.contains("'a'") && e.contains("position 3"), e);
        assertFalse(e.contains("3+a21"), e);
        e = badInput(seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "1234567+1"));
        assertTrue(e.contains("\"1234567+1\"") && e.contains("at most 7"), e);
    }

    @Test
    void anUnwritableRunFolderFailsBeforeTrainingWithTheReason() throws IOException {
        // a regular file where the run folder should be: portable, and not defeated by running as root
        Path file = Files.writeString(dir.resolve("a-file"), "mine");
        String e = badInput(seq4j("train", "addition", "--backend", "java", "--data", data.toString(), "--out",
                file.toString()));
        assertTrue(e.contains("cannot create run folder " + file + ": "), e);
        assertEquals("mine", Files.readString(file));
        // /sys: a folder cannot be made there, nor a file written, even by root; the message says why
        assumeTrue(System.getProperty("os.name").equals("Linux") && Files.isDirectory(Path.of("/sys/kernel")),
                "no Linux /sys here");
        for (String target : List.of("/sys/seq4j-x", "/sys/kernel")) {
            Result r = seq4j("train", "addition", "--backend", "java", "--data", data.toString(), "--out", target);
            e = badInput(r);
            assertTrue(e.matches("seq4j: cannot (create|write) run folder " + target + ": \\S.*"), e);
            assertFalse(r.out().contains("epoch"), "nothing was trained: " + r.out());
        }
    }

    /** Every command answers --help: info answered "Unknown option: '--help' (see seq4j info --help)", exit code 2. */
    @Test
    void everyCommandHasHelp() {
        // the exit codes an interrupted run ends with (see anInterruptedRunSaysWhereItStoppedAndWhatItsFolderKeeps)
        Result top = seq4j("--help");
        assertEquals(0, top.code(), top.err());
        assertTrue(top.out().replaceAll("\\s+", " ").contains("1 internal error, 130 interrupted (Ctrl-C, SIGINT), 143 "
                + "terminated (SIGTERM)"), top.out()); // as picocli wraps it
        for (String command : List.of("train", "eval", "generate", "info")) {
            for (String help : List.of("--help", "-h")) {
                Result r = seq4j(command, help);
                assertEquals(0, r.code(), command + " " + help + ": " + r.err());
                assertTrue(r.out().startsWith("Usage: seq4j " + command), r.out());
                // run() takes --verbose out before parsing; each command's help names it (it was in the root's only)
                assertTrue(r.out().contains("--verbose  ") && r.out().contains("stack trace"), r.out());
            }
            // -V, which each command's help lists, printed nothing (no version provider)
            Result v = seq4j(command, "-V");
            assertEquals(0, v.code(), v.err());
            assertTrue(v.out().startsWith("seq4j "), command + " -V: '" + v.out() + "'");
        }
    }

    /**
     * eval of a run folder whose recorded training data is gone (the folder moved or copied, the data deleted) names the
     * recorded path as the checkpoint's and says to give --data (it said "no such file: ...", of a path never typed).
     */
    @Test
    void evalOfARunWhoseTrainingDataIsGoneSaysToGiveData(@TempDir Path own)
            throws IOException {
        Path run = CliRuns.tinyAttentionRun(own);
        Files.delete(own.resolve("addition.txt"));
        Result r = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("seq4j: the training data ") && r.err().contains(own.resolve("addition.txt")
                + ", is not there (the run folder moved or copied?); give the data to evaluate on with --data"), r.err());
    }

    /** Numbers in ASCII digits only (--epochs in Arabic-Indic digits ran 3 epochs), in range; --verbose takes no value. */
    @Test
    void numbersAreAsciiDigitsAndVerboseTakesNoValue() {
        Result r = seq4j("train", "addition", "--epochs", "\u0663", "--out", dir.resolve("digits").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("seq4j: Invalid value for option '--epochs': '\u0663' is not a whole number in "
                + "the digits 0-9"), r.err());
        r = seq4j("train", "addition", "--epochs", "99999999999", "--out", dir.resolve("digits").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("'99999999999' is out of range: expected -2147483648 to 2147483647"), r.err());
        r = seq4j("train", "addition", "--epochs", "0", "--verbose=true");
        assertEquals(2, r.code(), r.err());
        assertEquals("seq4j: --verbose takes no value, got --verbose=true (see seq4j --help)", r.err().strip());
        assertFalse(Files.exists(dir.resolve("digits")));
    }

    /**
     * A red-team pass over the command line: data that eval and generate refuse is refused by train before it trains
     * (questions of 70,000 characters: a checkpoint they then called corrupt; questions padded on the left), and a
     * user's own addition.txt in a folder given as --out (meant as --data) is not replaced by the generated set.
     */
    @Test
    void trainRefusesWhatItsCheckpointCouldNotServeAndDataInTheWay() throws IOException {
        Path left = dir.resolve("left.txt");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String q = (i % 50) + "+" + (i % 7);
            lines.add(" ".repeat(5 - q.length()) + q + "_" + String.format("%-3d", i % 50 + i % 7));
        }
        Files.write(left, lines);
        Result r = seq4j("train", "addition", "--backend", "java", "--epochs", "1", "--batch", "16", "--hidden", "8",
                "--data", left.toString(), "--out", dir.resolve("left-run").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("starts with a space; expected questions from their first character"), r.err());
        assertFalse(Files.exists(dir.resolve("left-run")), "nothing left of the refused run");

        Path own = Files.createDirectories(dir.resolve("own"));
        Files.writeString(own.resolve("addition.txt"), "1+1_2\n");
        r = seq4j("train", "addition", "--backend", "java", "--epochs", "1", "--lines", "200", "--batch", "16",
                "--hidden", "8", "--out", own.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("holds addition.txt but no checkpoint") && r.err().contains("give --data "
                + own.resolve("addition.txt")), r.err());
        assertEquals("1+1_2\n", Files.readString(own.resolve("addition.txt")), "the user's file as it was");
    }

    /**
     * A file of the run folder that cannot be written is named with the system's reason. A full disk (tried on a
     * 64 KiB tmpfs) said "seq4j: No space left on device" for a checkpoint and "seq4j: I/O error writing PNG file!"
     * for the chart: ImageIO's message, the reason being its cause.
     */
    @Test
    void aFileOfTheRunFolderThatCannotBeWrittenIsNamed() {
        Path chart = dir.resolve("full").resolve("chart.png");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> TrainCommand.writing(chart,
                () -> {
                    throw new javax.imageio.IIOException("I/O error writing PNG file!",
                            new IOException("No space left on device"));
                }));
        assertEquals("cannot write " + chart + ": No space left on device", e.getMessage());
        Path npz = dir.resolve("full").resolve("model.npz");
        e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> TrainCommand.writing(npz, () -> {
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write " + npz + ": No space left on device", e.getMessage());
        // one that names the file already is left as it is
        IOException named = new IOException("cannot write " + npz + ": it is a folder");
        assertEquals(named, org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> TrainCommand.writing(npz, () -> {
                    throw named;
                })));
    }

    /**
     * A file of an epoch that cannot be written ends the run with a line that says what its folder keeps (a red-team
     * find: a full disk at chart.png said which file, not which epoch's checkpoints were left). End to end: a folder
     * named chart.png in the way at the first save, where the run's files are removed.
     */
    @Test
    void aSaveThatFailsSaysWhatTheFolderKeeps() throws IOException {
        Path d = dir.resolve("full-at-4");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> TrainCommand.saving(d, 3,
                4, () -> {
                    throw new IOException("cannot write " + d.resolve("chart.png") + ": No space left on device");
                }));
        assertEquals("cannot write " + d.resolve("chart.png") + ": No space left on device; " + d + " keeps the "
                + "checkpoints of epoch 3 (some may be epoch 4's, whose files were being written; each .npz names its "
                + "epoch)", e.getMessage());
        Path run = dir.resolve("chart-in-the-way");
        Files.createDirectories(run.resolve("chart.png").resolve("x"));
        Result r = seq4j("train", "waves", "--backend", "java", "--epochs", "2", "--hidden", "4", "--out", run.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().strip().endsWith(", before the first checkpoint: the files this run wrote in " + run
                + " are removed, and any it replaced put back"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(run.resolve(Checkpoint.WEIGHTS)), "epoch 1's model.npz removed with the run");
    }

    /**
     * eval without --data reads the training file's held-out part again: a file edited or regenerated since is
     * refused, not scored (it was: its last tenth scored as if held out, questions trained on among them). Line ends
     * do not count; with --data the file is evaluated as it is.
     */
    @Test
    void evalRefusesATrainingFileThatChangedSinceTraining(@TempDir Path tmp) throws IOException {
        Path s2s = CliRuns.tinyAttentionRun(tmp);
        Path file = tmp.resolve("addition.txt");
        String text = Files.readString(file);
        Files.writeString(file, text.replace("\n", "\r\n"));
        assertEquals(0, seq4j("eval", "--checkpoint", s2s.toString(), "--backend", "java").code());
        List<String> lines = new ArrayList<>(text.lines().toList());
        Collections.swap(lines, 0, lines.size() - 1); // a held-out question now in the training part, and back
        Files.write(file, lines);
        String e = badInput(seq4j("eval", "--checkpoint", s2s.toString(), "--backend", "java"));
        assertTrue(e.contains(file.toString()) && e.contains("is no longer the data") && e.contains("--data"), e);
        assertEquals(0, seq4j("eval", "--checkpoint", s2s.toString(), "--backend", "java", "--data", file.toString())
                .code());

        Path lm = tmp.resolve("lm");
        Result r = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "4",
                "--wordvec", "4", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(0, seq4j("eval", "--checkpoint", lm.toString(), "--backend", "java").code());
        Files.writeString(lm.resolve("corpus.txt"), "the\n", java.nio.file.StandardOpenOption.APPEND);
        e = badInput(seq4j("eval", "--checkpoint", lm.toString(), "--backend", "java"));
        assertTrue(e.contains("corpus.txt is no longer the data"), e);
    }

    @Test
    void evalOfALanguageModelOnOtherTextSaysHowMuchOfItWasUnk() throws IOException {
        // every word outside the vocabulary is read as <unk>: a perplexity alone hid that the text was mostly other
        // words (the model then predicts <unk> well and scores low); the count says it
        Path text = dir.resolve("unk-train.txt");
        Files.writeString(text, "the cat sat on <unk> mat\n".repeat(200));
        Path lm = dir.resolve("lm-unk");
        Result r = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "4",
                "--wordvec", "4", "--data", text.toString(), "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        Path other = dir.resolve("unk-other.txt");
        Files.writeString(other, "zebras sat on mat\n".repeat(200)); // zebras: 200 of 1000 words, <eos> included
        Result eval = seq4j("eval", "--checkpoint", lm.toString(), "--backend", "java", "--data", other.toString());
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("words read as <unk>: 200 of 1000 (20.00%: the text's own and those outside the"
                + " model's 7 words)"), eval.out());
    }

    /**
     * eval of a language model's held-out tail prints the valid perplexity its run recorded. The run validated with
     * min(10, --batch) streams of its --time-size steps and eval with 10 streams of up to 35, so any other --batch or
     * --time-size printed another figure for the same words. A checkpoint that does not record them (an older
     * version's) is still evaluated, with 10 streams of up to 35 steps as before.
     */
    @Test
    void evalOfALanguageModelPrintsTheValidPerplexityItsRunRecorded(@TempDir Path tmp) throws IOException {
        Path lm = tmp.resolve("lm");
        Result r = seq4j("train", "lm", "--model", "rnnlm", "--backend", "java", "--epochs", "1", "--batch", "4",
                "--time-size", "10", "--hidden", "8", "--wordvec", "8", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        List<String> csv = Files.readAllLines(lm.resolve("metrics.csv"));
        assertEquals("epoch,train_loss,valid_perplexity,seconds", csv.get(0));
        String recorded = String.format("%.2f", Double.parseDouble(csv.get(1).split(",")[2]));
        Result eval = seq4j("eval", "--checkpoint", lm.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        Matcher m = Pattern.compile(": perplexity ([0-9]+\\.[0-9]+)").matcher(eval.out());
        assertTrue(m.find(), eval.out());
        assertEquals(recorded, m.group(1), "metrics.csv's valid perplexity against eval's\n" + eval.out());
        assertTrue(eval.out().contains(m.group() + " (4 streams of 10 steps)\n"), eval.out());

        Properties meta = Checkpoint.meta(lm.resolve("best.npz"));
        assertEquals(List.of("4", "10"), List.of(meta.getProperty("valid_batch"), meta.getProperty("valid_time")));
        meta.remove("valid_batch");
        meta.remove("valid_time");
        Path old = lm.resolve("older.npz"); // beside vocabulary.txt, which eval reads
        withDescription(lm.resolve("best.npz"), meta, old);
        Result older = seq4j("eval", "--checkpoint", old.toString(), "--backend", "java");
        assertEquals(0, older.code(), older.err());
        assertTrue(older.out().contains(" (10 streams of 35 steps)\n"), older.out());
    }

    @Test
    void aRunWhoseRateWouldTakeTheWeightsPastFloatsRangeStopsAndLeavesNoRunFolder() {
        // a learning rate near the float maximum: the first step moves the weights to ~1e38, and the second, which
        // would take them past float's range (it did, and the loss became infinite a step later), is refused
        Path out = dir.resolve("nan");
        Result r = seq4j("train", "addition", "--model", "baseline", "--backend", "java", "--epochs", "1", "--batch",
                "32", "--hidden", "8", "--wordvec", "4", "--optimizer", "sgd", "--lr", "3e38", "--clip", "0",
                "--data", data.toString(), "--out", out.toString());
        String e = badInput(r);
        assertTrue(e.startsWith("seq4j: SGD.step: the update would take ") && e.contains("past half of float's range")
                && e.contains("nothing was updated (try a smaller learning rate)"), e);
        assertFalse(Files.exists(out), "no checkpoint was written: the run folder is removed");
    }

    /**
     * A language-model run into the folder of an earlier one that fails before its first checkpoint (here its
     * learning rate would take the weights past float's range) leaves that folder as it was. It deleted only the files it added: its vocabulary.txt, of another text
     * (the same words first seen in another order), stayed beside the earlier run's checkpoints, and generate read
     * the two together without a word.
     */
    @Test
    void aRunThatFailsBeforeItsFirstCheckpointLeavesTheEarlierRunInItsFolderAsItWas(@TempDir Path tmp)
            throws IOException {
        Path lm = tmp.resolve("lm");
        Result first = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "4",
                "--wordvec", "4", "--out", lm.toString());
        assertEquals(0, first.code(), first.out() + first.err());
        Map<String, byte[]> before = new java.util.TreeMap<>();
        try (var files = Files.list(lm)) {
            for (Path f : files.toList()) {
                before.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        List<String> lines = new ArrayList<>(Files.readAllLines(lm.resolve("corpus.txt")));
        Collections.reverse(lines);
        Path other = Files.write(tmp.resolve("other.txt"), lines);
        String e = badInput(seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden",
                "4", "--wordvec", "4", "--optimizer", "sgd", "--lr", "3e38", "--clip", "0", "--data", other.toString(),
                "--out", lm.toString()));
        assertTrue(e.contains("SGD.step: the update would take ") && e.contains("nothing was updated"), e);
        try (var files = Files.list(lm)) {
            assertEquals(before.keySet(), files.map(f -> f.getFileName().toString()).collect(Collectors.toSet()));
        }
        for (var f : before.entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(lm.resolve(f.getKey())), f.getKey() + " as it was");
        }
    }

    @Test
    void aGruRunIsEvaluatedAndAnsweredWithItsGru() throws IOException {
        // --cell gru: the description records it, and eval / generate rebuild the GRU model from it
        Path out = dir.resolve("gru");
        Result r = seq4j("train", "addition", "--model", "peeky", "--cell", "gru", "--backend", "java", "--epochs", "1",
                "--batch", "32", "--hidden", "8", "--wordvec", "4", "--data", data.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("model: addition peeky gru"), r.out());
        assertEquals("gru", Checkpoint.meta(out.resolve("model.npz")).getProperty("cell"));
        Result eval = seq4j("eval", "--checkpoint", out.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("addition peeky gru on ") && eval.out().contains("test accuracy"), eval.out());
        Result gen = seq4j("generate", "--checkpoint", out.toString(), "--backend", "java", "12+3");
        assertEquals(0, gen.code(), gen.err());
        Result beam = seq4j("eval", "--checkpoint", out.toString(), "--backend", "java", "--beam", "3");
        assertEquals(0, beam.code(), beam.err());
        assertTrue(beam.out().contains("test accuracy"), beam.out());

        assertTrue(badInput(seq4j("train", "addition", "--cell", "rnn")).contains("expected lstm or gru"));
        String e = badInput(seq4j("train", "waves", "--cell", "gru"));
        assertTrue(e.contains("--cell gru") && e.contains("no choice of cell"), e);
        e = badInput(seq4j("train", "lm", "--model", "simple", "--cell", "gru"));
        assertTrue(e.contains("no choice of cell"), e);
    }

    @Test
    void aBidirectionalGruRunIsEvaluatedAndAnsweredWithItsTwoGrus() throws IOException {
        // --bidirectional --cell gru: the encoder is two GRUs (encoder.gru.forward_gru.*, backward_gru.*); the
        // description records both, and eval / generate rebuild that model from it (another would not load)
        Path out = dir.resolve("bigru");
        Result r = seq4j("train", "addition", "--model", "attention", "--bidirectional", "--cell", "gru", "--backend",
                "java", "--epochs", "1", "--batch", "32", "--hidden", "8", "--wordvec", "4", "--data", data.toString(),
                "--out", out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        Properties meta = Checkpoint.meta(out.resolve("model.npz"));
        assertEquals("gru", meta.getProperty("cell"));
        assertEquals("true", meta.getProperty("bidirectional"));
        Result eval = seq4j("eval", "--checkpoint", out.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        // the heading names the model as trained (it said "addition attention on ...")
        assertTrue(eval.out().contains("addition attention gru bidirectional on ") && eval.out().contains("test accuracy"),
                eval.out());
        Result gen = seq4j("generate", "--checkpoint", out.toString(), "--backend", "java", "--beam", "2", "12+3");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().contains("12+3 -> "), gen.out());
    }

    /** A command with a bug: what an internal error looks like from the outside. */
    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new IllegalStateException("an invariant broke");
        }
    }

    @Test
    void internalErrorsExitWith1AndBadInputWith2() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cli = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), false);
        cli.addSubcommand("boom", new Boom());
        assertEquals(1, cli.execute("boom"));
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("internal error") && err.toString().contains("an invariant broke"),
                err.toString());
        assertEquals(2, seq4j("train", "addition", "--epochs", "zero").code(), "a usage error");
        assertEquals(2, seq4j("frobnicate").code(), "an unknown command");
        // it said picocli's "Unmatched argument at index 0: 'frobnicate'", naming no command there is
        assertTrue(seq4j("frobnicate").err().startsWith("seq4j: unknown command 'frobnicate'; the commands are train, "
                + "eval, generate, info, help (see seq4j --help)"), seq4j("frobnicate").err());
        // seq4j help frobnicate said picocli's "Unknown subcommand 'frobnicate'.", naming none there is
        Result help = seq4j("help", "frobnicate");
        assertEquals("seq4j: unknown command 'frobnicate'; the commands are train, eval, generate, info, help "
                + "(see seq4j --help)", badInput(help));
        assertEquals(0, seq4j("help", "eval").code(), "help for a command there is");
        assertEquals(2, Main.exitCode(new java.io.UncheckedIOException(new IOException("disk"))));
        assertEquals(1, Main.exitCode(new NullPointerException()));
        assertEquals(1, Main.exitCode(new IllegalArgumentException("a library check that the CLI should have made")));
        // MPI missing when --distributed mpi asked for it, or an MPI call that failed: the setup, not a bug
        assertEquals(2, Main.exitCode(new org.seq4j.dist.DistributedException("no Open MPI library")));
        // diverged training, or inputs that hold an infinity: as a non-finite loss, the run's input, not a bug
        assertEquals(2, Main.exitCode(new org.seq4j.optim.NonFiniteLossException(Float.NaN, 3)));
        assertEquals(2, Main.exitCode(new org.seq4j.optim.NonFiniteGradientException("clip", "lstm.Wx", "NaN")));
    }

    // ---- the backend as seq4j selects it, in fresh JVMs (a JVM loads OpenBLAS once) --------------------

    /**
     * --threads with a backend that the environment chose (SEQ4J_BACKEND=java) was dropped without a word, where
     * --backend java --threads 2 is refused; and output that cannot be written (stdout on /dev/full) exited 0 with the
     * answers lost. Fresh JVMs: the environment, and the real standard output.
     */
    @Test
    void threadsWithAnotherBackendAndOutputThatCannotBeWrittenAreRefused() throws Exception {
        String cp = System.getProperty("java.class.path");
        Result r = fresh(Map.of("SEQ4J_BACKEND", "java"), List.of(), cp, "train", "addition", "--epochs", "1",
                "--lines", "200", "--batch", "16", "--hidden", "8", "--threads", "2", "--out",
                dir.resolve("threads").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--threads sets the openblas backend's CPU threads; the backend forced here, java"),
                r.err());
        assertFalse(Files.exists(dir.resolve("threads")), "nothing left of the refused run");
        // the environment's settings are checked with the options, before the data is generated: these were refused
        // only as the backend opened, after "data: generated 200 lines ..." had been printed
        Map<Map<String, String>, String> settings = Map.of(
                Map.of("SEQ4J_BACKEND", "nope"), "SEQ4J_BACKEND=nope: unknown backend 'nope'",
                Map.of("SEQ4J_THREADS", "abc"), "SEQ4J_THREADS must be a whole number, got 'abc'");
        for (var setting : settings.entrySet()) {
            Result bad = fresh(setting.getKey(), List.of(), cp, "train", "addition", "--epochs", "1", "--lines", "200",
                    "--out", dir.resolve("env").toString());
            assertEquals(2, bad.code(), setting + ": " + bad.out() + bad.err());
            assertTrue(bad.err().contains(setting.getValue()), setting + ": " + bad.err());
            assertEquals("", bad.out(), setting + ": nothing done before the refusal");
            assertFalse(Files.exists(dir.resolve("env")), setting + " left a run folder");
        }
        // the java backend reads no thread count: a malformed one does not stop it, as before
        Result onJava = fresh(Map.of("SEQ4J_THREADS", "abc"), List.of(), cp, "train", "addition", "--backend", "java",
                "--epochs", "1", "--lines", "200", "--batch", "16", "--hidden", "8", "--out",
                dir.resolve("javaThreads").toString());
        assertEquals(0, onJava.code(), onJava.out() + onJava.err());

        java.io.File full = new java.io.File("/dev/full");
        assumeTrue(full.exists(), "no /dev/full here to make standard output fail");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", cp, Main.class.getName(), "--version")
                .redirectOutput(full).redirectError(ProcessBuilder.Redirect.PIPE).start();
        String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(1, p.exitValue(), err);
        assertTrue(err.startsWith("seq4j: could not write all of its output to standard output (No space left"), err);
    }

    /**
     * README's bad input, for settings read only as the backend or MPI loads (after the data was generated): a
     * SEQ4J_POOL_WORKERS the pool cannot start, a -Dseq4j.gemm the backend does not take (its constructor throws), and
     * an MPI library that does not load under --distributed mpi each end with one line and exit code 2, and leave
     * nothing behind: no run folder where there was none, a folder that was there as it was.
     */
    @Test
    void settingsReadAsTheBackendOrMpiLoadsEndInOneLineAndLeaveNothingBehind() throws Exception {
        String cp = System.getProperty("java.class.path");
        record Setting(Map<String, String> env, List<String> jvm, List<String> more, String says) { }
        List<Setting> settings = List.of(
                new Setting(Map.of("SEQ4J_POOL_WORKERS", "abc"), List.of(), List.of(), "SEQ4J_POOL_WORKERS=abc: "),
                new Setting(Map.of(), List.of("-Dseq4j.gemm=blas"), List.of(),
                        "-Dseq4j.gemm must be auto or openblas, got 'blas'"),
                new Setting(Map.of("SEQ4J_MPI", dir.resolve("no-such-libmpi.so").toString()), List.of(),
                        List.of("--distributed", "mpi"), "SEQ4J_MPI does not load"));
        for (Setting setting : settings) {
            for (boolean existing : new boolean[] {false, true}) {
                Path out = dir.resolve("loads-" + existing);
                if (existing) {
                    Files.writeString(Files.createDirectories(out).resolve("notes.txt"), "mine");
                }
                List<String> args = new ArrayList<>(List.of("train", "addition", "--epochs", "1", "--lines", "200",
                        "--out", out.toString()));
                args.addAll(setting.more());
                Result r = fresh(setting.env(), setting.jvm(), cp, args.toArray(String[]::new));
                assertEquals(2, r.code(), setting + ": " + r.out() + r.err());
                assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
                assertTrue(r.err().startsWith("seq4j: ") && r.err().contains(setting.says()), setting + ": " + r.err());
                if (existing) {
                    try (var files = Files.list(out)) {
                        assertEquals(List.of(out.resolve("notes.txt")), files.toList(), setting + ": the folder as it was");
                    }
                    assertEquals("mine", Files.readString(out.resolve("notes.txt")));
                    Files.delete(out.resolve("notes.txt"));
                    Files.delete(out);
                } else {
                    assertFalse(Files.exists(out), setting + " left a run folder");
                }
            }
        }
    }

    /** Runs Main in a fresh JVM without a GPU; returns its exit code, stdout and stderr. */
    private static Result fresh(List<String> jvmOptions, String classPath, String... args) throws Exception {
        return fresh(Map.of(), jvmOptions, classPath, args);
    }

    /** As above, with these environment variables set in the child. */
    private static Result fresh(Map<String, String> env, List<String> jvmOptions, String classPath, String... args)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath));
        cmd.addAll(jvmOptions);
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("CUDA_VISIBLE_DEVICES", ""); // cuda unavailable, so selection reaches openblas
        pb.environment().remove("SEQ4J_OPENBLAS");
        pb.environment().remove("SEQ4J_BACKEND");
        pb.environment().putAll(env);
        Path stdout = Files.createTempFile(dir, "out", ".txt"), stderr = Files.createTempFile(dir, "err", ".txt");
        Process p = pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 120 s: " + Files.readString(stderr));
        }
        return new Result(p.exitValue(), Files.readString(stdout), Files.readString(stderr));
    }

    /**
     * A language model's words that the terminal's encoding cannot show (LC_ALL=C: US-ASCII) printed as '?' with nothing
     * said (a red-team find); generate now says so once on stderr, and prints the line as before. A UTF-8 terminal
     * shows them and hears nothing.
     */
    @Test
    void wordsTheTerminalCannotShowAreSaidOnce() throws IOException {
        Path text = Files.writeString(dir.resolve("cafe.txt"), "the café is naïve and the cat is not\n".repeat(40));
        Path lm = dir.resolve("lm-cafe");
        Result trained = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden",
                "4", "--wordvec", "4", "--data", text.toString(), "--out", lm.toString());
        assertEquals(0, trained.code(), trained.out() + trained.err());
        String before = System.getProperty("stdout.encoding");
        try {
            for (String encoding : new String[] {"US-ASCII", "UTF-8"}) {
                System.setProperty("stdout.encoding", encoding);
                Result r = seq4j("generate", "--checkpoint", lm.toString(), "--backend", "java", "--start", "café",
                        "--length", "3");
                assertEquals(0, r.code(), r.out() + r.err());
                assertTrue(r.out().lines().anyMatch(l -> l.startsWith("café ")), r.out());
                long said = r.err().lines().filter(l -> l.contains("cannot show some of these words")).count();
                assertEquals(encoding.equals("UTF-8") ? 0 : 1, said, encoding + ": " + r.err());
            }
        } finally {
            if (before == null) {
                System.clearProperty("stdout.encoding");
            } else {
                System.setProperty("stdout.encoding", before);
            }
        }
    }

    /**
     * In LC_ALL=C the JVM decodes a non-ASCII argument's bytes as U+FFFD each: a --start word in another script arrived
     * as '??' and was refused as a word the model does not know (a red-team find). The command line is now refused
     * first, naming the argument and the locale's encoding; the same words in a UTF-8 locale get past that check (here
     * to the checkpoint that does not exist).
     */
    @Test
    void argumentsTheLocaleCannotDecodeAreRefusedFirst() throws Exception {
        String[] args = {"generate", "--checkpoint", dir.resolve("none").toString(), "--start", "日本"};
        Result c = fresh(Map.of("LC_ALL", "C"), List.of(), System.getProperty("java.class.path"), args);
        assertEquals(2, c.code(), c.out() + c.err());
        assertEquals("seq4j: argument 5 (??????) has bytes that this locale's encoding, ANSI_X3.4-1968, cannot decode "
                + "(shown as '?'); run seq4j in a UTF-8 locale, e.g. LC_ALL=C.UTF-8", c.err().strip());
        assertEquals("", c.out());
        Result u = fresh(Map.of("LC_ALL", "C.UTF-8"), List.of(), System.getProperty("java.class.path"), args);
        assertEquals(2, u.code(), u.out() + u.err());
        assertFalse(u.err().contains("cannot decode"), u.err());
        assertTrue(u.err().contains("none"), u.err());
    }

    /**
     * Interrupted while an epoch's files were written (model.npz of epoch 2 beside best.npz and metrics of epoch 1), the
     * line said the folder kept epoch 1's checkpoints (a red-team find); it says some may be epoch 2's now.
     */
    @Test
    void anInterruptWhileAnEpochIsSavedSaysItsFilesMayBeMixed() {
        Path d = Path.of("runs", "x");
        assertEquals("seq4j: interrupted in epoch 2/3, step 351/351; " + d + " keeps the checkpoints of epoch 1 (some may"
                + " be epoch 2's, whose files were being written; each .npz names its epoch)",
                TrainCommand.interrupted("epoch 2/3, step 351/351", d, 1, 2));
        assertEquals("seq4j: interrupted in epoch 3/3, step 5/351; " + d + " keeps the checkpoints of epoch 2",
                TrainCommand.interrupted("epoch 3/3, step 5/351", d, 2, 2));
        assertTrue(TrainCommand.interrupted(null, d, 0, 1).endsWith(", before the first checkpoint: the files this run"
                + " wrote in " + d + " are removed, and any it replaced put back"));
    }

    /**
     * An interrupted run (SIGTERM, as Ctrl-C or a killed job) ends with one line on stderr saying where it stopped and
     * what its folder keeps: before the first checkpoint the folder is removed, after it the checkpoints stay. It used to
     * end without a word. The addition model at its full size (epochs of about 2 s here): the signal comes at the first
     * quarter of epoch 1, or once epoch 2 started (epoch 1's checkpoint written).
     */
    @Test
    void anInterruptedRunSaysWhereItStoppedAndWhatItsFolderKeeps() throws Exception {
        for (boolean afterCheckpoint : new boolean[] {false, true}) {
            Path run = dir.resolve(afterCheckpoint ? "interrupted-kept" : "interrupted-removed");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "train", "addition", "--model", "peeky", "--epochs", "100", "--out",
                    run.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("CUDA_VISIBLE_DEVICES", "");
            Path stderr = Files.createTempFile(dir, "err", ".txt");
            Process p = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
            try {
                String wait = afterCheckpoint ? "epoch 2/100: step" : "epoch 1/100: step";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
                while (!Files.readString(stderr).contains(wait)) {
                    assertTrue(p.isAlive(), "the run ended before '" + wait + "':\n" + Files.readString(stderr));
                    assertTrue(System.nanoTime() < deadline, "no '" + wait + "' in 180 s:\n" + Files.readString(stderr));
                    Thread.sleep(20);
                }
                p.destroy(); // SIGTERM: the shutdown hooks run
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the run did not end on SIGTERM");
                assertEquals(143, p.exitValue(), "128 + SIGTERM, as seq4j --help says");
            } finally {
                p.destroyForcibly();
            }
            String err = Files.readString(stderr);
            List<String> said = err.lines().filter(l -> l.startsWith("seq4j: interrupted")).toList();
            assertEquals(1, said.size(), err);
            // no progress after it (the training thread runs until the JVM halts, and its lines followed this one)
            assertTrue(err.lines().dropWhile(l -> !l.startsWith("seq4j: interrupted")).skip(1)
                    .noneMatch(l -> l.startsWith("epoch ")), err);
            if (afterCheckpoint) {
                assertTrue(said.get(0).matches("seq4j: interrupted in epoch \\d+/100, step \\d+/351; "
                        + Pattern.quote(run.toString()) + " keeps the checkpoints of epoch \\d+"), said.get(0));
                assertTrue(Files.isRegularFile(run.resolve(Checkpoint.WEIGHTS)), "the checkpoint stays");
            } else {
                assertTrue(said.get(0).matches("seq4j: interrupted in epoch 1/100, step \\d+/351, before the first "
                        + "checkpoint: the files this run wrote in " + Pattern.quote(run.toString()) + " are removed, "
                        + "and any it replaced put back"),
                        said.get(0));
                assertFalse(Files.exists(run), "the run folder is removed");
            }
        }
    }

    /**
     * eval (and generate) interrupted: one line on stderr, exit code 128 + the signal. They ended with 143 and no word.
     * The java backend over the test part of 500,000 questions (about 8 s here): SIGTERM once the backend line is out.
     */
    @Test
    void anInterruptedEvalSaysSo() throws Exception {
        Path big = dir.resolve("addition-500k.txt");
        ToySet.ADDITION.write(big, 500_000, 5);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "eval", "--checkpoint", run.toString(), "--backend", "java", "--data", big.toString());
        Path stdout = Files.createTempFile(dir, "out", ".txt"), stderr = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.readString(stdout).contains("backend: java")) {
                assertTrue(p.isAlive(), "eval ended before its backend line:\n" + Files.readString(stdout)
                        + Files.readString(stderr));
                assertTrue(System.nanoTime() < deadline, "no backend line in 120 s");
                Thread.sleep(20);
            }
            p.destroy(); // SIGTERM: the shutdown hooks run
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "eval did not end on SIGTERM");
            assertEquals(143, p.exitValue(), "128 + SIGTERM: " + Files.readString(stdout));
        } finally {
            p.destroyForcibly();
        }
        assertEquals("seq4j: interrupted; eval writes no file, so none is left half-written",
                Files.readString(stderr).strip(), "one line, and only it");
        assertFalse(Files.readString(stdout).contains(big + ": test accuracy"), "stopped before its result");
    }

    @Test
    void anExplicitOpenBlasThatDoesNotLoadIsAnErrorNotASlowFallback() throws Exception {
        // a text file; a library that is not OpenBLAS; an ELF header and nothing after it (dlopen's own error,
        // before which the JVM may print its own warning about the stack guard)
        Path text = Files.writeString(dir.resolve("libopenblas-text.so"), "not a library");
        Path notBlas = Path.of(System.getProperty("java.home"), "lib", "libextnet.so");
        Path junk = dir.resolve("libopenblas-junk.so");
        byte[] elf = new byte[64];
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        Files.write(junk, elf);
        Map<Path, String> cases = new java.util.LinkedHashMap<>();
        cases.put(text, "not a shared library");
        if (Files.exists(notBlas)) {
            cases.put(notBlas, "not OpenBLAS");
        }
        cases.put(junk, "cannot load OpenBLAS");
        for (var c : cases.entrySet()) {
            Path out = dir.resolve("explicit-openblas");
            Result r = fresh(List.of("-Dseq4j.openblas=" + c.getKey()), System.getProperty("java.class.path"),
                    "train", "waves", "--epochs", "1", "--hidden", "4", "--out", out.toString());
            assertEquals(2, r.code(), r.out() + r.err());
            List<String> ours = r.err().lines().filter(l -> l.startsWith("seq4j")).toList();
            assertEquals(1, ours.size(), r.err());
            String e = ours.get(0);
            assertTrue(e.contains(c.getValue()) && e.contains("-Dseq4j.openblas"), e);
            assertEquals(1, e.split(Pattern.quote(c.getKey().toString()), -1).length - 1, "the path once: " + e);
            if (!c.getKey().equals(junk)) {
                assertEquals(1, r.err().strip().lines().count(), r.err());
            }
            assertFalse(r.out().contains("backend: java"), r.out());
            assertFalse(Files.exists(out), "a failed run leaves no run folder");
        }
        // seq4j info shows the setting as the reason, and that a command would end in that error
        Result info = fresh(List.of("-Dseq4j.openblas=" + text), System.getProperty("java.class.path"), "info");
        assertEquals(0, info.code(), info.out() + info.err());
        assertTrue(info.out().contains("openblas  unavailable: " + text + " is not a shared library")
                && info.out().contains("selected  none, an error: "), info.out());
    }

    /** The backend chosen is logged at DEBUG (JUL's FINE), no longer INFO: --verbose still shows it. */
    @Test
    void verboseShowsTheBackendChosen() {
        Result quiet = seq4j("info");
        assertEquals(0, quiet.code(), quiet.out() + quiet.err());
        assertFalse(quiet.err().contains("using backend"), quiet.err());
        Result verbose = seq4j("info", "--verbose");
        assertEquals(0, verbose.code(), verbose.out() + verbose.err());
        assertTrue(verbose.err().lines().anyMatch(l -> l.startsWith("seq4j: FINE: using backend ")), verbose.err());
    }

    @Test
    void anAutomaticFallbackToJavaIsOneWarningLineWithTheReason() throws Exception {
        // without the OpenBLAS jar (and no system OpenBLAS) the openblas backend cannot load
        assumeTrue(List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib")
                .stream().noneMatch(f -> Files.exists(Path.of(f, "libopenblas.so.0"))), "a system OpenBLAS is installed");
        String[] entries = System.getProperty("java.class.path").split(File.pathSeparator);
        // Maven's repository path of org.bytedeco:openblas, or gpu-check's slimmed copy of its libraries
        String classPath = Arrays.stream(entries).filter(s -> !s.contains("bytedeco" + File.separator + "openblas")
                        && !Path.of(s).getFileName().toString().startsWith("openblas-"))
                .collect(Collectors.joining(File.pathSeparator));
        assertTrue(classPath.length() < String.join(File.pathSeparator, entries).length(),
                "the OpenBLAS jar is on the test class path");
        Path out = dir.resolve("fallback");
        Result r = fresh(List.of(), classPath, "train", "waves", "--epochs", "1", "--hidden", "4", "--out",
                out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("backend: java"), r.out());
        List<String> warnings = r.err().lines().filter(l -> l.contains("WARNING")).toList();
        assertEquals(1, warnings.size(), r.err());
        assertTrue(warnings.get(0).startsWith("seq4j: WARNING: ") && warnings.get(0).contains("java")
                && warnings.get(0).contains("no OpenBLAS found"), warnings.get(0));
    }
}
