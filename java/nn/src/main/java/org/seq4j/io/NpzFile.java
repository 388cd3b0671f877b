// The arrays of one .npz file, read into memory, with the checks a model needs when it loads weights:
// the array is there, it has the expected shape and type, and (if asked) it holds no NaN or infinity.
// Every failure is an NpzFormatException naming the file and the array.
package org.seq4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.seq4j.tensor.Tensor;

/**
 * The arrays of one .npz file, read into memory, with the checks a model needs when it loads weights. Every
 * failure is an NpzFormatException naming the file and the array.
 */
public final class NpzFile {
    private final Path file;
    private final SequencedMap<String, NpyArray> arrays;

    private NpzFile(Path file, SequencedMap<String, NpyArray> arrays) {
        this.file = file;
        this.arrays = Collections.unmodifiableSequencedMap(arrays);
    }

    /**
     * Wraps arrays already in memory, e.g. to check them with the same methods.
     *
     * @param file   names them in errors
     * @param arrays the arrays by name
     * @return the wrapper
     * @throws NullPointerException if file or arrays is null, or arrays holds a null name or array
     */
    public static NpzFile of(Path file, SequencedMap<String, ? extends NpyArray> arrays) {
        // a null map was a bare NPE from LinkedHashMap, a null array one from the constructor's insides, and a null
        // file or name was taken, to be printed as "null" in the errors they are there to name
        if (file == null || arrays == null) {
            throw new NullPointerException("NpzFile.of: " + (file == null ? "file" : "arrays") + " is null");
        }
        for (var e : arrays.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new NullPointerException("NpzFile.of: arrays holds a null " + (e.getKey() == null ? "name"
                        : "array, under '" + e.getKey() + "'"));
            }
        }
        return new NpzFile(file, new LinkedHashMap<>(arrays));
    }

    static NpzFile read(Path file, Set<String> except) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, RegularFile.missing(file, "no such .npz file"));
        }
        SequencedMap<String, NpyArray> arrays = new LinkedHashMap<>();
        try (ZipFile zip = openZip(file)) {
            long archive = Files.size(file);
            for (var e : arrayEntries(zip, file, except).entrySet()) {
                String name = e.getKey();
                ZipEntry entry = e.getValue();
                arrays.put(name, readEntry(zip, entry, file, name, in -> Npy.read(in, entry.getSize(),
                        room(entry, archive), file, name), true));
            }
        }
        return new NpzFile(file, arrays);
    }

    /**
     * The most bytes {@code entry} can hold in an archive of {@code archive} bytes, whatever sizes its directory lists:
     * a stored entry no more than its compressed size or the archive, a deflated one 1032 times that (deflate's best
     * ratio: 258 bytes from one length-distance pair of 2 bits).
     */
    private static long room(ZipEntry entry, long archive) {
        long held = entry.getCompressedSize() >= 0 ? Math.min(entry.getCompressedSize(), archive) : archive;
        return entry.getMethod() == ZipEntry.STORED ? held : held * 1032;
    }

    /** The shapes of the arrays, from their headers alone; see Npz.shapes. */
    static SequencedMap<String, int[]> shapes(Path file, Set<String> except) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, RegularFile.missing(file, "no such .npz file"));
        }
        SequencedMap<String, int[]> shapes = new LinkedHashMap<>();
        try (ZipFile zip = openZip(file)) {
            for (var e : arrayEntries(zip, file, except).entrySet()) {
                String name = e.getKey();
                ZipEntry entry = e.getValue();
                // the header alone, but a format error there is checked against the entry's CRC-32 as load checks
                // it: a flipped byte said "the .npy header has no boolean 'fortran_order'" where load said "corrupt"
                shapes.put(name, readEntry(zip, entry, file, name, in -> Npy.readShape(in, entry.getSize(), file, name),
                        false));
            }
        }
        return shapes;
    }

    /** The archive's .npy entries but those in {@code except}, keyed as np.load keys them ("x.npy" as "x"). */
    private static SequencedMap<String, ZipEntry> arrayEntries(ZipFile zip, Path file, Set<String> except)
            throws NpzFormatException {
        SequencedMap<String, ZipEntry> found = new LinkedHashMap<>();
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            ZipEntry entry = entries.nextElement();
            // np.load keys an entry "x.npy" as "x"; other entries are not arrays and are not read
            if (entry.isDirectory() || !entry.getName().endsWith(".npy")) {
                continue;
            }
            String name = entry.getName().substring(0, entry.getName().length() - 4);
            if (except.contains(name)) {
                continue;
            }
            if (found.containsKey(name)) {
                throw new NpzFormatException(file, name, "the archive holds two entries named " + entry.getName());
            }
            found.put(name, entry);
        }
        return found;
    }

    /**
     * The bytes of the entry {@code name} that is not an array (a checkpoint's description, say), or null if the
     * archive has none; see Npz.entry.
     */
    static byte[] entry(Path file, String name, int maxBytes) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, RegularFile.missing(file, "no such .npz file"));
        }
        try (ZipFile zip = openZip(file)) {
            ZipEntry found = only(zip, name, file);
            return found == null ? null : rawEntry(zip, found, file, maxBytes);
        }
    }

    /**
     * The text stored under {@code name}, either as the raw entry {@code name} or as numpy's one-string array
     * {@code name.npy}, or null if the archive has neither; see Npz.text.
     */
    static String text(Path file, String name, int maxChars) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, RegularFile.missing(file, "no such .npz file"));
        }
        try (ZipFile zip = openZip(file)) {
            ZipEntry raw = only(zip, name, file);
            ZipEntry npy = only(zip, name + ".npy", file);
            if (raw != null && npy != null) { // np.load keys both as name: which one is meant is anyone's guess
                throw new NpzFormatException(file, null, "the archive holds both " + name + " and " + name
                        + ".npy, which np.load both gives as '" + name + "': which one is meant?");
            }
            if (raw != null) {
                return new String(rawEntry(zip, raw, file, maxChars), StandardCharsets.ISO_8859_1);
            }
            return npy == null ? null : readEntry(zip, npy, file, name,
                    in -> Npy.readText(in, npy.getSize(), maxChars, file, name), true);
        }
    }

    /** The one entry of the archive named {@code name}, or null; two of that name are an error. */
    private static ZipEntry only(ZipFile zip, String name, Path file) throws NpzFormatException {
        ZipEntry found = null;
        for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
            ZipEntry entry = entries.nextElement();
            if (entry.getName().equals(name)) {
                if (found != null) { // which one a reader takes is up to its zip library
                    throw new NpzFormatException(file, null, "the archive holds two entries named " + name);
                }
                found = entry;
            }
        }
        return found;
    }

    /**
     * The bytes of an entry that is not a .npy array: at most {@code maxBytes}, whatever size it lists, checked
     * against the archive's CRC-32 (java.util.zip checks none for a stored entry: a flipped byte of a checkpoint's
     * description came back as text).
     */
    private static byte[] rawEntry(ZipFile zip, ZipEntry entry, Path file, int maxBytes) throws IOException {
        String name = entry.getName();
        CRC32 crc = new CRC32();
        try (InputStream in = new CheckedInputStream(zip.getInputStream(entry), crc)) {
            // the listed size may lie: read at most one byte more (no more than an array holds)
            byte[] bytes = in.readNBytes((int) Math.min((long) maxBytes + 1, MAX_ARRAY));
            if (bytes.length > maxBytes || (bytes.length == MAX_ARRAY && in.read() >= 0)) {
                throw new NpzFormatException(file, null, "its entry " + name + " holds more than the " + maxBytes
                        + " bytes read of it");
            }
            if (entry.getCrc() >= 0 && crc.getValue() != entry.getCrc()) {
                throw new NpzFormatException(file, null, "its entry " + name + " is corrupt: its CRC-32 does not "
                        + "match the archive's");
            }
            return bytes;
        } catch (NpzFormatException e) {
            throw e;
        } catch (IOException e) { // ZipException, and the EOFException of an entry cut short (which named nothing)
            throw new NpzFormatException(file, null, "its entry " + name + " is corrupt or truncated (" + e + ")", e);
        }
    }

    /** The most bytes a Java array holds (the VM keeps a few header words of the int range). */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** Refuses a negative limit of a raw entry's or a text's size. */
    static int requireLimit(String op, String what, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException(op + ": " + what + " must be >= 0, got " + limit);
        }
        return limit;
    }

    private static ZipFile openZip(Path file) throws IOException {
        String refused = RegularFile.refusal(file, "a .npz file"); // a FIFO would block the open below for ever
        if (refused != null) {
            throw new NpzFormatException(file, null, refused);
        }
        try {
            ZipFile zip = new ZipFile(file.toFile());
            try {
                LocalHeaders.check(file);   // ZipFile reads the directory's names only
            } catch (IOException | RuntimeException e) {
                zip.close();
                throw e;
            }
            return zip;
        } catch (NpzFormatException e) {
            throw e;
        } catch (java.io.EOFException e) { // the directory's end record or comment cut short: it named nothing
            throw new NpzFormatException(file, null, "not a .npz file: a truncated zip archive (its end came while "
                    + "reading its directory)", e);
        } catch (ZipException e) {
            String m = String.valueOf(e.getMessage());
            // java.util.zip reads methods 0 and 8 only, and says so when it opens the archive ("invalid CEN header
            // (bad compression method: 12)"): a zip archive, but not one that is "corrupt"
            java.util.regex.Matcher method = java.util.regex.Pattern.compile("compression method: (\\d+)").matcher(m);
            if (method.find()) {
                throw new NpzFormatException(file, null, "an entry uses compression method " + method.group(1)
                        + methodName(Integer.parseInt(method.group(1))) + "; seq4j reads stored and deflated entries "
                        + "(np.savez, np.savez_compressed)", e);
            }
            throw new NpzFormatException(file, null, "not a .npz file: not a zip archive, or a truncated one (" + m
                    + ")", e);
        }
    }

    /** The name of a zip compression method, for messages: " (bzip2)", or nothing for one seldom seen. */
    private static String methodName(int method) {
        return switch (method) {
            case 9 -> " (deflate64)";
            case 12 -> " (bzip2)";
            case 14 -> " (LZMA)";
            case 93 -> " (zstd)";
            case 95 -> " (xz)";
            default -> "";
        };
    }

    /** At most this many bytes are read past a format error to see whether the entry's checksum fails too. */
    private static final long CHECK_LIMIT = 64L << 20;

    /** Decodes a .npy entry from its stream (Npy.read, Npy.readText). */
    private interface Decoder<T> {
        T decode(InputStream in) throws IOException;
    }

    /**
     * Decodes one .npy entry as it inflates, reading no more than its header declares (see Npy.read), so a small
     * archive that inflates to gigabytes is an error naming the entry, not an OutOfMemoryError. {@code whole}: the
     * decoder reads the entry to its end, whose CRC-32 is then checked; otherwise (a header alone) the CRC-32 is
     * checked only where the decoder fails, to say "corrupt" where that is the cause.
     */
    private static <T> T readEntry(ZipFile zip, ZipEntry entry, Path file, String name, Decoder<T> decoder,
                                   boolean whole) throws IOException {
        CRC32 crc = new CRC32();
        try (InputStream in = new CheckedInputStream(zip.getInputStream(entry), crc)) {
            T array;
            try {
                array = decoder.decode(in);
            } catch (NpzFormatException e) {
                // a flipped bit can look like any format error: where the checksum fails too, that is the news
                if (entry.getCrc() >= 0 && readsToEnd(in, CHECK_LIMIT) && crc.getValue() != entry.getCrc()) {
                    throw crcMismatch(file, name, e);
                }
                throw e;
            }
            if (whole && entry.getCrc() >= 0 && crc.getValue() != entry.getCrc()) {
                throw crcMismatch(file, name, null);
            }
            return array;
        } catch (NpzFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new NpzFormatException(file, name, "the entry is corrupt or truncated (" + e + ")", e);
        }
    }

    /** Reads the rest of {@code in}; true if it ended within {@code limit} bytes (and without an error). */
    private static boolean readsToEnd(InputStream in, long limit) {
        byte[] buf = new byte[8192];
        try {
            for (long read = 0; read <= limit; ) {
                int n = in.read(buf);
                if (n < 0) {
                    return true;
                }
                read += n;
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static NpzFormatException crcMismatch(Path file, String name, Throwable cause) {
        return new NpzFormatException(file, name, "the entry is corrupt: its CRC-32 does not match the archive's",
                cause);
    }

    /**
     * The file the arrays came from.
     *
     * @return its path
     */
    public Path file() {
        return file;
    }

    /**
     * The array names in file order (entries that are not arrays, such as a checkpoint's description, excluded).
     *
     * @return the names
     */
    public List<String> names() {
        return new ArrayList<>(arrays.keySet());
    }

    /**
     * All arrays in file order.
     *
     * @return an unmodifiable map
     */
    public SequencedMap<String, NpyArray> arrays() {
        return arrays;
    }

    /**
     * Whether the file holds array {@code name}.
     *
     * @param name the array's name, without ".npy"
     * @return true if present
     */
    public boolean contains(String name) {
        return arrays.containsKey(name);
    }

    /**
     * Array {@code name}; a missing one is an error listing the names the file does hold.
     *
     * @param name the array's name
     * @return the array
     * @throws NpzFormatException naming the file and the array if it is not there or does not fit
     * @throws NullPointerException if name is null
     */
    public NpyArray get(String name) throws NpzFormatException {
        return get("NpzFile.get", name);
    }

    private NpyArray get(String op, String name) throws NpzFormatException {
        if (name == null) {   // "no such array" before, as if the file might have held one named null
            throw new NullPointerException(op + ": name is null; expected an array's name (reading " + file + ")");
        }
        NpyArray a = arrays.get(name);
        if (a == null) {
            throw new NpzFormatException(file, name, "no such array; the file holds " + NpzFormatException.names(arrays.keySet()));
        }
        return a;
    }

    /**
     * Array {@code name}, which must have exactly shape {@code expected}.
     *
     * @param name     the array's name
     * @param expected its shape
     * @return the array
     * @throws NpzFormatException naming the file and the array if it is not there or does not fit
     * @throws NullPointerException if name or expected is null
     */
    public NpyArray requireShape(String name, int... expected) throws NpzFormatException {
        return requireShape("NpzFile.requireShape", name, expected);
    }

    private NpyArray requireShape(String op, String name, int[] expected) throws NpzFormatException {
        if (expected == null) {   // a bare NPE from Tensor.shapeString, and only when the array's shape did not match
            throw new NullPointerException(op + ": expected is null (the shape of '" + name + "')");
        }
        NpyArray a = get(op, name);
        if (!a.hasShape(expected)) {
            throw new NpzFormatException(file, name, "shape " + Tensor.shapeString(a.shape()) + " does not match the "
                    + "expected " + Tensor.shapeString(expected));
        }
        return a;
    }

    /**
     * The float32 values of {@code name}, which must have shape {@code expected} (float64 files are narrowed).
     *
     * @param name     the array's name
     * @param expected its shape
     * @return the values, row-major: the array's own (as NpyArray holds it), not a copy, so a write to it changes what
     *         this NpzFile gives for {@code name} from then on; clone it to change it
     * @throws NpzFormatException naming the file and the array if it is not there or does not fit
     * @throws NullPointerException if name or expected is null
     */
    public float[] floats(String name, int... expected) throws NpzFormatException {
        return switch (requireShape("NpzFile.floats", name, expected)) {
            case NpyArray.F32 f -> f.data();
            case NpyArray.I32 i -> throw new NpzFormatException(file, name, "holds integers; floats expected");
        };
    }

    /**
     * The int32 values of {@code name}, which must have shape {@code expected} (int64 files are narrowed).
     *
     * @param name     the array's name
     * @param expected its shape
     * @return the values, row-major: the array's own, not a copy (see {@link #floats})
     * @throws NpzFormatException naming the file and the array if it is not there or does not fit
     * @throws NullPointerException if name or expected is null
     */
    public int[] ints(String name, int... expected) throws NpzFormatException {
        return switch (requireShape("NpzFile.ints", name, expected)) {
            case NpyArray.I32 i -> i.data();
            case NpyArray.F32 f -> throw new NpzFormatException(file, name, "holds floats; integers expected");
        };
    }

    /**
     * Array {@code name}, which must hold no NaN or infinity (a diverged run's weights, say).
     *
     * @param name the array's name
     * @return the array
     * @throws NpzFormatException if it is missing or holds a non-finite value (naming its index)
     * @throws NullPointerException if name is null
     */
    public NpyArray requireFinite(String name) throws NpzFormatException {
        NpyArray a = get("NpzFile.requireFinite", name);
        String problem = nonFinite(a);
        if (problem != null) {
            throw new NpzFormatException(file, name, problem);
        }
        return a;
    }

    /**
     * What {@link #requireFinite} says of an array holding NaN or an infinity, for a writer to refuse what a reader
     * would (Checkpoint.write: a file saved that load refuses replaced a good one).
     *
     * @param a an array
     * @return the problem, naming the first such value and its index; null if every value is finite (or a is int32)
     */
    public static String nonFinite(NpyArray a) {
        if (a instanceof NpyArray.F32 f) {
            float[] v = f.data();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    return "value " + v[i] + " at flat index " + i + " (of shape " + Tensor.shapeString(f.shape())
                            + ") is not finite";
                }
            }
        }
        return null;
    }

    /**
     * Checks every array with requireFinite.
     *
     * @return this
     * @throws NpzFormatException naming the first array with a non-finite value
     */
    public NpzFile requireAllFinite() throws NpzFormatException {
        for (String name : arrays.keySet()) {
            requireFinite(name);
        }
        return this;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NpzFile ").append(file).append(" {");
        arrays.forEach((k, v) -> sb.append(' ').append(k).append(Tensor.shapeString(v.shape())).append(' ')
                .append(v.dtype()));
        return sb.append(" }").toString();
    }
}
