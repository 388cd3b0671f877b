// seq4j extended from outside its packages, with nothing but its exported API, as a user would: a layer of one's own
// (a time-distributed highway layer with its parameters in a ParameterStore, forward and backward on Backend
// kernels, checked against central differences), a language model of one's own on AbstractRnnlm (TimeEmbedding, a
// stateful TimeGRU, the highway layer, TimeAffine) that RnnlmTrainer trains, Checkpoint saves and loads, and that
// generates and beam-searches through the base, a regression model on AbstractModel that Trainer fits, and an
// optimizer of one's own (SGD with decoupled weight decay) on AbstractOptimizer. It keeps compiling only while that
// API still allows all of this.
package com.example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.data.HostFloats;
import org.seq4j.layers.CallOrder;
import org.seq4j.layers.Init;
import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeGRU;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.TimeMSE;
import org.seq4j.layers.TimeSoftmaxWithLoss;
import org.seq4j.layers.Workspace;
import org.seq4j.models.AbstractModel;
import org.seq4j.models.AbstractRnnlm;
import org.seq4j.models.Beam;
import org.seq4j.models.BeamState;
import org.seq4j.models.LanguageModel;
import org.seq4j.optim.AbstractOptimizer;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.train.Batches;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.Trainer;

class CustomLayerTest {

    /**
     * y = x + g * (h - x) at every step, with h = tanh(x Wh + bh) and the gate g = sigmoid(x Wg + bg); x, y (T, N, D).
     * Its parameters are declared by {@link #declare} under a prefix. The order of calls (forward, then one backward
     * over unchanged weights) is checked by a CallOrder, as seq4j's own layers check theirs.
     */
    static final class TimeHighway implements AutoCloseable {
        private final Backend backend;
        private final Parameter Wh, bh, Wg, bg;
        private final int D;
        private final Workspace ws;
        private int sizedM = -1;
        private Tensor h, g, diff, y, dh, dg, dx;   // (M, D) each, M = T * N
        private Tensor x;                             // the last forward's input, (M, D) view
        private int T, N;
        private final CallOrder calls;                // forward, then one backward, over unchanged weights

        static ParameterStore.Builder declare(ParameterStore.Builder b, String prefix, int D) {
            return b.declare(prefix + ".Wh", Init.scaledNormal(D), D, D)
                    .declare(prefix + ".bh", Init.zeros(), D)
                    .declare(prefix + ".Wg", Init.scaledNormal(D), D, D)
                    .declare(prefix + ".bg", Init.constant(-1f), D);   // the gate starts mostly shut
        }

        TimeHighway(Backend backend, ParameterStore store, String prefix) {
            this.backend = backend;
            this.Wh = store.get(prefix + ".Wh");
            this.bh = store.get(prefix + ".bh");
            this.Wg = store.get(prefix + ".Wg");
            this.bg = store.get(prefix + ".bg");
            this.D = Wh.dim(0);
            this.ws = new Workspace(backend);
            this.calls = new CallOrder("TimeHighway", Wh, bh, Wg, bg);
        }

        Tensor forward(Tensor xs) {
            calls.enter("forward");   // one thread at a time, released however the call ends
            try {
                calls.forwardStarts();
                if (xs.rank() != 3 || xs.dim(2) != D) {
                    throw new IllegalArgumentException("TimeHighway.forward needs x (T, N, D=" + D + "), got " + xs);
                }
                if (ws.holds(xs)) {
                    throw new IllegalArgumentException("TimeHighway.forward: x lies in this layer's own buffers; "
                            + "pass a copy");
                }
                T = xs.dim(0);
                N = xs.dim(1);
                int m = T * N;
                if (m != sizedM) {
                    sizedM = -1;
                    ws.reset();
                    h = ws.floats(m, D);
                    g = ws.floats(m, D);
                    diff = ws.floats(m, D);
                    y = ws.floats(m, D);
                    dh = ws.floats(m, D);
                    dg = ws.floats(m, D);
                    dx = ws.floats(m, D);
                    sizedM = m;
                }
                x = xs.view(m, D);
                backend.matmul(Transpose.NO, Transpose.NO, 1f, x, Wh.value(), 0f, h);
                backend.addBias(h, bh.value());
                backend.tanhForward(h, h);
                backend.matmul(Transpose.NO, Transpose.NO, 1f, x, Wg.value(), 0f, g);
                backend.addBias(g, bg.value());
                backend.sigmoidForward(g, g);
                backend.copy(diff, h);
                backend.addScaled(diff, x, -1f);           // h - x
                backend.mul(y, g, diff);
                backend.addScaled(y, x, 1f);               // x + g (h - x)
                calls.forwardReturned();
                return y.view(T, N, D);
            } finally {
                calls.exit();
            }
        }

