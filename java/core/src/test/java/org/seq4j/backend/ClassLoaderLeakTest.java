// An application server or plugin host unloads an application by dropping its class loader; its pooled threads
// live on. seq4j must not keep the dropped loader alive from such a thread: the default sequence loops cached
// their per-step views in static ThreadLocals (a WeakHashMap per thread, whose values are seq4j Tensors), so a
// pooled thread that had run one loop held the whole copy of seq4j, its classes and statics, for as long as it lived.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public class ClassLoaderLeakTest {

    /** Run inside the loader: the named backend's LSTM sequence (2 steps), h_2's first element. */
    public static float probe(String backend) {
        try (Backend b = Backends.create(backend); Arena arena = Arena.ofConfined()) {
            int t = 2, n = 3, h = 4;
            Tensor hs = b.allocate(arena, DType.F32, t + 1, n, h), cs = b.allocate(arena, DType.F32, t + 1, n, h);
            Tensor gates = b.allocate(arena, DType.F32, t, n, 4 * h), wh = b.allocate(arena, DType.F32, h, 4 * h);
            b.fill(hs, 0f);
            b.fill(cs, 0f);
            b.fill(gates, 0.5f);
            b.fill(wh, 0.25f);
            PackedMatrix packed = b.packedMatrix(arena, h, 4 * h, PackedMatrix.Precision.F32);
            b.pack(packed, Transpose.NO, wh);
            b.lstmSequenceForward(hs, cs, gates, packed, true);
            return b.item(hs, (long) t * n * h);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"java", "openblas"}) // the Java backend runs the default loop; openblas its native pool
    void aPooledThreadThatRanASequenceLoopDoesNotKeepADroppedCopyOfSeq4j(String backend) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            urls.add(Path.of(entry).toUri().toURL());
        }
        ExecutorService pool = Executors.newSingleThreadExecutor(); // the server's thread: it outlives the app
        try {
            WeakReference<ClassLoader> loader = runInOwnLoader(urls, pool, backend);
            for (int i = 0; i < 50 && loader.get() != null; i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertNull(loader.get(), "the dropped class loader is still reachable from the pool's thread");
        } finally {
            pool.shutdownNow();
        }
    }

    private static WeakReference<ClassLoader> runInOwnLoader(List<URL> urls, ExecutorService pool, String backend)
            throws Exception {
        URLClassLoader app = new URLClassLoader("seq4j-app", urls.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader());
        Class<?> inApp = app.loadClass(ClassLoaderLeakTest.class.getName());
        float h2 = pool.submit(() -> (Float) inApp.getMethod("probe", String.class).invoke(null, backend)).get();
        assertEquals(probe(backend), h2, 0f, "the loop ran in the app's copy as in ours");
        app.close();
        return new WeakReference<>(app);
    }
}
