// The book's AttentionSeq2seq (ch08): AttentionEncoder's hs feed an AttentionDecoder. Parameters as Seq2seq,
// except decoder.affine.W (2H, V).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

public final class AttentionSeq2seq extends AbstractSeq2seq {

    /** V vocabulary size, D word vector size, H hidden size; weights drawn from new Random(seed). */
    public AttentionSeq2seq(Backend backend, int V, int D, int H, long seed) {
        this(backend, V, D, H, Cell.LSTM, seed);
    }

    /**
     * The same model with the given recurrent cell in encoder and decoder (Cell.GRU: the book's appendix GRU;
     * parameters encoder.gru.*, decoder.gru.* with 3H gate columns instead of encoder.lstm.*, decoder.lstm.*).
     *
     * @throws IllegalArgumentException if a size is not positive
     */
    public AttentionSeq2seq(Backend backend, int V, int D, int H, Cell cell, long seed) {
        super(backend, V, declare(backend, V, D, H, cell).build(seed),
                s -> new AttentionEncoder(backend, s, "encoder.", cell),
                s -> new AttentionDecoder(backend, s, "decoder.", cell));
    }

    /**
     * The attention weights (T_dec, N, T_enc) of the last forward (teacher-forced), as the book's
     * visualize_attention reads them: row [t, n] is decoder step t's distribution over the encoder steps.
     */
    public Tensor attentionWeights() {
        return ((AttentionDecoder) decoder).attentionWeights();
    }

    private static ParameterStore.Builder declare(Backend backend, int V, int D, int H, Cell cell) {
        Inputs.requireSizes(V, D, H);
        ParameterStore.Builder b = ParameterStore.builder(backend);
        Encoder.declare(b, "encoder.", cell, V, D, H);
        AttentionDecoder.declare(b, "decoder.", cell, V, D, H);
        return b;
    }
}
