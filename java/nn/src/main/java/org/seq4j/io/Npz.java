// NumPy .npz checkpoints: save named arrays to a file (atomically) and load them back. The files
// exchange with numpy: np.load reads what save writes, and load reads np.savez and np.savez_compressed.
package org.seq4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SequencedMap;

/**
 * NumPy .npz files: save named arrays (atomically) and load them back. np.load reads what save writes; load reads
 * np.savez and np.savez_compressed files (float32, int32; float64 and int64 narrowed with a range check).
 */
public final class Npz {
    private Npz() {
    }

    /**
     * Writes {@code arrays} in their map order, as np.savez does (entries stored, not compressed).
     *
     * @param file   the .npz file; its folder must exist
     * @param arrays the arrays by name
     * @throws IOException if the file cannot be written (the previous file at that path stays as it was)
     */
    public static void save(Path file, SequencedMap<String, ? extends NpyArray> arrays) throws IOException {
        save(file, arrays, NpzWriter.Compression.STORED);
    }

    /**
     * Writes {@code arrays} in their map order, stored or compressed.
     *
     * @param file        the .npz file; its folder must exist
     * @param arrays      the arrays by name
     * @param compression STORED as np.savez, DEFLATED as np.savez_compressed
     * @throws IOException if the file cannot be written (the previous file at that path stays as it was)
     */
    public static void save(Path file, SequencedMap<String, ? extends NpyArray> arrays,
            NpzWriter.Compression compression) throws IOException {
        try (NpzWriter w = NpzWriter.create(file, compression)) {
            for (Map.Entry<String, ? extends NpyArray> e : arrays.entrySet()) {
                w.add(e.getKey(), e.getValue());
            }
            w.commit();
        }
    }

    /**
     * Reads every array of a .npz file; see NpzFile for the checks a caller can ask for.
     *
     * @param file the .npz file
     * @return its arrays, in file order
     * @throws NpzFormatException if the file is not a valid .npz of supported arrays (naming the entry)
     * @throws IOException if it cannot be read
     */
    public static NpzFile load(Path file) throws IOException {
        return NpzFile.read(file);
    }

    /**
     * The bytes of an entry that is not an array, such as a checkpoint's description (NpzWriter.addEntry writes
     * one), reading at most {@code maxBytes + 1} of it whatever its listed size.
     *
     * @param file     the .npz file
     * @param name     the entry's full name in the archive
     * @param maxBytes the most bytes the entry may hold
     * @return its bytes, or null if the archive has no such entry
     * @throws NpzFormatException if the file is not a zip archive seq4j reads, holds two entries of that name, or
     *         the entry is corrupt or holds more than maxBytes
     * @throws IOException if it cannot be read
     */
    public static byte[] entry(Path file, String name, int maxBytes) throws IOException {
        return NpzFile.entry(file, name, maxBytes);
    }
}
