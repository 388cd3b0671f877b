// NpyArray's records, NpzFile.of and NpzFile's shape checks refuse a null argument in their own words, naming
// the call and the argument: bare "Cannot read the array length because ..." NPEs before, and NpzFile.of took a
// null file or name, to be printed as "null" in the errors it is there to name.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class NullArrayArgumentsTest {
    private static void refused(String message, Executable call) {
        assertEquals(message, assertThrows(NullPointerException.class, call).getMessage());
    }

    @Test
    void nullArgumentsAreNamed() {
        refused("NpyArray.F32: shape is null", () -> new NpyArray.F32(null, new float[1]));
        refused("NpyArray.F32: data is null", () -> new NpyArray.F32(new int[] {1}, null));
        refused("NpyArray.I32: shape is null", () -> new NpyArray.I32(null, new int[1]));
        refused("NpyArray.I32: data is null", () -> new NpyArray.I32(new int[] {1}, null));

        Path f = Path.of("a.npz");
        SequencedMap<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("a", new NpyArray.F32(new int[] {2}, new float[2]));
        refused("NpzFile.of: file is null", () -> NpzFile.of(null, arrays));
        refused("NpzFile.of: arrays is null", () -> NpzFile.of(f, null));
        SequencedMap<String, NpyArray> nullName = new LinkedHashMap<>(arrays);
        nullName.put(null, arrays.get("a"));
        refused("NpzFile.of: arrays holds a null name", () -> NpzFile.of(f, nullName));
        SequencedMap<String, NpyArray> nullArray = new LinkedHashMap<>(arrays);
        nullArray.put("b", null);
        refused("NpzFile.of: arrays holds a null array, under 'b'", () -> NpzFile.of(f, nullArray));

        NpzFile file = NpzFile.of(f, arrays);
        refused("NpzFile.requireShape: expected is null (the shape of 'a')", () -> file.requireShape("a", (int[]) null));
        refused("NpzFile.floats: expected is null (the shape of 'a')", () -> file.floats("a", (int[]) null));
        refused("NpzFile.ints: expected is null (the shape of 'a')", () -> file.ints("a", (int[]) null));
        // a null name was "no such array", as if a file could hold an array named null
        refused("NpzFile.get: name is null; expected an array's name (reading a.npz)", () -> file.get(null));
        refused("NpzFile.requireShape: name is null; expected an array's name (reading a.npz)",
                () -> file.requireShape(null, 2));
        refused("NpzFile.floats: name is null; expected an array's name (reading a.npz)", () -> file.floats(null, 2));
        refused("NpzFile.ints: name is null; expected an array's name (reading a.npz)", () -> file.ints(null, 2));
        refused("NpzFile.requireFinite: name is null; expected an array's name (reading a.npz)",
                () -> file.requireFinite(null));
    }
}
