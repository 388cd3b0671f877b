// An Optimizer of one's own (the public interface, not AbstractOptimizer) that updates the weights through Backend
// kernels, as SGD does, must train the model as SGD does. The recurrent layers keep a packed copy of Wh and the
// embedding's folded table E Wx + b between forwards, made again only when the store's Version moved: a writer that
// did not call valuesWritten() (which Optimizer.step's contract never asked for) left every later forward multiplying
// by the weights of the first one, while the backward read the new ones, and training went wrong without a word. They
// now also compare the values' Tensor.writes, which every Backend kernel counts.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.models.Rnnlm;
import org.seq4j.optim.Optimizer;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BackendWritesToWeightsTest {
    static final int V = 11, D = 6, H = 8, N = 3, T = 5;

    /** SGD's update through the Backend, without AbstractOptimizer (and so without valuesWritten). */
    static final class OwnSgd implements Optimizer {
        private float lr;

        OwnSgd(float lr) {
            this.lr = lr;
        }

        @Override
        public void step(ParameterStore params) {
            params.backend().sgdUpdate(params.values(), params.grads(), lr);
            params.zeroGrads();
        }

        @Override
        public float learningRate() {
            return lr;
        }

        @Override
        public void setLearningRate(float lr) {
            this.lr = lr;
        }

        @Override
        public void close() {
        }
    }

    private static float[] losses(Backend backend, Cell cell, Optimizer opt, int[] x, int[] t) {
        try (Rnnlm model = new Rnnlm(backend, V, D, H, cell, 7); opt;
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor xs = backend.allocate(arena, DType.I32, N, T);
            Tensor ts = backend.allocate(arena, DType.I32, N, T);
            backend.copyIn(xs, x);
            backend.copyIn(ts, t);
            float[] losses = new float[4];
            for (int i = 0; i < losses.length; i++) {
                losses[i] = model.forward(xs, ts);
                model.backward();
                opt.step(model.store());
            }
            return losses;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void anOptimizerOfOnesOwnTrainsAsSgdDoes(String name) {
        Backend backend = TestBackends.get(name);
        int[] x = new int[N * T], t = new int[N * T];
        for (int i = 0; i < x.length; i++) {
            x[i] = (3 * i + 1) % V;
            t[i] = (5 * i + 2) % V;
        }
        for (Cell cell : Cell.values()) {
            float[] sgd = losses(backend, cell, new SGD(0.5f), x, t);
            float[] own = losses(backend, cell, new OwnSgd(0.5f), x, t);
            assertEquals(sgd[0], own[0], cell + ": the first forward, before any step");
            assertArrayEquals(sgd, own, cell + ": the losses after steps of an optimizer of one's own that writes"
                    + " the weights through the Backend must be SGD's");
        }
    }

    /** The folded table E Wx + b of forward(embed, ids): a Backend write to E, Wx or b is seen by the next forward. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    void aBackendWriteToTheFoldedWeightsIsSeenByTheNextForward(String name) {
        Backend backend = TestBackends.get(name);
        int v = 7;   // V x D small: folds
        for (Cell cell : Cell.values()) {
            for (String written : new String[] {"E", "Wx", "b"}) {
                int g = cell.columns(H);
                try (ParameterStore e = ParameterStore.builder(backend).declare("E", Init.normal(1.0), v, D).build(5);
                     ParameterStore s = ParameterStore.builder(backend).declare("Wx", Init.normal(0.5), D, g)
                             .declare("Wh", Init.normal(0.4), H, g).declare("b", Init.normal(0.3), g).build(6);
                     TimeEmbedding embed = new TimeEmbedding(backend, e.get("E"));
                     TimeRecurrent layer = cell.time(backend, s.get("Wx"), s.get("Wh"), s.get("b"), false);
                     Workspace ws = new Workspace(backend)) {
                    Tensor ids = GradientCheck.ints(backend, ws, new int[] {1, 2, 3, 4, 5, 6}, 3, 2);
                    layer.forward(embed, ids);   // makes the table
                    Parameter p = written.equals("E") ? e.get("E") : s.get(written);
                    backend.scale(p.value(), -0.5f);   // through the Backend, no word to the Version
                    float[] after = TestBackends.values(backend, layer.forward(embed, ids));
                    float[] fresh;
                    try (TimeEmbedding embed2 = new TimeEmbedding(backend, e.get("E"));
                         TimeRecurrent layer2 = cell.time(backend, s.get("Wx"), s.get("Wh"), s.get("b"), false)) {
                        fresh = TestBackends.values(backend, layer2.forward(embed2, ids));
                    }
                    TestBackends.assertSameRun(backend, fresh, after, cell + ", " + written + " scaled through the"
                            + " Backend: the forward must equal a fresh layer's over the same values");
                }
            }
        }
    }
}
