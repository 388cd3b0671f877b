// The book's Seq2seq (ch07): Encoder's last h starts the Decoder; scores go to TimeSoftmaxWithLoss.
// Parameters: encoder.embed.W, encoder.lstm.{Wx, Wh, b}, decoder.embed.W, decoder.lstm.{Wx, Wh, b},
// decoder.affine.{W, b}, with the book's shapes.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.ParameterStore;

/**
 * The book's Seq2seq (ch07): the Encoder's last h starts the Decoder. Parameters: encoder.embed.W,
 * encoder.lstm.{Wx, Wh, b}, decoder.embed.W, decoder.lstm.{Wx, Wh, b}, decoder.affine.{W, b}, with the book's
 * shapes.
 */
public final class Seq2seq extends AbstractSeq2seq {

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
    public Seq2seq(Backend backend, int V, int D, int H, long seed) {
        super(backend, V, declare(backend, V, D, H).build(seed),
                s -> new Encoder(backend, s, "encoder."),
                s -> new Decoder(backend, s, "decoder."));
    }

    private static ParameterStore.Builder declare(Backend backend, int V, int D, int H) {
        Inputs.requireSizes(V, D, H);
        ParameterStore.Builder b = ParameterStore.builder(backend);
        Encoder.declare(b, "encoder.", V, D, H);
        Decoder.declare(b, "decoder.", V, D, H);
        return b;
    }
}
