// A counter-based uniform random number: u(seed, i) in [0, 1), a pure function of its arguments, so
// Java, C and CUDA kernels draw identical dropout masks without sharing generator state.
// SplitMix64 (Steele, Lea, Flood 2014) of seed + (i + 1) * golden gamma; the top 24 bits make the float.
// native/cpu/elementwise.c and native/cuda/*.cu implement the same function; the conformance suite checks it.
package org.seq4j.backend;

import org.seq4j.backend.internal.SplitMix64;

// Package-private: the Java reference's dropout draws from it; the C and CUDA kernels have their own copy.
/** The counter-based uniform random numbers that dropout masks are drawn from, identical in Java, C and CUDA. */
final class CounterRandom {
    private CounterRandom() {
    }

    /**
     * u(seed, i): SplitMix64 of {@code seed + (i + 1) * 0x9E3779B97F4A7C15}, top 24 bits as a float.
     *
     * @param seed the stream
     * @param i    the element index
     * @return a uniform number in [0, 1), a multiple of 2^-24
     */
    static float uniform(long seed, long i) {
        return (SplitMix64.mix(seed + (i + 1) * SplitMix64.GOLDEN) >>> 40) * 0x1.0p-24f;
    }
}
