// Column blocks of a parameter packed in one precision (Backend.pack) and kept: packed by the first current() and
// again only when the parameter's version moved since (an optimizer step, a load), so a product never multiplies by
// stale weights. The recurrent layers' F32 Wh (packed once per training step, once for all of inference) and the
// opt-in bf16 inference copy (InferenceWeights) are both one of these.
package org.seq4j.layers;

import java.lang.foreign.Arena;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

final class KeptPack implements AutoCloseable {

    /**
     * One column block of the parameter: {@code cols} columns read from {@code w} with row stride {@code ldw}.
     *
     * @param w    a view starting at the block's first element
     * @param cols the block's width
     * @param ldw  the parameter's row stride
     */
    record Block(Tensor w, int cols, int ldw) {
    }

    private final Backend backend;
    private final Parameter source;
    private final int rows;
    private final PackedMatrix.Precision precision;
    private final Block[] blocks;
    private Arena arena;
    private PackedMatrix[] packed;      // one per block, or null before the first current()
    private long packedVersion;

    /** {@code blocks} of {@code source} (all {@code rows} rows), packed in {@code precision} by the first current(). */
    KeptPack(Backend backend, Parameter source, int rows, PackedMatrix.Precision precision, Block... blocks) {
        this.backend = backend;
        this.source = source;
        this.rows = rows;
        this.precision = precision;
        this.blocks = blocks;
    }

    /** The packed blocks, packed (again) first if none are held or the parameter changed since. */
    PackedMatrix[] current() {
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
