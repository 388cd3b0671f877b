// A float32 array in host memory with its shape: a flat row-major float[] (held, not copied), e.g. a
// batch of wave windows (N, T, 1). Tensor.ofFloats(arena, data(), shape()) puts it in a Tensor.
package org.seq4j.data;

import java.lang.foreign.Arena;
import org.seq4j.tensor.Tensor;

/**
 * A float32 array in host memory with its shape: a flat row-major float[] (held, not copied), e.g. a batch of
 * wave windows (N, T, 1).
 *
 * @param shape the dimensions (copied)
 * @param data  the values, row-major
 */
public record HostFloats(int[] shape, float[] data) {
    /**
     * Checks the shape against the data.
     *
     * @throws IllegalArgumentException if a dimension is negative or the element count is not data.length
     * @throws NullPointerException if shape or data is null
     */
    public HostFloats {
        // named (a bare "Cannot invoke [I.clone()" or "Cannot read the array length because data is null")
        java.util.Objects.requireNonNull(shape, "HostFloats: shape is null; expected the dimensions, e.g. {N, T, 1}");
        java.util.Objects.requireNonNull(data, "HostFloats: data is null; expected the values, row-major");
        shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Tensor.shapeString(shape));
            }
            n = Math.min(n * d, Integer.MAX_VALUE + 1L); // n < 2^32 and d < 2^31 before each product
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Tensor.shapeString(shape) + " needs " + n
                    + " values but the array has " + data.length);
        }
    }

    /**
     * The dimensions.
     *
     * @return a copy of the shape
     */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /**
     * The extent of dimension {@code i}.
     *
     * @param i the dimension
     * @return its extent
     * @throws ArrayIndexOutOfBoundsException if i is not a dimension (naming it and the shape)
     */
    public int dim(int i) {
        if (i < 0 || i >= shape.length) {   // the array's own "Index 5 out of bounds for length 2" named no call
            throw new ArrayIndexOutOfBoundsException("HostFloats.dim(" + i + ") of an array of shape "
                    + Tensor.shapeString(shape) + ": expected a dimension in [0, " + shape.length + ")");
        }
        return shape[i];
    }

    /**
     * The element at a full index, e.g. at(n, t, 0) of an (N, T, 1) array.
     *
     * @param index one index per dimension
     * @return the element
     * @throws IllegalArgumentException if the number of indices is not the rank
     * @throws IndexOutOfBoundsException if an index is outside its dimension
     * @throws NullPointerException if index is null
     */
    public float at(int... index) {
        java.util.Objects.requireNonNull(index, "HostFloats.at: index is null; expected one index per dimension");
        if (index.length != shape.length) {
            throw new IllegalArgumentException(index.length + " indices for an array of shape " + Tensor.shapeString(shape));
        }
        int flat = 0;
        for (int d = 0; d < shape.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + index[d] + " in dimension " + d + " of shape "
                        + Tensor.shapeString(shape));
            }
            flat = flat * shape[d] + index[d];
        }
        return data[flat];
    }

    /**
     * A host tensor in {@code arena} holding a copy.
     *
     * @param arena where the tensor lives
     * @return a new CPU float32 tensor of this shape
     */
    public Tensor toTensor(Arena arena) {
        return Tensor.ofFloats(arena, data, shape);
    }

    @Override
    public String toString() {
        return "HostFloats" + Tensor.shapeString(shape);
    }
}
