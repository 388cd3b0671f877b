// A layer reads its forward's input again in its backward (the book's layers keep x). An input written between the
// two, a batch refilled early through copyIn, a fill of a view of it, a setter, gave gradients computed from values
// the forward never saw, with no word. The backward now compares the input's write count (Tensor.writes) with the one
// its forward saw and refuses, in the layer's words, before it adds any gradient; a forward of the new values runs.
// Writes before the forward, reads by other layers and writes to other memory leave the backward alone.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class WrittenInputBackwardTest {
    static final int T = 3, N = 2, D = 4, H = 4, V = 5;

    private static ParameterStore store(Backend backend) {
        return ParameterStore.builder(backend)
                .declare("affine.W", Init.scaledNormal(D), D, H).declare("affine.b", Init.zeros(), H)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H).declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.zeros(), 4 * H)
                .declare("bf.Wx", Init.scaledNormal(D), D, 4 * H).declare("bf.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("bf.b", Init.zeros(), 4 * H)
                .declare("bb.Wx", Init.scaledNormal(D), D, 4 * H).declare("bb.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("bb.b", Init.zeros(), 4 * H)
                .declare("embed.W", Init.scaledNormal(D), V, D).build(11);
    }

    /** The ways a caller writes a tensor through seq4j, each counted by Tensor.writes. */
    private static java.util.List<Consumer<Tensor>> writes(Backend backend) {
        java.util.List<Consumer<Tensor>> ways = new java.util.ArrayList<>();
        ways.add(t -> {   // a new batch copied in over the old one
            if (t.dtype() == DType.I32) {
                backend.copyIn(t, new int[(int) t.size()]);
            } else {
                backend.copyIn(t, new float[(int) t.size()]);
            }
        });
        ways.add(t -> backend.fill(t.slice(0, 1), 1f));   // a view of it: the same memory
        ways.add(Tensor::markWritten);   // code that wrote its segment itself says so
        if (backend.device().isHost()) {
            ways.add(t -> {
                if (t.dtype() == DType.I32) {
                    t.setInt(0, 1);
                } else {
                    t.setFloat(0, 0.5f);
                }
            });
        }
        return ways;
    }

    private static void refused(String start, Runnable backward) {
        IllegalStateException e = assertThrows(IllegalStateException.class, backward::run, start);
        assertTrue(e.getMessage().startsWith(start) && e.getMessage().contains("was written since the forward"),
                e.getMessage());
    }

    private static void noGradient(ParameterStore s, String after) {
        for (Parameter p : s.parameters()) {
            for (float g : s.copyOutGrad(p.name())) {
                assertEquals(0f, g, after + ": " + p.name() + "'s gradient was written by a refused backward");
            }
        }
    }

    /** A layer's call: the start of its refusal's message, the input it keeps, its forward and its backward. */
    private record Case(String start, Tensor input, Runnable forward, Runnable backward) {
    }

    /**
     * For each case and each way of writing: forward, write the kept input (counted), the backward refused before any
     * gradient; then forward again over the new values and the backward runs.
     */
    private static void refusedAfterEveryWrite(Backend backend, ParameterStore s, Case[] cases) {
        for (Case k : cases) {
            for (Consumer<Tensor> write : writes(backend)) {
                k.forward().run();
                long before = k.input().writes();
                write.accept(k.input());
                assertNotEquals(before, k.input().writes(), k.start() + ": the write was not counted");
                refused(k.start(), k.backward());
                noGradient(s, k.start());
                k.forward().run();
                k.backward().run();
                s.zeroGrads();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void anInputWrittenBetweenForwardAndBackwardIsRefusedBeforeAnyGradient(String backendName) {
        Backend backend = TestBackends.get(backendName);
        try (ParameterStore s = store(backend);
             Affine affine = new Affine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeAffine timeAffine = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeLSTM lstm = new TimeLSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"), false);
             TimeBiRecurrent bi = new TimeBiRecurrent(backend, Cell.LSTM, s.get("bf.Wx"), s.get("bf.Wh"), s.get("bf.b"),
                     s.get("bb.Wx"), s.get("bb.Wh"), s.get("bb.b"));
             LSTM cell = new LSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"));
             TimeEmbedding embed = new TimeEmbedding(backend, s.get("embed.W"));
             TimeAttention attention = new TimeAttention(backend);
             TimeSoftmaxWithLoss loss = new TimeSoftmaxWithLoss(backend);
             Arena arena = Arena.ofConfined()) {
            Tensor x = backend.allocate(arena, DType.F32, N, D), xs = backend.allocate(arena, DType.F32, T, N, D);
            Tensor h = backend.allocate(arena, DType.F32, N, H), c = backend.allocate(arena, DType.F32, N, H);
            Tensor ids = backend.allocate(arena, DType.I32, T, N), scores = backend.allocate(arena, DType.F32, T, N, V);
            Tensor hsEnc = backend.allocate(arena, DType.F32, T, N, H), hsDec = backend.allocate(arena, DType.F32, 2, N, H);
            Tensor dout = backend.allocate(arena, DType.F32, N, H), douts = backend.allocate(arena, DType.F32, T, N, H);
            Tensor dhs2 = backend.allocate(arena, DType.F32, T, N, 2 * H), datt = backend.allocate(arena, DType.F32, 2, N, H);
            for (Tensor t : new Tensor[] {x, xs, h, c, scores, hsEnc, hsDec, dout, douts, dhs2, datt}) {
                backend.fill(t, 0.25f);
            }
            Case[] cases = {
                new Case("Affine.backward: x ", x, () -> affine.forward(x), () -> affine.backward(dout)),
                new Case("TimeAffine.backward: x ", xs, () -> timeAffine.forward(xs), () -> timeAffine.backward(douts)),
                new Case("TimeLSTM.backward: xs ", xs, () -> lstm.forward(xs), () -> lstm.backward(douts)),
                new Case("TimeLSTM.backward: ids ", ids, () -> lstm.forward(embed, ids),
                        () -> lstm.backward(embed, douts)),
                new Case("TimeBiRecurrent.backward: xs ", xs, () -> bi.forward(xs), () -> bi.backward(dhs2)),
                new Case("LSTM.backward: cPrev ", c, () -> cell.forward(x, h, c), () -> cell.backward(dout, dout)),
                new Case("LSTM.backward: hPrev ", h, () -> cell.forward(x, h, c), () -> cell.backward(dout, dout)),
                new Case("TimeEmbedding.backward: ids ", ids, () -> embed.forward(ids),
                        () -> embed.backward(backend.allocate(arena, DType.F32, T, N, D))),
                new Case("TimeAttention.backward: hsEnc ", hsEnc, () -> attention.forward(hsEnc, hsDec),
                        () -> attention.backward(datt)),
                new Case("TimeSoftmaxWithLoss.backward: ts ", ids, () -> loss.forward(scores, ids),
                        () -> loss.backward(1f)),
            };
            refusedAfterEveryWrite(backend, s, cases);
        }
    }

    /**
     * The layers the test above leaves out, each with every input it reads again in its backward. TimeRNN read its xs
     * again for Wx's gradient but kept it from no check: a batch refilled between its forward and backward gave Wx a
     * gradient of the new values with no word.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void everyOtherLayerRefusesAWrittenInputToo(String backendName) {
        Backend backend = TestBackends.get(backendName);
        try (ParameterStore s = ParameterStore.builder(backend)
                .declare("rnn.Wx", Init.scaledNormal(D), D, H).declare("rnn.Wh", Init.scaledNormal(H), H, H)
                .declare("rnn.b", Init.zeros(), H)
                .declare("gru.Wx", Init.scaledNormal(D), D, 3 * H).declare("gru.Wh", Init.scaledNormal(H), H, 3 * H)
                .declare("gru.b", Init.zeros(), 3 * H)
                .declare("mm.W", Init.scaledNormal(D), D, H).declare("embed.W", Init.scaledNormal(D), V, D).build(12);
             TimeRNN timeRnn = new TimeRNN(backend, s.get("rnn.Wx"), s.get("rnn.Wh"), s.get("rnn.b"), false);
             RNN rnn = new RNN(backend, s.get("rnn.Wx"), s.get("rnn.Wh"), s.get("rnn.b"));
             GRU gru = new GRU(backend, s.get("gru.Wx"), s.get("gru.Wh"), s.get("gru.b"));
             TimeGRU timeGru = new TimeGRU(backend, s.get("gru.Wx"), s.get("gru.Wh"), s.get("gru.b"), false);
             MatMul matMul = new MatMul(backend, s.get("mm.W"));
             Embedding embed = new Embedding(backend, s.get("embed.W"));
             SoftmaxWithLoss softmax = new SoftmaxWithLoss(backend);
             Attention attention = new Attention(backend);
             AttentionWeight weight = new AttentionWeight(backend);
             WeightSum sum = new WeightSum(backend);
             TimeMSE mse = new TimeMSE(backend, TimeMSE.Steps.ALL);
             Arena arena = Arena.ofConfined()) {
            Tensor x = backend.allocate(arena, DType.F32, N, D), xs = backend.allocate(arena, DType.F32, T, N, D);
            Tensor h = backend.allocate(arena, DType.F32, N, H), hs = backend.allocate(arena, DType.F32, T, N, H);
            Tensor a = backend.allocate(arena, DType.F32, N, T), scores = backend.allocate(arena, DType.F32, N, V);
            Tensor ids = backend.allocate(arena, DType.I32, N), ys = backend.allocate(arena, DType.F32, T, N, H);
            Tensor ts = backend.allocate(arena, DType.F32, T, N, H), dout = backend.allocate(arena, DType.F32, N, H);
            Tensor douts = backend.allocate(arena, DType.F32, T, N, H), dx = backend.allocate(arena, DType.F32, N, D);
            for (Tensor t : new Tensor[] {x, xs, h, hs, a, scores, ys, dout, douts, dx}) {
                backend.fill(t, 0.25f);
            }
            backend.fill(ts, -0.5f);
            Case[] cases = {
                new Case("TimeRNN.backward: xs ", xs, () -> timeRnn.forward(xs), () -> timeRnn.backward(douts)),
                new Case("RNN.backward: x ", x, () -> rnn.forward(x, h), () -> rnn.backward(dout)),
                new Case("RNN.backward: hPrev ", h, () -> rnn.forward(x, h), () -> rnn.backward(dout)),
                new Case("GRU.backward: x ", x, () -> gru.forward(x, h), () -> gru.backward(dout)),
                new Case("GRU.backward: hPrev ", h, () -> gru.forward(x, h), () -> gru.backward(dout)),
                new Case("TimeGRU.backward: xs ", xs, () -> timeGru.forward(xs), () -> timeGru.backward(douts)),
                new Case("MatMul.backward: x ", x, () -> matMul.forward(x), () -> matMul.backward(dout)),
                new Case("Embedding.backward: ids ", ids, () -> embed.forward(ids), () -> embed.backward(dx)),
                new Case("SoftmaxWithLoss.backward: t ", ids, () -> softmax.forward(scores, ids),
                        () -> softmax.backward(1f)),
                new Case("Attention.backward: hs ", hs, () -> attention.forward(hs, h), () -> attention.backward(dout)),
                new Case("Attention.backward: h ", h, () -> attention.forward(hs, h), () -> attention.backward(dout)),
                new Case("AttentionWeight.backward: hs ", hs, () -> weight.forward(hs, h), () -> weight.backward(a)),
                new Case("WeightSum.backward: a ", a, () -> sum.forward(hs, a), () -> sum.backward(dout)),
                new Case("TimeMSE.backward: ys ", ys, () -> mse.forward(ys, ts), () -> mse.backward(1f)),
            };
            refusedAfterEveryWrite(backend, s, cases);
        }
    }

    /**
     * What leaves the input as the forward saw it does not refuse the backward: writes before the forward, another
     * layer's forward reading the same input, writes to other tensors of the same arena, and a layer's own output
     * written by the next layer's backward.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void readsAndOtherMemoryLeaveTheBackwardAlone(String backendName) {
        Backend backend = TestBackends.get(backendName);
        try (ParameterStore s = store(backend);
             TimeAffine first = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeLSTM lstm = new TimeLSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"), false);
             Arena arena = Arena.ofConfined()) {
            Tensor xs = backend.allocate(arena, DType.F32, T, N, D), other = backend.allocate(arena, DType.F32, T, N, D);
            Tensor douts = backend.allocate(arena, DType.F32, T, N, H);
            backend.fill(xs, 0.5f);
            backend.fill(douts, 1f);
            first.forward(xs);
            lstm.forward(xs);   // reads xs too
            backend.copy(other, xs);   // reads xs, writes other
            backend.fill(other, 2f);
            lstm.backward(douts);
            first.backward(douts);
            float sum = 0f;
            for (float g : s.copyOutGrad("lstm.Wx")) {
                sum += Math.abs(g);
            }
            assertTrue(sum > 0f, "the backward ran and added a gradient");
        }
    }

    /**
     * A layer's output fed to another layer lies in the first layer's buffers, which its next forward overwrites: the
     * second layer's backward after that forward read the new activations with no word; now it is refused.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void anotherLayersOutputOverwrittenByItsNextForwardIsRefused(String backendName) {
        Backend backend = TestBackends.get(backendName);
        try (ParameterStore s = store(backend);
             TimeAffine first = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeLSTM second = new TimeLSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"), false);
             Arena arena = Arena.ofConfined()) {
            // TimeAffine maps D to H = D here, so that its output is the LSTM's input
            Tensor xs = backend.allocate(arena, DType.F32, T, N, D), other = backend.allocate(arena, DType.F32, T, N, D);
            Tensor douts = backend.allocate(arena, DType.F32, T, N, H);
            backend.fill(xs, 0.5f);
            backend.fill(other, -0.5f);
            backend.fill(douts, 1f);
            second.forward(first.forward(xs));
            first.forward(other);   // the same buffer, new values
            refused("TimeLSTM.backward: xs ", () -> second.backward(douts));
            noGradient(s, "TimeLSTM.backward");
            second.forward(first.forward(xs));
            second.backward(douts);
        }
    }

    /** Views share their memory's count; separate allocations and wraps count apart. */
    @Test
    void viewsShareOneCountAndAllocationsHaveTheirOwn() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor a = Tensor.allocateHost(arena, DType.F32, 4, 3), b = Tensor.allocateHost(arena, DType.F32, 4, 3);
            long a0 = a.writes(), b0 = b.writes();
            a.get(2).setFloat(1, 1f);
            assertNotEquals(a0, a.writes(), "a write through a row view counts on the whole tensor");
            assertEquals(a.writes(), a.view(12).writes(), "a reshape shares the count");
            assertEquals(a.writes(), a.flatSlice(0, 3).writes(), "a flat slice shares the count");
            assertEquals(b0, b.writes(), "another allocation keeps its own count");
            long a1 = a.writes();
            a.toFloatArray();
            a.getFloat(0);
            assertEquals(a1, a.writes(), "reads do not count");
            a.copyFrom(new float[12]);
            assertNotEquals(a1, a.writes(), "copyFrom counts");
        }
    }
}
