// NumPy .npz checkpoints: save named arrays to a file (atomically) and load them back. The files
// exchange with numpy: np.load reads what save writes, and load reads np.savez and np.savez_compressed.
package org.seq4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SequencedMap;

public final class Npz {
    private Npz() {
    }

    /** Writes {@code arrays} in their map order, as np.savez does (entries stored, not compressed). */
    public static void save(Path file, SequencedMap<String, ? extends NpyArray> arrays) throws IOException {
        save(file, arrays, NpzWriter.Compression.STORED);
    }

    public static void save(Path file, SequencedMap<String, ? extends NpyArray> arrays,
            NpzWriter.Compression compression) throws IOException {
        try (NpzWriter w = NpzWriter.create(file, compression)) {
            for (Map.Entry<String, ? extends NpyArray> e : arrays.entrySet()) {
                w.add(e.getKey(), e.getValue());
            }
            w.commit();
        }
    }

    /** Reads every array of a .npz file; see NpzFile for the checks a caller can ask for. */
    public static NpzFile load(Path file) throws IOException {
        return NpzFile.read(file);
    }
}
