// Embedding backward: dW (V, D) += scatter of dout (M, D) into rows ids (M,), duplicates summed. The
// book's TimeEmbedding does this with one np.add.at per time step; here it is one kernel for all T*N rows.
// Shapes V x D x M: PTB-sized (10000 x 650 x 2240 = 35 steps of 64) and the addition set (13 x 16 x 896).
package org.seq4j.bench;

import java.lang.foreign.Arena;
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
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ScatterAddBench {
    @Param({"java", "openblas"})
    public String backend;

    /** V x D x M */
    @Param({"10000x650x2240", "13x16x896"})
    public String vdm;

    private Backend b;
    private Arena arena;
    private Tensor dW, ids, dout;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create(backend);
        arena = Arena.ofShared();
        int[] d = Params.dims("vdm", vdm, "VxDxM");
        Fixtures f = new Fixtures(b, arena, 11);
        dW = f.zeros(d[0], d[1]);
        ids = f.ids(d[0], d[2]);
        dout = f.uniform(-1e-3, 1e-3, d[2], d[1]);
    }

    @Benchmark
    public void embeddingBackward() {
        b.embeddingBackward(dW, ids, dout);
        b.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
