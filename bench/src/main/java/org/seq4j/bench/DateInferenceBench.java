// Batched inference throughput of the book's chapter 8 date model (attention seq2seq, V=59, D=16, H=256): greedy
// generation of whole answers (10 characters) for N = 1 or N = 64 questions of T=29 characters, with the recurrent
// weights in F32 (the default) or BF16 (Model.setInferencePrecision). JMH's ops are generate calls; the
// "questions" counter is the same throughput in questions per second (N per call).
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.seq4j.backend.PackedMatrix;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class DateInferenceBench {
    /** java takes a second or more per N = 64 call: add it with -p backend=java */
    @Param({"openblas"})
    public String backend;

    /** Questions answered per generate call. */
    @Param({"1", "64"})
    public String n;

    /** How the recurrent weights are multiplied: F32 (the default) or BF16. */
    @Param({"F32", "BF16"})
    public String precision;

    static final int V = 59, D = 16, H = 256, T_IN = 29, T_OUT = 10, START = 0;

    private Backend b;
    private Arena arena;
    private AttentionSeq2seq model;
    private Tensor xs;
    private int questions;

    /** Questions answered in this iteration: reported by JMH as a rate, questions per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Questions {
        public long questions;

        @Setup(Level.Iteration)
        public void reset() {
            questions = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        questions = Params.positive("n", n);
        PackedMatrix.Precision inference = Params.choice("precision", precision, PackedMatrix.Precision.class);
        b = Backends.create(backend);
        arena = Arena.ofShared();
        xs = Workloads.ids(b, arena, new SplittableRandom(Workloads.SEED), V, questions, T_IN);   // (N, T_in) batch-major
        model = new AttentionSeq2seq(b, V, D, H, Workloads.SEED);
        model.setInferencePrecision(inference);
        model.generate(xs, START, T_OUT);   // sizes the generation workspaces, packs the weights for BF16
    }

    @Benchmark
    public int[][] generate(Questions counter) {
        int[][] answers = model.generate(xs, START, T_OUT);   // read back to the host: synchronised
        counter.questions += questions;
        return answers;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
        arena.close();
        b.close();
    }
}
