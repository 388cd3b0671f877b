// How a parameter starts: the book initialises weights with scaled standard normals
// (embed randn/100, Wx randn/sqrt(D), Wh randn/sqrt(H), affine randn/sqrt(fan-in)) and biases with zeros.
package org.seq4j.layers;

import java.util.Random;

/**
 * How a parameter starts: the book initialises weights with scaled standard normals (embed randn/100,
 * Wx randn/sqrt(D), Wh randn/sqrt(H), affine randn/sqrt(fan-in)) and biases with zeros.
 */
public sealed interface Init {

    /** All zeros (the book's biases). */
    record Zeros() implements Init {
    }

    /**
     * Independent draws from N(0, std^2).
     *
     * @param std the standard deviation, from 0 to {@link #MAX_STD}
     */
    record Normal(double std) implements Init {
        /**
         * The largest std: float32 values up to about 3.4e38 hold its draws with room for the farthest ones (a draw
         * past 10^8 standard deviations never comes). A std of 1e39 was taken, and its float32 parameters were
         * all infinite.
         */
        public static final double MAX_STD = 1e30;

        /**
         * Checks std.
         *
         * @throws IllegalArgumentException if std is negative, NaN, or above MAX_STD
         */
        public Normal {
            if (!(std >= 0 && std <= MAX_STD)) {
                throw new IllegalArgumentException("Normal init needs a std from 0 to " + MAX_STD + " (its draws are "
                        + "float32 values), got " + std);
            }
        }
    }

    /**
     * Every value the same (a layer normalisation's gain of 1, a gate's bias of -1).
     *
     * @param value the value, finite
     */
    record Constant(float value) implements Init {
        /**
         * Checks value.
         *
         * @throws IllegalArgumentException if value is NaN or infinite
         */
        public Constant {
            if (!Float.isFinite(value)) {
                throw new IllegalArgumentException("Constant init needs a finite value, got " + value);
            }
        }
    }

    /**
     * All zeros (the book's biases).
     *
     * @return the initializer
     */
    static Init zeros() {
        return new Zeros();
    }

    /**
     * Every value {@code value}.
     *
     * @param value the value, finite
     * @return the initializer
     * @throws IllegalArgumentException if value is NaN or infinite
     */
    static Init constant(float value) {
        return new Constant(value);
    }

    /**
     * Draws from N(0, std^2), e.g. the book's embedding randn / 100 is {@code normal(0.01)}.
     *
     * @param std the standard deviation, from 0 to {@link Normal#MAX_STD}
     * @return the initializer
     * @throws IllegalArgumentException if std is negative, NaN, or above Normal.MAX_STD
     */
    static Init normal(double std) {
        return new Normal(std);
    }

    /**
     * The book's randn / sqrt(fanIn), used for Wx, Wh and affine weights.
     *
     * @param fanIn the number of inputs of each unit, {@code > 0}
     * @return the initializer
     * @throws IllegalArgumentException if fanIn is not positive
     */
    static Init scaledNormal(int fanIn) {
        if (fanIn < 1) {
            throw new IllegalArgumentException("fan-in must be >= 1, got " + fanIn);
        }
        return new Normal(1.0 / Math.sqrt(fanIn));
    }

    /**
     * Writes {@code count} initial values into {@code out} from {@code offset}, drawing from {@code rng}.
     *
     * @param out    the destination
     * @param offset the first index written
     * @param count  how many values
     * @param rng    the source of randomness (seeded by the caller; only Normal draws from it)
     * @throws NullPointerException if out is null, or rng is null for a Normal
     * @throws IndexOutOfBoundsException if [offset, offset + count) is not within out
     */
    default void fill(float[] out, int offset, int count, Random rng) {
        java.util.Objects.requireNonNull(out, "Init.fill: out is null; expected the array to write");
        if (offset < 0 || count < 0 || offset > out.length - count) {
            throw new IndexOutOfBoundsException("Init.fill: offset " + offset + " and count " + count + " reach outside"
                    + " out (length " + out.length + "); expected 0 <= offset and 0 <= count with offset + count <= "
                    + out.length);
        }
        if (rng == null && this instanceof Normal) {   // the others draw nothing: a null one is fine there
            throw new NullPointerException("Init.fill: rng is null; expected the seeded Random that " + this
                    + " draws from");
        }
        switch (this) {
            case Zeros z -> java.util.Arrays.fill(out, offset, offset + count, 0f);
            case Constant c -> java.util.Arrays.fill(out, offset, offset + count, c.value());
            case Normal n -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = (float) (rng.nextGaussian() * n.std());
                }
            }
        }
    }
}
