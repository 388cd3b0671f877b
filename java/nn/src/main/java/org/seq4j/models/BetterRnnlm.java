// The book's BetterRnnlm (ch06): two stateful LSTM layers with dropout before, between and after them, and
// weight tying: the output affine uses embed.W transposed, so D must equal H. The tied weight is one
// Parameter held by both layers; its gradient is the sum of both uses.
// Parameters: embed.W (V, D), lstm1.Wx (D, 4H), lstm1.Wh (H, 4H), lstm1.b (4H,), lstm2.Wx (H, 4H),
// lstm2.Wh (H, 4H), lstm2.b (4H,), affine.b (V,). With Cell.GRU: gru1.*, gru2.* with 3H gate columns.
package org.seq4j.models;

import java.util.SplittableRandom;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeDropout;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.tensor.Tensor;

/**
 * The book's BetterRnnlm (ch06): two stateful LSTM layers with dropout before, between and after them, and
 * weight tying (the output affine uses embed.W transposed, so D must equal H). Parameters: embed.W (V, D),
 * lstm1.Wx (D, 4H), lstm1.Wh (H, 4H), lstm1.b (4H,), lstm2.Wx (H, 4H), lstm2.Wh (H, 4H), lstm2.b (4H,),
 * affine.b (V,).
 */
public final class BetterRnnlm extends AbstractRnnlm {

    /**
     * A model with new weights; the book's defaults are V = 10000, D = H = 650, dropout 0.5.
     *
     * @param backend      where the parameters and activations live
     * @param V            vocabulary size
     * @param D            word vector size, equal to H (tied weights)
     * @param H            hidden size
     * @param dropoutRatio the drop probability of the three dropout layers, in [0, 1)
     * @param seed         the initial weights' and dropout masks' seed
     * @throws IllegalArgumentException if a size is below 1, D differs from H, or the ratio is outside [0, 1)
     */
    public BetterRnnlm(Backend backend, int V, int D, int H, float dropoutRatio, long seed) {
        this(backend, V, D, H, dropoutRatio, Cell.LSTM, seed);
    }

    /**
     * The same model with the given recurrent cell in both layers (Cell.GRU: the book's appendix GRU, parameters
     * gru1.*, gru2.* with 3H gate columns instead of lstm1.*, lstm2.*).
     *
     * @param backend      where the parameters and activations live
     * @param V            vocabulary size
     * @param D            word vector size, equal to H (tied weights)
     * @param H            hidden size
     * @param dropoutRatio the drop probability of the three dropout layers, in [0, 1)
     * @param cell         the recurrent cell of both layers
     * @param seed         the initial weights' and dropout masks' seed
     * @throws IllegalArgumentException if a size is not positive, D differs from H, or the ratio is outside [0, 1)
     */
    public BetterRnnlm(Backend backend, int V, int D, int H, float dropoutRatio, Cell cell, long seed) {
        // checked before the store is built: no parameters are allocated for a refused ratio (TimeDropout checks too)
        if (!(dropoutRatio >= 0f && dropoutRatio < 1f)) {
            throw new IllegalArgumentException("BetterRnnlm dropout ratio must be in [0, 1), got " + dropoutRatio);
        }
        super(backend, V, declare(Inputs.storeBuilder("BetterRnnlm", backend, cell), V, D, H, cell).build(seed),
                s -> new Net(backend, s, cell, dropoutRatio, seed));
    }

    /**
     * Declares this model's parameters on {@code b}, named, shaped and initialised as the constructor's:
     * {@code b.build(seed)} makes the store {@code new BetterRnnlm(...)} holds with the same seed, and
     * {@link ParameterStore.Builder#shapes()} gives their names and shapes with nothing allocated (what a
     * checkpoint's arrays are compared with before a model is built).
     *
     * @param b the store's builder
     * @param V vocabulary size
     * @param D word vector size, equal to H (tied weights)
     * @param H hidden size
     * @param cell the recurrent cell
     * @return b
     * @throws IllegalArgumentException if a size is not positive, D differs from H, or the gate columns do not fit an
     *         int
     * @throws NullPointerException if b or cell is null
     */
    public static ParameterStore.Builder declare(ParameterStore.Builder b, int V, int D, int H, Cell cell) {
        Inputs.declaring("BetterRnnlm.declare", b, cell);
        Inputs.requireSizes("BetterRnnlm", V, D, H);
        if (D != H) {
            throw new IllegalArgumentException("BetterRnnlm ties the output weights to embed.W, so the word vector size D ("
                    + D + ") must equal the hidden size H (" + H + ")");
        }
        String rnn = cell.lower();
        int g = cell.columns(H);
        return b.declare("embed.W", Init.normal(0.01), V, D)
                .declare(rnn + "1.Wx", Init.scaledNormal(D), D, g)
                .declare(rnn + "1.Wh", Init.scaledNormal(H), H, g)
                .declare(rnn + "1.b", Init.zeros(), g)
                .declare(rnn + "2.Wx", Init.scaledNormal(H), H, g)
                .declare(rnn + "2.Wh", Init.scaledNormal(H), H, g)
                .declare(rnn + "2.b", Init.zeros(), g)
                .declare("affine.b", Init.zeros(), V);
    }

