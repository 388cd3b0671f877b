// The book's Encoder (ch07): TimeEmbedding then a stateless TimeLSTM; its encoding is the last hidden state.
// Parameters: <prefix>embed.W (V, D), <prefix>lstm.Wx (D, 4H), <prefix>lstm.Wh (H, 4H), <prefix>lstm.b (4H,).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

/**
 * The book's Encoder (ch07): TimeEmbedding then a stateless TimeLSTM; its encoding is the last hidden state.
 * Parameters: embed.W (V, D), lstm.Wx (D, 4H), lstm.Wh (H, 4H), lstm.b (4H,), under a prefix.
 */
public class Encoder implements SequenceEncoder {
    protected final Backend backend;
    protected final TimeEmbedding embed;
    protected final TimeLSTM lstm;
    private final Workspace ws;
    private Tensor dhs;          // (T, N, H): zero except the last step, which receives dh
    private Tensor dhsLast;      // view of step T-1

    /**
     * Declares this part's parameters under {@code prefix}, initialised as in the book.
     *
     * @param b      the store's builder
     * @param prefix the names' prefix, e.g. {@code "decoder."}
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size
     */
    public static void declare(ParameterStore.Builder b, String prefix, int V, int D, int H) {
        b.declare(prefix + "embed.W", Init.normal(0.01), V, D)
                .declare(prefix + "lstm.Wx", Init.scaledNormal(D), D, 4 * H)
                .declare(prefix + "lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare(prefix + "lstm.b", Init.zeros(), 4 * H);
    }

    /**
     * A part over parameters already declared (with {@code declare}) and built.
     *
     * @param backend runs the kernels
     * @param store   holds the parameters
     * @param prefix  the prefix they were declared under
     * @throws IllegalArgumentException if a parameter is missing
     */
    public Encoder(Backend backend, ParameterStore store, String prefix) {
        this.backend = backend;
        this.embed = new TimeEmbedding(backend, store.get(prefix + "embed.W"));
        this.lstm = new TimeLSTM(backend, store.get(prefix + "lstm.Wx"), store.get(prefix + "lstm.Wh"),
                store.get(prefix + "lstm.b"), false);
        this.ws = new Workspace(backend);
    }

    /** The last hidden state h_T (N, H) for xs (T, N) int32. */
    @Override
    public Tensor forward(Tensor xs) {
        lstm.forward(embed, xs);
        return lstm.h();
    }

    /** dh (N, H) w.r.t. the last hidden state; flows back through the LSTM and the embedding. */
    @Override
    public void backward(Tensor dh) {
        Tensor hs = lstm.hs();
        if (dhs == null || dhs.dim(0) != hs.dim(0) || dhs.dim(1) != hs.dim(1)) {
            ws.reset();
            dhs = ws.floats(hs.dim(0), hs.dim(1), hs.dim(2));
            dhsLast = dhs.get(hs.dim(0) - 1);
        }
        backend.fill(dhs, 0f);
        backend.copy(dhsLast, dh);
        lstm.backward(embed, dhs);
    }

    /**
     * The encoder's LSTM layer.
     *
     * @return the layer
     */
    public TimeLSTM lstm() {
        return lstm;
    }

    @Override
    public void close() {
        embed.close();
        lstm.close();
        ws.close();
    }
}
