// The wave sets against the seed documents' numpy code (values printed by numpy 2.4 here) and their
// window structure; sizes whose arrays a Java array cannot hold, and noise that is no standard deviation, refused.
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WaveSetsTest {
    // values are float32 copies of float64 numpy results: rounding to float32 costs up to 6e-8 relative,
    // and Java's sin/cos/log may differ from glibc's in the last bit of the double
    private static final double ATOL = 1e-7;
    private static final double RTOL = 1e-6;

    private static void assertNear(double want, float got, String what) {
        double diff = Math.abs(got - want);
        assertTrue(diff <= ATOL + RTOL * Math.abs(want), what + ": got " + got + ", numpy " + want + ", diff " + diff);
    }

    @Test
    void sineToCosineMatchesSeedDocument002() {
        // x = np.linspace(-2*np.pi, 2*np.pi, 100); NUM_LSTM = 24; n = len(x) - NUM_LSTM
        // ex[i] = sin[i:i+24]; dx[i, 1:] = cos[i:i+23]; dy[i] = cos[i:i+24]
        WaveSets.SineToCosine s = WaveSets.sineToCosine();
        assertEquals(76, s.size());
        assertArrayEquals(new int[] {76, 24, 1}, s.encoderInput().shape());
        assertArrayEquals(new int[] {76, 24, 1}, s.decoderInput().shape());
        assertArrayEquals(new int[] {76, 24, 1}, s.target().shape());
        assertNear(0.8497254299495144, s.encoderInput().at(5, 3, 0), "ex[5, 3]");
        assertNear(0.6305526670845221, s.decoderInput().at(5, 3, 0), "dx[5, 3]");
        assertNear(0.9919548128307953, s.target().at(75, 23, 0), "dy[75, 23]");
        assertNear(-1.5866629563584809, s.x()[37], "x[37]");
        for (int i = 0; i < s.size(); i++) {
            assertEquals(0f, s.decoderInput().at(i, 0, 0), "teacher forcing starts from 0");
            for (int t = 1; t < 24; t++) {
                assertEquals(s.target().at(i, t - 1, 0), s.decoderInput().at(i, t, 0), "dx[" + i + ", " + t + "]");
            }
            if (i > 0) {
                assertEquals(s.encoderInput().at(i - 1, 1, 0), s.encoderInput().at(i, 0, 0), "windows slide by one");
            }
        }
    }

    @Test
    void noisySineToCosineUsesNumpysRandn() {
        // np.random.seed(42); np.sin(np.linspace(-2*np.pi, 2*np.pi, 50)) + 0.1*np.random.randn(50)
        WaveSets.SineToCosine s = WaveSets.sineToCosine(50, 10, 0.1, 42);
        assertEquals(40, s.size());
        assertNear(0.04967141530112351, s.encoderInput().at(0, 0, 0), "noisy sin[0]");
        assertNear(-0.9070436887902329, s.encoderInput().at(8, 9, 0), "noisy sin[17]");
        // the last window (i = 39) ends at point 48: point 49 is never an input, as in the seed's n = len(x) - 24
        assertNear(-0.2192927549526622, s.encoderInput().at(39, 9, 0), "noisy sin[48]");
        double[] x = WaveSets.linspace(-2 * Math.PI, 2 * Math.PI, 50);
        for (int i = 0; i < s.size(); i++) {
            for (int t = 0; t < 10; t++) {
                double clean = Math.cos(x[i + t]);
                assertNear(clean, s.target().at(i, t, 0), "the target is the clean cosine");
            }
        }
    }

    @Test
    void noisySineMatchesSeedDocument004() {
        // np.random.seed(773); w = np.sin(np.linspace(-2*np.pi, 2*np.pi, 101)) + 0.05*np.random.randn(101)
        // xs = w[:-1]; ts = w[1:]; x_time[i, j] = xs[i + j]; t_time[i, j] = ts[i + j], time_size = 10
        WaveSets.NoisySine s = WaveSets.noisySine();
        assertEquals(90, s.size());
        assertArrayEquals(new int[] {90, 10, 1}, s.inputs().shape());
        assertArrayEquals(new int[] {90, 1}, s.targets().shape());
        assertArrayEquals(new int[] {90, 10, 1}, s.stepTargets().shape());
        assertNear(0.0018448078772053123, s.inputs().at(0, 0, 0), "x_time[0, 0]");
        assertNear(-0.23726363480091095, s.inputs().at(89, 9, 0), "x_time[89, 9]");
        assertNear(-0.128221794962883, s.stepTargets().at(89, 9, 0), "t_time[89, 9]");
        assertNear(1.015836238861084, s.stepTargets().at(3, 9, 0), "t_time[3, 9]");
        assertNear(1.015836269581343, s.wave()[13], "w[13]");
        for (int i = 0; i < s.size(); i++) {
            assertEquals(s.stepTargets().at(i, 9, 0), s.targets().at(i, 0), "target = last step's next value");
            assertEquals(s.wave()[i + 10], s.targets().at(i, 0), "target = the value after the window");
        }
    }

    @Test
    void badSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WaveSets.sineToCosine(24, 24, 0, 0));
        assertTrue(e.getMessage().contains("window = 24"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WaveSets.noisySine(11, 10, 0.05, 1));
        assertThrows(IllegalArgumentException.class, () -> WaveSets.noisySine(101, 0, 0.05, 1));
        assertThrows(IllegalArgumentException.class, () -> new HostFloats(new int[] {2, 3}, new float[5]));
    }

    /**
     * HostFloats, the sets' arrays, names a null shape, data or index and a dimension it lacks: a bare
     * NullPointerException from inside ("Cannot invoke [I.clone()"), and the array's own "Index 5 out of bounds for
     * length 2" for dim(5).
     */
    @Test
    void hostFloatsNamesANullArgumentAndADimensionItLacks() {
        assertEquals("HostFloats: shape is null; expected the dimensions, e.g. {N, T, 1}",
                assertThrows(NullPointerException.class, () -> new HostFloats(null, new float[4])).getMessage());
        assertEquals("HostFloats: data is null; expected the values, row-major",
                assertThrows(NullPointerException.class, () -> new HostFloats(new int[] {4}, null)).getMessage());
        HostFloats h = new HostFloats(new int[] {2, 2}, new float[] {1, 2, 3, 4});
        assertEquals("HostFloats.at: index is null; expected one index per dimension",
                assertThrows(NullPointerException.class, () -> h.at((int[]) null)).getMessage());
        assertEquals(2, h.dim(1));
        assertEquals(3f, h.at(1, 0));
        for (int i : new int[] {2, 5, -1}) {
            assertEquals("HostFloats.dim(" + i + ") of an array of shape (2, 2): expected a dimension in [0, 2)",
                    assertThrows(IndexOutOfBoundsException.class, () -> h.dim(i)).getMessage());
        }
    }

    /**
     * Windows x steps beyond an int, and noise that is no standard deviation: IllegalArgumentException. Before,
     * n * window wrapped: 100,000 points in windows of 40,000 (60,000 x 40,000 values) threw a
     * NegativeArraySizeException; a NaN noise made every input NaN without a word.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "sine   | 100000 | 40000 | 0   | sineToCosine: 60000 windows of 40000 steps are 2400000000 values; "
                    + "at most 2147483639 fit a Java array",
            "noisy  | 100000 | 40000 | 0   | noisySine: 59999 windows of 40000 steps are 2399960000 values; "
                    + "at most 2147483639 fit a Java array",
            "sine   | 100    | 24    | NaN | noise must be a standard deviation >= 0 (finite), got NaN",
            "noisy  | 101    | 10    | -1  | noise must be a standard deviation >= 0 (finite), got -1.0",
            "noisy  | 101    | 10    | Infinity | noise must be a standard deviation >= 0 (finite), got Infinity"})
    void sizesBeyondAnArrayAndNoiseThatIsNoDeviationAreRefused(String set, int points, int window, double noise,
                                                              String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            if (set.equals("sine")) {
                WaveSets.sineToCosine(points, window, noise, 1);
            } else {
                WaveSets.noisySine(points, window, noise, 1);
            }
        });
        assertEquals(message, e.getMessage());
    }
}
