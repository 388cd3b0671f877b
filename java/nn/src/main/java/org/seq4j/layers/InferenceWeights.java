// The opt-in inference copy of a recurrent layer's Wh (TimeLSTM/TimeGRU.setInferencePrecision): column blocks of
// the parameter packed in the precision asked for, packed by the first use and again whenever the parameter's
// version moved since (an optimizer step, a load), so a forward never multiplies by stale weights.
package org.seq4j.layers;

import java.lang.foreign.Arena;
import java.util.Objects;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

final class InferenceWeights implements AutoCloseable {

    /**
     * One column block of the parameter: {@code cols} columns read from {@code w} with row stride {@code ldw}.
     *
     * @param w    a flat view starting at the block's first element
     * @param cols the block's width
     * @param ldw  the parameter's row stride
     */
    record Block(Tensor w, int cols, int ldw) {
    }

    private final Backend backend;
    private final Parameter source;
    private final int rows;
    private final Block[] blocks;
    private PackedMatrix.Precision precision = PackedMatrix.Precision.F32;
    private Arena arena;
    private PackedMatrix[] packed;      // one per block, or null while none is held
    private long packedVersion;

    /** A copy of {@code blocks} of {@code source} (all {@code rows} rows), held while the precision is not F32. */
    InferenceWeights(Backend backend, Parameter source, int rows, Block... blocks) {
        this.backend = backend;
        this.source = source;
        this.rows = rows;
        this.blocks = blocks;
    }

    /** F32 releases the copy (the layer's plain path); another precision is packed by the next current(). */
    void setPrecision(PackedMatrix.Precision precision) {
        Objects.requireNonNull(precision, "precision");
        if (precision != this.precision) {
            close();
            this.precision = precision;
        }
    }

    PackedMatrix.Precision precision() {
        return precision;
    }

    /** The packed blocks, packed again first if the parameter changed since; null for F32. */
    PackedMatrix[] current() {
        if (precision == PackedMatrix.Precision.F32) {
            return null;
        }
        long version = source.version().get();
        if (packed == null) {
            arena = Arena.ofShared();   // shared: a model may be handed to another thread
            packed = new PackedMatrix[blocks.length];
            for (int i = 0; i < blocks.length; i++) {
                packed[i] = backend.packedMatrix(arena, rows, blocks[i].cols(), precision);
            }
        } else if (packedVersion == version) {
            return packed;
        }
        for (int i = 0; i < blocks.length; i++) {
            backend.pack(packed[i], Transpose.NO, blocks[i].w(), blocks[i].ldw());
        }
        packedVersion = version;
        return packed;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
            packed = null;
        }
    }
}
