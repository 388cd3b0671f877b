// A named model parameter: its value and its gradient, two views of the same shape into a ParameterStore's
// flat buffers. Names mirror the book's attribute paths (encoder.lstm.Wx) so .npz files exchange with the book.
package org.seq4j.layers;

import java.util.Arrays;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A named model parameter: its value and its gradient, two views of the same shape into a ParameterStore's
 * flat buffers. Names mirror the book's attribute paths ({@code encoder.lstm.Wx}), so .npz files exchange with
 * the book's code.
 *
 * @param name  the book's attribute path
 * @param value float32, any shape
 * @param grad  float32, the value's shape; accumulated by backward, zeroed by the optimizer step
 */
public record Parameter(String name, Tensor value, Tensor grad) {

    /**
     * Checks dtypes and shapes.
     *
     * @throws IllegalArgumentException if value or grad is not float32 or their shapes differ
     */
    public Parameter {
        if (value.dtype() != DType.F32 || grad.dtype() != DType.F32) {
            throw new IllegalArgumentException("parameter " + name + " must be float32, got value " + value
                    + " and grad " + grad);
        }
        if (!Arrays.equals(value.shape(), grad.shape())) {
            throw new IllegalArgumentException("parameter " + name + ": value " + value + " and grad " + grad
                    + " must have the same shape");
        }
    }

    /**
     * The shape, e.g. (D, 4H) for an LSTM's Wx.
     *
     * @return a copy of it
     */
    public int[] shape() {
        return value.shape();
    }

    /**
     * Number of elements.
     *
     * @return the product of the shape
     */
    public long size() {
        return value.size();
    }

    /**
     * Extent of one dimension of the value.
     *
     * @param i the dimension; negative counts from the end
     * @return its extent
     */
    public int dim(int i) {
        return value.dim(i);
    }

    @Override
    public String toString() {
        return name + " " + Tensor.shapeString(value.shape());
    }
}
