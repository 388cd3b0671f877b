// What a seq4j user writes: pick the best backend, train a few steps of the attention seq2seq, then call
// gemm directly on the user's own float[] arrays. Prints the backend so scripts/test can check it is openblas.
package org.example.consumer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.Transpose;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public final class Main {
    public static void main(String[] args) {
        SplittableRandom random = new SplittableRandom(7);
        try (Backend backend = Backends.select();
             AttentionSeq2seq model = new AttentionSeq2seq(backend, 13, 16, 64, 1984);
             Adam adam = new Adam(0.01f);
             Arena arena = Arena.ofConfined()) {
            System.out.println("backend: " + backend.name());
            System.out.println("module: " + (Main.class.getModule().isNamed() ? "named (module path)" : "unnamed (class path)"));

            // a few training steps on one fixed batch: the loss must fall
            Tensor xs = backend.allocate(arena, DType.I32, 32, 7);
            Tensor ts = backend.allocate(arena, DType.I32, 32, 5);
            backend.copyIn(xs, random.ints(32 * 7, 0, 13).toArray());
            backend.copyIn(ts, random.ints(32 * 5, 0, 13).toArray());
            float first = 0, last = 0;
            for (int step = 0; step < 20; step++) {
                last = model.forward(xs, ts);
                if (step == 0) {
                    first = last;
                }
                model.backward();
                adam.clipAndStep(model.store(), 5f);
            }
            System.out.printf("loss: %.4f -> %.4f%n", first, last);
            if (!(last < first)) {
                throw new AssertionError("training did not lower the loss: " + first + " -> " + last);
            }

            // gemm on the caller's own float[] arrays: C (2x2) = A (2x3) . B (3x2)
            float[] a = {1, 2, 3, 4, 5, 6};
            float[] b = {7, 8, 9, 10, 11, 12};
            float[] c = new float[4];
            Tensor ta = Tensor.wrap(MemorySegment.ofArray(a), DType.F32, backend.device(), 2, 3);
            Tensor tb = Tensor.wrap(MemorySegment.ofArray(b), DType.F32, backend.device(), 3, 2);
            Tensor tc = Tensor.wrap(MemorySegment.ofArray(c), DType.F32, backend.device(), 2, 2);
            backend.matmul(Transpose.NO, Transpose.NO, 1f, ta, tb, 0f, tc);
            System.out.printf("gemm on float[]: [%s, %s, %s, %s]%n", c[0], c[1], c[2], c[3]);
            if (c[0] != 58 || c[1] != 64 || c[2] != 139 || c[3] != 154) {
                throw new AssertionError("gemm on float[] gave " + java.util.Arrays.toString(c));
            }
        }
    }
}
