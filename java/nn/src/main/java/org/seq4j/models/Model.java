// What every seq4j model offers a trainer: parameters by name in one flat store, a loss for a batch, and
// the gradients of that loss. Models take the book's batch-major inputs: (N, T) int32 token ids or
// (N, T, F) float32 values, as Tensors on the model's backend; they transpose to time-major inside.
//
// Gradient contract: forward computes the loss; backward ADDS every parameter's gradient of that loss into
// the store's flat gradient buffer; the optimizer step applies them and zeroes the buffer.
package org.seq4j.models;

import java.util.List;
import java.util.Objects;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/**
 * Threads: a model (with its workspaces and its parameter store) is confined to one thread at a time, not to
 * the thread that built it: it may be built on one thread and used on another (built in main, trained in
 * an executor) as long as calls do not overlap and the hand-over itself orders memory (an executor submit,
 * a join, a queue). Every public operation (forward, backward, generate, predict, resetState, setTraining,
 * close) claims the model for the calling thread on entry and releases it on exit; a second thread that
 * calls while one is inside gets an IllegalStateException naming the thread that holds the model, never a
 * wrong number. A training step spans calls, so two more checks hold it together: backward must run on the
 * thread whose forward it follows, and gradients added by one thread's backward must be applied (optimizer
 * step) or zeroed before another thread adds to them or steps. Accessors (backend, store, parameters) do
 * not claim the model, but the store's operations on its buffers do (copyIn, copyInAll, copyOut, copyOutAll,
 * zeroGrads, scaleGrads, gradNorm, close: so Checkpoint.load too), and so does an optimizer's step over it, each in
 * its own name ('ParameterStore.copyInAll: in use by thread "A" (id 31), which holds the Rnnlm, ...'); they may be
 * called from inside the model's own operations on the same thread. Models built over one shared Backend on
 * separate threads are independent and fine.
 * After close every operation throws IllegalStateException; closing again does nothing.
 */
public interface Model extends AutoCloseable {

    /**
     * The backend every tensor of this model lives on.
     *
     * @return the backend
     */
    Backend backend();

    /**
     * All parameters: one flat value buffer, one flat gradient buffer, named views.
     *
     * @return the store
     */
    ParameterStore store();

    /**
     * Every parameter in a stable order, with the book's names and shapes.
     *
     * @return the parameters in declaration order
     */
    default List<Parameter> parameters() {
        return store().parameters();
    }

    /**
     * The parameter called {@code name}, e.g. "decoder.lstm.Wx".
     *
     * @param name the book's attribute path
     * @return the parameter
     * @throws IllegalArgumentException naming the known names if there is none
     */
    default Parameter parameter(String name) {
        return store().get(name);
    }

    /**
     * The loss of one batch (a host float, read with Backend.item). What xs and ts are depends on the model;
     * see its class comment.
     *
     * @param xs the inputs, batch-major: (N, T) int32 ids or (N, T, F) float32 values
     * @param ts the targets, batch-major
     * @return the mean loss of the batch (cross-entropy in nats, or the MSE of TimeMSE)
     * @throws IllegalArgumentException naming N, T, V when the shapes are wrong
     * @throws IllegalStateException if another thread is inside the model, or it is closed
     */
    float forward(Tensor xs, Tensor ts);

    /**
     * Adds the gradient of the last forward's loss to every parameter's gradient. One backward per forward, on the
     * forward's thread, and only after a forward that returned: a forward that threw (bad ids, wrong shapes) leaves
     * nothing to follow, since it may have written some of the activations.
     *
     * @throws IllegalStateException if no forward returned on this thread since the last backward, if the weights
     *                               were written since that forward, if another thread's gradients are pending in
     *                               the store, or if the model is in use or closed
     */
    void backward();

    /**
     * Forgets the last forward, so that a backward before the next forward is refused, naming {@code by}: for a caller
     * that ran forward for its loss alone (an evaluation, as RnnlmTrainer.evalPerplexity does), whose activations a
     * later backward would otherwise have taken for a training step's. The default, for a model of one's own, does
     * nothing; the models of this package (every AbstractModel) forget it.
     *
     * @param by the call that discards it, as the refusal names it ("RnnlmTrainer.evalPerplexity")
     * @throws IllegalArgumentException if by is blank (the models of this package)
     * @throws IllegalStateException if another thread is inside the model, or it is closed
     */
    default void discardForward(String by) {
    }

    /**
     * Training (dropout on) or evaluation mode; models without dropout ignore it. Starts in training mode.
     *
     * @param training the mode
     */
    default void setTraining(boolean training) {
    }

    /**
     * Gives this replica's random draws (its dropout masks) a stream of their own as rank {@code rank} of a
     * data-parallel job, so that the ranks mask their shards independently, as one process masks its rows.
     * {@code DataParallel.replicate} calls it on every rank; before, every rank drew rank 0's masks, so row i of
     * every rank's shard was masked alike at every step. Rank 0 keeps its draws. The default, for models without
     * random draws, does nothing.
     *
     * @param rank the replica's rank, 0 or more
     * @throws IllegalArgumentException if rank is negative
     */
    default void drawAsRank(int rank) {
        if (rank < 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".drawAsRank: rank must be 0 or more, got "
                    + rank);
        }
    }

    /**
     * The mode set last by {@link #setTraining}: true until setTraining(false). Evaluation helpers (such as
     * RnnlmTrainer.evalPerplexity) read it to put the caller's mode back when they are done. The models of this
     * package (every AbstractModel) report the mode last set, whether or not they have dropout; this default, for a
     * model that ignores setTraining, says true. A model that implements setTraining implements this too.
     *
     * @return true in training mode, false in evaluation mode
     */
    default boolean isTraining() {
        return true;
    }

    /**
     * The precision of the recurrent weights (Wh of every LSTM and GRU layer) in this model's inference paths:
     * generate and beamSearch of the seq2seq models and the language models (so also Seq2seqEval). F32, the
     * default, gives the same numbers as before there was a choice. BF16 (opt-in) multiplies by a bfloat16 copy
     * of each Wh with float32 accumulation: half the bytes a decoding step with few rows reads, at a relative
     * error of up to 2^-9 per weight (for the book's date model: see docs/RESULTS.md). Training (forward,
     * backward) always uses float32: the inference paths run on their own copy of the layers. The bfloat16 copy
     * is taken by the first inference call and taken again by the first one after the weights changed
     * (ParameterStore.version(): optimizer steps, copyIn, checkpoint loads), so it is never stale.
     *
     * @param precision F32 or BF16
     * @throws UnsupportedOperationException for BF16 if this model has no LSTM or GRU inference path
     * @throws IllegalStateException if another thread is inside the model, or it is closed
     */
    default void setInferencePrecision(PackedMatrix.Precision precision) {
        if (Objects.requireNonNull(precision, () -> getClass().getSimpleName() + ".setInferencePrecision: precision "
                + "is null; expected F32") != PackedMatrix.Precision.F32) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " has no " + precision
                    + " inference weights; only the LSTM and GRU seq2seq and language models do");
        }
    }

    /**
     * The precision of the recurrent weights in the inference paths (see setInferencePrecision).
     *
     * @return F32 (the default) or BF16
     */
    default PackedMatrix.Precision inferencePrecision() {
        return PackedMatrix.Precision.F32;
    }

    /** Releases parameters and workspaces. */
    @Override
    void close();
}
