// W3: LSTM inference for one date-format question: embedding (V=59, D=16) then an LSTM (H=256) over its
// T=29 characters, N=1, forward only. This is latency, not throughput: 29 dependent (1 x 256) . (256 x
// 1024) products and cell updates, where per-call overhead shows. precision BF16 multiplies by a bfloat16 copy of
// Wh (TimeLSTM.setInferencePrecision; packed once in setUp, float32 accumulation): half the bytes per step.
// The call is the date model's encoder's (models.Encoder.encode): lstm.forward(embed, ids). Over unchanged weights
// the layer keeps Wh packed (F32 too) and, once forwards have projected V = 59 tokens, the table E Wx + b (V, 4H)
// (FoldedInput): an encode then gathers 29 rows of it instead of forming x (29, 16) and the product x Wx.
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
import org.seq4j.backend.PackedMatrix;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.tensor.Tensor;

@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class W3LstmInferenceBench {
    @Param({"java", "openblas"})
    public String backend;

    /** How the recurrent weights are multiplied: F32 (the default, as trained) or BF16 (inference opt-in). */
    @Param({"F32", "BF16"})
    public String precision;

    static final int V = 59, D = 16, H = 256, T = 29;

    private Backend b;
    private Arena arena;
    private ParameterStore params;
    private TimeEmbedding embed;
    private TimeLSTM lstm;
    private Tensor ids;

    @Setup(Level.Trial)
    public void setUp() {
        PackedMatrix.Precision inference = Params.choice("precision", precision, PackedMatrix.Precision.class);
        b = Backends.create(backend);
        arena = Arena.ofShared();
        params = ParameterStore.builder(b)
                .declare("embed.W", Init.normal(0.01), V, D)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H)
                .declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.zeros(), 4 * H)
                .build(Workloads.SEED);
        embed = new TimeEmbedding(b, params.get("embed.W"));
        lstm = Workloads.lstm(b, params, false);
        ids = Workloads.ids(b, arena, new SplittableRandom(Workloads.SEED), V, T, 1); // (T, N=1) time-major
        lstm.setInferencePrecision(inference);
        for (int i = 0; i < 3; i++) {   // packs Wh, then (the third, 87 tokens > V) makes the table E Wx + b
            lstm.forward(embed, ids);
        }
    }

    @Benchmark
    public Tensor encode() {
        Tensor hs = lstm.forward(embed, ids);
        b.synchronize();
        return hs;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        lstm.close();
        embed.close();
        params.close();
        arena.close();
        b.close();
    }
}
