// The book's Embedding layer: out = W[ids] (gather of rows); backward scatter-adds into dW (duplicates summed).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/** The book's Embedding layer: out = W[ids]; backward scatter-adds into dW (duplicate ids summed). */
public final class Embedding implements AutoCloseable {
    private final Backend backend;
    private final Parameter W;   // (V, D)
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private int sizedN = -1;
    private Tensor out;          // (N, D)
    private Tensor ids;          // (N,) the last forward's ids

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param W       (V, D)
     * @throws IllegalArgumentException if W is not 2-D
     */
    public Embedding(Backend backend, Parameter W) {
        Shapes.arguments("Embedding", backend, "W", W);
        if (W.value().rank() != 2) {
            throw new IllegalArgumentException("Embedding needs W (V, D), got " + W);
        }
        this.backend = backend;
        this.W = W;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("Embedding", W);
    }

    /**
     * out (N, D) = W[ids].
     *
     * @param ids (N,) int32 in [0, V), kept for backward
     * @return out (N, D), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if ids is not (N,) int32
     * @throws IndexOutOfBoundsException if an id is outside [0, V)
     */
    public Tensor forward(Tensor ids) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            Shapes.requireInput("Embedding.forward", "ids", ids);   // else "embeddingForward: ids ..."
            if (ids.rank() != 1 || ids.dtype() != DType.I32) {
                throw new IllegalArgumentException("Embedding.forward needs ids (N,) int32, got " + ids);
            }
            int n = ids.dim(0);
            if (n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                out = ws.floats(n, W.dim(1));
                sizedN = n;
            }
            backend.embeddingForward(out, W.value(), ids);
            this.ids = ids;
            calls.keep("ids", ids);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dW += scatter of dout (N, D) into rows ids.
     *
     * @param dout (N, D)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public void backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "embeddingBackward", "Embedding.backward", "dout", dout);
            if (!Shapes.same(dout, out)) {
                throw Shapes.gradientShape("Embedding.backward", "dout", dout, "the forward's output", out.shape());
            }
            calls.backwardStarts();
            backend.embeddingBackward(W.grad(), ids, dout);
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
