// Checkpoints: a saved model comes back identical; a file of another model, a corrupt file or a missing
// array is a clear error; and a save that fails half-way leaves the previous checkpoint intact.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.models.Model;
import org.seq4j.models.Seq2seq;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class CheckpointTest {
    private final Backend b = TestBackends.reference();

    private static Properties meta() {
        Properties p = new Properties();
        new ModelSpec(ModelSpec.Task.ADDITION, "baseline", 13, 4, 8, 0f, false, 1).store(p);
        return p;
    }

    @Test
    void aSavedModelComesBackIdentical(@TempDir Path dir) throws IOException {
        try (Seq2seq saved = new Seq2seq(b, 13, 4, 8, 1); Seq2seq loaded = new Seq2seq(b, 13, 4, 8, 2)) {
            Checkpoint.save(dir, saved, meta());
            Checkpoint.load(dir, loaded);
            for (Parameter p : saved.parameters()) {
                assertArrayEquals(saved.store().copyOut(p.name()), loaded.store().copyOut(p.name()), p.name());
            }
            assertTrue(Checkpoint.meta(dir).getProperty("model").equals("baseline"));
        }
    }

    @Test
    void anotherModelsCheckpointIsRejectedByName(@TempDir Path dir) throws IOException {
        try (Seq2seq saved = new Seq2seq(b, 13, 4, 8, 1); AttentionSeq2seq other = new AttentionSeq2seq(b, 13, 4, 8, 1);
             Seq2seq bigger = new Seq2seq(b, 13, 4, 9, 1)) {
            Checkpoint.save(dir, saved, meta());
            IOException e = assertThrows(IOException.class, () -> Checkpoint.load(dir, other));
            assertTrue(e.getMessage().contains("decoder.affine.W"), e.getMessage());
            e = assertThrows(IOException.class, () -> Checkpoint.load(dir, bigger));
            assertTrue(e.getMessage().contains("encoder.lstm.Wx") && e.getMessage().contains("(4, 36)"), e.getMessage());
        }
    }

    @Test
    void aCorruptFileIsAClearError(@TempDir Path dir) throws IOException {
        try (Seq2seq m = new Seq2seq(b, 13, 4, 8, 1)) {
            Checkpoint.save(dir, m, meta());
            Path npz = dir.resolve(Checkpoint.WEIGHTS);
            byte[] bytes = Files.readAllBytes(npz);
            Files.write(npz, java.util.Arrays.copyOf(bytes, bytes.length / 2));
            IOException e = assertThrows(IOException.class, () -> Checkpoint.load(dir, m));
            assertTrue(e.getMessage().contains(npz.getFileName().toString()), e.getMessage());
        }
    }

    @Test
    void aSaveThatFailsHalfWayLeavesThePreviousCheckpoint(@TempDir Path dir) throws IOException {
        try (Seq2seq m = new Seq2seq(b, 13, 4, 8, 1)) {
            Checkpoint.save(dir, m, meta());
            byte[] before = Files.readAllBytes(dir.resolve(Checkpoint.WEIGHTS));
            // a model that lists one parameter more than its store holds: the save fails after writing some arrays
            Model broken = withExtraParameter(m);
            assertThrows(RuntimeException.class, () -> Checkpoint.save(dir, broken, meta()));
            assertArrayEquals(before, Files.readAllBytes(dir.resolve(Checkpoint.WEIGHTS)), "the old checkpoint changed");
            try (var files = Files.list(dir)) {
                assertTrue(files.allMatch(f -> f.getFileName().toString().startsWith("model.")),
                        "a temporary file was left behind");
            }
        }
    }

    private static Model withExtraParameter(Model m) {
        List<Parameter> params = new ArrayList<>(m.parameters());
        Parameter first = params.get(0);
        params.add(new Parameter("extra", first.value(), first.grad()));
        return new Model() {
            @Override
            public org.seq4j.backend.Backend backend() {
                return m.backend();
            }

            @Override
            public ParameterStore store() {
                return m.store();
            }

            @Override
            public List<Parameter> parameters() {
                return params;
            }

            @Override
            public float forward(Tensor xs, Tensor ts) {
                return m.forward(xs, ts);
            }

            @Override
            public void backward() {
                m.backward();
            }

            @Override
            public void close() {
            }
        };
    }
}
