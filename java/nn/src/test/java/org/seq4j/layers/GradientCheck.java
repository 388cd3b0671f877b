// Central-difference gradient checking on the java reference backend: perturbs one element of a host tensor
// at a time by +-eps, re-runs the loss, and compares (L+ - L-) / (h+ + h-) with the analytic gradient.
// h+ and h- are the steps float32 really took (fl(x + eps) - x), not eps itself.
//
// Float32 arithmetic bounds what can be checked: the loss is rounded to about 1e-7 relative, so the numeric
// derivative carries noise of about 1e-7 |L| / eps, and the truncation error is about eps^2 |f'''| / 6.
// With eps = 1e-2 and losses of order 1 both stay near 1e-5, well under the tolerances the tests state.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

public final class GradientCheck {
    /** Default step: large enough that float32 rounding noise stays small, small enough for the curvature. */
    public static final double EPS = 1e-2;

    /** |analytic - numeric| <= atol + rtol * |numeric| for every checked element. */
    public record Tolerance(double atol, double rtol) {
        boolean accepts(double analytic, double numeric) {
            return Math.abs(analytic - numeric) <= atol + rtol * Math.abs(numeric);
        }
    }

    /** Outcome of checking one tensor. */
    public record Result(String name, int checked, int failures, double maxDiff, String firstFailure,
                         double maxAbsAnalytic) {
        public boolean ok() {
            return failures == 0;
        }

        @Override
        public String toString() {
            return name + ": " + checked + " elements checked, " + failures + " outside tolerance, max |diff| "
                    + String.format("%.3g", maxDiff) + ", max |grad| " + String.format("%.3g", maxAbsAnalytic)
                    + (firstFailure == null ? "" : "; first: " + firstFailure);
        }
    }

    private final double eps;
    private final Tolerance tol;
    private final int maxChecks;
    private final long seed;
    private final List<Result> results = new ArrayList<>();

    public GradientCheck(double eps, Tolerance tol, int maxChecks, long seed) {
        this.eps = eps;
        this.tol = tol;
        this.maxChecks = maxChecks;
        this.seed = seed;
    }

    public GradientCheck(Tolerance tol) {
        this(EPS, tol, 400, 42);
    }

    /**
     * Checks {@code analytic} (the gradient of loss w.r.t. x, taken before this call) against central differences
     * of {@code loss} w.r.t. x, for every element or a seeded sample of maxChecks elements. x must be a host
     * float32 tensor that the loss reads; it is restored afterwards.
     */
    public Result check(String name, Tensor x, float[] analytic, DoubleSupplier loss) {
        return check(name, x, analytic, loss, () -> { });
    }

    /** As check(name, x, analytic, loss), calling {@code written} after every write to x. */
    private Result check(String name, Tensor x, float[] analytic, DoubleSupplier loss, Runnable written) {
        if (analytic.length != x.size()) {
            throw new IllegalArgumentException(name + ": analytic gradient has " + analytic.length + " elements, x "
                    + x.size());
        }
        int size = (int) x.size();
        int[] indices = sample(size);
        int failures = 0;
        double maxDiff = 0, maxAbs = 0;
        String first = null;
        for (int i : indices) {
            float orig = x.getFloat(i);
            float up = (float) (orig + eps);
            float down = (float) (orig - eps);
            x.setFloat(i, up);
            written.run();
            double lUp = loss.getAsDouble();
            x.setFloat(i, down);
            written.run();
            double lDown = loss.getAsDouble();
            x.setFloat(i, orig);
            written.run();
            double numeric = (lUp - lDown) / ((double) up - (double) down);
            double a = analytic[i];
            double diff = Math.abs(a - numeric);
            maxDiff = Math.max(maxDiff, diff);
            maxAbs = Math.max(maxAbs, Math.abs(a));
            if (!tol.accepts(a, numeric)) {
                if (first == null) {
                    first = "index " + i + ": analytic " + a + ", numeric " + numeric + ", diff " + diff;
                }
                failures++;
            }
        }
        Result r = new Result(name, indices.length, failures, maxDiff, first, maxAbs);
        results.add(r);
        return r;
    }

    /**
     * Checks a parameter's gradient, read from its grad tensor now. Each perturbation advances p.version(), so that
     * copies derived from the value (packed weights) are made again before the loss reads it.
     */
    public Result check(Parameter p, DoubleSupplier loss) {
        return check(p.name(), p.value(), p.grad().toFloatArray(), loss, p.version()::advance);
    }

    /** Every result so far. */
    public List<Result> results() {
        return results;
    }

    /** Fails with every result listed if any check failed; also fails if nothing had a gradient to check. */
    public void assertAllOk() {
        StringBuilder sb = new StringBuilder();
        boolean ok = true;
        for (Result r : results) {
            ok &= r.ok();
            sb.append("\n  ").append(r);
        }
        if (System.getenv("SEQ4J_GRADCHECK_VERBOSE") != null) {
            System.out.println("gradient check (tolerance " + tol + ", eps " + eps + "):" + sb);
        }
        assertTrue(!results.isEmpty(), "no gradients were checked");
        assertTrue(ok, "gradient check failed (tolerance " + tol + ", eps " + eps + "):" + sb);
        for (Result r : results) {
            assertTrue(r.maxAbsAnalytic() > 0, "gradient " + r.name() + " is all zero, so the check proves nothing");
        }
    }

    private int[] sample(int size) {
        if (size <= maxChecks) {
            int[] all = new int[size];
            for (int i = 0; i < size; i++) {
                all[i] = i;
            }
            return all;
        }
        // a seeded sample without repeats (partial Fisher-Yates)
        int[] perm = new int[size];
        for (int i = 0; i < size; i++) {
            perm[i] = i;
        }
        Random rng = new Random(seed + size);
        for (int i = 0; i < maxChecks; i++) {
            int j = i + rng.nextInt(size - i);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return java.util.Arrays.copyOf(perm, maxChecks);
    }

    // ---- helpers for building checks -----------------------------------------------------------------------

    /** sum_i out[i] * r[i] in double: a scalar loss whose gradient w.r.t. out is r. */
    public static double dot(Tensor out, float[] r) {
        if (out.size() != r.length) {
            throw new IllegalArgumentException("dot: " + out + " vs " + r.length + " weights");
        }
        double s = 0;
        for (int i = 0; i < r.length; i++) {
            s += (double) out.getFloat(i) * r[i];
        }
        return s;
    }

    /** Standard normal values times scale, seeded. */
    public static float[] randn(Random rng, double scale, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextGaussian() * scale);
        }
        return a;
    }

    /** A float32 tensor holding {@code values}, allocated in {@code ws}. */
    public static Tensor tensor(Backend backend, Workspace ws, float[] values, int... shape) {
        Tensor t = ws.floats(shape);
        backend.copyIn(t, values);
        return t;
    }

    /** An int32 tensor holding {@code values}, allocated in {@code ws}. */
    public static Tensor ints(Backend backend, Workspace ws, int[] values, int... shape) {
        Tensor t = ws.ints(shape);
        backend.copyIn(t, values);
        return t;
    }
}
