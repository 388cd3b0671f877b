// A GRU reads Wh's (and the gates') candidate columns [2H, 3H) through a flat view from element 2H, read at row stride
// 3H: (rows - 1) 3H + H elements. Past 2^31 - 1 the count was cast to int and wrapped: a Wh of (32768, 98304), which
// the layers take (3H fits an int), was an IndexOutOfBoundsException from flatSlice ("-1073774592 elements from element
// 65536 ...") naming no layer; one of (40000, 120000) wrapped to 505 M of its 4.8 G elements, and the layer was built
// on that short view without a word. Both are refused by name now. The weights are real tensors of that size over a
// sparse file mapped into memory (SparseMemory): nothing read or written, no disk blocks used.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.testing.TestBackends;

class GruCandidateColumnsTest {
    @TempDir
    Path dir;

    /** Wx (1, 3H), Wh (H, 3H), b (3H,) with their gradients, over a sparse file; build must refuse them by name. */
    private void refused(int h, Function<Parameter[], Object> build, String layer) throws IOException {
        int g = 3 * h;
        Path file = dir.resolve(layer + h + ".bin");
        try (Arena arena = Arena.ofConfined()) {
            Parameter[] weights = GateWidthOverflowTest.sparseWeights(file, arena, h, g);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> build.apply(weights), layer + " took Wh (" + h + ", " + g + ")");
            assertTrue(e.getMessage().startsWith(layer + ": Wh (" + h + ", " + g + ") spans "
                    + ((long) h * g - 2L * h) + " elements from its candidate columns"), e.getMessage());
            assertTrue(e.getMessage().endsWith("use a smaller hidden size or batch"), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aWhWhoseCandidateColumnsPassAnIntIsRefusedByName() throws IOException {
        Backend be = TestBackends.reference();
        for (int h : new int[] {32768, 40000}) {   // 3H^2 - 2H: 3221159936 (negative in int), 4799920000 (505 M)
            refused(h, p -> new TimeGRU(be, p[0], p[1], p[2], false), "TimeGRU");
            refused(h, p -> new GRU(be, p[0], p[1], p[2]), "GRU");
        }
    }
}
