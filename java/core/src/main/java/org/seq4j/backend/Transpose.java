// Whether a gemm operand is used as stored or transposed.
package org.seq4j.backend;

public enum Transpose {
    NO,
    YES;

    public boolean isTransposed() {
        return this == YES;
    }
}
