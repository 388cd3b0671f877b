// The book's Rnnlm (ch06): TimeEmbedding, a stateful TimeLSTM (or TimeGRU with Cell.GRU), TimeAffine.
// Parameters: embed.W (V, D), lstm.Wx (D, 4H), lstm.Wh (H, 4H), lstm.b (4H,), affine.W (H, V), affine.b (V,).
// With Cell.GRU: gru.Wx (D, 3H), gru.Wh (H, 3H), gru.b (3H,) in place of lstm.*.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeRecurrent;
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
        this(backend, V, D, H, Cell.LSTM, seed);
    }

    /**
     * The same model with the given recurrent cell (Cell.GRU: the book's appendix GRU, parameters gru.Wx (D, 3H),
     * gru.Wh (H, 3H), gru.b (3H,) instead of lstm.*).
     *
     * @param backend where the parameters and activations live
     * @param V       vocabulary size
     * @param D       word vector size
     * @param H       hidden size
     * @param cell    the recurrent cell
     * @param seed    the initial weights' seed ({@code new Random(seed)})
     * @throws IllegalArgumentException if a size is not positive
     */
    public Rnnlm(Backend backend, int V, int D, int H, Cell cell, long seed) {
        super(backend, V, declare(Inputs.storeBuilder("Rnnlm", backend, cell), V, D, H, cell).build(seed),
                s -> new Net(backend, s, cell));
    }

    /**
     * Declares this model's parameters on {@code b}, named, shaped and initialised as the constructor's:
     * {@code b.build(seed)} makes the store {@code new Rnnlm(...)} holds with the same seed, and
     * {@link ParameterStore.Builder#shapes()} gives their names and shapes with nothing allocated (what a
     * checkpoint's arrays are compared with before a model is built).
     *
     * @param b the store's builder
     * @param V vocabulary size
     * @param D word vector size
     * @param H hidden size
     * @param cell the recurrent cell
     * @return b
     * @throws IllegalArgumentException if a size is not positive, or the gate columns do not fit an int
     * @throws NullPointerException if b or cell is null
     */
    public static ParameterStore.Builder declare(ParameterStore.Builder b, int V, int D, int H, Cell cell) {
        Inputs.declaring("Rnnlm.declare", b, cell);
        Inputs.requireSizes("Rnnlm", V, D, H);
        String rnn = cell.lower();
        int g = cell.columns(H);
        return b.declare("embed.W", Init.normal(0.01), V, D)
                .declare(rnn + ".Wx", Init.scaledNormal(D), D, g)
                .declare(rnn + ".Wh", Init.scaledNormal(H), H, g)
                .declare(rnn + ".b", Init.zeros(), g)
                .declare("affine.W", Init.scaledNormal(H), H, V)
                .declare("affine.b", Init.zeros(), V);
    }

    private static final class Net implements Network {
        private final TimeEmbedding embed;
        private final TimeRecurrent lstm;
        private final TimeAffine affine;

        Net(Backend backend, ParameterStore s, Cell cell) {
            String rnn = cell.lower();
            embed = new TimeEmbedding(backend, s.get("embed.W"));
            lstm = cell.time(backend, s.get(rnn + ".Wx"), s.get(rnn + ".Wh"), s.get(rnn + ".b"), true);
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
        public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
            lstm.setInferencePrecision(precision);
        }

        @Override
        public void close() {
            embed.close();
            lstm.close();
            affine.close();
        }
    }
}
