// Regression sets of waves, batch-major (N, T, 1) float32 windows:
//   - sineToCosine: the seq2seq that translates a sine wave into a cosine wave (seed document 002):
//     encoder input sin windows, decoder input the cos window shifted right by one with 0 first
//     (teacher forcing), target the cos window;
//   - noisySine: the many-to-one LSTM predictor of seed document 004: windows of a noisy sine and the
//     value that follows each window.
// Noise is numpy's legacy randn, so noisySine() with its default seed 773 is the seed document's wave.
package org.seq4j.data;

/**
 * Regression sets of waves as batch-major (N, T, 1) float32 windows: sine to cosine (a seq2seq) and a noisy sine
 * with the value after each window (a many-to-one predictor). Noise is numpy's legacy randn.
 */
public final class WaveSets {
    private WaveSets() {
    }

    /**
     * Sine-to-cosine windows, N = points - window of them.
     *
     * @param x            (points) the time axis, for plots
     * @param encoderInput (N, window, 1) the noisy sine windows
     * @param decoderInput (N, window, 1) the cosine windows shifted right by one step, 0 first (teacher forcing)
     * @param target       (N, window, 1) the cosine windows
     */
    public record SineToCosine(float[] x, HostFloats encoderInput, HostFloats decoderInput, HostFloats target) {
        /**
         * The number of windows.
         *
         * @return N
         */
        public int size() {
            return encoderInput.dim(0);
        }
    }

    /**
     * Noisy-sine windows for a many-to-one predictor, N = points - 1 - window of them.
     *
     * @param x           (points) the time axis
     * @param wave        (points) the noisy wave
     * @param inputs      (N, window, 1) = wave[i .. i+window)
     * @param targets     (N, 1) = wave[i+window], the value after each window
     * @param stepTargets (N, window, 1) = wave[i+1 .. i+window], the next value at every step
     */
    public record NoisySine(float[] x, float[] wave, HostFloats inputs, HostFloats targets, HostFloats stepTargets) {
        /**
         * The number of windows.
         *
         * @return N
         */
        public int size() {
            return inputs.dim(0);
        }
    }

    /**
     * Seed document 002's set: 100 points over [-2pi, 2pi], windows of 24, no noise.
     *
     * @return the set
     */
    public static SineToCosine sineToCosine() {
        return sineToCosine(100, 24, 0.0, 0);
    }

    /**
     * Windows over x = linspace(-2pi, 2pi, points): input sin(x) + noise * randn (seeded), output cos(x),
     * clean. Window i covers points i .. i+window-1 for {@code i < points - window} (as the seed document counts).
     *
     * @param points samples of the wave
     * @param window steps per window, at least 1
     * @param noise  the noise's standard deviation
     * @param seed   numpy's seed for the noise, in [0, 2^32)
     * @return the set
     * @throws IllegalArgumentException if there is not at least one window, the windows hold more values than a
     *         Java array, the noise is negative or not finite, or the seed is outside [0, 2^32), which numpy refuses
     *         (even with no noise to draw)
     */
    public static SineToCosine sineToCosine(int points, int window, double noise, long seed) {
        int n = checkSizes(points, window, points - window, "points - window");
        int values = checkCount("sineToCosine", n, window, noise);
        double[] x = linspace(-2 * Math.PI, 2 * Math.PI, points);
        double[] sin = new double[points];
        double[] cos = new double[points];
        NumpyRandom random = new NumpyRandom(seed);
        for (int i = 0; i < points; i++) {
            sin[i] = Math.sin(x[i]) + (noise == 0 ? 0 : noise * random.standardNormal());
            cos[i] = Math.cos(x[i]);
        }
        float[] ex = new float[values]; // (N, T, 1)
        float[] dx = new float[values]; // (N, T, 1)
        float[] dy = new float[values]; // (N, T, 1)
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < window; t++) {
                ex[i * window + t] = (float) sin[i + t];
                dy[i * window + t] = (float) cos[i + t];
                // teacher forcing: at step t the decoder sees the target of step t-1, and 0 at step 0
                dx[i * window + t] = t == 0 ? 0f : (float) cos[i + t - 1];
            }
        }
        return new SineToCosine(toFloats(x), new HostFloats(new int[] {n, window, 1}, ex),
                new HostFloats(new int[] {n, window, 1}, dx), new HostFloats(new int[] {n, window, 1}, dy));
    }

    /**
     * Seed document 004's set: 101 points over [-2pi, 2pi], noise 0.05 * randn with np.random.seed(773), T = 10.
     *
     * @return the set
     */
    public static NoisySine noisySine() {
        return noisySine(101, 10, 0.05, 773);
    }

    /**
     * wave = sin(linspace(-2pi, 2pi, points)) + noise * randn(points), drawn as np.random.seed(seed);
     * np.random.randn(points) does; windows of {@code window} steps, N = points - 1 - window of them.
     *
     * @param points samples of the wave
     * @param window steps per window, at least 1
     * @param noise  the noise's standard deviation
     * @param seed   numpy's seed for the noise, in [0, 2^32)
     * @return the set
     * @throws IllegalArgumentException if there is not at least one window, the windows hold more values than a
     *         Java array, the noise is negative or not finite, or the seed is outside [0, 2^32), which numpy refuses
     *         (even with no noise to draw)
     */
    public static NoisySine noisySine(int points, int window, double noise, long seed) {
        int n = checkSizes(points, window, points - 1 - window, "points - 1 - window");
        int values = checkCount("noisySine", n, window, noise);
        double[] x = linspace(-2 * Math.PI, 2 * Math.PI, points);
        double[] randn = new NumpyRandom(seed).randn(points);
        float[] wave = new float[points];
        for (int i = 0; i < points; i++) {
            wave[i] = (float) (Math.sin(x[i]) + noise * randn[i]);
        }
        float[] inputs = new float[values]; // (N, T, 1)
        float[] steps = new float[values]; // (N, T, 1)
        float[] next = new float[n]; // (N, 1)
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < window; t++) {
                inputs[i * window + t] = wave[i + t];
                steps[i * window + t] = wave[i + t + 1];
            }
            next[i] = wave[i + window];
        }
        return new NoisySine(toFloats(x), wave, new HostFloats(new int[] {n, window, 1}, inputs),
                new HostFloats(new int[] {n, 1}, next), new HostFloats(new int[] {n, window, 1}, steps));
    }

    /** numpy.linspace(start, stop, num): start + i * step with step = (stop - start) / (num - 1), last = stop. */
    static double[] linspace(double start, double stop, int num) {
        double[] v = new double[num];
        double step = num > 1 ? (stop - start) / (num - 1) : 0;
        for (int i = 0; i < num; i++) {
            v[i] = start + i * step;
        }
        if (num > 1) {
            v[num - 1] = stop;
        }
        return v;
    }

    private static int checkSizes(int points, int window, int n, String formula) {
        if (window < 1 || points < 2 || n < 1) {
            throw new IllegalArgumentException("need window >= 1 and " + formula + " >= 1 windows; got points = "
                    + points + ", window = " + window);
        }
        return n;
    }

    /** N windows of T steps as one array: N * T exactly, which must fit a Java array; and a noise to draw with. */
    private static int checkCount(String set, int n, int window, double noise) {
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("noise must be a standard deviation >= 0 (finite), got " + noise);
        }
        long values = (long) n * window; // both < 2^31: exact in a long
        if (values > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(set + ": " + n + " windows of " + window + " steps are " + values
                    + " values; at most " + (Integer.MAX_VALUE - 8) + " fit a Java array");
        }
        return (int) values;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
