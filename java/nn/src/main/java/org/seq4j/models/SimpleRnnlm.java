// The book's SimpleRnnlm (ch05): TimeEmbedding, a stateful TimeRNN (tanh), TimeAffine.
// Parameters: embed.W (V, D), rnn.Wx (D, H), rnn.Wh (H, H), rnn.b (H,), affine.W (H, V), affine.b (V,).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeRNN;
import org.seq4j.tensor.Tensor;

/**
 * The book's SimpleRnnlm (ch05): TimeEmbedding, a stateful TimeRNN (tanh), TimeAffine. Parameters:
 * embed.W (V, D), rnn.Wx (D, H), rnn.Wh (H, H), rnn.b (H,), affine.W (H, V), affine.b (V,).
 */
public final class SimpleRnnlm extends AbstractRnnlm {

    /**
     * A model with new weights.
     *
     * @param backend where the parameters and activations live
     * @param V       vocabulary size
     * @param D       word vector size
     * @param H       hidden size
     * @param seed    the initial weights' seed ({@code new Random(seed)})
     * @throws IllegalArgumentException if a size is below 1
     */
    public SimpleRnnlm(Backend backend, int V, int D, int H, long seed) {
        super(backend, V, declare(Inputs.storeBuilder("SimpleRnnlm", backend), V, D, H).build(seed), s -> new Net(backend, s));
    }

    /**
     * Declares this model's parameters on {@code b}, named, shaped and initialised as the constructor's:
     * {@code b.build(seed)} makes the store {@code new SimpleRnnlm(...)} holds with the same seed, and
     * {@link ParameterStore.Builder#shapes()} gives their names and shapes with nothing allocated (what a
     * checkpoint's arrays are compared with before a model is built).
     *
     * @param b the store's builder
     * @param V vocabulary size
     * @param D word vector size
     * @param H hidden size
     * @return b
     * @throws IllegalArgumentException if a size is not positive
     * @throws NullPointerException if b is null
     */
    public static ParameterStore.Builder declare(ParameterStore.Builder b, int V, int D, int H) {
        Inputs.declaring("SimpleRnnlm.declare", b);
        Inputs.requireSizes("SimpleRnnlm", V, D, H);
        return b.declare("embed.W", Init.normal(0.01), V, D)
                .declare("rnn.Wx", Init.scaledNormal(D), D, H)
                .declare("rnn.Wh", Init.scaledNormal(H), H, H)
                .declare("rnn.b", Init.zeros(), H)
                .declare("affine.W", Init.scaledNormal(H), H, V)
                .declare("affine.b", Init.zeros(), V);
    }

    private static final class Net implements Network {
        private final TimeEmbedding embed;
        private final TimeRNN rnn;
        private final TimeAffine affine;

        Net(Backend backend, ParameterStore s) {
            embed = new TimeEmbedding(backend, s.get("embed.W"));
            rnn = new TimeRNN(backend, s.get("rnn.Wx"), s.get("rnn.Wh"), s.get("rnn.b"), true);
            affine = new TimeAffine(backend, s.get("affine.W"), s.get("affine.b"));
        }

        @Override
        public Tensor predict(Tensor xs) {
            return affine.forward(rnn.forward(embed.forward(xs)));
        }

        @Override
        public void backward(Tensor dscore) {
            embed.backward(rnn.backward(affine.backward(dscore)));
        }

        @Override
        public void resetState() {
            rnn.resetState();
        }

        @Override
        public void reorderState(BeamState state, Tensor parents) {
            state.reorder(rnn, parents);
        }

        @Override
        public void setTraining(boolean training) {
        }

        @Override
        public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
            if (precision != org.seq4j.backend.PackedMatrix.Precision.F32) {
                throw new UnsupportedOperationException("SimpleRnnlm's TimeRNN has no " + precision
                        + " inference weights; only LSTM and GRU layers do");
            }
        }

        @Override
        public void close() {
            embed.close();
            rnn.close();
            affine.close();
        }
    }
}
