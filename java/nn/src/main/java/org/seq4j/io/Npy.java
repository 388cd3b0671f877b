// The NumPy .npy format: a magic string, a version, a header that is a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, then the raw little-endian values.
// Writes version 1.0 (2.0 only for a header over 64 KiB) byte for byte as numpy 2 does; reads 1.0,
// 2.0 and 3.0 from a stream, taking no more bytes than the header declares and parsing the header
// without recursion, so a hostile file is an NpzFormatException, never an OutOfMemoryError or StackOverflowError.
package org.seq4j.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.seq4j.internal.JavaHeap;
import org.seq4j.tensor.Tensor;

final class Npy {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy pads the header so the data starts at a multiple of 64 bytes (its ARRAY_ALIGN). */
    private static final int ALIGN = 64;
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;

    private Npy() {
    }

    // ---- writing ---------------------------------------------------------------------------------------

    /** The whole .npy file for {@code a}: magic, version, header, values. */
    static byte[] encode(NpyArray a) {
        byte[] header = header(a);
        long total = header.length + 4L * a.size();
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("array of shape " + Tensor.shapeString(a.shape())
                    + " is too large for one .npy entry (" + total + " bytes, at most 2 GiB)");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(header);
        switch (a) {
            case NpyArray.F32 f -> buf.asFloatBuffer().put(f.data());
            case NpyArray.I32 i -> buf.asIntBuffer().put(i.data());
        }
        return buf.array();
    }

