// The book's RnnlmTrainer and eval_perplexity (common/trainer.py, common/util.py): truncated BPTT over a
// word-id corpus with `batch` parallel streams starting at offsets i * jump, `time` steps per batch, the
// recurrent state carried from batch to batch; perplexity is exp(mean cross-entropy).
//
// Data parallel (distribute): the streams are split across ranks, rank r carrying streams
// [r*batch/R, (r+1)*batch/R) and their recurrent state, and one all-reduce per step between backward and
// clipping (org.seq4j.dist.DataParallel) makes every rank's gradient that of all the streams.
package org.seq4j.train;

import java.util.Objects;
import java.util.concurrent.CancellationException;
import org.seq4j.backend.Confinement;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.DataParallel;
import org.seq4j.dist.Shard;
import org.seq4j.models.LanguageModel;
import org.seq4j.optim.NonFiniteLossException;
import org.seq4j.optim.Optimizer;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * Threads: as {@link Trainer}: one thread at a time (fitEpoch, evalPerplexity), hand-over between calls,
 * IllegalStateException naming the holder for a second thread; close twice does nothing.
 */
public final class RnnlmTrainer implements AutoCloseable {
    private final LanguageModel model;
    private final Optimizer optimizer;
    private final float maxGrad;
    private final BatchArena batches = new BatchArena();   // xs and ts, one pair at a time (fit and eval sizes alternate)
    private final Confinement guard = new Confinement(getClass().getSimpleName());   // one thread at a time
    private Tensor xs, ts;
    private int[] xBuffer, tBuffer;
    private long steps;
    private Communicator comm = Communicator.single();

    /**
     * A trainer for one model and optimizer.
     *
     * @param model     the language model
     * @param optimizer steps the model's store
     * @param maxGrad   clip gradients to this global norm before each update; 0 = no clipping (ClipGrads.clip
     *                  and Optimizer.clipAndStep refuse a max norm of 0: this trainer then calls step alone), and
     *                  Float.POSITIVE_INFINITY too, as ClipGrads.clip takes it (PyTorch's max_norm=inf)
     * @throws IllegalArgumentException if maxGrad is negative (negative infinity too) or NaN
     */
    public RnnlmTrainer(LanguageModel model, Optimizer optimizer, float maxGrad) {
        this.model = Objects.requireNonNull(model, "RnnlmTrainer: model is null");
        this.optimizer = Objects.requireNonNull(optimizer, "RnnlmTrainer: optimizer is null");
        this.maxGrad = Trainer.checkMaxGrad("RnnlmTrainer", maxGrad);
    }

    /**
     * Trains data-parallel with the other ranks of {@code comm} from now on (a collective: every rank calls it
     * before the first epoch): same model checked on every rank, rank 0's weights copied to all.
     *
     * @param comm the ranks to train with
     * @return this trainer
     */
    public RnnlmTrainer distribute(Communicator comm) {
        Objects.requireNonNull(comm, "RnnlmTrainer.distribute: comm is null");
        Trainer.enterBetweenEpochs(guard, "RnnlmTrainer", "distribute");
        try {
            DataParallel.replicate(comm, model);
            this.comm = comm;
            return this;
        } finally {
            guard.exit();
        }
    }

    /** The batch inputs the last epoch or evaluation ran over, for tests of their lifetime; null before the first. */
    Tensor batchInputs() {
        return xs;
    }

    /**
     * The optimizer (its learning rate may be lowered between epochs).
     *
     * @return the optimizer
     */
    public Optimizer optimizer() {
        return optimizer;
    }

