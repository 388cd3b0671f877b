// The book's Trainer (common/trainer.py): per epoch a fresh shuffle, batches of N with the last partial
// batch dropped, and per step forward, backward, gradient clipping by global norm, optimizer update.
// It drives any Model through Batches (seq2seq token pairs, wave regressions). The batch tensors are
// allocated once and refilled, so a step allocates nothing big. A NaN or infinite loss stops training
// with an exception that names the step; so does an interrupt of the training thread, between two steps (in
// data-parallel training every rank at the step where any rank was interrupted).
//
// Data parallel (distribute): every rank shuffles with the same seed, takes its shard of each global batch,
// and one all-reduce between backward and clipping makes every rank's gradient the global batch's
// (org.seq4j.dist.DataParallel); alone, the shard is the whole batch and the hook changes nothing.
package org.seq4j.train;

import java.util.Objects;
import java.util.concurrent.CancellationException;
import org.seq4j.backend.Confinement;
import org.seq4j.data.NumpyRandom;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.DataParallel;
import org.seq4j.dist.DistributedException;
import org.seq4j.dist.Shard;
import org.seq4j.models.Model;
import org.seq4j.optim.NonFiniteLossException;
import org.seq4j.optim.Optimizer;
import org.seq4j.tensor.Tensor;

/**
 * Threads: a trainer, and the model and optimizer it drives, are confined to one thread at a time (see
 * {@code Model}): fitEpoch claims the trainer for the calling thread, and a second thread calling meanwhile
 * gets an IllegalStateException naming the holder. It may be handed to another thread between epochs.
 * Listener callbacks run on the fitting thread. After close, fitEpoch throws; closing again does nothing.
 */
public final class Trainer implements AutoCloseable {

    /** Hooks for progress reporting. */
    public interface Listener {
        /**
         * Called before an epoch's first step, before its shuffle is drawn and the model set to training mode: an
         * exception thrown here ends fitEpoch with the trainer's random state and the model's mode as they were.
         *
         * @param epoch the epoch
         * @param steps how many steps it will take
         */
        default void onEpochStart(int epoch, int steps) {
        }

        /**
         * Called after each step.
         *
         * @param epoch the epoch
         * @param step  the step within the epoch, from 1
         * @param loss  the step's loss
         */
        default void onStep(int epoch, int step, float loss) {
        }
    }

    private final Model model;
    private final Optimizer optimizer;
    private final float maxGrad;
    private final NumpyRandom random;
    private final long seed;
    private Communicator comm = Communicator.single();
    private Shard shard;
    private final BatchArena batches = new BatchArena();   // xs and ts, one pair at a time
    private final Confinement guard = new Confinement(getClass().getSimpleName());   // one thread at a time
    private Batches sized;
    private int sizedBatch;
    private Tensor xs, ts;
    private long steps;

    /**
     * A trainer for one model and optimizer.
     *
     * @param model     the model
     * @param optimizer steps the model's store
     * @param maxGrad   clip gradients to this global norm before each update (the book's max_grad); 0 = no
     *                  clipping, as the book's Trainer takes max_grad=None (ClipGrads.clip and
     *                  Optimizer.clipAndStep refuse a max norm of 0: this trainer then calls step alone), and
     *                  Float.POSITIVE_INFINITY too, as ClipGrads.clip takes it (PyTorch's max_norm=inf)
     * @param seed      the shuffle's seed: with NumpyRandom, the k-th fitEpoch call of this trainer (whatever epoch
     *                  number it is given) takes the rows as given, reordered by numpy's k-th np.random.permutation
     *                  after np.random.seed(seed), so a new trainer resumed at epoch 5 draws the order of epoch 1,
     *                  not the one a trainer that ran epochs 1 to 4 would draw. That is the book's order where it
     *                  calls Trainer.fit(max_epoch=1) once an epoch on the same arrays (ch07 train_seq2seq.py, ch08
     *                  train.py); inside one fit(max_epoch=k) the book reorders the rows it reordered the epoch
     *                  before (x = x[idx]), so its epoch 2 takes rows idx1[idx2], which this trainer does not
     *                  reproduce
     * @throws IllegalArgumentException if maxGrad is negative (negative infinity too) or NaN, or the seed is outside
     *         [0, 2^32)
     */
    public Trainer(Model model, Optimizer optimizer, float maxGrad, long seed) {
        this.model = Objects.requireNonNull(model, "Trainer: model is null");
        this.optimizer = Objects.requireNonNull(optimizer, "Trainer: optimizer is null");
        this.maxGrad = checkMaxGrad("Trainer", maxGrad);
        this.random = new NumpyRandom(NumpyRandom.requireSeed("Trainer", seed));   // "NumpyRandom: ..." named no call
        this.seed = seed;
    }

