// The book's Sigmoid layer: y = 1 / (1 + exp(-x)) element-wise, any shape; dx = dy * y * (1 - y).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/** The book's Sigmoid layer: y = 1 / (1 + exp(-x)) element-wise, any shape; dx = dy * y * (1 - y). */
public final class Sigmoid implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("Sigmoid");   // forward, then one backward
    private Tensor out, dx;

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public Sigmoid(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * y = sigmoid(x).
     *
     * @param x float32, any shape
     * @return y, x's shape, the layer's buffer, valid until its next forward
     */
    public Tensor forward(Tensor x) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            Shapes.requireInput("Sigmoid.forward", "x", x);   // else "sigmoidForward: x ..."
            if (!Shapes.same(out, x)) {
                out = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                dx = ws.floats(x.shape());
                out = ws.floats(x.shape());
            }
            backend.sigmoidForward(out, x);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dx = dout * y * (1 - y).
     *
     * @param dout y's shape
     * @return dx, the layer's buffer
     * @throws IllegalArgumentException if dout does not have y's shape (another shape of the same size is refused too)
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "sigmoidBackward", "Sigmoid.backward", "dout", dout);
            // sigmoidBackward takes any shape of the same size: an (H, N) dout would be read as (N, H)
            if (!Shapes.same(dout, out)) {
                throw Shapes.gradientShape("Sigmoid.backward", "dout", dout, "the forward's output", out.shape());
            }
            calls.backwardStarts();
            backend.sigmoidBackward(dx, out, dout);
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
