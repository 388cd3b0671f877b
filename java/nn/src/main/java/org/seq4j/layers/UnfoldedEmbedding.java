// What TimeLSTM's and TimeGRU's forward(embed, ids) runs and keeps for its backward where the shapes do not fold the
// embedding into the input product (FoldedInput.folds): the embedding, which of its forwards this was, and the ids, so
// that backward(embed, ...) scatters by this forward's ids, whatever forwards the embedding ran since (one shared with
// a decoder), and refuses another embedding; and the forward's input E[ids] for dWx, gathered again where such a
// forward overwrote the embedding's output (input). The three mistakes were silent before.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

final class UnfoldedEmbedding {
    private final String layer;      // "TimeLSTM", for messages
    private TimeEmbedding embed;     // the embedding of the last forward, if it took ids through one unfolded; else null
    private long forward;            // which of the embedding's forwards that was (TimeEmbedding.forwards)
    private Tensor ids;              // its ids (T, N), the caller's tensor
    private Tensor gathered;         // E[ids] (T, N, D) gathered again for the backward (input), in the layer's memory
    private Tensor gathered2;        // the same as (T*N, D)

    UnfoldedEmbedding(String layer) {
        this.layer = layer;
    }

    /** A forward starts: nothing noted until an unfolded forward(embed, ids) returns. */
    void clear() {
        embed = null;
        ids = null;
    }

    /**
     * Whether the last forward took token ids through an embedding unfolded: its backward is backward(embed, ...), as a
     * folded one's is (backward(dhs) is refused after either: which it is, a rule of the shapes, changes nothing).
     */
    boolean tookIds() {
        return embed != null;
    }

    /**
     * The layer's forward(embed, ids) where it does not fold (FoldedInput.folds): layer.forward(embed.forward(ids)),
     * noted for its backward, which reads ids (the scatter into dE), not the embedding's output, scatters by these ids
     * whatever forwards the embedding runs since (one shared with a decoder), and is refused after a write to E
     * (embed.W()), as the folded forward's is.
     */
    Tensor forward(TimeRecurrent layer, CallOrder calls, TimeEmbedding embed, Parameter E, Tensor ids) {
        Tensor out = layer.forward(embed.forward(ids));
        calls.keepOnly("ids", ids);
        this.embed = embed;   // noted: its backward scatters by these ids
        this.forward = embed.forwards();
        this.ids = ids;
        calls.forwardReturned(E);
        return out;
    }

    /**
     * Refuses what {@link #backward} would refuse, before the layer adds its own gradients: another embedding than the
     * forward's, or what the embedding's backward refuses. After forward(xs) (nothing noted), {@code given}'s own
     * backward, of its last forward, is the one checked, with the layer's dxs of that forward's (t, n).
     */
    void backwardAllowed(TimeEmbedding given, int t, int n) {
        if (embed == null) {
            given.backwardAllowed(layer + ".backward(embed, dhs)", t, n);
        } else if (embed != given) {   // it added to another embedding's rows without a word; folded, refused
            throw new IllegalArgumentException(layer + ".backward(embed, dhs) with another embedding than the "
                    + "forward's");
        } else {
            given.backwardAllowedOf(forward);
        }
    }

    /**
     * The noted forward's input E[ids] (T, N, D), which the backward's dWx = x^T dA reads: {@code x}, the embedding's
     * output buffer, while no forward ran through the embedding since; else its rows gathered again from E (not
     * written since: that refuses the backward) into a buffer of the layer's {@code ws}. A decoder that shares the
     * embedding overwrites x with its own tokens' rows, which the encoder's dWx took without a word before.
     */
    Tensor input(Backend backend, Workspace ws, Tensor x) {
        if (embed == null || embed.forwards() == forward) {
            return x;
        }
        int t = ids.dim(0), n = ids.dim(1), d = embed.W().dim(1);
        if (gathered == null || !ws.holds(gathered) || !Shapes.is3(gathered, t, n, d)) {
            Tensor g = ws.floats(t, n, d);   // once per size of the layer's workspace (holds: not since its reset)
            gathered2 = g.view(t * n, d);
            gathered = g;
        }
        backend.embeddingForward(gathered2, embed.W().value(), ids);
        return gathered;
    }

    /** dE += the scatter of the layer's input gradient dxs (T, N, D) by the noted forward's ids (see backwardAllowed). */
    void backward(TimeEmbedding given, Tensor dxs) {
        if (embed == null) {
            given.backward(dxs);
        } else {
            given.backwardOf(forward, ids, dxs);
        }
    }
}
