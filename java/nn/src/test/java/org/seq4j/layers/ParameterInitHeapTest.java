// A store's initial values pass through the Java heap a chunk (4 MiB) at a time: the whole buffer as one float[] (up to
// 8 GiB) made the largest models need their parameters' size in heap on top of the native buffers, and one array of a
// parameter ended a model whose embedding passed the heap in OutOfMemoryError (a red-team find: a 100 MB embedding
// under -Xmx64m).
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

class ParameterInitHeapTest {
    @TempDir
    Path dir;

    /**
     * Two parameters of 64 MiB each in a JVM of 48 MiB of heap: made a chunk at a time they fit; as one array of a
     * parameter (64 MiB), or of both (128 MiB), they cannot.
     */
    @Test
    void initialValuesTakeTheHeapOfAChunkAtATime() throws Exception {
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-Xmx48m"), BuildTwo.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("built " + 2L * (16 << 20) + " parameters", r.out().strip(), r.toString());
    }

    /**
     * The values made in chunks are those of one array filled by one Random (Init's draws, in order): across the chunks'
     * seams and from one parameter to the next.
     */
    @Test
    void chunksHoldTheValuesOfOneSequenceOfDraws() {
        int big = (1 << 21) + 3, small = 5;   // two whole chunks and a part, then a parameter within one
        Backend b = TestBackends.reference();
        try (ParameterStore s = ParameterStore.builder(b).declare("a", Init.normal(0.5), big)
                .declare("z", Init.zeros(), 7).declare("c", Init.normal(2), small).build(11)) {
            Random rng = new Random(11);
            float[] a = new float[big], c = new float[small];
            for (int i = 0; i < big; i++) {
                a[i] = (float) (rng.nextGaussian() * 0.5);
            }
            for (int i = 0; i < small; i++) {
                c[i] = (float) (rng.nextGaussian() * 2);
            }
            float[] gotA = new float[big], gotZ = new float[7], gotC = new float[small];
            b.copyOut(gotA, s.get("a").value());
            b.copyOut(gotZ, s.get("z").value());
            b.copyOut(gotC, s.get("c").value());
            assertArrayEquals(a, gotA);
            assertArrayEquals(new float[7], gotZ);
            assertArrayEquals(c, gotC);
        }
    }

    /**
     * A parameter within a chunk (2^20 floats) of 2^31 (an embedding of 2^21 - 1 rows of 1024: 2^31 - 1024 floats,
     * which a store takes) is filled chunk by chunk to its end: with the position an int, the last chunk's start plus
     * 2^20 wrapped to -2^31, and the store failed in flatSlice ("-1024 elements from element -2147483648") instead of
     * building. Its 16 GiB of values and gradients are more than a test allocates: the chunks are checked alone.
     */
    @Test
    void chunksReachTheEndOfAParameterNearTwoToThe31() {
        int size = (1 << 31) - 1024, chunk = 1 << 20;
        long[] next = {0};
        int[] calls = {0};
        ParameterStore.inChunks(size, chunk, (from, n) -> {
            if (from != next[0] || n < 1 || n > chunk) {   // thrown: a wrapped position would go round forever
                throw new AssertionError("chunk " + calls[0] + " is [" + from + ", " + from + " + " + n
                        + "), expected it to start at " + next[0] + " with 1 to " + chunk + " values");
            }
            next[0] = from + n;
            calls[0]++;
        });
        assertEquals(size, next[0]);
        assertEquals(2048, calls[0]);
        ParameterStore.inChunks(Integer.MAX_VALUE - 8, chunk, (from, n) -> next[0] = from + n);   // the largest taken
        assertEquals(Integer.MAX_VALUE - 8, next[0]);
    }

    /** Builds a store of two 4096 x 4096 parameters on the Java backend and prints its parameter count. */
    public static final class BuildTwo {
        public static void main(String[] args) {
            try (Backend b = Backends.create("java");
                 ParameterStore s = ParameterStore.builder(b).declare("a", Init.normal(0.01), 4096, 4096)
                         .declare("b", Init.normal(0.01), 4096, 4096).build(1)) {
                System.out.println("built " + s.parameterCount() + " parameters");
            }
        }
    }
}
