// What TimeLSTM's and TimeGRU's forward(embed, ids) keeps for its backward where the shapes do not fold the embedding
// into the input product (FoldedInput.folds): the embedding, which of its forwards this was, and the ids, so that
// backward(embed, ...) scatters by this forward's ids, whatever forwards the embedding ran since (one shared with a
// decoder), and refuses another embedding. Both mistakes were silent before.
package org.seq4j.layers;

import org.seq4j.tensor.Tensor;

final class UnfoldedEmbedding {
    private final String layer;      // "TimeLSTM", for messages
    private TimeEmbedding embed;     // the embedding of the last forward, if it took ids through one unfolded; else null
    private long forward;            // which of the embedding's forwards that was (TimeEmbedding.forwards)
    private Tensor ids;              // its ids (T, N), the caller's tensor

    UnfoldedEmbedding(String layer) {
        this.layer = layer;
    }

    /** A forward starts: nothing noted until an unfolded forward(embed, ids) returns. */
    void clear() {
        embed = null;
        ids = null;
    }

    /** An unfolded forward(embed, ids) returned: its backward scatters by these ids. */
    void noted(TimeEmbedding embed, Tensor ids) {
        this.embed = embed;
        this.forward = embed.forwards();
        this.ids = ids;
    }

    /**
     * Refuses what {@link #backward} would refuse, before the layer adds its own gradients: another embedding than the
     * forward's, or what the embedding's backward refuses. After forward(xs) (nothing noted), {@code given}'s own
     * backward, of its last forward, is the one checked.
     */
    void backwardAllowed(TimeEmbedding given) {
        if (embed == null) {
            given.backwardAllowed();
        } else if (embed != given) {   // it added to another embedding's rows without a word; folded, refused
            throw new IllegalArgumentException(layer + ".backward(embed, dhs) with another embedding than the "
                    + "forward's");
        } else {
            given.backwardAllowedOf(forward);
        }
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
