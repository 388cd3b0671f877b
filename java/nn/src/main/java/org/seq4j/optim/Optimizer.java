// The book's optimizers over a model's flat parameter buffer: one kernel call updates every parameter from
// its gradient, then one fill zeroes the gradients (Adam's kernel zeroes them in its own pass instead); the end
// of the gradient contract: forward writes, backward accumulates, the optimizer step applies and zeroes.
package org.seq4j.optim;

import org.seq4j.layers.ParameterStore;

/**
 * Threads: an optimizer is confined to one thread at a time, like the model whose store it steps (see
 * {@code Model}): step and setLearningRate claim it for the calling thread, and a second thread calling
 * meanwhile gets an IllegalStateException naming the holder. It may be handed to another thread between
 * calls. Lifetime: after {@link #close()} the state (velocity, moments) is gone, so {@link #step} throws
 * IllegalStateException instead of silently starting over from zero; closing again does nothing.
 */
public interface Optimizer extends AutoCloseable {

    /**
     * Updates store.values() from store.grads() and zeroes the gradients. Optimizers with state (velocity,
     * moments) allocate it on the first step, on the store's backend, and serve that one store only. Gradients that
     * are NaN or infinite are refused before anything is written (the optimizers of this package, AbstractOptimizer's,
     * check with one reduction over the gradients; an implementation of one's own should refuse them too), and so
     * is a step whose update would take a weight out of float's range (a learning rate near it).
     *
     * @param params the model's parameters and gradients
     * @throws IllegalStateException    if closed, held by another thread, or another thread's gradients are pending
     *                                  in the store
     * @throws IllegalArgumentException if given a different store than the first step that succeeded
     * @throws NullPointerException     if params is null (the optimizers of this package name the call)
     * @throws NonFiniteGradientException if a gradient is NaN or infinite, or the update would take a weight out of
     *                                  float's range, naming the parameter: the weights, the state and the gradients
     *                                  stay as they were
     */
    void step(ParameterStore params);

    /**
     * {@link ClipGrads#clip}(params, maxNorm), then {@link #step}(params): the training step of the book's trainers
     * with a max_grad. The optimizers of this package measure the gradients once for both, the clip's norm being the
     * step's check; this default, for an implementation of one's own, calls the two.
     *
     * @param params  the model's parameters and gradients
     * @param maxNorm the largest global L2 norm of the gradients allowed, above 0; Float.POSITIVE_INFINITY clips
     *                nothing (the step alone, its check of the gradients included)
     * @return the global norm before clipping, as a float: Float.POSITIVE_INFINITY for finite gradients whose norm
     *         passes float's range (about 3.4e38; the clip took the norm in double), never for an infinite gradient,
     *         which is refused
     * @throws IllegalArgumentException if maxNorm is not above 0 (0, negative or NaN), or as step
     * @throws IllegalStateException    as step
     * @throws NullPointerException     as step
     * @throws NonFiniteGradientException if a gradient is NaN or infinite, naming the parameter: nothing is scaled or
     *                                  written
     */
    default float clipAndStep(ParameterStore params, float maxNorm) {
        float norm = ClipGrads.clip(params, maxNorm);
        step(params);
        return norm;
    }

    /**
     * The current learning rate.
     *
     * @return the rate
     */
    float learningRate();

    /**
     * Changes the learning rate from the next step on (RnnlmTrainer divides it when perplexity stalls).
     *
     * @param lr the learning rate, finite and >= 0, -0.0 taken as 0 (else IllegalArgumentException, as the
     *           optimizers' constructors throw)
     */
    void setLearningRate(float lr);

    /**
     * What has to be the same on every rank of data-parallel training for the replicas to stay identical: the class,
     * the learning rate, every other hyperparameter, and what the update depends on beyond them (such as a count of
     * steps taken). The trainers agree on it across ranks at each epoch's start, so that a rank whose optimizer
     * differs is refused there on every rank (ConfigurationMismatchException), before an epoch of updates that would
     * take the replicas apart. Two optimizers that update alike give equal strings; the string is for comparing and
     * reading, not for parsing.
     *
     * <p>This default gives the class's name and the learning rate. An optimizer of one's own with other settings
     * should return them too; the optimizers of this package give their hyperparameters and their count of steps
     * taken where they keep state, for example {@code "Adam lr 0.001, beta1 0.9, beta2 0.999, 120 steps"}.
     *
     * @return the settings, one line
     */
    default String settings() {
        return getClass().getName() + " lr " + learningRate();
    }

    /** Releases the optimizer's state. */
    @Override
    void close();
}
