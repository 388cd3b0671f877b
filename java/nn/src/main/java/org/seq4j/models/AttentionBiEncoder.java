// A bidirectional AttentionEncoder (the book's ch08 extension): TimeEmbedding then a TimeBiLSTM; its encoding is
// every hidden state hs (T, N, 2H), each step's forward and backward states concatenated. Parameters:
// <prefix>embed.W (V, D), <prefix>lstm.forward_lstm.{Wx (D, 4H), Wh (H, 4H), b (4H,)} and
// <prefix>lstm.backward_lstm.{Wx, Wh, b} of the same shapes (the book's TimeBiLSTM attribute paths).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeBiLSTM;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.tensor.Tensor;

public final class AttentionBiEncoder implements SequenceEncoder {
    private final TimeEmbedding embed;
    private final TimeBiLSTM lstm;

    /** Declares the parameters for hidden size H per direction (the encoding has 2H features). */
    public static void declare(ParameterStore.Builder b, String prefix, int V, int D, int H) {
        b.declare(prefix + "embed.W", Init.normal(0.01), V, D);
        for (String dir : new String[] {"forward_lstm.", "backward_lstm."}) {
            b.declare(prefix + "lstm." + dir + "Wx", Init.scaledNormal(D), D, 4 * H)
                    .declare(prefix + "lstm." + dir + "Wh", Init.scaledNormal(H), H, 4 * H)
                    .declare(prefix + "lstm." + dir + "b", Init.zeros(), 4 * H);
        }
    }

    public AttentionBiEncoder(Backend backend, ParameterStore store, String prefix) {
        String f = prefix + "lstm.forward_lstm.", r = prefix + "lstm.backward_lstm.";
        this.embed = new TimeEmbedding(backend, store.get(prefix + "embed.W"));
        this.lstm = new TimeBiLSTM(backend, store.get(f + "Wx"), store.get(f + "Wh"), store.get(f + "b"),
                store.get(r + "Wx"), store.get(r + "Wh"), store.get(r + "b"));
    }

    /** hs (T, N, 2H) for xs (T, N) int32. */
    @Override
    public Tensor forward(Tensor xs) {
        return lstm.forward(embed.forward(xs));
    }

    /** dhs (T, N, 2H) w.r.t. every hidden state; flows back through both directions and the embedding. */
    @Override
    public void backward(Tensor dhs) {
        embed.backward(lstm.backward(dhs));
    }

    @Override
    public void close() {
        embed.close();
        lstm.close();
    }
}
