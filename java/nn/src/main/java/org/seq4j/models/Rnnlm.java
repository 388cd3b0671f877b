// The book's Rnnlm (ch06): TimeEmbedding, a stateful TimeLSTM, TimeAffine.
// Parameters: embed.W (V, D), lstm.Wx (D, 4H), lstm.Wh (H, 4H), lstm.b (4H,), affine.W (H, V), affine.b (V,).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.tensor.Tensor;

/**
 * The book's Rnnlm (ch06): TimeEmbedding, a stateful TimeLSTM, TimeAffine. Parameters: embed.W (V, D),
 * lstm.Wx (D, 4H), lstm.Wh (H, 4H), lstm.b (4H,), affine.W (H, V), affine.b (V,).
 */
public final class Rnnlm extends AbstractRnnlm {

    /**
     * A model with new weights; the book's defaults are V = 10000, D = 100, H = 100.
     *
     * @param backend where the parameters and activations live
     * @param V       vocabulary size
     * @param D       word vector size
     * @param H       hidden size
     * @param seed    the initial weights' seed ({@code new Random(seed)})
     * @throws IllegalArgumentException if a size is below 1
     */
    public Rnnlm(Backend backend, int V, int D, int H, long seed) {
        super(backend, V, declare(backend, V, D, H).build(seed), s -> new Net(backend, s));
    }

    private static ParameterStore.Builder declare(Backend backend, int V, int D, int H) {
        Inputs.requireSizes(V, D, H);
        return ParameterStore.builder(backend)
                .declare("embed.W", Init.normal(0.01), V, D)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H)
                .declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.zeros(), 4 * H)
                .declare("affine.W", Init.scaledNormal(H), H, V)
                .declare("affine.b", Init.zeros(), V);
    }

    private static final class Net implements Network {
        private final TimeEmbedding embed;
        private final TimeLSTM lstm;
        private final TimeAffine affine;

        Net(Backend backend, ParameterStore s) {
            embed = new TimeEmbedding(backend, s.get("embed.W"));
            lstm = new TimeLSTM(backend, s.get("lstm.Wx"), s.get("lstm.Wh"), s.get("lstm.b"), true);
            affine = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
        }

        @Override
        public Tensor predict(Tensor xs) {
            return affine.forward(lstm.forward(embed.forward(xs)));
        }

        @Override
        public void backward(Tensor dscore) {
            embed.backward(lstm.backward(affine.backward(dscore)));
        }

        @Override
        public void resetState() {
            lstm.resetState();
        }

        @Override
        public void reorderState(BeamState state, Tensor parents) {
            state.reorder(lstm, parents);
        }

        @Override
        public void setTraining(boolean training) {
        }

        @Override
        public void close() {
            embed.close();
            lstm.close();
            affine.close();
        }
    }
}
