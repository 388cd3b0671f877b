// Data-parallel training over real MPI: `mpirun -np 2` child processes (DataParallelMain) against the same
// training in one process here. Two ranks with N/2 rows each must end with the parameters of one process with
// N rows (up to float summation order), both ranks bit-identical; a killed or stalled rank must end the job
// within seconds; ranks with different models must all end with one line. Skipped, with the reason, where
// mpirun is not installed (scripts/test's CI entry .ci/run installs Open MPI).
package org.seq4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.seq4j.backend.Backend;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.optim.Optimizer;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Batches;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.Seq2seqEval;
import org.seq4j.train.Trainer;

class DataParallelTest {
    /**
     * Per element: |2 ranks - 1 process| <= ATOL + RTOL * |1 process| after 4 steps: float summation order only
     * (seen: at most 1.2e-7). Weighting the shards' gradients wrongly (1 instead of rows / N) misses by 6e-3 or more.
     */
    static final float ATOL = 1e-6f, RTOL = 1e-5f;
    static final long CHILD_TIMEOUT_S = 180;

    @TempDir
    Path dir;

    static Path mpirun;

    @BeforeAll
    static void findMpirun() {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(folder, "mpirun");
            if (!folder.isEmpty() && Files.isExecutable(p)) {
                mpirun = p;
                break;
            }
        }
        assumeTrue(mpirun != null, "mpirun is not on PATH: Open MPI is not installed here "
                + "(Debian: apt-get install openmpi-bin libopenmpi-dev; .ci/run does this)");
        assumeTrue(MpiLibrary.probe().available(), () -> "libmpi does not load: " + MpiLibrary.probe().detail());
    }

    /** mpirun as root too (containers, CI), more ranks than cores, and the java of this JVM with its class path. */
    static List<String> mpirun(int ranks) {
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--allow-run-as-root", "--oversubscribe", "-np",
                Integer.toString(ranks)));
        cmd.addAll(java());
        return cmd;
    }

    static List<String> java() {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dseq4j.threads=1", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"));
    }

    record Run(int exit, String output, double seconds) {
    }

    /** Runs cmd with a hard timeout: on expiry it and every descendant are killed and the test fails. */
    static Run run(List<String> cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = ("reading output failed: " + e).getBytes(StandardCharsets.UTF_8);
            }
        });
        if (!p.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            reader.join(5000);
            fail("did not end within " + CHILD_TIMEOUT_S + " s: " + cmd + "\n"
                    + (out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8)));
        }
        reader.join();
        return new Run(p.exitValue(), new String(out[0], StandardCharsets.UTF_8), (System.nanoTime() - t0) / 1e9);
    }

    record RankResult(float loss, float eval, float[] values) {
    }

    static RankResult read(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            float loss = in.readFloat();
            float eval = in.readFloat();
            float[] v = new float[in.readInt()];
            for (int i = 0; i < v.length; i++) {
                v[i] = in.readFloat();
            }
            return new RankResult(loss, eval, v);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"seq2seq, adam", "seq2seq, sgd", "attention, adam", "attention, sgd"})
    void twoRanksWithHalfTheBatchFollowOneProcessWithAll(String kind, String optimizer) throws Exception {
        Path prefix = dir.resolve("out");
        List<String> cmd = mpirun(2);
        cmd.addAll(List.of(DataParallelMain.class.getName(), "train", kind, optimizer, prefix.toString()));
        Run r = run(cmd);
        assertEquals(0, r.exit(), r.output());
        RankResult r0 = read(Path.of(prefix + ".rank0")), r1 = read(Path.of(prefix + ".rank1"));
        // rank 1 started from other weights (seed + 1): the broadcast and identical updates make the replicas equal
        assertArrayEquals(r0.values(), r1.values(), "the two ranks' parameters differ");
        assertEquals(r0.loss(), r1.loss());
        assertEquals(r0.eval(), r1.eval());

        // the same K steps in this process with the whole batch
        Backend backend = TestBackends.get("openblas");
        float[] ref;
        float refLoss;
        int refCorrect;
        try (Seq2seqModel m = DataParallelMain.model(kind, backend, DataParallelMain.H, DataParallelMain.SEED);
             Optimizer opt = DataParallelMain.optimizer(optimizer);
             Trainer t = new Trainer(m, opt, DataParallelMain.CLIP, DataParallelMain.SEED)) {
            refLoss = t.fitEpoch(1, Batches.of(DataParallelMain.pairs(DataParallelMain.STEPS * DataParallelMain.BATCH, 1)),
                    DataParallelMain.BATCH, new Trainer.Listener() {
                    });
            ref = m.store().values().toFloatArray();
            refCorrect = Seq2seqEval.evaluate(m, DataParallelMain.pairs(DataParallelMain.TEST, 2),
                    DataParallelMain.vocabulary(), false, 0, 7, 0).correct();
        }
        assertClose(kind + " " + optimizer, ref, r0.values());
        assertEquals(refLoss, r0.loss(), 1e-5 + 1e-5 * Math.abs(refLoss), "mean loss of the epoch");
        assertEquals(refCorrect, r0.eval(), "correct answers of the split evaluation");
        // the run must have moved the weights, or the comparison above would prove nothing
        try (Seq2seqModel start = DataParallelMain.model(kind, backend, DataParallelMain.H, DataParallelMain.SEED)) {
            assertFalse(java.util.Arrays.equals(start.store().values().toFloatArray(), ref), "training changed nothing");
        }
    }

    /** Every parameter within ATOL + RTOL * |one process's|; names the worst one otherwise. */
    static void assertClose(String what, float[] ref, float[] got) {
        assertEquals(ref.length, got.length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < ref.length; i++) {
            double excess = Math.abs(got[i] - ref[i]) - (ATOL + RTOL * Math.abs(ref[i]));
            if (worstAt < 0 || excess > worst) {
                worst = excess;
                worstAt = i;
            }
        }
        System.out.printf("data parallel %s: max |2 ranks - 1 process| = %.3g%n", what, maxDiff(got, ref));
        assertTrue(worst <= 0, what + ": parameter " + worstAt + ": 2 ranks " + got[worstAt] + ", 1 process "
                + ref[worstAt] + " (tolerance " + ATOL + " + " + RTOL + "*|ref|)");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"adam", "sgd"})
    void twoRanksWithHalfTheStreamsFollowOneProcessWithAll(String optimizer) throws Exception {
        Path prefix = dir.resolve("out");
        List<String> cmd = mpirun(2);
        cmd.addAll(List.of(DataParallelMain.class.getName(), "train", "rnnlm", optimizer, prefix.toString()));
        Run r = run(cmd);
        assertEquals(0, r.exit(), r.output());
        RankResult r0 = read(Path.of(prefix + ".rank0")), r1 = read(Path.of(prefix + ".rank1"));
        assertArrayEquals(r0.values(), r1.values(), "the two ranks' parameters differ");
        assertEquals(r0.eval(), r1.eval());

        Backend backend = TestBackends.get("openblas");
        try (Rnnlm m = new Rnnlm(backend, DataParallelMain.LM_V, DataParallelMain.D, DataParallelMain.H, DataParallelMain.SEED);
             Optimizer opt = DataParallelMain.optimizer(optimizer);
             RnnlmTrainer t = new RnnlmTrainer(m, opt, DataParallelMain.CLIP)) {
            double ppl = t.fitEpoch(1, DataParallelMain.corpus(DataParallelMain.STEPS * DataParallelMain.LM_BATCH
                    * DataParallelMain.LM_TIME + 1, 1), DataParallelMain.LM_BATCH, DataParallelMain.LM_TIME,
                    new Trainer.Listener() {
                    });
            double valid = t.evalPerplexity(DataParallelMain.corpus(3 * DataParallelMain.LM_BATCH
                    * DataParallelMain.LM_TIME + 1, 2), DataParallelMain.LM_BATCH, DataParallelMain.LM_TIME);
            assertClose("rnnlm " + optimizer, m.store().values().toFloatArray(), r0.values());
            assertEquals(ppl, r0.loss(), 1e-4 * ppl, "training perplexity");
            assertEquals(valid, r0.eval(), 1e-4 * valid, "validation perplexity of the split evaluation");
        }
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
        Run r = run(cmd);
        assertEquals(0, r.exit(), r.output());
        assertEquals(1, count(r.output(), "distributed: data-parallel, MPI rank 0 of 2"), r.output());
        assertEquals(1, count(r.output(), "epoch 1/1: loss"), "only rank 0 reports:\n" + r.output());
        for (String f : List.of("model.npz", "model.properties", "metrics.csv", "chart.png", "addition.txt")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing:\n" + r.output());
        }
        // the same run in one process ends with the same loss (4 decimals) and accuracy
        java.io.StringWriter single = new java.io.StringWriter();
        List<String> args = new ArrayList<>(cliTrain(dir.resolve("single"), 16).subList(1, cliTrain(out, 16).size()));
        args.addAll(List.of("--distributed", "none"));
        int exit = org.seq4j.cli.Main.run(new java.io.PrintWriter(single, true), new java.io.PrintWriter(
                java.io.Writer.nullWriter()), args.toArray(String[]::new));
        assertEquals(0, exit, single.toString());
        assertEquals(line(single.toString(), "epoch 1/1: loss").replaceAll(", [0-9.]+ s$", ""),
                line(r.output(), "epoch 1/1: loss").replaceAll(", [0-9.]+ s$", ""));
    }

    @Test
    void ranksStartedWithDifferentArgumentsEndWithOneLineEach() throws Exception {
        // one mpirun, two programs (MPMD): rank 0 with H = 16, rank 1 with H = 17; the command line's check comes
        // first, before the trainer's check of the model's layout
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--allow-run-as-root", "--oversubscribe", "-np", "1"));
        cmd.addAll(java());
        cmd.addAll(cliTrain(dir.resolve("a"), 16));
        cmd.addAll(List.of(":", "-np", "1"));
        cmd.addAll(java());
        cmd.addAll(cliTrain(dir.resolve("b"), 17));
        Run r = run(cmd);
        assertEquals(2, r.exit(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertEquals(1, count(r.output(), "seq4j: the 2 ranks do not agree on the model, epochs and data ("
                    + "--model, sizes, --seed, --reverse, --epochs, --eval-limit, the data) (this is rank " + rank), r.output());
        }
        assertFalse(r.output().contains("\tat "), "a stack trace instead of one line:\n" + r.output());
    }

    static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    static String line(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(
                "no line starting with '" + prefix + "' in:\n" + text));
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void aKilledRankEndsTheJobWithAnError() throws Exception {
        Path prefix = dir.resolve("out");
        List<String> cmd = mpirun(2);
        cmd.addAll(List.of(DataParallelMain.class.getName(), "kill", "seq2seq", "adam", prefix.toString(), "90"));
        Run r = run(cmd);
        assertNotEquals(0, r.exit(), r.output());
        // mpirun ends the job, well before rank 0's watchdog (90 s) would (the whole run takes ~5 s when idle)
        assertTrue(r.seconds() < 60, "the job took " + r.seconds() + " s to end:\n" + r.output());
        assertFalse(r.output().contains("did not return within"), "the watchdog, not mpirun, ended it:\n" + r.output());
        assertFalse(Files.exists(Path.of(prefix + ".rank0")), "rank 0 finished although rank 1 was killed");
    }

    @Test
    void aStalledRankIsEndedByTheWatchdog() throws Exception {
        Path prefix = dir.resolve("out");
        List<String> cmd = mpirun(2);
        cmd.addAll(List.of(DataParallelMain.class.getName(), "stall", "seq2seq", "adam", prefix.toString(), "3"));
        Run r = run(cmd);
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("MPI rank 0 of 2: MPI_Allreduce of") && r.output().contains("did not return within 3 s"),
                r.output());
        assertFalse(Files.exists(Path.of(prefix + ".rank0")));
    }

    @Test
    void ranksWithDifferentModelsAllEndWithOneLine() throws Exception {
        Path prefix = dir.resolve("out");
        List<String> cmd = mpirun(2);
        cmd.addAll(List.of(DataParallelMain.class.getName(), "mismatch", "seq2seq", "adam", prefix.toString(), "30"));
        Run r = run(cmd);
        assertEquals(2, r.exit(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertTrue(r.output().contains("seq4j: the 2 ranks do not agree on the model (class, parameter names and "
                    + "shapes) (this is rank " + rank), r.output());
        }
        assertFalse(r.output().contains("\tat "), "a stack trace instead of one line:\n" + r.output());
    }
}
