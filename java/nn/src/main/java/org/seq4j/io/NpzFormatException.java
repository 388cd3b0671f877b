// A .npz file that cannot be read, or does not hold what the caller expects. The message names the
// file and, where it is about one array, that array; file() and array() give them to code.
package org.seq4j.io;

import java.io.IOException;
import java.nio.file.Path;

public final class NpzFormatException extends IOException {
    private final transient Path file;
    private final String array;

    public NpzFormatException(Path file, String array, String problem) {
        this(file, array, problem, null);
    }

    public NpzFormatException(Path file, String array, String problem, Throwable cause) {
        super(file + (array == null ? "" : ", array '" + array + "'") + ": " + problem, cause);
        this.file = file;
        this.array = array;
    }

    public Path file() {
        return file;
    }

    /** The array the problem is about, or null when it is about the whole file. */
    public String array() {
        return array;
    }
}
