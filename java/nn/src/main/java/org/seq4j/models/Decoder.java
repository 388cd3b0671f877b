// The book's Decoder (ch07): TimeEmbedding, a stateful TimeLSTM started from the encoder's h (c = 0), and
// TimeAffine to scores. Parameters: <prefix>embed.W (V, D), <prefix>lstm.Wx (D, 4H), <prefix>lstm.Wh (H, 4H),
// <prefix>lstm.b (4H,), <prefix>affine.W (H, V), <prefix>affine.b (V,).
// With Cell.GRU (the book's appendix GRU) the recurrent layer is a TimeGRU and its parameters are
// <prefix>gru.Wx, <prefix>gru.Wh, <prefix>gru.b with 3H gate columns (z, r, h) instead of 4H.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

/**
 * The book's Decoder (ch07): TimeEmbedding, a stateful TimeLSTM started from the encoder's h (c = 0), and
 * TimeAffine to scores. Parameters: embed.W (V, D), lstm.Wx (D, 4H), lstm.Wh (H, 4H), lstm.b (4H,),
 * affine.W (H, V), affine.b (V,), under a prefix.
 */
public final class Decoder implements SequenceDecoder {
    private final Backend backend;
    private final TimeEmbedding embed;
    private final TimeRecurrent lstm;
    private final TimeAffine affine;
    private final Workspace genWs;
    private final BeamState beamState;

    /**
     * Declares this part's parameters under {@code prefix}, initialised as in the book.
     *
     * @param b      the store's builder
     * @param prefix the names' prefix, e.g. {@code "decoder."}
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size
     */
    public static void declare(ParameterStore.Builder b, String prefix, int V, int D, int H) {
        declare(b, prefix, Cell.LSTM, V, D, H);
    }

    /**
     * Declares this part's parameters under {@code prefix} with the given cell, initialised as in the book: the
     * recurrent weights as {@code prefix + "lstm.*"} (4H columns) or {@code prefix + "gru.*"} (3H columns).
     *
     * @param b      the store's builder
     * @param prefix the names' prefix, e.g. {@code "decoder."}
     * @param cell   the recurrent cell
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size
     * @throws NullPointerException if b, prefix or cell is null
     */
    public static void declare(ParameterStore.Builder b, String prefix, Cell cell, int V, int D, int H) {
        Inputs.declaring("Decoder.declare", b, prefix, cell);
        String rnn = prefix + cell.lower();
        int g = cell.columns(H);
        b.declare(prefix + "embed.W", Init.normal(0.01), V, D)
                .declare(rnn + ".Wx", Init.scaledNormal(D), D, g)
                .declare(rnn + ".Wh", Init.scaledNormal(H), H, g)
                .declare(rnn + ".b", Init.zeros(), g)
                .declare(prefix + "affine.W", Init.scaledNormal(H), H, V)
                .declare(prefix + "affine.b", Init.zeros(), V);
    }

    /**
     * A part over parameters already declared (with {@code declare}) and built.
     *
     * @param backend runs the kernels
     * @param store   holds the parameters
     * @param prefix  the prefix they were declared under
     * @throws IllegalArgumentException if a parameter is missing or its shape is not the one declare gives it (the
     *         store of another model's part)
     */
    public Decoder(Backend backend, ParameterStore store, String prefix) {
        this(backend, store, prefix, Cell.LSTM);
    }

    /**
     * A part with the given cell, over parameters already declared (with {@code declare(b, prefix, cell, V, D, H)}) and built.
     *
     * @param backend runs the kernels
     * @param store   holds the parameters
     * @param prefix  the prefix they were declared under
     * @param cell    the cell they were declared with
     * @throws IllegalArgumentException if a parameter is missing or its shape is not the one declare gives it (the
     *         store of another model's part)
     */
    public Decoder(Backend backend, ParameterStore store, String prefix, Cell cell) {
        Inputs.part("Decoder", backend, store, prefix, cell);
        String rnn = prefix + cell.lower();
        var s = Inputs.PartShapes.of("Decoder", cell, store.get(prefix + "embed.W"), store.get(rnn + ".Wh"));
        s.require(store.get(rnn + ".Wx"), "(D, GH)", s.D(), s.g());
        s.require(store.get(rnn + ".b"), "(GH,)", s.g());
        s.require(store.get(prefix + "affine.W"), "(H, V)", s.H(), s.V());
        s.require(store.get(prefix + "affine.b"), "(V,)", s.V());
        this.backend = backend;
        this.embed = new TimeEmbedding(backend, store.get(prefix + "embed.W"));
        this.lstm = cell.time(backend, store.get(prefix + cell.lower() + ".Wx"),
                store.get(prefix + cell.lower() + ".Wh"), store.get(prefix + cell.lower() + ".b"), true);
        this.affine = new TimeAffine(backend, store.get(prefix + "affine.W"), store.get(prefix + "affine.b"));
        this.genWs = new Workspace(backend, getClass().getSimpleName());
        this.beamState = new BeamState(backend);
    }

    /** score (T, N, V) for xs (T, N) int32, the LSTM starting from h (N, H) and c = 0. */
    @Override
    public Tensor forward(Tensor xs, Tensor h) {
        Inputs.encoding("Decoder.forward", xs, h, lstm.hiddenSize(), false);
        lstm.setState(h);
        return affine.forward(lstm.forward(embed, xs));
    }

    /** dh (N, H) w.r.t. the initial h, for dscore (T, N, V). */
    @Override
    public Tensor backward(Tensor dscore) {
        Tensor dout = affine.backward(dscore);
        lstm.backward(embed, dout);
        return lstm.dh();
    }

    @Override
    public Tensor generate(Tensor h, int startId, int length) {
        Inputs.encoding("Decoder.generate", null, h, lstm.hiddenSize(), false);
        lstm.setState(h);
        genWs.reset();
        return Greedy.decode("Decoder.generate", backend, genWs, h.dim(0), startId, length,
                ids -> affine.forward(lstm.forward(embed, ids)));
    }

    @Override
    public Beam.Steps steps(Tensor h) {
        Inputs.encoding("Decoder.steps", null, h, lstm.hiddenSize(), false);
        lstm.setState(h);
        return beamState.steps(lstm, ids -> affine.forward(lstm.forward(embed, ids)));
    }

    @Override
    public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
        Inputs.precision("Decoder", precision);
        lstm.setInferencePrecision(precision);
    }

    @Override
    public void close() {
        embed.close();
        lstm.close();
        affine.close();
        genWs.close();
        beamState.close();
    }
}
