// Element types a Tensor can hold: float32 for values, int32 for token ids and labels.
package org.seq4j.tensor;

import java.lang.foreign.ValueLayout;

/** The element type of a {@link Tensor}: both are 4 bytes, in the platform's byte order. */
public enum DType {
    /** 32-bit IEEE float, NumPy {@code float32}: activations, parameters, gradients. */
    F32(ValueLayout.JAVA_FLOAT),
    /** 32-bit signed int, NumPy {@code int32}: token ids, labels, argmax results. */
    I32(ValueLayout.JAVA_INT);

    private final ValueLayout layout;

    DType(ValueLayout layout) {
        this.layout = layout;
    }

    /**
     * Size of one element in bytes.
     *
     * @return 4, for both types
     */
    public int byteSize() {
        return (int) layout.byteSize();
    }

    /**
     * The FFM layout of one element, for reading a host tensor's segment directly.
     *
     * @return {@code JAVA_FLOAT} or {@code JAVA_INT}
     */
    public ValueLayout layout() {
        return layout;
    }
}
