// Checks .npz files against numpy itself: numpy loads what we write (names, shapes, dtypes, values, and
// the .npy bytes equal np.save's), and we load what np.savez and np.savez_compressed write. Skips, with
// the reason, where python3 with numpy is not installed.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzNumpyInteropTest {
    @TempDir
    Path dir;

    @Test
    void numpyLoadsWhatWeWrite() throws Exception {
        SequencedMap<String, NpyArray> m = new LinkedHashMap<>();
        float[] w = new float[24];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i - 11) / 7f;
        }
        m.put("encoder.lstm.Wx", NpyArray.of(w, 2, 3, 4));
        m.put("ids", NpyArray.of(new int[] {5, -1, Integer.MAX_VALUE}, 3));
        m.put("loss", NpyArray.of(new float[] {Float.MIN_VALUE}));
        m.put("empty", NpyArray.of(new float[0], 0, 2));
        for (NpzWriter.Compression c : NpzWriter.Compression.values()) {
            Path file = dir.resolve("ours-" + c + ".npz");
            Npz.save(file, m, c);
            // numpy prints each array as: name shape dtype values (float32 values exactly, as Python floats)
            // and whether our .npy entry bytes equal what np.save writes for the same array
            String script = """
                    import sys, io, zipfile, numpy as np
                    z = np.load(sys.argv[1])
                    raw = zipfile.ZipFile(sys.argv[1])
                    for k in z.files:
                        a = z[k]
                        b = io.BytesIO(); np.save(b, a)
                        same = b.getvalue() == raw.read(k + '.npy')
                        print(k, a.shape, a.dtype.str, same, [float(x) if a.dtype.kind == 'f' else int(x) for x in a.ravel()])
                    """;
            String out = Numpy.run(script, file.toString());
            StringBuilder want = new StringBuilder();
            want.append("encoder.lstm.Wx (2, 3, 4) <f4 True [");
            for (int i = 0; i < w.length; i++) {
                // Java's Double.toString and Python's repr both print the shortest round-tripping form
                want.append(i > 0 ? ", " : "").append(pyFloat((double) w[i]));
            }
            want.append("]\n");
            want.append("ids (3,) <i4 True [5, -1, 2147483647]\n");
            want.append("loss () <f4 True [").append(pyFloat((double) Float.MIN_VALUE)).append("]\n");
            want.append("empty (0, 2) <f4 True []\n");
            assertEquals(want.toString(), out, "numpy's view of " + file);
        }
    }

    /** Python's repr of a float in [1e-3, 1e7) or tiny: the same shortest digits as Java's, Python's exponent style. */
    private static String pyFloat(double d) {
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mant = s.substring(0, e);
        if (mant.endsWith(".0")) {
            mant = mant.substring(0, mant.length() - 2);
        }
        int exp = Integer.parseInt(s.substring(e + 1));
        return mant + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }

    @Test
    void weLoadWhatNumpyWrites() throws Exception {
        Path plain = dir.resolve("savez.npz");
        Path compressed = dir.resolve("savez_compressed.npz");
        String script = """
                import sys, numpy as np
                arrays = dict(
                    W=(np.arange(12, dtype='<f4') / np.float32(7)).reshape(3, 4),
                    ids=np.arange(6).reshape(2, 3) - 2,          # numpy's default int64
                    x=np.linspace(0, 1, 5),                       # float64
                    s=np.float32(3.5),
                )
                np.savez(sys.argv[1], **arrays)
                np.savez_compressed(sys.argv[2], **arrays)
                """;
        Numpy.run(script, plain.toString(), compressed.toString());
        for (Path file : List.of(plain, compressed)) {
            NpzFile f = Npz.load(file);
            assertEquals(List.of("W", "ids", "x", "s"), f.names(), file.toString());
            float[] want = new float[12];
            for (int i = 0; i < 12; i++) {
                want[i] = i / 7f; // IEEE float32 division, the same operation numpy did: exact
            }
            assertArrayEquals(want, f.floats("W", 3, 4), file + " W");
            assertArrayEquals(new int[] {-2, -1, 0, 1, 2, 3}, f.ints("ids", 2, 3), file + " ids");
            // i/4 is exact in float64 and in float32
            assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 0.75f, 1f}, f.floats("x", 5), file + " x");
            assertArrayEquals(new float[] {3.5f}, f.floats("s"), file + " s");
        }
    }
}
