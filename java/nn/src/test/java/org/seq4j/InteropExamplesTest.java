// The examples of docs/INTEROP.md, compiled and run, so that the guide stays true: each test holds one example
// between "---- as in INTEROP.md" and "---- end" markers, and the Python snippets are the text blocks below, run
// with python3 and numpy where they are installed (skipped with the reason where not).
package org.seq4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Properties;
import java.util.SequencedMap;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.Transpose;
import org.seq4j.io.Npz;
import org.seq4j.io.NpzFile;
import org.seq4j.io.NpyArray;
import org.seq4j.io.Numpy;
import org.seq4j.models.Rnnlm;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Checkpoint;

class InteropExamplesTest {

    /** Skips the calling test, with the reason, where the OpenBLAS backend cannot load here. */
    private static void needOpenBlas() {
        TestBackends.get("openblas");
    }

    @Test
    void gemmOnDirectFloatBuffers() {
        needOpenBlas();
        // ---- as in INTEROP.md: a direct FloatBuffer ----
        // buffers another library hands out, or made like this: direct, in the platform's byte order
        FloatBuffer a = ByteBuffer.allocateDirect(6 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer b = ByteBuffer.allocateDirect(6 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer c = ByteBuffer.allocateDirect(4 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        a.put(new float[] {1, 2, 3, 4, 5, 6}).flip();
        b.put(new float[] {7, 8, 9, 10, 11, 12}).flip();
        try (Backend backend = Backends.create("openblas")) {
            Tensor ta = Tensor.wrap(a, 2, 3);                     // no copy: the tensor is the buffer's memory
            Tensor tb = Tensor.wrap(b, 3, 2);
            Tensor tc = Tensor.wrap(c, 2, 2);
            backend.matmul(Transpose.NO, Transpose.NO, 1f, ta, tb, 0f, tc);   // c = a . b
        }
        // c now holds 58, 64, 139, 154
        // ---- end ----
        assertArrayEquals(new float[] {58, 64, 139, 154}, new float[] {c.get(0), c.get(1), c.get(2), c.get(3)});
    }

    @Test
    void gemmOnFloatArrays() {
        needOpenBlas();
        // ---- as in INTEROP.md: float[] ----
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {7, 8, 9, 10, 11, 12};
        float[] c = new float[4];
        try (Backend backend = Backends.create("openblas")) {
            backend.matmul(Transpose.NO, Transpose.NO, 1f, Tensor.wrap(a, 2, 3), Tensor.wrap(b, 3, 2),
                    0f, Tensor.wrap(c, 2, 2));
        }
        // c is {58, 64, 139, 154}
        // ---- end ----
        assertArrayEquals(new float[] {58, 64, 139, 154}, c);
    }

    /** One LSTM step, A = x Wx + h Wh + b then the fused cell, on memory the caller owns. */
    @Test
    void lstmStepOnYourOwnMemory() {
        needOpenBlas();
        int N = 2, D = 3, H = 4;
        SplittableRandom r = new SplittableRandom(5);
        float[] xv = floats(r, N * D), wxv = floats(r, D * 4 * H), hv = floats(r, N * H), whv = floats(r, H * 4 * H);
        float[] bv = floats(r, 4 * H), cv = floats(r, N * H);
        float[] hOut = new float[N * H], cOut = new float[N * H];
        try (Arena theirs = Arena.ofConfined()) {
            // memory from elsewhere: here allocated in an arena and known only by address, as a C library's would be
            long xAddr = filled(theirs, xv), wxAddr = filled(theirs, wxv), hAddr = filled(theirs, hv);
            long whAddr = filled(theirs, whv), bAddr = filled(theirs, bv), cAddr = filled(theirs, cv);
            long hNextAddr = filled(theirs, new float[N * H]), cNextAddr = filled(theirs, new float[N * H]);
            // ---- as in INTEROP.md: an LSTM step ----
            try (Backend backend = Backends.create("openblas"); Arena arena = Arena.ofConfined()) {
                Tensor x = Tensor.wrapHost(at(xAddr, N * D), N, D);                 // (N, D)
                Tensor Wx = Tensor.wrapHost(at(wxAddr, D * 4 * H), D, 4 * H);       // (D, 4H), gates f, g, i, o
                Tensor h = Tensor.wrapHost(at(hAddr, N * H), N, H);                 // (N, H) h_prev
                Tensor Wh = Tensor.wrapHost(at(whAddr, H * 4 * H), H, 4 * H);       // (H, 4H)
                Tensor b = Tensor.wrapHost(at(bAddr, 4 * H), 4 * H);                // (4H,)
                Tensor c = Tensor.wrapHost(at(cAddr, N * H), N, H);                 // (N, H) c_prev
                Tensor hNext = Tensor.wrapHost(at(hNextAddr, N * H), N, H);         // (N, H) out
                Tensor cNext = Tensor.wrapHost(at(cNextAddr, N * H), N, H);         // (N, H) out
                Tensor gates = backend.allocate(arena, DType.F32, N, 4 * H);        // (N, 4H) scratch

                backend.matmul(Transpose.NO, Transpose.NO, 1f, x, Wx, 0f, gates);  // A  = x Wx
                backend.matmul(Transpose.NO, Transpose.NO, 1f, h, Wh, 1f, gates);  // A += h Wh
                backend.addBias(gates, b);                                          // A += b
                backend.lstmCellForward(hNext, cNext, gates, c);  // c' = f c + g i, h' = o tanh(c')
            }
            // ---- end ----
            MemorySegment.copy(at(hNextAddr, N * H), ValueLayout.JAVA_FLOAT, 0, hOut, 0, N * H);
            MemorySegment.copy(at(cNextAddr, N * H), ValueLayout.JAVA_FLOAT, 0, cOut, 0, N * H);
        }
        // the book's formulas in double, gates sliced f, g, i, o
        for (int n = 0; n < N; n++) {
            for (int j = 0; j < H; j++) {
                double[] a = new double[4];
                for (int g = 0; g < 4; g++) {
                    int col = g * H + j;
                    double s = bv[col];
                    for (int d = 0; d < D; d++) {
                        s += (double) xv[n * D + d] * wxv[d * 4 * H + col];
                    }
                    for (int k = 0; k < H; k++) {
                        s += (double) hv[n * H + k] * whv[k * 4 * H + col];
                    }
                    a[g] = s;
                }
                double f = sigmoid(a[0]), g = Math.tanh(a[1]), i = sigmoid(a[2]), o = sigmoid(a[3]);
                double cn = f * cv[n * H + j] + g * i;
                assertEquals(cn, cOut[n * H + j], 1e-5, "cNext[" + n + ", " + j + "]");
                assertEquals(o * Math.tanh(cn), hOut[n * H + j], 1e-5, "hNext[" + n + ", " + j + "]");
            }
        }
    }

    // ---- as in INTEROP.md: numpy reads a checkpoint ----
    static final String NUMPY_READS = """
            import sys, numpy as np
            z = np.load(sys.argv[1])                       # a seq4j checkpoint .npz
            Wx = z["lstm.Wx"]                               # float32, shape (D, 4H), gates f, g, i, o
            print(Wx.dtype, Wx.shape)
            print(bytes(z["model.properties"]).decode("latin-1").splitlines()[-1])

            def torch_lstm(W):     # seq4j (in, 4H), gates f, g, i, o -> PyTorch (4H, in), gates i, f, g, o
                f, g, i, o = np.split(W, 4, axis=-1)
                return np.ascontiguousarray(np.concatenate([i, f, g, o], axis=-1).T)

            weight_ih = torch_lstm(z["lstm.Wx"])          # (4H, D): nn.LSTM's weight_ih_l0
            weight_hh = torch_lstm(z["lstm.Wh"])          # (4H, H): weight_hh_l0
            bias_ih = torch_lstm(z["lstm.b"])             # (4H,): bias_ih_l0; set bias_hh_l0 to zeros
            H = z["lstm.Wh"].shape[0]
            assert weight_ih.shape == (4 * H, Wx.shape[0]) and weight_hh.shape == (4 * H, H)
            assert (weight_ih[H:2 * H] == Wx[:, 0:H].T).all()       # PyTorch's f block is seq4j's first
            assert (bias_ih[0:H] == z["lstm.b"][2 * H:3 * H]).all()  # PyTorch's i block is seq4j's third
            print("torch layout ok")
            """;
    // ---- end ----

    // ---- as in INTEROP.md: numpy writes weights ----
    static final String NUMPY_WRITES = """
            import sys, numpy as np
            W = np.arange(6, dtype=np.float32).reshape(2, 3)
            np.savez(sys.argv[1], **{"affine.W": W, "affine.b": np.zeros(3, np.float32)})
            """;
    // ---- end ----

    // ---- as in INTEROP.md: numpy edits a checkpoint ----
    static final String NUMPY_EDITS = """
            import sys, numpy as np
            d = dict(np.load(sys.argv[1]))                 # every array, and model.properties as bytes
            d["lstm.b"] = np.zeros_like(d["lstm.b"])        # edit a weight
            np.savez(sys.argv[2], **d)                     # or np.savez_compressed
            """;
    // ---- end ----

    /**
     * numpy's round trip of a checkpoint, load, edit, save: np.savez stores the description np.load gave as bytes
     * back as a 0-d bytes array, and seq4j loads the file as the checkpoint it is, with the edit. The guide's
     * NUMPY_READS reads the description of both files (bytes(...) of either form).
     */
    @Test
    void numpyEditsACheckpoint(@TempDir Path dir) throws Exception {
        Backend backend = TestBackends.reference();
        Path file = dir.resolve("lm.npz");
        Path edited = dir.resolve("edited.npz");
        Properties about = new Properties();
        about.setProperty("model", "rnnlm");
        try (Rnnlm model = new Rnnlm(backend, 10, 4, 5, 1984)) {
            Checkpoint.write(file, model, about);
        }
        Numpy.run(NUMPY_EDITS, file.toString(), edited.toString());
        String read = Numpy.run("import sys, numpy as np; print(np.load(sys.argv[1])['model.properties'].dtype)",
                edited.toString());
        assertTrue(read.startsWith("|S"), "numpy stored the description as a bytes array: " + read);
        for (Path f : List.of(file, edited)) {
            String out = Numpy.run(NUMPY_READS, f.toString());
            assertTrue(out.contains("model=rnnlm") && out.contains("torch layout ok"), out);
        }
        assertEquals(about, Checkpoint.meta(edited));
        try (Rnnlm saved = new Rnnlm(backend, 10, 4, 5, 1984); Rnnlm again = new Rnnlm(backend, 10, 4, 5, 7)) {
            Checkpoint.load(edited, again);
            for (var p : saved.parameters()) {
                float[] want = p.name().equals("lstm.b") ? new float[20] : saved.store().copyOut(p.name());
                assertArrayEquals(want, again.store().copyOut(p.name()), p.name());
            }
        }
    }

    @Test
    void checkpointsAndNpzExchangeWithNumpy(@TempDir Path dir) throws Exception {
        Backend backend = TestBackends.reference();
        Path file = dir.resolve("lm.npz");
        // ---- as in INTEROP.md: save and load a checkpoint ----
        try (Rnnlm model = new Rnnlm(backend, 10, 4, 5, 1984)) {                // V = 10, D = 4, H = 5
            Properties about = new Properties();
            about.setProperty("model", "rnnlm");
            Checkpoint.write(file, model, about);      // every parameter by its book name, plus model.properties
        }
        try (Rnnlm again = new Rnnlm(backend, 10, 4, 5, 7)) {
            Checkpoint.load(file, again);              // exact names and shapes, finite values, or a clear error
        }
        // ---- end ----
        List<String> names;
        try (Rnnlm again = new Rnnlm(backend, 10, 4, 5, 7); Rnnlm saved = new Rnnlm(backend, 10, 4, 5, 1984)) {
            Checkpoint.load(file, again);
            assertArrayEquals(saved.store().copyOut("lstm.Wx"), again.store().copyOut("lstm.Wx"));
            names = saved.parameters().stream().map(p -> p.name()).toList();
        }
        assertEquals(List.of("embed.W", "lstm.Wx", "lstm.Wh", "lstm.b", "affine.W", "affine.b"), names);

        Path fromNumpy = dir.resolve("from-numpy.npz");
        Path plain = dir.resolve("plain.npz");
        // ---- as in INTEROP.md: any arrays, to and from .npz ----
        SequencedMap<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("W", new NpyArray.F32(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        arrays.put("ids", new NpyArray.I32(new int[] {3}, new int[] {7, 8, 9}));
        Npz.save(plain, arrays);                       // np.load(plain)["W"] is a (2, 3) float32 array
        // ---- end ----
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Npz.load(plain).floats("W", 2, 3));

        // python3 with numpy, where it is installed
        String out = Numpy.run(NUMPY_READS, file.toString());
        assertTrue(out.contains("float32 (4, 20)") && out.contains("model=rnnlm") && out.contains("torch layout ok"),
                out);
        Numpy.run(NUMPY_WRITES, fromNumpy.toString());
        float[] W;
        // ---- as in INTEROP.md: load what numpy wrote ----
        NpzFile npz = Npz.load(fromNumpy);
        W = npz.floats("affine.W", 2, 3);              // the shape must be (2, 3), else NpzFormatException
        // ---- end ----
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, W);
        String check = Numpy.run("import sys, numpy as np; z = np.load(sys.argv[1]); print(z['W'].dtype, z['W'].shape,"
                + " z['W'].tolist(), z['ids'].dtype, z['ids'].tolist())", plain.toString());
        assertTrue(check.contains("float32 (2, 3) [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] int32 [7, 8, 9]"), check);
    }

    /**
     * Every marked example of this file appears, line for line (indentation removed), in docs/INTEROP.md, so the
     * guide shows exactly the code these tests run.
     */
    @Test
    void theGuideShowsExactlyTheseExamples() throws IOException {
        Path guide = Path.of("../../docs/INTEROP.md");
        List<String> examples = DocExamples.marked(Path.of("src/test/java/org/seq4j/InteropExamplesTest.java"), guide,
                "INTEROP.md");
        assertEquals(9, examples.size(), "examples marked in this file");
        String doc = Files.readString(guide);
        for (String text : examples) {
            assertTrue(doc.contains(text), "docs/INTEROP.md lacks this example, or shows it changed:\n" + text);
        }
    }

    private static float[] floats(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(-1, 1);
        }
        return x;
    }

    private static long filled(Arena arena, float[] values) {
        return arena.allocateFrom(ValueLayout.JAVA_FLOAT, values).address();
    }

    /** The doc's helper: {@code count} floats at a raw address (a restricted method: needs native access). */
    private static MemorySegment at(long address, int count) {
        return MemorySegment.ofAddress(address).reinterpret((long) count * Float.BYTES);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
