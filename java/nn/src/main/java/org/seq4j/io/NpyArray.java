// An n-dimensional array as .npy files hold it: a shape and a flat row-major array of float32 or int32
// values. The value array is held, not copied: a caller that keeps writing to it changes the record.
package org.seq4j.io;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public sealed interface NpyArray permits NpyArray.F32, NpyArray.I32 {

    /** A copy of the shape; {@code ()} for a scalar. */
    int[] shape();

    DType dtype();

    /** Number of elements (the product of the shape). */
    int size();

    /** A float32 array, NumPy dtype {@code <f4}. */
    record F32(int[] shape, float[] data) implements NpyArray {
        public F32 {
            shape = checkShape(shape, data.length);
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

    /** An int32 array, NumPy dtype {@code <i4}. */
    record I32(int[] shape, int[] data) implements NpyArray {
        public I32 {
            shape = checkShape(shape, data.length);
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

    static F32 of(float[] data, int... shape) {
        return new F32(shape, data);
    }

    static I32 of(int[] data, int... shape) {
        return new I32(shape, data);
    }

    /** A copy of a host tensor's values with its shape and type. */
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

    /** A host tensor in {@code arena} holding a copy of the values. */
    default Tensor toTensor(Arena arena) {
        return switch (this) {
            case F32 a -> Tensor.ofFloats(arena, a.data(), a.shape);
            case I32 a -> Tensor.ofInts(arena, a.data(), a.shape);
        };
    }

    default boolean hasShape(int... expected) {
        return Arrays.equals(shape(), expected);
    }

    private static int[] checkShape(int[] shape, int length) {
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
