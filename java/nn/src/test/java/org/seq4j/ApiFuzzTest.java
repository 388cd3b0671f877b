// A reflective boundary-value fuzzer over seq4j-nn's public API (org.seq4j.layers, models, optim, train, data, io;
// org.seq4j.dist needs MPI and is left out). Every public class of those packages is found by scanning the module's
// classes; every public constructor and method is called with a valid baseline argument list and then with each
// argument in turn replaced by its boundary values (0, -1, MIN, MAX, NaN, +-Infinity, null, empty and ragged arrays,
// tensors of the wrong dtype, rank or size, a closed arena's tensor ...), plus seeded random mixes. Receivers are small
// valid instances (V = 5, D = 3, H = 4), made fresh for each call on the worker thread (a model is confined to the
// thread that uses it), over the java backend and every other backend of the run that loads (TestBackends.all()).
//
// A call may return, or throw a clear refusal: IllegalArgumentException, IllegalStateException, NullPointerException,
// UnsupportedOperationException, IndexOutOfBoundsException, a declared IOException or one of seq4j's own exceptions,
// with a one-line message that names the class, the method or the argument. Anything else is a finding: an
// ArithmeticException, NegativeArraySizeException, ClassCastException, ArrayStoreException, an Error, an exception
// without a message or with several lines, a message that names no call, an FFM-internal message ("segment",
// "byte offset", "Already closed", "outside owning thread"), or a call running past its time limit (a hang, or an
// allocation of many GiB for a model no one can hold). -Dseq4j.fuzz.mixes=N raises the number of random mixes per
// executable (default 2) for a long local run; -Dseq4j.fuzz.seed=S changes the seed.
package org.seq4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.HostFloats;
import org.seq4j.data.NumpyRandom;
import org.seq4j.data.SequencePairs;
import org.seq4j.data.WordVocabulary;
import org.seq4j.io.NpyArray;
import org.seq4j.layers.Affine;
import org.seq4j.layers.Attention;
import org.seq4j.layers.AttentionWeight;
import org.seq4j.layers.CallOrder;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Embedding;
import org.seq4j.layers.GRU;
import org.seq4j.layers.Init;
import org.seq4j.layers.LSTM;
import org.seq4j.layers.MatMul;
import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.RNN;
import org.seq4j.layers.Sigmoid;
import org.seq4j.layers.Softmax;
import org.seq4j.layers.SoftmaxWithLoss;
import org.seq4j.layers.StepViews;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeAttention;
import org.seq4j.layers.TimeBiRecurrent;
import org.seq4j.layers.TimeDropout;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeGRU;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.TimeMSE;
import org.seq4j.layers.TimeRNN;
import org.seq4j.layers.TimeSoftmaxWithLoss;
import org.seq4j.layers.WeightSum;
import org.seq4j.layers.Workspace;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.models.BetterRnnlm;
import org.seq4j.models.PeekySeq2seq;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seq;
import org.seq4j.models.SimpleRnnlm;
import org.seq4j.models.WavePredictor;
import org.seq4j.models.WaveSeq2seq;
import org.seq4j.optim.AdaGrad;
import org.seq4j.optim.Adam;
import org.seq4j.optim.Momentum;
import org.seq4j.optim.RMSprop;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.History;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.Trainer;

class ApiFuzzTest {
    static final int V = 5, D = 3, H = 4;
    static final List<String> PACKAGES = List.of("org.seq4j.layers", "org.seq4j.models", "org.seq4j.optim",
            "org.seq4j.train", "org.seq4j.data", "org.seq4j.io");
    static final long SEED = Long.getLong("seq4j.fuzz.seed", 139);
    static final int MIXES = Integer.getInteger("seq4j.fuzz.mixes", 2);
    static final long CALL_LIMIT_MS = 10_000;
    static final int SEQUENCES = Integer.getInteger("seq4j.fuzz.sequences", 8);
    static final int SEQUENCE_LENGTH = 5;

    /**
     * Public classes that get no receiver, with the reason: their instance methods are not called (static methods and
     * constructors still are). The coverage check fails for any public class with public instance methods that is
     * neither here nor made by a factory below, so a new class cannot slip past the fuzzer.
     */
    static final Map<String, String> NO_RECEIVER = Map.ofEntries(
            Map.entry("org.seq4j.models.AbstractRnnlm$Network", "internal network of a language model, made by it"),
            Map.entry("org.seq4j.models.Beam$Steps", "callback a model implements for Beam; reached via beamSearch"),
            Map.entry("org.seq4j.train.RunFolder$Write", "callback; reached via RunFolder.write"),
            Map.entry("org.seq4j.io.AtomicOutput$Content", "callback; reached via AtomicOutput.write"),
            Map.entry("org.seq4j.train.Trainer$Listener", "callback; reached via fitEpoch"),
            Map.entry("org.seq4j.train.Batches", "made by Batches' static factories, which are fuzzed"),
            Map.entry("org.seq4j.layers.TimeRecurrent", "sealed: TimeLSTM and TimeGRU are fuzzed"),
            Map.entry("org.seq4j.models.SequenceEncoder", "implemented by Encoder/AttentionEncoder, fuzzed"),
            Map.entry("org.seq4j.models.SequenceDecoder", "implemented by the decoders, fuzzed"),
            Map.entry("org.seq4j.io.NpzFile", "opened by Npz.load, fuzzed with a saved file"),
            Map.entry("org.seq4j.io.NpzWriter", "opened by Npz/NpzWriter statics"),
            Map.entry("org.seq4j.io.AtomicOutput", "opened by AtomicOutput.open, fuzzed statically"),
            Map.entry("org.seq4j.train.RunFolder", "opened by RunFolder.open, fuzzed statically"));

