// A tiny program for the .npz reader's tests in a child JVM: loads each file named on the command line and
// prints one line per file, "<file>: loaded [names]" or "<file>: NpzFormatException: <message>". Anything
// else (an OutOfMemoryError, a StackOverflowError) escapes and ends the JVM with a non-zero code.
package org.seq4j.io;

import java.io.IOException;
import java.nio.file.Path;

public final class LoadNpz {
    private LoadNpz() {
    }

    public static void main(String[] args) throws IOException {
        for (String f : args) {
            try {
                System.out.println(f + ": loaded " + Npz.load(Path.of(f)).names());
            } catch (NpzFormatException e) {
                System.out.println(f + ": NpzFormatException: " + e.getMessage());
            }
        }
    }
}
