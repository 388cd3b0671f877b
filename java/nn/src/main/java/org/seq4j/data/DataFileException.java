// A data file that cannot be read as the format it should have: the message names the file, the line
// (1-based; 0 when the problem is the whole file) and what was wrong.
package org.seq4j.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A data file that cannot be read as the format it should have: the message names the file, the line and what
 * was wrong.
 */
public final class DataFileException extends IOException {
    private final transient Path file;
    /** The 1-based line, or 0. */
    private final int line;

    /**
     * An exception about a line of a file.
     *
     * @param file    the file
     * @param line    the 1-based line, or 0 when the problem is the whole file
     * @param problem what is wrong
     */
    public DataFileException(Path file, int line, String problem) {
        this(file, line, problem, null);
    }

    /**
     * An exception about a line of a file, with its cause.
     *
     * @param file    the file
     * @param line    the 1-based line, or 0 when the problem is the whole file
     * @param problem what is wrong
     * @param cause   the underlying failure
     */
    public DataFileException(Path file, int line, String problem, Throwable cause) {
        super(file + (line > 0 ? ", line " + line : "") + ": " + problem, cause);
        this.file = file;
        this.line = line;
    }

    /**
     * Text quoted for a message, cut to about 80 characters: a line of a data file may be megabytes long, and an
     * error message is one line.
     *
     * @param text the text
     * @return it between double quotes, cut with "..." where long
     */
    public static String quote(String text) {
        return quote(text, '"');
    }

    /**
     * As quote(text), between {@code mark}s.
     *
     * @param text the text
     * @param mark the quote character
     * @return the quoted text
     */
    public static String quote(String text, char mark) {
        final int keep = 60;
        if (text.length() <= 80) {
            return mark + text + mark;
        }
        int end = Character.isHighSurrogate(text.charAt(keep - 1)) ? keep - 1 : keep; // never half a character
        return mark + text.substring(0, end) + "..." + mark + " (" + text.codePointCount(0, text.length()) + " characters)";
    }

    /**
     * The file the problem is about.
     *
     * @return its path (null after deserialization)
     */
    public Path file() {
        return file;
    }

    /**
     * 1-based line number, or 0 when the problem is not on one line.
     *
     * @return the line
     */
    public int line() {
        return line;
    }
}
