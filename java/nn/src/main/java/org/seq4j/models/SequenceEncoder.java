// The encoder half of a seq2seq model, as the shared seq2seq code sees it: token ids (T, N) time-major in,
// an encoding out (the last h (N, H) for Encoder, all hs (T, N, H) for AttentionEncoder), and back.
package org.seq4j.models;

import org.seq4j.tensor.Tensor;

public interface SequenceEncoder extends AutoCloseable {

    /** The encoding of xs (T, N) int32; owned by the encoder until its next forward. */
    Tensor forward(Tensor xs);

    /** Takes the gradient w.r.t. the encoding (same shape as forward's result); parameter gradients accumulate. */
    void backward(Tensor dEncoding);

    @Override
    void close();
}
