// A saved model: model.npz (every parameter under the book's name, NumPy format, readable by numpy.load)
// and model.properties (what to rebuild: task, model kind, sizes, vocabulary, seed...). Both are written
// to a temporary file and renamed, so an interrupted save leaves the previous checkpoint as it was.
package org.seq4j.train;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.seq4j.io.AtomicOutput;
import org.seq4j.io.Npz;
import org.seq4j.io.NpzFile;
import org.seq4j.io.NpzFormatException;
import org.seq4j.io.NpzWriter;
import org.seq4j.io.NpyArray;
import org.seq4j.layers.Parameter;
import org.seq4j.models.Model;

public final class Checkpoint {
    public static final String WEIGHTS = "model.npz";
    public static final String META = "model.properties";

    private Checkpoint() {
    }

    /** Writes dir/model.npz and dir/model.properties (creating dir), each atomically. */
    public static void save(Path dir, Model model, Properties meta) throws IOException {
        Files.createDirectories(dir);
        Map<String, float[]> values = model.store().copyOutAll();
        try (NpzWriter w = NpzWriter.create(dir.resolve(WEIGHTS))) {
            for (Parameter p : model.parameters()) {
                w.add(p.name(), NpyArray.of(values.get(p.name()), p.value().shape()));
            }
            w.commit();
        }
        AtomicOutput.write(dir.resolve(META), out -> meta.store(out, "seq4j checkpoint: the model's description; "
                + "its parameters are in " + WEIGHTS));
    }

    /** dir/model.properties. */
    public static Properties meta(Path dir) throws IOException {
        Path file = dir.resolve(META);
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no checkpoint description here (expected "
                    + META + " next to " + WEIGHTS + ")");
        }
        return p;
    }

    /**
     * Loads dir/model.npz into the model: every parameter must be there with its exact shape, and the file
     * must hold nothing else (an error names the array and the file); values must be finite.
     */
    public static void load(Path dir, Model model) throws IOException {
        NpzFile file = Npz.load(dir.resolve(WEIGHTS));
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            if (!file.contains(p.name())) {
                throw new NpzFormatException(file.file(), p.name(), "the model needs " + p.name() + " "
                        + org.seq4j.tensor.Tensor.shapeString(p.value().shape()) + " but the file has only "
                        + file.names());
            }
            file.requireFinite(p.name());
            values.put(p.name(), file.floats(p.name(), p.value().shape()));
        }
        Set<String> extra = new TreeSet<>(file.names());
        extra.removeAll(values.keySet());
        if (!extra.isEmpty()) {
            throw new NpzFormatException(file.file(), extra.iterator().next(), "the file holds arrays this model does "
                    + "not have: " + extra + " (a checkpoint of another model?)");
        }
        model.store().copyInAll(values);
    }

    /** A required property, or an error that names the file and the key. */
    public static String require(Properties p, String key, Path dir) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(dir.resolve(META) + " has no '" + key + "'");
        }
        return v;
    }
}
