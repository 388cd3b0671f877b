// How a parameter starts: the book initialises weights with scaled standard normals
// (embed randn/100, Wx randn/sqrt(D), Wh randn/sqrt(H), affine randn/sqrt(fan-in)) and biases with zeros.
package org.seq4j.layers;

import java.util.Random;

public sealed interface Init {

    /** All zeros (the book's biases). */
    record Zeros() implements Init {
    }

    /** Independent draws from N(0, std^2). */
    record Normal(double std) implements Init {
        public Normal {
            if (!(std >= 0) || Double.isInfinite(std)) {
                throw new IllegalArgumentException("Normal init needs a finite std >= 0, got " + std);
            }
        }
    }

    static Init zeros() {
        return new Zeros();
    }

    static Init normal(double std) {
        return new Normal(std);
    }

    /** The book's randn / sqrt(fanIn), used for Wx, Wh and affine weights. */
    static Init scaledNormal(int fanIn) {
        if (fanIn < 1) {
            throw new IllegalArgumentException("fan-in must be >= 1, got " + fanIn);
        }
        return new Normal(1.0 / Math.sqrt(fanIn));
    }

    /** Writes {@code count} initial values into {@code out} from {@code offset}, drawing from {@code rng}. */
    default void fill(float[] out, int offset, int count, Random rng) {
        switch (this) {
            case Zeros z -> java.util.Arrays.fill(out, offset, offset + count, 0f);
            case Normal n -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = (float) (rng.nextGaussian() * n.std());
                }
            }
        }
    }
}
