// Synchronous data parallelism over a Communicator, in three calls that a trainer makes:
//   replicate   once before training: every rank checks that it holds the same model (names, shapes) and
//               takes rank 0's weights (one broadcast of the flat value buffer);
//   agree       every epoch (Trainer.fitEpoch): every rank checks batch, data size, seed, optimizer; and at its
//               end that the replicas still hold the same weights (agreeOnWeights);
//   reduce      every step, after backward and before clipping: the rank's mean-loss gradient is weighted by
//               rows_r / N, then ONE in-place all-reduce (sum) of the flat gradient buffer gives every rank
//               the gradient of the mean loss over the whole global batch of N rows; the loss is reduced the
//               same way (one more all-reduce of one double).
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
     * Checks that every rank holds the same model (class, parameter names and shapes) and copies rank 0's
     * parameter values to every rank (one broadcast of the flat value buffer).
     *
     * @param comm the ranks
     * @param model this rank's replica
     * @throws ConfigurationMismatchException when the ranks hold different models
     */
    public static void replicate(Communicator comm, Model model) {
        if (comm.size() == 1) {
            return;
        }
        ParameterStore store = model.store();
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
        if (comm.size() == 1) {
            return;
        }
        comm.agree("replicas' weights " + when + " (their bits)", Hashes.sha256Hex(store.backend(), store.values()),
                "run every rank on the same backend, CPU type and thread count, whose updates round alike");
    }

    /**
     * Gradient all-reduce of one step: grads = sum over ranks of (rows_r / N) * grads_r; returns the global
     * mean loss sum over ranks of (rows_r / N) * loss_r. Every rank must call it once per step.
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
     * where any rank asked, every rank throws after the reduction, before its update: the replicas stay equal and
     * stop together, where a rank that left alone would leave the others waiting in the next collective.
     *
     * @param comm  the ranks
     * @param store this rank's parameters; their gradients (of this rank's mean loss) are replaced in place
     * @param shard this rank's rows of the global batch of N rows
     * @param loss  this rank's mean loss over its rows
     * @param stop  whether this rank asks every rank to stop at this step
     * @return the mean loss over the global batch, the same on every rank
     * @throws CancellationException on every rank when any rank asked to stop, naming how many did
     */
    public static float reduce(Communicator comm, ParameterStore store, Shard shard, float loss, boolean stop) {
        if (comm.size() == 1) {
            if (stop) {
                throw new CancellationException("stopped on request (1 of 1 ranks)");
            }
            return loss;
        }
        float weight = shard.weight();
        if (weight != 1f) {
            store.scaleGrads(weight);
        }
        comm.allReduceSum(store.backend(), store.grads());
        double[] total = {(double) loss * shard.rows() / shard.batch(), stop ? 1 : 0};
        comm.allReduceSum(total);
        if (total[1] > 0) {
            throw new CancellationException("stopped on request (" + Math.round(total[1]) + " of " + comm.size()
                    + " ranks)");
        }
        return (float) total[0];
    }
}