    /**
     * One epoch over corpus (xs = corpus[:-1], ts = corpus[1:]): (size - 1) / (batch * time) batches, the state and
     * the streams' positions (time_idx) reset at the start, as train_better_rnnlm.py trains: one fit(max_epoch=1) an
     * epoch, the state reset after each validation. train_rnnlm.py's one fit(max_epoch=4), and chapter 5's
     * fit(max_epoch=100), carry both from one epoch into the next, which these epochs do not.
     *
     * @param epoch    the epoch number, for the listener
     * @param corpus   word ids in [0, V)
     * @param batch    parallel streams N
     * @param time     steps per batch T (truncated BPTT)
     * @param listener progress hooks, not null (an empty Listener for none)
     * @return the epoch's perplexity, exp(mean loss)
     * @throws IllegalArgumentException if batch or time is below 1, the corpus is too short for one batch, or an id
     *         of it is outside [0, V)
     * @throws org.seq4j.optim.NonFiniteLossException if a loss is NaN or infinite
     * @throws IllegalStateException if another thread holds the trainer, it is closed, or this is called from a
     *         Listener of its own fitEpoch
     * @throws java.util.concurrent.CancellationException if the thread is interrupted (checked between steps, its
     *         interrupt kept; in data-parallel training on every rank at the step where any rank was): the model
     *         holds the weights of the steps taken
     */
    public double fitEpoch(int epoch, int[] corpus, int batch, int time, Trainer.Listener listener) {
        Trainer.enterBetweenEpochs(guard, "RnnlmTrainer", "fitEpoch");
        try {
            return fitEpochHeld(epoch, corpus, batch, time, listener);
        } finally {
            guard.exit();
        }
    }

    private double fitEpochHeld(int epoch, int[] corpus, int batch, int time, Trainer.Listener listener) {
        // before anything changes: a null listener was found at onEpochStart, after the model was reset and set to train
        Objects.requireNonNull(corpus, "fitEpoch: corpus is null; expected word ids");
        Objects.requireNonNull(listener, "fitEpoch: listener is null; expected a Listener (an empty one for none)");
        // first: a rank that refused its own batch or corpus alone would leave the others waiting in this collective
        String ids = outOfVocabulary(corpus);   // agreed on with the rest: every rank refuses it, or none
        comm.agree("training configuration (corpus, batch, time, optimizer, clipping)", "words " + corpus.length
                + (ids == null ? "" : " (" + ids + ")") + ", batch " + batch + ", time " + time + ", "
                + optimizer.settings() + ", clip " + maxGrad);
        requireIds("fitEpoch", ids);
        int dataSize = corpus.length - 1;
        int iters = iterations("RnnlmTrainer.fitEpoch", corpus, batch, time);
        Shard shard = Shard.of(batch, comm.rank(), comm.size());
        allocate(shard.rows(), time);
        int jump = dataSize / batch;
        int timeIdx = 0;
        // data parallel: what fails on one rank alone (its model, a listener) is told to the others in the next
        // collective, where every rank throws (as in Trainer.fitEpoch)
        Throwable failed = null;
        try {
            model.setTraining(true);
            model.resetState();
            listener.onEpochStart(epoch, iters);
        } catch (RuntimeException | Error e) {
            failed = e;
        }
        Trainer.settle(comm, failed, "RnnlmTrainer.fitEpoch", "before epoch " + epoch + "'s first step");
        double total = 0;
        for (int it = 0; it < iters; it++) {
            Trainer.stopIfInterrupted(comm, epoch, it + 1, steps);
            for (int t = 0; t < time; t++) {
                for (int i = 0; i < shard.rows(); i++) {
                    int at = (int) (((long) (shard.from() + i) * jump + timeIdx) % dataSize); // < 2 * size: long
                    xBuffer[i * time + t] = corpus[at];
                    tBuffer[i * time + t] = corpus[at + 1];
                }
                timeIdx++;
            }
            if (failed == null) {
                try {
                    model.backend().copyIn(xs, xBuffer);
                    model.backend().copyIn(ts, tBuffer);
                } catch (RuntimeException | Error e) {
                    failed = e;
                }
            }
            float loss = Trainer.step(model, optimizer, comm, shard, maxGrad, xs, ts, steps + 1, failed);
            steps++;
            total += loss;
            failed = Trainer.onStep(comm, listener, epoch, it + 1, loss);
        }
        Trainer.settle(comm, failed, "RnnlmTrainer.fitEpoch", "after epoch " + epoch + "'s last step");
        DataParallel.agreeOnWeights(comm, model.store(), "after epoch " + epoch);
        return Math.exp(total / iters);
    }

