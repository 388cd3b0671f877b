// A forward given an input whose memory it cannot use is refused in its own words, before any of its kernels ran: an
// input of a closed arena (the first kernel to read it named its own argument: "gemm: a ... already closed"), and, on
// a native backend, a Java-heap input that one of the forward's kernels cannot read: TimeBiRecurrent's reversal after
// its forward direction had run ("embeddingForward: W ..."), TimeAffine's packed product of at most 128 rows
// ("gemmPacked: a ...", where its gemm for more rows takes the heap). The next forward with a usable copy runs.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class ForwardInputMemoryTest {
    static final int T = 3, N = 2, D = 4, H = 4;

    private static void refused(Class<? extends RuntimeException> type, String start, String part, Executable call) {
        RuntimeException e = assertThrows(type, call, start);
        assertTrue(e.getMessage().startsWith(start) && e.getMessage().contains(part), e.getMessage());
    }

    private static ParameterStore store(Backend backend) {
        return ParameterStore.builder(backend)
                .declare("affine.W", Init.scaledNormal(D), D, H).declare("affine.b", Init.zeros(), H)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H).declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.zeros(), 4 * H)
                .declare("bf.Wx", Init.scaledNormal(D), D, 4 * H).declare("bf.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("bf.b", Init.zeros(), 4 * H)
                .declare("bb.Wx", Init.scaledNormal(D), D, 4 * H).declare("bb.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("bb.b", Init.zeros(), 4 * H).build(3);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void anInputOfAClosedArenaIsRefusedNamingTheLayer(String backendName) {
        Backend backend = TestBackends.get(backendName);
        try (ParameterStore s = store(backend);
             Affine affine = new Affine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeLSTM lstm = new TimeLSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"), false);
             Workspace ws = new Workspace(backend)) {
            Tensor x, xs;
            try (Arena arena = Arena.ofShared()) {
                x = backend.allocate(arena, DType.F32, N, D);
                xs = backend.allocate(arena, DType.F32, T, N, D);
            }
            refused(IllegalStateException.class, "Affine.forward: x ", "already closed", () -> affine.forward(x));
            refused(IllegalStateException.class, "TimeLSTM.forward: xs ", "already closed", () -> lstm.forward(xs));
            affine.forward(ws.floats(N, D));
            lstm.forward(ws.floats(T, N, D));
        }
    }

    /**
     * A layer keeps its forward's input for the backward; where that input's arena was closed in between, the backward
     * is refused in the layer's words before it adds any gradient. TimeAffine added db, then its dW product refused x
     * in the kernel's words ("gemm: a Tensor(...) ... already closed"): a bias gradient without its weight gradient, and
     * the forward used up. The others wrote nothing but named only the kernel. A forward of a usable input runs after.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void aKeptInputClosedBeforeTheBackwardIsRefusedBeforeAnyGradient(String backendName) {
        Backend backend = TestBackends.get(backendName);
        try (ParameterStore s = store(backend);
             Affine affine = new Affine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeAffine timeAffine = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeLSTM lstm = new TimeLSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"), false);
             TimeBiRecurrent bi = new TimeBiRecurrent(backend, Cell.LSTM, s.get("bf.Wx"), s.get("bf.Wh"), s.get("bf.b"),
                     s.get("bb.Wx"), s.get("bb.Wh"), s.get("bb.b"));
             TimeSoftmaxWithLoss loss = new TimeSoftmaxWithLoss(backend);
             Workspace ws = new Workspace(backend)) {
            Arena arena = Arena.ofShared();
            Tensor x = backend.allocate(arena, DType.F32, N, D), xs = backend.allocate(arena, DType.F32, T, N, D);
            Tensor ts = backend.allocate(arena, DType.I32, T, N);
            backend.fill(x, 1f);
            backend.fill(xs, 1f);
            affine.forward(x);
            timeAffine.forward(xs);
            lstm.forward(xs);
            bi.forward(xs);
            loss.forward(ws.floats(T, N, H), ts);
            arena.close();
            Tensor dout = ws.floats(N, H), douts = ws.floats(T, N, H), dhs2 = ws.floats(T, N, 2 * H);
            backend.fill(dout, 1f);
            backend.fill(douts, 1f);
            backend.fill(dhs2, 1f);
            String kept = "which %s keeps for its backward";
            refused(IllegalStateException.class, "Affine.backward: x ", kept.formatted("Affine"),
                    () -> affine.backward(dout));
            refused(IllegalStateException.class, "TimeAffine.backward: x ", kept.formatted("TimeAffine"),
                    () -> timeAffine.backward(douts));
            refused(IllegalStateException.class, "TimeLSTM.backward: xs ", kept.formatted("TimeLSTM"),
                    () -> lstm.backward(douts));
            refused(IllegalStateException.class, "TimeBiRecurrent.backward: xs ", kept.formatted("TimeBiRecurrent"),
                    () -> bi.backward(dhs2));
            refused(IllegalStateException.class, "TimeSoftmaxWithLoss.backward: ts ",
                    kept.formatted("TimeSoftmaxWithLoss"), () -> loss.backward(1f));
            for (Parameter p : s.parameters()) {
                for (float g : s.copyOutGrad(p.name())) {
                    assertTrue(g == 0f, p.name() + "'s gradient was written by a refused backward: " + g);
                }
            }
            // through an embedding, folded (V = 5 rows for 6 tokens) and not (V = 50): the ids are what is kept
            for (int v : new int[] {5, 50}) {
                try (ParameterStore es = ParameterStore.builder(backend).declare("W", Init.scaledNormal(D), v, D)
                        .build(5);
                     TimeEmbedding embed = new TimeEmbedding(backend, es.get("W"))) {
                    Arena idsArena = Arena.ofShared();
                    Tensor ids = backend.allocate(idsArena, DType.I32, T, N);
                    lstm.forward(embed, ids);
                    idsArena.close();
                    refused(IllegalStateException.class, "TimeLSTM.backward: ids ", kept.formatted("TimeLSTM"),
                            () -> lstm.backward(embed, douts));
                    for (float g : es.copyOutGrad("W")) {
                        assertTrue(g == 0f, "V=" + v + ": dE was written by a refused backward: " + g);
                    }
                }
            }
            Tensor fresh = ws.floats(T, N, D);
            timeAffine.forward(fresh);
            timeAffine.backward(douts);
            lstm.forward(fresh);
            lstm.backward(douts);
        }
    }

    @Test
    void aHeapInputANativeKernelCannotReadIsRefusedBeforeTheForwardRuns() {
        Backend backend = TestBackends.get("openblas");
        try (ParameterStore s = store(backend);
             TimeAffine affine = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
             TimeBiRecurrent bi = new TimeBiRecurrent(backend, Cell.LSTM, s.get("bf.Wx"), s.get("bf.Wh"), s.get("bf.b"),
                     s.get("bb.Wx"), s.get("bb.Wh"), s.get("bb.b"));
             Workspace ws = new Workspace(backend)) {
            Tensor heap = Tensor.wrap(new float[T * N * D], T, N, D);
            refused(IllegalArgumentException.class, "TimeBiRecurrent.forward: embeddingForward: xs ", "Java heap",
                    () -> bi.forward(heap));
            Tensor copy = ws.floats(T, N, D);
            bi.forward(copy);
            bi.backward(ws.floats(T, N, 2 * H));
            affine.forward(copy);
            affine.backward(ws.floats(T, N, H));
        }
    }

    /**
     * TimeAffine took a Java-heap x for more than 128 rows (its gemm reads the heap) and refused it for fewer (its packed
     * product cannot), where Affine takes it at every size. It now copies such an x for the packed product: the same
     * output and gradients, to the bit, as for the same values in native memory, at 6 rows and at 130.
     */
    @Test
    void aHeapInputOfTimeAffineGivesTheBitsOfANativeOneAtEverySize() {
        Backend backend = TestBackends.get("openblas");
        for (int n : new int[] {N, 65}) {
            float[] values = new float[T * n * D], grads = new float[T * n * H];
            java.util.SplittableRandom r = new java.util.SplittableRandom(n);
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < grads.length; i++) {
                grads[i] = (float) r.nextGaussian();
            }
            float[][] heapRun = affineRun(backend, Tensor.wrap(values, T, n, D), grads);
            float[][] nativeRun;
            try (Arena arena = Arena.ofConfined()) {
                Tensor x = backend.allocate(arena, DType.F32, T, n, D);
                backend.copyIn(x, values);
                nativeRun = affineRun(backend, x, grads);
            }
            for (int i = 0; i < heapRun.length; i++) {
                assertArrayEquals(nativeRun[i], heapRun[i], "N=" + n + ", array " + i + " (out, dx, dW, db)");
            }
        }
    }

    /** out, dx, dW and db of one forward and backward of a new TimeAffine (the store's seed: the same weights). */
    private static float[][] affineRun(Backend backend, Tensor x, float[] grads) {
        try (ParameterStore s = store(backend);
             TimeAffine affine = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
             Arena arena = Arena.ofConfined()) {
            Tensor out = affine.forward(x);
            float[] outValues = new float[(int) out.size()];
            backend.copyOut(outValues, out);
            Tensor dout = backend.allocate(arena, DType.F32, out.dim(0), out.dim(1), out.dim(2));
            backend.copyIn(dout, grads);
            Tensor dx = affine.backward(dout);
            float[] dxValues = new float[(int) dx.size()], dW = new float[D * H], db = new float[H];
            backend.copyOut(dxValues, dx);
            backend.copyOut(dW, s.get("affine.W").grad());
            backend.copyOut(db, s.get("affine.b").grad());
            return new float[][] {outValues, dxValues, dW, db};
        }
    }
}