    @TempDir
    Path dir;

    record Finding(String call, String args, String what) {
        @Override
        public String toString() {
            return call + "(" + args + "): " + what;
        }
    }

    /** What a call needs: its backend, an arena for the tensors it is given, and a folder for files. */
    static final class Ctx implements AutoCloseable {
        final Backend backend;
        final Arena arena = Arena.ofConfined();
        final Path dir;
        final List<AutoCloseable> owned = new ArrayList<>();

        Ctx(Backend backend, Path dir) {
            this.backend = backend;
            this.dir = dir;
        }

        <T> T own(T o) {
            // not the shared backend (a receiver's backend() returns it) nor an arena
            if (o instanceof AutoCloseable c && !(o instanceof Backend) && !(o instanceof Arena)) {
                owned.add(c);
            }
            return o;
        }

        Tensor f32(float[] v, int... shape) {
            Tensor t = backend.allocate(arena, DType.F32, shape);
            backend.copyIn(t, v);
            return t;
        }

        Tensor i32(int[] v, int... shape) {
            Tensor t = backend.allocate(arena, DType.I32, shape);
            backend.copyIn(t, v);
            return t;
        }

        Tensor closed() {
            Arena a = Arena.ofConfined();
            Tensor t = backend.allocate(a, DType.F32, 2, 3);
            a.close();
            return t;
        }

        ParameterStore store(Function<ParameterStore.Builder, ParameterStore.Builder> declare) {
            return own(declare.apply(ParameterStore.builder(backend)).build(1));
        }

        Parameter param(int... shape) {
            return store(b -> b.declare("p", new Init.Normal(0.1), shape)).get("p");
        }

        @Override
        public void close() {
            for (int i = owned.size() - 1; i >= 0; i--) {
                try {
                    owned.get(i).close();
                } catch (Exception | Error ignored) {
                    // a receiver the call broke or closed: nothing to check here
                }
            }
            arena.close();
        }
    }

    /** Receivers: a fresh small valid instance of each class, made on the worker thread. */
    static final Map<Class<?>, Function<Ctx, Object>> RECEIVERS = new LinkedHashMap<>();

    static void receiver(Class<?> c, Function<Ctx, Object> f) {
        RECEIVERS.put(c, f);
    }