    /**
     * The book's eval_perplexity: dropout off, state reset, then (size - 1) / (batch * time) batches whose
     * streams start at offsets iters * time + i * jump. Leaves the model in the mode it found it in (isTraining),
     * also when it throws, with its state reset and its last forward discarded (Model.discardForward: a backward
     * before the next forward is refused, not run over a validation batch).
     * Data parallel: the streams are split as in training and the losses summed over ranks (a collective).
     *
     * @param corpus word ids in [0, V)
     * @param batch  parallel streams N
     * @param time   steps per batch T
     * @return the perplexity, exp(mean loss)
     * @throws IllegalArgumentException if batch or time is below 1, the corpus is too short for one batch, or an id
     *         of it is outside [0, V)
     * @throws org.seq4j.dist.ConfigurationMismatchException on every rank when the ranks' corpus lengths, batches or
     *         times differ
     * @throws IllegalStateException if another thread holds the trainer, it is closed, or this is called from a
     *         Listener of its own fitEpoch
     * @throws CancellationException if the thread is interrupted (checked between batches, its interrupt kept; in
     *         data-parallel evaluation on every rank, at the final sum, when any rank was)
     */
    public double evalPerplexity(int[] corpus, int batch, int time) {
        Trainer.enterBetweenEpochs(guard, "RnnlmTrainer", "evalPerplexity");
        try {
            return evalPerplexityHeld(corpus, batch, time);
        } finally {
            guard.exit();
        }
    }

    private double evalPerplexityHeld(int[] corpus, int batch, int time) {
        Objects.requireNonNull(corpus, "evalPerplexity: corpus is null; expected word ids");
        int size = corpus.length;
        // ranks with other sizes would sum different numbers of batches and divide by their own count; first, as
        // in fitEpoch, so that no rank refuses its arguments alone
        String ids = outOfVocabulary(corpus);
        comm.agree("validation (corpus, batch, time)", "words " + size + (ids == null ? "" : " (" + ids + ")")
                + ", batch " + batch + ", time " + time);
        requireIds("evalPerplexity", ids);
        int iters = iterations("RnnlmTrainer.evalPerplexity", corpus, batch, time);
        Shard shard = Shard.of(batch, comm.rank(), comm.size());
        allocate(shard.rows(), time);
        int jump = (size - 1) / batch;
        if (comm.size() > 1) {
            // a rank whose model refused (closed, held by another thread) or whose forward threw alone left the others
            // waiting in the final sum until the MPI watchdog ended the job: the sum carries it, and every rank throws
            Throwable failed = null;
            double total = 0;
            boolean[] stopped = {false};   // this rank's thread was interrupted: told to the others in the sum
            try {
                total = evalShare(corpus, batch, time, iters, shard, jump, stopped);
            } catch (RuntimeException | Error e) {
                failed = e;
            }
            double[] sum = {total, stopped[0] ? 1 : 0, failed != null ? 1 : 0};
            comm.allReduceSum(sum);
            if (failed != null) {
                throw Trainer.rethrow(failed);
            }
            if (sum[2] > 0) {
                throw new org.seq4j.dist.DistributedException("evalPerplexity on rank " + comm.rank() + " of "
                        + comm.size() + ": " + Math.round(sum[2]) + " other rank(s) failed in their share (each says "
                        + "why); no perplexity is returned");
            }
            if (sum[1] > 0) {
                throw new CancellationException("evalPerplexity: stopped on request (" + Math.round(sum[1]) + " of "
                        + comm.size() + " ranks interrupted); no perplexity is returned");
            }
            NonFiniteLossException.requireFinite((float) sum[0], iters);
            return Math.exp(sum[0] / iters);
        }
        return Math.exp(evalShare(corpus, batch, time, iters, shard, jump, new boolean[1]));
    }

