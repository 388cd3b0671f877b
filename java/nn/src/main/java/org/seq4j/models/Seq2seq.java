// The book's Seq2seq (ch07): Encoder's last h starts the Decoder; scores go to TimeSoftmaxWithLoss.
// Parameters: encoder.embed.W, encoder.lstm.{Wx, Wh, b}, decoder.embed.W, decoder.lstm.{Wx, Wh, b},
// decoder.affine.{W, b}, with the book's shapes.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.ParameterStore;

public final class Seq2seq extends AbstractSeq2seq {

    /** V vocabulary size, D word vector size, H hidden size; weights drawn from new Random(seed). */
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