    /**
     * Restarts the three dropout mask sequences from {@code seed} (for reproducible runs and gradient checks).
     * The model starts as if this were called with its construction seed.
     *
     * @param seed the masks' seed
     */
    public void setDropoutSeed(long seed) {
        held("setDropoutSeed", () -> ((Net) net).seedDropout(seed));
    }

    private static final class Net implements Network {
        private final TimeEmbedding embed;
        private final TimeDropout drop1, drop2, drop3;
        private final TimeRecurrent lstm1, lstm2;
        private final TimeAffine affine;

        Net(Backend backend, ParameterStore s, Cell cell, float ratio, long seed) {
            String rnn = cell.lower();
            embed = new TimeEmbedding(backend, s.get("embed.W"));
            drop1 = new TimeDropout(backend, ratio, 0);
            lstm1 = cell.time(backend, s.get(rnn + "1.Wx"), s.get(rnn + "1.Wh"), s.get(rnn + "1.b"), true);
            drop2 = new TimeDropout(backend, ratio, 0);
            lstm2 = cell.time(backend, s.get(rnn + "2.Wx"), s.get(rnn + "2.Wh"), s.get(rnn + "2.b"), true);
            drop3 = new TimeDropout(backend, ratio, 0);
            affine = new TimeAffine(backend, s.get("embed.W"), s.get("affine.b"), true);   // weight tying
            seedDropout(seed);
        }

        private long mark1, mark2, mark3;   // the dropouts' seeds before the forward under way (markDraws)

        @Override
        public void markDraws() {
            mark1 = drop1.seed();
            mark2 = drop2.seed();
            mark3 = drop3.seed();
        }

        @Override
        public void rewindDraws() {
            drop1.setSeed(mark1);
            drop2.setSeed(mark2);
            drop3.setSeed(mark3);
        }

        @Override
        public void drawAsRank(int rank) {
            // each stream moved to one of its own a rank: SplitMix64's golden-gamma steps keep them apart
            for (TimeDropout d : new TimeDropout[] {drop1, drop2, drop3}) {
                d.setSeed(new SplittableRandom(d.seed() + rank * 0x9E3779B97F4A7C15L).nextLong());
            }
        }

        void seedDropout(long seed) {
            // three unrelated mask streams from one seed
            SplittableRandom seeds = new SplittableRandom(seed);
            drop1.setSeed(seeds.nextLong());
            drop2.setSeed(seeds.nextLong());
            drop3.setSeed(seeds.nextLong());
        }

        @Override
        public Tensor predict(Tensor xs) {
            Tensor x = drop1.forward(embed.forward(xs));
            x = drop2.forward(lstm1.forward(x));
            x = drop3.forward(lstm2.forward(x));
            return affine.forward(x);
        }

        @Override
        public void backward(Tensor dscore) {
            Tensor d = drop3.backward(affine.backward(dscore));
            d = drop2.backward(lstm2.backward(d));
            d = drop1.backward(lstm1.backward(d));
            embed.backward(d);
        }

        @Override
        public void resetState() {
            lstm1.resetState();
            lstm2.resetState();
        }

        @Override
        public void reorderState(BeamState state, Tensor parents) {
            state.reorder(lstm1, parents);
            state.reorder(lstm2, parents);
        }

        @Override
        public void setTraining(boolean training) {
            drop1.setTraining(training);
            drop2.setTraining(training);
            drop3.setTraining(training);
        }

        @Override
        public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
            lstm1.setInferencePrecision(precision);
            lstm2.setInferencePrecision(precision);
        }

        @Override
        public void close() {
            embed.close();
            drop1.close();
            lstm1.close();
            drop2.close();
            lstm2.close();
            drop3.close();
            affine.close();
        }
    }
}
