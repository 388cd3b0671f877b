// A tiny program for OpenBlasLibraryTest: loads the OpenBLAS backend in a fresh JVM (so that the load
// order runs from scratch), prints where OpenBLAS came from, and one 2x2 product.
package org.seq4j.testing;

import java.lang.foreign.Arena;
import org.seq4j.backend.Transpose;
import org.seq4j.backend.openblas.OpenBlasBackend;
import org.seq4j.tensor.Tensor;

public final class LoadOpenBlas {
    public static void main(String[] args) {
        try (OpenBlasBackend b = new OpenBlasBackend(); Arena arena = Arena.ofConfined()) {
            Tensor a = Tensor.ofFloats(arena, new float[] {1, 2, 3, 4}, 2, 2);
            Tensor c = Tensor.allocateHost(arena, org.seq4j.tensor.DType.F32, 2, 2);
            b.matmul(Transpose.NO, Transpose.NO, 1f, a, a, 0f, c);
            float[] r = c.toFloatArray();
            System.out.println("source=" + b.location().source() + " path=" + b.location().path());
            System.out.println("product=" + r[0] + "," + r[1] + "," + r[2] + "," + r[3]);
        }
    }
}
