// The encoder half of a seq2seq model, as the shared seq2seq code sees it: token ids (T, N) time-major in,
// an encoding out (the last h (N, H) for Encoder, all hs (T, N, H) for AttentionEncoder), and back.
package org.seq4j.models;

import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;

/**
 * The encoder half of a seq2seq model: token ids (T, N) time-major in, an encoding out (the last h (N, H) for
 * Encoder, all hs (T, N, H) for AttentionEncoder), and back.
 */
public interface SequenceEncoder extends AutoCloseable {

    /**
     * The encoding of the questions.
     *
     * @param xs (T, N) int32, time-major
     * @return the encoding; owned by the encoder until its next forward
     */
    Tensor forward(Tensor xs);

    /**
     * Takes the gradient w.r.t. the encoding; parameter gradients accumulate.
     *
     * @param dEncoding the same shape as forward's result
     */
    void backward(Tensor dEncoding);

    /**
     * How the recurrent layer's forward multiplies by its Wh: F32 (the default) or BF16 for inference only (see
     * TimeLSTM.setInferencePrecision); the models set it on their generation copy only, never on the training one.
     *
     * @param precision F32 or BF16
     */
    void setInferencePrecision(PackedMatrix.Precision precision);

    @Override
    void close();
}
