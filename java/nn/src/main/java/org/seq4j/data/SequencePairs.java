// Question/answer pairs of a toy sequence set as character ids: x (N, question length) and
// t (N, answer length), where every answer starts with '_', the decoder's start token. The arrays are
// held, not copied.
package org.seq4j.data;

/**
 * Question/answer pairs of a toy sequence set as character ids; every answer starts with '_', the decoder's
 * start token. The arrays are held, not copied.
 *
 * @param x (N, question length) ids
 * @param t (N, answer length) ids
 */
public record SequencePairs(int[][] x, int[][] t) {
    /**
     * Checks that there are as many answers as questions, and every question (answer) as long as the first.
     *
     * @throws IllegalArgumentException if the counts differ, or a row is missing or of another length (a longer
     *                                  one would be cut short without a word when batched)
     * @throws NullPointerException if x or t is null
     */
    public SequencePairs {
        // a bare "Cannot read the array length because x is null"
        java.util.Objects.requireNonNull(x, "SequencePairs: x is null");
        java.util.Objects.requireNonNull(t, "SequencePairs: t is null");
        if (x.length != t.length) {
            throw new IllegalArgumentException(x.length + " questions but " + t.length + " answers");
        }
        rectangular(x, "question");
        rectangular(t, "answer");
    }

    private static void rectangular(int[][] rows, String what) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] == null || rows[i].length != rows[0].length) {
                throw new IllegalArgumentException(what + " " + i + " has " + (rows[i] == null ? "no array"
                        : rows[i].length + " ids") + "; every " + what + " must have as many as the first ("
                        + (rows[0] == null ? "none" : rows[0].length) + ")");
            }
        }
    }

    /**
     * Number of pairs.
     *
     * @return N
     */
    public int size() {
        return x.length;
    }

    /**
     * Characters per question.
     *
     * @return the length, 0 when empty
     */
    public int questionLength() {
        return x.length == 0 ? 0 : x[0].length;
    }

    /**
     * Characters per answer, '_' included.
     *
     * @return the length, 0 when empty
     */
    public int answerLength() {
        return t.length == 0 ? 0 : t[0].length;
    }

    /**
     * The same pairs with each whole padded question reversed, as the book's x[:, ::-1].
     *
     * @return new pairs
     */
    public SequencePairs withReversedQuestions() {
        int[][] r = new int[x.length][];
        for (int i = 0; i < x.length; i++) {
            int[] q = x[i];
            r[i] = new int[q.length];
            for (int j = 0; j < q.length; j++) {
                r[i][j] = q[q.length - 1 - j];
            }
        }
        return new SequencePairs(r, t);
    }

    /**
     * Rows {@code [from, to)}, sharing the row arrays.
     *
     * @param from the first row
     * @param to   one past the last row
     * @return the pairs
     * @throws IndexOutOfBoundsException unless {@code 0 <= from <= to <= size()}, naming the call, both and the size
     *         (copyOfRange said {@code 1 > 0}, or padded past the end with null rows, refused later as "question 1 has
     *         no array"; then the JDK's "Range [1, 0) out of bounds for length 2" named no call)
     */
    public SequencePairs slice(int from, int to) {
        if (from < 0 || from > to || to > x.length) {
            throw new IndexOutOfBoundsException("SequencePairs.slice: rows [" + from + ", " + to + ") are not inside the "
                    + x.length + " pairs; expected 0 <= from <= to <= " + x.length);
        }
        return new SequencePairs(java.util.Arrays.copyOfRange(x, from, to), java.util.Arrays.copyOfRange(t, from, to));
    }

    /**
     * x as one row-major array, e.g. for Tensor.ofInts(arena, flatX(), N, T).
     *
     * @return N * questionLength ids
     */
    public int[] flatX() {
        return flatten(x);
    }

    /**
     * t as one row-major array.
     *
     * @return N * answerLength ids
     */
    public int[] flatT() {
        return flatten(t);
    }

    /**
     * Rows of equal length as one row-major array.
     *
     * @param rows the rows
     * @return their concatenation
     * @throws IllegalArgumentException if the rows differ in length, a row is null, or they hold more ids than a Java
     *                                  array
     * @throws NullPointerException if rows is null
     */
    public static int[] flatten(int[][] rows) {
        java.util.Objects.requireNonNull(rows, "SequencePairs.flatten: rows is null");
        if (rows.length == 0) {
            return new int[0];
        }
        for (int i = 0; i < rows.length; i++) {   // a bare "Cannot read the array length because rows[i] is null"
            if (rows[i] == null) {
                throw new IllegalArgumentException("SequencePairs.flatten: row " + i + " of " + rows.length
                        + " is null; expected rows of equal length");
            }
        }
        int w = rows[0].length;
        long total = (long) rows.length * w; // exact: rows may share one array, so the total need not be in memory
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(rows.length + " rows of " + w + " ids are " + total + " ids; at most "
                    + (Integer.MAX_VALUE - 8) + " fit a Java array");
        }
        int[] out = new int[(int) total];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != w) {
                throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " ids, row 0 has " + w);
            }
            System.arraycopy(rows[i], 0, out, i * w, w);
        }
        return out;
    }
}
