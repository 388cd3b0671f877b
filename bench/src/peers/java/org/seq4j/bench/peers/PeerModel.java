// The training step both peer seq2seq models share, as the book's Trainer does it: forward, backward,
// clip_grads(max_grad = 5.0) by global norm, Adam. Subclasses define the parameters and the forward pass.
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Adam;
import java.util.ArrayList;
import java.util.List;
import org.seq4j.bench.peers.PeerOps.Param;

abstract class PeerModel implements AutoCloseable {
    /** One step's loss (before the update) and the global gradient norm it clipped with. */
    record Step(float loss, float gradNorm) {}

    static final float MAX_GRAD = 5.0f;

    protected final NDManager manager = PeerOps.newManager();
    /** Hands the LSTM blocks their own parameter arrays (copy = false: no per-step copies). */
    protected final ParameterStore store = new ParameterStore(manager, false);
    protected final List<Param> params = new ArrayList<>();
    private final Adam adam = PeerOps.bookAdam();

    /** The forward pass on (xs (N, Tenc), ts (N, Tdec + 1)) int64 ids: the mean cross-entropy, a scalar. */
    abstract NDArray loss(NDArray xs, NDArray ts);

    /** One training step on a batch; the weights move. */
    final Step trainStep(NDArray xs, NDArray ts) {
        try (NDManager step = manager.newSubManager()) {
            NDArray loss = forwardBackward(xs, ts, step);
            float norm = PeerOps.clipAndUpdate(params, adam, MAX_GRAD, step);
            return new Step(loss.getFloat(), norm);
        }
    }

    /**
     * Forward and backward only: every parameter's .grad += d loss / d parameter. Intermediates live in
     * {@code step}: each DJL op puts its result in its first operand's manager, and every chain here starts
     * from the batch, attached to {@code step} until it closes.
     */
    final NDArray forwardBackward(NDArray xs, NDArray ts, NDManager step) {
        xs.tempAttach(step);
        ts.tempAttach(step);
        try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
            NDArray loss = loss(xs, ts);
            gc.backward(loss);
            return loss;
        }
    }

    final NDManager manager() {
        return manager;
    }

    final List<Param> params() {
        return params;
    }

    @Override
    public final void close() {
        manager.close();
    }
}
