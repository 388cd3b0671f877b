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
     * moments) allocate it on the first step, on the store's backend, and serve that one store only.
     *
     * @param params the model's parameters and gradients
     * @throws IllegalStateException    if closed, held by another thread, or another thread's gradients are pending
     *                                  in the store
     * @throws IllegalArgumentException if given a different store than the first step that succeeded
     */
    void step(ParameterStore params);

    /**
     * The current learning rate.
     *
     * @return the rate
     */
    float learningRate();

    /**
     * Changes the learning rate from the next step on (RnnlmTrainer divides it when perplexity stalls).
     *
     * @param lr the learning rate, finite and >= 0 (else IllegalArgumentException)
     */
    void setLearningRate(float lr);

    /** Releases the optimizer's state. */
    @Override
    void close();
}
