// Data-parallel training over real MPI: `mpirun -np 2` child processes (DataParallelMain) against the same
// training in one process here. Two ranks with N/2 rows each must end with the parameters of one process with
// N rows (up to float summation order), both ranks bit-identical; a killed or stalled rank must end the job
// within seconds; ranks with different models must all end with one line. (Its MPI helpers are public for
// seq4j-cli's DistributedCommandLineTest.) Skipped, with the reason, where
// mpirun is not installed (scripts/test's CI entry .ci/run installs Open MPI).
package org.seq4j.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.seq4j.mpitest.MpiRuns.count;
import static org.seq4j.mpitest.MpiRuns.java;
import static org.seq4j.mpitest.MpiRuns.line;
import static org.seq4j.mpitest.MpiRuns.mpirun;
import static org.seq4j.mpitest.MpiRuns.run;

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
import org.seq4j.mpitest.MpiRuns;

class DataParallelTest {
    /**
     * Per element: |2 ranks - 1 process| <= ATOL + RTOL * |1 process| after 4 steps: float summation order only
     * (seen: at most 1.2e-7). Weighting the shards' gradients wrongly (1 instead of rows / N) misses by 6e-3 or more.
     */
    static final float ATOL = 1e-6f, RTOL = 1e-5f;

    @TempDir
    Path dir;

    @BeforeAll
    static void findMpirun() {
        MpiRuns.findMpirun();
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
        MpiRuns.Run r = runMain(2, "train", kind, optimizer);
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
        MpiRuns.Run r = runMain(2, "train", "rnnlm", optimizer);
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
        MpiRuns.Run r = runMain(2, "kill", "seq2seq", "adam", "90");
        assertNotEquals(0, r.exit(), r.output());
        // mpirun ends the job, well before rank 0's watchdog (90 s) would (the whole run takes ~5 s when idle)
        assertTrue(r.seconds() < 60, "the job took " + r.seconds() + " s to end:\n" + r.output());
        assertFalse(r.output().contains("did not return within"), "the watchdog, not mpirun, ended it:\n" + r.output());
        assertFalse(Files.exists(Path.of(prefix + ".rank0")), "rank 0 finished although rank 1 was killed");
    }