        Tensor backward(Tensor dys) {
            calls.enter("backward");   // one thread at a time, released however the call ends
            try {
                // dys checked before the forward is used up: a refused one may be corrected and passed again
                calls.backwardAllowed();
                backend.requireOperand("mul", "dys", dys);   // null, closed, or on the heap where mul cannot read it
                if (dys.rank() != 3 || dys.dim(0) != T || dys.dim(1) != N || dys.dim(2) != D) {
                    // the view below would take any shape of T*N*D values
                    throw new IllegalArgumentException("TimeHighway.backward: dys has shape "
                            + Tensor.shapeString(dys.shape()) + ", expected (" + T + ", " + N + ", " + D + ")");
                }
                calls.backwardStarts();
                Tensor dy = dys.view(sizedM, D);
                backend.mul(dh, dy, g);                    // dL/dh = dy g
                backend.tanhBackward(dh, h, dh);           // through tanh: dA
                backend.mul(dg, dy, diff);                 // dL/dg = dy (h - x)
                backend.sigmoidBackward(dg, g, dg);        // through sigmoid: dB
                backend.copy(dx, dy);
                backend.mul(diff, dy, g);                  // diff is free now: dy g
                backend.addScaled(dx, diff, -1f);          // dy (1 - g)
                backend.matmul(Transpose.NO, Transpose.YES, 1f, dh, Wh.value(), 1f, dx);
                backend.matmul(Transpose.NO, Transpose.YES, 1f, dg, Wg.value(), 1f, dx);
                backend.matmul(Transpose.YES, Transpose.NO, 1f, x, dh, 1f, Wh.grad());
                backend.sumRows(bh.grad(), dh, 1f);
                backend.matmul(Transpose.YES, Transpose.NO, 1f, x, dg, 1f, Wg.grad());
                backend.sumRows(bg.grad(), dg, 1f);
                calls.backwardReturned();
                return dx.view(T, N, D);
            } finally {
                calls.exit();
            }
        }

        @Override
        public void close() {
            calls.close();   // every later call is refused, naming this layer
            ws.close();
        }
    }

    /**
     * Sum of y * r for a fixed r: the loss of the gradient check. In double on the host.
     */
    static double weighted(Backend backend, TimeHighway layer, Tensor x, float[] r) {
        float[] y = new float[r.length];
        backend.copyOut(y, layer.forward(x));
        double s = 0;
        for (int i = 0; i < r.length; i++) {
            s += (double) y[i] * r[i];
        }
        return s;
    }

