// The recurrent cell in a model's description: a GRU run records cell=gru, restore rebuilds a GRU model with
// the book's appendix names (encoder.gru.Wx ...), descriptions without a cell (older runs) are LSTM, and a
// cell the model has no choice of, or an unknown one, is a clear error.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Parameter;
import org.seq4j.models.Model;
import org.seq4j.testing.TestBackends;

class ModelSpecCellTest {
    private final Backend b = TestBackends.reference();

    /**
     * What ModelSpec.load refuses in a checkpoint is refused when a spec is made (a red-team find: a NaN dropout or a
     * hidden size of 0 was accepted, saved with the model, and the checkpoint then could not be read back).
     */
    @Test
    void aSpecThatLoadWouldRefuseIsRefusedWhenMade() {
        ModelSpec.Task lm = ModelSpec.Task.LM, waves = ModelSpec.Task.WAVES;
        for (float dropout : new float[] {Float.NaN, -0.25f, 1f, 1.5f}) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> new ModelSpec(lm, "better", 13, 8, 16, dropout, false, 1)).getMessage();
            assertEquals("ModelSpec: dropout " + dropout + "; expected a ratio in [0, 1)", m);
        }
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(lm, "rnnlm", -5, 8, 16, 0f, false, 1));
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(lm, "rnnlm", 13, 8, 0, 0f, false, 1));
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(lm, "rnnlm", 13, 0, 16, 0f, false, 1));
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(waves, "seq2seq", -3, 1, 16, 0f, false, 1));
        new ModelSpec(waves, "seq2seq", 0, 1, 16, 0f, false, 1);   // waves use no vocabulary
        assertEquals("ModelSpec: task is null", assertThrows(NullPointerException.class,
                () -> new ModelSpec(null, "rnnlm", 13, 8, 16, 0f, false, 1)).getMessage());
    }

    @Test
    void aGruRunIsRestoredAsAGruModel(@TempDir Path dir) throws IOException {
        ModelSpec spec = new ModelSpec(ModelSpec.Task.ADDITION, "peeky", 13, 4, 8, 0f, true, 1, false, Cell.GRU);
        Properties p = new Properties();
        spec.store(p);
        assertEquals("gru", p.getProperty("cell"));
        try (Model saved = spec.create(b)) {
            assertEquals(3 * 8, saved.parameter("encoder.gru.Wx").dim(1), "Wx (D, 3H)");
            assertEquals(3 * 8, saved.parameter("decoder.gru.Wh").dim(1), "Wh (H, 3H)");
            assertTrue(saved.parameters().stream().noneMatch(q -> q.name().contains("lstm")));
            Checkpoint.save(dir, saved, p);
            ModelSpec back = ModelSpec.load(Checkpoint.meta(dir), dir);
            assertEquals(spec, back);
            try (Model loaded = back.restore(b, dir)) {
                for (Parameter q : saved.parameters()) {
                    assertArrayEquals(saved.store().copyOut(q.name()), loaded.store().copyOut(q.name()), q.name());
                }
            }
        }
    }

    @Test
    void aBidirectionalGruRunIsRestoredWithItsTwoGrus(@TempDir Path dir) throws IOException {
        // the book's attribute paths: encoder.gru.forward_gru.* / backward_gru.* (H/2 = 4 units, 3 * 4 gate
        // columns); the LSTM's encoder.lstm.forward_lstm.* names stay as they were, so older runs still load
        ModelSpec spec = new ModelSpec(ModelSpec.Task.DATE, "attention", 13, 5, 8, 0f, true, 1, true, Cell.GRU);
        Properties p = new Properties();
        spec.store(p);
        try (Model saved = spec.create(b)) {
            for (String dir2 : new String[] {"forward_gru", "backward_gru"}) {
                assertEquals(5, saved.parameter("encoder.gru." + dir2 + ".Wx").dim(0), "Wx (D, 3H/2)");
                assertEquals(12, saved.parameter("encoder.gru." + dir2 + ".Wx").dim(1), "Wx (D, 3H/2)");
                assertEquals(4, saved.parameter("encoder.gru." + dir2 + ".Wh").dim(0), "Wh (H/2, 3H/2)");
                assertEquals(12, saved.parameter("encoder.gru." + dir2 + ".b").dim(0), "b (3H/2,)");
            }
            assertTrue(saved.parameters().stream().noneMatch(q -> q.name().contains("lstm")));
            Checkpoint.save(dir, saved, p);
            ModelSpec back = ModelSpec.load(Checkpoint.meta(dir), dir);
            assertEquals(spec, back);
            try (Model loaded = back.restore(b, dir)) {
                for (Parameter q : saved.parameters()) {
                    assertArrayEquals(saved.store().copyOut(q.name()), loaded.store().copyOut(q.name()), q.name());
                }
            }
        }
        try (Model lstm = new ModelSpec(ModelSpec.Task.DATE, "attention", 13, 5, 8, 0f, true, 1, true, Cell.LSTM)
                .create(b)) {
            assertEquals(16, lstm.parameter("encoder.lstm.forward_lstm.Wx").dim(1), "Wx (D, 4H/2)");
            assertEquals(16, lstm.parameter("encoder.lstm.backward_lstm.Wh").dim(1), "Wh (H/2, 4H/2)");
        }
    }

    @Test
    void theLanguageModelsTakeAGru() {
        try (Model m = new ModelSpec(ModelSpec.Task.LM, "better", 20, 6, 6, 0.5f, false, 1, false, Cell.GRU).create(b)) {
            assertEquals(18, m.parameter("gru1.Wx").dim(1));
            assertEquals(18, m.parameter("gru2.b").dim(0));
        }
        try (Model m = new ModelSpec(ModelSpec.Task.LM, "rnnlm", 20, 5, 6, 0f, false, 1, false, Cell.GRU).create(b)) {
            assertEquals(18, m.parameter("gru.Wh").dim(1));
        }
    }

    @Test
    void aDescriptionWithoutACellIsAnLstm() throws CheckpointException {
        Properties p = new Properties();
        new ModelSpec(ModelSpec.Task.DATE, "attention", 13, 4, 8, 0f, true, 1).store(p);
        p.remove("cell");
        assertEquals(Cell.LSTM, ModelSpec.load(p, Path.of("old.npz")).cell());
    }

    @Test
    void aCellTheModelDoesNotHaveIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ModelSpec(ModelSpec.Task.WAVES, "seq2seq", 0, 1, 8, 0f, false, 1, false, Cell.GRU));
        assertTrue(e.getMessage().contains("no choice of cell"), e.getMessage());
        Properties p = new Properties();
        new ModelSpec(ModelSpec.Task.LM, "simple", 20, 5, 6, 0f, false, 1).store(p);
        p.setProperty("cell", "gru");
        CheckpointException bad = assertThrows(CheckpointException.class, () -> ModelSpec.load(p, Path.of("x.npz")));
        assertTrue(bad.getMessage().contains("cell=gru"), bad.getMessage());
        p.setProperty("cell", "transformer");
        bad = assertThrows(CheckpointException.class, () -> ModelSpec.load(p, Path.of("x.npz")));
        assertTrue(bad.getMessage().contains("expected lstm or gru"), bad.getMessage());
    }
}
