// A model from float sequences to float sequences (WaveSeq2seq, WavePredictor), trained on an MSE loss with
// the scale 0.5 * sum((y - t)^2) / N (see TimeMSE), which a trainer drives without knowing which.
// Inputs are batch-major (N, T, F) float32 tensors on the model's backend.
package org.seq4j.models;

import java.lang.foreign.Arena;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A model from float sequences to float sequences (WaveSeq2seq, WavePredictor), trained on an MSE loss scaled
 * 0.5 * sum((y - t)^2) / N (see TimeMSE). Inputs are batch-major (N, T, F) float32 tensors on the model's backend.
 */
public interface RegressionModel extends Model {

    /**
     * F of the inputs xs (N, T, F).
     *
     * @return the input width
     */
    int inputSize();

    /**
     * F of the outputs.
     *
     * @return the output width
     */
    int outputSize();

    /**
     * {@code length} output steps for each of the N input sequences, step by step, each step's output fed back
     * as the next input. Runs on a separate copy of the layers, so the training workspaces are untouched.
     *
     * @param xs     (N, T, inputSize) float32 on this model's backend
     * @param length how many steps to predict
     * @return float[N][length * outputSize], step-major per row
     * @throws IllegalArgumentException if xs does not fit
     */
    float[][] predict(Tensor xs, int length);

    /**
     * {@link #predict(Tensor, int)} for host arrays.
     *
     * @param xs     xs[n] holds the T * inputSize values of sequence n, all of one length
     * @param length how many steps to predict
     * @return float[N][length * outputSize]
     * @throws IllegalArgumentException if the sequences differ in length or are not a multiple of inputSize
     * @throws NullPointerException if xs or a row of it is null (the message says which)
     */
    default float[][] predict(float[][] xs, int length) {
        String op = getClass().getSimpleName() + ".predict";
        if (xs == null) {
            throw new NullPointerException(op + ": xs is null");
        }
        int n = xs.length, f = inputSize();
        if (n == 0) {
            if (length < 1) {   // no sequences make no outputs, but a bad length passed unnoticed until some came
                throw new IllegalArgumentException(op + " needs length >= 1, got " + length);
            }
            return new float[0][];
        }
        for (int i = 0; i < n; i++) {
            if (xs[i] == null) {
                throw new NullPointerException(op + ": row " + i + " of xs is null");
            }
        }
        if (xs[0].length == 0 || xs[0].length % f != 0) {
            throw new IllegalArgumentException(op + ": each input row must hold T * F values with F=" + f + ", got "
                    + xs[0].length);
        }
        int t = xs[0].length / f;
        float[] flat = new float[HostArrays.length(op, "inputs (N x T x F)", n, t, f)];
        for (int i = 0; i < n; i++) {
            if (xs[i].length != t * f) {
                throw new IllegalArgumentException(op + ": row " + i + " has " + xs[i].length + " values, row 0 has "
                        + t * f);
            }
            System.arraycopy(xs[i], 0, flat, i * t * f, t * f);
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = backend().allocate(arena, DType.F32, n, t, f);
            backend().copyIn(x, flat);
            return predict(x, length);
        }
    }
}
