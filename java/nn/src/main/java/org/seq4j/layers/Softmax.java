// The book's Softmax layer over the rows of x (N, V); dx = y * (dy - sum(y * dy, row)).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/** The book's Softmax layer over the rows of x (N, V); dx = y * (dy - sum(y * dy, row)). */
public final class Softmax implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("Softmax");   // forward, then one backward
    private Tensor out, dx;      // (N, V)

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public Softmax(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * y (N, V) = softmax of each row of x.
     *
     * @param x (N, V)
     * @return y (N, V), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if x is not 2-D
     */
    public Tensor forward(Tensor x) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            Shapes.requireInput("Softmax.forward", "x", x);   // else "softmaxForward: x ..."
            if (x.dtype() != DType.F32 || x.rank() != 2) {
                throw new IllegalArgumentException("Softmax.forward needs x float32 (N, V), got " + x);
            }
            if (!Shapes.same(out, x)) {
                out = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                dx = ws.floats(x.dim(0), x.dim(1));
                out = ws.floats(x.dim(0), x.dim(1));
            }
            backend.softmaxForward(out, x);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    /**
     * dx (N, V) = y * (dout - sum(y * dout, row)).
     *
     * @param dout (N, V)
     * @return dx (N, V), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(Tensor dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            Shapes.requireGradient(backend, "softmaxBackward", "Softmax.backward", "dout", dout);
            if (!Shapes.same(dout, out)) {
                throw Shapes.gradientShape("Softmax.backward", "dout", dout, "the forward's output", out.shape());
            }
            calls.backwardStarts();
            backend.softmaxBackward(dx, out, dout);
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
