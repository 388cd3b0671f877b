// The decoder half of a seq2seq model, as the shared seq2seq code sees it: teacher-forced scores for
// training, the gradient w.r.t. the encoding, greedy generation, and single steps for beam search.
package org.seq4j.models;

import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;

/** The decoder half of a seq2seq model: teacher-forced scores, the gradient w.r.t. the encoding, greedy generation. */
public interface SequenceDecoder extends AutoCloseable {

    /**
     * Scores for decoder inputs, starting from the encoder's encoding.
     *
     * @param xs       (T, N) int32 decoder inputs, time-major
     * @param encoding the encoder's output
     * @return scores (T, N, V), the decoder's buffer
     */
    Tensor forward(Tensor xs, Tensor encoding);

    /**
     * The gradient w.r.t. the encoding; parameter gradients accumulate.
     *
     * @param dscore (T, N, V)
     * @return the encoding's gradient, its shape
     */
    Tensor backward(Tensor dscore);

    /**
     * Greedy ids, starting from startId.
     *
     * @param encoding the encoder's output
     * @param startId  the first input id
     * @param length   how many ids to generate
     * @return (length, N) int32, time-major; owned by the decoder until the next call
     */
    Tensor generate(Tensor encoding, int startId, int length);

    /**
     * Step-by-step decoding for beam search from an encoding whose N rows are the M = N*K hypotheses (each
     * question's encoding repeated K times): the decoder starts from it as generate does, then each step
     * maps ids (1, M) to scores (1, M, V). Valid until the next call on this decoder.
     *
     * @param encoding the encoder's output with M = N*K rows
     * @return the steps over the M hypotheses
     */
    Beam.Steps steps(Tensor encoding);

    /**
     * How the recurrent layer's forward multiplies by its Wh: F32 (the default) or BF16 for inference only (see
     * TimeLSTM.setInferencePrecision); the models set it on their generation copy only, never on the training one.
     *
     * @param precision F32 or BF16
     */
    void setInferencePrecision(PackedMatrix.Precision precision);

    /**
     * Refuses a batch of n rows that this decoder could not take, before the model sizes its workspace and runs the
     * encoder: a decoder with a limit of its own (PeekyDecoder's N x H values in one vector) names it here, instead
     * of failing after both have allocated. The default takes any n.
     *
     * @param op names the call in the message
     * @param n  the rows the decoder will be given (for beam search N x K)
     * @throws IllegalArgumentException if this decoder cannot take n rows
     */
    default void requireBatch(String op, int n) {
    }

    @Override
    void close();
}
