// The machine's float32 FMA peak: what no product, however well blocked, can beat. Every core (JMH's
// Threads.MAX) runs CHAINS independent chains of fused multiply-adds on vectors held in registers, enough chains
// to cover the FMA latency on both FMA pipes of the cores measured here (Zen 4: latency 4, two pipes: 8 in flight);
// nothing is loaded or stored in the loop. The vectors are the widest the JVM's Vector API offers on this CPU
// (512 bits with AVX-512; the fork prints the species). On Zen 4 that is no faster than 256-bit vectors (AVX2,
// what OpenBLAS's Haswell kernels use): its 512-bit FMAs run as two 256-bit halves (the same loop in C, 2 threads:
// 230-232 GFLOP/s with 256-bit vectors, 233 with 512-bit); a CPU with 512-bit FMA units doubles it.
// Throughput mode: JMH sums the threads' ops/s, and each op is FLOPS_PER_OP FLOPs whatever the width, so
// Report's GFLOP/s = ops/s x FLOPS_PER_OP / 1e9 (the figure Limits sets the workloads against).
// Why the Vector API: a scalar Math.fma loop measures one lane in 8 or 16; C2 compiles these chains to packed
// vfmadd231ps on registers, within a few percent of the same loop in C, but only where the species is a
// constant in the loop (a species passed as an argument boxes every operation: 40 times slower), so the loop
// names its one species.
package org.seq4j.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(Threads.MAX)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class FmaPeakBench {
    /** Independent FMA chains a loop step: 12 covers latency x pipes on every x86 core since Haswell (8-10). */
    static final int CHAINS = 12;
    /**
     * FLOPs an op does (2 per lane per FMA): 3 x 2^25, a multiple of 2 x CHAINS x lanes for vectors of up to 2^18
     * lanes, so that every op does exactly this many at any width; about 1 ms of one core at 100 GFLOP/s.
     */
    static final long FLOPS_PER_OP = 3L << 25;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private float seed;

    @Setup
    public void setUp() {
        if (FLOPS_PER_OP % (2L * CHAINS * S.length()) != 0) {
            throw new IllegalStateException("FmaPeakBench: " + FLOPS_PER_OP + " FLOPs are no whole number of steps of "
                    + CHAINS + " FMAs on " + S.length() + " lanes");
        }
        System.out.println("FmaPeakBench: " + S + " on " + Runtime.getRuntime().availableProcessors() + " CPUs");
        seed = 0.5f;
    }

    /** FLOPS_PER_OP FLOPs in CHAINS chains a_i = a_i x + y; returns the chains' sum, so none is dead code. */
    @Benchmark
    public float fma() {
        long steps = FLOPS_PER_OP / (2L * CHAINS * S.length());
        FloatVector x = FloatVector.broadcast(S, 0.999999f), y = FloatVector.broadcast(S, 1e-6f);
        FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (long i = 0; i < steps; i++) {
            a0 = a0.fma(x, y);
            a1 = a1.fma(x, y);
            a2 = a2.fma(x, y);
            a3 = a3.fma(x, y);
            a4 = a4.fma(x, y);
            a5 = a5.fma(x, y);
            a6 = a6.fma(x, y);
            a7 = a7.fma(x, y);
            a8 = a8.fma(x, y);
            a9 = a9.fma(x, y);
            a10 = a10.fma(x, y);
            a11 = a11.fma(x, y);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
