// ViewCache.vector views t as (size,), whose one dimension is an int: past 2^31 - 1 elements Math.toIntExact's bare
// ArithmeticException ("integer overflow") came out of the caller's call (PeekyDecoder's forward with h of N x H past
// it, before that decoder refused such h itself). Refused by name now. t is a real (2^16, 2^15) tensor over a sparse
// file mapped into memory, as in GateWidthOverflowTest: nothing read or written, no disk blocks used.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.SparseMemory;

class ViewCacheVectorOverflowTest {
    @Test
    void aTensorPastAnIntOfElementsIsRefusedByName(@TempDir Path dir) throws IOException {
        int rows = 1 << 16, cols = 1 << 15;   // 2^31 elements: Integer.MIN_VALUE in int
        long bytes = (long) rows * cols * Float.BYTES;
        Path file = dir.resolve("t.bin");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = SparseMemory.map(file, bytes, arena);
            Tensor t = Tensor.wrapHost(all, rows, cols);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ViewCache().vector(t));
            assertEquals("ViewCache.vector: t (65536, 32768) has 2147483648 elements; a (size,) view holds at most "
                    + "2147483647", e.getMessage());
            Tensor fits = Tensor.wrapHost(all.asSlice(0, (long) Integer.MAX_VALUE * Float.BYTES), Integer.MAX_VALUE);
            assertEquals(Integer.MAX_VALUE, new ViewCache().vector(fits).dim(0));   // the largest still taken
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
