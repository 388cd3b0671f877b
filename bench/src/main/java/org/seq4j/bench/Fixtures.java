// Seeded tensors for benchmarks, on whichever backend a benchmark's @Param names.
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

final class Fixtures {
    private final Backend backend;
    private final Arena arena;
    private final SplittableRandom random;

    Fixtures(Backend backend, Arena arena, long seed) {
        this.backend = backend;
        this.arena = arena;
        this.random = new SplittableRandom(seed);
    }

    /** Uniform floats in [lo, hi) on the backend's device. */
    Tensor uniform(double lo, double hi, int... shape) {
        Tensor t = backend.allocate(arena, DType.F32, shape);
        float[] v = new float[Math.toIntExact(t.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble(lo, hi);
        }
        backend.copyIn(t, v);
        return t;
    }

    /** Uniform ints in [0, bound) on the backend's device. */
    Tensor ids(int bound, int... shape) {
        Tensor t = backend.allocate(arena, DType.I32, shape);
        int[] v = new int[Math.toIntExact(t.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextInt(bound);
        }
        backend.copyIn(t, v);
        return t;
    }

    Tensor zeros(int... shape) {
        return backend.allocate(arena, DType.F32, shape);
    }
}
