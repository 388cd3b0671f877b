// seq4j loaded twice in one JVM, by two sibling class loaders (as application servers and plugin hosts do):
// each copy must find its providers and get the openblas backend, whose native libraries another loader
// already holds.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.io.File;
import java.lang.foreign.Arena;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public class ClassLoadersTest {

    /**
     * Run inside each loader: the openblas backend's name and a 2x2 product, as one string, or why it did not load.
     * (Asked for by name: on a GPU machine select() would rightly pick cuda.)
     */
    public static String probe() {
        try (Backend b = Backends.create("openblas"); Arena arena = Arena.ofConfined()) {
            Tensor a = Tensor.ofFloats(arena, new float[] {1, 2, 3, 4}, 2, 2);
            Tensor c = Tensor.allocateHost(arena, DType.F32, 2, 2);
            b.matmul(Transpose.NO, Transpose.NO, 1f, a, a, 0f, c);
            float[] r = c.toFloatArray();
            return b.name() + " " + r[0] + "," + r[1] + "," + r[2] + "," + r[3];
        } catch (BackendUnavailableException e) {
            return "openblas did not load: " + e.getMessage();
        }
    }

    @Test
    void twoSiblingClassLoadersBothGetOpenblas() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            urls.add(Path.of(entry).toUri().toURL());
        }
        ClassLoader parent = ClassLoader.getPlatformClassLoader();
        try (URLClassLoader first = new URLClassLoader("seq4j-a", urls.toArray(URL[]::new), parent);
             URLClassLoader second = new URLClassLoader("seq4j-b", urls.toArray(URL[]::new), parent)) {
            Class<?> inFirst = first.loadClass(ClassLoadersTest.class.getName());
            Class<?> inSecond = second.loadClass(ClassLoadersTest.class.getName());
            assertNotSame(inFirst, inSecond, "two separate copies of seq4j");
            assertEquals("openblas 7.0,10.0,15.0,22.0", inFirst.getMethod("probe").invoke(null));
            assertEquals("openblas 7.0,10.0,15.0,22.0", inSecond.getMethod("probe").invoke(null));
        }
    }
}