    @Test
    void aStalledRankIsEndedByTheWatchdog() throws Exception {
        Path prefix = dir.resolve("out");
        MpiRuns.Run r = runMain(2, "stall", "seq2seq", "adam", "3");
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("MPI rank 0 of 2: MPI_Allreduce of") && r.output().contains("did not return within 3 s"),
                r.output());
        assertFalse(Files.exists(Path.of(prefix + ".rank0")));
    }

    @Test
    void ranksWithDifferentModelsAllEndWithOneLine() throws Exception {
        MpiRuns.Run r = everyRankDisagreesOn("mismatch", "seq2seq", "adam", "30",
                "the model (class, parameter names and shapes)");
        assertFalse(r.output().contains("\tat "), "a stack trace instead of one line:\n" + r.output());
    }

    /**
     * Replicas that drift apart (a rank whose updates round otherwise: another backend's clip norm or fused
     * multiply-adds, as CUDA beside a CPU would) train on weights the others do not have. Here rank 1's first weight
     * moves by one ulp after step 2, and the epoch's end, which compares the replicas' bits, ends every rank with the
     * same line. (The CPU backends' updates are the same bits: rank 1 on the Java reference, with every step clipped,
     * stayed equal to rank 0 on openblas; the training tests above pass the same check.)
     */
    @Test
    void ranksWhoseReplicasDriftApartAllEndWithOneLine() throws Exception {
        MpiRuns.Run r = everyRankDisagreesOn("drift", "seq2seq", "adam", "30",
                "the replicas' weights after epoch 1 (their bits)");
        assertTrue(r.output().contains("run every rank on the same backend, CPU type and thread count"), r.output());
        assertFalse(r.output().contains("\tat "), "a stack trace instead of one line:\n" + r.output());
    }

    /**
     * A rank whose listener throws after step 2 (a red-team find): rank 1 threw alone and rank 0 waited in step 3's
     * all-reduce until the watchdog ended it (30 s here). The failure now travels with step 3's loss: both ranks stop
     * there, before its update, rank 1 with its own exception, rank 0 with one naming it, and with equal weights.
     */
    @Test
    void aRankWhoseListenerThrowsStopsEveryRankAtTheNextStep() throws Exception {
        Path prefix = dir.resolve("out");
        MpiRuns.Run r = runMain(2, "throw", "seq2seq", "adam", "30");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.seconds() < 25, "took " + r.seconds() + " s:\n" + r.output());
        assertTrue(r.output().contains("rank 1 failed: the listener of rank 1 failed"), r.output());
        assertTrue(r.output().contains("rank 0 failed: DataParallel.reduce on rank 0 of 2: 1 other rank(s) failed in "
                + "their step (each says why), and every rank stopped before its gradients were summed"), r.output());
        RankResult r0 = read(Path.of(prefix + ".rank0")), r1 = read(Path.of(prefix + ".rank1"));
        assertArrayEquals(r0.values(), r1.values(), "the two ranks' parameters differ");
        assertEquals(2f, r0.eval(), "steps taken");
    }

    /**
     * A rank whose thread is interrupted (a cancelled task) after step 2: alone it would have left the other waiting in
     * the next all-reduce; the request travels with step 3's loss and both ranks stop there, before its update, with
     * equal weights: those of two steps, as one process whose thread is interrupted after step 2 has them.
     */
    @Test
    void anInterruptedRankStopsEveryRankAtTheSameStep() throws Exception {
        Path prefix = dir.resolve("out");
        MpiRuns.Run r = runMain(2, "interrupt", "seq2seq", "adam", "30");
        assertEquals(0, r.exit(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertTrue(r.output().contains("rank " + rank + " stopped: training interrupted: every rank stopped at step 3,"
                    + " before its update (stopped on request (1 of 2 ranks)); the model holds the weights of the 2 steps"
                    + " taken; interrupted: " + (rank == 1)), r.output());
        }
        RankResult r0 = read(Path.of(prefix + ".rank0")), r1 = read(Path.of(prefix + ".rank1"));
        assertArrayEquals(r0.values(), r1.values(), "the two ranks' parameters differ");
        assertEquals(2f, r0.eval(), "steps taken");
        Backend backend = TestBackends.get("openblas");
        try (Seq2seqModel m = DataParallelMain.model("seq2seq", backend, DataParallelMain.H, DataParallelMain.SEED);
             Optimizer opt = DataParallelMain.optimizer("adam");
             Trainer t = new Trainer(m, opt, DataParallelMain.CLIP, DataParallelMain.SEED)) {
            assertThrows(java.util.concurrent.CancellationException.class, () -> t.fitEpoch(1,
                    Batches.of(DataParallelMain.pairs(DataParallelMain.STEPS * DataParallelMain.BATCH, 1)),
                    DataParallelMain.BATCH, new Trainer.Listener() {
                        @Override
                        public void onStep(int epoch, int step, float loss) {
                            if (step == 2) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }));
            assertTrue(Thread.interrupted());
            assertClose("two steps", m.store().values().toFloatArray(), r0.values());
        }
    }

    @Test
    void mpiStartedTwiceInOneProcessIsRefusedWithOneLine() throws Exception {
        // Open MPI aborts a process that calls MPI after MPI_Finalize: a second communicator must be refused before
        MpiRuns.Run r = runMain(2, "reopen", "seq2seq", "adam", "30");
        assertEquals(0, r.exit(), r.output());
        assertEquals(2, count(r.output(), "while open: MPI is already started in this process (MPI rank "), r.output());
        assertEquals(2, count(r.output(), "abort after close: MPI_Abort: this communicator is closed"), r.output());
        assertEquals(2, count(r.output(), "after close: MPI was already finalized in this process"), r.output());
        // each refused start used to leave its watchdog thread running, for good: five a rank here
        assertEquals(2, count(r.output(), "watchdogs running: 0"), r.output());
        assertEquals(2, count(r.output(), "alive"), r.output());
    }

    @Test
    void aSecondThreadCallingDuringACollectiveIsRefused() throws Exception {
        // MPI runs SERIALIZED: two calls in flight at once paired the ranks' collectives wrongly (MPI_ERR_TRUNCATE,
        // or a hang until the watchdog); the second thread must get an IllegalStateException naming the first
        MpiRuns.Run r = runMain(2, "threads", "seq2seq", "adam", "10");
        assertEquals(0, r.exit(), r.output());
        String refused = line(r.output(), "refused: ");
        assertTrue(refused.contains("MpiCommunicator.MPI_Allreduce of 1 doubles: in use by thread \"first\""), refused);
        // a close from the second thread neither finalizes nor stops the watchdog of the first one's barrier
        String closeRefused = line(r.output(), "close refused: ");
        assertTrue(closeRefused.contains("MpiCommunicator.close: in use by thread \"first\""), closeRefused);
        assertEquals(1, count(r.output(), "rank 0 sum 2.0"), r.output());
        assertEquals(1, count(r.output(), "rank 1 sum 2.0"), r.output());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"seq2seq, 'evaluation (questions, answer length, batch, beam)'", "rnnlm, 'validation (corpus, batch, time)'"})
    void ranksThatEvaluateOnOtherSizesAllEndWithOneLine(String kind, String what) throws Exception {
        // rank 1 evaluates 30 of the 45 questions (seq2seq), or 4 batches of words instead of 3 (rnnlm): the split
        // and the sum would count overlapping or missing shares, and each rank would report its own wrong figure
        everyRankDisagreesOn("evalmismatch", kind, "sgd", "30", "the " + what);
        assertFalse(Files.exists(Path.of(dir.resolve("out") + ".rank0")), "rank 0 wrote a result");
    }

    @Test
    void ranksThatPassTheSameDataInOtherObjectsMakeTheSameCollectives() throws Exception {
        // epoch 2: rank 0 passes the same Batches again, rank 1 an equal new one. Only rank 1 re-sized and checked the
        // configuration (an all-reduce of 2 longs), paired with rank 0's gradient all-reduce: MPI_ERR_TRUNCATE on one
        // rank, the other reduced a gradient with a hash in it and waited for the watchdog
        Path prefix = dir.resolve("out");
        MpiRuns.Run r = runMain(2, "rewrap", "seq2seq", "sgd", "20");
        assertEquals(0, r.exit(), r.output());
        RankResult r0 = read(Path.of(prefix + ".rank0")), r1 = read(Path.of(prefix + ".rank1"));
        assertArrayEquals(r0.values(), r1.values(), "the two ranks' parameters differ");

        // two epochs of the same steps in this process with the whole batch
        Backend backend = TestBackends.get("openblas");
        try (Seq2seqModel m = DataParallelMain.model("seq2seq", backend, DataParallelMain.H, DataParallelMain.SEED);
             Optimizer opt = DataParallelMain.optimizer("sgd");
             Trainer t = new Trainer(m, opt, DataParallelMain.CLIP, DataParallelMain.SEED)) {
            Batches data = Batches.of(DataParallelMain.pairs(DataParallelMain.STEPS * DataParallelMain.BATCH, 1));
            for (int epoch = 1; epoch <= 2; epoch++) {
                t.fitEpoch(epoch, data, DataParallelMain.BATCH, new Trainer.Listener() {
                });
            }
            assertClose("two epochs", m.store().values().toFloatArray(), r0.values());
        }
    }

    @Test
    void aCollectiveRewritingAKeptHostTensorCountsTheWrite() throws Exception {
        // a host tensor went to MPI through its segment, uncounted: a layer that kept it for its backward computed its
        // gradients from the other ranks' sum, never its forward's values, with no word (a device tensor's copyIn
        // counted, also on the root of a broadcast, whose x the broadcast only reads)
        MpiRuns.Run r = runMain(2, "writes", "seq2seq", "sgd", "30");
        assertEquals(0, r.exit(), r.output());
        for (String backend : new String[] {"openblas", "javadevice"}) {
            for (String line : new String[] {"rank 0 allReduceSum", "rank 1 allReduceSum", "rank 1 broadcast"}) {
                assertEquals(1, count(r.output(), backend + " " + line + ": counted, backward refused"), r.output());
            }
            // the root's x is only read: its backward is a correct one
            assertEquals(1, count(r.output(), backend + " rank 0 broadcast: not counted, backward ran"), r.output());
        }
    }

    @Test
    void aTensorOfMoreFloatsThanAnMpiCountIsRefusedWithOneLine() throws Exception {
        // MPI counts are C ints: 2^32 floats threw ArithmeticException("integer overflow")
        MpiRuns.Run r = runMain(1, "bigcount", "seq2seq", "adam", "30");
        assertEquals(0, r.exit(), r.output());
        for (String what : new String[] {"allReduceSum", "broadcast"}) {
            assertEquals(1, count(r.output(), "refused: MpiCommunicator." + what + ": 4294967296 floats, more than an "
                    + "MPI count holds (2147483647); split the tensor"), r.output());
        }
        assertEquals(2, count(r.output(), "lies on the Java heap, which MPI cannot read; give a tensor of native memory"),
                r.output());
        assertEquals(1, count(r.output(), "belongs to an arena that is already closed"), r.output());
        for (String what : new String[] {"allReduceSum", "allReduceMin", "broadcast"}) {
            assertEquals(1, count(r.output(), "refused: MpiCommunicator." + what + ": values is null"), r.output());
        }
        assertEquals(0, count(r.output(), "not refused"), r.output());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"seq2seq, 'training configuration (batch, examples, seed, optimizer, clipping)'",
            "rnnlm, 'training configuration (corpus, batch, time, optimizer, clipping)'"})
    void aRankWhoseBatchCannotBeSplitEndsWithTheOthers(String kind, String what) throws Exception {
        // rank 1 trains with a batch of 1, which 2 ranks cannot split: it threw alone, before the configuration check
        // in which rank 0 then waited for the watchdog
        MpiRuns.Run r = everyRankDisagreesOn("badbatch", kind, "sgd", "15", "the " + what);
        assertFalse(r.output().contains("did not return within"), r.output());
    }

    /**
     * Runs DataParallelMain's {@code mode} on 2 ranks (results to dir/out.rankN), which must end with exit code 2 and
     * every rank's line that the ranks do not agree on {@code what}.
     */
    /**
     * DataParallelMain on {@code ranks} ranks under mpirun: its mode, model kind and optimizer, the output prefix
     * (dir/out: each rank writes out.rank<r>) and the mode's further arguments (most take a watchdog timeout in seconds).
     */
    private MpiRuns.Run runMain(int ranks, String mode, String kind, String optimizer, String... more) throws Exception {
        List<String> cmd = mpirun(ranks);
        cmd.addAll(List.of(DataParallelMain.class.getName(), mode, kind, optimizer, dir.resolve("out").toString()));
        cmd.addAll(List.of(more));
        return run(cmd);
    }

    private MpiRuns.Run everyRankDisagreesOn(String mode, String kind, String optimizer, String timeoutSeconds,
                                             String what) throws Exception {
        MpiRuns.Run r = runMain(2, mode, kind, optimizer, timeoutSeconds);
        assertEquals(2, r.exit(), r.output());
        for (int rank = 0; rank < 2; rank++) {
            assertTrue(r.output().contains("seq4j: the 2 ranks do not agree on " + what + " (this is rank " + rank),
                    r.output());
        }
        return r;
    }
}
