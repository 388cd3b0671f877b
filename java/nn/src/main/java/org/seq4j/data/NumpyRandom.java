// NumPy's legacy random generator (np.random.seed(s) / RandomState(s)), for data the book's code made
// with it: MT19937 seeded by init_genrand, and the legacy algorithms on top — shuffle and permutation
// (Fisher-Yates with bounded integers drawn by masked rejection), random_sample, and randn (the polar
// Box-Muller method, caching the second value). The same seed gives the same numbers as numpy.
package org.seq4j.data;

/**
 * NumPy's legacy random generator (np.random.seed(s) / RandomState(s)): MT19937 with numpy's legacy shuffle,
 * permutation, random_sample and randn, so the same seed gives the same numbers as numpy.
 */
public final class NumpyRandom {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    private final int[] mt = new int[N];
    private int pos;
    private boolean hasGauss;
    private double gauss;

    /**
     * Refuses a seed numpy would refuse, naming {@code op}: for the calls that take a seed and draw with it later (a
     * trainer's shuffle, a loader's options), so that the refusal comes at the call that was given it.
     *
     * @param op   the call, for the message
     * @param seed the seed
     * @return seed, in {@code [0, 2^32)}
     * @throws IllegalArgumentException if the seed is outside that range
     */
    public static long requireSeed(String op, long seed) {
        if (seed < 0 || seed > 0xFFFFFFFFL) {
            throw new IllegalArgumentException(op + ": seed must be between 0 and 2^32 - 1, as numpy requires; got "
                    + seed);
        }
        return seed;
    }

    /**
     * Seeds like np.random.seed(seed).
     *
     * @param seed in {@code [0, 2^32)}, as numpy accepts for an int seed
     * @throws IllegalArgumentException if the seed is outside that range
     */
    public NumpyRandom(long seed) {
        requireSeed("NumpyRandom", seed);
        // init_genrand: mt[i] = 1812433253 * (mt[i-1] ^ (mt[i-1] >>> 30)) + i, all mod 2^32
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        pos = N;
    }

    /**
     * The next raw 32-bit output of MT19937.
     *
     * @return an unsigned value in [0, 2^32)
     */
    public long nextUint32() {
        if (pos >= N) {
            twist();
        }
        int y = mt[pos++];
        // tempering
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xFFFFFFFFL;
    }

    private void twist() {
        for (int k = 0; k < N; k++) {
            int y = (mt[k] & UPPER_MASK) | (mt[(k + 1) % N] & LOWER_MASK);
            mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) == 0 ? 0 : MATRIX_A);
        }
        pos = 0;
    }

    /**
     * A double from 53 random bits, as np.random.random_sample.
     *
     * @return a value in [0, 1)
     */
    public double randomSample() {
        long a = nextUint32() >>> 5; // 27 bits
        long b = nextUint32() >>> 6; // 26 bits
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /**
     * A uniform integer in [0, max], numpy's legacy random_interval: draw 32 bits, keep the smallest all-ones mask
     * covering max, and redraw while the result exceeds max.
     *
     * @param max the largest value, in [0, 2^32)
     * @return the draw
     * @throws IllegalArgumentException if max is outside [0, 2^32)
     */
    public long randomInterval(long max) {
        if (max < 0 || max > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("max must be in [0, 2^32); got " + max);
        }
        if (max == 0) {
            return 0;
        }
        long mask = max;
        mask |= mask >>> 1;
        mask |= mask >>> 2;
        mask |= mask >>> 4;
        mask |= mask >>> 8;
        mask |= mask >>> 16;
        long value;
        do {
            value = nextUint32() & mask;
        } while (value > max);
        return value;
    }

    /**
     * Shuffles {@code a} in place as np.random.shuffle does a 1-d array: for i = n-1 down to 1, swap a[i], a[j],
     * j in [0, i].
     *
     * @param a the array
     * @throws NullPointerException if a is null
     */
    public void shuffle(int[] a) {
        // named, as the other calls name their arguments (a bare "Cannot read the array length because a is null")
        java.util.Objects.requireNonNull(a, "NumpyRandom.shuffle: a is null; expected the array to shuffle");
        for (int i = a.length - 1; i >= 1; i--) {
            int j = (int) randomInterval(i);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }

    /**
     * np.random.permutation(n): 0..n-1 shuffled.
     *
     * @param n the length, at least 0
     * @return a new permutation
     * @throws IllegalArgumentException if n is negative or more than one Java array holds
     */
    public int[] permutation(int n) {
        requireLength("permutation", n);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        shuffle(p);
        return p;
    }

    /**
     * One standard normal value, as np.random.randn / standard_normal (legacy polar method).
     *
     * @return the value
     */
    public double standardNormal() {
        if (hasGauss) {
            hasGauss = false;
            return gauss;
        }
        double x1;
        double x2;
        double r2;
        do {
            x1 = 2.0 * randomSample() - 1.0;
            x2 = 2.0 * randomSample() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        // StrictMath: the fdlibm log, so every JVM gives the same bits
        double f = Math.sqrt(-2.0 * StrictMath.log(r2) / r2);
        gauss = f * x1;
        hasGauss = true;
        return f * x2;
    }

    /**
     * np.random.randn(n).
     *
     * @param n how many values, at least 0
     * @return n standard normal values
     * @throws IllegalArgumentException if n is negative or more than one Java array holds
     */
    public double[] randn(int n) {
        requireLength("randn", n);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = standardNormal();
        }
        return v;
    }

    /** The most elements a Java array holds on every JVM (their soft limit). */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static void requireLength(String method, int n) {
        if (n < 0) {
            throw new IllegalArgumentException(method + ": n must be >= 0, got " + n);
        }
        if (n > MAX_ARRAY) {   // new int[n] / new double[n] was the VM's OutOfMemoryError ("exceeds VM limit")
            throw new IllegalArgumentException(method + ": n = " + n + " is more than the " + MAX_ARRAY
                    + " elements one Java array holds");
        }
    }
}
