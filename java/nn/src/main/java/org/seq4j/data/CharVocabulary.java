// A character vocabulary: ids 0..size-1 for characters in first-seen order, as the book's
// dataset/sequence.py builds char_to_id / id_to_char. Characters are Unicode code points. Immutable.
package org.seq4j.data;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

public final class CharVocabulary {
    private final int[] codePoints; // id -> code point
    private final Map<Integer, Integer> ids; // code point -> id
    private final int[] latin1Ids = new int[256]; // the same for code points < 256 (all of the book's), -1 if absent

    private CharVocabulary(int[] codePoints) {
        this.codePoints = codePoints;
        this.ids = new HashMap<>();
        Arrays.fill(latin1Ids, -1);
        for (int id = 0; id < codePoints.length; id++) {
            if (ids.put(codePoints[id], id) != null) {
                throw new IllegalArgumentException("character " + describe(codePoints[id]) + " is listed twice");
            }
            if (codePoints[id] < 256) {
                latin1Ids[codePoints[id]] = id;
            }
        }
    }

    /** The vocabulary whose id i is the i-th character of {@code chars}; characters must be distinct. */
    public static CharVocabulary of(String chars) {
        return new CharVocabulary(chars.codePoints().toArray());
    }

    /** Collects characters in first-seen order. */
    public static final class Builder {
        private final Map<Integer, Integer> seen = new HashMap<>();
        private int[] order = new int[16];
        private int size;

        /** Adds every character of {@code text} not seen before, in order. */
        public Builder add(CharSequence text) {
            text.codePoints().forEach(cp -> {
                if (seen.putIfAbsent(cp, size) == null) {
                    if (size == order.length) {
                        order = Arrays.copyOf(order, size * 2);
                    }
                    order[size++] = cp;
                }
            });
            return this;
        }

        public CharVocabulary build() {
            return new CharVocabulary(Arrays.copyOf(order, size));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public int size() {
        return codePoints.length;
    }

    public boolean contains(int codePoint) {
        return idOf(codePoint) >= 0;
    }

    /** The id of a character, or -1 if it is not in the vocabulary. */
    public int idOf(int codePoint) {
        if (codePoint >= 0 && codePoint < 256) {
            return latin1Ids[codePoint];
        }
        return ids.getOrDefault(codePoint, -1);
    }

    /** The character with id {@code id}, as a one-character (one code point) string. */
    public String charOf(int id) {
        return Character.toString(codePointOf(id));
    }

    public int codePointOf(int id) {
        if (id < 0 || id >= codePoints.length) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + codePoints.length
                    + " characters (ids 0.." + (codePoints.length - 1) + ")");
        }
        return codePoints[id];
    }

    /** All characters in id order. */
    public String chars() {
        return new String(codePoints, 0, codePoints.length);
    }

    /** The ids of {@code text}'s characters; a character not in the vocabulary is an error naming it and its position. */
    public int[] encode(String text) {
        int[] cps = text.codePoints().toArray();
        int[] out = new int[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int id = idOf(cps[i]);
            if (id < 0) {
                throw new IllegalArgumentException("character " + describe(cps[i]) + " at position " + i + " of "
                        + DataFileException.quote(text) + " is not in the vocabulary of " + size() + " characters");
            }
            out[i] = id;
        }
        return out;
    }

    /** The string of {@code ids}. */
    public String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    /** The string of {@code ids[from, to)}. */
    public String decode(int[] ids, int from, int to) {
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            sb.appendCodePoint(codePointOf(ids[i]));
        }
        return sb.toString();
    }

    /** A character for error messages: 'x' (U+0078). */
    public static String describe(int codePoint) {
        return (Character.isISOControl(codePoint) ? "" : "'" + Character.toString(codePoint) + "' ")
                + String.format("(U+%04X)", codePoint);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CharVocabulary v && Arrays.equals(codePoints, v.codePoints);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codePoints);
    }

    @Override
    public String toString() {
        return "CharVocabulary(" + size() + ": \"" + chars() + "\")";
    }
}
