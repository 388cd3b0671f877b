// The book's RnnlmTrainer and eval_perplexity (common/trainer.py, common/util.py): truncated BPTT over a
// word-id corpus with `batch` parallel streams starting at offsets i * jump, `time` steps per batch, the
// recurrent state carried from batch to batch; perplexity is exp(mean cross-entropy).
package org.seq4j.train;

import java.lang.foreign.Arena;
import org.seq4j.backend.Confinement;
import org.seq4j.models.LanguageModel;
import org.seq4j.optim.ClipGrads;
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
    private final Arena arena = Arena.ofShared();
    private final Confinement guard = new Confinement(getClass().getSimpleName());   // one thread at a time
    private Tensor xs, ts;
    private int[] xBuffer, tBuffer;
    private long steps;

    /**
     * A trainer for one model and optimizer.
     *
     * @param model     the language model
     * @param optimizer steps the model's store
     * @param maxGrad   clip gradients to this global norm before each update; 0 = off
     */
    public RnnlmTrainer(LanguageModel model, Optimizer optimizer, float maxGrad) {
        this.model = model;
        this.optimizer = optimizer;
        this.maxGrad = maxGrad;
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
     * One epoch over corpus (xs = corpus[:-1], ts = corpus[1:]): (size - 1) / (batch * time) batches, the state
     * reset at the start, as the book's fit(max_epoch=1) does.
     *
     * @param epoch    the epoch number, for the listener
     * @param corpus   word ids in [0, V)
     * @param batch    parallel streams N
     * @param time     steps per batch T (truncated BPTT)
     * @param listener progress hooks, not null (an empty Listener for none)
     * @return the epoch's perplexity, exp(mean loss)
     * @throws IllegalArgumentException if the corpus is too short for one batch
     * @throws org.seq4j.optim.NonFiniteLossException if a loss is NaN or infinite
     * @throws IllegalStateException if another thread holds the trainer, or it is closed
     */
    public double fitEpoch(int epoch, int[] corpus, int batch, int time, Trainer.Listener listener) {
        guard.enter("fitEpoch");
        try {
            return fitEpochHeld(epoch, corpus, batch, time, listener);
        } finally {
            guard.exit();
        }
    }

    private double fitEpochHeld(int epoch, int[] corpus, int batch, int time, Trainer.Listener listener) {
        int dataSize = corpus.length - 1;
        int iters = dataSize / (batch * time);
        if (iters == 0) {
            throw new IllegalArgumentException("the corpus has " + corpus.length + " words, too few for one batch of "
                    + batch + " streams of " + time + " steps");
        }
        allocate(batch, time);
        int jump = dataSize / batch;
        int timeIdx = 0;
        model.setTraining(true);
        model.resetState();
        listener.onEpochStart(epoch, iters);
        double total = 0;
        for (int it = 0; it < iters; it++) {
            for (int t = 0; t < time; t++) {
                for (int i = 0; i < batch; i++) {
                    int at = (i * jump + timeIdx) % dataSize;
                    xBuffer[i * time + t] = corpus[at];
                    tBuffer[i * time + t] = corpus[at + 1];
                }
                timeIdx++;
            }
            model.backend().copyIn(xs, xBuffer);
            model.backend().copyIn(ts, tBuffer);
            float loss = NonFiniteLossException.requireFinite(model.forward(xs, ts), steps + 1);
            model.backward();
            if (maxGrad > 0) {
                ClipGrads.clip(model.store(), maxGrad);
            }
            optimizer.step(model.store());
            steps++;
            total += loss;
            listener.onStep(epoch, it + 1, loss);
        }
        return Math.exp(total / iters);
    }

    /**
     * The book's eval_perplexity: dropout off, state reset, then (size - 1) / (batch * time) batches whose
     * streams start at offsets iters * time + i * jump. Leaves the model in training mode with its state reset.
     *
     * @param corpus word ids in [0, V)
     * @param batch  parallel streams N
     * @param time   steps per batch T
     * @return the perplexity, exp(mean loss)
     * @throws IllegalArgumentException if the corpus is too short for one batch
     */
    public double evalPerplexity(int[] corpus, int batch, int time) {
        guard.enter("evalPerplexity");
        try {
            return evalPerplexityHeld(corpus, batch, time);
        } finally {
            guard.exit();
        }
    }

    private double evalPerplexityHeld(int[] corpus, int batch, int time) {
        int size = corpus.length;
        int iters = (size - 1) / (batch * time);
        if (iters == 0) {
            throw new IllegalArgumentException("the corpus has " + size + " words, too few for one batch of " + batch
                    + " streams of " + time + " steps");
        }
        allocate(batch, time);
        int jump = (size - 1) / batch;
        model.setTraining(false);
        model.resetState();
        double total = 0;
        try {
            for (int it = 0; it < iters; it++) {
                for (int i = 0; i < batch; i++) {
                    int offset = it * time + i * jump;
                    for (int t = 0; t < time; t++) {
                        xBuffer[i * time + t] = corpus[(offset + t) % size];
                        tBuffer[i * time + t] = corpus[(offset + t + 1) % size];
                    }
                }
                model.backend().copyIn(xs, xBuffer);
                model.backend().copyIn(ts, tBuffer);
                total += NonFiniteLossException.requireFinite(model.forward(xs, ts), it + 1);
            }
        } finally {
            model.resetState();
            model.setTraining(true);
        }
        return Math.exp(total / iters);
    }

    private void allocate(int batch, int time) {
        if (xs == null || xs.dim(0) != batch || xs.dim(1) != time) {
            xs = model.backend().allocate(arena, DType.I32, batch, time);
            ts = model.backend().allocate(arena, DType.I32, batch, time);
            xBuffer = new int[batch * time];
            tBuffer = new int[batch * time];
        }
    }

    @Override
    public void close() {
        if (!guard.enterClose()) {
            return;
        }
        try {
            arena.close();
        } finally {
            guard.exit();
        }
    }
}
