// A store's initial values pass through the Java heap one parameter at a time: the whole buffer as one float[] (up to
// 8 GiB) made the largest models need their parameters' size in heap on top of the native buffers, and a restore,
// which overwrites those values at once, paid it too.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.testing.ChildJvm;

class ParameterInitHeapTest {
    @TempDir
    Path dir;

    /**
     * Two parameters of 64 MiB each in a JVM of 112 MiB of heap: built one at a time they fit, as one array of both
     * (128 MiB) they cannot. The same bits as the single array are held by the models' golden-value tests.
     */
    @Test
    void initialValuesTakeTheHeapOfOneParameterAtATime() throws Exception {
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-Xmx112m"), BuildTwo.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("built " + 2L * (16 << 20) + " parameters", r.out().strip(), r.toString());
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
