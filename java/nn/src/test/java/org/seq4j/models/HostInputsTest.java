// Inputs a caller hands a model in Java heap memory (Tensor.wrap(int[]), Tensor.wrap(float[])) work on every backend,
// with the answers, losses and predictions of the same inputs in memory from allocate(). On a native backend they
// were refused by the kernel that transposes them, in its own words ("swapAxes01: in Tensor(2, 3) I32 ... lies on the
// Java heap"), where the java backend took them; the models copy their inputs into their workspace anyway, now through
// the host for memory the kernels cannot read.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class HostInputsTest {
    static final int V = 9, D = 5, H = 6, N = 2, T = 3;

    /** ids (n, t) int32 in memory the backend allocated (RefusedModelCallsTest's too). */
    static Tensor allocated(Backend backend, Arena arena, int[] ids, int n, int t) {
        Tensor x = backend.allocate(arena, DType.I32, n, t);
        backend.copyIn(x, ids);
        return x;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void heapIdsWorkAsAllocatedOnes(String backendName) {
        Backend backend = TestBackends.get(backendName);
        int[] xs = {1, 2, 3, 4, 5, 6}, ts = {8, 1, 2, 8, 3, 4};
        try (Arena arena = Arena.ofConfined(); Seq2seq s2s = new Seq2seq(backend, V, D, H, 1);
             Rnnlm lm = new Rnnlm(backend, V, D, H, 2)) {
            ModelTesting.scramble(s2s, new Random(1), 1.0);
            ModelTesting.scramble(lm, new Random(2), 1.0);
            Tensor heapXs = Tensor.wrap(xs, N, T), heapTs = Tensor.wrap(ts, N, T);
            Tensor xsT = allocated(backend, arena, xs, N, T), tsT = allocated(backend, arena, ts, N, T);
            assertArrayEquals(s2s.generate(xsT, 8, 3), s2s.generate(heapXs, 8, 3), "Seq2seq.generate");
            assertArrayEquals(s2s.beamSearch(xsT, 8, 3, 2).sequences(), s2s.beamSearch(heapXs, 8, 3, 2).sequences(),
                    "Seq2seq.beamSearch");
            assertEquals(s2s.forward(xsT, tsT), s2s.forward(heapXs, heapTs), "Seq2seq.forward");
            s2s.backward();   // the forward over heap ids recorded what its backward needs
            lm.resetState();
            float loss = lm.forward(xsT, tsT);
            lm.resetState();
            assertEquals(loss, lm.forward(heapXs, heapTs), "Rnnlm.forward");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void heapValuesWorkAsAllocatedOnes(String backendName) {
        Backend backend = TestBackends.get(backendName);
        float[] xs = new float[N * T * 2];
        Random rng = new Random(3);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rng.nextGaussian();
        }
        // one model for both inputs: a model's answer depends on its weights and the input alone, not on the calls
        // before (RepeatedCallsTest)
        try (Arena arena = Arena.ofConfined(); WavePredictor predictor = new WavePredictor(backend, 2, H, 1);
             WaveSeq2seq seq2seq = new WaveSeq2seq(backend, 2, 1, H, 2)) {
            ModelTesting.scramble(predictor, new Random(4), 1.0);
            ModelTesting.scramble(seq2seq, new Random(5), 1.0);
            Tensor allocated = backend.allocate(arena, DType.F32, N, T, 2);
            backend.copyIn(allocated, xs);
            Tensor heap = Tensor.wrap(xs, N, T, 2);
            assertArrayEquals(predictor.predict(allocated, 4), predictor.predict(heap, 4), "WavePredictor.predict");
            assertArrayEquals(seq2seq.predict(allocated, 4), seq2seq.predict(heap, 4), "WaveSeq2seq.predict");
            // the training forwards' targets too: WavePredictor's (N, F) went to the loss kernel as they were, refused
            // on the heap by openblas ("mseForward: t ... lies on the Java heap")
            float[] next = {0.5f, -0.25f, 1f, 0.75f};
            Tensor nextAllocated = backend.allocate(arena, DType.F32, N, 2);
            backend.copyIn(nextAllocated, next);
            assertEquals(predictor.forward(allocated, nextAllocated), predictor.forward(heap, Tensor.wrap(next, N, 2)),
                    "WavePredictor.forward");
            predictor.backward();
            float[] ys = new float[N * 3 * 1];
            for (int i = 0; i < ys.length; i++) {
                ys[i] = (float) rng.nextGaussian();
            }
            Tensor ysAllocated = backend.allocate(arena, DType.F32, N, 3, 1);
            backend.copyIn(ysAllocated, ys);
            assertEquals(seq2seq.forward(allocated, ysAllocated), seq2seq.forward(heap, Tensor.wrap(ys, N, 3, 1)),
                    "WaveSeq2seq.forward");
            seq2seq.backward();
        }
    }
}