    /**
     * The clip norm a trainer takes: 0 or more, where 0 and +Infinity are no clipping (ClipGrads.clip takes Infinity
     * as no clipping, PyTorch's max_norm=inf; the trainers refused it). A NaN or negative one turned clipping off
     * without a word ({@code maxGrad > 0} was the only test).
     */
    static float checkMaxGrad(String who, float maxGrad) {
        if (!(maxGrad >= 0)) {
            throw new IllegalArgumentException(who + ": maxGrad must be a number >= 0 (0 or Infinity: no clipping),"
                    + " got " + maxGrad);
        }
        return maxGrad;
    }

    /** Whether a trainer's maxGrad (checkMaxGrad's) clips: 0 and Infinity step alone. */
    static boolean clips(float maxGrad) {
        return maxGrad > 0 && maxGrad < Float.POSITIVE_INFINITY;
    }

    /**
     * Trains data-parallel with the other ranks of {@code comm} from now on: checks that every rank holds the
     * same model and copies rank 0's weights to all (a collective: every rank calls it, before the first epoch).
     * Each rank then takes rows [r*N/R, (r+1)*N/R) of every global batch of N; see DataParallel.
     *
     * @param comm the ranks that train together
     * @return this trainer
     * @throws org.seq4j.dist.ConfigurationMismatchException when the ranks hold different models
     */
    public Trainer distribute(Communicator comm) {
        Objects.requireNonNull(comm, "Trainer.distribute: comm is null");
        enterBetweenEpochs(guard, "Trainer", "distribute");
        try {
            DataParallel.replicate(comm, model);
            this.comm = comm;
            this.sized = null;
            return this;
        } finally {
            guard.exit();
        }
    }

    /**
     * Claims a trainer for a call that changes how its epochs run, refused inside one of its own epochs (from a
     * Listener): after distribute that epoch went on over the shard of the old communicator while all-reducing over the
     * new one; after a fitEpoch or evalPerplexity of another batch size (the guard lets its holder in again) over the
     * inner call's batch tensors and buffers, training on rows the inner call had left there.
     */
    static void enterBetweenEpochs(Confinement guard, String trainer, String call) {
        if (guard.heldByCurrentThread()) {
            throw new IllegalStateException(trainer + "." + call + ": called inside this " + trainer + "'s fitEpoch "
                    + "(from a Listener); call it between epochs");
        }
        guard.enter(call);
    }

    /** The batch inputs the last epoch ran over, for tests of their lifetime; null before the first. */
    Tensor batchInputs() {
        return xs;
    }

    /**
     * Steps taken so far over all epochs.
     *
     * @return the count
     */
    public long steps() {
        return steps;
    }

    /**
     * One epoch: a fresh shuffle, then size / batchSize steps (the last partial batch dropped). The shuffle is this
     * trainer's next permutation, counted by its fitEpoch calls that drew one, not by {@code epoch} (see the
     * constructor's seed): a new trainer resumed at epoch 5 draws the order of epoch 1.
     *
     * @param epoch     the epoch number, for the listener and messages only: it does not choose the shuffle
     * @param data      the training set
     * @param batchSize examples per step
     * @param listener  progress hooks, not null (an empty Listener for none)
     * @return the mean training loss of its steps
     * @throws IllegalArgumentException if batchSize is below 1 or above the set's size
     * @throws NullPointerException if data or listener is null (before anything changes: the shuffle is not drawn)
     * @throws RuntimeException what the listener's onEpochStart throws, before the shuffle is drawn and training
     *         mode set: the next fitEpoch runs over the order it would have had
     * @throws org.seq4j.optim.NonFiniteLossException if a loss is NaN or infinite
     * @throws org.seq4j.optim.NonFiniteGradientException if gradients are NaN or infinite (refused by the optimizer's
     *         step, clipping or not, before it writes anything)
     * @throws IllegalStateException if another thread holds the trainer, it is closed, or this is called from a
     *         Listener of its own fitEpoch
     * @throws java.util.concurrent.CancellationException if the thread is interrupted (checked between steps, its
     *         interrupt kept; in data-parallel training on every rank at the step where any rank was): the model
     *         holds the weights of the steps taken
     * @throws org.seq4j.dist.DistributedException in data-parallel training, on the other ranks, when one failed alone
     *         (its batch, forward, backward or listener threw; it throws its own exception): every rank stops at the
     *         same point, before the update of the step where the failure was told
     */
    public float fitEpoch(int epoch, Batches data, int batchSize, Listener listener) {
        enterBetweenEpochs(guard, "Trainer", "fitEpoch");
        try {
            return fitEpochHeld(epoch, data, batchSize, listener);
        } finally {
            guard.exit();
        }
    }

