// W4: one training step of the book's chapter 8 attention seq2seq at the date set's sizes (V=59, T=29 in /
// 10 out, D=16, H=256, N=128): forward, backward, global-norm clip 5.0, Adam. gemmsOnly replays that
// step's matrix products alone, as in W1: those of the twin's second step, its first (what a first step allocates
// and packs, which later steps do not) run unrecorded.
//
// Every iteration trains from the same state: restore (@Setup(Level.Iteration)) puts the model's initial parameter
// values back and replaces Adam with a new one, as in W1Seq2seqStepBench (see there why); the peer,
// PeerW4AttentionStepBench, builds its model and Adam anew each iteration. gemmsOnly replays the twin's tensors, which
// restore leaves alone.
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
    private Tensor initial;   // the model's parameter values as built: restore puts them back
    private GemmReplay gemms;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create(backend);
        arena = Arena.ofShared();
        SplittableRandom r = new SplittableRandom(Workloads.SEED);
        xs = Workloads.ids(b, arena, r, V, N, T_IN);
        ts = Workloads.ids(b, arena, r, V, N, T_OUT + 1);
        model = new AttentionSeq2seq(b, V, D, H, Workloads.SEED);
        initial = Workloads.snapshot(b, arena, model.store());
        gemms = GemmReplay.record(b, rec -> {
            var twin = new Workloads.Twin<>(new AttentionSeq2seq(rec, V, D, H, Workloads.SEED), new Adam(Workloads.LR));
            Workloads.trainStep(twin.model(), twin.adam(), xs, ts, 5f); // what a first step allocates: not recorded
            return twin;
        }, twin -> Workloads.trainStep(twin.model(), twin.adam(), xs, ts, 5f));
    }

    /** The model's parameters back to their initial values and a new Adam: each iteration trains from the start. */
    @Setup(Level.Iteration)
    public void restore() {
        adam = Workloads.restore(b, model.store(), initial, adam);
    }

    @Benchmark
    public float step() {
        return Workloads.trainStep(model, adam, xs, ts, 5f);
    }

    @Benchmark
    public void gemmsOnly() {
        gemms.replay();
    }

    /** The trained model, for StepBenchStateTest. */
    AttentionSeq2seq model() {
        return model;
    }

    /** The recording gemmsOnly replays, for StepBenchStateTest. */
    GemmReplay gemms() {
        return gemms;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        gemms.close();
        if (adam != null) {
            adam.close();
        }
        model.close();
        arena.close();
        b.close();
    }
}
