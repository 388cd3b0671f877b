// An n-dimensional array as .npy files hold it: a shape and a flat row-major array of float32 or int32
// values. The value array is held, not copied: a caller that keeps writing to it changes the record.
package org.seq4j.io;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * An n-dimensional array as .npy files hold it: a shape and a flat row-major array of float32 or int32 values.
 * The value array is held, not copied.
 */
public sealed interface NpyArray permits NpyArray.F32, NpyArray.I32 {

    /**
     * A copy of the shape; {@code ()} for a scalar.
     *
     * @return the dimensions
     */
    int[] shape();

    /**
     * The element type.
     *
     * @return F32 or I32
     */
    DType dtype();

    /**
     * Number of elements (the product of the shape).
     *
     * @return the count
     */
    int size();

    /**
     * A float32 array, NumPy dtype {@code <f4}.
     *
     * @param shape the dimensions (copied)
     * @param data  the values, row-major (held, not copied)
     */
    record F32(int[] shape, float[] data) implements NpyArray {
        /**
         * Checks the shape against the data.
         *
         * @throws IllegalArgumentException if a dimension is negative or the shape's element count is not data.length
         * @throws NullPointerException if shape or data is null
         */
        public F32 {
            shape = checkShape("NpyArray.F32", shape, data);
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public DType dtype() {
            return DType.F32;
        }

        @Override
        public int size() {
            return data.length;
        }

        @Override
        public String toString() {
            return "NpyArray.F32" + Tensor.shapeString(shape);
        }
    }

    /**
     * An int32 array, NumPy dtype {@code <i4}.
     *
     * @param shape the dimensions (copied)
     * @param data  the values, row-major (held, not copied)
     */
    record I32(int[] shape, int[] data) implements NpyArray {
        /**
         * Checks the shape against the data.
         *
         * @throws IllegalArgumentException if a dimension is negative or the shape's element count is not data.length
         * @throws NullPointerException if shape or data is null
         */
        public I32 {
            shape = checkShape("NpyArray.I32", shape, data);
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public DType dtype() {
            return DType.I32;
        }

        @Override
        public int size() {
            return data.length;
        }

        @Override
        public String toString() {
            return "NpyArray.I32" + Tensor.shapeString(shape);
        }
    }

    /**
     * A float32 array over {@code data}.
     *
     * @param data  the values, row-major (held, not copied)
     * @param shape the dimensions
     * @return the array
     * @throws IllegalArgumentException if the shape does not match the data
     */
    static F32 of(float[] data, int... shape) {
        return new F32(shape, data);
    }

    /**
     * An int32 array over {@code data}.
     *
     * @param data  the values, row-major (held, not copied)
     * @param shape the dimensions
     * @return the array
     * @throws IllegalArgumentException if the shape does not match the data
     */
    static I32 of(int[] data, int... shape) {
        return new I32(shape, data);
    }

    /**
     * A copy of a host tensor's values with its shape and type.
     *
     * @param t a host tensor of at most {@code Integer.MAX_VALUE - 8} elements
     * @return a new array
     * @throws IllegalArgumentException if the tensor is too large for one Java array
     */
    static NpyArray of(Tensor t) {
        if (t.size() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a tensor of shape " + Tensor.shapeString(t.shape()) + " has " + t.size()
                    + " elements; an NpyArray holds at most " + (Integer.MAX_VALUE - 8) + " (one Java array)");
        }
        return switch (t.dtype()) {
            case F32 -> new F32(t.shape(), t.toFloatArray());
            case I32 -> new I32(t.shape(), t.toIntArray());
        };
    }

    /**
     * A host tensor in {@code arena} holding a copy of the values.
     *
     * @param arena where the tensor's memory lives
     * @return a new CPU tensor of this shape and type
     */
    default Tensor toTensor(Arena arena) {
        return switch (this) {
            case F32 a -> Tensor.ofFloats(arena, a.data(), a.shape);
            case I32 a -> Tensor.ofInts(arena, a.data(), a.shape);
        };
    }

    /**
     * Whether the shape is exactly {@code expected}.
     *
     * @param expected the dimensions to compare with
     * @return true if they match
     */
    default boolean hasShape(int... expected) {
        return Arrays.equals(shape(), expected);
    }

    private static int[] checkShape(String op, int[] shape, Object data) {
        if (shape == null || data == null) {   // a bare "Cannot read the array length because \"shape\" is null"
            throw new NullPointerException(op + ": " + (shape == null ? "shape" : "data") + " is null");
        }
        int length = java.lang.reflect.Array.getLength(data);
        if (shape.length > Npy.MAX_RANK) {   // saved, then refused by load and by numpy alike
            throw new IllegalArgumentException("shape " + Tensor.shapeString(shape) + " has " + shape.length
                    + " dimensions; numpy allows at most " + Npy.MAX_RANK);
        }
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Tensor.shapeString(shape));
            }
        }
        long n = Tensor.sizeOf(shape); // exact; a product past a long is an IllegalArgumentException naming the shape
        if (n != length) {
            throw new IllegalArgumentException("shape " + Tensor.shapeString(shape) + " needs " + n
                    + " elements but the data array has " + length);
        }
        return shape.clone();
    }
}