    private float fitEpochHeld(int epoch, Batches data, int batchSize, Listener listener) {
        // before anything changes: a null listener was found at onEpochStart, after the epoch's shuffle was drawn and
        // training mode set, so the next call ran over another order than a fresh trainer's
        Objects.requireNonNull(data, "fitEpoch: data is null; expected the training set's Batches");
        Objects.requireNonNull(listener, "fitEpoch: listener is null; expected a Listener (an empty one for none)");
        // every epoch, not only when this rank re-sizes: whether a rank passes the same Batches object again is its
        // own business, and a check made by one rank alone was paired with another's gradient all-reduce. And
        // first: a rank that refused its own batch size alone would leave the others waiting in this collective
        comm.agree("training configuration (batch, examples, seed, optimizer, clipping)", "batch " + batchSize
                + ", examples " + data.size() + ", seed " + seed + ", " + optimizer.settings() + ", clip " + maxGrad);
        if (batchSize < 1) {
            throw new IllegalArgumentException("Trainer.fitEpoch: batch size must be >= 1, got " + batchSize);
        }
        int iters = data.size() / batchSize;
        if (iters == 0) {
            throw new IllegalArgumentException("Trainer.fitEpoch: a batch of " + batchSize + " is larger than the " + data.size()
                    + " training examples");
        }
        // data parallel: what fails on one rank alone (an allocation, a listener, a batch, a forward) is told to the
        // others in the next collective, where every rank throws; a rank that threw alone left the others waiting in
        // it until the MPI watchdog ended the job
        Throwable failed = null;
        try {
            if (sized != data || sizedBatch != batchSize) {
                // all of it recorded together, once every call that may fail has returned: a refused configuration
                // (another rank's) leaves the previous one whole, not its shard with the new batch's tensors
                Shard newShard = Shard.of(batchSize, comm.rank(), comm.size());
                Tensor[] t = batches.replace(arena -> data.allocate(model.backend(), arena, newShard.rows()));
                shard = newShard;
                xs = t[0];
                ts = t[1];
                sized = data;
                sizedBatch = batchSize;
            }
            // the listener before the shuffle is drawn: one that throws in onEpochStart left the epoch's permutation
            // drawn, so every later epoch ran over another order than a fresh trainer's with the same seed (a silent
            // difference after a caught exception); now it leaves the trainer's random state and the training mode as
            // they were
            listener.onEpochStart(epoch, iters);
        } catch (RuntimeException | Error e) {
            failed = e;
        }
        settle(comm, failed, "Trainer.fitEpoch", "before epoch " + epoch + "'s first step");
        model.setTraining(true);
        int[] order = random.permutation(data.size());
        double total = 0;
        for (int i = 0; i < iters; i++) {
            stopIfInterrupted(comm, epoch, i + 1, steps);
            if (failed == null) {
                try {
                    data.fill(model.backend(), order, i * batchSize + shard.from(), xs, ts);
                } catch (RuntimeException | Error e) {
                    failed = e;
                }
            }
            float loss = step(model, optimizer, comm, shard, maxGrad, xs, ts, steps + 1, failed);
            steps++;
            total += loss;
            failed = onStep(comm, listener, epoch, i + 1, loss);
        }
        settle(comm, failed, "Trainer.fitEpoch", "after epoch " + epoch + "'s last step");
        DataParallel.agreeOnWeights(comm, model.store(), "after epoch " + epoch);
        return (float) (total / iters);
    }

    /**
     * The listener's onStep: alone, what it throws ends the epoch; in data-parallel training it is returned, to be
     * told to the other ranks in the next collective (the next step's reduce, or the epoch's last settle).
     */
    static Throwable onStep(Communicator comm, Listener listener, int epoch, int step, float loss) {
        try {
            listener.onStep(epoch, step, loss);
            return null;
        } catch (RuntimeException | Error e) {
            if (comm.size() == 1) {
                throw e;
            }
            return e;
        }
    }

    /**
     * Where a rank may have failed alone before a point with no collective of its own (an epoch's start, its end):
     * one all-reduce of a count tells every rank, and where any failed, each throws, the failed ones their own failure,
     * the others a DistributedException naming how many did. Alone: the failure, if any, is thrown.
     */
    static void settle(Communicator comm, Throwable failed, String op, String where) {
        if (comm.size() > 1) {
            double[] count = {failed == null ? 0 : 1};
            comm.allReduceSum(count);
            if (failed == null && count[0] > 0) {
                throw new DistributedException(op + " on rank " + comm.rank() + " of " + comm.size() + ": "
                        + Math.round(count[0]) + " other rank(s) failed " + where + " (each says why), and every rank "
                        + "stopped there");
            }
        }
        if (failed != null) {
            throw rethrow(failed);
        }
    }

