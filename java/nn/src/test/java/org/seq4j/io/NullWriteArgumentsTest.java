// The writing calls of org.seq4j.io refuse a null argument in their own words, naming the call and the
// argument, before any temporary file is made: bare NPEs from AtomicOutput's insides ("Cannot invoke
// Path.toAbsolutePath()") and from arrays.entrySet() before, and a null compression was taken for DEFLATED.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.SequencedMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class NullWriteArgumentsTest {
    @TempDir
    Path dir;

    private static void refused(String message, Executable call) {
        assertEquals(message, assertThrows(NullPointerException.class, call).getMessage());
    }

    @Test
    void nullArgumentsAreNamed() throws IOException {
        Path f = dir.resolve("a.npz");
        SequencedMap<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("a", new NpyArray.F32(new int[] {1}, new float[] {1}));
        refused("Npz.save: file is null", () -> Npz.save(null, arrays));
        refused("Npz.save: arrays is null", () -> Npz.save(f, null));
        refused("Npz.save: compression is null", () -> Npz.save(f, arrays, null));
        refused("NpzWriter.create: file is null", () -> NpzWriter.create(null));
        refused("NpzWriter.create: compression is null; expected STORED or DEFLATED", () -> NpzWriter.create(f, null));
        refused("AtomicOutput.open: target is null", () -> AtomicOutput.open(null));
        refused("AtomicOutput.write: target is null", () -> AtomicOutput.write(null, out -> { }));
        refused("AtomicOutput.write: content is null", () -> AtomicOutput.write(f, null));
        refused("AtomicOutput.temporaryName: name is null", () -> AtomicOutput.temporaryName(null, ""));
        refused("AtomicOutput.temporaryName: tag is null", () -> AtomicOutput.temporaryName("a", null));
        refused("AtomicOutput.temporaryOf: fileName is null", () -> AtomicOutput.temporaryOf(null, ""));
        refused("AtomicOutput.temporaryOf: tag is null", () -> AtomicOutput.temporaryOf("a", null));
        try (Stream<Path> left = Files.list(dir)) {   // no temporary file left behind
            assertEquals(0, left.count());
        }
    }
}
