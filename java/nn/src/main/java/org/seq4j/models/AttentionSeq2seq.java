// The book's AttentionSeq2seq (ch08): AttentionEncoder's hs feed an AttentionDecoder. Parameters as Seq2seq,
// except decoder.affine.W (2H, V).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/**
 * The book's AttentionSeq2seq (ch08): AttentionEncoder's hs feed an AttentionDecoder. Parameters as Seq2seq,
 * except decoder.affine.W (2H, V).
 */
public final class AttentionSeq2seq extends AbstractSeq2seq {

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
        super(backend, V, declare(backend, V, D, H).build(seed),
                s -> new AttentionEncoder(backend, s, "encoder."),
                s -> new AttentionDecoder(backend, s, "decoder."));
    }

    /**
     * The attention weights of the last forward (teacher-forced), as the book's visualize_attention reads
     * them: row [t, n] is decoder step t's distribution over the encoder steps.
     *
     * @return (T_dec, N, T_enc)
     */
    public Tensor attentionWeights() {
        return ((AttentionDecoder) decoder).attentionWeights();
    }

    private static ParameterStore.Builder declare(Backend backend, int V, int D, int H) {
        Inputs.requireSizes(V, D, H);
        ParameterStore.Builder b = ParameterStore.builder(backend);
        Encoder.declare(b, "encoder.", V, D, H);
        AttentionDecoder.declare(b, "decoder.", V, D, H);
        return b;
    }
}
