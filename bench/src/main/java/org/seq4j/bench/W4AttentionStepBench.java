// W4: one training step of the book's chapter 8 attention seq2seq at the date set's sizes (V=59, T=29 in /
// 10 out, D=16, H=256, N=128): forward, backward, global-norm clip 5.0, Adam. gemmsOnly replays that
// step's matrix products alone, as in W1.
package org.seq4j.bench;

import java.lang.foreign.Arena;
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
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class W4AttentionStepBench {
    /** java takes seconds per step here: scripts/bench runs it single-shot */
    @Param({"openblas"})
    public String backend;

    static final int V = 59, D = 16, H = 256, N = 128, T_IN = 29, T_OUT = 10;

    private Backend b;
    private Arena arena;
    private AttentionSeq2seq model;
    private Adam adam;
    private Tensor xs, ts;
    private GemmReplay gemms;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create(backend);
        arena = Arena.ofShared();
        SplittableRandom r = new SplittableRandom(Workloads.SEED);
        xs = Workloads.ids(b, arena, r, V, N, T_IN);
        ts = Workloads.ids(b, arena, r, V, N, T_OUT + 1);
        model = new AttentionSeq2seq(b, V, D, H, Workloads.SEED);
        adam = new Adam(0.001f);
        gemms = GemmReplay.record(b, rec -> {
            AttentionSeq2seq twin = new AttentionSeq2seq(rec, V, D, H, Workloads.SEED);
            try (Adam a = new Adam(0.001f)) {
                Workloads.trainStep(twin, a, xs, ts, 5f);
            }
            return twin;
        });
    }

    @Benchmark
    public float step() {
        return Workloads.trainStep(model, adam, xs, ts, 5f);
    }

    @Benchmark
    public void gemmsOnly() {
        gemms.replay();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        gemms.close();
        model.close();
        adam.close();
        arena.close();
        b.close();
    }
}
