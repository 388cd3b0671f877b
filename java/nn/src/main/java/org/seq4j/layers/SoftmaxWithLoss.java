// The book's SoftmaxWithLoss: softmax of x (N, V) and the mean cross-entropy against labels t (N,),
// in one kernel; rows labelled -1 are ignored as in TimeSoftmaxWithLoss.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's SoftmaxWithLoss: softmax of x (N, V) and the mean cross-entropy against labels t (N,), in one
 * kernel; rows labelled -1 are ignored.
 */
public final class SoftmaxWithLoss implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("SoftmaxWithLoss");   // forward, then one backward
    private Tensor probs;        // (N, V); backward overwrites it with dx
    private Tensor loss;         // (1,)
    private Tensor labels;       // (N,) the last forward's labels

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public SoftmaxWithLoss(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * loss (1,) = mean -log softmax(x)[t] over rows whose label is not -1.
     *
     * @param x (N, V) scores
     * @param t (N,) int32 labels in [0, V) or -1
     * @return loss (1,) in nats, on the device (read it with {@code backend.item})
     * @throws IllegalArgumentException if the shapes do not fit
     * @throws IndexOutOfBoundsException if a label is outside [0, V) and not -1
     */
    public Tensor forward(Tensor x, Tensor t) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            Shapes.requireInput("SoftmaxWithLoss.forward", "x", x);   // else in the kernel's words
            Shapes.requireInput("SoftmaxWithLoss.forward", "t", t);
            if (x.dtype() != DType.F32 || x.rank() != 2 || t.rank() != 1 || t.dtype() != DType.I32 || t.dim(0) != x.dim(0)) {
                throw new IllegalArgumentException("SoftmaxWithLoss.forward needs x float32 (N, V) and t (N,) int32 "
                        + "labels, got "
                        + x + " and " + t);
            }
            if (!Shapes.same(probs, x)) {
                probs = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
                ws.reset();
                loss = ws.floats(1);
                probs = ws.floats(x.dim(0), x.dim(1));
            }
            backend.softmaxCrossEntropyForward(probs, loss, x, t);
            labels = t;
            calls.keep("t", t);
            calls.forwardReturned();
            return loss;
        } finally {
            calls.exit();
        }
    }

    /**
     * dx (N, V) = (softmax - onehot) * dout / count; overwrites the probabilities, so call once per forward.
     *
     * @param dout the loss's gradient (1 for the loss itself)
     * @return dx (N, V), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(float dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardStarts();   // once per forward: the probabilities become dx below
            backend.softmaxCrossEntropyBackward(probs, probs, labels, dout);
            return probs;
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
