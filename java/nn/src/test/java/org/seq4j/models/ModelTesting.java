// Helpers for model tests: random batches of token ids, parameters scrambled to a larger scale (so gradient
// checks exercise the non-linearities rather than the near-linear regime of the book's small init), and a
// whole-model central-difference check.
package org.seq4j.models;

import java.lang.foreign.Arena;
import java.util.Random;
import org.seq4j.backend.Backend;
import org.seq4j.layers.GradientCheck;
import org.seq4j.layers.Parameter;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

final class ModelTesting {
    private ModelTesting() {
    }

    /** An (n, t) int32 tensor of ids uniform in [0, v). */
    static Tensor randomIds(Backend backend, Arena arena, Random rng, int n, int t, int v) {
        int[] ids = new int[n * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(v);
        }
        Tensor x = backend.allocate(arena, DType.I32, n, t);
        backend.copyIn(x, ids);
        return x;
    }

    static Tensor ids(Backend backend, Arena arena, int[] ids, int n, int t) {
        Tensor x = backend.allocate(arena, DType.I32, n, t);
        backend.copyIn(x, ids);
        return x;
    }

    static Tensor floats(Backend backend, Arena arena, float[] values, int... shape) {
        Tensor x = backend.allocate(arena, DType.F32, shape);
        backend.copyIn(x, values);
        return x;
    }

    /** Overwrites every parameter with N(0, scale^2) values drawn from rng. */
    static void scramble(Model model, Random rng, double scale) {
        for (Parameter p : model.parameters()) {
            model.store().copyIn(p.name(), GradientCheck.randn(rng, scale, (int) p.size()));
        }
    }

    /**
     * Central differences of {@code loss} for every parameter of {@code model} against the gradient that
     * zeroGrads + loss + backward leaves in the store. Checks at most maxChecks elements per parameter.
     */
    static GradientCheck checkModel(Model model, java.util.function.DoubleSupplier loss, GradientCheck.Tolerance tol,
                                    int maxChecks) {
        model.store().zeroGrads();
        loss.getAsDouble();
        model.backward();
        GradientCheck gc = new GradientCheck(GradientCheck.EPS, tol, maxChecks, 7);
        for (Parameter p : model.parameters()) {
            gc.check(p, loss);
        }
        return gc;
    }
}
