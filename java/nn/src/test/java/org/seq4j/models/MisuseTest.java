// An embedder's misuse of the public API, each a silent wrong result or an unclear failure before: it now gets one
// clear exception that says what was wrong and what was expected.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.data.HostFloats;
import org.seq4j.data.SequencePairs;
import org.seq4j.layers.Parameter;
import org.seq4j.optim.Momentum;
import org.seq4j.optim.RMSprop;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Batches;

class MisuseTest {
    static final int V = 13, D = 4, H = 4;
    final Backend backend = TestBackends.reference();

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message should mention '" + p + "': " + e.getMessage());
        }
    }

    /**
     * A closed model's checkpoint, or an optimizer step over its store: one line naming the store's call. They went on to
     * a kernel, which refused the closed buffers in its own words ("copyIn: dst Tensor(13, 4) F32 on CPU belongs to an
     * arena that is already closed"); nothing is written either way.
     */
    @Test
    void aClosedModelsStoreIsRefusedNamingIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path good = dir.resolve("good.npz"), none = dir.resolve("none.npz");
        Seq2seq model = new Seq2seq(backend, V, D, H, 1);
        org.seq4j.train.Checkpoint.write(good, model, new java.util.Properties());
        model.close();
        assertMessage(assertThrows(IllegalStateException.class, () -> org.seq4j.train.Checkpoint.write(none, model,
                new java.util.Properties())), "ParameterStore.copyOut", "already closed");
        assertTrue(!java.nio.file.Files.exists(none), "a file was written");
        assertMessage(assertThrows(IllegalStateException.class, () -> org.seq4j.train.Checkpoint.load(good, model)),
                "ParameterStore.copyInAll", "already closed");
        try (org.seq4j.optim.Adam adam = new org.seq4j.optim.Adam(0.001f)) {
            assertMessage(assertThrows(IllegalStateException.class, () -> adam.step(model.store())),
                    "Adam.step", "this ParameterStore is already closed");
        }
        assertMessage(assertThrows(IllegalStateException.class, () -> model.store().copyIn("decoder.affine.b",
                new float[V])), "ParameterStore.copyIn", "already closed");
    }

    /**
     * A model's input whose arena is closed, or confined to another thread, is refused naming the model's call and the
     * input; the first kernel refused it in its own words ("swapAxes01: in Tensor(3, 5) ...").
     */
    @Test
    void anInputOfAClosedOrAnotherThreadsArenaIsRefusedNamingIt() throws Exception {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1); Arena shared = Arena.ofShared()) {
            Tensor ts = backend.allocate(shared, org.seq4j.tensor.DType.I32, 3, 5);
            Arena closed = Arena.ofShared();
            Tensor xs = backend.allocate(closed, org.seq4j.tensor.DType.I32, 3, 5);
            closed.close();
            assertMessage(assertThrows(IllegalStateException.class, () -> model.forward(xs, ts)), "Seq2seq.forward: xs",
                    "already closed");
            Tensor[] foreign = new Tensor[1];
            Arena[] owner = new Arena[1];
            Thread t = Thread.ofPlatform().start(() -> {
                owner[0] = Arena.ofConfined();
                foreign[0] = backend.allocate(owner[0], org.seq4j.tensor.DType.I32, 3, 5);
            });
            t.join();
            assertMessage(assertThrows(IllegalStateException.class, () -> model.forward(foreign[0], ts)),
                    "Seq2seq.forward: xs", "confined to another thread");
            assertMessage(assertThrows(IllegalStateException.class, () -> model.generate(foreign[0], 0, 3)),
                    "Seq2seq.generate: xs", "confined to another thread");
        }
    }

    /** A null Sampling failed pick's ARGMAX test and sampled: a seeded draw where the caller had asked for nothing. */
    @Test
    void generateRefusesANullSampling() {
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1)) {
            assertMessage(assertThrows(NullPointerException.class, () -> lm.generate(new int[][] {{1}}, 3, null, 1)),
                    "Rnnlm.generate", "sampling is null", "ARGMAX or SAMPLE");
        }
    }

    /**
     * Every id skipped: generate refused at its first pick, but beam search returned dead hypotheses made of id 0 (a
     * skipped id) with log-probability -infinity. Both refuse it up front now.
     */
    @Test
    void everyIdSkippedIsRefusedByBeamSearchToo() {
        int[] all = new int[V];
        for (int i = 0; i < V; i++) {
            all[i] = i;
        }
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, 3, 2, 0, -1, all)), "Rnnlm.beamSearch", "every id", "V=13");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.ARGMAX, 1, all)), "every id");
            int[] allButOne = Arrays.copyOf(all, V - 1);
            assertEquals(V - 1, lm.generate(new int[][] {{1}}, 2, LanguageModel.Sampling.SAMPLE, 1, allButOne)[0][0]);
        }
    }

    /**
     * Scores holding NaN (weights that are not finite): sampling summed a NaN softmax and fell through to the last
     * id, every time, and argmax said "every id is skipped" when none was. +Infinity: argmax answered its id, where
     * the seq2seq models' greedy decode and beam search refuse it.
     */
    @Test
    void nonFiniteScoresAreReportedNotSampled() {
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1)) {
            float[] b = new float[V];
            Arrays.fill(b, Float.NaN);
            b[2] = 1f;
            lm.store().copyIn("affine.b", b);
            assertMessage(assertThrows(NonFiniteScoresException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.SAMPLE, 1)),
                    "Rnnlm.generate: the scores of prompt 0", "NaN", "not finite");
            assertMessage(assertThrows(NonFiniteScoresException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.ARGMAX, 1)), "Rnnlm.generate:",
                    "NaN", "not finite");
            b[0] = Float.POSITIVE_INFINITY;
            Arrays.fill(b, 1, V, 0f);
            lm.store().copyIn("affine.b", b);
            assertMessage(assertThrows(NonFiniteScoresException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.SAMPLE, 1)), "Infinity", "not finite");
            assertMessage(assertThrows(NonFiniteScoresException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.ARGMAX, 1)), "Rnnlm.generate:",
                    "Infinity", "id 0", "not finite");
        }
    }

    /**
     * Beam search over scores holding NaN or +Infinity: it skipped the NaN candidates and returned dead hypotheses
     * (id 0, log-probability -Infinity) as an answer; now it says the weights are not finite, as generate does. So
     * over scores that are -Infinity for every id it may emit (all of them, or all but skipped ones), which it
     * answered with dead hypotheses where generate refused them.
     */
    @Test
    void beamSearchOverNonFiniteScoresSaysSo() {
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1); Seq2seq s2s = new Seq2seq(backend, V, D, H, 1)) {
            float[] b = new float[V];
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
                b[3] = bad;
                lm.store().copyIn("affine.b", b);
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> lm.beamSearch(new int[][] {{1}}, 3, 2, 0, -1)), "Rnnlm.beamSearch", "step 1", "question 0",
                        bad > 0 ? "Infinity" : "NaN", "not finite");
                s2s.store().copyIn("decoder.affine.b", b);
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> s2s.beamSearch(new int[][] {{1, 2}}, 0, 3, 2)), "Seq2seq.beamSearch", "question 0", "not finite");
            }
            Arrays.fill(b, Float.NEGATIVE_INFINITY);
            lm.store().copyIn("affine.b", b);
            s2s.store().copyIn("decoder.affine.b", b);
            for (int k : new int[] {1, 2}) {
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> lm.beamSearch(new int[][] {{1}}, 3, k, 0, -1)), "Rnnlm.beamSearch", "step 1", "question 0",
                        "-Infinity for every id", "not finite");
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> s2s.beamSearch(new int[][] {{1, 2}}, 0, 3, k)), "Seq2seq.beamSearch", "step 1",
                        "-Infinity for every id", "not finite");
            }
            // as beam search does, in the model's name: it said "Decoder.generate", a part the caller never called
            assertTrue(assertThrows(NonFiniteScoresException.class, () -> s2s.generate(new int[][] {{1, 2}}, 0, 3))
                    .getMessage().startsWith("Seq2seq.generate: Decoder.generate: at step 1 "));
            assertMessage(assertThrows(NonFiniteScoresException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.ARGMAX, 0)), "Rnnlm.generate:",
                    "-Infinity");
            b[4] = 1f;   // the one finite score is a skipped id's: no id left to emit
            lm.store().copyIn("affine.b", b);
            assertMessage(assertThrows(NonFiniteScoresException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, 3, 2, 0, -1, 4)), "Rnnlm.beamSearch",
                    "-Infinity for every id that is not skipped", "not finite");
            assertThrows(NonFiniteScoresException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.ARGMAX, 0, 4), "as generate does");
        }
    }

    /**
     * Greedy's check of the scores summed their squares over the whole batch into a float: finite scores of 1e18
     * overflowed it in a batch of 200 (refused, saying one score past ~1.8e19 does) while the same question alone was
     * answered, and so was beam search with K = 1. Whether a question is answered no longer depends on its batch.
     */
    @Test
    void greedyAnswersFiniteScoresWhateverTheBatch() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            float[] b = new float[V];
            for (int v = 0; v < V; v++) {
                b[v] = 1e18f * (v + 1) / V;   // finite, a softmax well defined; 200 x 13 squares pass float's range
            }
            model.store().copyIn("decoder.affine.b", b);
            int[][] xs = new int[200][];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = new int[] {i % V, (i / V) % V};
            }
            int[][] batch = model.generate(xs, 0, 2);
            for (int i = 0; i < xs.length; i += 37) {
                assertArrayEquals(model.generate(new int[][] {xs[i]}, 0, 2)[0], batch[i], "question " + i + " alone");
            }
            assertArrayEquals(model.beamSearch(xs, 0, 2, 1).best(), batch, "beam search K = 1 as greedy");
        }
    }

    /**
     * Greedy generate of the seq2seq models over weights that are not finite: argmax took NaN in column 0 or passed
     * over it, and the answers were ids made of nothing (all-NaN weights answered id 0 every step). It now says the
     * weights are not finite, as the language models' generate and beam search do.
     */
    @Test
    void seq2seqGreedyOverNonFiniteWeightsSaysSo() {
        try (Seq2seq plain = new Seq2seq(backend, V, D, H, 1); PeekySeq2seq peeky = new PeekySeq2seq(backend, V, D, H, 1);
             AttentionSeq2seq attention = new AttentionSeq2seq(backend, V, D, H, 1)) {
            for (AbstractSeq2seq model : new AbstractSeq2seq[] {plain, peeky, attention}) {
                String name = model.getClass().getSimpleName();
                float[] b = new float[V];
                b[3] = Float.NaN;   // one score NaN, not in column 0: argmax passed over it
                model.store().copyIn("decoder.affine.b", b);
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> model.generate(new int[][] {{1, 2}, {2, 1}}, 0, 3), name + " with a NaN bias"),
                        "generate", "step 1", "NaN", "not finite");
                b[3] = Float.POSITIVE_INFINITY;
                model.store().copyIn("decoder.affine.b", b);
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> model.generate(new int[][] {{1, 2}}, 0, 3), name + " with an infinite bias"),
                        "Infinity", "not finite");
                b[3] = 1e15f;   // large but finite scores (their squares' sum fits a float): answered
                model.store().copyIn("decoder.affine.b", b);
                assertEquals(3, model.generate(new int[][] {{1, 2}}, 0, 1)[0][0],
                        name + ": a finite score of 1e15 must be generated, not refused");
                b[3] = 1e20f;   // finite, its square past float's range: answered as beam search answers it
                model.store().copyIn("decoder.affine.b", b);
                assertEquals(3, model.generate(new int[][] {{1, 2}}, 0, 1)[0][0],
                        name + ": a finite score of 1e20 must be generated, not refused");
                assertArrayEquals(model.beamSearch(new int[][] {{1, 2}}, 0, 3, 1).best(),
                        model.generate(new int[][] {{1, 2}}, 0, 3), name + ": beam search K = 1 answers as greedy");
                b[3] = 0;
                Arrays.fill(b, Float.NEGATIVE_INFINITY);   // probability 0 for every id: no answer to give
                model.store().copyIn("decoder.affine.b", b);
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> model.generate(new int[][] {{1, 2}}, 0, 3), name + " with a bias of -Infinity"),
                        "generate", "step 1", "-Infinity for every id", "not finite");
                for (Parameter p : model.parameters()) {   // every weight NaN: argmax answered id 0 every step
                    float[] nan = new float[Math.toIntExact(p.value().size())];
                    Arrays.fill(nan, Float.NaN);
                    model.store().copyIn(p.name(), nan);
                }
                assertMessage(assertThrows(NonFiniteScoresException.class,
                        () -> model.generate(new int[][] {{1, 2}}, 0, 3), name + " with NaN weights"),
                        "NaN", "not finite");
            }
        }
    }

    /**
     * A beam whose step scores (N x K x V floats) cannot be one Java array is refused before the encoder runs: it
     * ended in an OutOfMemoryError (Requested array size exceeds VM limit) after the encoding had been repeated.
     */
    @Test
    void aBeamTooWideForTheHostScoresIsRefusedUpFront() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> model.beamSearch(new int[][] {{1, 2}}, 0, 3, Integer.MAX_VALUE)), "Seq2seq.beamSearch",
                    "N x K x V", "one Java array");
        }
    }

    /** No questions gave no answers whatever the start id and length: the bad arguments passed unnoticed. */
    @Test
    void noQuestionsStillCheckTheStartIdAndLength() {
        try (Seq2seq model = new Seq2seq(backend, V, D, H, 1)) {
            assertEquals(0, model.generate(new int[0][], 0, 3).length);
            assertEquals(0, model.beamSearch(new int[0][], 0, 3, 2).sequences().length);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.generate(new int[0][], 0, -1)),
                    "generate", "length >= 1", "-1");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.generate(new int[0][], V, 3)),
                    "generate", "start id 13", "V=13");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.beamSearch(new int[0][], -2, 3, 2)),
                    "beamSearch", "start id -2");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.generate(new int[0][], 0, 0, 2)),
                    "beamSearch", "length >= 1");
        }
    }

    /**
     * copyInAll with a null array for one name: the parameters before it were overwritten, then a
     * NullPointerException; "nothing is written" unless everything fits.
     */
    @Test
    void copyInAllWithANullArrayWritesNothing() {
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1)) {
            Map<String, float[]> before = lm.store().copyOutAll();
            Map<String, float[]> zeros = new LinkedHashMap<>();
            before.forEach((name, values) -> zeros.put(name, new float[values.length]));
            zeros.put("affine.b", null);   // the last parameter
            assertMessage(assertThrows(IllegalArgumentException.class, () -> lm.store().copyInAll(zeros)),
                    "affine.b (13,) needs 13 values, got null");
            assertArrayEquals(before.get("embed.W"), lm.store().copyOut("embed.W"), "embed.W was overwritten");
        }
    }

    /** A NaN decay made every parameter NaN at the first step; 1 or more never decays. */
    @Test
    void momentumAndRmspropRefuseDecaysOutsideZeroToOne() {
        for (float bad : new float[] {Float.NaN, -0.1f, 1f, 1.5f, Float.POSITIVE_INFINITY}) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new Momentum(0.01f, bad)),
                    "Momentum", "[0, 1)", String.valueOf(bad));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new RMSprop(0.01f, bad)),
                    "RMSprop", "[0, 1)", String.valueOf(bad));
        }
        new Momentum(0.01f, 0f).close();
        new RMSprop(0.01f, 0.99f).close();
    }

    /**
     * SequencePairs holds its row arrays: a row replaced after Batches.of (between epochs) by a longer one was cut
     * to the old width without a word, and a shorter one failed inside System.arraycopy.
     */
    @Test
    void batchesRefuseRowsChangedSinceTheyWereMade() {
        int[][] x = new int[4][5], t = new int[4][3];
        Batches batches = Batches.of(new SequencePairs(x, t));
        int[] order = {0, 1, 2, 3};
        try (Arena arena = Arena.ofConfined()) {
            Tensor[] xt = batches.allocate(backend, arena, 2);
            batches.fill(backend, order, 2, xt[0], xt[1]);
            x[3] = new int[7];
            assertMessage(assertThrows(IllegalStateException.class, () -> batches.fill(backend, order, 2, xt[0], xt[1])),
                    "question 3 has 7 ids", "5 per row", "changed after Batches.of");
            x[3] = new int[5];
            t[2] = new int[2];
            assertMessage(assertThrows(IllegalStateException.class, () -> batches.fill(backend, order, 2, xt[0], xt[1])),
                    "answer 2 has 2 ids", "3 per row");
            t[2] = null;
            assertMessage(assertThrows(IllegalStateException.class, () -> batches.fill(backend, order, 2, xt[0], xt[1])),
                    "answer 2 has no array");
            t[2] = new int[3];
            x[0] = new int[6];   // row 0 gave the widths: the tensors keep them
            assertMessage(assertThrows(IllegalStateException.class, () -> batches.fill(backend, order, 0, xt[0], xt[1])),
                    "question 0 has 6 ids", "5 per row");
            batches.fill(backend, order, 2, xt[0], xt[1]);
        }
    }

    /** No sequences gave no outputs whatever the length: a bad length passed unnoticed. */
    @Test
    void predictOfNoSequencesStillChecksTheLength() {
        try (WavePredictor model = new WavePredictor(backend, 1, H, 1)) {
            assertEquals(0, model.predict(new float[0][], 3).length);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> model.predict(new float[0][], 0)),
                    "predict", "length >= 1", "0");
        }
    }

    /**
     * A NaN among the training examples surfaced only as a NonFiniteLossException at the first batch that drew it,
     * which reads as a diverged run; Batches.of names the example now.
     */
    @Test
    void batchesOfFloatsRefuseNonFiniteValues() {
        float[] x = new float[4 * 3];
        x[7] = Float.NaN;
        HostFloats inputs = new HostFloats(new int[] {4, 3, 1}, x);
        HostFloats targets = new HostFloats(new int[] {4, 1}, new float[4]);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Batches.of(inputs, targets)),
                "inputs (4, 3, 1)", "NaN", "example 2", "finite");
        float[] t = new float[4];
        t[3] = Float.NEGATIVE_INFINITY;
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> Batches.of(new HostFloats(new int[] {4, 3, 1}, new float[12]), new HostFloats(new int[] {4, 1}, t))),
                "targets (4, 1)", "-Infinity", "example 3");
        assertEquals(4, Batches.of(new HostFloats(new int[] {4, 3, 1}, new float[12]), targets).size());
    }

    /**
     * A network of one's own whose scores are not (T, N, V): taken before, its loss computed over the wrong columns (V + 1
     * printed a loss), generation failing later in a copy's words, V - 1 blamed on the data's ids (an adopter's find).
     * Refused at its predict now, naming the model (an anonymous subclass by its binary name: messages of such a model
     * began ".forward").
     */
    @Test
    void aNetworkWhoseScoresAreNotTNVIsRefusedAtItsPredict() {
        for (int width : new int[] {V + 1, V - 1}) {
            org.seq4j.layers.ParameterStore store = org.seq4j.layers.ParameterStore.builder(backend)
                    .declare("E", org.seq4j.layers.Init.normal(1), V, D)
                    .declare("W", org.seq4j.layers.Init.normal(0.5), D, width)
                    .declare("b", org.seq4j.layers.Init.zeros(), width).build(1);
            try (AbstractRnnlm lm = new AbstractRnnlm(backend, V, store, s -> new AbstractRnnlm.Network() {
                final org.seq4j.layers.TimeEmbedding embed = new org.seq4j.layers.TimeEmbedding(backend, s.get("E"));
                final org.seq4j.layers.TimeAffine affine = new org.seq4j.layers.TimeAffine(backend, s.get("W"),
                        s.get("b"));

                @Override
                public Tensor predict(Tensor xs) {
                    return affine.forward(embed.forward(xs));
                }

                @Override
                public void backward(Tensor dscore) {
                    embed.backward(affine.backward(dscore));
                }

                @Override
                public void resetState() {
                }

                @Override
                public void reorderState(BeamState state, Tensor parents) {
                }

                @Override
                public void setTraining(boolean training) {
                }

                @Override
                public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
                    if (precision != org.seq4j.backend.PackedMatrix.Precision.F32) {
                        throw new UnsupportedOperationException("no recurrent layers");
                    }
                }

                @Override
                public void close() {
                    affine.close();
                    embed.close();
                }
            }) {
            }; Arena arena = Arena.ofConfined()) {
                java.util.Random rng = new java.util.Random(2);
                Tensor xs = ModelTesting.randomIds(backend, arena, rng, 2, 3, V);
                Tensor ts = ModelTesting.randomIds(backend, arena, rng, 2, 3, V);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> lm.forward(xs, ts));
                assertTrue(e.getMessage().startsWith(MisuseTest.class.getName() + "$")
                        && e.getMessage().contains(": its Network.predict returned Tensor(3, 2, " + width + ")")
                        && e.getMessage().endsWith("expected scores (T, N, V=" + V + ")"), e.getMessage());
                assertThrows(IllegalStateException.class, () -> lm.generate(new int[][] {{1}}, 3,
                        LanguageModel.Sampling.ARGMAX, 0));
            }
        }
    }

    /**
     * A model whose layer factory throws in its constructor (a network of one's own refusing its arguments) closes the
     * store it was given to own: no caller gets a model to close, and the store's memory stayed allocated.
     */
    @Test
    void aModelWhoseLayersFailToBuildClosesItsStore() {
        org.seq4j.layers.ParameterStore lmStore = org.seq4j.layers.ParameterStore.builder(backend)
                .declare("w", org.seq4j.layers.Init.zeros(), 2).build(1);
        assertMessage(assertThrows(IllegalStateException.class, () -> new AbstractRnnlm(backend, V, lmStore, s -> {
            throw new IllegalStateException("network refused");
        }) {
        }), "network refused");
        assertTrue(!lmStore.values().isAlive(), "the language model's store is closed");

        boolean[] encoderClosed = {false};
        SequenceEncoder encoder = (SequenceEncoder) java.lang.reflect.Proxy.newProxyInstance(
                SequenceEncoder.class.getClassLoader(), new Class<?>[] {SequenceEncoder.class}, (proxy, m, args) -> {
                    if (m.getName().equals("close")) {
                        encoderClosed[0] = true;
                    }
                    return null;
                });
        org.seq4j.layers.ParameterStore s2sStore = org.seq4j.layers.ParameterStore.builder(backend)
                .declare("w", org.seq4j.layers.Init.zeros(), 2).build(1);
        assertMessage(assertThrows(IllegalStateException.class, () -> new AbstractSeq2seq(backend, V, s2sStore,
                s -> encoder, s -> {
                    throw new IllegalStateException("decoder refused");
                }) {
        }), "decoder refused");
        assertTrue(!s2sStore.values().isAlive(), "the seq2seq model's store is closed");
        assertTrue(encoderClosed[0], "the encoder built before the decoder failed is closed");
    }

    /** The same for a seq2seq's decoder of one's own: scores of V + 1 columns are refused at its forward. */
    @Test
    void aDecoderWhoseScoresAreNotTNVIsRefused() {
        org.seq4j.layers.ParameterStore store = org.seq4j.layers.ParameterStore.builder(backend)
                .declare("w", org.seq4j.layers.Init.zeros(), 2).build(1);
        try (Arena scores = Arena.ofShared(); Arena arena = Arena.ofConfined()) {
            SequenceEncoder encoder = (SequenceEncoder) java.lang.reflect.Proxy.newProxyInstance(
                    SequenceEncoder.class.getClassLoader(), new Class<?>[] {SequenceEncoder.class},
                    (proxy, m, args) -> m.getName().equals("forward") ? backend.allocate(scores,
                            org.seq4j.tensor.DType.F32, 2, H) : null);
            SequenceDecoder decoder = (SequenceDecoder) java.lang.reflect.Proxy.newProxyInstance(
                    SequenceDecoder.class.getClassLoader(), new Class<?>[] {SequenceDecoder.class},
                    (proxy, m, args) -> m.getName().equals("forward") ? backend.allocate(scores,
                            org.seq4j.tensor.DType.F32, ((Tensor) args[0]).dim(0), ((Tensor) args[0]).dim(1), V + 1)
                            : null);
            try (AbstractSeq2seq m = new AbstractSeq2seq(backend, V, store, s -> encoder, s -> decoder) {
            }) {
                java.util.Random rng = new java.util.Random(4);
                Tensor xs = ModelTesting.randomIds(backend, arena, rng, 2, 3, V);
                Tensor ts = ModelTesting.randomIds(backend, arena, rng, 2, 4, V);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(xs, ts));
                assertTrue(e.getMessage().contains(": its SequenceDecoder.forward returned Tensor(3, 2, " + (V + 1)
                        + ")") && e.getMessage().endsWith("expected scores (T, N, V=" + V + ")"), e.getMessage());
            }
        }
    }

    @Test
    void aCallOrderOfNullsSaysWhichIsNull() {
        Tensor t = Tensor.wrap(new float[2], 2), g = Tensor.wrap(new float[2], 2);
        org.seq4j.layers.Parameter w = new org.seq4j.layers.Parameter("w", t, g);
        assertMessage(assertThrows(NullPointerException.class, () -> new org.seq4j.layers.CallOrder(null, w)),
                "layer is null");
        assertMessage(assertThrows(NullPointerException.class, () -> new org.seq4j.layers.CallOrder("L", w, null)),
                "CallOrder(L): parameter 1 is null");
        var calls = new org.seq4j.layers.CallOrder("L", w);
        assertMessage(assertThrows(IllegalStateException.class, calls::backwardStarts), "L.backward before forward");
    }

    /**
     * A beam wider than the sequences there are to rank: the hypotheses it cannot fill came back as answers made of
     * id 0 (a skipped id here) with log-probability -Infinity. Refused up front, naming K and what there is; a beam of
     * every sequence, or wider than V over more than one step, is still an exhaustive search.
     */
    @Test
    void aBeamWiderThanTheSequencesThereAreIsRefused() {
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1); Seq2seq s2s = new Seq2seq(backend, V, D, H, 1)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, 1, V, 0, -1, 0)), "Rnnlm.beamSearch", "K = 13",
                    "12 candidates", "1 skipped", "expected K <= 12");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> s2s.beamSearch(new int[][] {{1, 2}}, 0, 1, V + 3)), "Seq2seq.beamSearch", "K = 16",
                    "13 candidates", "expected K <= 13");
            // with an end id: 1 + 12 + 144 sequences of at most 2 ids (ended by id 2, or 2 ids without it)
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, 2, 158, 0, 2)), "K = 158", "157", "expected K <= 157");
            for (Beam.Result r : new Beam.Result[] {lm.beamSearch(new int[][] {{1}}, 1, V - 1, 0, -1, 0),
                    lm.beamSearch(new int[][] {{1}}, 2, 157, 0, 2), lm.beamSearch(new int[][] {{1}}, 2, V * V, 0, -1),
                    s2s.beamSearch(new int[][] {{1, 2}}, 0, 1, V), s2s.beamSearch(new int[][] {{1, 2}}, 0, 2, V + 3)}) {
                for (int k = 0; k < r.logProbs()[0].length; k++) {
                    assertTrue(Double.isFinite(r.logProbs()[0][k]), "hypothesis " + k + " "
                            + Arrays.toString(r.sequences()[0][k]) + " has log-probability " + r.logProbs()[0][k]);
                }
            }
            for (int[] seq : lm.beamSearch(new int[][] {{1}}, 1, V - 1, 0, -1, 0).sequences()[0]) {
                assertTrue(seq[0] != 0, "skipped id 0 answered: " + Arrays.toString(seq));
            }
        }
    }

    /** Null arrays and null elements said only what the JVM's helpful NullPointerException says. */
    @Test
    void nullArraysAndElementsSayWhichIsNull() {
        try (Rnnlm lm = new Rnnlm(backend, V, D, H, 1); Seq2seq s2s = new Seq2seq(backend, V, D, H, 1)) {
            assertMessage(assertThrows(NullPointerException.class, () -> lm.store().copyIn("affine.b", null)),
                    "copyIn", "affine.b", "data is null");
            assertMessage(assertThrows(NullPointerException.class,
                    () -> lm.generate(new int[][] {{1}, null}, 3, LanguageModel.Sampling.ARGMAX, 1)),
                    "Rnnlm.generate", "prompt 1 is null");
            assertMessage(assertThrows(NullPointerException.class,
                    () -> lm.generate(null, 3, LanguageModel.Sampling.ARGMAX, 1)), "Rnnlm.generate", "prompts is null");
            // an empty prompt was "needs at least one prompt of at least one id and length >= 1, got 1 prompts and
            // length 2", which named neither the empty prompt nor which of the two was wrong
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.generate(new int[][] {{}}, 2, LanguageModel.Sampling.ARGMAX, 0)), "Rnnlm.generate",
                    "1 prompts of 0 ids");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, 0, 2, 0, -1)), "Rnnlm.beamSearch", "length >= 1", "got 0");
            assertMessage(assertThrows(NullPointerException.class,
                    () -> lm.beamSearch(new int[][] {null, {1}}, 3, 2, 0, -1)), "Rnnlm.beamSearch", "prompt 0 is null");
            assertMessage(assertThrows(NullPointerException.class,
                    () -> lm.generate(new int[][] {{1}}, 3, LanguageModel.Sampling.ARGMAX, 1, (int[]) null)),
                    "Rnnlm.generate", "skipIds is null");
            assertMessage(assertThrows(NullPointerException.class, () -> s2s.generate(new int[][] {{1}, null}, 0, 3)),
                    "generate", "question 1 is null");
            assertMessage(assertThrows(NullPointerException.class, () -> s2s.beamSearch(new int[][] {null}, 0, 3, 2)),
                    "beamSearch", "question 0 is null");
            assertMessage(assertThrows(NullPointerException.class, () -> s2s.generate((int[][]) null, 0, 3)),
                    "generate", "xs is null");
        }
    }

    /**
     * A null backend or cell given to a model's constructor: the JDK's NullPointerException about a local inside the
     * store's builder ("Cannot invoke ...Backend.allocate(...) because \"backend\" is null") or about Cell.lower(),
     * where AbstractModel promises one naming the argument. Every model now names itself and the argument.
     */
    @Test
    void nullConstructorArgumentsAreNamed() {
        Map<String, org.junit.jupiter.api.function.Executable> nullBackend = new LinkedHashMap<>();
        nullBackend.put("Seq2seq", () -> new Seq2seq(null, V, D, H, 1));
        nullBackend.put("PeekySeq2seq", () -> new PeekySeq2seq(null, V, D, H, 1));
        nullBackend.put("AttentionSeq2seq", () -> new AttentionSeq2seq(null, V, D, H, 1));
        nullBackend.put("SimpleRnnlm", () -> new SimpleRnnlm(null, V, D, H, 1));
        nullBackend.put("Rnnlm", () -> new Rnnlm(null, V, D, H, 1));
        nullBackend.put("BetterRnnlm", () -> new BetterRnnlm(null, V, H, H, 0.5f, 1));
        nullBackend.put("WavePredictor", () -> new WavePredictor(null, 1, H, 1));
        nullBackend.put("WaveSeq2seq", () -> new WaveSeq2seq(null, 1, 1, H, 1));
        for (var e : nullBackend.entrySet()) {
            assertMessage(assertThrows(NullPointerException.class, e.getValue(), e.getKey()),
                    e.getKey() + ": backend is null");
        }
        Map<String, org.junit.jupiter.api.function.Executable> nullCell = new LinkedHashMap<>();
        nullCell.put("Seq2seq", () -> new Seq2seq(backend, V, D, H, null, 1));
        nullCell.put("PeekySeq2seq", () -> new PeekySeq2seq(backend, V, D, H, null, 1));
        nullCell.put("AttentionSeq2seq", () -> new AttentionSeq2seq(backend, V, D, H, null, 1, true));
        nullCell.put("Rnnlm", () -> new Rnnlm(backend, V, D, H, null, 1));
        nullCell.put("BetterRnnlm", () -> new BetterRnnlm(backend, V, H, H, 0.5f, null, 1));
        // the layer's own constructor said only "cell"
        nullCell.put("TimeBiRecurrent", () -> new org.seq4j.layers.TimeBiRecurrent(backend, null, null, null, null,
                null, null, null));
        for (var e : nullCell.entrySet()) {
            assertMessage(assertThrows(NullPointerException.class, e.getValue(), e.getKey()),
                    e.getKey() + ": cell is null; expected Cell.LSTM or Cell.GRU");
        }
    }

    /**
     * The static declare methods name a null argument: a part's null prefix declared "nullembed.W" (a store no
     * constructor then reads), and a model's null cell or builder was a bare NullPointerException from inside.
     */
    @Test
    void declareRefusesNullArgumentsByName() {
        var cell = org.seq4j.layers.Cell.LSTM;
        var b = org.seq4j.layers.ParameterStore.builder(backend);
        Map<String, org.junit.jupiter.api.function.Executable> calls = new LinkedHashMap<>();
        calls.put("Encoder.declare: prefix is null", () -> Encoder.declare(b, null, V, D, H));
        calls.put("Encoder.declare: cell is null", () -> Encoder.declare(b, "encoder.", null, V, D, H));
        calls.put("Encoder.declare: b is null", () -> Encoder.declare(null, "encoder.", cell, V, D, H));
        calls.put("Decoder.declare: prefix is null", () -> Decoder.declare(b, null, cell, V, D, H));
        calls.put("PeekyDecoder.declare: prefix is null", () -> PeekyDecoder.declare(b, null, V, D, H));
        calls.put("AttentionDecoder.declare: prefix is null", () -> AttentionDecoder.declare(b, null, V, D, H));
        calls.put("AttentionBiEncoder.declare: prefix is null", () -> AttentionBiEncoder.declare(b, null, V, D, H));
        calls.put("AttentionBiEncoder.declare: cell is null",
                () -> AttentionBiEncoder.declare(b, "encoder.", null, V, D, H));
        calls.put("Seq2seq.declare: cell is null", () -> Seq2seq.declare(b, V, D, H, null));
        calls.put("PeekySeq2seq.declare: cell is null", () -> PeekySeq2seq.declare(b, V, D, H, null));
        calls.put("AttentionSeq2seq.declare: cell is null", () -> AttentionSeq2seq.declare(b, V, D, H, null, false));
        calls.put("Rnnlm.declare: cell is null", () -> Rnnlm.declare(b, V, D, H, null));
        calls.put("BetterRnnlm.declare: cell is null", () -> BetterRnnlm.declare(b, V, H, H, null));
        calls.put("Seq2seq.declare: b is null", () -> Seq2seq.declare(null, V, D, H, cell));
        calls.put("Rnnlm.declare: b is null", () -> Rnnlm.declare(null, V, D, H, cell));
        calls.put("SimpleRnnlm.declare: b is null", () -> SimpleRnnlm.declare(null, V, D, H));
        calls.put("WavePredictor.declare: b is null", () -> WavePredictor.declare(null, 1, H));
        calls.put("WaveSeq2seq.declare: b is null", () -> WaveSeq2seq.declare(null, 1, 1, H));
        for (var e : calls.entrySet()) {
            assertMessage(assertThrows(NullPointerException.class, e.getValue(), e.getKey()), e.getKey());
        }
        assertEquals(0, b.shapes().size(), "nothing was declared by a refused call");
    }

    /**
     * A part over another model's store constructed without complaint (each layer's own shapes agree) and failed at
     * its first forward in a layer's words ("TimeAffine.forward needs x float32 (T, N, D=6), got ... (1, 2, 12)",
     * naming neither the part nor the parameter). The construction refuses it now, naming the parameter and shapes.
     */
    @Test
    void aPartOverAnotherModelsStoreIsRefusedAtConstruction() {
        int v = 9, d = 5, h = 6;
        try (Seq2seq s2 = new Seq2seq(backend, v, d, h, 1); PeekySeq2seq pk = new PeekySeq2seq(backend, v, d, h, 1);
             AttentionSeq2seq at = new AttentionSeq2seq(backend, v, d, h, 1)) {
            String tail = " with V = 9, D = 5, H = 6 (from decoder.embed.W (9, 5) and decoder.lstm.Wh (6, 24)): not the"
                    + " store of a ";
            assertEquals("Decoder: parameter decoder.lstm.Wx has shape (11, 24); expected (D, 4H) = (5, 24)" + tail
                    + "Decoder.declare with this prefix and cell", assertThrows(IllegalArgumentException.class,
                            () -> new Decoder(backend, pk.store(), "decoder.")).getMessage());
            assertEquals("AttentionDecoder: parameter decoder.affine.W has shape (6, 9); expected (H + H, V) = (12, 9)"
                    + tail + "AttentionDecoder.declare with this prefix and cell",
                    assertThrows(IllegalArgumentException.class,
                            () -> new AttentionDecoder(backend, s2.store(), "decoder.")).getMessage());
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> new Decoder(backend, at.store(), "decoder.")),
                    "Decoder: parameter decoder.affine.W has shape (12, 9); expected (H, V) = (6, 9)");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> new PeekyDecoder(backend, s2.store(), "decoder.")),
                    "PeekyDecoder: parameter decoder.lstm.Wx has shape (5, 24); expected (H + D, 4H) = (11, 24)");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> new AttentionDecoder(backend, pk.store(), "decoder.")),
                    "AttentionDecoder: parameter decoder.lstm.Wx has shape (11, 24); expected (D, 4H) = (5, 24)");
            // the parts of one kind share a store's shapes: these are as before
            new Decoder(backend, s2.store(), "decoder.").close();
            new PeekyDecoder(backend, pk.store(), "decoder.").close();
            new AttentionDecoder(backend, at.store(), "decoder.").close();
            new Encoder(backend, pk.store(), "encoder.").close();
            new AttentionEncoder(backend, s2.store(), "encoder.").close();
        }
    }

    /** The parts' constructors over a built store name a null argument (bare NPEs; a null prefix read "nullembed.W"). */
    @Test
    void partsOverAStoreRefuseNullArgumentsByName() {
        try (Seq2seq s2 = new Seq2seq(backend, 9, 5, 6, 1); AttentionSeq2seq at = new AttentionSeq2seq(backend, 9, 5, 6, 1)) {
            var store = s2.store();
            var cell = org.seq4j.layers.Cell.LSTM;
            Map<String, org.junit.jupiter.api.function.Executable> calls = new LinkedHashMap<>();
            calls.put("Encoder: store is null", () -> new Encoder(backend, null, "encoder.", cell));
            calls.put("Encoder: prefix is null", () -> new Encoder(backend, store, null, cell));
            calls.put("Encoder: cell is null", () -> new Encoder(backend, store, "encoder.", null));
            calls.put("Encoder: backend is null", () -> new Encoder(null, store, "encoder.", cell));
            calls.put("AttentionEncoder: store is null", () -> new AttentionEncoder(backend, null, "encoder."));
            calls.put("AttentionBiEncoder: store is null", () -> new AttentionBiEncoder(backend, null, "encoder."));
            calls.put("AttentionBiEncoder: cell is null", () -> new AttentionBiEncoder(backend, store, "encoder.", null));
            calls.put("Decoder: store is null", () -> new Decoder(backend, null, "decoder."));
            calls.put("Decoder: prefix is null", () -> new Decoder(backend, store, null));
            calls.put("Decoder: cell is null", () -> new Decoder(backend, store, "decoder.", null));
            calls.put("PeekyDecoder: store is null", () -> new PeekyDecoder(backend, null, "decoder."));
            calls.put("PeekyDecoder: cell is null", () -> new PeekyDecoder(backend, store, "decoder.", null));
            calls.put("AttentionDecoder: store is null", () -> new AttentionDecoder(backend, null, "decoder."));
            calls.put("AttentionDecoder: cell is null", () -> new AttentionDecoder(backend, store, "decoder.", null));
            AttentionDecoder decoder = new AttentionDecoder(backend, at.store(), "decoder.");
            calls.put("AttentionDecoder.generate: encHs is null", () -> decoder.generate(null, 1, 3));
            calls.put("AttentionDecoder.steps: encHs is null", () -> decoder.steps(null));
            for (var e : calls.entrySet()) {
                assertMessage(assertThrows(NullPointerException.class, e.getValue(), e.getKey()), e.getKey());
            }
            decoder.close();
        }
    }

    /**
     * A decoder's encoding of the wrong shape or batch, called directly (a model of one's own): refused in the
     * decoder's words. It was refused by the decoder's TimeLSTM, naming TimeLSTM.setState, a call the caller never
     * made; a batch other than xs's said "TimeLSTM holds a state for N=2 but the input has N=3; call resetState() or
     * setState(...) first"; a null encHs gave the JDK's NullPointerException about encHs.dim. A right call after
     * each refusal works.
     */
    @Test
    void aDecodersEncodingIsCheckedInTheDecodersWords() {
        int v = 9, d = 5, h = 6;
        try (Arena arena = Arena.ofConfined(); Seq2seq s2 = new Seq2seq(backend, v, d, h, 1);
             PeekySeq2seq pk = new PeekySeq2seq(backend, v, d, h, 1);
             AttentionSeq2seq at = new AttentionSeq2seq(backend, v, d, h, 1);
             Decoder plain = new Decoder(backend, s2.store(), "decoder.");
             PeekyDecoder peeky = new PeekyDecoder(backend, pk.store(), "decoder.");
             AttentionDecoder attention = new AttentionDecoder(backend, at.store(), "decoder.")) {
            Tensor xs = backend.allocate(arena, org.seq4j.tensor.DType.I32, 2, 3);   // (T, N) = (2, 3)
            Tensor h3 = backend.allocate(arena, org.seq4j.tensor.DType.F32, 3, h);
            Tensor h2 = backend.allocate(arena, org.seq4j.tensor.DType.F32, 2, h);
            Tensor narrow = backend.allocate(arena, org.seq4j.tensor.DType.F32, 3, h - 1);
            Tensor ids = backend.allocate(arena, org.seq4j.tensor.DType.I32, 3, h);
            for (SequenceDecoder decoder : new SequenceDecoder[] {plain, peeky}) {
                String name = decoder.getClass().getSimpleName();
                assertEquals(name + ".forward: xs (2, 3) is (T, N) with N=3, but the encoding (2, 6) has N=2; expected"
                        + " one row of the encoding for each of xs's columns", assertThrows(
                                IllegalArgumentException.class, () -> decoder.forward(xs, h2)).getMessage());
                String expected = "expected h, the encoder's last hidden state, float32 (N >= 1, H=6), got ";
                assertEquals(name + ".forward: " + expected + narrow, assertThrows(IllegalArgumentException.class,
                        () -> decoder.forward(xs, narrow)).getMessage());
                assertEquals(name + ".generate: " + expected + ids, assertThrows(IllegalArgumentException.class,
                        () -> decoder.generate(ids, 1, 2)).getMessage());
                assertEquals(name + ".steps: h is null; " + expected.substring(0, expected.length() - 6),
                        assertThrows(NullPointerException.class, () -> decoder.steps(null)).getMessage());
                assertArrayEquals(new int[] {2, 3, v}, decoder.forward(xs, h3).shape());
            }
            Tensor enc2 = backend.allocate(arena, org.seq4j.tensor.DType.F32, 4, 2, h);
            Tensor enc3 = backend.allocate(arena, org.seq4j.tensor.DType.F32, 4, 3, h);
            assertEquals("AttentionDecoder.forward: xs (2, 3) is (T, N) with N=3, but the encoding (4, 2, 6) has N=2;"
                    + " expected one row of the encoding for each of xs's columns", assertThrows(
                            IllegalArgumentException.class, () -> attention.forward(xs, enc2)).getMessage());
            assertEquals("AttentionDecoder.forward: encHs is null; expected encHs, the encoder's hidden states, float32"
                    + " (T_enc >= 1, N >= 1, H=6)", assertThrows(NullPointerException.class,
                            () -> attention.forward(xs, null)).getMessage());
            assertEquals("AttentionDecoder.generate: expected encHs, the encoder's hidden states, float32 (T_enc >= 1,"
                    + " N >= 1, H=6), got " + h3, assertThrows(IllegalArgumentException.class,
                            () -> attention.generate(h3, 1, 2)).getMessage());
            assertArrayEquals(new int[] {2, 3, v}, attention.forward(xs, enc3).shape());
        }
    }
}
