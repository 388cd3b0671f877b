// How a shared test case allocates the tensors it writes: plainly (ConformanceTest) or, on the device side, between
// guard bands that check() asserts are untouched (SizeSweepTest.Guarded). The case bodies take one and call
// check() once their kernels have run; the plain one's check does nothing.
package org.seq4j.testing;

import org.seq4j.tensor.DType;
import org.seq4j.testing.Both.Pair;

public interface Outputs {
    /** A pair holding host's values, shaped shape. */
    Pair f32(String name, float[] host, int... shape);

    /** A pair of uniform floats in [lo, hi), drawn from the fixture's random source as Both.uniformPair does. */
    Pair uniform(String name, double lo, double hi, int... shape);

    /** A pair of zeros. */
    Pair zeros(String name, int... shape);

    /** Asserts whatever the allocation promises about the memory around the outputs; what names the case. */
    void check(String what);

    /** Plain pairs from b, nothing around them; check does nothing. */
    static Outputs plain(Both b) {
        return new Outputs() {
            @Override
            public Pair f32(String name, float[] host, int... shape) {
                return b.f32(host, shape);
            }

            @Override
            public Pair uniform(String name, double lo, double hi, int... shape) {
                return b.uniformPair(lo, hi, shape);
            }

            @Override
            public Pair zeros(String name, int... shape) {
                return b.zeros(DType.F32, shape);
            }

            @Override
            public void check(String what) {
            }
        };
    }
}
