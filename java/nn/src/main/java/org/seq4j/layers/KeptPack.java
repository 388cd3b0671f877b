// Column blocks of a parameter packed in one precision (Backend.pack) and kept: packed by the first current() and
// again only when the parameter's version moved since (an optimizer step, a load), so a product never multiplies by
// stale weights. The recurrent layers' F32 Wh (packed once per training step, once for all of inference) and the
// opt-in bf16 inference copy (InferenceWeights) are both one of these. pays() says when packing is worth it.
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
    private long seenVersion = -1;      // the version of the forwards since the parameter last changed ...
    private long rent;                  // ... and the products they made without a pack

    /** {@code blocks} of {@code source} (all {@code rows} rows), packed in {@code precision} by the first current(). */
    KeptPack(Backend backend, Parameter source, int rows, PackedMatrix.Precision precision, Block... blocks) {
        this.backend = backend;
        this.source = source;
        this.rows = rows;
        this.precision = precision;
        this.blocks = blocks;
    }

    /**
     * Whether a pass of {@code products} products over {@code n} rows should multiply by the packed blocks
     * ({@link #current()}); counts the products towards the pack's price otherwise. Free while the blocks hold the
     * parameter as it is now. Else rent to buy, as {@link FoldedInput}: the products made since the parameter last
     * changed, this pass's included, against what a pack costs ({@link #packs}). Training moves the weights at every
     * step, so only a pass's own products count there; generation, one step a forward over unchanged weights, packs
     * once the steps so far would have paid for it, and every later step reads the kept pack.
     */
    boolean pays(int products, int n) {
        long version = source.version().get();
        if (packed != null && packedVersion == version) {
            return true;
        }
        if (seenVersion == version) {
            rent = Math.addExact(rent, products);
        } else {
            seenVersion = version;
            rent = products;
        }
        return products > 0 && packs(rent, n);
    }

    /**
     * Whether {@code products} recurrent products over {@code n} rows pay for packing the weights first. Several
     * rows: packing costs about one pass over Wh and saves the backend's re-packing at every product, so two
     * products pay. One row (N = 1 inference): the backend packs nothing for a matrix-vector product, but the packed
     * one reads Wh in the order it is stored in, twice as fast (bench/c/packed_bench.c, 1 x 1024 x 256 on the AVX-512
     * clone: 6.2 against 12.2 us) while a pack costs about three such products (35 us), so from eight products on.
     */
    static boolean packs(long products, int n) {
        return n >= 2 ? products >= 2 : products >= 8;
    }

    /** The packed blocks, packed (again) first if none are held or the parameter changed since. */
    PackedMatrix[] current() {
        long version = source.version().get();
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
