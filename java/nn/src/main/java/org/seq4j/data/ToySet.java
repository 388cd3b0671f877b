// The book's toy sequence sets, generated: ADDITION ("16+75  _91  ") and DATE
// ("August 19, 2003              _2003-08-19"). A seeded generator writes the book's text format (one
// line per example: the question left-aligned and space-padded, '_', the answer left-aligned and
// space-padded) for SequenceLoader to read. The files are not the book's files, but drawn the same way.
package org.seq4j.data;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.seq4j.internal.JavaHeap;
import org.seq4j.io.AtomicOutput;

/**
 * The book's toy sequence sets, generated in the book's text format (question left-aligned and space-padded, '_',
 * the answer padded) for SequenceLoader to read. Not the book's files, but drawn the same way.
 */
public enum ToySet {
    /** Sums of two integers of 1 to 3 digits; 12-character lines. */
    ADDITION("addition.txt", AdditionSet.QUESTION_WIDTH, AdditionSet.ANSWER_WIDTH),
    /** Dates in human formats to ISO dates; 40-character lines. */
    DATE("date.txt", DateSet.QUESTION_WIDTH, DateSet.ANSWER_WIDTH);

    /** Lines in the book's files. */
    public static final int DEFAULT_LINES = 50_000;

    private final String fileName;
    private final int questionWidth;
    private final int answerWidth;

    ToySet(String fileName, int questionWidth, int answerWidth) {
        this.fileName = fileName;
        this.questionWidth = questionWidth;
        this.answerWidth = answerWidth;
    }

    /**
     * The book's file name, e.g. "addition.txt".
     *
     * @return the name
     */
    public String fileName() {
        return fileName;
    }

    /**
     * Characters in a padded question.
     *
     * @return the width
     */
    public int questionWidth() {
        return questionWidth;
    }

    /**
     * Characters in a padded answer, without the '_'.
     *
     * @return the width
     */
    public int answerWidth() {
        return answerWidth;
    }

    /**
     * {@code count} lines (without line ends) drawn with {@code seed}; the same seed gives the same lines.
     *
     * @param count how many, at least 1
     * @param seed  the draw's seed
     * @return the lines
     * @throws IllegalArgumentException if count is below 1, more than the addition set's distinct questions, or more
     *                                  lines than the Java heap can hold
     */
    public List<String> generate(int count, long seed) {
        if (count < 1) {
            throw new IllegalArgumentException("line count must be at least 1; got " + count);
        }
        return switch (this) {
            case ADDITION -> AdditionSet.lines(count, seed);
            case DATE -> DateSet.lines(requireHeap(count), seed);   // the addition set's count is bounded first
        };
    }

    /**
     * The lines against the heap, before any is drawn: a date count near Integer.MAX_VALUE was an OutOfMemoryError
     * ("Requested array size exceeds VM limit") out of the list's allocation, a large one the heap's after minutes of
     * drawing. Each line is a String (24 bytes) over its Latin-1 bytes, and a reference in the list's array.
     */
    private int requireHeap(int count) {
        long line = 24 + JavaHeap.arrayBytes(questionWidth + 1L + answerWidth, 1) + 4;
        long bytes = JavaHeap.multiply(count, line) + JavaHeap.arrayBytes(count, 4);
        if (count > Integer.MAX_VALUE - 8 || !JavaHeap.fits(bytes)) {
            throw JavaHeap.refusal("ToySet." + name() + ".generate", count + " lines of " + (questionWidth + 1
                    + answerWidth) + " characters", bytes);
        }
        return count;
    }

    /**
     * Writes the book's 50,000 lines, drawn with {@code seed}, to {@code file}.
     *
     * @param file the file; its folder must exist
     * @param seed the draw's seed
     * @throws IOException if it cannot be written
     */
    public void write(Path file, long seed) throws IOException {
        write(file, DEFAULT_LINES, seed);
    }

    /**
     * Writes {@code count} generated lines to {@code file} (UTF-8, '\n' after each), atomically.
     *
     * @param file  the file; its folder must exist
     * @param count how many, at least 1
     * @param seed  the draw's seed
     * @throws IOException if it cannot be written
     * @throws NullPointerException if file is null
     */
    public void write(Path file, int count, long seed) throws IOException {
        // named (a bare "Cannot invoke Path.toAbsolutePath()" from inside, after drawing every line)
        java.util.Objects.requireNonNull(file, "ToySet." + name() + ".write: file is null");
        List<String> lines = generate(count, seed);
        AtomicOutput.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            for (String line : lines) {
                w.write(line);
                w.write('\n');
            }
            w.flush();
        });
    }

    /** {@code question} padded to questionWidth, '_', {@code answer} padded to answerWidth. */
    static String line(String question, int questionWidth, String answer, int answerWidth) {
        if (question.length() > questionWidth || answer.length() > answerWidth) {
            throw new IllegalStateException("\"" + question + "_" + answer + "\" does not fit " + questionWidth + "+1+"
                    + answerWidth + " characters");
        }
        return question + " ".repeat(questionWidth - question.length()) + "_" + answer
                + " ".repeat(answerWidth - answer.length());
    }
}
