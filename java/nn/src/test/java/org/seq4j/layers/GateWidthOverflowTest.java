// The recurrent layers' constructors check Wx (D, kH), Wh (H, kH), b (kH,) with k gates (LSTM 4, GRU 3). In int, k * H
// wraps for H past 2^31 / k: an LSTM's Wh of (2^30 + 1, 4) passed as (H, 4H), its 4H wrapped to 4, and the layer was
// built on a shape it does not have (the kernels' own checks refused it later; a red-team probe's find). The checks
// are in long now. The weights here are real tensors of that size, over a sparse file mapped into memory: 17 GB of
// address space, nothing read or written, no disk blocks used.
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
import org.seq4j.testing.SparseMemory;
import org.seq4j.testing.TestBackends;

class GateWidthOverflowTest {
    @TempDir
    Path dir;

    /**
     * A recurrent layer's Wx (1, w), Wh (h, w) and b (w,), with their gradients, over a sparse file mapped into arena
     * (nothing read or written, no disk blocks used).
     */
    static Parameter[] sparseWeights(Path file, Arena arena, int h, int w) throws IOException {
        long bytes = 2 * ((long) h * w * Float.BYTES + 2L * w * Float.BYTES);
        SparseMemory.Carver carve = new SparseMemory.Carver(SparseMemory.map(file, bytes, arena));
        return new Parameter[] {new Parameter("Wx", carve.next(1, w), carve.next(1, w)),
                new Parameter("Wh", carve.next(h, w), carve.next(h, w)),
                new Parameter("b", carve.next(w), carve.next(w))};
    }

    /** Wx (1, w), Wh (h, w), b (w,): with w = k * h wrapped in int, what a k-gate layer's constructor saw as kH. */
    private void refused(int h, int w, Function<Parameter[], Object> build, String layer) throws IOException {
        Path file = dir.resolve(layer + ".bin");
        try (Arena arena = Arena.ofConfined()) {
            Parameter[] weights = sparseWeights(file, arena, h, w);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> build.apply(weights), layer + " took Wh (" + h + ", " + w + ")");
            assertTrue(e.getMessage().startsWith(layer + " needs Wx (D, "), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void anLstmWhoseFourHWrapsIsRefused() throws IOException {
        Backend be = TestBackends.reference();
        int h = (1 << 30) + 1;   // 4h = 2^32 + 4: 4 in int
        refused(h, 4 * h, p -> new LSTM(be, p[0], p[1], p[2]), "LSTM");
        refused(h, 4 * h, p -> new TimeLSTM(be, p[0], p[1], p[2], false), "TimeLSTM");
    }

    @Test
    void aGruWhoseThreeHWrapsIsRefused() throws IOException {
        Backend be = TestBackends.reference();
        int h = (int) (((1L << 32) + 2) / 3);   // 3h = 2^32 + 2: 2 in int
        refused(h, 3 * h, p -> new GRU(be, p[0], p[1], p[2]), "GRU");
        refused(h, 3 * h, p -> new TimeGRU(be, p[0], p[1], p[2], false), "TimeGRU");
    }
}
