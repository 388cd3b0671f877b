// The opt-in inference copy of a recurrent layer's Wh (TimeLSTM/TimeGRU.setInferencePrecision): column blocks of
// the parameter packed in the precision asked for (a KeptPack), packed by the first use and again whenever the
// parameter's version moved since (an optimizer step, a load), so a forward never multiplies by stale weights.
package org.seq4j.layers;

import java.util.Objects;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;

final class InferenceWeights implements AutoCloseable {
    private final Backend backend;
    private final Parameter source;
    private final int rows;
    private final KeptPack.Block[] blocks;
    private PackedMatrix.Precision precision = PackedMatrix.Precision.F32;
    private KeptPack copy;              // in the precision, while it is not F32 and a forward has asked for it

    /** A copy of {@code blocks} of {@code source} (all {@code rows} rows), held while the precision is not F32. */
    InferenceWeights(Backend backend, Parameter source, int rows, KeptPack.Block... blocks) {
        this.backend = backend;
        this.source = source;
        this.rows = rows;
        this.blocks = blocks;
    }

    /** F32 releases the copy (the layer's plain path); another precision is packed by the next current(). */
    void setPrecision(String op, PackedMatrix.Precision precision) {
        Objects.requireNonNull(precision, () -> op + ": precision is null; expected F32 or BF16");
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
        if (copy == null) {
            copy = new KeptPack(backend, source, rows, precision, blocks);
        }
        return copy.current();
    }

    @Override
    public void close() {
        if (copy != null) {
            copy.close();
            copy = null;
        }
    }
}
