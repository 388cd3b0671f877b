// The one check made before a user's path is opened for reading (a data file, a vocabulary, a .npz): it must
// be a regular file. A FIFO blocks open(2) until a writer comes, forever if none does; a device such as
// /dev/zero has size 0, so a size cap passes, and reads without end.
package org.seq4j.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The check made before a path is opened for reading: a folder, a FIFO, a socket or a device is refused in one
 * line, before the open that would block (a FIFO waits for a writer) or read without end (/dev/zero).
 */
public final class RegularFile {
    private RegularFile() {
    }

    /**
     * Why {@code file} cannot be read as a file, or null when it can be opened: a regular file (links followed),
     * or a path that does not exist or cannot be looked at, which the open then reports in its own words.
     *
     * @param file     the path about to be opened
     * @param expected what it should be, for the message ("a text file", "a .npz file")
     * @return e.g. "is not a regular file (a FIFO, socket or device); expected a text file", or null
     * @throws NullPointerException if file or expected is null
     */
    public static String refusal(Path file, String expected) {
        Objects.requireNonNull(file, "RegularFile.refusal: file is null");
        // refused whatever the file is: before, a regular file passed and a folder was "expected null"
        Objects.requireNonNull(expected, "RegularFile.refusal: expected is null; expected what the file should be");
        if (Files.isRegularFile(file) || !Files.exists(file)) {
            return null;
        }
        return (Files.isDirectory(file) ? "is a folder" : "is not a regular file (a FIFO, socket or device)")
                + "; expected " + expected;
    }

    /**
     * Why a path that {@code Files.exists} reports missing is so, for a NoSuchFileException's reason: {@code noSuch}, or,
     * for a symbolic link, that it leads to no file (a missing target, or links in a loop), which "no such file" hid.
     *
     * @param file   the path
     * @param noSuch the reason for a path with nothing there, "no such .npz file"
     * @return the reason
     * @throws NullPointerException if file or noSuch is null
     */
    public static String missing(Path file, String noSuch) {
        Objects.requireNonNull(file, "RegularFile.missing: file is null");
        Objects.requireNonNull(noSuch, "RegularFile.missing: noSuch is null; expected the reason for a missing file");
        return Files.isSymbolicLink(file) ? noSuch + ": a symbolic link that leads to no file (its target is missing, or "
                + "the links loop)" : noSuch;
    }
}
