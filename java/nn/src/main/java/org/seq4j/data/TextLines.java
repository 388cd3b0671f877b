// Splits a text file's bytes into lines and decodes each as strict UTF-8, so that bad bytes are an error
// naming the line and the byte, not a silent U+FFFD. Lines end in \n or \r\n; any other carriage return is an
// error naming its line, since old Mac line ends (\r alone) would otherwise make the whole file one line. A NUL
// is an error too: it is no text character, and UTF-16 is full of them.
package org.seq4j.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.seq4j.io.RegularFile;

final class TextLines {
    /** Receives each line without its line end (\n or \r\n), its 1-based number, and whether a line end followed it. */
    @FunctionalInterface
    interface Sink {
        void line(String text, int number, boolean newlineFollows) throws DataFileException;
    }

    /** The most bytes a data file may have: one Java array's worth, less the JVM's array header slack. */
    private static final int MAX_BYTES = Integer.MAX_VALUE - 16;

    private TextLines() {
    }

    /**
     * The bytes of a data file; a folder, a FIFO or device (see RegularFile), a file too large or one that cannot be
     * read (opened or read through) is an error naming it.
     */
    static byte[] readAll(Path file) throws IOException {
        String refused = RegularFile.refusal(file, "a text file");
        if (refused != null) {
            throw new DataFileException(file, 0, refused);
        }
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new DataFileException(file, 0, "has " + size + " bytes; at most 2 GiB can be read");
            }
            // at most one byte past the limit, whatever the size said (a file growing as it is read): never without end
            try (InputStream in = Files.newInputStream(file)) {
                byte[] bytes = in.readNBytes(MAX_BYTES + 1);
                if (bytes.length > MAX_BYTES) {
                    throw new DataFileException(file, 0, "has more than " + MAX_BYTES + " bytes; at most 2 GiB can be read");
                }
                return bytes;
            }
        } catch (DataFileException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, RegularFile.missing(file, "no such data file"));
        } catch (FileSystemException e) {
            throw new DataFileException(file, 0, "cannot read it: " + (e.getReason() != null ? e.getReason()
                    : e instanceof AccessDeniedException ? "permission denied" : e.getClass().getSimpleName()), e);
        } catch (IOException e) {
            // a read that fails part way (EIO: a bad disk block, a dropped network mount) was a bare "Input/output
            // error" that named no file
            throw new DataFileException(file, 0, "cannot read it: " + (e.getMessage() != null ? e.getMessage()
                    : e.getClass().getSimpleName()), e);
        }
    }

    /**
     * Whether a file's bytes hold no line: none at all, or only the UTF-8 byte order mark that forEach skips (such a
     * file loaded as a data set of no questions and a vocabulary of no words, where an empty one is refused).
     */
    static boolean holdsNothing(byte[] bytes) {
        return bytes.length == 0 || bytes.length == 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB
                && bytes[2] == (byte) 0xBF;
    }

    static void forEach(Path file, byte[] bytes, Sink sink) throws DataFileException {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        // a UTF-8 byte order mark (Windows editors write one) is no character of the first line
        int start = bytes.length >= 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB && bytes[2] == (byte) 0xBF
                ? 3 : 0;
        int number = 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            number++;
            boolean crlf = end < bytes.length && end > start && bytes[end - 1] == '\r';
            String line = decode(utf8, bytes, start, crlf ? end - 1 : end, file, number);
            int cr = line.indexOf('\r');
            if (cr >= 0) {
                throw new DataFileException(file, number, "a carriage return at column " + column(line, cr)
                        + " not followed by a line feed (old Mac line ends?); expected \\n or \\r\\n line ends");
            }
            sink.line(line, number, end < bytes.length);
            start = end + 1;
        }
    }

    /** The 1-based column, in characters (code points), of the char at {@code index}. */
    private static int column(String line, int index) {
        return line.codePointCount(0, index) + 1;
    }

    /**
     * Bytes [from, to) as strict UTF-8. A NUL is refused too: UTF-8 text has none, and UTF-16 without a byte order mark
     * (every other byte NUL for Latin text) or a binary file would otherwise decode to words like "t\0h\0e\0". Of a
     * NUL and bad UTF-8 the first in the line is named, so UTF-16 with its mark (0xFF 0xFE) stays bad UTF-8.
     */
    private static String decode(CharsetDecoder utf8, byte[] bytes, int from, int to, Path file, int number)
            throws DataFileException {
        int i = from;
        while (i < to && bytes[i] > 0) { // neither NUL nor part of a multi-byte character
            i++;
        }
        if (i == to) {
            return new String(bytes, from, to - from, StandardCharsets.US_ASCII); // the common case, and fast
        }
        if (bytes[i] == 0) {
            throw nul(file, number, i - from + 1); // all before it ASCII: one character a byte
        }
        ByteBuffer in = ByteBuffer.wrap(bytes, from, to - from);
        CharBuffer out = CharBuffer.allocate(to - from);
        utf8.reset();
        CoderResult r = utf8.decode(in, out, true);
        if (!r.isError()) {
            r = utf8.flush(out);
        }
        if (r.isError()) {
            int at = Math.min(in.position(), to - 1);
            for (int j = i; j < at; j++) {
                if (bytes[j] == 0) { // the bytes before the bad one are whole characters
                    String before = new String(bytes, from, j - from, StandardCharsets.UTF_8);
                    throw nul(file, number, column(before, before.length()));
                }
            }
            throw new DataFileException(file, number, String.format(
                    "not valid UTF-8: byte 0x%02X at byte %d of the line", bytes[at] & 0xFF, at - from + 1));
        }
        String line = out.flip().toString();
        int zero = line.indexOf('\0');
        if (zero >= 0) {
            throw nul(file, number, column(line, zero));
        }
        return line;
    }

    private static DataFileException nul(Path file, int number, int column) {
        return new DataFileException(file, number, "a NUL byte at column " + column
                + " (UTF-16 or a binary file?); expected UTF-8 text");
    }
}