    @Test
    void theHighwayLayersGradientsMatchCentralDifferences() {
        int T = 3, N = 2, D = 4;
        try (Backend backend = Backends.create("java");
             ParameterStore store = TimeHighway.declare(ParameterStore.builder(backend), "hw", D).build(7);
             TimeHighway layer = new TimeHighway(backend, store, "hw");
             Arena arena = Arena.ofConfined()) {
            Random rng = new Random(3);
            store.copyIn("hw.bh", new float[] {0.1f, -0.2f, 0.3f, 0f});
            store.copyIn("hw.bg", new float[] {-0.5f, 0.4f, 0f, 0.2f});
            float[] xv = new float[T * N * D], r = new float[T * N * D];
            for (int i = 0; i < xv.length; i++) {
                xv[i] = (float) rng.nextGaussian();
                r[i] = (float) rng.nextGaussian();
            }
            Tensor x = backend.allocate(arena, DType.F32, T, N, D), dy = backend.allocate(arena, DType.F32, T, N, D);
            backend.copyIn(x, xv);
            backend.copyIn(dy, r);
            layer.forward(x);
            assertEquals("TimeHighway.backward: dys has shape (2, 3, 4), expected (3, 2, 4)", assertThrows(
                    IllegalArgumentException.class, () -> layer.backward(dy.view(N, T, D))).getMessage());
            float[] dx = new float[xv.length];
            backend.copyOut(dx, layer.backward(dy));   // the refusal left the forward
            assertEquals("TimeHighway.backward: already ran for this forward; run forward again",
                    assertThrows(IllegalStateException.class, () -> layer.backward(dy)).getMessage());
            try (ParameterStore fresh = TimeHighway.declare(ParameterStore.builder(backend), "fresh", D).build(1)) {
                assertArrayEquals(new float[] {-1f, -1f, -1f, -1f}, fresh.copyOut("fresh.bg"), "Init.constant(-1)");
            }

            double eps = 1e-2;
            for (Parameter p : store.parameters()) {
                float[] grad = store.copyOutGrad(p.name()), v = store.copyOut(p.name());
                for (int i = 0; i < v.length; i++) {
                    float keep = v[i];
                    v[i] = (float) (keep + eps);
                    store.copyIn(p.name(), v);
                    double plus = weighted(backend, layer, x, r);
                    v[i] = (float) (keep - eps);
                    store.copyIn(p.name(), v);
                    double minus = weighted(backend, layer, x, r);
                    v[i] = keep;
                    store.copyIn(p.name(), v);
                    double numeric = (plus - minus) / (2 * eps);
                    assertEquals(numeric, grad[i], 2e-3 * Math.max(1, Math.abs(numeric)), p.name() + "[" + i + "]");
                }
            }
            for (int i = 0; i < xv.length; i++) {
                float keep = xv[i];
                xv[i] = (float) (keep + eps);
                backend.copyIn(x, xv);
                double plus = weighted(backend, layer, x, r);
                xv[i] = (float) (keep - eps);
                backend.copyIn(x, xv);
                double minus = weighted(backend, layer, x, r);
                xv[i] = keep;
                backend.copyIn(x, xv);
                double numeric = (plus - minus) / (2 * eps);
                assertEquals(numeric, dx[i], 2e-3 * Math.max(1, Math.abs(numeric)), "dx[" + i + "]");
            }
            // a weight written after the forward (here: the checks' own copyIn) makes the backward refuse
            layer.forward(x);
            store.copyIn("hw.bh", new float[D]);
            assertEquals("TimeHighway.backward: its weights were written since its forward (an optimizer step, copyIn,"
                    + " a load or a write through the backend); run forward again", assertThrows(IllegalStateException.class,
                    () -> layer.backward(dy)).getMessage());
        }
    }

    /** SGD with decoupled weight decay: w -= lr * (grad + decay * w), from two Backend kernels over the flat store. */
    static final class DecayedSgd extends AbstractOptimizer {
        private final float decay;

        DecayedSgd(float lr, float decay) {
            super(lr);
            this.decay = decay;
        }

        @Override
        protected void update(ParameterStore p) {
            p.backend().scale(p.values(), 1f - learningRate() * decay);   // the padding is 0 and stays 0
            p.backend().sgdUpdate(p.values(), p.grads(), learningRate());
        }

        @Override
        public String settings() {   // what data-parallel ranks agree on at each epoch's start: the decay too
            return super.settings() + ", decay " + decay;
        }
    }

