// The NumPy .npy format: a magic string, a version, a header that is a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, then the raw little-endian values.
// Writes version 1.0 (2.0 only for a header over 64 KiB) byte for byte as numpy 2 does; reads 1.0,
// 2.0 and 3.0.
package org.seq4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    /** Parses a whole .npy file held in {@code bytes}; errors name {@code file} and {@code array}. */
    static NpyArray decode(byte[] bytes, Path file, String array) throws NpzFormatException {
        if (bytes.length < MAGIC.length + 4 || !startsWithMagic(bytes)) {
            throw new NpzFormatException(file, array, "not a .npy array (no \\x93NUMPY magic at its start)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int major = bytes[6] & 0xFF;
        int minor = bytes[7] & 0xFF;
        long headerLength;
        int prefix;
        switch (major) {
            case 1 -> {
                headerLength = buf.getShort(8) & 0xFFFF;
                prefix = 10;
            }
            case 2, 3 -> {
                if (bytes.length < 12) {
                    throw new NpzFormatException(file, array, "truncated .npy header");
                }
                headerLength = buf.getInt(8) & 0xFFFFFFFFL;
                prefix = 12;
            }
            default -> throw new NpzFormatException(file, array,
                    ".npy format version " + major + "." + minor + " is not supported (1.0, 2.0 and 3.0 are)");
        }
        if (prefix + headerLength > bytes.length) {
            throw new NpzFormatException(file, array, "truncated .npy header: it says " + headerLength
                    + " bytes but only " + (bytes.length - prefix) + " follow");
        }
        // versions 1 and 2 store the header in latin-1, version 3 in UTF-8
        String header = new String(bytes, prefix, (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new Literal(header).parseDict();
        } catch (IllegalArgumentException e) {
            throw new NpzFormatException(file, array, "the .npy header does not parse (" + e.getMessage() + "): "
                    + header.strip());
        }
        Descr descr = descr(dict.get("descr"), file, array);
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new NpzFormatException(file, array, "the .npy header has no boolean 'fortran_order': " + header.strip());
        }
        if (fortran) {
            throw new NpzFormatException(file, array, "fortran_order is True; seq4j reads C order only "
                    + "(save numpy.ascontiguousarray(a) instead)");
        }
        int[] shape = shape(dict.get("shape"), header, file, array);
        if (dict.size() != 3) {
            throw new NpzFormatException(file, array, "the .npy header has keys " + dict.keySet()
                    + "; expected exactly descr, fortran_order and shape");
        }
        long count = 1;
        for (int d : shape) {
            count = Math.min(count * d, 1L << 40); // each d < 2^31: no overflow before the cap
        }
        int dataStart = prefix + (int) headerLength;
        long dataBytes = bytes.length - (long) dataStart;
        if (dataBytes != count * descr.itemSize) {
            throw new NpzFormatException(file, array, "data size does not match the shape: shape "
                    + Tensor.shapeString(shape) + " of " + descr.text + " needs " + count * descr.itemSize
                    + " bytes but the entry holds " + dataBytes);
        }
        buf.position(dataStart);
        int n = (int) count;
        return switch (descr) {
            case F4 -> {
                float[] v = new float[n];
                buf.asFloatBuffer().get(v);
                yield NpyArray.of(v, shape);
            }
            case I4 -> {
                int[] v = new int[n];
                buf.asIntBuffer().get(v);
                yield NpyArray.of(v, shape);
            }
            case F8 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    double d = buf.getDouble(dataStart + 8 * i); // < bytes.length: no int overflow
                    float f = (float) d;
                    if (Float.isInfinite(f) && !Double.isInfinite(d)) {
                        throw new NpzFormatException(file, array, "float64 value " + d + " at flat index " + i
                                + " does not fit in float32");
                    }
                    v[i] = f;
                }
                yield NpyArray.of(v, shape);
            }
            case I8 -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    long x = buf.getLong(dataStart + 8 * i);
                    if (x != (int) x) {
                        throw new NpzFormatException(file, array, "int64 value " + x + " at flat index " + i
                                + " does not fit in int32");
                    }
                    v[i] = (int) x;
                }
                yield NpyArray.of(v, shape);
            }
        };
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
            throw new NpzFormatException(file, array, "structured dtype " + value + " is not supported");
        }
        if (!(value instanceof String s)) {
            throw new NpzFormatException(file, array, "the .npy header has no string 'descr'");
        }
        for (Descr d : Descr.values()) {
            if (d.text.equals(s)) {
                return d;
            }
        }
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
            throw new NpzFormatException(file, array, "the .npy header has no tuple 'shape': " + header.strip());
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new NpzFormatException(file, array, "shape " + dims + " has a dimension that is not an int32 >= 0");
            }
            shape[i] = (int) (long) d;
        }
        long count = 1;
        for (int d : shape) {
            count = Math.min(count * d, 1L << 40);
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

        private Object value() {
            skipSpace();
            if (pos >= s.length()) {
                throw new IllegalArgumentException("ends too early");
            }
            char c = s.charAt(pos);
            return switch (c) {
                case '{' -> dict();
                case '(' -> sequence(')', new ArrayList<>());
                case '[' -> sequence(']', new PyList());
                case '\'', '"' -> string(c);
                default -> {
                    if (c == '-' || Character.isDigit(c)) {
                        yield integer();
                    }
                    yield word();
                }
            };
        }

        private Map<Object, Object> dict() {
            pos++; // {
            Map<Object, Object> m = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    return m;
                }
                Object key = value();
                skipSpace();
                expect(':');
                Object v = value();
                if (m.put(key, v) != null) {
                    throw new IllegalArgumentException("key " + key + " appears twice");
                }
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != '}') {
                    throw new IllegalArgumentException("expected ',' or '}' at " + pos);
                }
            }
        }

        private List<Object> sequence(char close, List<Object> out) {
            pos++; // ( or [
            while (true) {
                skipSpace();
                if (peek() == close) {
                    pos++;
                    return out;
                }
                out.add(value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != close) {
                    throw new IllegalArgumentException("expected ',' or '" + close + "' at " + pos);
                }
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
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            String digits = s.substring(start, pos);
            if (pos < s.length() && (s.charAt(pos) == 'L' || s.charAt(pos) == 'l')) {
                pos++; // Python 2 long suffix
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad integer '" + digits + "' at " + start);
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
