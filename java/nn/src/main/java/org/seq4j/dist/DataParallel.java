// Synchronous data parallelism over a Communicator, in three calls that a trainer makes:
//   replicate   once before training: every rank checks that it holds the same model (names, shapes) and
//               takes rank 0's weights (one broadcast of the flat value buffer);
//   agree       every epoch (Trainer.fitEpoch): every rank checks batch, data size, seed, optimizer settings; and at its
//               end that the replicas still hold the same weights (agreeOnWeights);
//   reduce      every step, after backward and before clipping: the loss is reduced first (one all-reduce of
//               a few doubles, which also carries every rank's stop request and whether it could claim its
//               parameters), then the rank's mean-loss gradient is weighted by rows_r / N and ONE in-place
//               all-reduce (sum) of the flat gradient buffer gives every rank the gradient of the mean loss
//               over the whole global batch of N rows.
// Both collectives that write the store (replicate's broadcast, reduce's all-reduce) hold its claim, the model's
// guard, while they write: another thread of the rank inside the model (a checkpoint load, a generation, an
// optimizer step) is refused on every rank at once, before anything is written; a rank that refused alone would
// leave the others waiting in the collective.
// Clipping and the optimizer then run on every rank on identical gradients, so the replicas stay identical
// and R ranks with N/R rows each follow one process with N rows, up to float summation order.
// With one rank every call returns at once and changes nothing.
//
// The weighting is exact when each row carries the same number of scored positions (the book's fixed-width
// seq2seq sets, the wave regressions); with ignored labels (-1) the loss is a mean over scored positions and
// the split weights rows, not positions.
package org.seq4j.dist;

import java.util.concurrent.CancellationException;
import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.models.Model;

/**
 * Synchronous data parallelism over a {@link Communicator}: {@link #replicate} once before training,
 * {@link #reduce} every step after backward and before clipping. With one rank both return at once.
 */
public final class DataParallel {
    private DataParallel() {
    }

    /**
     * Checks that every rank holds the same model (class, parameter names and shapes), copies rank 0's
     * parameter values to every rank (one broadcast of the flat value buffer), and gives each rank's random draws
     * (dropout masks) a stream of their own ({@link Model#drawAsRank}).
     *
     * @param comm the ranks
     * @param model this rank's replica
     * @throws ConfigurationMismatchException when the ranks hold different models
     * @throws IllegalStateException on every rank when another thread of any rank is inside its model, or a rank's
     *         model is closed (nothing is written)
     */
    public static void replicate(Communicator comm, Model model) {
        // named on one rank as on many: with one rank each call returned at once and took a null model, store or shard
        // without a word, so that a program tested alone failed only under mpirun (a bare NullPointerException inside)
        java.util.Objects.requireNonNull(comm, "DataParallel.replicate: comm is null");
        java.util.Objects.requireNonNull(model, "DataParallel.replicate: model is null");
        if (comm.size() == 1) {
            return;
        }
        ParameterStore store = model.store();
        String refused = claim(store, "DataParallel.replicate");
        try {
            double[] refusals = {refused == null ? 0 : 1};
            comm.allReduceSum(refusals);
            requireClaimed(comm, refused, refusals[0], "DataParallel.replicate", "before any weight was copied");
            StringBuilder layout = new StringBuilder(model.getClass().getName());
            for (Parameter p : store.parameters()) {
                layout.append(' ').append(p.name()).append(java.util.Arrays.toString(p.value().shape()));
            }
            comm.agree("model (class, parameter names and shapes)", layout.toString());
            try {
                comm.broadcast(store.backend(), store.values());
            } finally {
                store.valuesWritten();   // even a failed broadcast may have written some: kept copies are made again
            }
        } finally {
            if (refused == null) {
                store.release();
            }
        }
        model.drawAsRank(comm.rank());   // every rank drew rank 0's dropout masks: its shard masked as rank 0's
    }

