// Calls of the models that a red-team pass found leaving something behind or going on where they should stop:
// attentionWeights answered after a refused forward with an older forward's weights; a refused BetterRnnlm forward
// moved its dropout masks, so that the run after it no longer matched a run without it; the wave models' predict
// ignored an interrupt and ran into an OutOfMemoryError where generate refuses up front, and gave the JDK's bare
// message for a null row (a closed backend: ClosedModelTest); a beam search of no questions took any K. Every backend.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.seq4j.models.HostInputsTest.allocated;
import static org.seq4j.testing.TestBackends.values;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class RefusedModelCallsTest {
    static final int V = 13;

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void attentionWeightsAreRefusedAfterARefusedForward(String backendName) {
        Backend b = TestBackends.get(backendName);
        for (boolean bidirectional : new boolean[] {false, true}) {
            try (AttentionSeq2seq m = new AttentionSeq2seq(b, V, 4, 6, Cell.LSTM, 1, bidirectional);
                 Arena arena = Arena.ofConfined()) {
                Tensor xs = allocated(b, arena, new int[] {1, 2, 3, 4, 5, 6}, 2, 3);
                Tensor ts = allocated(b, arena, new int[] {0, 1, 2, 0, 3, 4}, 2, 3);
                m.forward(xs, ts);
                float[] first = values(b, m.attentionWeights());
                assertEquals(2 * 2 * 3, first.length);
                // id V: refused by the encoder
                Tensor badXs = allocated(b, arena, new int[] {1, 2, 3, 4, 5, V}, 2, 3);
                assertThrows(IllegalArgumentException.class, () -> m.forward(badXs, ts));
                IllegalStateException e = assertThrows(IllegalStateException.class, m::attentionWeights);
                assertEquals("AttentionSeq2seq.attentionWeights before a forward returned (none ran, or the last one "
                        + "threw)", e.getMessage());
                // label V: refused after the decoder ran
                Tensor badTs = allocated(b, arena, new int[] {0, 1, 2, 0, 3, V}, 2, 3);
                assertThrows(IllegalArgumentException.class, () -> m.forward(xs, badTs));
                assertThrows(IllegalStateException.class, m::attentionWeights);
                m.forward(xs, ts);
                assertArrayEquals(first, values(b, m.attentionWeights()), "the same forward's weights again");
                m.backward();
                assertArrayEquals(first, values(b, m.attentionWeights()), "the last forward's after backward");
            }
        }
    }

    /**
     * Two BetterRnnlm of one seed: one refused a forward (a carried state of another N: after its first dropout drew
     * a mask; a label out of range: after all three had), then both reset their state and run the same batch: the
     * same loss, bit for bit. Before, the refused forward had moved the masks on.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void aRefusedForwardLeavesTheDropoutMasksAsTheyWere(String backendName) {
        Backend b = TestBackends.get(backendName);
        for (Cell cell : Cell.values()) {
            try (BetterRnnlm refused = new BetterRnnlm(b, V, 6, 6, 0.5f, cell, 3);
                 BetterRnnlm untouched = new BetterRnnlm(b, V, 6, 6, 0.5f, cell, 3);
                 Arena arena = Arena.ofConfined()) {
                Tensor x2 = allocated(b, arena, new int[] {1, 2, 3, 4, 5, 6}, 2, 3);
                Tensor t2 = allocated(b, arena, new int[] {2, 3, 4, 5, 6, 7}, 2, 3);
                Tensor x3 = allocated(b, arena, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3);
                Tensor badT2 = allocated(b, arena, new int[] {2, 3, 4, 5, 6, V}, 2, 3);
                assertEquals(untouched.forward(x2, t2), refused.forward(x2, t2));
                IllegalStateException state = assertThrows(IllegalStateException.class, () -> refused.forward(x3, x3),
                        cell + ": a state of N=2");
                // led by the model's call (the layer's message alone named a layer the caller never saw)
                assertTrue(state.getMessage().startsWith("BetterRnnlm.forward: Time" + cell.name() + " holds a state "
                        + "for N=2"), state.getMessage());
                assertThrows(IllegalArgumentException.class, () -> refused.forward(x2, badT2), cell + ": label V");
                refused.resetState();
                untouched.resetState();
                assertEquals(untouched.forward(x2, t2), refused.forward(x2, t2), cell + ": the masks after refusals");
                assertEquals(untouched.forward(x2, t2), refused.forward(x2, t2), cell + ": and the ones after those");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void waveModelsPredictAsGenerateDoes(String backendName) {
        Backend b = TestBackends.get(backendName);
        try (WavePredictor p = new WavePredictor(b, 1, 4, 1); WaveSeq2seq s = new WaveSeq2seq(b, 1, 1, 4, 1)) {
            float[][] xs = {{0.1f, 0.2f, 0.3f}};
            long rowBytes = 2L * Float.BYTES * (Integer.MAX_VALUE - 8);   // a row's answers, and their flat copy
            int rows = (int) Math.min(64, Runtime.getRuntime().maxMemory() / rowBytes + 1);
            assumeTrue(rows * rowBytes > Runtime.getRuntime().maxMemory(), "a heap that holds 64 rows of 2^31 floats");
            float[][] pastTheHeap = new float[rows][];
            Arrays.fill(pastTheHeap, xs[0]);
            for (RegressionModel m : new RegressionModel[] {p, s}) {
                String op = m.getClass().getSimpleName() + ".predict";
                Thread.currentThread().interrupt();
                try {
                    CancellationException e = assertThrows(CancellationException.class, () -> m.predict(xs, 1000));
                    assertTrue(e.getMessage().startsWith(op + ": interrupted at step 1 of 1000"), e.getMessage());
                    assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept");
                } finally {
                    Thread.interrupted();
                }
                assertEquals(3, m.predict(xs, 3)[0].length, "usable after the interrupt");
                // past the heap: refused before any step, with the numbers (it ran, then ran out of memory); rows
                // enough that the answers outgrow any heap (a 32 GB one, 128 GB machines' default, holds one row's)
                IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                        () -> m.predict(pastTheHeap, Integer.MAX_VALUE - 8));
                assertTrue(heap.getMessage().startsWith(op + ": "), heap.getMessage());
                NullPointerException row = assertThrows(NullPointerException.class,
                        () -> m.predict(new float[][] {{0.1f}, null}, 2));
                assertEquals(op + ": row 1 of xs is null", row.getMessage());
                assertEquals(op + ": xs is null", assertThrows(NullPointerException.class,
                        () -> m.predict((float[][]) null, 2)).getMessage());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void aBeamSearchOfNoQuestionsChecksItsWidth(String backendName) {
        try (Seq2seq m = new Seq2seq(TestBackends.get(backendName), V, 4, 6, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.beamSearch(new int[0][], 0, 1, 100));
            assertTrue(e.getMessage().contains("the beam width K = 100 is more than the 13"), e.getMessage());
            assertEquals(0, m.beamSearch(new int[0][], 0, 1, 13).sequences().length);
        }
    }

    /**
     * The parts' and recurrent layers' setInferencePrecision(null) said only "precision" (the message of a bare
     * Objects.requireNonNull inside the layers): each names its call now.
     */
    @Test
    void partsAndLayersNameTheirSetInferencePrecision() {
        Backend b = TestBackends.reference();
        try (Seq2seq s2s = new Seq2seq(b, V, 4, 6, 1); Seq2seq gru = new Seq2seq(b, V, 4, 6, Cell.GRU, 1);
             PeekySeq2seq peeky = new PeekySeq2seq(b, V, 4, 6, 1);
             AttentionSeq2seq bi = new AttentionSeq2seq(b, V, 4, 6, Cell.LSTM, 1, true);
             Encoder encoder = new Encoder(b, s2s.store(), "encoder.");
             AttentionEncoder attentionEncoder = new AttentionEncoder(b, s2s.store(), "encoder.");
             Encoder gruEncoder = new Encoder(b, gru.store(), "encoder.", Cell.GRU);
             Decoder decoder = new Decoder(b, s2s.store(), "decoder.");
             PeekyDecoder peekyDecoder = new PeekyDecoder(b, peeky.store(), "decoder.");
             AttentionDecoder attentionDecoder = new AttentionDecoder(b, bi.store(), "decoder.");
             AttentionBiEncoder biEncoder = new AttentionBiEncoder(b, bi.store(), "encoder.");
             org.seq4j.layers.TimeBiRecurrent biLayer = new org.seq4j.layers.TimeBiRecurrent(b, Cell.LSTM,
                     bi.store().get("encoder.lstm.forward_lstm.Wx"), bi.store().get("encoder.lstm.forward_lstm.Wh"),
                     bi.store().get("encoder.lstm.forward_lstm.b"), bi.store().get("encoder.lstm.backward_lstm.Wx"),
                     bi.store().get("encoder.lstm.backward_lstm.Wh"), bi.store().get("encoder.lstm.backward_lstm.b"))) {
            java.util.Map<String, org.junit.jupiter.api.function.Executable> calls = new java.util.LinkedHashMap<>();
            calls.put("Encoder", () -> encoder.setInferencePrecision(null));
            calls.put("AttentionEncoder", () -> attentionEncoder.setInferencePrecision(null));
            calls.put("Decoder", () -> decoder.setInferencePrecision(null));
            calls.put("PeekyDecoder", () -> peekyDecoder.setInferencePrecision(null));
            calls.put("AttentionDecoder", () -> attentionDecoder.setInferencePrecision(null));
            calls.put("AttentionBiEncoder", () -> biEncoder.setInferencePrecision(null));
            calls.put("TimeLSTM", () -> encoder.lstm().setInferencePrecision(null));
            calls.put("TimeGRU", () -> gruEncoder.lstm().setInferencePrecision(null));
            calls.put("TimeBiRecurrent", () -> biLayer.setInferencePrecision(null));
            for (var e : calls.entrySet()) {
                assertEquals(e.getKey() + ".setInferencePrecision: precision is null; expected F32 or BF16",
                        assertThrows(NullPointerException.class, e.getValue(), e.getKey()).getMessage());
            }
        }
    }

    /** Arguments whose refusal named no call ("NullPointerException: precision", "the length penalty alpha ..."). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void refusedArgumentsNameTheCall(String backendName) {
        Backend b = TestBackends.get(backendName);
        try (Rnnlm lm = new Rnnlm(b, V, 4, 6, 1); Seq2seq s2s = new Seq2seq(b, V, 4, 6, 1);
             WavePredictor wave = new WavePredictor(b, 1, 4, 1)) {
            assertEquals("Rnnlm.setInferencePrecision: precision is null; expected F32 or BF16",
                    assertThrows(NullPointerException.class, () -> lm.setInferencePrecision(null)).getMessage());
            assertEquals("Seq2seq.setInferencePrecision: precision is null; expected F32 or BF16",
                    assertThrows(NullPointerException.class, () -> s2s.setInferencePrecision(null)).getMessage());
            assertEquals("WavePredictor.setInferencePrecision: precision is null; expected F32",
                    assertThrows(NullPointerException.class, () -> wave.setInferencePrecision(null)).getMessage());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, 2, 2, Double.NaN, -1));
            assertTrue(e.getMessage().startsWith("Rnnlm.beamSearch: the length penalty alpha must be"), e.getMessage());
        }
    }
}
