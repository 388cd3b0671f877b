// The book's PeekySeq2seq (ch07): Encoder with a PeekyDecoder. Parameters as Seq2seq, except
// decoder.lstm.Wx (H+D, 4H) and decoder.affine.W (2H, V).
package org.seq4j.models;

import org.seq4j.backend.Backend;
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
        super(backend, V, declare(backend, V, D, H).build(seed),
                s -> new Encoder(backend, s, "encoder."),
                s -> new PeekyDecoder(backend, s, "decoder."));
    }

    private static ParameterStore.Builder declare(Backend backend, int V, int D, int H) {
        Inputs.requireSizes(V, D, H);
        ParameterStore.Builder b = ParameterStore.builder(backend);
        Encoder.declare(b, "encoder.", V, D, H);
        PeekyDecoder.declare(b, "decoder.", V, D, H);
        return b;
    }
}
