// The book's PeekySeq2seq (ch07): Encoder with a PeekyDecoder. Parameters as Seq2seq, except
// decoder.lstm.Wx (H+D, 4H) and decoder.affine.W (2H, V).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;

/**
 * The book's PeekySeq2seq (ch07): Encoder with a PeekyDecoder. Parameters as Seq2seq, except
 * decoder.lstm.Wx (H+D, 4H) and decoder.affine.W (2H, V).
 */
public final class PeekySeq2seq extends AbstractSeq2seq {

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
    public PeekySeq2seq(Backend backend, int V, int D, int H, long seed) {
        this(backend, V, D, H, Cell.LSTM, seed);
    }

    /**
     * The same model with the given recurrent cell in encoder and decoder (Cell.GRU: the book's appendix GRU;
     * parameters encoder.gru.*, decoder.gru.* with 3H gate columns instead of encoder.lstm.*, decoder.lstm.*).
     *
     * @param backend where the parameters and activations live
     * @param V       vocabulary size
     * @param D       word vector size
     * @param H       hidden size
     * @param cell    the recurrent cell
     * @param seed    the initial weights' seed ({@code new Random(seed)})
     * @throws IllegalArgumentException if a size is not positive
     */
    public PeekySeq2seq(Backend backend, int V, int D, int H, Cell cell, long seed) {
        super(backend, V, declare(Inputs.storeBuilder("PeekySeq2seq", backend, cell), V, D, H, cell).build(seed),
                s -> new Encoder(backend, s, "encoder.", cell),
                s -> new PeekyDecoder(backend, s, "decoder.", cell));
    }

    /**
     * Declares this model's parameters on {@code b}, named, shaped and initialised as the constructor's:
     * {@code b.build(seed)} makes the store {@code new PeekySeq2seq(...)} holds with the same seed, and
     * {@link ParameterStore.Builder#shapes()} gives their names and shapes with nothing allocated (what a
     * checkpoint's arrays are compared with before a model is built).
     *
     * @param b the store's builder
     * @param V vocabulary size
     * @param D word vector size
     * @param H hidden size
     * @param cell the recurrent cell
     * @return b
     * @throws IllegalArgumentException if a size is not positive, or a column count (the gates' 4H or 3H, H + D, 2H)
     *         does not fit an int
     * @throws NullPointerException if b or cell is null
     */
    public static ParameterStore.Builder declare(ParameterStore.Builder b, int V, int D, int H, Cell cell) {
        Inputs.declaring("PeekySeq2seq.declare", b, cell);
        Inputs.requireSizes("PeekySeq2seq", V, D, H);
        Encoder.declare(b, "encoder.", cell, V, D, H);
        PeekyDecoder.declare(b, "decoder.", cell, V, D, H);
        return b;
    }
}
