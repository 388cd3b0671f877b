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
     * @throws NullPointerException     if file or problem is null
     * @throws IllegalArgumentException if line is negative
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
     * @param cause   the underlying failure (may be null)
     * @throws NullPointerException     if file or problem is null (the message would read "null: null")
     * @throws IllegalArgumentException if line is negative
     */
    public DataFileException(Path file, int line, String problem, Throwable cause) {
        java.util.Objects.requireNonNull(file, "DataFileException: file is null; expected the data file's path");
        java.util.Objects.requireNonNull(problem, "DataFileException: problem is null; expected what is wrong");
        if (line < 0) {
            throw new IllegalArgumentException(
                    "DataFileException: line must be >= 0 (1-based, or 0 for the whole file), got " + line);
        }
        super(file + (line > 0 ? ", line " + line : "") + ": " + problem, cause);
        this.file = file;
        this.line = line;
    }

    /**
     * Text quoted for a message, on one line and cut to about 80 characters: a line of a data file may be megabytes
     * long, and an error message is one line. A character that does not print (see {@link #prints(int)}) is written
     * as an escape, so that a carriage return cannot send the terminal's cursor back over the message and a
     * zero-width or direction-changing one cannot hide: \r, \n, \t, \0, else a backslash, u and the code point's
     * hex between braces (U+200B as backslash-u{200B}); a backslash itself is doubled.
     *
     * @param text the text
     * @return it between double quotes, escaped, cut with "..." where long
     * @throws NullPointerException if text is null
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
     * @throws NullPointerException if text is null
     */
    public static String quote(String text, char mark) {
        // named (a bare "Cannot invoke String.length() because text is null")
        java.util.Objects.requireNonNull(text, "DataFileException.quote: text is null");
        final int keep = 60;
        final int most = 80;
        StringBuilder out = new StringBuilder(Math.min(text.length(), most) + 2).append(mark);
        int kept = 1; // out's length after the last whole character (never half an escape or a surrogate pair) <= keep
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            appendEscaped(out, cp);
            if (out.length() - 1 > most) {
                out.setLength(kept);
                return out.append("...").append(mark).append(" (").append(text.codePointCount(0, text.length()))
                        .append(" characters)").toString();
            }
            if (out.length() - 1 <= keep) {
                kept = out.length();
            }
        }
        return out.append(mark).toString();
    }

    /**
     * Whether a character shows as itself on a terminal: not a control character (C0, C1, DEL), a format character
     * (zero-width, direction marks and overrides, the byte order mark), a line or paragraph separator, a lone
     * surrogate or an unassigned code point. The one rule for quote and CharVocabulary.describe.
     *
     * @param codePoint the character
     * @return true if it prints
     */
    static boolean prints(int codePoint) {
        return switch (Character.getType(codePoint)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SURROGATE, Character.UNASSIGNED -> false;
            default -> true;
        };
    }

    /**
     * {@code text} whole, each character that does not print (see {@link #quote(String)}) escaped as quote escapes
     * it, the rest as it is: for a message that shows text from a file (a checkpoint's description, a data line)
     * beside other words, where a raw escape sequence or carriage return would rewrite the terminal, and a line
     * break would end the message's one line early.
     *
     * @param text the text
     * @return the text, printable
     * @throws NullPointerException if text is null
     */
    public static String printable(String text) {
        java.util.Objects.requireNonNull(text, "DataFileException.printable: text is null");
        StringBuilder out = null;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            if (!prints(cp) && out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (out != null) {
                if (prints(cp)) {
                    out.appendCodePoint(cp);
                } else {
                    appendEscaped(out, cp);
                }
            }
            i += Character.charCount(cp);
        }
        return out == null ? text : out.toString();
    }

    private static void appendEscaped(StringBuilder out, int cp) {
        switch (cp) {
            case '\\' -> out.append("\\\\"); // so that "\\r" in the text reads apart from an escaped carriage return
            case '\r' -> out.append("\\r");
            case '\n' -> out.append("\\n");
            case '\t' -> out.append("\\t");
            case 0 -> out.append("\\0");
            default -> {
                if (prints(cp)) {
                    out.appendCodePoint(cp);
                } else {
                    out.append(String.format("\\u{%04X}", cp));
                }
            }
        }
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
