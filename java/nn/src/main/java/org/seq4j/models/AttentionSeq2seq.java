// The book's AttentionSeq2seq (ch08): AttentionEncoder's hs feed an AttentionDecoder. Parameters as Seq2seq,
// except decoder.affine.W (2H, V).
//
// Bidirectional (the book's ch08 extension): the encoder is an AttentionBiEncoder whose two directions have
// H/2 hidden units each, so that the concatenated states hs (T, N, H) have the decoder's width H and the
// attention's dot products <hs[t], h_dec> need no projection; the decoder is unchanged and, as the book's
// AttentionDecoder does, starts from hs[T-1] = [forward h after the whole question ; backward h after the last
// token] with c = 0. H must be even. Encoder parameters: encoder.embed.W, encoder.lstm.forward_lstm.{Wx, Wh, b},
// encoder.lstm.backward_lstm.{Wx, Wh, b} with Wx (D, 2H), Wh (H/2, 2H), b (2H,); with Cell.GRU (both directions
// and the decoder GRUs, the decoder starting from hs[T-1] alone) encoder.gru.forward_gru.{Wx, Wh, b},
// encoder.gru.backward_gru.{Wx, Wh, b} with Wx (D, 3H/2), Wh (H/2, 3H/2), b (3H/2,).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/**
 * The book's AttentionSeq2seq (ch08): AttentionEncoder's hs feed an AttentionDecoder. Parameters as Seq2seq,
 * except decoder.affine.W (2H, V).
 */
public final class AttentionSeq2seq extends AbstractSeq2seq {
    private final boolean bidirectional;

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
    public AttentionSeq2seq(Backend backend, int V, int D, int H, long seed) {
        this(backend, V, D, H, Cell.LSTM, seed, false);
    }

    /**
     * A model with new weights; with bidirectional, an encoder of two directions of H/2 units each, whose
     * concatenated states have the decoder's width H.
     *
     * @param backend       where the parameters and activations live
     * @param V             vocabulary size
     * @param D             word vector size
     * @param H             hidden size of the decoder (and of the encoder's concatenated states); even if
     *                      bidirectional
     * @param seed          the initial weights' seed ({@code new Random(seed)})
     * @param bidirectional whether the encoder is an {@link AttentionBiEncoder}
     * @throws IllegalArgumentException if a size is below 1, or H is odd and bidirectional is true
     */
    public AttentionSeq2seq(Backend backend, int V, int D, int H, long seed, boolean bidirectional) {
        this(backend, V, D, H, Cell.LSTM, seed, bidirectional);
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
    public AttentionSeq2seq(Backend backend, int V, int D, int H, Cell cell, long seed) {
        this(backend, V, D, H, cell, seed, false);
    }

    /**
     * The model with the given cell and encoder direction(s).
     *
     * @param backend       where the parameters and activations live
     * @param V             vocabulary size
     * @param D             word vector size
     * @param H             hidden size of the decoder (and of the encoder's concatenated states); even if
     *                      bidirectional
     * @param cell          the recurrent cell, of the decoder and of every encoder direction
     * @param seed          the initial weights' seed ({@code new Random(seed)})
     * @param bidirectional whether the encoder is an {@link AttentionBiEncoder}
     * @throws IllegalArgumentException if a size is not positive, or H is odd with bidirectional
     */
    public AttentionSeq2seq(Backend backend, int V, int D, int H, Cell cell, long seed, boolean bidirectional) {
        super(backend, V, declare(Inputs.storeBuilder("AttentionSeq2seq", backend, cell), V, D, H, cell, bidirectional)
                        .build(seed),
                bidirectional ? s -> new AttentionBiEncoder(backend, s, "encoder.", cell)
                        : s -> new AttentionEncoder(backend, s, "encoder.", cell),
                s -> new AttentionDecoder(backend, s, "decoder.", cell));
        this.bidirectional = bidirectional;
    }

    /**
     * Whether the encoder reads the question in both directions.
     *
     * @return the constructor's bidirectional
     */
    public boolean bidirectional() {
        return bidirectional;
    }

    /**
     * The attention weights of the last forward (teacher-forced), as the book's visualize_attention reads
     * them: row [t, n] is decoder step t's distribution over the encoder steps.
     *
     * @return (T_dec, N, T_enc)
     * @throws IllegalStateException before a forward returned (none ran, or the last one threw), when the model is
     *         closed, or while another thread is inside it
     */
    public Tensor attentionWeights() {
        return held("attentionWeights", () -> {
            requireForwardReturned("attentionWeights");   // the decoder's attention may hold an older forward's
            return ((AttentionDecoder) decoder).attentionWeights();
        });
    }

    /**
     * Declares this model's parameters on {@code b}, named, shaped and initialised as the constructor's:
     * {@code b.build(seed)} makes the store {@code new AttentionSeq2seq(...)} holds with the same seed, and
     * {@link ParameterStore.Builder#shapes()} gives their names and shapes with nothing allocated (what a
     * checkpoint's arrays are compared with before a model is built).
     *
     * @param b the store's builder
     * @param V vocabulary size
     * @param D word vector size
     * @param H hidden size
     * @param cell the recurrent cell
     * @param bidirectional whether the encoder is an {@link AttentionBiEncoder}
     * @return b
     * @throws IllegalArgumentException if a size is not positive, H is odd with bidirectional, or a column count
     *         (the gates' 4H or 3H, the affine's 2H) does not fit an int
     * @throws NullPointerException if b or cell is null
     */
    public static ParameterStore.Builder declare(ParameterStore.Builder b, int V, int D, int H, Cell cell,
                                                 boolean bidirectional) {
        Inputs.declaring("AttentionSeq2seq.declare", b, cell);
        Inputs.requireSizes("AttentionSeq2seq", V, D, H);
        if (bidirectional) {
            if (H % 2 != 0) {
                throw new IllegalArgumentException("a bidirectional AttentionSeq2seq needs an even hidden size H (each "
                        + "encoder direction has H/2 units), got H=" + H);
            }
            AttentionBiEncoder.declare(b, "encoder.", cell, V, D, H / 2);
        } else {
            Encoder.declare(b, "encoder.", cell, V, D, H);
        }
        AttentionDecoder.declare(b, "decoder.", cell, V, D, H);
        return b;
    }
}
