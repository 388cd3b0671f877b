// A character vocabulary: ids 0..size-1 for characters in first-seen order, as the book's
// dataset/sequence.py builds char_to_id / id_to_char. Characters are Unicode code points. Immutable.
package org.seq4j.data;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A character vocabulary: ids 0..size-1 for characters (Unicode code points) in first-seen order, as the book's
 * dataset/sequence.py builds char_to_id / id_to_char. Immutable.
 */
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

    /**
     * The vocabulary whose id i is the i-th character of {@code chars}.
     *
     * @param chars distinct characters
     * @return the vocabulary
     * @throws IllegalArgumentException if a character is listed twice, or chars holds a lone surrogate (half of a
     *                                  UTF-16 pair, not a character: it would be written to a UTF-8 file as '?')
     * @throws NullPointerException if chars is null
     */
    public static CharVocabulary of(String chars) {
        java.util.Objects.requireNonNull(chars, "CharVocabulary.of: chars is null");
        requireNoLoneSurrogate("CharVocabulary.of", "chars", chars);
        return new CharVocabulary(chars.codePoints().toArray());
    }

    /**
     * Refuses text that holds a lone surrogate (a UTF-16 half without its other half): String.codePoints gives it
     * as if it were a character, but it is none, and UTF-8 (the vocabulary file, a checkpoint) cannot hold it.
     */
    private static void requireNoLoneSurrogate(String call, String what, CharSequence text) {
        int position = 0;
        for (int i = 0; i < text.length(); position++) {
            int cp = Character.codePointAt(text, i);
            if (Character.isSurrogate((char) cp) && Character.charCount(cp) == 1) {
                throw new IllegalArgumentException(call + ": " + what + " holds a lone surrogate " + describe(cp)
                        + " at position " + position + ", which is not a character; expected valid Unicode"
                        + " (surrogates only in high-low pairs)");
            }
            i += Character.charCount(cp);
        }
    }

    /** Collects characters in first-seen order. */
    public static final class Builder {
        private final Map<Integer, Integer> seen = new HashMap<>();
        private int[] order = new int[16];
        private int size;

        /** An empty builder. */
        public Builder() {
        }

        /**
         * Adds every character of {@code text} not seen before, in order.
         *
         * @param text the characters
         * @return this builder
         * @throws IllegalArgumentException if text holds a lone surrogate (nothing is added)
         * @throws NullPointerException if text is null
         */
        public Builder add(CharSequence text) {
            java.util.Objects.requireNonNull(text, "CharVocabulary.Builder.add: text is null");
            requireNoLoneSurrogate("CharVocabulary.Builder.add", "text", text);
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

        /**
         * The vocabulary of the characters added so far.
         *
         * @return the vocabulary
         */
        public CharVocabulary build() {
            return new CharVocabulary(Arrays.copyOf(order, size));
        }
    }

    /**
     * An empty builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The number of characters.
     *
     * @return V
     */
    public int size() {
        return codePoints.length;
    }

    /**
     * Whether the character has an id.
     *
     * @param codePoint the character
     * @return true if it is in the vocabulary
     */
    public boolean contains(int codePoint) {
        return idOf(codePoint) >= 0;
    }

    /**
     * The id of a character.
     *
     * @param codePoint the character
     * @return its id, or -1 if it is not in the vocabulary
     */
    public int idOf(int codePoint) {
        if (codePoint >= 0 && codePoint < 256) {
            return latin1Ids[codePoint];
        }
        return ids.getOrDefault(codePoint, -1);
    }

    /**
     * The character with id {@code id}, as a one-character (one code point) string.
     *
     * @param id an id in [0, size)
     * @return the character
     * @throws IllegalArgumentException if the id is outside [0, size)
     */
    public String charOf(int id) {
        return Character.toString(codePointOf(id));
    }

    /**
     * The character with id {@code id}.
     *
     * @param id an id in [0, size)
     * @return its code point
     * @throws IllegalArgumentException if the id is outside [0, size)
     */
    public int codePointOf(int id) {
        if (id < 0 || id >= codePoints.length) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + codePoints.length
                    + " characters (ids 0.." + (codePoints.length - 1) + ")");
        }
        return codePoints[id];
    }

    /**
     * All characters in id order.
     *
     * @return the characters
     */
    public String chars() {
        return new String(codePoints, 0, codePoints.length);
    }

    /**
     * The ids of {@code text}'s characters.
     *
     * @param text the text
     * @return one id per code point
     * @throws IllegalArgumentException naming the character and its position if one is not in the vocabulary
     * @throws NullPointerException if text is null
     */
    public int[] encode(String text) {
        java.util.Objects.requireNonNull(text, "CharVocabulary.encode: text is null");
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

    /**
     * The string of {@code ids}.
     *
     * @param ids ids in [0, size)
     * @return the text
     * @throws IllegalArgumentException if an id is outside [0, size)
     * @throws NullPointerException if ids is null
     */
    public String decode(int[] ids) {
        java.util.Objects.requireNonNull(ids, "CharVocabulary.decode: ids is null");
        return decode(ids, 0, ids.length);
    }

    /**
     * The string of {@code ids[from, to)}.
     *
     * @param ids  ids in [0, size)
     * @param from the first index
     * @param to   one past the last index
     * @return the text
     * @throws IllegalArgumentException if an id is outside [0, size)
     * @throws IndexOutOfBoundsException if [from, to) is not a range of ids (naming the call, both and the length)
     * @throws NullPointerException if ids is null
     */
    public String decode(int[] ids, int from, int to) {
        java.util.Objects.requireNonNull(ids, "CharVocabulary.decode: ids is null");
        // a reversed range threw a bare NegativeArraySizeException, then the JDK's "Range [1, 0) out of bounds for
        // length 2" that named no call
        if (from < 0 || from > to || to > ids.length) {
            throw new IndexOutOfBoundsException("CharVocabulary.decode: range [" + from + ", " + to + ") is not inside "
                    + "the " + ids.length + " ids; expected 0 <= from <= to <= " + ids.length);
        }
        StringBuilder sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            sb.appendCodePoint(codePointOf(ids[i]));
        }
        return sb.toString();
    }

    /**
     * A character for error messages: 'x' (U+0078), or only (U+000D) for one that does not print (the rule of
     * DataFileException.quote).
     *
     * @param codePoint the character
     * @return the description
     */
    public static String describe(int codePoint) {
        return (DataFileException.prints(codePoint) ? "'" + Character.toString(codePoint) + "' " : "")
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
