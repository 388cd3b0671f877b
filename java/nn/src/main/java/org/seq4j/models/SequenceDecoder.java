// The decoder half of a seq2seq model, as the shared seq2seq code sees it: teacher-forced scores for
// training, the gradient w.r.t. the encoding, greedy generation, and single steps for beam search.
package org.seq4j.models;

import org.seq4j.tensor.Tensor;

public interface SequenceDecoder extends AutoCloseable {

    /** Scores (T, N, V) for decoder inputs xs (T, N) int32, starting from the encoder's encoding. */
    Tensor forward(Tensor xs, Tensor encoding);

    /** The gradient w.r.t. the encoding for dscore (T, N, V); parameter gradients accumulate. */
    Tensor backward(Tensor dscore);

    /** Greedy ids (length, N) int32, time-major, starting from startId; owned by the decoder until the next call. */
    Tensor generate(Tensor encoding, int startId, int length);

    /**
     * Step-by-step decoding for beam search from an encoding whose N rows are the M = N*K hypotheses (each
     * question's encoding repeated K times): the decoder starts from it as generate does, then each step
     * maps ids (1, M) to scores (1, M, V). Valid until the next call on this decoder.
     */
    Beam.Steps steps(Tensor encoding);

    @Override
    void close();
}
