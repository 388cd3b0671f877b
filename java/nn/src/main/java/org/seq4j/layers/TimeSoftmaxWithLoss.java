// The book's TimeSoftmaxWithLoss: softmax and cross-entropy over all T*N rows in one kernel, averaged over
// the rows whose label is not -1 (the ignore label). Where every label is -1 the count is taken as 1: loss 0 and
// gradient 0, where the book's -np.sum(ls) / mask.sum() gives 0/0 = nan.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.internal.Rows;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * The book's TimeSoftmaxWithLoss: softmax and cross-entropy over all T*N rows in one kernel, averaged over the
 * rows whose label is not -1 (the ignore label).
 *
 * <p>Unlike the book, a batch whose labels are all -1 gives loss 0 and a zero gradient: the book's
 * {@code -np.sum(ls) / mask.sum()} is 0/0 there, nan, and its gradient nan too; here the count of labelled rows is
 * taken as at least 1. Such a batch (a chunk of padding only) then adds nothing to the weights' gradients, rather than
 * turning them all to nan; but its loss of 0 lowers an average of losses taken over batches that counts it.
 */
public final class TimeSoftmaxWithLoss implements AutoCloseable {
    /** Label value whose rows count neither in the loss nor in the gradient. */
    public static final int IGNORE_LABEL = -1;

    private final Backend backend;
    private final Workspace ws;
    private final CallOrder calls = new CallOrder("TimeSoftmaxWithLoss");   // forward, then one backward
    private final ViewCache xsView = new ViewCache();
    private final ViewCache tsView = new ViewCache();

    private int sizedT = -1, sizedN = -1, sizedV = -1;
    private Tensor probs, probs2;   // (T, N, V) and its (T*N, V) view; backward turns it into dxs in place
    private Tensor loss;            // (1,)
    private Tensor labels;          // (T*N,) view of the last forward's ts

    /**
     * A layer without parameters.
     *
     * @param backend runs the kernels
     */
    public TimeSoftmaxWithLoss(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * loss (1,) = mean over rows with a label of -log softmax(xs)[label]; 0 if every label is -1 (the book: nan).
     *
     * @param xs (T, N, V) scores
     * @param ts (T, N) int32 labels in [0, V) or -1
     * @return loss (1,) in nats, the layer's buffer; read it with {@code backend.item(loss, 0)}
     * @throws IllegalArgumentException if the shapes do not fit
     * @throws IndexOutOfBoundsException if a label is outside [0, V) and not -1
     */
    public Tensor forward(Tensor xs, Tensor ts) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            Shapes.requireInput("TimeSoftmaxWithLoss.forward", "xs", xs);   // else in the kernel's words
            Shapes.requireInput("TimeSoftmaxWithLoss.forward", "ts", ts);
            if (xs.dtype() != DType.F32 || xs.rank() != 3) {
                throw new IllegalArgumentException("TimeSoftmaxWithLoss.forward needs xs float32 (T, N, V), got " + xs);
            }
            int t = xs.dim(0), n = xs.dim(1), v = xs.dim(2);
            Rows.of("TimeSoftmaxWithLoss.forward", t, n);
            if (ts.rank() != 2 || ts.dtype() != DType.I32 || ts.dim(0) != t || ts.dim(1) != n) {
                throw new IllegalArgumentException("TimeSoftmaxWithLoss.forward needs ts (T=" + t + ", N=" + n
                        + ") int32 labels for xs " + xs + ", got " + ts);
            }
            if (t != sizedT || n != sizedN || v != sizedV) {
                sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
                ws.reset();
                probs = ws.floats(t, n, v);
                probs2 = probs.view(t * n, v);
                loss = ws.floats(1);
                sizedT = t;
                sizedN = n;
                sizedV = v;
            }
            Tensor flat = tsView.vector(ts);
            backend.softmaxCrossEntropyForward(probs2, loss, xsView.matrix(xs, t * n, v), flat);
            labels = flat;
            calls.keep("ts", ts);
            calls.forwardReturned();   // only now: a bad label above leaves no forward for backward
            return loss;
        } finally {
            calls.exit();
        }
    }

    /**
     * dxs (T, N, V) = (softmax - onehot) * dout / count, 0 on ignored rows (so all 0 if every label is -1; the book:
     * nan). Written over the probabilities of the forward pass; call once per forward.
     *
     * @param dout the loss's gradient (1 for the loss itself)
     * @return dxs (T, N, V), the layer's buffer
     * @throws IllegalStateException if no forward returned, or a backward of it already ran
     */
    public Tensor backward(float dout) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardStarts();   // once per forward: the probabilities become dxs below
            backend.softmaxCrossEntropyBackward(probs2, probs2, labels, dout);
            return probs;
        } finally {
            calls.exit();
        }
    }

    /**
     * The softmax probabilities of the last forward, until its backward turns them into dxs (backward's result, in
     * the same buffer); refused from then on, and before a forward returned, rather than handing out the gradient.
     *
     * @return (T, N, V)
     * @throws IllegalStateException if no forward returned, or a backward of it has started
     */
    public Tensor probs() {
        calls.requireForward("probs");
        if (!calls.backwardOpen()) {
            throw new IllegalStateException("TimeSoftmaxWithLoss.probs after backward: it turned the last forward's"
                    + " probabilities into the gradient dxs (its result); run forward again for them");
        }
        return probs;
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
    }
}
