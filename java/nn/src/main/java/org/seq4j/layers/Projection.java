// What the book's MatMul and Affine layers share: out (N, H) = x (N, D) W (+ b), its backward, its buffers and its
// checks, worded with the layer's name. The two differ only by the bias b, which MatMul has not (null here).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/** out (N, H) = x (N, D) W (D, H) (+ b (H,)) for MatMul (b null) and Affine; each call as their javadoc says. */
final class Projection implements AutoCloseable {
    private final Backend backend;
    private final String forwardOp, backwardOp;   // "Affine.forward", "Affine.backward": made once, for messages
    private final Parameter W;   // (D, H)
    private final Parameter b;   // (H,), or null: MatMul
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private int sizedN = -1;
    private Tensor out, dx;      // (N, H), (N, D)
    private Tensor x;            // (N, D) the last forward's input

    /** The layer named {@code layer} over W and b (null: none), held, not copied; the caller checked their shapes. */
    Projection(Backend backend, String layer, Parameter W, Parameter b) {
        this.backend = backend;
        this.forwardOp = layer + ".forward";
        this.backwardOp = layer + ".backward";
        this.W = W;
        this.b = b;
        this.ws = new Workspace(backend, layer);
        this.calls = b == null ? new CallOrder(layer, W) : new CallOrder(layer, W, b);
    }

    Tensor forward(Tensor x) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            int d = W.dim(0), h = W.dim(1);
            if (x.dtype() != DType.F32 || x.rank() != 2 || x.dim(1) != d) {
                throw new IllegalArgumentException(forwardOp + " needs x float32 (N, D=" + d + "), got " + x);
            }
            ws.refuseOwn(forwardOp, "x", x);
            int n = x.dim(0);
            if (n != sizedN) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                out = ws.floats(n, h);
                dx = ws.floats(n, d);
                sizedN = n;
            }
            backend.matmul(Transpose.NO, Transpose.NO, 1f, x, W.value(), 0f, out);
            if (b != null) {
                backend.addBias(out, b.value());
            }
            this.x = x;
            calls.keep("x", x);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    Tensor backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            // the first kernel to read dout: sumRows for db, else the product
            Shapes.requireGradient(backend, b != null ? "sumRows" : "gemm", backwardOp, "dout", dout);
            // matmul refuses another shape too, but in its own terms ("op(a) is (7, 2)"): say which call and what it
            // needs
            if (!Shapes.is2(dout, sizedN, W.dim(1))) {
                throw Shapes.gradientShape(backwardOp, "dout", dout, "the forward's output (N, H)", sizedN,
                        W.dim(1));
            }
            // its last dx (D = H): the product writes dx while it reads dout
            Workspace.refuseWritten(backwardOp, "dout", dout, "dx", dx);
            calls.backwardStarts();
            if (b != null) {
                // db first: sumRows refuses a heap dout, which the products take; after them it left dW added, db not
                backend.sumRows(b.grad(), dout, 1f);
            }
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