    /**
     * This rank's share of evalPerplexity's batches: alone, the mean loss; a rank's share of the sum of the batches'
     * mean losses, its batches up to where its thread was interrupted ({@code stopped} then set).
     */
    private double evalShare(int[] corpus, int batch, int time, int iters, Shard shard, int jump, boolean[] stopped) {
        int size = corpus.length;
        boolean wasTraining = model.isTraining();
        model.setTraining(false);   // when this throws nothing changed; from here on the finally puts the mode back
        double total = 0;
        boolean forwarded = false;   // a forward of this evaluation ran: its activations are the model's last
        try {
            model.resetState();
            for (int it = 0; it < iters; it++) {
                // a cancelled task (Future.cancel(true), an executor's shutdownNow) ran on to the last batch, as
                // fitEpoch did before it looked: one process stops here, a rank stops its loop and says so in the
                // sum, which every rank reaches (one that left alone would leave the others waiting in it)
                if (Thread.currentThread().isInterrupted()) {
                    if (comm.size() == 1) {
                        throw new CancellationException("evalPerplexity: interrupted before batch " + (it + 1) + " of "
                                + iters + " (the thread's interrupt is kept); no perplexity is returned");
                    }
                    stopped[0] = true;
                    break;
                }
                for (int i = 0; i < shard.rows(); i++) {
                    long offset = (long) it * time + (long) (shard.from() + i) * jump; // < 2 * size: long
                    for (int t = 0; t < time; t++) {
                        xBuffer[i * time + t] = corpus[(int) ((offset + t) % size)];
                        tBuffer[i * time + t] = corpus[(int) ((offset + t + 1) % size)];
                    }
                }
                model.backend().copyIn(xs, xBuffer);
                model.backend().copyIn(ts, tBuffer);
                forwarded = true;
                float loss = model.forward(xs, ts);
                total += comm.size() == 1 ? NonFiniteLossException.requireFinite(loss, it + 1)
                        : (double) loss * shard.rows() / batch; // this rank's share of the batch's mean loss
            }
        } finally {
            // its last forward was left pending: a model.backward() after it added the gradient of the last validation
            // batch, taken in evaluation mode, as if it were a training step's, without a word
            if (forwarded) {
                model.discardForward("RnnlmTrainer.evalPerplexity");
            }
            model.resetState();
            model.setTraining(wasTraining);
        }
        return comm.size() == 1 ? total / iters : total;
    }

    /**
     * The first id of the corpus outside [0, V), described, or null. A -1 (an unknown word's id) that fell where the
     * corpus is read only as a target was taken for the loss's ignore label: that batch's loss of 0 counted in the
     * mean, and the perplexity came out lower, without a word; elsewhere the model refused it as "xs".
     */
    private String outOfVocabulary(int[] corpus) {
        int v = model.vocabSize();
        for (int i = 0; i < corpus.length; i++) {
            if (corpus[i] < 0 || corpus[i] >= v) {
                return "corpus[" + i + "] = " + corpus[i] + " is outside the vocabulary [0, V=" + v + ")";
            }
        }
        return null;
    }

    private static void requireIds(String op, String outOfVocabulary) {
        if (outOfVocabulary != null) {
            throw new IllegalArgumentException(op + ": " + outOfVocabulary + "; expected word ids of the model's "
                    + "vocabulary (map an unknown word to an id of its own, as the book's <unk>)");
        }
    }

    /**
     * The batches of N streams of T steps in corpus[:-1]: (size - 1) / (N * T), the product taken in long (as an
     * int, 65536 * 65536 is 0); an N or T below 1, or a corpus too short for one batch, is an error.
     */
    private static int iterations(String op, int[] corpus, int batch, int time) {
        if (batch < 1 || time < 1) {   // op: the message named no call
            throw new IllegalArgumentException(op + ": batch " + batch + " and time " + time + ": both must be at least 1");
        }
        long iters = (corpus.length - 1L) / ((long) batch * time);
        if (iters < 1) {   // an empty corpus with N T = 1: (0 - 1) / 1 = -1, and its perplexity came out as 1.0
            throw new IllegalArgumentException(op + ": the corpus has " + corpus.length + " words, too few for one batch of "
                    + batch + " streams of " + time + " steps");
        }
        return (int) iters; // at most corpus.length
    }

    private void allocate(int batch, int time) {
        if (xs == null || xs.dim(0) != batch || xs.dim(1) != time) {
            // all made before any is kept, xs (the key) last: an allocation that throws (out of memory) leaves the
            // old set whole, not xs of the new size over the old ts and buffers
            int[] xb = new int[batch * time];
            int[] tb = new int[batch * time];
            Tensor[] made = batches.replace(arena -> new Tensor[] {
                    model.backend().allocate(arena, DType.I32, batch, time),
                    model.backend().allocate(arena, DType.I32, batch, time)});
            ts = made[1];
            xBuffer = xb;
            tBuffer = tb;
            xs = made[0];
        }
    }

    @Override
    public void close() {
        if (guard.heldByCurrentThread()) {   // from a Listener of this thread's fitEpoch: it went on over freed buffers
            throw new IllegalStateException("RnnlmTrainer.close: called inside this RnnlmTrainer's fitEpoch (from a "
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
