// A weight matrix B (K, N) copied once into the layout a backend's kernels read fastest, for products
// x B repeated many times with few rows of x: the recurrent product h_{t-1} Wh of every step of an RNN,
// LSTM or GRU (and dA_t Wh^T in their backward). OpenBLAS re-packs B on every sgemm call; for a 128 x 512
// x 128 product that packing is a third of the time, and Wh is the same for all T steps of a sequence.
//
// A packed matrix is a snapshot: it holds op(w) as of the last Backend.pack(dst, trans, w); changing w
// afterwards does not change it (pack again). Its storage is a tensor of the owning backend, so it lives
// as long as the arena it was allocated in.
//
// Precision.BF16 keeps each weight as a bfloat16 (8 bits of mantissa) while the products still multiply
// and add in float32: half the bytes to read, which is what an N = 1 inference step is bound by. It
// changes results (a relative error of up to 2^-9 per weight) and is therefore only ever used where a
// caller asks for it.
package org.seq4j.backend;

import java.util.Objects;
import org.seq4j.tensor.Tensor;

/**
 * A weight matrix B (K, N) held in a backend's own layout for repeated products {@code c = a B + beta c}
 * ({@link Backend#gemmPacked}); made by {@link Backend#packedMatrix} and filled by {@link Backend#pack}. A
 * snapshot: it keeps the values of the last pack.
 */
public final class PackedMatrix {

    /** How the packed weights are stored; products always accumulate in float32. */
    public enum Precision {
        /** float32: the same products as {@link Backend#gemm} (up to the order of the additions). */
        F32,
        /**
         * bfloat16 weights, rounded to nearest even from float32 (relative error at most 2^-9 each), float32
         * inputs and accumulation: half the bytes of F32. Opt-in only.
         */
        BF16
    }

    private final Backend owner;
    private final int rows, cols;
    private final Precision precision;
    private final Tensor storage;
    private boolean packed;

    /**
     * For backends: a packed matrix over {@code storage}, which the owning backend allocated and whose layout it
     * alone knows. Other code gets packed matrices from {@link Backend#packedMatrix}.
     *
     * @param owner     the backend whose kernels read it
     * @param rows      K, the rows of B
     * @param cols      N, the columns of B
     * @param precision how the weights are stored
     * @param storage   the backend's storage
     */
    public PackedMatrix(Backend owner, int rows, int cols, Precision precision, Tensor storage) {
        this.owner = Objects.requireNonNull(owner,
                "PackedMatrix: owner is null; expected the backend whose kernels read it");
        this.precision = Objects.requireNonNull(precision, "PackedMatrix: precision is null; expected F32 or BF16");
        this.storage = Objects.requireNonNull(storage,
                "PackedMatrix: storage is null; expected the owner's storage tensor");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("PackedMatrix: negative shape (" + rows + ", " + cols + ")");
        }
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * The backend whose kernels read this matrix.
     *
     * @return the owner
     */
    public Backend owner() {
        return owner;
    }

    /**
     * K, the rows of B: the columns a product's left operand must have.
     *
     * @return K
     */
    public int rows() {
        return rows;
    }

    /**
     * N, the columns of B and of a product.
     *
     * @return N
     */
    public int cols() {
        return cols;
    }

    /**
     * How the weights are stored.
     *
     * @return the precision
     */
    public Precision precision() {
        return precision;
    }

    /**
     * The backend's storage, in its own layout (for backends).
     *
     * @return the storage tensor
     */
    public Tensor storage() {
        return storage;
    }

    /**
     * Whether {@link Backend#pack} has filled it; products of an unfilled matrix are refused.
     *
     * @return true once packed
     */
    public boolean isPacked() {
        return packed;
    }

    /** Called by AbstractBackend after a pack. */
    void markPacked() {
        packed = true;
    }

    /**
     * x rounded to the nearest bfloat16 (ties to even), as a float: the value {@link Precision#BF16} stores.
     * NaN stays NaN; a value beyond the largest bfloat16 rounds to infinity, as IEEE rounding does.
     *
     * @param x any float
     * @return x with its low 16 bits rounded away
     */
    public static float roundToBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return Float.intBitsToFloat((bits | 0x00400000) & 0xffff0000); // NaN: keep it a (quiet) NaN
        }
        bits += 0x7fff + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xffff0000);
    }

    @Override
    public String toString() {
        return "PackedMatrix(" + rows + ", " + cols + ", " + precision + (packed ? "" : ", not packed") + ")";
    }
}
