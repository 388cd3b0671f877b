// Element types a Tensor can hold: float32 for values, int32 for token ids and labels.
package org.seq4j.tensor;

import java.lang.foreign.ValueLayout;

public enum DType {
    F32(ValueLayout.JAVA_FLOAT),
    I32(ValueLayout.JAVA_INT);

    private final ValueLayout layout;

    DType(ValueLayout layout) {
        this.layout = layout;
    }

    /** Size of one element in bytes (4 for both types). */
    public int byteSize() {
        return (int) layout.byteSize();
    }

    public ValueLayout layout() {
        return layout;
    }
}
