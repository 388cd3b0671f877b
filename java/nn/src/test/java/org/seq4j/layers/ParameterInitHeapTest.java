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