    static {
        receiver(Rnnlm.class, c -> new Rnnlm(c.backend, V, D, H, 1));
        receiver(SimpleRnnlm.class, c -> new SimpleRnnlm(c.backend, V, D, H, 1));
        receiver(BetterRnnlm.class, c -> new BetterRnnlm(c.backend, V, H, H, 0.5f, 1));
        receiver(Seq2seq.class, c -> new Seq2seq(c.backend, V, D, H, 1));
        receiver(PeekySeq2seq.class, c -> new PeekySeq2seq(c.backend, V, D, H, 1));
        receiver(AttentionSeq2seq.class, c -> new AttentionSeq2seq(c.backend, V, D, H, 1));
        receiver(WaveSeq2seq.class, c -> new WaveSeq2seq(c.backend, 1, 1, H, 1));
        receiver(WavePredictor.class, c -> new WavePredictor(c.backend, 1, H, 1));
        receiver(org.seq4j.models.Encoder.class, c -> new org.seq4j.models.Encoder(c.backend,
                c.store(b -> Seq2seq.declare(b, V, D, H, Cell.LSTM)), "encoder."));
        receiver(org.seq4j.models.Decoder.class, c -> new org.seq4j.models.Decoder(c.backend,
                c.store(b -> Seq2seq.declare(b, V, D, H, Cell.LSTM)), "decoder."));
        receiver(org.seq4j.models.PeekyDecoder.class, c -> new org.seq4j.models.PeekyDecoder(c.backend,
                c.store(b -> PeekySeq2seq.declare(b, V, D, H, Cell.LSTM)), "decoder."));
        receiver(org.seq4j.models.AttentionEncoder.class, c -> new org.seq4j.models.AttentionEncoder(c.backend,
                c.store(b -> AttentionSeq2seq.declare(b, V, D, H, Cell.LSTM, false)), "encoder."));
        receiver(org.seq4j.models.AttentionBiEncoder.class, c -> new org.seq4j.models.AttentionBiEncoder(c.backend,
                c.store(b -> AttentionSeq2seq.declare(b, V, D, H, Cell.LSTM, true)), "encoder."));
        receiver(org.seq4j.models.AttentionDecoder.class, c -> new org.seq4j.models.AttentionDecoder(c.backend,
                c.store(b -> AttentionSeq2seq.declare(b, V, D, H, Cell.LSTM, false)), "decoder."));
        receiver(Affine.class, c -> new Affine(c.backend, c.param(D, H), c.param(H)));
        receiver(MatMul.class, c -> new MatMul(c.backend, c.param(D, H)));
        receiver(Embedding.class, c -> new Embedding(c.backend, c.param(V, D)));
        receiver(RNN.class, c -> new RNN(c.backend, c.param(D, H), c.param(H, H), c.param(H)));
        receiver(LSTM.class, c -> new LSTM(c.backend, c.param(D, 4 * H), c.param(H, 4 * H), c.param(4 * H)));
        receiver(GRU.class, c -> new GRU(c.backend, c.param(D, 3 * H), c.param(H, 3 * H), c.param(3 * H)));
        receiver(TimeRNN.class, c -> new TimeRNN(c.backend, c.param(D, H), c.param(H, H), c.param(H), true));
        receiver(TimeLSTM.class, c -> new TimeLSTM(c.backend, c.param(D, 4 * H), c.param(H, 4 * H),
                c.param(4 * H), true));
        receiver(TimeGRU.class, c -> new TimeGRU(c.backend, c.param(D, 3 * H), c.param(H, 3 * H), c.param(3 * H),
                true));
        receiver(TimeBiRecurrent.class, c -> new TimeBiRecurrent(c.backend, Cell.LSTM, c.param(D, 4 * H),
                c.param(H, 4 * H), c.param(4 * H), c.param(D, 4 * H), c.param(H, 4 * H), c.param(4 * H)));
        receiver(TimeAffine.class, c -> new TimeAffine(c.backend, c.param(D, H), c.param(H)));
        receiver(TimeEmbedding.class, c -> new TimeEmbedding(c.backend, c.param(V, D)));
        receiver(TimeDropout.class, c -> new TimeDropout(c.backend, 0.5f, 1));
        receiver(TimeMSE.class, c -> new TimeMSE(c.backend, TimeMSE.Steps.values()[0]));
        receiver(TimeSoftmaxWithLoss.class, c -> new TimeSoftmaxWithLoss(c.backend));
        receiver(Softmax.class, c -> new Softmax(c.backend));
        receiver(Sigmoid.class, c -> new Sigmoid(c.backend));
        receiver(SoftmaxWithLoss.class, c -> new SoftmaxWithLoss(c.backend));
        receiver(Attention.class, c -> new Attention(c.backend));
        receiver(AttentionWeight.class, c -> new AttentionWeight(c.backend));
        receiver(WeightSum.class, c -> new WeightSum(c.backend));
        receiver(TimeAttention.class, c -> new TimeAttention(c.backend));
        receiver(Workspace.class, c -> new Workspace(c.backend, "fuzz"));
        receiver(StepViews.class, c -> new StepViews());
        receiver(org.seq4j.layers.ViewCache.class, c -> new org.seq4j.layers.ViewCache());
        receiver(Parameter.class, c -> c.param(D, H));
        receiver(Parameter.Version.class, c -> c.param(D, H).version());
        receiver(CallOrder.class, c -> new CallOrder("fuzz", c.param(D, H)));
        receiver(ParameterStore.class, c -> c.store(b -> Rnnlm.declare(b, V, D, H, Cell.LSTM)));
        receiver(ParameterStore.Builder.class, c -> ParameterStore.builder(c.backend));
        receiver(SGD.class, c -> new SGD(0.1f));
        receiver(Momentum.class, c -> new Momentum(0.1f, 0.9f));
        receiver(AdaGrad.class, c -> new AdaGrad(0.1f));
        receiver(Adam.class, c -> new Adam(0.001f));
        receiver(RMSprop.class, c -> new RMSprop(0.01f, 0.99f));
        receiver(Trainer.class, c -> new Trainer(c.own(new Seq2seq(c.backend, V, D, H, 1)), c.own(new SGD(0.1f)),
                5f, 1));
        receiver(RnnlmTrainer.class, c -> new RnnlmTrainer(c.own(new Rnnlm(c.backend, V, D, H, 1)),
                c.own(new SGD(0.1f)), 5f));
        receiver(History.class, c -> new History("fuzz", "acc"));
        receiver(NumpyRandom.class, c -> new NumpyRandom(1));
        receiver(CharVocabulary.class, c -> CharVocabulary.of("0123+ _"));
        receiver(CharVocabulary.Builder.class, c -> CharVocabulary.builder());
        receiver(WordVocabulary.class, c -> WordVocabulary.of(List.of("a", "b", "c")));
        receiver(WordVocabulary.Builder.class, c -> WordVocabulary.builder());
        receiver(SequencePairs.class, c -> new SequencePairs(new int[][] {{1, 2, 3}, {0, 1, 2}},
                new int[][] {{4, 1}, {4, 2}}));
        receiver(Init.class, c -> new Init.Normal(0.1));
        receiver(NpyArray.class, c -> new NpyArray.F32(new int[] {2}, new float[2]));
        receiver(org.seq4j.models.BeamState.class, c -> {
            try {   // made by a model during beam search; its constructor is package-private
                var k = org.seq4j.models.BeamState.class.getDeclaredConstructor(Backend.class);
                k.setAccessible(true);
                return k.newInstance(c.backend);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        });
        receiver(HostFloats.class, c -> new HostFloats(new int[] {2, 3}, new float[6]));
    }

    static Object[] ints() {
        return new Object[] {2, 0, -1, 1, Integer.MIN_VALUE, Integer.MAX_VALUE, 7, 1 << 16};
    }

    /** Candidate values of a parameter type: the first is the baseline (valid where it can be), then the boundaries. */
    static List<Object> candidates(Class<?> t, java.lang.reflect.Type generic, Ctx c) {
        List<Object> v = new ArrayList<>();
        if (t == int.class || t == Integer.class) {
            v.addAll(Arrays.asList(ints()));
        } else if (t == long.class || t == Long.class) {
            v.addAll(List.of(2L, 0L, -1L, 1L, Long.MIN_VALUE, Long.MAX_VALUE, (long) Integer.MAX_VALUE + 1));
        } else if (t == float.class || t == Float.class) {
            v.addAll(List.of(0.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, 3e38f,
                    1e-45f, -1f));
        } else if (t == double.class || t == Double.class) {
            v.addAll(List.of(0.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0, 1e308,
                    4.9e-324, -1.0));
        } else if (t == boolean.class || t == Boolean.class) {
            v.addAll(List.of(false, true));
        } else if (t == char.class) {
            v.addAll(List.of('a', '\0', '\n', '\uffff'));
        } else if (t == String.class || t == CharSequence.class) {
            v.add("x");
            v.add(null);
            v.add("");
            v.add("a\nb\u0000\ud800 é");
            v.add("lstm");
        } else if (t == int[].class) {
            v.add(new int[] {1, 2, 0, 3, 4, 1, 2, 0, 3, 4, 1, 2, 0, 3, 4, 1});
            v.add(null);
            v.add(new int[0]);
            v.add(new int[] {-1});
            v.add(new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE});
            v.add(new int[] {0});
            v.add(new int[] {2, 3});
        } else if (t == int[][].class) {
            v.add(new int[][] {{1, 2, 3}, {0, 1, 2}});
            v.add(null);
            v.add(new int[0][]);
            v.add(new int[][] {{}});
            v.add(new int[][] {{1}, {1, 2}});
            v.add(new int[][] {null});
            v.add(new int[][] {{-1, Integer.MAX_VALUE}});
        } else if (t == float[].class) {
            v.add(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f});
            v.add(null);
            v.add(new float[0]);
            v.add(new float[] {Float.NaN});
            v.add(new float[] {Float.POSITIVE_INFINITY, -0f});
        } else if (t == float[][].class) {
            v.add(new float[][] {{0.1f, 0.2f, 0.3f}, {0.4f, 0.5f, 0.6f}});
            v.add(null);
            v.add(new float[0][]);
            v.add(new float[][] {{}});
            v.add(new float[][] {{1f}, {1f, 2f}});
            v.add(new float[][] {null});
            v.add(new float[][] {{Float.NaN, Float.NEGATIVE_INFINITY}});
        } else if (t == double[].class) {
            v.add(new double[] {0.5, 0.25});
            v.add(null);
            v.add(new double[0]);
            v.add(new double[] {Double.NaN});
        } else if (t == boolean[].class) {
            v.add(new boolean[V]);
            v.add(null);
            v.add(new boolean[0]);
        } else if (t == byte[].class) {
            v.add(new byte[] {1, 2});
            v.add(null);
            v.add(new byte[0]);
        } else if (t == Tensor.class) {
            v.add(c.i32(new int[] {1, 2, 3, 0, 1, 2}, 2, 3));
            v.add(null);
            v.add(c.f32(new float[6], 2, 3));
            v.add(c.f32(new float[] {.1f, .2f, .3f, .4f, .5f, .6f, .7f, .8f, .9f, 1f, 1.1f, 1.2f, .1f, .2f, .3f, .4f,
                .5f, .6f, .7f, .8f, .9f, 1f, 1.1f, 1.2f}, 2, 3, 4));
            v.add(c.f32(new float[24], 2, 4, 3));
            v.add(c.i32(new int[0], 0, 3));
            v.add(c.f32(new float[0], 2, 0));
            v.add(c.i32(new int[] {-1, Integer.MAX_VALUE, 0, 1, 2, 3}, 2, 3));
            v.add(c.f32(new float[] {Float.NaN, Float.POSITIVE_INFINITY, 0, 0}, 4));
            v.add(c.f32(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 4));
            v.add(c.i32(new int[] {1, 2}, 2));
            v.add(c.closed());
        } else if (t == Backend.class) {
            v.add(c.backend);
            v.add(null);
        } else if (t == Arena.class) {
            v.add(c.arena);
            v.add(null);
            Arena closed = Arena.ofConfined();
            closed.close();
            v.add(closed);
        } else if (t == Path.class) {
            v.add(c.dir.resolve("f" + COUNTER.incrementAndGet()));
            v.add(null);
            v.add(c.dir);
            v.add(GARBAGE);
            v.add(c.dir.resolve("missing/deeper/f.npz"));
        } else if (t == Properties.class) {
            v.add(new Properties());
            v.add(null);
            Properties odd = new Properties();
            odd.setProperty("vocab", "-1");
            odd.setProperty("kind", "\n");
            odd.setProperty("task", "nope");
            odd.setProperty("hidden", "99999999999");
            v.add(odd);
        } else if (t == Map.class || t == java.util.SequencedMap.class) {
            v.add(new LinkedHashMap<>());
            v.add(null);
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("x", valueFor(generic, c));
            v.add(one);
            Map<String, Object> odd = new LinkedHashMap<>();
            odd.put("a\n/b", valueFor(generic, c));   // a key no file takes, with a line break to quote
            v.add(odd);
            Map<String, Object> nul = new LinkedHashMap<>();
            nul.put("x", null);
            v.add(nul);
        } else if (t == Set.class) {
            v.add(Set.of());
            v.add(null);
            v.add(Set.of(""));
        } else if (t == List.class) {
            v.add(List.of("a", "b"));
            v.add(null);
            v.add(List.of());
            v.add(Arrays.asList((Object) null));
        } else if (t.isEnum()) {
            v.addAll(Arrays.asList(t.getEnumConstants()));
            v.add(null);
        } else if (t == Init.class) {
            v.add(new Init.Normal(0.1));
            v.add(null);
            v.add(new Init.Constant(3e38f));
        } else if (t == NpyArray.class) {
            v.add(null);
        } else if (t.isArray()) {
            v.add(Array.newInstance(t.getComponentType(), 0));
            v.add(null);
            v.add(Array.newInstance(t.getComponentType(), 1));
        } else {
            Function<Ctx, Object> f = factoryFor(t);
            if (f != null) {
                v.add(new Lazy(f));
            } else if (t.isInterface() && t.getName().startsWith("org.seq4j") && !t.isSealed()) {
                v.add(Proxy.newProxyInstance(t.getClassLoader(), new Class<?>[] {t}, (p, m, a) -> nothing(m)));
            }
            v.add(null);
        }
        return v;
    }

    /** A receiver-registry value, made only when a call is given it. */
    record Lazy(Function<Ctx, Object> factory) {
        Object make(Ctx c) {
            try {
                return c.own(factory.apply(c));
            } catch (RuntimeException e) {
                throw new AssertionError("a receiver factory failed", e);
            }
        }
    }

    static Object nothing(Method m) {
        Class<?> r = m.getReturnType();
        if (r == boolean.class) {
            return false;
        }
        if (r.isPrimitive() && r != void.class) {
            return Array.get(Array.newInstance(r, 1), 0);
        }
        return null;
    }

    static Object valueFor(java.lang.reflect.Type generic, Ctx c) {
        if (generic instanceof java.lang.reflect.ParameterizedType p && p.getActualTypeArguments().length == 2) {
            java.lang.reflect.Type value = p.getActualTypeArguments()[1];
            if (value == float[].class) {
                return new float[] {Float.NaN};
            }
            if (value == int[].class) {
                return new int[] {-1};
            }
            if (value instanceof java.lang.reflect.WildcardType w && w.getUpperBounds()[0] == NpyArray.class) {
                return new NpyArray.F32(new int[] {1}, new float[] {Float.NaN});
            }
        }
        return "x";
    }

    static Function<Ctx, Object> factoryFor(Class<?> t) {
        Function<Ctx, Object> f = RECEIVERS.get(t);
        if (f != null) {
            return f;
        }
        for (Map.Entry<Class<?>, Function<Ctx, Object>> e : RECEIVERS.entrySet()) {
            if (t.isAssignableFrom(e.getKey())) {
                return e.getValue();
            }
        }
        return null;
    }

    static final AtomicInteger COUNTER = new AtomicInteger();
    static Path GARBAGE;

    // ---------------------------------------------------------------- discovery

    static List<Class<?>> publicClasses() throws IOException, URISyntaxException {
        return org.seq4j.testing.PublicClasses.of(Rnnlm.class, PACKAGES);
    }

    static List<Executable> executables(Class<?> k) {
        List<Executable> out = org.seq4j.testing.PublicClasses.executables(k);
        out.sort(Comparator.comparing(ApiFuzzTest::signature));
        return out;
    }

    static String signature(Executable e) {
        StringBuilder s = new StringBuilder(e.getDeclaringClass().getSimpleName());
        if (e instanceof Method) {
            s.append('.').append(e.getName());
        }
        s.append('(');
        Class<?>[] p = e.getParameterTypes();
        for (int i = 0; i < p.length; i++) {
            s.append(i == 0 ? "" : ",").append(p[i].getSimpleName());
        }
        return s.append(')').toString();
    }

    /** Calls a test leaves out, each with the reason (a call that would allocate what no test should). */
    static final Map<String, String> EXCLUDED = Map.of(
            // core's Backend.allocate/packedMatrix try any size up to Tensor.MAX_BYTES (2^57) and refuse only past it:
            // (2, MAX_VALUE) zero-fills 8 GiB for over 10 s, (MAX_VALUE, 2) on openblas asks for 128 GiB
            // (OutOfMemoryError). Workspace passes the sizes through: no memory cap, by design
            "Workspace.packed", "core tries any addressable size it is asked for");

    // ---------------------------------------------------------------- the run

    @Test
    void everyPublicClassIsCovered() throws Exception {
        List<String> missing = new ArrayList<>();
        for (Class<?> k : publicClasses()) {
            boolean instanceMethods = executables(k).stream().anyMatch(e -> e instanceof Method m
                    && !Modifier.isStatic(m.getModifiers()));
            if (instanceMethods && factoryFor(k) == null && !NO_RECEIVER.containsKey(k.getName()) && !k.isEnum()
                    && !k.isRecord() && !Throwable.class.isAssignableFrom(k)) {
                missing.add(k.getName());
            }
        }
        assertEquals(List.of(), missing, "public classes with no receiver factory and no reason in NO_RECEIVER");
        for (String n : NO_RECEIVER.keySet()) {
            assertTrue(publicClasses().stream().anyMatch(k -> k.getName().equals(n)), "NO_RECEIVER names " + n
                    + ", which is no public class of the fuzzed packages");
        }
    }

    @Test
    void publicApiRefusesBoundaryValuesClearly() throws Exception {
        GARBAGE = dir.resolve("garbage.npz");
        Files.writeString(GARBAGE, "not a zip\n", StandardCharsets.UTF_8);
        List<Class<?>> classes = publicClasses();
        // java, the reference, always (it runs the host code); then every other backend of the run that loads: openblas
        // here, javadevice in CI's device-semantics rerun, cuda on a GPU (-Dseq4j.test.backends narrows them)
        List<String> backends = new ArrayList<>(List.of("java"));
        TestBackends.all().map(org.junit.jupiter.api.Named::getPayload)
                .filter(n -> !n.equals("java") && TestBackends.available(n)).forEach(backends::add);
        List<Finding> findings = new ArrayList<>();
        Set<String> calledExecutables = new TreeSet<>();
        int calls = 0, executableCount = 0;
        long start = System.nanoTime();
        ExecutorService[] worker = {newWorker()};
        try {
            for (String backendName : backends) {
                Backend backend = TestBackends.get(backendName);
                Random random = new Random(SEED);
                for (Class<?> k : classes) {
                    for (Executable e : executables(k)) {
                        String sig = signature(e);
                        if (EXCLUDED.keySet().stream().anyMatch(x -> sig.startsWith(x + "("))) {
                            continue;
                        }
                        boolean isStatic = e instanceof Constructor<?> || Modifier.isStatic(e.getModifiers());
                        if (!isStatic && factoryFor(k) == null) {
                            continue;
                        }
                        // openblas: the calls that take a backend or a receiver made over one
                        if (!backendName.equals("java") && isStatic && Arrays.stream(e.getParameterTypes())
                                .noneMatch(p -> p == Backend.class || p == Tensor.class)) {
                            continue;
                        }
                        executableCount++;
                        calledExecutables.add(sig);
                        int n = e.getParameterCount();
                        List<int[]> plans = new ArrayList<>();
                        plans.add(new int[n]);
                        int[] sizes = sizes(e, backend);
                        boolean reference = backendName.equals("java");
                        Class<?>[] types = e.getParameterTypes();
                        for (int i = 0; i < n; i++) {
                            // other backends: the baseline and the tensor arguments' variants (the rest is host code
                            // the java run covers), to keep the run short
                            for (int j = 1; j < sizes[i] && (reference || types[i] == Tensor.class); j++) {
                                int[] p = new int[n];
                                p[i] = j;
                                plans.add(p);
                            }
                        }
                        for (int m = 0; m < MIXES && n > 1 && reference; m++) {
                            int[] p = new int[n];
                            for (int i = 0; i < n; i++) {
                                p[i] = random.nextInt(sizes[i]);
                            }
                            plans.add(p);
                        }
                        for (int[] plan : plans) {
                            calls++;
                            Finding f = callOnce(worker, backend, k, e, plan);
                            if (f != null) {
                                findings.add(f);
                            }
                        }
                    }
                }
            }
            // sequences: one receiver, several calls in a row (a refusal, a close or a half-done forward must leave the
            // next call a clear answer too), each argument the baseline or, a third of the time, a boundary value
            for (String backendName : backends) {
                Backend backend = TestBackends.get(backendName);
                Random random = new Random(SEED + 1);
                for (Class<?> k : classes) {
                    if (factoryFor(k) == null || (!backendName.equals("java") && !k.getPackageName().equals(
                            "org.seq4j.layers") && !k.getPackageName().equals("org.seq4j.models"))) {
                        continue;
                    }
                    List<Method> methods = new ArrayList<>();
                    for (Executable e : executables(k)) {
                        String sig = signature(e);
                        if (e instanceof Method m && !Modifier.isStatic(m.getModifiers())
                                && EXCLUDED.keySet().stream().noneMatch(x -> sig.startsWith(x + "("))) {
                            methods.add(m);
                        }
                    }
                    if (methods.isEmpty()) {
                        continue;
                    }
                    for (int q = 0; q < SEQUENCES; q++) {
                        List<Method> seq = new ArrayList<>();
                        List<int[]> plans = new ArrayList<>();
                        for (int step = 0; step < SEQUENCE_LENGTH; step++) {
                            Method m = methods.get(random.nextInt(methods.size()));
                            int[] sizes = sizes(m, backend);
                            int[] plan = new int[sizes.length];
                            for (int i = 0; i < plan.length; i++) {
                                plan[i] = random.nextInt(3) == 0 ? random.nextInt(sizes[i]) : 0;
                            }
                            seq.add(m);
                            plans.add(plan);
                        }
                        calls += seq.size();
                        findings.addAll(callSequence(worker, backend, k, seq, plans));
                    }
                }
            }
        } finally {
            worker[0].shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("ApiFuzzTest: %d classes, %d executables (over %s), %d calls in %.1f s, %d findings%n",
                classes.size(), calledExecutables.size(), backends, calls, seconds, findings.size());
        Set<String> distinct = new LinkedHashSet<>();
        for (Finding f : findings) {
            distinct.add(ascii(f.toString()));
        }
        // every finding in full, for triage (the failure message below is cut short by the reports)
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/api-fuzz-findings.txt"), distinct);
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings:\n" + String.join("\n", distinct));
        }
    }

    static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "api-fuzz");
            t.setDaemon(true);
            return t;
        });
    }

    static int[] sizes(Executable e, Backend backend) {
        try (Ctx c = new Ctx(backend, Path.of("/nonexistent"))) {
            Class<?>[] p = e.getParameterTypes();
            java.lang.reflect.Type[] g = e.getGenericParameterTypes();
            int[] s = new int[p.length];
            for (int i = 0; i < p.length; i++) {
                s[i] = candidates(p[i], g.length == p.length ? g[i] : p[i], c).size();
            }
            return s;
        }
    }

    List<Finding> callSequence(ExecutorService[] worker, Backend backend, Class<?> k, List<Method> seq,
            List<int[]> plans) {
        List<Finding> out = new ArrayList<>();
        StringBuilder trail = new StringBuilder(k.getSimpleName() + " then");
        Future<?> f = worker[0].submit(() -> {
            try (Ctx c = new Ctx(backend, dir)) {
                Object receiver = c.own(factoryFor(k).apply(c));
                for (int s = 0; s < seq.size(); s++) {
                    Method m = seq.get(s);
                    Class<?>[] p = m.getParameterTypes();
                    java.lang.reflect.Type[] g = m.getGenericParameterTypes();
                    Object[] args = new Object[p.length];
                    for (int i = 0; i < p.length; i++) {
                        args[i] = candidates(p[i], g.length == p.length ? g[i] : p[i], c).get(plans.get(s)[i]);
                        if (args[i] instanceof Lazy l) {
                            args[i] = l.make(c);
                        }
                    }
                    String call = signature(m) + "(" + describe(args) + ")";
                    Throwable thrown = null;
                    try {
                        c.own(m.invoke(receiver, args));
                    } catch (InvocationTargetException x) {
                        thrown = x.getCause();
                    } catch (IllegalAccessException x) {
                        throw new AssertionError(x);
                    }
                    String bad = verdict(thrown, m, k, args);
                    synchronized (out) {
                        if (bad != null) {
                            out.add(new Finding("sequence " + trail, call, bad));
                        }
                        trail.append(' ').append(m.getName()).append(thrown == null ? "" : "!");
                    }
                }
            }
            return null;
        });
        try {
            f.get(CALL_LIMIT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException x) {
            f.cancel(true);
            worker[0].shutdownNow();
            worker[0] = newWorker();
            synchronized (out) {
                out.add(new Finding("sequence " + trail, "", "still running after " + CALL_LIMIT_MS + " ms"));
            }
        } catch (ExecutionException x) {
            out.add(new Finding("sequence " + trail, "", "the harness failed: " + stack(x.getCause())));
        } catch (InterruptedException x) {
            throw new AssertionError(x);
        }
        synchronized (out) {
            return new ArrayList<>(out);
        }
    }

    Finding callOnce(ExecutorService[] worker, Backend backend, Class<?> k, Executable e, int[] plan) {
        String sig = signature(e);
        String[] described = {"?"};
        Object[][] argsSeen = {new Object[0]};
        Future<Throwable> f = worker[0].submit(() -> {
            try (Ctx c = new Ctx(backend, dir)) {
                Class<?>[] p = e.getParameterTypes();
                java.lang.reflect.Type[] g = e.getGenericParameterTypes();
                Object[] args = new Object[p.length];
                for (int i = 0; i < p.length; i++) {
                    args[i] = candidates(p[i], g.length == p.length ? g[i] : p[i], c).get(plan[i]);
                    if (args[i] instanceof Lazy l) {
                        args[i] = l.make(c);
                    }
                }
                described[0] = describe(args);
                argsSeen[0] = args;
                try {
                    if (e instanceof Constructor<?> ctor) {
                        c.own(ctor.newInstance(args));
                    } else {
                        Method m = (Method) e;
                        Object receiver = Modifier.isStatic(m.getModifiers()) ? null : c.own(factoryFor(k).apply(c));
                        c.own(m.invoke(receiver, args));
                    }
                    return null;
                } catch (InvocationTargetException x) {
                    return x.getCause();
                }
            }
        });
        Throwable thrown;
        try {
            thrown = f.get(CALL_LIMIT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException x) {
            f.cancel(true);
            worker[0].shutdownNow();
            worker[0] = newWorker();
            return new Finding(sig, described[0], "still running after " + CALL_LIMIT_MS + " ms (a hang, or a huge "
                    + "allocation)");
        } catch (ExecutionException x) {
            return new Finding(sig, described[0], "the harness failed: " + stack(x.getCause()));
        } catch (InterruptedException x) {
            throw new AssertionError(x);
        }
        String bad = verdict(thrown, e, k, argsSeen[0]);
        return bad == null ? null : new Finding(sig, described[0], bad);
    }

    static final Set<Class<?>> ALLOWED = Set.of(IllegalArgumentException.class, IllegalStateException.class,
            NullPointerException.class, UnsupportedOperationException.class, IndexOutOfBoundsException.class);

    /**
     * Whether a refusal must name the class or method (-Dseq4j.fuzz.strictNaming=true). Off by default: many clear
     * refusals name the argument or the kernel instead ("id -1 is outside the vocabulary of 7 characters",
     * "lstmSequenceForward: ids must be I32", a helpful NullPointerException naming the parameter), which a name
     * match cannot tell from an unclear one; the strict run lists them for a reader to judge.
     */
    static final boolean STRICT_NAMING = Boolean.getBoolean("seq4j.fuzz.strictNaming");

    static String verdict(Throwable t, Executable e, Class<?> k, Object[] args) {
        if (t == null) {
            return null;
        }
        String type = t.getClass().getName();
        String msg = t.getMessage();
        boolean allowedType = ALLOWED.stream().anyMatch(a -> a.isInstance(t)) || type.startsWith("org.seq4j.")
                || (t instanceof IOException && Arrays.asList(e.getExceptionTypes()).stream()
                        .anyMatch(x -> x.isInstance(t)));
        if (!allowedType) {
            return "threw " + stack(t);
        }
        if (t instanceof java.nio.file.FileSystemException || t instanceof java.io.FileNotFoundException) {
            return null; // the file system's own word, naming the file
        }
        if (t.getStackTrace().length == 0) {
            return null; // the JIT's preallocated exception of a hot throw site (OmitStackTraceInFastThrow): no message
        }
        if (msg == null || msg.isBlank()) {
            return "threw " + type + " with no message: " + stack(t);
        }
        String own = msg;   // a message may quote the caller's text, newlines and all
        for (Object a : args) {
            if (a instanceof String x && !x.isEmpty()) {
                own = own.replace(x, "").replace(x.replace("\u0000", "\\u0000"), "");
            }
        }
        if (own.contains("\n")) {
            return "threw " + type + " with a multi-line message: " + stack(t);
        }
        for (String internal : List.of("byte offset", "segment", "Already closed", "outside owning thread",
                "out of bounds for length")) {
            if (msg.contains(internal) && !msg.contains(k.getSimpleName()) && !msg.contains(e.getName())
                    && !msg.startsWith("Cannot invoke")) {   // a helpful NullPointerException naming the variable
                return "threw an internal message: " + stack(t);
            }
        }
        if (STRICT_NAMING && !namesTheCall(msg, e, k)) {
            return "threw " + type + " naming no call: " + stack(t);
        }
        return null;
    }

    static boolean namesTheCall(String msg, Executable e, Class<?> k) {
        if (msg.contains(k.getSimpleName()) || (e instanceof Method && msg.contains(e.getName()))) {
            return true;
        }
        // a record's or nested class's message may name the enclosing type, or the component it checks
        for (Class<?> c = k.getEnclosingClass(); c != null; c = c.getEnclosingClass()) {
            if (msg.contains(c.getSimpleName())) {
                return true;
            }
        }
        if (k.isRecord()) {
            for (var rc : k.getRecordComponents()) {
                if (msg.contains(rc.getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    static String stack(Throwable t) {
        StackTraceElement[] s = t.getStackTrace();
        String where = s.length == 0 ? "" : " at " + s[0];
        return t.getClass().getName() + ": " + String.valueOf(t.getMessage()).replace("\n", "\\n") + where;
    }

    /** The text with every character outside printable ASCII as \\uXXXX (an unpaired surrogate cannot be written). */
    static String ascii(String s) {
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch >= 0x20 && ch < 0x7f) {
                b.append(ch);
            } else {
                b.append(String.format("\\u%04x", (int) ch));
            }
        }
        return b.toString();
    }

    static String describe(Object[] args) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            String d;
            if (a == null) {
                d = "null";
            } else if (a instanceof int[] x) {
                d = "int" + Arrays.toString(x);
            } else if (a instanceof int[][] x) {
                d = "int" + Arrays.deepToString(x);
            } else if (a instanceof float[] x) {
                d = "float" + Arrays.toString(x);
            } else if (a instanceof float[][] x) {
                d = "float" + Arrays.deepToString(x);
            } else if (a instanceof Tensor x) {
                String shape;
                try {
                    shape = x.dtype() + Arrays.toString(x.shape()) + (x.isAlive() ? "" : " closed");
                } catch (RuntimeException ex) {
                    shape = "tensor";
                }
                d = shape;
            } else if (a instanceof String x) {
                d = '"' + x.replace("\n", "\\n").replace("\u0000", "\\0") + '"';
            } else if (a instanceof Float || a instanceof Double || a instanceof Integer || a instanceof Long
                    || a instanceof Boolean || a instanceof Enum<?>) {
                d = String.valueOf(a);
            } else {
                d = a.getClass().getSimpleName();
            }
            s.append(i == 0 ? "" : ", ").append(d);
        }
        return s.toString();
    }
}
