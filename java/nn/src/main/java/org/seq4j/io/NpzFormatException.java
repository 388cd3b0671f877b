// A .npz file that cannot be read, or does not hold what the caller expects. The message names the
// file and, where it is about one array, that array; file() and array() give them to code.
package org.seq4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;

/**
 * A .npz file that cannot be read, or does not hold what the caller expects. The message names the file and,
 * where it is about one array, that array.
 */
public final class NpzFormatException extends IOException {
    private final transient Path file;
    /** The array the problem is about, or null. */
    private final String array;

    /**
     * An exception about a file or one of its arrays.
     *
     * @param file    the file
     * @param array   the array, or null when it is about the whole file
     * @param problem what is wrong
     */
    public NpzFormatException(Path file, String array, String problem) {
        this(file, array, problem, null);
    }

    /**
     * An exception about a file or one of its arrays, with its cause.
     *
     * @param file    the file
     * @param array   the array, or null when it is about the whole file
     * @param problem what is wrong
     * @param cause   the underlying failure
     */
    public NpzFormatException(Path file, String array, String problem, Throwable cause) {
        super(file + (array == null ? "" : ", array '" + array + "'") + ": " + problem, cause);
        this.file = file;
        this.array = array;
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
     * The array the problem is about, or null when it is about the whole file.
     *
     * @return the array's name, or null
     */
    public String array() {
        return array;
    }

    /** How many names {@link #names(Collection)} shows. */
    static final int SHOWN_NAMES = 10;

    /**
     * Names of arrays for a message: the first ten in the collection's order, then how many more. An archive of
     * 300,000 arrays made a one-line message of 2.5 MB listing them all.
     *
     * @param names the names
     * @return e.g. {@code [a0, a1, a2, ... and 299,997 more]}
     */
    public static String names(Collection<String> names) {
        StringBuilder b = new StringBuilder("[");
        int shown = 0;
        for (String n : names) {
            if (shown == SHOWN_NAMES) {
                return b.append(String.format(java.util.Locale.ROOT, ", ... and %,d more]", names.size() - shown))
                        .toString();
            }
            b.append(shown++ == 0 ? "" : ", ").append(n);
        }
        return b.append(']').toString();
    }
}
