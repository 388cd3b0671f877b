// Test fixture: the same inputs on the reference backend and on the backend under test, and a
// comparison of outputs with |got - ref| <= atol + rtol * |ref| that reports index, values and max diff.
package org.seq4j.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public final class Both implements AutoCloseable {
    /** A tensor on the reference backend (r) and its twin on the backend under test (d). */
    public record Pair(Tensor r, Tensor d) {
    }

    public final Backend ref;
    public final Backend dev;
    private final Arena arena = Arena.ofConfined();
    private final SplittableRandom random;

    public Both(Backend dev, long seed) {
        this.ref = TestBackends.reference();
        this.dev = dev;
        this.random = new SplittableRandom(seed);
    }

    /** Uniform floats in [lo, hi). */
    public float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(lo, hi);
        }
        return a;
    }

    /** Uniform ints in [lo, hi). */
    public int[] ints(int n, int lo, int hi) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextInt(lo, hi);
        }
        return a;
    }

    public Pair f32(float[] host, int... shape) {
        Pair p = zeros(DType.F32, shape);
        ref.copyIn(p.r, host);
        dev.copyIn(p.d, host);
        return p;
    }

    public Pair i32(int[] host, int... shape) {
        Pair p = zeros(DType.I32, shape);
        ref.copyIn(p.r, host);
        dev.copyIn(p.d, host);
        return p;
    }

    public Pair zeros(DType dtype, int... shape) {
        return new Pair(ref.allocate(arena, dtype, shape), dev.allocate(arena, dtype, shape));
    }

    public Pair uniformPair(double lo, double hi, int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return f32(uniform(Math.toIntExact(n), lo, hi), shape);
    }

    public Arena arena() {
        return arena;
    }

    public float[] refValues(Tensor t) {
        float[] a = new float[Math.toIntExact(t.size())];
        ref.copyOut(a, t);
        return a;
    }

    public float[] devValues(Tensor t) {
        float[] a = new float[Math.toIntExact(t.size())];
        dev.copyOut(a, t);
        return a;
    }

    /** Asserts that the two sides agree element-wise within atol + rtol * |ref|. */
    public void assertClose(String what, Pair p, double atol, double rtol) {
        assertClose(what, refValues(p.r), devValues(p.d), atol, rtol);
    }

    /** Asserts exact (bitwise for floats, NaN equal to NaN) agreement. */
    public void assertExact(String what, Pair p) {
        if (p.r.dtype() == DType.I32) {
            int[] r = new int[Math.toIntExact(p.r.size())], d = new int[r.length];
            ref.copyOut(r, p.r);
            dev.copyOut(d, p.d);
            for (int i = 0; i < r.length; i++) {
                if (r[i] != d[i]) {
                    fail(what + " on " + dev.name() + ": index " + i + " is " + d[i] + ", reference " + r[i]);
                }
            }
            return;
        }
        float[] r = refValues(p.r), d = devValues(p.d);
        for (int i = 0; i < r.length; i++) {
            if (Float.floatToIntBits(r[i]) != Float.floatToIntBits(d[i])) {
                fail(what + " on " + dev.name() + ": index " + i + " is " + d[i] + ", reference " + r[i]
                        + " (expected bitwise equal)");
            }
        }
    }

    public void assertClose(String what, float[] r, float[] d, double atol, double rtol) {
        double maxDiff = 0;
        int worst = -1;
        int bad = 0;
        for (int i = 0; i < r.length; i++) {
            double diff = Math.abs((double) d[i] - r[i]);
            boolean ok = diff <= atol + rtol * Math.abs(r[i]) || (Float.isNaN(r[i]) && Float.isNaN(d[i]));
            if (!ok || Double.isNaN(diff)) {
                bad++;
                if (worst < 0 || diff > maxDiff || Double.isNaN(diff)) {
                    worst = i;
                }
            }
            if (diff > maxDiff) {
                maxDiff = diff;
            }
        }
        if (bad > 0) {
            fail(String.format("%s on %s: %d of %d elements differ beyond atol %.3g + rtol %.3g*|ref|; worst at index %d: "
                            + "got %.9g, reference %.9g; max |diff| %.3g", what, dev.name(), bad, r.length, atol, rtol,
                    worst, d[worst], r[worst], maxDiff));
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
