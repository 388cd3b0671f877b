// A checkpoint that cannot be used: its description is missing, incomplete or not a model seq4j knows.
// The message names the file and what was wrong; it is bad input, like a corrupt .npz.
package org.seq4j.train;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint that cannot be used: its description is missing, incomplete or not a model seq4j knows. The
 * message names the file and what was wrong.
 */
public final class CheckpointException extends IOException {
    private final transient Path file;

    /**
     * An exception about a checkpoint.
     *
     * @param file    the checkpoint
     * @param problem what is wrong
     */
    public CheckpointException(Path file, String problem) {
        this(file, problem, null);
    }

    /**
     * An exception about a checkpoint, with its cause.
     *
     * @param file    the checkpoint
     * @param problem what is wrong
     * @param cause   the underlying failure
     */
    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /**
     * The checkpoint the problem is about.
     *
     * @return its path (null after deserialization)
     */
    public Path file() {
        return file;
    }
}
