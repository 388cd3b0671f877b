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
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class GateWidthOverflowTest {
    @TempDir
    Path dir;

    /** Wx (1, w), Wh (h, w), b (w,): with w = k * h wrapped in int, what a k-gate layer's constructor saw as kH. */
    private void refused(int h, int w, Function<Parameter[], Object> build, String layer) throws IOException {
        long wh = (long) h * w * Float.BYTES, small = (long) w * Float.BYTES;
        long bytes = 2 * (wh + 2 * small);
        Path file = dir.resolve(layer + ".bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.SPARSE); Arena arena = Arena.ofConfined()) {
            ch.position(bytes - 1).write(java.nio.ByteBuffer.allocate(1));   // the file's size: one block written
            MemorySegment all = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
            long[] at = {0};
            Function<int[], Tensor> next = shape -> {
                long size = Float.BYTES;
                for (int d : shape) {
                    size *= d;
                }
                MemorySegment s = all.asSlice(at[0], size);
                at[0] += size;
                return Tensor.wrapHost(s, shape);
            };
            Parameter wx = new Parameter("Wx", next.apply(new int[] {1, w}), next.apply(new int[] {1, w}));
            Parameter whp = new Parameter("Wh", next.apply(new int[] {h, w}), next.apply(new int[] {h, w}));
            Parameter b = new Parameter("b", next.apply(new int[] {w}), next.apply(new int[] {w}));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> build.apply(new Parameter[] {wx, whp, b}), layer + " took Wh (" + h + ", " + w + ")");
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
