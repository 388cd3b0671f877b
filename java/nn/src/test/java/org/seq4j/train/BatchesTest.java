// Batches over user data: ragged sequence rows, float arrays without a first dimension or with no examples, and
// an order that points outside the examples are refused with one line, where they used to fail inside a copy
// (ArrayIndexOutOfBounds, / by zero), or, for a question longer than the first, were cut short without a word.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.data.HostFloats;
import org.seq4j.data.SequencePairs;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class BatchesTest {
    final Backend backend = TestBackends.reference();

    private static void assertMessage(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    /**
     * A null argument is named: Batches.of(null pairs) was taken, and fitEpoch failed on it with a bare "Cannot invoke
     * SequencePairs.size()"; a null HostFloats was a bare "Cannot invoke HostFloats.shape()".
     */
    @Test
    void aNullArgumentIsNamed() {
        HostFloats one = new HostFloats(new int[] {1, 1}, new float[1]);
        assertEquals("Batches.of: pairs is null; expected the training questions and answers",
                assertThrows(NullPointerException.class, () -> Batches.of((SequencePairs) null)).getMessage());
        assertEquals("Batches.of: inputs is null; expected (N, ...) float examples",
                assertThrows(NullPointerException.class, () -> Batches.of(null, one)).getMessage());
        assertEquals("Batches.of: targets is null; expected (N, ...) float targets",
                assertThrows(NullPointerException.class, () -> Batches.of(one, null)).getMessage());
    }

    @Test
    void raggedOrMissingSequenceRowsAreRefused() {
        var longer = assertThrows(IllegalArgumentException.class, () -> new SequencePairs(
                new int[][] {{1, 2}, {3, 4, 5}}, new int[][] {{0, 1}, {0, 2}}));
        assertMessage(longer, "question 1 has 3 ids", "as many as the first (2)");
        var missing = assertThrows(IllegalArgumentException.class, () -> new SequencePairs(
                new int[][] {{1, 2}, {3, 4}}, new int[][] {{0, 1}, null}));
        assertMessage(missing, "answer 1 has no array");
        assertEquals(0, new SequencePairs(new int[0][], new int[0][]).size(), "no pairs is fine");
    }

    @Test
    void floatArraysNeedAFirstDimensionAndMayHaveNoExamples() {
        HostFloats scalar = new HostFloats(new int[0], new float[1]), rows = new HostFloats(new int[] {1, 3}, new float[3]);
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Batches.of(scalar, rows)),
                "need a first dimension of examples", "shapes () and (1, 3)");
        Batches none = Batches.of(new HostFloats(new int[] {0, 4}, new float[0]), new HostFloats(new int[] {0, 1},
                new float[0]));
        assertEquals(0, none.size(), "no examples: a size of 0, not a division by zero");
    }

    /**
     * Inputs with rows of no values, at two batch sizes: the targets' buffer was re-sized only with the inputs', whose
     * length (0) never changed, and the second size copied past its end (a bare ArrayIndexOutOfBoundsException).
     */
    @Test
    void rowsOfNoInputsFillBatchesOfEverySize() {
        Backend b = TestBackends.reference();
        Batches data = Batches.of(new HostFloats(new int[] {4, 0}, new float[0]),
                new HostFloats(new int[] {4, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8}));
        try (Arena arena = Arena.ofConfined()) {
            for (int n : new int[] {2, 3, 1}) {
                Tensor[] t = data.allocate(b, arena, n);
                data.fill(b, new int[] {3, 2, 1, 0}, 0, t[0], t[1]);
                float[] targets = new float[2 * n];
                b.copyOut(targets, t[1]);
                assertEquals(7f, targets[0], "batch of " + n + ": row 3's first target");
                assertEquals(0, t[0].size());
            }
        }
    }

    @Test
    void anOrderOutsideTheExamplesIsRefused() {
        SequencePairs pairs = new SequencePairs(new int[][] {{1, 2}, {3, 4}, {5, 6}}, new int[][] {{0, 1}, {0, 2},
                {0, 3}});
        HostFloats in = new HostFloats(new int[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6});
        HostFloats out = new HostFloats(new int[] {3, 1}, new float[] {7, 8, 9});
        for (Batches b : new Batches[] {Batches.of(pairs), Batches.of(in, out)}) {
            try (Arena arena = Arena.ofConfined()) {
                Tensor[] xt = b.allocate(backend, arena, 2);
                assertMessage(assertThrows(IndexOutOfBoundsException.class,
                        () -> b.fill(backend, new int[] {0, 3, 1}, 0, xt[0], xt[1])), "order[1] = 3 is no example",
                        "[0, 3)");
                assertMessage(assertThrows(IndexOutOfBoundsException.class,
                        () -> b.fill(backend, new int[] {0, -1}, 0, xt[0], xt[1])), "order[1] = -1");
                assertMessage(assertThrows(IndexOutOfBoundsException.class,
                        () -> b.fill(backend, new int[] {0, 1, 2}, 2, xt[0], xt[1])), "a batch of 2 from position 2",
                        "3 positions");
                b.fill(backend, new int[] {2, 0, 1}, 1, xt[0], xt[1]);   // examples 0 and 1
                if (xt[0].dtype() == DType.F32) {
                    float[] x = new float[4];
                    backend.copyOut(x, xt[0]);
                    assertArrayEquals(new float[] {1, 2, 3, 4}, x);
                } else {
                    int[] ids = new int[4];
                    backend.copyOut(ids, xt[0]);
                    assertArrayEquals(new int[] {1, 2, 3, 4}, ids);
                }
            }
        }
    }

    /**
     * A batch of N x T values past one Java array is refused by name: the host buffer a batch passes through was sized
     * N x T in int, which wrapped (65536 x 65536 to 0), and fill failed inside System.arraycopy ("last destination index
     * 65536 out of bounds for int[0]"). The batch tensor here is 16 GiB of a sparse file mapped into memory: nothing is
     * read or written, no disk blocks used.
     */
    @Test
    void aBatchPastOneJavaArrayIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        int n = 1 << 16, width = 1 << 16;   // N x T = 2^32: 0 in int
        long bytes = (long) n * width * Integer.BYTES;
        java.nio.file.Path file = dir.resolve("batch.bin");
        try (Arena arena = Arena.ofConfined()) {
            java.lang.foreign.MemorySegment big = org.seq4j.testing.SparseMemory.map(file, bytes, arena);
            int[] order = new int[n];   // example 0, n times
            Tensor ids = Tensor.wrap(big, DType.I32, org.seq4j.tensor.Device.CPU, n, width);
            Tensor answers = backend.allocate(arena, DType.I32, n, 2);
            Batches pairs = Batches.of(new SequencePairs(new int[][] {new int[width]}, new int[][] {{0, 1}}));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> pairs.fill(backend, order, 0, ids, answers)),
                    "Batches.fill: a batch of N=65536 questions of 65536 values is 4294967296 values",
                    "use a smaller batch");
            Tensor inputs = Tensor.wrap(big, DType.F32, org.seq4j.tensor.Device.CPU, n, width);
            Tensor targets = backend.allocate(arena, DType.F32, n, 1);
            Batches floats = Batches.of(new HostFloats(new int[] {1, width}, new float[width]),
                    new HostFloats(new int[] {1, 1}, new float[1]));
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> floats.fill(backend, order, 0, inputs, targets)),
                    "Batches.fill: a batch of N=65536 inputs of 65536 values is 4294967296 values");
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
