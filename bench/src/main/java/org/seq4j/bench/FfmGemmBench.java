// The same cblas_sgemm call that bench/c/sgemm_bench.c makes from C, made from Java through the generated
// FFM binding: OpenBLAS with its own threads (one per core), row-major, no seq4j code in between. Against
// the C harness this isolates what the FFM downcall costs; GemmBench measures the backend's path
// (seq4j's pool splitting C, OpenBLAS single-threaded inside). OpenBlasLibrary.setThreads is internal to seq4j-core
// (not exported: it changes every backend's OpenBLAS); the benches run on the class path, where it is reachable.
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.seq4j.backend.internal.OpenBlasLibrary;
import org.seq4j.bindings.cblas.cblas_h;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FfmGemmBench {
    @Param({"512x512x512", "1024x1024x1024"})
    public String mnk;

    private Arena arena;
    private MemorySegment a, b, c;
    private int m, n, k;

    @Setup(Level.Trial)
    public void setUp() {
        OpenBlasLibrary.load();
        // as many threads as seq4j's side runs (one per core, or SEQ4J_THREADS / -Dseq4j.threads): the sgemm that W2's
        // GFLOP/s is set against ran one per core whatever seq4j's W2 was given
        OpenBlasLibrary.setThreads(org.seq4j.backend.BackendConfig.fromEnvironment().effectiveThreads());
        int[] d = Params.dims("mnk", mnk, "MxNxK");
        m = d[0];
        n = d[1];
        k = d[2];
        arena = Arena.ofShared();
        SplittableRandom r = new SplittableRandom(42);
        a = random(r, (long) m * k);
        b = random(r, (long) k * n);
        c = arena.allocate((long) m * n * Float.BYTES, 64);
    }

    private MemorySegment random(SplittableRandom r, long count) {
        MemorySegment s = arena.allocate(count * Float.BYTES, 64);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextDouble(-1, 1));
        }
        return s;
    }

    @Benchmark
    public void cblasSgemm() {
        cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), cblas_h.CblasNoTrans(), cblas_h.CblasNoTrans(), m, n, k,
                1f, a, k, b, n, 0f, c, n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }
}
