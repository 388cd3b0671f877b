// The book's Encoder (ch07): TimeEmbedding then a stateless TimeLSTM; its encoding is the last hidden state.
// Parameters: <prefix>embed.W (V, D), <prefix>lstm.Wx (D, 4H), <prefix>lstm.Wh (H, 4H), <prefix>lstm.b (4H,).
// With Cell.GRU (the book's appendix GRU) the recurrent layer is a TimeGRU and its parameters are
// <prefix>gru.Wx, <prefix>gru.Wh, <prefix>gru.b with 3H gate columns (z, r, h) instead of 4H.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.tensor.Tensor;

/**
 * The book's Encoder (ch07): TimeEmbedding then a stateless TimeLSTM; its encoding is the last hidden state.
 * Parameters: embed.W (V, D), lstm.Wx (D, 4H), lstm.Wh (H, 4H), lstm.b (4H,), under a prefix.
 */
public class Encoder implements SequenceEncoder {
    /** Where the layers run. */
    protected final Backend backend;
    /** The word vectors. */
    protected final TimeEmbedding embed;
    /** The recurrent layer (LSTM or GRU), stateless. */
    protected final TimeRecurrent lstm;

    /**
     * Declares this part's parameters under {@code prefix}, initialised as in the book.
     *
     * @param b      the store's builder
     * @param prefix the names' prefix, e.g. {@code "encoder."}
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
     * @param prefix the names' prefix, e.g. {@code "encoder."}
     * @param cell   the recurrent cell
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size
     * @throws NullPointerException if b, prefix or cell is null
     */
    public static void declare(ParameterStore.Builder b, String prefix, Cell cell, int V, int D, int H) {
        Inputs.declaring("Encoder.declare", b, prefix, cell);
        String rnn = prefix + cell.lower();
        int g = cell.columns(H);
        b.declare(prefix + "embed.W", Init.normal(0.01), V, D)
                .declare(rnn + ".Wx", Init.scaledNormal(D), D, g)
                .declare(rnn + ".Wh", Init.scaledNormal(H), H, g)
                .declare(rnn + ".b", Init.zeros(), g);
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
    public Encoder(Backend backend, ParameterStore store, String prefix) {
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
    public Encoder(Backend backend, ParameterStore store, String prefix, Cell cell) {
        Inputs.part(getClass().getSimpleName(), backend, store, prefix, cell);
        String rnn = prefix + cell.lower();
        var s = Inputs.PartShapes.of(getClass().getSimpleName(), cell, store.get(prefix + "embed.W"),
                store.get(rnn + ".Wh"));
        s.require(store.get(rnn + ".Wx"), "(D, GH)", s.D(), s.g());
        s.require(store.get(rnn + ".b"), "(GH,)", s.g());
        this.backend = backend;
        this.embed = new TimeEmbedding(backend, store.get(prefix + "embed.W"));
        this.lstm = cell.time(backend, store.get(prefix + cell.lower() + ".Wx"),
                store.get(prefix + cell.lower() + ".Wh"), store.get(prefix + cell.lower() + ".b"), false);
    }

    /** The last hidden state h_T (N, H) for xs (T, N) int32. */
    @Override
    public Tensor forward(Tensor xs) {
        lstm.forward(embed, xs);
        return lstm.h();
    }

    /**
     * dh (N, H) w.r.t. the last hidden state; flows back through the LSTM and the embedding (the hidden states
     * before the last have no gradient of their own: backwardLast, no (T, N, H) gradient of zeros).
     */
    @Override
    public void backward(Tensor dh) {
        lstm.backwardLast(embed, dh);
    }

    /**
     * The encoder's recurrent layer.
     *
     * @return the layer: a TimeLSTM or a TimeGRU
     */
    public TimeRecurrent lstm() {
        return lstm;
    }

    @Override
    public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
        // named (the layer's own words, or a bare "precision", before)
        java.util.Objects.requireNonNull(precision, () -> getClass().getSimpleName() + ".setInferencePrecision: precision is null; "
                + "expected F32 or BF16");
        lstm.setInferencePrecision(precision);
    }

    @Override
    public void close() {
        embed.close();
        lstm.close();
    }
}
