// SplitMix64 (Steele, Lea, Flood 2014): the increment and the finaliser that seq4j's counter-based random numbers
// are built from (dropout masks in CounterRandom, generate's per-row sampling in AbstractRnnlm). Internal:
// exported to org.seq4j.nn only, as the other classes of this package are.
package org.seq4j.backend.internal;

/** SplitMix64's golden-ratio increment and its finaliser. */
public final class SplitMix64 {
    /** The increment: the golden ratio's odd 64-bit fraction. */
    public static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private SplitMix64() {
    }

    /**
     * The finaliser (Stafford's variant 13): a bijection of 64 bits that mixes every bit into every other.
     *
     * @param z the state after its increment
     * @return the mixed value
     */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
