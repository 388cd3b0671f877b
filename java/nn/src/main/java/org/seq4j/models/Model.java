// What every seq4j model offers a trainer: parameters by name in one flat store, a loss for a batch, and
// the gradients of that loss. Models take the book's batch-major inputs: (N, T) int32 token ids or
// (N, T, F) float32 values, as Tensors on the model's backend; they transpose to time-major inside.
//
// Gradient contract: forward computes the loss; backward ADDS every parameter's gradient of that loss into
// the store's flat gradient buffer; the optimizer step applies them and zeroes the buffer.
package org.seq4j.models;

import java.util.List;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Parameter;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

public interface Model extends AutoCloseable {

    /** The backend every tensor of this model lives on. */
    Backend backend();

    /** All parameters: one flat value buffer, one flat gradient buffer, named views. */
    ParameterStore store();

    /** Every parameter in a stable order, with the book's names and shapes. */
    default List<Parameter> parameters() {
        return store().parameters();
    }

    /** The parameter called {@code name}, e.g. "decoder.lstm.Wx". */
    default Parameter parameter(String name) {
        return store().get(name);
    }

    /**
     * The loss of one batch (a host float, read with Backend.item). What xs and ts are depends on the model;
     * see its class comment. Throws IllegalArgumentException naming N, T, V when the shapes are wrong.
     */
    float forward(Tensor xs, Tensor ts);

    /** Adds the gradient of the last forward's loss to every parameter's gradient. */
    void backward();

    /** Training (dropout on) or evaluation mode; models without dropout ignore it. Starts in training mode. */
    default void setTraining(boolean training) {
    }

    /** Releases parameters and workspaces. */
    @Override
    void close();
}
