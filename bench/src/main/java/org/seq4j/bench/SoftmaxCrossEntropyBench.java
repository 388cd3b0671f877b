// Softmax with cross-entropy, forward and backward, over M rows of V logits: a language model's
// output (2240 x 10000: 35 steps of 64, PTB's vocabulary) and the addition decoder's (512 x 13).
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
public class SoftmaxCrossEntropyBench {
    @Param({"java", "openblas"})
    public String backend;

    /** M x V */
    @Param({"2240x10000", "512x13"})
    public String mv;

    private Backend b;
    private Arena arena;
    private Tensor logits, probs, loss, labels, dlogits;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create(backend);
        arena = Arena.ofShared();
        int[] d = Params.dims("mv", mv, "MxV");
        Fixtures f = new Fixtures(b, arena, 13);
        logits = f.uniform(-5, 5, d[0], d[1]);
        probs = f.zeros(d[0], d[1]);
        dlogits = f.zeros(d[0], d[1]);
        loss = f.zeros(1);
        labels = f.ids(d[1], d[0]);
    }

    @Benchmark
    public float forwardBackward() {
        b.softmaxCrossEntropyForward(probs, loss, logits, labels);
        b.softmaxCrossEntropyBackward(dlogits, probs, labels, 1f);
        return b.item(loss, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