    /** A RuntimeException or Error caught as a Throwable, thrown again as it was. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return (RuntimeException) t;
    }

    /**
     * Between two steps of a single-process fit: a thread with an interrupt pending (a cancelled task, a shutdown of
     * its executor) stops there, its interrupt kept, rather than training to the epoch's end. In data-parallel
     * training a rank may not leave alone (the others would wait for it in the next all-reduce): there the request
     * travels with the step's loss (see step) and every rank stops at the same step.
     *
     * @param step  the step about to run, from 1 within the epoch
     * @param taken the steps taken so far over all epochs
     */
    static void stopIfInterrupted(Communicator comm, int epoch, int step, long taken) {
        if (comm.size() == 1 && Thread.currentThread().isInterrupted()) {
            throw new CancellationException("training interrupted: epoch " + epoch + " stopped before its step " + step
                    + "; the model holds the weights of the " + taken + " steps taken");
        }
    }

    /**
     * One training step over the batch in xs, ts: forward, backward, the gradients (and the loss) summed over the
     * ranks, the clip, the optimizer's step. A step that throws after its backward (a non-finite loss, a failed
     * all-reduce, clip or update) drops the gradients it added: kept, the next step would apply them with its own
     * (a retry after a NonFiniteLossException would write the diverged batch's NaN into every weight). Gradients
     * another thread holds are not this step's to drop (its backward refused them).
     *
     * @return the loss, averaged over the ranks
     */
    static float step(Model model, Optimizer optimizer, Communicator comm, Shard shard, float maxGrad, Tensor xs,
                      Tensor ts, long number, Throwable failed) {
        if (failed != null) {   // this rank failed before the step (its batch, a listener): the others learn of it here
            throw failedStep(comm, model, shard, failed);
        }
        float loss;
        try {
            loss = model.forward(xs, ts);
        } catch (RuntimeException | Error e) {
            throw failedStep(comm, model, shard, e);
        }
        try {
            try {
                model.backward();
            } catch (RuntimeException | Error e) {
                throw failedStep(comm, model, shard, e);
            }
            // data parallel: an interrupted rank asks every rank to stop in the loss's all-reduce (alone, the check
            // before the step does it)
            boolean stop = comm.size() > 1 && Thread.currentThread().isInterrupted();
            loss = NonFiniteLossException.requireFinite(DataParallel.reduce(comm, model.store(), shard, loss, stop),
                    number);
            // the step refuses gradients that are NaN or infinite before it writes anything; clipping shares the one
            // reduction over them that this check takes
            if (clips(maxGrad)) {
                optimizer.clipAndStep(model.store(), maxGrad);
            } else {
                optimizer.step(model.store());
            }
            return loss;
        } catch (RuntimeException | Error e) {
            try {
                model.store().claimGrads("Trainer step " + number);   // throws when another thread's are pending
                model.store().zeroGrads();
            } catch (Throwable second) {
                e.addSuppressed(second);
            }
            if (e instanceof CancellationException && comm.size() > 1) {
                CancellationException c = new CancellationException("training interrupted: every rank stopped at step "
                        + number + ", before its update (" + e.getMessage() + "); the model holds the weights of the "
                        + (number - 1) + " steps taken");
                c.initCause(e);
                throw c;
            }
            throw e;
        }
    }

    /**
     * A step that failed on this rank alone: in data-parallel training its reduce is joined, marked failed, so that
     * every rank throws at this step (DataParallel.reduceFailed) instead of waiting for this one; returns the failure
     * for the caller to throw.
     */
    static RuntimeException failedStep(Communicator comm, Model model, Shard shard, Throwable failed) {
        if (comm.size() > 1) {
            try {
                DataParallel.reduceFailed(comm, model.store(), shard);
            } catch (RuntimeException | Error told) {   // every rank throws there: this one throws its own failure
                if (!(told instanceof DistributedException)) {
                    failed.addSuppressed(told);
                }
            }
        }
        return rethrow(failed);
    }

    @Override
    public void close() {
        if (guard.heldByCurrentThread()) {   // from a Listener of this thread's fitEpoch: it went on over freed buffers
            throw new IllegalStateException("Trainer.close: called inside this Trainer's fitEpoch (from a "
                    + "Listener); close it after fitEpoch returns, or throw from the Listener to stop the epoch");
        }
        if (!guard.enterClose()) {
            return;
        }
        try {
            batches.close();
        } finally {
            guard.exit();
        }
    }
}
