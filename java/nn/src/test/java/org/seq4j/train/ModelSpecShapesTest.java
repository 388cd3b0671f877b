// A checkpoint's arrays are checked against the parameters its description implies before the model is built:
// parameterShapes (the models' own declarations, with nothing allocated) is what create builds for every task, kind
// and cell, and a description edited to a hidden size its arrays do not have is refused naming the parameter and
// both shapes, with nothing allocated. Before, restore built the described model first (hidden=16000: about 16 GB,
// 18 to 40 s, or "out of memory ... more heap") and only then compared the arrays.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SequencedMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.io.NpzFormatException;
import org.seq4j.layers.Cell;
import org.seq4j.layers.FailingAllocations;
import org.seq4j.layers.Parameter;
import org.seq4j.models.Model;
import org.seq4j.testing.TestBackends;

class ModelSpecShapesTest {
    private final Backend b = TestBackends.reference();

    /** Every model seq4j can describe: each task's kinds, each cell it has a choice of, bidirectional attention. */
    static Stream<Named<ModelSpec>> everySpec() {
        List<Named<ModelSpec>> specs = new ArrayList<>();
        for (ModelSpec.Task task : ModelSpec.Task.values()) {
            for (String kind : task.kinds()) {
                for (Cell cell : ModelSpec.hasCellChoice(task, kind) ? Cell.values() : new Cell[] {Cell.LSTM}) {
                    for (boolean bi : kind.equals("attention") ? new boolean[] {false, true} : new boolean[] {false}) {
                        // V, D, H all different (D = H where BetterRnnlm ties embed.W to the output)
                        int d = kind.equals("better") ? 6 : 5;
                        ModelSpec s = new ModelSpec(task, kind, 7, d, 6, 0f, false, 1, bi, cell);
                        specs.add(Named.of(task.lower() + " " + kind + " " + cell.lower() + (bi ? " bidirectional" : ""),
                                s));
                    }
                }
            }
        }
        return specs.stream();
    }

    @ParameterizedTest
    @MethodSource("everySpec")
    void parameterShapesAreWhatCreateBuilds(ModelSpec spec) {
        SequencedMap<String, int[]> shapes = spec.parameterShapes(b);
        try (Model m = spec.create(b)) {
            List<Parameter> built = m.parameters();
            assertEquals(built.stream().map(Parameter::name).toList(), List.copyOf(shapes.keySet()), "names, in order");
            for (Parameter p : built) {
                assertArrayEquals(p.value().shape(), shapes.get(p.name()), p.name());
            }
        }
    }

    /**
     * What restore throws (null if it returns): the OutOfMemoryError of a refused allocation comes back as a value to
     * assert on, where JUnit would end the whole run on it.
     */
    private static Throwable restoreFailure(ModelSpec spec, Backend backend, Path checkpoint) {
        try (Model m = spec.restore(backend, checkpoint)) {
            return null;
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            return e;
        }
    }

    @Test
    void aDescriptionItsArraysDoNotFitIsRefusedBeforeAnythingIsAllocated(@TempDir Path dir) throws IOException {
        ModelSpec small = new ModelSpec(ModelSpec.Task.ADDITION, "attention", 13, 4, 8, 0f, true, 1);
        Properties meta = new Properties();
        small.store(meta);
        try (Model m = small.create(b)) {
            Checkpoint.save(dir, m, meta);
        }
        meta.setProperty("hidden", "16000");   // as the audit's edited checkpoint: a model of about 16 GB
        Path file = dir.resolve(Checkpoint.WEIGHTS);
        ModelSpec edited = ModelSpec.load(meta, file);
        FailingAllocations allocations = new FailingAllocations(b);
        allocations.arm(0);   // the first allocation fails: none may happen before the arrays are compared
        Throwable e = assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> restoreFailure(edited, allocations.backend(), dir));
        assertFalse(allocations.fired(), "the model was being built before its arrays were compared: " + e);
        assertInstanceOf(NpzFormatException.class, e);
        assertEquals(file + ", array 'encoder.lstm.Wx': shape (4, 32) does not match the (4, 64000) its "
                + "model.properties implies (addition attention: vocab=13, wordvec=4, hidden=16000, cell=lstm)",
                e.getMessage());

        // a parameter the file lacks, or an array the model lacks: named the same way, before the model is built
        ModelSpec peeky = new ModelSpec(ModelSpec.Task.ADDITION, "peeky", 13, 4, 8, 0f, true, 1);
        e = restoreFailure(peeky, allocations.backend(), dir);
        assertFalse(allocations.fired(), "a model was built for a file that does not fit it: " + e);
        assertEquals(file + ", array 'decoder.lstm.Wx': shape (4, 32) does not match the (12, 32) its model.properties"
                + " implies (addition peeky: vocab=13, wordvec=4, hidden=8, cell=lstm)", e.getMessage());
        ModelSpec gru = new ModelSpec(ModelSpec.Task.ADDITION, "attention", 13, 4, 8, 0f, true, 1, false, Cell.GRU);
        e = restoreFailure(gru, allocations.backend(), dir);
        assertFalse(allocations.fired(), "a model was built for a file that does not fit it: " + e);
        assertEquals(file + ", array 'encoder.gru.Wx': the model needs encoder.gru.Wx (4, 24) but the file has only "
                + "[encoder.embed.W, encoder.lstm.Wx, encoder.lstm.Wh, encoder.lstm.b, decoder.embed.W, decoder.lstm.Wx,"
                + " decoder.lstm.Wh, decoder.lstm.b, decoder.affine.W, decoder.affine.b]", e.getMessage());
        allocations.disarm();

        // the description as saved: restored as before
        try (Model m = small.restore(b, dir)) {
            assertEquals(13, m.parameter("decoder.affine.b").dim(0));
        }
    }
}
