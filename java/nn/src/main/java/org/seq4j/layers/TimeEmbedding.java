// The book's TimeEmbedding: looks up a D-vector per token id for a whole time-major sequence in one
// gather, and scatters the gradient back with one scatter-add (duplicate ids summed).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.internal.Rows;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's TimeEmbedding: one gather of a D-vector per token id for a whole time-major sequence, and one
 * scatter-add of the gradient (duplicate ids summed).
 */
public final class TimeEmbedding implements AutoCloseable {
    private final Backend backend;
    private final Parameter W;     // (V, D)
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private final ViewCache doutView = new ViewCache();

    private int sizedT = -1, sizedN = -1;
    private Tensor out;            // (T, N, D)
    private Tensor out2;           // (T*N, D) the same memory
    private Tensor ids;            // (T, N) int32, the last forward's input (the caller's tensor)
    private long forwards;         // forwards started: which one a recurrent layer ran (backwardOf)

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param W       (V, D)
     * @throws IllegalArgumentException if W is not 2-D
     */
    public TimeEmbedding(Backend backend, Parameter W) {
        Shapes.arguments("TimeEmbedding", backend, "W", W);
        if (W.value().rank() != 2) {
            throw new IllegalArgumentException("TimeEmbedding needs W (V, D), got " + W);
        }
        this.backend = backend;
        this.W = W;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("TimeEmbedding", W);
    }

    /**
     * The embedding matrix.
     *
     * @return W (V, D)
     */
    public Parameter W() {
        return W;
    }

    /**
     * out (T, N, D) = W[ids].
     *
     * @param ids (T, N) int32 in [0, V), kept for backward
     * @return out (T, N, D), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if ids is not (T, N) int32
     * @throws IndexOutOfBoundsException if an id is outside [0, V)
     */
    public Tensor forward(Tensor ids) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            forwards++;
            Shapes.requireInput("TimeEmbedding.forward", "ids", ids);   // else "embeddingForward: ids ..."
            if (ids.rank() != 2 || ids.dtype() != DType.I32) {
                throw new IllegalArgumentException("TimeEmbedding.forward needs ids (T, N) int32, got " + ids);
            }
            int t = ids.dim(0), n = ids.dim(1);
            Rows.of("TimeEmbedding.forward", t, n);
            if (t != sizedT || n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                out = ws.floats(t, n, W.dim(1));
                out2 = out.view(t * n, W.dim(1));
                sizedT = t;
                sizedN = n;
            }
            backend.embeddingForward(out2, W.value(), ids);
            this.ids = ids;
            calls.keep("ids", ids);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dW += scatter-add of dout (T, N, D) into the rows of the last forward's ids.
     *
     * @param dout (T, N, D), the shape of the forward's output
     * @throws IllegalArgumentException if dout is not the forward output's (T, N, D)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public void backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "embeddingBackward", "TimeEmbedding.backward", "dout", dout);
            // the view below takes any shape of T*N*D values: an (N, T, D) dout would be scattered into the wrong ids'
            // rows
            if (!Shapes.is3(dout, sizedT, sizedN, W.dim(1))) {
                throw Shapes.gradientShape("TimeEmbedding.backward", "dout", dout, "the forward's output (T, N, D)",
                        sizedT, sizedN, W.dim(1));
            }
            calls.backwardStarts();
            backend.embeddingBackward(W.grad(), ids, doutView.matrix(dout, sizedT * sizedN, W.dim(1)));
        } finally {
            calls.exit();
        }
    }

    /**
     * Refuses what backward would refuse of a recurrent layer's dxs (t, n, D), without running it (see
     * CallOrder.backwardAllowed), in that layer's call {@code op}: the layer checks it before it adds its own gradients.
     */
    void backwardAllowed(String op, int t, int n) {
        calls.backwardAllowed();
        if (t != sizedT || n != sizedN) {
            throw new IllegalArgumentException(op + ": the embedding's last forward gave (T=" + sizedT + ", N=" + sizedN
                    + ", D) but this layer's forward took (T=" + t + ", N=" + n + ", D); expected the embedding's output"
                    + " as its input (forward(embed, ids), or forward(embed.forward(ids)) with no embedding forward since)");
        }
    }

    /** How many forwards this embedding has started: a recurrent layer notes it after the forward it ran. */
    long forwards() {
        return forwards;
    }

    /**
     * Refuses what {@link #backwardOf} would refuse: a closed embedding; and, where {@code forward} is still its last
     * forward, what backward would refuse.
     */
    void backwardAllowedOf(long forward) {
        if (forward == forwards) {
            calls.backwardAllowed();
        } else {
            calls.requireOpen("backward");
        }
    }

    /**
     * dW += scatter-add of dout (T, N, D) into the rows of {@code ids}: the backward of the forward numbered
     * {@code forward} (see forwards()), which a recurrent layer ran through this embedding
     * (TimeLSTM.forward(embed, ids)), by that forward's ids whatever forwards this embedding ran since. An embedding
     * shared by an encoder and a decoder had its gradient scattered into the decoder's ids: backward reads the last
     * forward's. Where {@code forward} is still the last forward, its backward is used up, as backward(dout) would.
     */
    void backwardOf(long forward, Tensor ids, Tensor dout) {
        calls.enter("backward");
        try {
            if (forward == forwards) {
                calls.backwardStarts();
            } else {
                calls.requireOpen("backward");
            }
            backend.embeddingBackward(W.grad(), ids, doutView.matrix(dout, ids.dim(0) * ids.dim(1), W.dim(1)));
        } finally {
            calls.exit();
        }
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