    /** Magic, version, header length and the padded header dict, as numpy.lib.format writes them. */
    static byte[] header(NpyArray a) {
        String descr = switch (a) {
            case NpyArray.F32 f -> "<f4";
            case NpyArray.I32 i -> "<i4";
        };
        int[] shape = a.shape();
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr)
                .append("', 'fortran_order': False, 'shape': (");
        for (int d = 0; d < shape.length; d++) {
            dict.append(d > 0 ? ", " : "").append(shape[d]);
        }
        dict.append(shape.length == 1 ? ",), }" : "), }");
        // like numpy >= 1.24: spare spaces so the first dimension can grow to 21 digits in place
        if (shape.length > 0) {
            dict.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length()));
        }
        // version 1.0 has a 2-byte header length, 2.0 a 4-byte one
        int major = dict.length() + 1 + ALIGN > 0xFFFF ? 2 : 1;
        int prefix = MAGIC.length + 2 + (major == 1 ? 2 : 4);
        // numpy's padding rule, byte for byte: it always adds 1..64 spaces (64 when already aligned)
        int hlen = dict.length() + 1;
        int pad = ALIGN - (prefix + hlen) % ALIGN;
        dict.append(" ".repeat(pad)).append('\n');
        int padded = prefix + dict.length();
        ByteBuffer buf = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            buf.putShort((short) dict.length());
        } else {
            buf.putInt(dict.length());
        }
        buf.put(dict.toString().getBytes(StandardCharsets.ISO_8859_1));
        return buf.array();
    }

    // ---- reading ---------------------------------------------------------------------------------------

    /**
     * Most header bytes read. numpy writes about 128 (and np.load refuses over 10,000 by default); 1 MiB leaves
     * room for any honest header and bounds what a hostile one makes us hold.
     */
    static final int MAX_HEADER_BYTES = 1 << 20;
    /** Deepest nesting of the header literal: the dict is level 1, its shape tuple level 2. */
    static final int MAX_DEPTH = 16;
    /** Most dimensions of a shape (numpy 2's NPY_MAXDIMS). */
    static final int MAX_RANK = 64;
    /** Data is read and converted in chunks of this many bytes (a multiple of every item size). */
    private static final int CHUNK = 1 << 16;

    /** The element types seq4j reads; 8-byte ones are narrowed to 4 bytes with a range check. */
    private enum Descr {
        F4("<f4", 4), F8("<f8", 8), I4("<i4", 4), I8("<i8", 8);

        final String text;
        final int itemSize;

        Descr(String text, int itemSize) {
            this.text = text;
            this.itemSize = itemSize;
        }
    }

    /**
     * Reads one .npy array from {@code in} (an entry of a .npz archive); errors name {@code file} and
     * {@code array}. It reads exactly the bytes the header declares (header + product of the shape x item
     * size, computed exactly) and one more to see the end: an entry that inflates to more, a zip bomb, is an
     * error after those bytes, never an OutOfMemoryError. {@code declaredSize} is the archive's size of the
     * entry (-1 if unknown), which must agree with the header before any data is read. {@code room} is the most
     * bytes the entry can hold, whatever size the archive lists (see NpzFile.room): data past it is refused before
     * the values are allocated.
     */
    static NpyArray read(InputStream in, long declaredSize, long room, Path file, String array) throws IOException {
        ArrayHeader h = arrayHeader(in, declaredSize, file, array);
        int[] shape = h.shape();
        int count = (int) Tensor.sizeOf(shape);
        requireHeap(Math.multiplyExact((long) count, 4), shape, file, array);
        // the listed size can lie as the header does: a header of 2^27 floats, listed at that size, in an archive of
        // 200 bytes allocated 512 MiB before the data ran out 8 bytes in
        long dataBytes = (long) count * h.descr().itemSize;
        if (dataBytes > room) {
            throw sizeMismatch(file, array, shape, h.descr(), dataBytes, "at most " + room + ", all that the archive's "
                    + "bytes can hold (the size its zip directory lists is corrupt, or a zip bomb)");
        }
        return switch (h.descr()) {
            case F4, F8 -> NpyArray.of(readFloats(in, h.descr(), count, shape, file, array), shape);
            case I4, I8 -> NpyArray.of(readInts(in, h.descr(), count, shape, file, array), shape);
        };
    }

    /**
     * The shape of one .npy array from its header alone, checked as {@link #read} checks it (dtype, C order, the
     * archive's size of the entry against the shape); no data is read.
     */
    static int[] readShape(InputStream in, long declaredSize, Path file, String array) throws IOException {
        return arrayHeader(in, declaredSize, file, array).shape();
    }

    /** The header of a numeric array: its element type and shape; {@code in} is left at the first data byte. */
    private record ArrayHeader(Descr descr, int[] shape) {
    }

    private static ArrayHeader arrayHeader(InputStream in, long declaredSize, Path file, String array)
            throws IOException {
        Header h = readHeader(in, file, array);
        Map<String, Object> dict = h.dict();
        String header = h.text();
        Descr descr = descr(dict.get("descr"), file, array);
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new NpzFormatException(file, array, "the .npy header has no boolean 'fortran_order': "
                    + abbreviate(header.strip()));
        }
        if (fortran) {
            throw new NpzFormatException(file, array, "fortran_order is True; seq4j reads C order only "
                    + "(save numpy.ascontiguousarray(a) instead)");
        }
        int[] shape = shape(dict.get("shape"), header, file, array);
        if (dict.size() != 3) {
            throw new NpzFormatException(file, array, "the .npy header has keys " + abbreviate(dict.keySet().toString())
                    + "; expected exactly descr, fortran_order and shape");
        }
        // count < 2^31 (checked by shape), so neither product below can overflow; exact all the same
        long dataBytes = Math.multiplyExact(Tensor.sizeOf(shape), descr.itemSize);
        long dataStart = h.dataStart();
        if (declaredSize >= 0 && declaredSize != Math.addExact(dataStart, dataBytes)) {
            throw sizeMismatch(file, array, shape, descr, dataBytes, Long.toString(declaredSize - dataStart));
        }
        return new ArrayHeader(descr, shape);
    }

    /** A parsed .npy header: its dict, its text (for messages), and where the data starts in the entry. */
    private record Header(Map<String, Object> dict, String text, long dataStart) {
    }

    /** Reads the magic, version and header of a .npy entry, leaving {@code in} at the first data byte. */
    private static Header readHeader(InputStream in, Path file, String array) throws IOException {
        byte[] start = in.readNBytes(MAGIC.length + 4);
        if (start.length < MAGIC.length + 4 || !startsWithMagic(start)) {
            throw new NpzFormatException(file, array, "not a .npy array (no \\x93NUMPY magic at its start)");
        }
        int major = start[6] & 0xFF;
        int minor = start[7] & 0xFF;
        long headerLength;
        int prefix;
        switch (major) {
            case 1 -> {
                headerLength = ByteBuffer.wrap(start, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
                prefix = 10;
            }
            case 2, 3 -> {
                byte[] rest = in.readNBytes(2);
                if (rest.length < 2) {
                    throw new NpzFormatException(file, array, "truncated .npy header");
                }
                headerLength = ByteBuffer.wrap(new byte[] {start[8], start[9], rest[0], rest[1]})
                        .order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
                prefix = 12;
            }
            default -> throw new NpzFormatException(file, array,
                    ".npy format version " + major + "." + minor + " is not supported (1.0, 2.0 and 3.0 are)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new NpzFormatException(file, array, "the .npy header says it is " + headerLength
                    + " bytes long; seq4j reads headers of at most " + MAX_HEADER_BYTES + " bytes");
        }
        byte[] headerBytes = in.readNBytes((int) headerLength);
        if (headerBytes.length < headerLength) {
            throw new NpzFormatException(file, array, "truncated .npy header: it says " + headerLength
                    + " bytes but only " + headerBytes.length + " follow");
        }
        // versions 1 and 2 store the header in latin-1, version 3 in UTF-8
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new Literal(header).parseDict();
        } catch (IllegalArgumentException e) {
            throw new NpzFormatException(file, array, "the .npy header does not parse (" + e.getMessage() + "): "
                    + abbreviate(header.strip()));
        }
        return new Header(dict, header, prefix + headerLength);
    }

    // ---- reading text: one string, as np.savez stores a bytes or str value -------------------------------

    /** The dtypes of a text entry: numpy's bytes (|S, n bytes an item) and str (<U, n UTF-32LE code points). */
    private static final Pattern TEXT_DESCR = Pattern.compile("(\\|S|<U)(\\d+)");
    private static final String TEXT_FORMS = "text is read from a bytes (|S) or str (<U) array of one element, as "
            + "np.savez writes a bytes or str value";

    /**
     * Reads one .npy entry holding a single string, as np.savez writes a bytes value (dtype {@code |S<n>}) or a str
     * ({@code <U<n>}): shape () or any shape of one element. A {@code |S} item is n bytes, read as Latin-1 (one
     * character a byte, as Java's Properties reads a file); a {@code <U} item is n code points, 4 little-endian bytes
     * each. Trailing NULs are padding and dropped, as numpy drops them. n may be at most {@code maxChars}, and the
     * entry must hold exactly the header and that one item: any other dtype, shape or size is an NpzFormatException
     * naming {@code array}, before the item is read.
     */
    static String readText(InputStream in, long declaredSize, int maxChars, Path file, String array)
            throws IOException {
        Header h = readHeader(in, file, array);
        Map<String, Object> dict = h.dict();
        Matcher m = dict.get("descr") instanceof String s ? TEXT_DESCR.matcher(s) : null;
        if (m == null || !m.matches()) {
            throw new NpzFormatException(file, array, (dict.get("descr") instanceof String s ? "dtype " + abbreviate(s)
                    + " is not text" : "the .npy header has no string 'descr'") + "; " + TEXT_FORMS);
        }
        String descr = abbreviate(m.group()); // for messages: a hostile header may give a million digits
        boolean unicode = m.group(1).equals("<U");
        long n = m.group(2).length() > 12 ? Long.MAX_VALUE : Long.parseLong(m.group(2));
        if (!(dict.get("fortran_order") instanceof Boolean)) { // either order lays out one item the same
            throw new NpzFormatException(file, array, "the .npy header has no boolean 'fortran_order': "
                    + abbreviate(h.text().strip()));
        }
        int[] shape = shape(dict.get("shape"), h.text(), file, array);
        if (dict.size() != 3) {
            throw new NpzFormatException(file, array, "the .npy header has keys " + abbreviate(dict.keySet().toString())
                    + "; expected exactly descr, fortran_order and shape");
        }
        long count = Tensor.sizeOf(shape);
        if (count != 1) {
            throw new NpzFormatException(file, array, "shape " + Tensor.shapeString(shape) + " holds " + count
                    + " strings; " + TEXT_FORMS + " (shape ())");
        }
        if (n > maxChars) {
            throw new NpzFormatException(file, array, "dtype " + descr + " is a string of "
                    + abbreviate(m.group(2)) + " characters; seq4j reads at most " + maxChars);
        }
        long itemBytes = n * (unicode ? 4 : 1); // n <= maxChars, an int: no overflow
        if (itemBytes > Integer.MAX_VALUE - 8) {
            throw new NpzFormatException(file, array, "dtype " + descr + " needs " + itemBytes + " bytes, more than "
                    + "a Java array holds");
        }
        if (declaredSize >= 0 && declaredSize != h.dataStart() + itemBytes) {
            throw new NpzFormatException(file, array, "data size does not match the dtype: one " + descr
                    + " needs " + itemBytes + " bytes but the entry holds " + (declaredSize - h.dataStart()));
        }
        byte[] item = in.readNBytes((int) itemBytes);
        if (item.length < itemBytes) {
            throw new NpzFormatException(file, array, "data size does not match the dtype: one " + descr
                    + " needs " + itemBytes + " bytes but the entry holds " + item.length);
        }
        if (in.read() != -1) {
            throw new NpzFormatException(file, array, "data size does not match the dtype: one " + descr
                    + " needs " + itemBytes + " bytes but the entry goes on past them");
        }
        if (!unicode) {
            int end = item.length;
            while (end > 0 && item[end - 1] == 0) {
                end--;
            }
            return new String(item, 0, end, StandardCharsets.ISO_8859_1);
        }
        IntBuffer points = ByteBuffer.wrap(item).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        int end = points.limit();
        while (end > 0 && points.get(end - 1) == 0) {
            end--;
        }
        StringBuilder text = new StringBuilder(end);
        for (int i = 0; i < end; i++) {
            int c = points.get(i);
            if (!Character.isValidCodePoint(c)) {
                throw new NpzFormatException(file, array, "character " + i + " of the " + descr + " string is 0x"
                        + Integer.toHexString(c) + ", not a Unicode code point");
            }
            text.appendCodePoint(c);
        }
        return text.toString();
    }

    /** The values of a float array, narrowed from float64 where the file holds those. */
    private static float[] readFloats(InputStream in, Descr descr, int count, int[] shape, Path file, String array)
            throws IOException {
        float[] v;
        try {
            v = new float[count];
        } catch (OutOfMemoryError e) {   // after the collections the JVM runs first: the heap cannot hold it
            throw heapRefusal(4L * count, shape, file, array);
        }
        int i = 0;
        for (ByteBuffer b; (b = nextChunk(in, descr, count, i, shape, file, array)) != null; ) {
            if (descr == Descr.F4) {
                int n = b.remaining() / 4;
                b.asFloatBuffer().get(v, i, n);
                i += n;
                continue;
            }
            while (b.hasRemaining()) {
                double d = b.getDouble();
                float f = (float) d;
                if (Float.isInfinite(f) && !Double.isInfinite(d)) {
                    throw new NpzFormatException(file, array, "float64 value " + d + " at flat index " + i
                            + " does not fit in float32");
                }
                v[i++] = f;
            }
        }
        return v;
    }

    /** The values of an int array, narrowed from int64 where the file holds those. */
    private static int[] readInts(InputStream in, Descr descr, int count, int[] shape, Path file, String array)
            throws IOException {
        int[] v;
        try {
            v = new int[count];
        } catch (OutOfMemoryError e) {
            throw heapRefusal(4L * count, shape, file, array);
        }
        int i = 0;
        for (ByteBuffer b; (b = nextChunk(in, descr, count, i, shape, file, array)) != null; ) {
            if (descr == Descr.I4) {
                int n = b.remaining() / 4;
                b.asIntBuffer().get(v, i, n);
                i += n;
                continue;
            }
            while (b.hasRemaining()) {
                long x = b.getLong();
                if (x != (int) x) {
                    throw new NpzFormatException(file, array, "int64 value " + x + " at flat index " + i
                            + " does not fit in int32");
                }
                v[i++] = (int) x;
            }
        }
        return v;
    }

    /**
     * The next chunk of data, holding the items from flat index {@code done} on, or null when all {@code count}
     * have been read and the stream has ended. Fewer bytes than the shape needs, or any byte after them, is an
     * error: reading stops one byte past the declared size however far the entry would inflate.
     */
    private static ByteBuffer nextChunk(InputStream in, Descr descr, int count, int done, int[] shape, Path file,
                                        String array) throws IOException {
        long dataBytes = (long) count * descr.itemSize;
        long read = (long) done * descr.itemSize;
        if (read == dataBytes) {
            if (in.read() != -1) {
                throw sizeMismatch(file, array, shape, descr, dataBytes, "more (it goes on past the " + dataBytes
                        + " bytes its header declares: a corrupt entry or a zip bomb)");
            }
            return null;
        }
        int len = (int) Math.min(CHUNK, dataBytes - read); // a multiple of the item size: CHUNK and dataBytes are
        byte[] chunk = new byte[len];
        int got = in.readNBytes(chunk, 0, len);
        if (got < len) {
            throw sizeMismatch(file, array, shape, descr, dataBytes, Long.toString(read + got));
        }
        return ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static NpzFormatException sizeMismatch(Path file, String array, int[] shape, Descr descr, long needed,
                                                   String holds) {
        return new NpzFormatException(file, array, "data size does not match the shape: shape "
                + Tensor.shapeString(shape) + " of " + descr.text + " needs " + needed + " bytes but the entry holds "
                + holds);
    }

    /**
     * The decoded values need {@code bytes} of heap: more than the heap's maximum is a clear error before anything is
     * allocated (a header may declare any shape up to 2^31 elements, whatever the data holds); within it, the
     * allocation itself decides (readFloats, readInts: an OutOfMemoryError there, after the collections the JVM runs
     * first, is the same error). An estimate of the free heap here counted garbage not yet collected as used, and the
     * same file loaded a second time in a process was refused for good (the refusal allocates nothing to make a
     * collection come).
     */
    private static void requireHeap(long bytes, int[] shape, Path file, String array) throws NpzFormatException {
        if (bytes > Runtime.getRuntime().maxMemory()) {
            throw heapRefusal(bytes, shape, file, array);
        }
    }

    private static NpzFormatException heapRefusal(long bytes, int[] shape, Path file, String array) {
        return new NpzFormatException(file, array, "shape " + Tensor.shapeString(shape) + " needs " + bytes
                + " bytes of Java heap but only about " + JavaHeap.availableAfterCollection() + " of the maximum "
                + Runtime.getRuntime().maxMemory() + " are free (raise -Xmx if the array is real)");
    }

    /**
     * A header quoted in a message: on one line, at most 200 characters of it; a line end as a space (the header ends
     * in one), any other control character as \xHH (a NUL read as a space, which hid what was wrong).
     */
    private static String abbreviate(String header) {
        StringBuilder sb = new StringBuilder();
        header.codePoints().forEach(c -> {
            if (c == '\n' || c == '\r') {
                sb.append(' ');
            } else if (Character.isISOControl(c)) {
                sb.append(String.format(java.util.Locale.ROOT, "\\x%02x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        String line = sb.toString();
        return line.length() <= 200 ? line : line.substring(0, 200) + "... (" + line.length() + " characters)";
    }

    private static boolean startsWithMagic(byte[] bytes) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static Descr descr(Object value, Path file, String array) throws NpzFormatException {
        if (value instanceof List<?>) {
            throw new NpzFormatException(file, array, "structured dtype " + abbreviate(value.toString())
                    + " is not supported");
        }
        if (!(value instanceof String s)) {
            throw new NpzFormatException(file, array, "the .npy header has no string 'descr'");
        }
        for (Descr d : Descr.values()) {
            if (d.text.equals(s)) {
                return d;
            }
        }
        s = abbreviate(s);
        String why;
        if (s.startsWith(">")) {
            why = "big-endian dtype " + s + " is not supported; save a.astype('<" + s.substring(1) + "') instead";
        } else if (s.endsWith("O")) {
            why = "object dtype " + s + " is not supported (it holds pickled Python objects, not numbers)";
        } else {
            why = "dtype " + s + " is not supported";
        }
        throw new NpzFormatException(file, array, why + "; seq4j reads <f4, <f8, <i4 and <i8");
    }

    private static int[] shape(Object value, String header, Path file, String array) throws NpzFormatException {
        if (!(value instanceof List<?> dims) || value instanceof Literal.PyList) {
            throw new NpzFormatException(file, array, "the .npy header has no tuple 'shape': "
                    + abbreviate(header.strip()));
        }
        if (dims.size() > MAX_RANK) {
            throw new NpzFormatException(file, array, "shape has " + dims.size() + " dimensions; numpy allows at most "
                    + MAX_RANK);
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new NpzFormatException(file, array, "shape " + abbreviate(dims.toString())
                        + " has a dimension that is not an int32 >= 0");
            }
            shape[i] = (int) (long) d;
        }
        long count;
        try {
            count = Tensor.sizeOf(shape); // exact
        } catch (IllegalArgumentException e) {
            count = Long.MAX_VALUE;
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new NpzFormatException(file, array, "shape " + Tensor.shapeString(shape)
                    + " has more elements than a Java array can hold");
        }
        return shape;
    }

    /**
     * The subset of Python literal syntax .npy headers use: dicts, tuples, lists, strings ('...' or "..."),
     * integers (old files may write 3L), True, False and None. Tuples come back as List, lists as PyList.
     */
    private static final class Literal {
        /** A Python list, told apart from a tuple: 'shape' must be a tuple. */
        static final class PyList extends ArrayList<Object> {
        }

        /** Python's None. */
        static final Object NONE = new Object() {
            @Override
            public String toString() {
                return "None";
            }
        };

        private final String s;
        private int pos;

        Literal(String s) {
            this.s = s;
        }

        Map<String, Object> parseDict() {
            skipSpace();
            Object v = value();
            skipSpace();
            if (pos != s.length()) {
                throw new IllegalArgumentException("unexpected '" + s.charAt(pos) + "' at " + pos + " after the dict");
            }
            if (!(v instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("not a dict");
            }
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), x));
            return out;
        }

        /**
         * One value, parsed without recursion: containers opened so far wait on a stack of at most MAX_DEPTH,
         * so a header of 60,000 '(' is an error at the 17th, not a StackOverflowError.
         */
        private Object value() {
            Deque<Open> open = new ArrayDeque<>();
            while (true) {
                skipSpace();
                char c = peek();
                Object v;
                if (c == '{' || c == '(' || c == '[') {
                    if (open.size() == MAX_DEPTH) {
                        throw new IllegalArgumentException("nested deeper than " + MAX_DEPTH + " levels at " + pos);
                    }
                    pos++;
                    open.push(new Open(c));
                    skipSpace();
                    if (peek() != open.peek().close) {
                        continue; // its first item (or key) follows
                    }
                    pos++;
                    v = open.pop().value;
                } else if (c == '\'' || c == '"') {
                    v = string(c);
                } else if (c == '-' || Character.isDigit(c)) {
                    v = integer();
                } else {
                    v = word();
                }
                // v is complete: it goes into the innermost open container, and each container that ends here
                // is complete in turn
                while (true) {
                    Open top = open.peek();
                    if (top == null) {
                        return v;
                    }
                    if (top.add(v)) {
                        skipSpace();
                        expect(':');
                        break; // the key's value follows
                    }
                    skipSpace();
                    if (peek() == ',') {
                        pos++;
                        top.comma = true;
                        skipSpace();
                        if (peek() != top.close) {
                            break; // the next item follows
                        }
                    } else if (peek() != top.close) {
                        throw new IllegalArgumentException("expected ',' or '" + top.close + "' at " + pos);
                    }
                    pos++;
                    v = open.pop().valueAsPython();
                }
            }
        }

        /** A dict, tuple or list being parsed. */
        private static final class Open {
            final char close;
            final Object value; // Map<Object, Object>, ArrayList (tuple) or PyList
            private Object key;
            private boolean hasKey;
            boolean comma;      // a ',' came after an item

            /**
             * What the closed brackets hold as Python reads them: "(2)" is the integer 2 in parentheses, not a tuple
             * (a one-item tuple is "(2,)"), so a shape of "(2)" is no tuple, as numpy says; it was read as (2,).
             */
            Object valueAsPython() {
                if (close == ')' && !comma && ((List<?>) value).size() == 1) {
                    return ((List<?>) value).get(0);
                }
                return value;
            }

            Open(char open) {
                close = open == '{' ? '}' : open == '(' ? ')' : ']';
                value = open == '{' ? new LinkedHashMap<>() : open == '(' ? new ArrayList<>() : new PyList();
            }

            /** Adds a parsed value; true when it was a dict key, whose ':' and value come next. */
            @SuppressWarnings("unchecked")
            boolean add(Object v) {
                if (value instanceof Map<?, ?> map) {
                    if (!hasKey) {
                        key = v;
                        hasKey = true;
                        return true;
                    }
                    hasKey = false;
                    if (((Map<Object, Object>) map).put(key, v) != null) {
                        throw new IllegalArgumentException("key " + abbreviate(String.valueOf(key)) + " appears twice");
                    }
                    return false;
                }
                ((List<Object>) value).add(v);
                return false;
            }
        }

        private String string(char quote) {
            int end = s.indexOf(quote, pos + 1);
            if (end < 0) {
                throw new IllegalArgumentException("unterminated string at " + pos);
            }
            String v = s.substring(pos + 1, end);
            pos = end + 1;
            return v;
        }

        private Long integer() {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            // ASCII digits only: Character.isDigit (and Long.parseLong) took other scripts' digits, "(\u0663,)" as 3
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            String digits = s.substring(start, pos);
            String magnitude = digits.startsWith("-") ? digits.substring(1) : digits;
            if (magnitude.length() > 1 && magnitude.startsWith("0") && !magnitude.matches("0+")) {
                // Python 3 refuses "02" (an octal literal of Python 2), and numpy with it
                throw new IllegalArgumentException("bad integer '" + abbreviate(digits) + "' at " + start
                        + " (a leading zero)");
            }
            if (pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) {
                pos++; // Python 2 long suffix
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad integer '" + abbreviate(digits) + "' at " + start);
            }
        }

        private Object word() {
            int start = pos;
            while (pos < s.length() && Character.isLetter(s.charAt(pos))) {
                pos++;
            }
            return switch (s.substring(start, pos)) {
                case "True" -> Boolean.TRUE;
                case "False" -> Boolean.FALSE;
                case "None" -> NONE;
                default -> throw new IllegalArgumentException("unexpected '" + s.charAt(start) + "' at " + start);
            };
        }

        private char peek() {
            if (pos >= s.length()) {
                throw new IllegalArgumentException("ends too early");
            }
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + pos);
            }
            pos++;
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }
    }
}
