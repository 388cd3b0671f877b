// A named model parameter: its value and its gradient, two views of the same shape into a ParameterStore's
// flat buffers, and the store's write counter. Names mirror the book's attribute paths (encoder.lstm.Wx) so
// .npz files exchange with the book.
package org.seq4j.layers;

import java.util.Arrays;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A named model parameter: its value and its gradient, two views of the same shape into a ParameterStore's
 * flat buffers. Names mirror the book's attribute paths ({@code encoder.lstm.Wx}), so .npz files exchange with
 * the book's code.
 *
 * <p>{@code version} counts the writes to the value (shared by every parameter of one ParameterStore). A copy
 * derived from a value, such as the bfloat16 recurrent weights of inference (TimeLSTM, TimeGRU), records the count
 * it was made at and is made again before use when the count moved. Everything in seq4j that writes values
 * advances it: ParameterStore.copyIn/copyInAll (and so checkpoint loading), every Optimizer.step, DataParallel's
 * broadcast. Such a copy also records the value's {@code Tensor.writes()}, so a write through a Backend kernel (an
 * Optimizer of one's own) is seen without it. Code that writes the value's memory past seq4j (its segment, a second
 * wrap of it) must call {@link Version#advance()} (or ParameterStore.valuesWritten()) afterwards.
 *
 * @param name    the book's attribute path
 * @param value   float32, any shape
 * @param grad    float32, the value's shape; accumulated by backward, zeroed by the optimizer step
 * @param version counts the writes to the value
 */
public record Parameter(String name, Tensor value, Tensor grad, Version version) {

    /**
     * A counter of the writes to a group of parameter values: a derived copy made at count c is stale once the
     * count differs from c. Read and advanced by the one thread that holds the model (see Model).
     */
    public static final class Version {
        private volatile long count;

        /** A counter at 0. */
        public Version() {
        }

        /**
         * The number of writes so far.
         *
         * @return the count
         */
        public long get() {
            return count;
        }

        /** Records a write to the values: copies derived from them are made again before their next use. */
        public void advance() {
            count++;
        }
    }

    /**
     * A parameter with its own write counter (a store's parameters share the store's).
     *
     * @param name  the book's attribute path
     * @param value float32, any shape
     * @param grad  float32, the value's shape
     */
    public Parameter(String name, Tensor value, Tensor grad) {
        this(name, value, grad, new Version());
    }

    /**
     * Checks dtypes and shapes.
     *
     * @throws IllegalArgumentException if value or grad is not float32, their shapes differ, or they share memory
     * @throws NullPointerException if version is null
     */
    public Parameter {
        java.util.Objects.requireNonNull(version, "version");
        if (value.dtype() != DType.F32 || grad.dtype() != DType.F32) {
            throw new IllegalArgumentException("parameter " + name + " must be float32, got value " + value
                    + " and grad " + grad);
        }
        if (!Arrays.equals(value.shape(), grad.shape())) {
            throw new IllegalArgumentException("parameter " + name + ": value " + value + " and grad " + grad
                    + " must have the same shape");
        }
        if (grad.overlaps(value)) {   // a backward would add its gradient into the weights, with no word
            throw new IllegalArgumentException("parameter " + name + ": grad " + grad + " shares memory with value "
                    + value + "; a backward adds into the grad: give it a buffer of its own");
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
