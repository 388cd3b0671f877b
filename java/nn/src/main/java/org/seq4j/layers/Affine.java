// The book's Affine layer: out = x W + b.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's Affine layer: out (N, H) = x (N, D) W (D, H) + b (H,). Outputs live in the layer's workspace
 * until {@link #close()}.
 */
public final class Affine implements AutoCloseable {
    private final Backend backend;
    private final Parameter W;   // (D, H)
    private final Parameter b;   // (H,)
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private int sizedN = -1;
    private Tensor out, dx;      // (N, H), (N, D)
    private Tensor x;            // (N, D) the last forward's input

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param W       (D, H)
     * @param b       (H,)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public Affine(Backend backend, Parameter W, Parameter b) {
        if (W.value().rank() != 2 || b.value().rank() != 1 || b.dim(0) != W.dim(1)) {
            throw new IllegalArgumentException("Affine needs W (D, H) and b (H,), got " + W + " and " + b);
        }
        this.backend = backend;
        this.W = W;
        this.b = b;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("Affine", W, b);
    }

    /**
     * out (N, H) = x (N, D) W + b.
     *
     * @param x (N, D), kept for backward
     * @return out (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if x is not (N, D), or x lies in this layer's own buffers
     */
    public Tensor forward(Tensor x) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            int d = W.dim(0), h = W.dim(1);
            if (x.dtype() != DType.F32 || x.rank() != 2 || x.dim(1) != d) {
                throw new IllegalArgumentException("Affine.forward needs x float32 (N, D=" + d + "), got " + x);
            }
            ws.refuseOwn("Affine.forward", "x", x);
            int n = x.dim(0);
            if (n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                out = ws.floats(n, h);
                dx = ws.floats(n, d);
                sizedN = n;
            }
            backend.matmul(Transpose.NO, Transpose.NO, 1f, x, W.value(), 0f, out);
            backend.addBias(out, b.value());
            this.x = x;
            calls.keep("x", x);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dx (N, D) = dout W^T; dW += x^T dout; db += sum of dout's rows.
     *
     * @param dout (N, H), the shape of the forward's output
     * @return dx (N, D), the layer's buffer
     * @throws IllegalArgumentException if dout is not the forward output's (N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public Tensor backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "sumRows", "Affine.backward", "dout", dout);
            // matmul refuses another shape too, but in its own terms ("op(a) is (7, 2)"): say which call and what it
            // needs
            if (!Shapes.is2(dout, sizedN, W.dim(1))) {
                throw Shapes.gradientShape("Affine.backward", "dout", dout, "the forward's output (N, H)", sizedN,
                        W.dim(1));
            }
            calls.backwardStarts();
            // db first: sumRows refuses a heap dout, which the products take; after them it left dW added, db not
            backend.sumRows(b.grad(), dout, 1f);
            backend.matmul(Transpose.NO, Transpose.YES, 1f, dout, W.value(), 0f, dx);
            backend.matmul(Transpose.YES, Transpose.NO, 1f, x, dout, 1f, W.grad());
            return dx;
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
