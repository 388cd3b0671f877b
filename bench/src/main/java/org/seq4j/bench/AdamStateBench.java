// Adam's update over W1's 150,576 parameters with its state (m, v) normal or subnormal. A parameter whose gradient
// stays 0 (an embedding row of a word absent from the batches) has its m decay by beta1 and its v by beta2 a step,
// into the subnormals (below 1.18e-38), where, rounding to nearest, the decay stalls and they stay (m at 4 x 2^-149,
// v at 500 x 2^-149): every later step meets them. On Intel cores every operation with a subnormal input or result is
// a microcode assist; the CPU kernels flush subnormals in the optimizers' parts (native/cpu/common.h), so "subnormal"
// should take what "normal" does. The state is restored before each call (not timed): a flushing kernel would
// otherwise leave it 0 after the first.
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.util.Arrays;
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
public class AdamStateBench {
    /** W1's parameter count */
    private static final int N = 150_576;

    @Param({"openblas"})
    public String backend;

    /** normal: m, v as after steps with gradients; subnormal: both below Float.MIN_NORMAL, the gradient 0 */
    @Param({"normal", "subnormal"})
    public String state;

    private Backend b;
    private Arena arena;
    private Tensor param, m, v, grad;
    private float[] m0, v0;

    @Setup(Level.Trial)
    public void setUp() {
        Params.choice("state", state, "normal", "subnormal");
        b = Backends.create(backend);
        arena = Arena.ofShared();
        Fixtures f = new Fixtures(b, arena, 31);
        boolean sub = state.equals("subnormal");
        param = f.uniform(-0.1, 0.1, N);
        grad = sub ? f.zeros(N) : f.uniform(-1e-2, 1e-2, N);
        m = f.zeros(N);
        v = f.zeros(N);
        m0 = new float[N];
        v0 = new float[N];
        Arrays.fill(m0, sub ? 0.5f * Float.MIN_NORMAL : 1e-3f);
        Arrays.fill(v0, sub ? 0.25f * Float.MIN_NORMAL : 1e-6f);
    }

    @Setup(Level.Invocation)
    public void restoreState() {
        b.copyIn(m, m0);
        b.copyIn(v, v0);
    }

    @Benchmark
    public void adamUpdate() {
        b.adamUpdate(param, m, v, grad, 1e-3f, 0.9f, 0.999f, 1e-8f);
        b.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