    /** Claims the store for a collective that writes it: null when claimed, else why not (another thread, closed). */
    private static String claim(ParameterStore store, String op) {
        try {
            store.claim(op);
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /**
     * Throws on every rank when any could not claim its store ({@code refusals}, summed over the ranks, counts them):
     * the collective's writes are skipped everywhere, where a rank that threw alone would leave the others waiting.
     */
    private static void requireClaimed(Communicator comm, String refused, double refusals, String op, String when) {
        if (refusals == 0) {
            return;
        }
        String ranks = Math.round(refusals) + " of " + comm.size() + " ranks";
        throw new IllegalStateException(refused != null
                ? refused + " (rank " + comm.rank() + "; " + ranks + " refused, and every rank stopped " + when + ")"
                : op + " on rank " + comm.rank() + ": the model of " + ranks + " was in use by another thread or "
                        + "closed, and every rank stopped " + when);
    }

    /**
     * Checks that every rank's replica holds the same weights, bit for bit (a SHA-256 of their bits, agreed as
     * {@link Communicator#agree} agrees a configuration). The all-reduce hands every rank the same gradients, so the
     * replicas stay equal only while every rank updates them with the same arithmetic: ranks on different backends,
     * CPU clones (AVX-512 on one node, AVX2 on another) or thread counts round differently and drift apart, each
     * training on weights the others do not have. The trainers call it at the end of every epoch; with one rank it
     * returns at once.
     *
     * @param comm the ranks
     * @param store this rank's parameters
     * @param when when, for the message, e.g. "after epoch 3"
     * @throws ConfigurationMismatchException on every rank when any two replicas differ
     */
    public static void agreeOnWeights(Communicator comm, ParameterStore store, String when) {
        java.util.Objects.requireNonNull(comm, "DataParallel.agreeOnWeights: comm is null");
        java.util.Objects.requireNonNull(store, "DataParallel.agreeOnWeights: store is null");
        if (comm.size() == 1) {
            return;
        }
        comm.agree("replicas' weights " + when + " (their bits)", Hashes.sha256Hex(store.backend(), store.values()),
                "run every rank on the same backend, CPU type and thread count, whose updates round alike");
    }

    /**
     * Gradient all-reduce of one step: grads = sum over ranks of (rows_r / N) * grads_r; returns the global
     * mean loss sum over ranks of (rows_r / N) * loss_r, where N is the sum of the ranks' rows (each shard's batch where
     * the shards split one batch, as {@link Shard#of} makes them). Every rank must call it once per step.
     *
     * @param comm the ranks
     * @param store this rank's parameters; their gradients (of this rank's mean loss) are replaced in place
     * @param shard this rank's rows of the global batch of N rows
     * @param loss this rank's mean loss over its rows
     * @return the mean loss over the global batch, the same on every rank
     */
    public static float reduce(Communicator comm, ParameterStore store, Shard shard, float loss) {
        return reduce(comm, store, shard, loss, false);
    }

    /**
     * {@link #reduce(Communicator, ParameterStore, Shard, float)}, and whether this rank asks to stop (its thread was
     * interrupted): the request travels in the loss's all-reduce, so every rank learns of it in the same step, and
     * where any rank asked, every rank throws before the gradients are summed and before its update: the replicas
     * stay equal and stop together, where a rank that left alone would leave the others waiting in the next
     * collective.
     *
     * @param comm  the ranks
     * @param store this rank's parameters; their gradients (of this rank's mean loss) are replaced in place
     * @param shard this rank's rows of the global batch of N rows
     * @param loss  this rank's mean loss over its rows
     * @param stop  whether this rank asks every rank to stop at this step
     * @return the mean loss over the global batch, the same on every rank
     * @throws CancellationException on every rank when any rank asked to stop, naming how many did
     * @throws IllegalArgumentException on every rank when no rank has a row
     * @throws IllegalStateException on every rank when another thread of any rank is inside its model, or a rank's
     *         store is closed (no gradient is summed)
     * @throws ConfigurationMismatchException on every rank when the ranks' stores hold different numbers of gradients
     *         (no gradient is summed)
     */
    public static float reduce(Communicator comm, ParameterStore store, Shard shard, float loss, boolean stop) {
        return reduce(comm, store, shard, loss, stop, false);
    }

    /**
     * {@link #reduce(Communicator, ParameterStore, Shard, float, boolean)} for a rank whose step failed before its
     * reduce (its batch, forward or backward threw, or a listener of the step before did): the failure travels in the
     * loss's all-reduce, and every rank throws there, before the gradients are summed and before any update, where a
     * rank that threw alone left the others waiting in this collective until the MPI watchdog ended the job.
     *
     * @param comm   the ranks
     * @param store  this rank's parameters (not written: no gradient is summed)
     * @param shard  this rank's rows of the global batch
     * @throws DistributedException on every rank, this one included (its caller throws its own failure instead)
     */
    public static void reduceFailed(Communicator comm, ParameterStore store, Shard shard) {
        reduce(comm, store, shard, 0f, false, true);
        // size 1: reduce returned; the caller throws its own failure
    }

    private static float reduce(Communicator comm, ParameterStore store, Shard shard, float loss, boolean stop,
                                boolean failed) {
        java.util.Objects.requireNonNull(comm, "DataParallel.reduce: comm is null");
        java.util.Objects.requireNonNull(store, "DataParallel.reduce: store is null");
        java.util.Objects.requireNonNull(shard, "DataParallel.reduce: shard is null");
        if (comm.size() == 1) {
            if (stop) {
                throw new CancellationException("stopped on request (1 of 1 ranks)");
            }
            return loss;
        }
        String refused = failed ? null : claim(store, "DataParallel.reduce");   // a failed rank writes nothing
        try {
            // first the few doubles: every rank learns of a stop or a refusal before any gradient moves. The global
            // batch is the sum of the ranks' rows, as all of them see it: shards that do not split one batch (two ranks
            // each given the whole batch, batches of 8 and 16) weighted each rank by its own rows / batch, and the
            // loss and gradients came out scaled by the sum of those weights (2x, 0.75x) without a word
            // and the gradients' count, in two 16-bit halves with their squares (exact sums): the all-reduce of the
            // gradients takes each rank's count as it is, and counts that differ (stores of different models, reduce
            // called without replicate) are undefined in MPI (a truncation error, a hang, or memory overwritten)
            long count = failed || refused != null ? 0 : store.grads().size();
            double hi = count >>> 16, lo = count & 0xffff;
            double[] total = {(double) loss * shard.rows(), shard.rows(), stop ? 1 : 0, refused == null ? 0 : 1,
                    failed ? 1 : 0, hi, hi * hi, lo, lo * lo};
            comm.allReduceSum(total);
            requireClaimed(comm, refused, total[3], "DataParallel.reduce", "before its gradients were summed");
            if (total[4] > 0) {
                throw new DistributedException("DataParallel.reduce on rank " + comm.rank() + " of " + comm.size() + ": "
                        + (failed ? "this rank's step failed" : Math.round(total[4]) + " other rank(s) failed in their "
                        + "step (each says why)") + ", and every rank stopped before its gradients were summed");
            }
            // every rank's half equals the mean and its square the mean square only where all are equal (no variance):
            // so every rank comes to the same verdict
            int n = comm.size();
            if (total[5] != n * hi || total[6] != n * hi * hi || total[7] != n * lo || total[8] != n * lo * lo) {
                throw new ConfigurationMismatchException("DataParallel.reduce on rank " + comm.rank() + " of " + n
                        + ": the ranks' stores hold different numbers of gradients (this one " + count + "); expected "
                        + "replicas of one model (DataParallel.replicate), and every rank stopped before its gradients "
                        + "were summed");
            }
            if (total[2] > 0) {
                throw new CancellationException("stopped on request (" + Math.round(total[2]) + " of " + comm.size()
                        + " ranks)");
            }
            if (total[1] < 1) {   // every rank sees the same sum: all of them throw
                throw new IllegalArgumentException("DataParallel.reduce: no rank has a row of the batch (every shard is "
                        + "empty)");
            }
            float weight = (float) (shard.rows() / total[1]);   // Shard.weight() where the shards split one batch
            if (weight != 1f) {
                store.scaleGrads(weight);
            }
            comm.allReduceSum(store.backend(), store.grads());
            return (float) (total[0] / total[1]);
        } finally {
            if (refused == null && !failed) {
                store.release();
            }
        }
    }
}
