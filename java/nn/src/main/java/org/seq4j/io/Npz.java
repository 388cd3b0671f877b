// NumPy .npz checkpoints: save named arrays to a file (atomically) and load them back. The files
// exchange with numpy: np.load reads what save writes, and load reads np.savez and np.savez_compressed.
// A text entry (a checkpoint's description) is read with text, as seq4j writes it (a raw entry) or as
// numpy writes it back after np.savez(f, **dict(np.load(g))) (one string in a .npy).
package org.seq4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;

/**
 * NumPy .npz files: save named arrays (atomically) and load them back. np.load reads what save writes; load reads
 * np.savez and np.savez_compressed files of little-endian, C-order float32 and int32 arrays, and float64 and int64
 * ones narrowed: float64 values rounded to the nearest float32 (tiny ones to a subnormal or a signed 0, NaN and the
 * infinities kept; a finite value beyond float32's range is an error), int64 values outside int32 an error. Other
 * dtypes (float16, bool, other integers, strings, objects, structured, big-endian) and Fortran order are refused;
 * docs/INTEROP.md lists the messages and the numpy fix for each.
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
     * @throws NullPointerException if file or arrays is null
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
     * @throws NullPointerException if file, arrays or compression is null
     */
    public static void save(Path file, SequencedMap<String, ? extends NpyArray> arrays,
            NpzWriter.Compression compression) throws IOException {
        nonNull("Npz.save", "file", file);   // bare NPEs from AtomicOutput's insides and from arrays.entrySet()
        nonNull("Npz.save", "arrays", arrays);
        nonNull("Npz.save", "compression", compression);   // NpzWriter took it for DEFLATED
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
        return NpzFile.read(nonNull("Npz.load", "file", file), Set.of());
    }

    /**
     * Reads every array of a .npz file but those named in {@code except}, whose entries are not read: a text
     * entry that numpy wrote as an array (a checkpoint's description after np.savez, read with text), say.
     *
     * @param file   the .npz file
     * @param except names (as np.load keys them, without ".npy") to leave unread and out of the result
     * @return its other arrays, in file order
     * @throws NpzFormatException if the file is not a valid .npz or another entry is not a supported array
     * @throws IOException if it cannot be read
     */
    public static NpzFile load(Path file, Set<String> except) throws IOException {
        return NpzFile.read(nonNull("Npz.load", "file", file), names("Npz.load", except));
    }

    /**
     * The shapes of a .npz file's arrays, from their headers alone: no array data is read or allocated, so a caller
     * can check that a file fits what it expects (a checkpoint's parameters, say) before it allocates for it. Each
     * header gets {@link #load}'s checks (a supported dtype, C order, a size in the archive that agrees with the
     * shape); the data and its checksum are left to load.
     *
     * @param file   the .npz file
     * @param except names (as np.load keys them, without ".npy") to leave out, as in {@link #load(Path, Set)}
     * @return each array's shape by name, in file order
     * @throws NpzFormatException if the file is not a valid .npz or a header is not one of a supported array
     * @throws IOException if it cannot be read
     */
    public static SequencedMap<String, int[]> shapes(Path file, Set<String> except) throws IOException {
        return NpzFile.shapes(nonNull("Npz.shapes", "file", file), names("Npz.shapes", except));
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
     * @throws IllegalArgumentException if maxBytes is negative
     * @throws IOException if it cannot be read
     */
    public static byte[] entry(Path file, String name, int maxBytes) throws IOException {
        return NpzFile.entry(nonNull("Npz.entry", "file", file), nonNull("Npz.entry", "name", name),
                NpzFile.requireLimit("Npz.entry", "maxBytes", maxBytes));
    }

    /**
     * The text np.load gives as {@code name}, in either of the forms it takes: the raw entry {@code name} (as
     * NpzWriter.addEntry writes it; np.load gives its bytes), or, once numpy has saved the archive again
     * ({@code np.savez(f, **dict(np.load(g)))}), the entry {@code name.npy} holding one string: a bytes array (dtype
     * {@code |S<n>}) or a str array ({@code <U<n>}, as np.savez writes a str value), of shape () or one element.
     * A raw entry's bytes and a bytes array's are read as Latin-1, one character a byte (as Java's Properties reads
     * a file); a str array's as its code points; trailing NULs of an array's item are padding, dropped as numpy
     * drops them. Any other array under {@code name.npy} is an error, and so are both forms in one archive.
     *
     * @param file     the .npz file
     * @param name     the text's name: the raw entry's full name, the array's without ".npy"
     * @param maxChars the most characters the text may have (a raw entry or {@code |S} item: bytes; a {@code <U}
     *                 item: 4 bytes each)
     * @return the text, or null if the archive holds neither entry
     * @throws NpzFormatException if the file is not a zip archive seq4j reads, holds both forms or two entries of
     *         one name, the entry is corrupt or holds more than maxChars, or the array is not one string
     * @throws IllegalArgumentException if maxChars is negative
     * @throws IOException if it cannot be read
     */
    public static String text(Path file, String name, int maxChars) throws IOException {
        return NpzFile.text(nonNull("Npz.text", "file", file), nonNull("Npz.text", "name", name),
                NpzFile.requireLimit("Npz.text", "maxChars", maxChars));
    }

    /** A copy of {@code except}, refused in the call's words if it, or a name in it, is null (Set.copyOf: a bare NPE). */
    private static Set<String> names(String op, Set<String> except) {
        nonNull(op, "except", except);
        if (except.stream().anyMatch(java.util.Objects::isNull)) {
            throw new NullPointerException(op + ": except holds a null name");
        }
        return Set.copyOf(except);
    }

    /** {@code value}, or a NullPointerException naming the call and the argument ("Npz.load: file is null"). */
    private static <T> T nonNull(String op, String name, T value) {
        if (value == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
        return value;
    }
}
