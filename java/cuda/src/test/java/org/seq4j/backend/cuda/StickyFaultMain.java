// StickyFaultGpuTest's child JVM: opens a CudaBackend, kills its CUDA context on purpose (one of our kernels writing
// through address 16 on the legacy default stream: cudaErrorIllegalAddress, sticky), then calls the backend: args[0]
// names the first call, which meets the fault; then a few more, which must be refused. Prints what each threw.
package org.seq4j.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.seq4j.backend.Transpose;
import org.seq4j.bindings.cuda.seq4j_cuda_h;
import org.seq4j.bindings.cudart.cudart_h;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public final class StickyFaultMain {
    private StickyFaultMain() {
    }

    public static void main(String[] args) {
        CudaBackend cuda = new CudaBackend();
        Arena arena = Arena.ofShared();
        Tensor a = cuda.allocate(arena, DType.F32, 4, 4), b = cuda.allocate(arena, DType.F32, 4, 4);
        Tensor c = cuda.allocate(arena, DType.F32, 4, 4);   // gemm's output apart (c over b is refused before a launch)
        cuda.synchronize();

        CudaBackend.useDevice(0);
        int st = seq4j_cuda_h.seq4j_cuda_fill_f32(MemorySegment.ofAddress(16), 1 << 20, 1f, MemorySegment.NULL);
        int sync = cudart_h.cudaDeviceSynchronize();
        System.out.println("provoked: launch " + st + ", synchronize " + sync);
        if (sync != cudart_h.cudaErrorIllegalAddress()) {
            System.out.println("the fault did not happen");
            System.exit(2);
        }

        Runnable first = switch (args[0]) {
            case "fill" -> () -> cuda.fill(a, 2f);
            case "gemm" -> () -> cuda.gemm(Transpose.NO, Transpose.NO, 4, 4, 4, 1f, a, 4, b, 4, 0f, c, 4);
            case "allocate" -> () -> cuda.allocate(arena, DType.F32, 1 << 20);
            case "copyIn" -> () -> cuda.copyIn(a, new float[16]);
            default -> throw new IllegalArgumentException(args[0]);
        };
        report("first", first);
        report("later", () -> cuda.fill(a, 3f));
        report("later", () -> cuda.allocate(arena, DType.F32, 8));
        report("later", cuda::synchronize);
        report("later", () -> cuda.copyOut(new float[16], a));
        cuda.close();   // releases what it can, throws nothing
        report("closed", cuda::synchronize);
        System.exit(0);   // the arena's blocks are not freed: the context is dead anyway
    }

    private static void report(String when, Runnable call) {
        try {
            call.run();
            System.out.println(when + ": no exception");
        } catch (RuntimeException e) {
            System.out.println(when + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
