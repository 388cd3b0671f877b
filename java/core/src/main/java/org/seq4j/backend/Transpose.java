// Whether a gemm operand is used as stored or transposed.
package org.seq4j.backend;

/** Whether a gemm operand is used as stored or transposed. */
public enum Transpose {
    /** Used as stored. */
    NO,
    /** Used transposed. */
    YES;

    /**
     * Whether the operand is transposed.
     *
     * @return true for {@link #YES}
     */
    public boolean isTransposed() {
        return this == YES;
    }
}
