// A named model parameter: its value and its gradient, two views of the same shape into a ParameterStore's
// flat buffers. Names mirror the book's attribute paths (encoder.lstm.Wx) so .npz files exchange with the book.
package org.seq4j.layers;

import java.util.Arrays;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public record Parameter(String name, Tensor value, Tensor grad) {

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

    /** A copy of the shape, e.g. (D, 4H) for an LSTM's Wx. */
    public int[] shape() {
        return value.shape();
    }

    /** Number of elements. */
    public long size() {
        return value.size();
    }

    /** Extent of dimension {@code i} of the value. */
    public int dim(int i) {
        return value.dim(i);
    }

    @Override
    public String toString() {
        return name + " " + Tensor.shapeString(value.shape());
    }
}
