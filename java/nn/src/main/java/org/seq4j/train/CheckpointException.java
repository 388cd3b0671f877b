// A checkpoint that cannot be used: its description is missing, incomplete or not a model seq4j knows.
// The message names the file and what was wrong; it is bad input, like a corrupt .npz.
package org.seq4j.train;

import java.io.IOException;
import java.nio.file.Path;

public final class CheckpointException extends IOException {
    private final transient Path file;

    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
