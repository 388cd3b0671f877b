// W1: one training step of the book's chapter 7 addition seq2seq (V=13, T=7 in / 4 out, D=16, H=128,
// N=128): forward, backward, global-norm clip 5.0, Adam. gemmsOnly replays just the GEMM calls of that
// same step (recorded once, same tensors), so step / gemmsOnly says how much the rest (gates, softmax,
// embedding, clip, Adam) costs on top of the matrix products. restOnly replays that rest alone (GemmReplay.replayRest:
// the cells, the gathers and scatters, the loss, the clip, Adam), so (gemmsOnly + restOnly) / gemmsOnly is the least
// step / gemmsOnly these kernels allow, each with its data as warm as a loop of the same kernels leaves it, and
// step - gemmsOnly - restOnly what running them together costs on top (their data colder, the other core's lines).
//
// Every iteration trains from the same state: restore (@Setup(Level.Iteration)) puts the model's initial parameter
// values back (copied from a snapshot; the model, its buffers and packs stay) and replaces Adam with a new one (t = 0,
// m and v zero, made by its first step as DJL's Adam makes its own). Before, step trained the one batch ~8,000 times
// through warm-up and measurement and PyTorch's peer ~2,500, so the two were timed at different points of training
// (loss near 0, tiny gradients, maybe subnormals on one side only); the peer now starts each iteration anew too
// (PeerW1Seq2seqStepBench). Within an iteration the faster side still trains further. gemmsOnly and restOnly replay
// the twin's tensors, which restore leaves alone: the recording stays live (GemmReplay keeps their values as a step
// leaves them, see its top).
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
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class W1Seq2seqStepBench {
    @Param({"java", "openblas"})
    public String backend;

    private Backend b;
    private Arena arena;
    private Seq2seq model;
    private Adam adam;
    private Tensor xs, ts;
    private Tensor initial;   // the model's parameter values as built: restore puts them back
    private GemmReplay gemms;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create(backend);
        arena = Arena.ofShared();
        SplittableRandom r = new SplittableRandom(Workloads.SEED);
        xs = Workloads.ids(b, arena, r, 13, 128, 7);
        ts = Workloads.ids(b, arena, r, 13, 128, 5);
        model = new Seq2seq(b, 13, 16, 128, Workloads.SEED);
        initial = Workloads.snapshot(b, arena, model.store());
        // the recorded step's model and optimizer (restOnly replays Adam's update over its m and v)
        gemms = GemmReplay.record(b, rec -> {
            var twin = new Workloads.Twin<>(new Seq2seq(rec, 13, 16, 128, Workloads.SEED), new Adam(Workloads.LR));
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

    @Benchmark
    public void restOnly() {
        gemms.replayRest();
    }

    /** The trained model, for StepBenchStateTest. */
    Seq2seq model() {
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
