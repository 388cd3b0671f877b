// A data file that cannot be read as the format it should have: the message names the file, the line
// (1-based; 0 when the problem is the whole file) and what was wrong.
package org.seq4j.data;

import java.io.IOException;
import java.nio.file.Path;

public final class DataFileException extends IOException {
    private final transient Path file;
    private final int line;

    public DataFileException(Path file, int line, String problem) {
        this(file, line, problem, null);
    }

    public DataFileException(Path file, int line, String problem, Throwable cause) {
        super(file + (line > 0 ? ", line " + line : "") + ": " + problem, cause);
        this.file = file;
        this.line = line;
    }

    /**
     * Text quoted for a message, cut to about 80 characters: a line of a data file may be megabytes long,
     * and an error message is one line.
     */
    public static String quote(String text) {
        return quote(text, '"');
    }

    /** As quote(text), between {@code mark}s. */
    public static String quote(String text, char mark) {
        final int keep = 60;
        if (text.length() <= 80) {
            return mark + text + mark;
        }
        int end = Character.isHighSurrogate(text.charAt(keep - 1)) ? keep - 1 : keep; // never half a character
        return mark + text.substring(0, end) + "..." + mark + " (" + text.codePointCount(0, text.length()) + " characters)";
    }

    public Path file() {
        return file;
    }

    /** 1-based line number, or 0 when the problem is not on one line. */
    public int line() {
        return line;
    }
}
