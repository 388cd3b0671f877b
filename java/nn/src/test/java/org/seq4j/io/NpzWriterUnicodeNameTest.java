// NpzWriter refuses a name that is not valid Unicode (a lone surrogate) in its own words, naming the call and
// the name: the zip stream said only "malformed input off : 0, length : 1", from inside. The writer stays usable.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzWriterUnicodeNameTest {
    @TempDir
    Path dir;

    @Test
    void loneSurrogateNameIsRefusedByName() throws IOException {
        Path f = dir.resolve("a.npz");
        NpyArray a = new NpyArray.F32(new int[] {1}, new float[] {1});
        try (NpzWriter w = NpzWriter.create(f)) {
            String m = assertThrows(IllegalArgumentException.class, () -> w.add("x\ud800", a)).getMessage();
            assertTrue(m.startsWith("NpzWriter.add: array name \"x\\uD800\" is not valid Unicode"), m);
            m = assertThrows(IllegalArgumentException.class, () -> w.addEntry("\udc00", new byte[1])).getMessage();
            assertTrue(m.startsWith("NpzWriter.addEntry: entry name \"\\uDC00\" is not valid Unicode"), m);
            w.add("x", a);
            w.commit();
        }
        assertEquals(List.of("x"), Npz.load(f).names());
    }
}
