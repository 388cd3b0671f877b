// The state a stateful TimeLSTM/TimeGRU carries between forwards, wherever it is kept (the last step's buffers after
// a forward, hState after a resize or setState), and the zeros a layer starts from (filled once per workspace): a
// sequence cut into chunks of equal and of changing lengths, with resetState and setState between them, gives
// bit for bit what one forward over the whole sequence (or a fresh layer) gives, on every backend, both cells.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.testing.TestBackends.assertSameRun;
import static org.seq4j.testing.TestBackends.values;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.JavaBackend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class CarriedStateTest {
    static final int D = 3, H = 4, N = 2, T = 8;

    static Stream<Arguments> cases() {
        return TestBackends.all().flatMap(b -> Stream.of(Cell.values()).map(c -> Arguments.of(b, c)));
    }

    /** The cell's weights (rnn.*) and a plain TimeRNN's (plain.*), the same numbers for every test. */
    private static ParameterStore store(Backend backend, Cell cell) {
        int g = cell.columns(H);
        return ParameterStore.builder(backend)
                .declare("rnn.Wx", Init.scaledNormal(D), D, g)
                .declare("rnn.Wh", Init.scaledNormal(H), H, g)
                .declare("rnn.b", Init.normal(0.3), g)
                .declare("plain.Wx", Init.scaledNormal(D), D, H)
                .declare("plain.Wh", Init.scaledNormal(H), H, H)
                .declare("plain.b", Init.normal(0.3), H)
                .build(11);
    }

    private static TimeRecurrent stateful(Backend backend, Cell cell, ParameterStore store) {
        return cell.time(backend, store.get("rnn.Wx"), store.get("rnn.Wh"), store.get("rnn.b"), true);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void chunksContinueTheWholeSequence(String name, Cell cell) {
        Backend backend = TestBackends.get(name);
        try (ParameterStore store = store(backend, cell);
             TimeRecurrent whole = stateful(backend, cell, store);
             TimeRecurrent chunks = stateful(backend, cell, store);
             TimeRecurrent fresh = stateful(backend, cell, store);
             Workspace ws = new Workspace(backend)) {
            float[] xs = GradientCheck.randn(new Random(5), 1, T * N * D);
            float[] all = values(backend, whole.forward(steps(backend, ws, xs, 0, T)));

            // chunks 2, 2 (same size: the state comes from the last step's buffers), 1 (resize), 3 (resize)
            int[] cuts = {0, 2, 4, 5, T};
            for (int i = 0; i + 1 < cuts.length; i++) {
                float[] part = values(backend, chunks.forward(steps(backend, ws, xs, cuts[i], cuts[i + 1])));
                assertSameRun(backend, Arrays.copyOfRange(all, cuts[i] * N * H, cuts[i + 1] * N * H), part,
                        "steps [" + cuts[i] + ", " + cuts[i + 1] + ")");
            }

            // after resetState the next forward starts from zero again, as a fresh layer's first forward does; also
            // when the forward before it (same size) started from a carried state written where the zeros were
            // (h0 = 0 enters the forward of the first step through nothing, so the backward's dWh = hs_prev^T dA
            // checks it)
            Tensor dhs = GradientCheck.tensor(backend, ws, GradientCheck.randn(new Random(7), 1, 3 * N * H), 3, N, H);
            float[] first = values(backend, fresh.forward(steps(backend, ws, xs, 0, 3)));
            store.zeroGrads();
            fresh.backward(dhs);
            float[] firstGrads = values(backend, store.grads());
            chunks.resetState();
            assertSameRun(backend, first, values(backend, chunks.forward(steps(backend, ws, xs, 0, 3))),
                    "after resetState");
            chunks.forward(steps(backend, ws, xs, 3, 6));
            chunks.resetState();
            assertSameRun(backend, first, values(backend, chunks.forward(steps(backend, ws, xs, 0, 3))),
                    "after resetState following a forward from a carried state");
            store.zeroGrads();
            chunks.backward(dhs);
            assertSameRun(backend, firstGrads, values(backend, store.grads()),
                    "gradients after resetState following a forward from a carried state");

            // setState(h) after a forward of the same size replaces the state kept in the last step's buffers
            // (an LSTM's c then starts at 0)
            float[] h = GradientCheck.randn(new Random(6), 1, N * H);
            Tensor h0 = GradientCheck.tensor(backend, ws, h, N, H);
            fresh.setState(h0);
            float[] expected = values(backend, fresh.forward(steps(backend, ws, xs, 3, 6)));
            chunks.forward(steps(backend, ws, xs, 0, 3));
            chunks.setState(h0);
            assertSameRun(backend, expected, values(backend, chunks.forward(steps(backend, ws, xs, 3, 6))),
                    "after setState");
        }
    }

    /** xs[from .. to) as a (to - from, N, D) tensor. */
    /**
     * A setState refused for its tensor's memory (owned by another backend) leaves the carried state: the chunks go on
     * as the whole sequence does. Before, only null, dtype and a closed arena were refused ahead of dropping the old
     * state; the copy refused the rest after it was gone.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aRefusedSetStateKeepsTheCarriedState(String name, Cell cell) {
        Backend backend = TestBackends.get(name);
        try (ParameterStore store = store(backend, cell);
             TimeRecurrent whole = stateful(backend, cell, store);
             TimeRecurrent chunks = stateful(backend, cell, store);
             TimeRNN rnnWhole = new TimeRNN(backend, store.get("plain.Wx"), store.get("plain.Wh"), store.get("plain.b"),
                     true);
             TimeRNN rnnChunks = new TimeRNN(backend, store.get("plain.Wx"), store.get("plain.Wh"), store.get("plain.b"),
                     true);
             Backend other = new JavaBackend();
             Workspace ws = new Workspace(backend);
             Workspace foreign = new Workspace(other)) {
            float[] xs = GradientCheck.randn(new Random(5), 1, T * N * D);
            // memory whose owner orders its writes (as a GPU backend's stream does): every other backend refuses it
            Tensor h = foreign.floats(N, H).ownedBy(other), c = foreign.floats(N, H).ownedBy(other);
            Tensor mine = ws.floats(N, H);
            String layer = "Time" + cell.name();

            float[] all = values(backend, whole.forward(steps(backend, ws, xs, 0, T)));
            chunks.forward(steps(backend, ws, xs, 0, 4));
            refusedSetState(backend, layer, () -> chunks.setState(h));
            if (chunks instanceof TimeLSTM lstm) {
                refusedSetState(backend, layer, () -> lstm.setState(mine, c));
            }
            float[] rest = values(backend, chunks.forward(steps(backend, ws, xs, 4, T)));
            assertSameRun(backend, Arrays.copyOfRange(all, 4 * N * H, T * N * H), rest, "after the refused setState");

            float[] rnnAll = values(backend, rnnWhole.forward(steps(backend, ws, xs, 0, T)));
            rnnChunks.forward(steps(backend, ws, xs, 0, 4));
            refusedSetState(backend, "TimeRNN", () -> rnnChunks.setState(h));
            float[] rnnRest = values(backend, rnnChunks.forward(steps(backend, ws, xs, 4, T)));
            assertSameRun(backend, Arrays.copyOfRange(rnnAll, 4 * N * H, T * N * H), rnnRest,
                    "TimeRNN after the refused setState");
        }
    }

    /** Refused for its owner; a device backend refuses the host memory first ("is on CPU but ... works on CUDA"). */
    private static void refusedSetState(Backend backend, String layer, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        String why = backend.device().isHost() ? "owned by another" : "is on CPU but the " + backend.name()
                + " backend works on " + backend.device();
        assertTrue(e.getMessage().startsWith(layer + ".setState: ") && e.getMessage().contains(why), e.getMessage());
    }

    private static Tensor steps(Backend backend, Workspace ws, float[] xs, int from, int to) {
        return GradientCheck.tensor(backend, ws, Arrays.copyOfRange(xs, from * N * D, to * N * D), to - from, N, D);
    }
}
