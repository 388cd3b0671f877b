// Random sequences of calls (seeded) on the recurrent layers (TimeLSTM, TimeGRU, TimeRNN, TimeBiRecurrent) with an
// embedding: forward(xs) and forward(embed, ids) of changing (T, N), folded or not, bad ids, each backward form,
// setState/resetState, setInferencePrecision, copyIn and writes through the backend, zeroGrads, the accessors. Two
// oracles: the calls that succeeded, replayed alone on fresh layers, give the same bits and gradients (a refused call
// changed nothing), and a stateless layer's forward is a fresh layer's over the same weights (no kept pack, folded
// table or inference copy is stale). -Dseq4j.test.callSequences=N runs N sequences per layer and backend.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class LayerCallSequencesTest {
    static final int V = 9, D = 5, H = 6;

    static Stream<Arguments> cases() {
        int seeds = Integer.getInteger("seq4j.test.callSequences", 3);
        return TestBackends.all().flatMap(b -> Stream.of("lstm", "gru", "rnn", "bi-lstm", "bi-gru").flatMap(k ->
                IntStream.range(0, seeds).mapToObj(s -> Arguments.of(b, k, s))));
    }

    final class World implements AutoCloseable {
        final Backend b;
        final ParameterStore store;
        final TimeEmbedding embed;
        final AutoCloseable layer;
        final boolean stateful;
        PackedMatrix.Precision precision = PackedMatrix.Precision.F32;
        final String kind;
        final Arena arena = Arena.ofShared();
        int lastT = 1, lastN = 1;

        World(Backend b, String kind, boolean stateful) {
            this.b = b;
            this.kind = kind;
            this.stateful = stateful;
            int g = kind.endsWith("lstm") ? 4 : kind.endsWith("gru") ? 3 : 1;
            store = ParameterStore.builder(b).declare("embed.W", Init.normal(1), V, D)
                    .declare("r.Wx", Init.scaledNormal(D), D, g * H).declare("r.Wh", Init.scaledNormal(H), H, g * H)
                    .declare("r.b", Init.normal(0.3), g * H)
                    .declare("s.Wx", Init.scaledNormal(D), D, g * H).declare("s.Wh", Init.scaledNormal(H), H, g * H)
                    .declare("s.b", Init.normal(0.3), g * H).build(3);
            embed = new TimeEmbedding(b, store.get("embed.W"));
            layer = make(stateful);
        }

        AutoCloseable make(boolean stateful) {
            Parameter wx = store.get("r.Wx"), wh = store.get("r.Wh"), bb = store.get("r.b");
            return switch (kind) {
                case "lstm" -> new TimeLSTM(b, wx, wh, bb, stateful);
                case "gru" -> new TimeGRU(b, wx, wh, bb, stateful);
                case "rnn" -> new TimeRNN(b, wx, wh, bb, stateful);
                default -> new TimeBiRecurrent(b, kind.endsWith("lstm") ? Cell.LSTM : Cell.GRU, wx, wh, bb,
                        store.get("s.Wx"), store.get("s.Wh"), store.get("s.b"));
            };
        }

        /** A stateless layer's output for xs must be a fresh layer's over the same weights and precision. */
        void check(Tensor got, Tensor xs, Tensor ids) throws Exception {
            if (stateful && !kind.startsWith("bi")) {
                return;
            }
            String want;
            try (AutoCloseable f = make(false)) {
                switch (f) {
                    case TimeRecurrent l -> l.setInferencePrecision(precision);
                    case TimeBiRecurrent bi -> bi.setInferencePrecision(precision);
                    default -> { }
                }
                Tensor out = switch (f) {
                    case TimeRecurrent l -> ids != null ? l.forward(embed, ids) : l.forward(xs);
                    case TimeRNN rn -> rn.forward(xs);
                    case TimeBiRecurrent bi -> bi.forward(xs);
                    default -> throw new IllegalStateException();
                };
                want = vals(b, out);
            }
            if (!want.equals(vals(b, got))) {
                throw new AssertionError("STALE forward of " + kind);
            }
        }

        Tensor floats(Random r, int... shape) {
            Tensor t = b.allocate(arena, DType.F32, shape);
            float[] v = new float[(int) t.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            b.copyIn(t, v);
            return t;
        }

        Tensor ids(Random r, int t, int n, boolean bad) {
            Tensor x = b.allocate(arena, DType.I32, t, n);
            int[] v = new int[t * n];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(V);
            }
            if (bad) {
                v[r.nextInt(v.length)] = V;
            }
            b.copyIn(x, v);
            return x;
        }

        @Override
        public void close() throws Exception {
            layer.close();
            embed.close();
            store.close();
            arena.close();
        }
    }

    interface Op {
        String run(World w) throws Exception;
    }

    record Step(String name, Op op) {
    }

    static String vals(Backend b, Tensor t) {
        return t == null ? "null" : Arrays.hashCode(TestBackends.values(b, t)) + "";
    }

    static String grads(World w) {
        StringBuilder sb = new StringBuilder();
        for (Parameter p : w.store.parameters()) {
            sb.append(Arrays.hashCode(w.store.copyOutGrad(p.name()))).append(',');
        }
        return sb.toString();
    }

    List<Step> script(Random r, int length) {
        List<Step> steps = new ArrayList<>();
        int[] lastN = {1 + r.nextInt(3)};
        for (int i = 0; i < length; i++) {
            long seed = r.nextLong();
            int k = r.nextInt(100);
            int n = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : lastN[0];
            lastN[0] = n;
            int t = 1 + r.nextInt(4);
            if (k < 20) {
                steps.add(new Step("forward T=" + t + " N=" + n, w -> {
                    Tensor xs = w.floats(new Random(seed), t, n, D);
                    return vals(w.b, fwd(w, xs));
                }));
            } else if (k < 35) {
                boolean bad = new Random(seed).nextInt(6) == 0;
                int tt = r.nextBoolean() ? t : t + 3;   // more tokens than V: folds
                steps.add(new Step("forward(embed) T=" + tt + " N=" + n + (bad ? " bad" : ""), w -> {
                    Tensor ids = w.ids(new Random(seed), tt, n, bad);
                    return vals(w.b, fwdEmbed(w, ids));
                }));
            } else if (k < 50) {
                int which = r.nextInt(3);
                steps.add(new Step("backward#" + which, w -> {
                    Random q = new Random(seed);
                    return bwd(w, q, which) + " g " + grads(w);
                }));
            } else if (k < 58) {
                boolean withC = r.nextBoolean();
                steps.add(new Step("setState N=" + n + (withC ? " c" : ""), w -> {
                    Random q = new Random(seed);
                    Tensor h = w.floats(q, n, H);
                    Tensor c = withC ? w.floats(q, n, H) : null;
                    switch (w.layer) {
                        case TimeLSTM l -> l.setState(h, c);
                        case TimeGRU g -> g.setState(h);
                        case TimeRNN rn -> rn.setState(h);
                        default -> throw new UnsupportedOperationException("no state");
                    }
                    return "";
                }));
            } else if (k < 63) {
                steps.add(new Step("resetState", w -> {
                    switch (w.layer) {
                        case TimeRecurrent l -> l.resetState();
                        case TimeRNN rn -> rn.resetState();
                        default -> throw new UnsupportedOperationException("no state");
                    }
                    return "";
                }));
            } else if (k < 70) {
                PackedMatrix.Precision p = r.nextBoolean() ? PackedMatrix.Precision.BF16 : PackedMatrix.Precision.F32;
                steps.add(new Step("precision " + p, w -> {
                    switch (w.layer) {
                        case TimeRecurrent l -> l.setInferencePrecision(p);
                        case TimeBiRecurrent bi -> bi.setInferencePrecision(p);
                        default -> throw new UnsupportedOperationException("rnn");
                    }
                    w.precision = p;
                    return "";
                }));
            } else if (k < 78) {
                String[] names = {"embed.W", "r.Wx", "r.Wh", "r.b", "s.Wh"};
                String name = names[r.nextInt(names.length)];
                steps.add(new Step("copyIn " + name, w -> {
                    Random q = new Random(seed);
                    float[] v = new float[(int) w.store.get(name).size()];
                    for (int j = 0; j < v.length; j++) {
                        v[j] = (float) (q.nextGaussian() * 0.5);
                    }
                    w.store.copyIn(name, v);
                    return "";
                }));
            } else if (k < 82) {
                steps.add(new Step("zeroGrads", w -> {
                    w.store.zeroGrads();
                    return "";
                }));
            } else if (k < 90) {
                int which = r.nextInt(5);
                steps.add(new Step("read#" + which, w -> read(w, which)));
            } else if (k < 95) {
                String[] names = {"embed.W", "r.Wx", "r.Wh", "r.b", "s.Wh"};
                String name = names[r.nextInt(names.length)];
                steps.add(new Step("raw write " + name, w -> {
                    Random q = new Random(seed);
                    float[] v = new float[(int) w.store.get(name).size()];
                    for (int j = 0; j < v.length; j++) {
                        v[j] = (float) (q.nextGaussian() * 0.5);
                    }
                    w.b.copyIn(w.store.get(name).value(), v);
                    return "";
                }));
            } else {
                steps.add(new Step("embed forward direct", w -> {
                    Tensor ids = w.ids(new Random(seed), t, n, false);
                    return vals(w.b, w.embed.forward(ids));
                }));
            }
        }
        return steps;
    }

    static Tensor fwd(World w, Tensor xs) {
        Tensor out = switch (w.layer) {
            case TimeRecurrent l -> l.forward(xs);
            case TimeRNN rn -> rn.forward(xs);
            case TimeBiRecurrent bi -> bi.forward(xs);
            default -> throw new IllegalStateException();
        };
        w.lastT = xs.dim(0);
        w.lastN = xs.dim(1);
        try {
            w.check(out, xs, null);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return out;
    }

    static Tensor fwdEmbed(World w, Tensor ids) {
        return switch (w.layer) {
            case TimeRecurrent l -> {
                Tensor out = l.forward(w.embed, ids);
                w.lastT = ids.dim(0);
                w.lastN = ids.dim(1);
                try {
                    w.check(out, null, ids);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                yield out;
            }
            default -> fwd(w, w.embed.forward(ids));
        };
    }

    static String bwd(World w, Random q, int which) {
        int t = w.lastT, n = w.lastN;
        if (w.layer instanceof TimeBiRecurrent bi) {
            return vals(w.b, bi.backward(w.floats(q, t, n, 2 * H)));
        }
        Tensor dhs = w.floats(q, t, n, H);
        switch (w.layer) {
            case TimeLSTM l -> {
                if (which == 0) {
                    return vals(w.b, l.backward(dhs));
                } else if (which == 1) {
                    l.backward(w.embed, dhs);
                    return "e";
                } else {
                    return vals(w.b, l.backwardLast(w.floats(q, n, H), w.floats(q, n, H)));
                }
            }
            case TimeGRU g -> {
                if (which == 0) {
                    return vals(w.b, g.backward(dhs));
                } else if (which == 1) {
                    g.backward(w.embed, dhs);
                    return "e";
                } else {
                    g.backwardLast(w.embed, w.floats(q, n, H));
                    return "el";
                }
            }
            case TimeRNN rn -> {
                return vals(w.b, rn.backward(dhs));
            }
            default -> throw new IllegalStateException();
        }
    }

    static String read(World w, int which) {
        return switch (w.layer) {
            case TimeLSTM l -> vals(w.b, switch (which) {
                case 0 -> l.h();
                case 1 -> l.c();
                case 2 -> l.hs();
                case 3 -> l.dh();
                default -> l.dc();
            });
            case TimeGRU g -> vals(w.b, switch (which) {
                case 0 -> g.h();
                case 1, 2 -> g.hs();
                default -> g.dh();
            });
            case TimeRNN rn -> vals(w.b, which < 3 ? rn.h() : rn.dh());
            default -> "";
        };
    }

    @ParameterizedTest(name = "{0} {1} seed {2}")
    @MethodSource("cases")
    void refusedCallsChangeNothing(String backendName, String kind, int seed) throws Exception {
        Backend b = TestBackends.get(backendName);
        List<Step> steps = script(new Random(seed * 31L + kind.hashCode()), 40);
        List<String> log = new ArrayList<>();
        List<String[]> first = new ArrayList<>();
        String finalA;
        try (World a = new World(b, kind, seed % 2 == 0)) {
            for (Step s : steps) {
                String[] res;
                try {
                    res = new String[] {s.op.run(a), null};
                } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
                    res = new String[] {null, e.toString()};
                } catch (IndexOutOfBoundsException e) {
                    if (!s.name.endsWith(" bad")) {
                        throw new AssertionError(String.join("\n", log) + "\n" + s.name, e);
                    }
                    res = new String[] {null, e.toString()};
                } catch (Throwable e) {
                    throw new AssertionError(String.join("\n", log) + "\n" + s.name, e);
                }
                first.add(res);
                log.add(s.name + " -> " + (res[0] != null ? "ok " + res[0] : res[1]));
            }
            if (Boolean.getBoolean("seq4j.test.callSequences.print")) {
                System.out.println("== " + backendName + " " + kind + " " + seed + "\n" + String.join("\n", log));
            }
            finalA = grads(a) + " " + a.store.copyOutAll().values().stream().mapToInt(Arrays::hashCode).sum();
        }
        try (World c = new World(b, kind, seed % 2 == 0)) {
            for (int i = 0; i < steps.size(); i++) {
                if (first.get(i)[0] == null) {
                    continue;
                }
                String got;
                try {
                    got = steps.get(i).op.run(c);
                } catch (Exception e) {
                    got = "threw " + e;
                }
                assertEquals(first.get(i)[0], got, "step " + i + "\n" + String.join("\n", log.subList(0, i + 1)));
            }
            String finalC = grads(c) + " " + c.store.copyOutAll().values().stream().mapToInt(Arrays::hashCode).sum();
            assertEquals(finalA, finalC, "final\n" + String.join("\n", log));
        }
    }
}
