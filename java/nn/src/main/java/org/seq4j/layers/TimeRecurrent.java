// What the models need of a recurrent layer over a time-major sequence: TimeLSTM and TimeGRU, so that a model
// built with Cell.LSTM or Cell.GRU runs the same code. Only h travels between layers (a decoder starts from
// the encoder's h; an LSTM's c starts at 0), as in the book's seq2seq models.
package org.seq4j.layers;

import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;

/**
 * What the models need of a recurrent layer over a time-major sequence, so that a model built with Cell.LSTM or
 * Cell.GRU runs the same code. Only h travels between layers; an LSTM's c starts at 0. After close() every call but
 * the accessors of its configuration (inputSize, hiddenSize, isStateful, inferencePrecision) throws
 * IllegalStateException naming the layer and the call.
 */
public sealed interface TimeRecurrent extends AutoCloseable permits TimeLSTM, TimeGRU {

    /**
     * The input size.
     *
     * @return D, the features of each input step
     */
    int inputSize();

    /**
     * The hidden size.
     *
     * @return H
     */
    int hiddenSize();

    /**
     * Whether forward starts from the last forward's final state (or setState's).
     *
     * @return true for a stateful layer
     */
    boolean isStateful();

    /**
     * hs (T, N, H) for xs (T, N, D); the result is this layer's until the next forward.
     *
     * @param xs (T, N, D)
     * @return hs (T, N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if xs is not (T, N, D) with T, N >= 1
     * @throws IllegalStateException if a carried state has another N
     */
    Tensor forward(Tensor xs);

    /**
     * hs (T, N, H) for token ids (T, N) looked up in {@code embed}: forward(embed.forward(ids)), possibly with the
     * input projection folded into the embedding. Pair it with backward(embed, dhs).
     *
     * @param embed the embedding whose rows are the inputs (width D)
     * @param ids   token ids (T, N)
     * @return hs (T, N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the embedding's width is not D or ids is not (T, N)
     */
    Tensor forward(TimeEmbedding embed, Tensor ids);

    /**
     * dxs (T, N, D) for dhs (T, N, H); the weight gradients accumulate; dh() holds the gradient w.r.t. h0.
     *
     * @param dhs (T, N, H), the shape of the last forward's output
     * @return dxs (T, N, D), the layer's buffer
     * @throws IllegalStateException before a forward returned, after a backward of it, after a write to the weights
     *         since it, after forward(embed, ids) (whether it folded the embedding or not: use
     *         backward(embed, dhs)), or after a BF16 forward
     * @throws IllegalArgumentException if dhs is not (T, N, H), the shape of the last forward's output: another shape
     *         of the same size (a batch-major (N, T, H) one) is refused, not read as time-major
     */
    Tensor backward(Tensor dhs);

    /**
     * Backward of forward(embed, ids): this layer's and the embedding's gradients accumulate; dh() holds the
     * gradient w.r.t. h0.
     *
     * @param embed the embedding of the last forward
     * @param dhs   (T, N, H), the shape of the last forward's output
     * @throws IllegalStateException before a forward returned, after a backward of it, after a write to the
     *         weights (the embedding's included) since it, or after a BF16 forward
     * @throws IllegalArgumentException if the last forward folded another embedding, or dhs is not (T, N, H), the shape
     *         of the last forward's output
     */
    void backward(TimeEmbedding embed, Tensor dhs);

    /**
     * backward(embed, dhs) for a dhs that is zero at every step but the last, where it is dhLast: the backward of
     * an encoder whose only output is its last hidden state. The same gradients, without a (T, N, H) buffer of
     * zeros written only to be read back.
     *
     * @param embed  the embedding of the last forward
     * @param dhLast (N, H), the gradient w.r.t. the last hidden state h_T
     * @throws IllegalStateException before a forward returned, after a backward of it, after a write to the
     *         weights (the embedding's included) since it, or after a BF16 forward
     * @throws IllegalArgumentException if dhLast is not (N, H) or the last forward folded another embedding
     */
    void backwardLast(TimeEmbedding embed, Tensor dhLast);

    /**
     * The hidden state h (N, H) to start the next forward from (stateful only; an LSTM's c starts at 0).
     *
     * @param h (N, H), copied
     * @throws IllegalStateException if the layer is not stateful, or h lives in a closed arena
     * @throws IllegalArgumentException if h is not (N, H) float32
     * @throws NullPointerException if h is null
     */
    void setState(Tensor h);

    /** Forgets the carried state: the next forward starts from zero. */
    void resetState();

    /**
     * How forward multiplies by the recurrent weights Wh: F32 (the default, the training path) or BF16, a
     * bfloat16 copy for inference, taken again whenever Wh's version moved; a backward after a BF16 forward throws
     * IllegalStateException. See {@link TimeLSTM#setInferencePrecision}.
     *
     * @param precision F32 or BF16
     */
    void setInferencePrecision(PackedMatrix.Precision precision);

    /**
     * How forward multiplies by Wh.
     *
     * @return F32 (the default) or BF16
     */
    PackedMatrix.Precision inferencePrecision();

    /**
     * The last forward's final hidden state.
     *
     * @return h_T (N, H), a view into this layer's buffer: read it, don't write it (a stateful layer's next forward
     *         starts from it; change that with setState)
     * @throws IllegalStateException before forward
     */
    Tensor h();

    /**
     * The hidden states of the last forward.
     *
     * @return hs (T, N, H), the layer's buffer
     * @throws IllegalStateException before forward
     */
    Tensor hs();

    /**
     * The gradient w.r.t. the initial h0 of the last backward.
     *
     * @return dh0 (N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    Tensor dh();

    @Override
    void close();
}
