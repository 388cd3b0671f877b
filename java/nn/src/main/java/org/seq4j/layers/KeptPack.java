// Column blocks of a parameter packed in one precision (Backend.pack) and kept: packed by the first current() and
// again only when the parameter's version moved since (an optimizer step, a load) or its value was written through
// seq4j (Tensor.writes: a Backend kernel of an Optimizer of one's own), so a product never multiplies by stale
// weights. The recurrent layers' F32 Wh (packed once per training step, once for all of inference) and the
// opt-in bf16 inference copy (InferenceWeights) are both one of these; packs() is the backward's rule for Wh^T.
//
// Which product a pass makes depends on the pass alone, never on the calls before it: the packed product and the
// backend's plain gemm add in different orders on the CPU clones whose packed product is seq4j's own (AVX2, AVX-512),
// and a rule that counted earlier forwards (rent to buy, until 2026-12-03: pack once the products over unchanged
// weights would have paid for it) made a model's first answers differ in the last bits from its later answers to the
// same question. Every forward pass with a product now multiplies by the pack (its layer's rule of rows aside:
// TimeAffine packs for forwards of at most 128 rows), made by the first pass over the weights as they are: the same
// bits on every call. What that costs: a pack per version for a layer whose weights change after a single
// pass (TimeAffine's forwards of at most 128 rows in training, a recurrent layer trained on one row of fewer than eight
// steps), where OpenBLAS's sgemm packs the same weights inside the call anyway (pack and packed product 0.43x to 1.52x
// the plain product's time at several rows, a pack of 2 to 5 matrix-vector products at one row: bench/RESULTS.md,
// "Repeatable answers"); and the kept copy's memory from the first such pass on.
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
    private long packedVersion = NONE;   // the version the blocks hold, NONE until all of them were packed
    private long packedWrites;           // the value's write count (Tensor.writes) the blocks hold

    private static final long NONE = Long.MIN_VALUE;   // versions count up from 0

    /** {@code blocks} of {@code source} (all {@code rows} rows), packed in {@code precision} by the first current(). */
    KeptPack(Backend backend, Parameter source, int rows, PackedMatrix.Precision precision, Block... blocks) {
        this.backend = backend;
        this.source = source;
        this.rows = rows;
        this.precision = precision;
        this.blocks = blocks;
    }

    /**
     * Whether a backward's {@code products} products over {@code n} rows pay for packing the transposed weights
     * first (the backward's pack is not kept: the weights move right after it). Several rows: packing costs about
     * one pass over Wh and saves the backend's re-packing at every product, so two products pay. One row: the
     * backend packs nothing for a matrix-vector product, but the packed one reads Wh in the order it is stored in,
     * twice as fast (bench/c/packed_bench.c, 1 x 1024 x 256 on the AVX-512 clone: 6.2 against 12.2 us) while a pack
     * costs about three such products (35 us), so from eight products on. A rule of the pass's shape alone: the same
     * backward gives the same bits at every call.
     */
    static boolean packs(long products, int n) {
        return n >= 2 ? products >= 2 : products >= 8;
    }

    /**
     * The packed blocks, packed (again) first if none are held or the parameter changed since: its Version moved, or
     * its value was written through seq4j (Tensor.writes: a Backend kernel, copyFrom, markWritten), which an Optimizer
     * of one's own that updates through the Backend does without a word to the Version.
     */
    PackedMatrix[] current() {
        long version = source.version().get();
        long writes = source.value().writes();
        if (packed == null) {
            // kept only whole: an allocation that throws leaves no half-made blocks (a null one) for the next call
            Arena a = Arena.ofShared();   // shared: a model may be handed to another thread
            PackedMatrix[] p = new PackedMatrix[blocks.length];
            try {
                for (int i = 0; i < blocks.length; i++) {
                    p[i] = backend.packedMatrix(a, rows, blocks[i].cols(), precision);
                }
            } catch (RuntimeException | Error e) {
                a.close();
                throw e;
            }
            arena = a;
            packed = p;
        } else if (packedVersion == version && packedWrites == writes) {
            return packed;
        }
        // none current until every block is packed: a pack that throws (the weights' memory closed, say) must not
        // leave the next call the unfilled or half-packed blocks as if they were current
        packedVersion = NONE;
        for (int i = 0; i < blocks.length; i++) {
            backend.pack(packed[i], Transpose.NO, blocks[i].w(), blocks[i].ldw());
        }
        packedVersion = version;
        packedWrites = writes;
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
