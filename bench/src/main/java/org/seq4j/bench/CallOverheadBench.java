// What one call into a tiny native kernel costs: Backend.scale on 16 floats through the whole path
// (AbstractBackend's checks, then the FFM downcall, then 16 multiplications), the bare generated
// downcall without the checks, the same downcall linked with Linker.Option.critical (no thread-state
// transition; legal for short kernels that never call back into Java), and the 16 multiplications as a
// Java loop for scale. Every variant scales by -1, not 1: C2 folds x * 1f to x and may then drop the store of a value
// just loaded from the same address, which would leave the Java loop timing no work (the sign flips every call; the
// values stay bounded and exact).
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.bindings.cpu.seq4j_cpu_h;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CallOverheadBench {
    /** Initialised on first use, after setUp has loaded the library (a static final handle, as the JIT likes). */
    private static final class Critical {
        static final MethodHandle SCALE = Linker.nativeLinker().downcallHandle(
                seq4j_cpu_h.seq4j_scale$address(), seq4j_cpu_h.seq4j_scale$descriptor(), Linker.Option.critical(false));
    }

    private Backend b;
    private Arena arena;
    private Tensor x;
    private MemorySegment raw;

    @Setup(Level.Trial)
    public void setUp() {
        b = Backends.create("openblas");
        arena = Arena.ofShared();
        x = new Fixtures(b, arena, 3).uniform(-1, 1, 16);
        raw = x.segment();
    }

    /** Backend.scale(x, -1): checks + downcall + kernel. */
    @Benchmark
    public void backendScale16() {
        b.scale(x, -1f);
    }

    /** The generated binding alone: downcall + kernel. */
    @Benchmark
    public void downcallScale16() {
        seq4j_cpu_h.seq4j_scale(1, raw, 16, -1f);
    }

    /** The same downcall as a critical one. */
    @Benchmark
    public void criticalDowncallScale16() throws Throwable {
        Critical.SCALE.invokeExact(1, raw, 16L, -1f);
    }

    /** The 16 multiplications in Java, for comparison. */
    @Benchmark
    public void javaLoopScale16() {
        for (long i = 0; i < 16; i++) {
            raw.setAtIndex(ValueLayout.JAVA_FLOAT, i, raw.getAtIndex(ValueLayout.JAVA_FLOAT, i) * -1f);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        b.close();
    }
}
