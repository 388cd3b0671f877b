// The book's AttentionEncoder (ch08): the Encoder, but its encoding is every hidden state hs (T, N, H).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.Tensor;

/** The book's AttentionEncoder (ch08): the Encoder, but its encoding is every hidden state hs (T, N, H). */
public final class AttentionEncoder extends Encoder {

    /**
     * A part over parameters already declared (with {@code declare}) and built.
     *
     * @param backend runs the kernels
     * @param store   holds the parameters
     * @param prefix  the prefix they were declared under
     * @throws IllegalArgumentException if a parameter is missing or its shape is not the one declare gives it (the
     *         store of another model's part)
     */
    public AttentionEncoder(Backend backend, ParameterStore store, String prefix) {
        super(backend, store, prefix);
    }

    /**
     * A part with the given cell, over parameters already declared (with {@code Encoder.declare(b, prefix, cell, V, D, H)}) and built.
     *
     * @param backend runs the kernels
     * @param store   holds the parameters
     * @param prefix  the prefix they were declared under
     * @param cell    the cell they were declared with
     * @throws IllegalArgumentException if a parameter is missing or its shape is not the one declare gives it (the
     *         store of another model's part)
     */
    public AttentionEncoder(Backend backend, ParameterStore store, String prefix, Cell cell) {
        super(backend, store, prefix, cell);
    }

    /** hs (T, N, H) for xs (T, N) int32. */
    @Override
    public Tensor forward(Tensor xs) {
        return lstm.forward(embed, xs);
    }

    /** dhs (T, N, H) w.r.t. every hidden state. */
    @Override
    public void backward(Tensor dhs) {
        lstm.backward(embed, dhs);
    }
}
