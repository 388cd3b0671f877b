// The recurrent product with and without packed weights, through the backend as the layers call it:
// c (m, n) = a (m, k) . B with B = Wh (k, n) as stored (plain: Backend.gemm; packed: Backend.gemmPacked over a
// PackedMatrix packed once in setUp), or B = Wh^T for the backward's dA_t Wh^T (trans: gemm with transB, or Wh
// packed transposed). Shapes: W1's 128x512x128 and 128x128x512 (transposed), W2's 64x2600x650 and 64x650x2600
// (transposed), N = 1 inference 1x1024x256 (W3) and 1x2600x650. product's variant: plain (gemm, which packs B
// itself at every call, or sgemv for one row), F32 or BF16 (the opt-in inference copy) over the packed copy; pack
// times one pack, what a pass pays once for its products. GFLOP/s = 2 m n k / time in the report.
// Where OpenBlasBackend.packedGemmPays, plain gemm itself packs B into scratch at every call (GemmBench's note).
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class PackedGemmBench {

    /** The operands of one shape. */
    abstract static class Operands {
        Backend b;
        Arena arena;
        Tensor a, w, c;
        Transpose trans;
        int m, n, k;

        void make(String backend, String mnk) {
            b = Backends.create(backend);
            arena = Arena.ofShared();
            trans = mnk.endsWith("T") ? Transpose.YES : Transpose.NO;
            int[] d = Params.dims("mnk", mnk, "MxNxK[T]");
            m = d[0];
            n = d[1];
            k = d[2];
            Fixtures f = new Fixtures(b, arena, 42);
            a = f.uniform(-1, 1, m, k);
            w = trans.isTransposed() ? f.uniform(-1, 1, n, k) : f.uniform(-1, 1, k, n);
            c = f.zeros(m, n);
        }

        PackedMatrix packed(PackedMatrix.Precision precision) {
            PackedMatrix p = b.packedMatrix(arena, k, n, precision);
            b.pack(p, trans, w);
            return p;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
            b.close();
        }
    }

    @State(Scope.Thread)
    public static class Product extends Operands {
        @Param({"openblas"})
        public String backend;

        /** m x n x k of c = a . B; a trailing T means B = Wh^T (Wh stored (n, k)). */
        @Param({"128x512x128", "128x128x512T", "64x2600x650", "64x650x2600T", "1x1024x256", "1x2600x650"})
        public String mnk;

        /** plain: Backend.gemm on Wh as stored; F32, BF16: Backend.gemmPacked over a copy packed in that precision. */
        @Param({"plain", "F32", "BF16"})
        public String variant;

        PackedMatrix packed;

        @Setup(Level.Trial)
        public void setUp() {
            make(backend, mnk);
            if (!Params.choice("variant", variant, "plain", "F32", "BF16").equals("plain")) {
                packed = packed(PackedMatrix.Precision.valueOf(variant));
            }
        }
    }

    @State(Scope.Thread)
    public static class Pack extends Operands {
        @Param({"openblas"})
        public String backend;

        /** as Product's */
        @Param({"128x512x128", "128x128x512T", "64x2600x650", "64x650x2600T", "1x1024x256", "1x2600x650"})
        public String mnk;

        @Param({"F32", "BF16"})
        public String precision;

        PackedMatrix packed;

        @Setup(Level.Trial)
        public void setUp() {
            make(backend, mnk);
            packed = packed(Params.choice("precision", precision, PackedMatrix.Precision.class));
        }
    }

    /** c = a . B, plain or over the packed copy. */
    @Benchmark
    public void product(Product s) {
        if (s.packed == null) {
            s.b.gemm(Transpose.NO, s.trans, s.m, s.n, s.k, 1f, s.a, s.k, s.w, s.trans.isTransposed() ? s.k : s.n, 0f,
                    s.c, s.n);
        } else {
            s.b.gemmPacked(s.c, s.a, s.packed, 0f);
        }
        s.b.synchronize();
    }

    /** One pack of Wh (or Wh^T). */
    @Benchmark
    public void pack(Pack s) {
        s.b.pack(s.packed, s.trans, s.w);
        s.b.synchronize();
    }
}