    @Test
    void aModelOfOnesOwnTrainsSavesAndLoads(@TempDir Path dir) throws Exception {
        int V = 8, D = 6, H = 8;
        int[] corpus = new int[401];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = (i * 3 + i / 7) % V;   // a sequence with structure to learn
        }
        Path file = dir.resolve("highway.npz");
        try (DecayedSgd sgd = new DecayedSgd(1f, 1e-4f)) {
            assertEquals("DecayedSgd lr 1.0, decay 1.0E-4", sgd.settings());
        }
        try (Backend backend = Backends.create("java")) {
            double first, last;
            try (HighwayRnnlm model = new HighwayRnnlm(backend, V, D, H, 1984);
                 RnnlmTrainer trainer = new RnnlmTrainer(model, new DecayedSgd(1f, 1e-4f), 0.25f)) {
                first = trainer.fitEpoch(1, corpus, 4, 5, new Trainer.Listener() { });
                last = first;
                for (int epoch = 2; epoch <= 8; epoch++) {
                    last = trainer.fitEpoch(epoch, corpus, 4, 5, new Trainer.Listener() { });
                }
                assertTrue(last < 0.8 * first, "perplexity " + first + " -> " + last);
                assertTrue(Double.isFinite(last) && last >= 1, "perplexity " + last);

                Properties about = new Properties();
                about.setProperty("model", "highway-lm");
                Checkpoint.write(file, model, about);
                assertEquals("highway-lm", Checkpoint.meta(file).getProperty("model"));

                try (HighwayRnnlm again = new HighwayRnnlm(backend, V, D, H, 7);
                     Arena arena = Arena.ofConfined()) {
                    Checkpoint.load(file, again);
                    for (Parameter p : model.parameters()) {
                        assertArrayEquals(model.store().copyOut(p.name()), again.store().copyOut(p.name()), p.name());
                    }
                    Tensor xs = backend.allocate(arena, DType.I32, 2, 5), ts = backend.allocate(arena, DType.I32, 2, 5);
                    backend.copyIn(xs, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 0, 1});
                    backend.copyIn(ts, new int[] {1, 2, 3, 4, 5, 6, 7, 0, 1, 2});
                    model.resetState();
                    again.resetState();
                    assertEquals(model.forward(xs, ts), again.forward(xs, ts), 0f, "same weights, same loss");
                }
            }
            assertTrue(Files.size(file) > 0);
            // a checkpoint of this model is refused by another, naming what differs
            try (HighwayRnnlm other = new HighwayRnnlm(backend, V + 1, D, H, 1)) {
                Exception e = assertThrows(Exception.class, () -> Checkpoint.load(file, other));
                assertTrue(e.getMessage().contains("embed.W"), e.getMessage());
            }
            // the optimizer of one's own refuses a second store, as the book's do
            try (DecayedSgd sgd = new DecayedSgd(0.1f, 0f);
                 HighwayRnnlm a = new HighwayRnnlm(backend, V, D, H, 1);
                 HighwayRnnlm b = new HighwayRnnlm(backend, V, D, H, 2)) {
                sgd.step(a.store());
                assertThrows(IllegalArgumentException.class, () -> sgd.step(b.store()));
            }
        }
    }

    /** A regression of one's own for Trainer: (N, T, F) windows -> TimeHighway -> TimeAffine -> TimeMSE over every step. */
    static final class HighwayRegression extends AbstractModel {
        private final TimeHighway highway;
        private final TimeAffine affine;
        private final TimeMSE mse = new TimeMSE(backend, TimeMSE.Steps.ALL);
        private int sizedN = -1, sizedT = -1;
        private Tensor x, t;

        HighwayRegression(Backend backend, int F, long seed) {
            super(backend, TimeHighway.declare(ParameterStore.builder(backend), "highway", F)
                    .declare("affine.W", Init.scaledNormal(F), F, F)
                    .declare("affine.b", Init.zeros(), F)
                    .build(seed));
            highway = new TimeHighway(backend, store, "highway");
            affine = new TimeAffine(backend, store.get("affine.W"), store.get("affine.b"));
        }

        @Override
        protected float forwardHeld(String op, Tensor xs, Tensor ts) {
            int n = xs.dim(0), steps = xs.dim(1), f = xs.dim(2);
            if (n != sizedN || steps != sizedT) {
                sizedN = -1;
                ws.reset();
                x = ws.floats(steps, n, f);
                t = ws.floats(steps, n, f);
                sizedN = n;
                sizedT = steps;
            }
            backend.swapAxes01(x, xs);
            backend.swapAxes01(t, ts);
            return backend.item(mse.forward(affine.forward(highway.forward(x)), t), 0);
        }

        @Override
        protected void backwardHeld() {
            highway.backward(affine.backward(mse.backward(1f)));
        }

        @Override
        protected void closeLayers() {
            highway.close();
            affine.close();
            mse.close();
        }
    }

    /**
     * A language model of one's own on AbstractRnnlm: only its network is written (ids -> embedding -> stateful GRU ->
     * highway -> scores); the loss, the training, generation and beam search come from the base.
     */
    static final class HighwayRnnlm extends AbstractRnnlm {
        HighwayRnnlm(Backend backend, int V, int D, int H, long seed) {
            super(backend, V, TimeHighway.declare(ParameterStore.builder(backend)
                    .declare("embed.W", Init.normal(0.01), V, D)
                    .declare("gru.Wx", Init.scaledNormal(D), D, 3 * H)
                    .declare("gru.Wh", Init.scaledNormal(H), H, 3 * H)
                    .declare("gru.b", Init.zeros(), 3 * H), "highway", H)
                    .declare("affine.W", Init.scaledNormal(H), H, V)
                    .declare("affine.b", Init.zeros(), V)
                    .build(seed), store -> new Net(backend, store));
        }

        private static final class Net implements AbstractRnnlm.Network {
            private final TimeEmbedding embed;
            private final TimeGRU gru;
            private final TimeHighway highway;
            private final TimeAffine affine;

            Net(Backend backend, ParameterStore s) {
                embed = new TimeEmbedding(backend, s.get("embed.W"));
                gru = new TimeGRU(backend, s.get("gru.Wx"), s.get("gru.Wh"), s.get("gru.b"), true);
                highway = new TimeHighway(backend, s, "highway");
                affine = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
            }

            @Override
            public Tensor predict(Tensor xs) {
                return affine.forward(highway.forward(gru.forward(embed.forward(xs))));
            }

            @Override
            public void backward(Tensor dscore) {
                embed.backward(gru.backward(highway.backward(affine.backward(dscore))));
            }

            @Override
            public void resetState() {
                gru.resetState();
            }

            @Override
            public void reorderState(BeamState state, Tensor parents) {
                state.reorder(gru, parents);
            }

            @Override
            public void setTraining(boolean training) {
            }

            @Override
            public void setInferencePrecision(PackedMatrix.Precision precision) {
                gru.setInferencePrecision(precision);
            }

            @Override
            public void close() {
                embed.close();
                gru.close();
                highway.close();
                affine.close();
            }
        }
    }

    @Test
    void aLanguageModelOnAbstractRnnlmGetsTrainingGenerationAndBeamSearch() {
        int V = 8, D = 6, H = 8;
        int[] corpus = new int[401];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = (i * 3 + i / 7) % V;
        }
        try (Backend backend = Backends.create("openblas");
             HighwayRnnlm model = new HighwayRnnlm(backend, V, D, H, 1984);
             RnnlmTrainer trainer = new RnnlmTrainer(model, new DecayedSgd(1f, 0f), 0.25f)) {
            double first = trainer.fitEpoch(1, corpus, 4, 5, new Trainer.Listener() { }), last = first;
            for (int epoch = 2; epoch <= 8; epoch++) {
                last = trainer.fitEpoch(epoch, corpus, 4, 5, new Trainer.Listener() { });
            }
            assertTrue(last < 0.8 * first, "perplexity " + first + " -> " + last);
            int[][] prompts = {{0, 3}, {5, 1}};
            int[][] greedy = model.generate(prompts, 6, LanguageModel.Sampling.ARGMAX, 1);
            Beam.Result one = model.beamSearch(prompts, 6, 1, 0, -1);
            for (int q = 0; q < prompts.length; q++) {
                // K = 1 is greedy decoding, bit for bit (Beam's ties rule), through the network's reorderState
                assertArrayEquals(greedy[q], one.best()[q], "prompt " + q);
            }
            Beam.Result three = model.beamSearch(prompts, 6, 3, 0, -1);
            for (int q = 0; q < prompts.length; q++) {
                assertEquals(6, three.best()[q].length);
            }
        }
    }

    @Test
    void trainerFitsARegressionOfOnesOwn() {
        int examples = 64, T = 3, F = 2;
        float[] in = new float[examples * T * F], out = new float[in.length];
        Random rng = new Random(5);
        for (int i = 0; i < in.length; i += F) {
            in[i] = (float) rng.nextGaussian();
            in[i + 1] = (float) rng.nextGaussian();
            out[i] = 0.5f * in[i] - in[i + 1];        // a linear map the model can learn
            out[i + 1] = 0.25f * in[i + 1] + 0.1f;
        }
        Batches data = Batches.of(new HostFloats(new int[] {examples, T, F}, in),
                new HostFloats(new int[] {examples, T, F}, out));
        try (Backend backend = Backends.create("java");
             HighwayRegression model = new HighwayRegression(backend, F, 11);
             Trainer trainer = new Trainer(model, new DecayedSgd(0.1f, 0f), 5f, 1)) {
            float first = trainer.fitEpoch(1, data, 8, new Trainer.Listener() { });
            float last = first;
            for (int epoch = 2; epoch <= 20; epoch++) {
                last = trainer.fitEpoch(epoch, data, 8, new Trainer.Listener() { });
            }
            assertTrue(last < 0.2f * first, "loss " + first + " -> " + last);
        }
    }
}
