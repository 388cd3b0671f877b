// W2: one LSTM layer, forward and backward, at the book's BetterRnnlm size (N=64, T=35, D=H=650), and the
// scaling sweep: -p h=128,256,512,650,1024 -p t=8,35,128 (D = H). FLOPs per step, GEMMs only:
// 3 x 2 N 4H (T D + (T-1) H), the first recurrent product skipped from h_0 = 0 (Workloads.lstmStepFlops); scripts/bench
// reports GFLOP/s from it.
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
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class W2LstmStepBench {
    /** java takes tens of seconds per step here: scripts/bench runs it single-shot */
    @Param({"openblas"})
    public String backend;

    @Param({"650"})
    public String h;

    @Param({"35"})
    public String t;

    public static final int N = 64;

    private Backend b;
    private Arena arena;
    private ParameterStore params;
    private TimeLSTM lstm;
    private Tensor xs, dhs;

    @Setup(Level.Trial)
    public void setUp() {
        int hidden = Params.positive("h", h), steps = Params.positive("t", t);
        b = Backends.create(backend);
        arena = Arena.ofShared();
        Fixtures f = new Fixtures(b, arena, Workloads.SEED);
        params = Workloads.lstmParameters(b, hidden, hidden);
        lstm = Workloads.lstm(b, params, false);
        xs = f.uniform(-1, 1, steps, N, hidden);     // (T, N, D) time-major
        dhs = f.uniform(-1, 1, steps, N, hidden);    // (T, N, H) the loss gradient arriving at hs
    }

    @Benchmark
    public Tensor forwardBackward() {
        lstm.forward(xs);
        Tensor dxs = lstm.backward(dhs);
        params.zeroGrads();
        b.synchronize();
        return dxs;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        lstm.close();
        params.close();
        arena.close();
        b.close();
    }
}
