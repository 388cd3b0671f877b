// A model makes a host input that its backend's kernels cannot read (Java heap memory; host memory on a GPU backend)
// time-major on the host, in one Java array: an (N, T, F) input past 2^31 - 1 values was Math.toIntExact's bare
// ArithmeticException ("integer overflow") out of the model's call. Refused by name now, before any of the backend's
// allocations or copies. The input is a real (2^16, 2^15, 1) tensor over a sparse file mapped into memory, as in
// GateWidthOverflowTest (nothing read or written, no disk blocks used), on a backend that says its device is CUDA,
// as a GPU backend's does, and counts the calls that would allocate or copy. Also 2^31 - 2 values, an int past the
// VM's array limit (OutOfMemoryError "Requested array size exceeds VM limit"), and a size the heap cannot hold.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.SparseMemory;
import org.seq4j.testing.TestBackends;

class HostTransposeOverflowTest {
    /**
     * A size a few below 2^31 (2^31 - 2 values, past the VM's array limit, Integer.MAX_VALUE - 8) passed the int check
     * and was an OutOfMemoryError ("Requested array size exceeds VM limit") out of the model's call, however much heap
     * was free; one within the limit that the heap cannot hold, an OutOfMemoryError ("Java heap space"). Both are
     * refused by name now, with the numbers, before the backend allocates or copies.
     */
    @Test
    void hostValuesPastTheVmsArrayLimitOrTheHeapAreRefusedByName(@TempDir Path dir) throws IOException {
        Backend real = TestBackends.reference();
        AtomicInteger work = new AtomicInteger();
        Backend gpu = gpuLabelled(real, work);
        int n = 66, t = 32537631;   // N x T x 1 = 2147483646 = Integer.MAX_VALUE - 1: an int, past the VM's limit
        Path file = dir.resolve("xs.bin");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = SparseMemory.map(file, (long) n * t * Float.BYTES, arena);
            Tensor dst = real.allocate(arena, DType.F32, 1, 1, 1);   // never reached: the refusal comes first
            Tensor xs = Tensor.wrap(all, DType.F32, Device.CPU, n, t, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Inputs.timeMajor("WaveSeq2seq.forward", "xs", gpu, dst, xs));
            assertEquals("WaveSeq2seq.forward: xs (66, 32537631, 1) has 2147483646 values, past the 2147483639 of the "
                    + "one Java array it is made time-major in from host memory on a GPU backend; give a smaller batch, "
                    + "or native memory on a CPU backend", e.getMessage());
            // within the limit, but more than this JVM's heap holds (an int[] of 8.6 GB against its -Xmx)
            int m = 2147483639 / 7;   // 306783377 rows of 7: Integer.MAX_VALUE - 8 values
            Tensor within = Tensor.wrap(all.asSlice(0, (long) m * 7 * Float.BYTES), DType.F32, Device.CPU, m, 7, 1);
            org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < 8_000_000_000L,
                    "the heap may hold 8.6 GB: the heap's refusal is not reached");
            e = assertThrows(IllegalArgumentException.class,
                    () -> Inputs.timeMajor("WaveSeq2seq.forward", "xs", gpu, dst, within));
            assertTrue(e.getMessage().startsWith("WaveSeq2seq.forward: xs (306783377, 7, 1), made time-major from host "
                    + "memory on a GPU backend in one int[2147483639], need about 8589934576 bytes of Java heap, but only "
                    + "about "), e.getMessage());
            assertEquals(0, work.get(), "the backend allocated or copied before the refusal");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void hostValuesPastOneJavaArrayAreRefusedByName(@TempDir Path dir) throws IOException {
        Backend real = TestBackends.reference();
        AtomicInteger work = new AtomicInteger();
        Backend gpu = gpuLabelled(real, work);
        int n = 1 << 16, t = 1 << 15;   // N x T x 1 = 2^31 values: Integer.MIN_VALUE in int
        long bytes = (long) n * t * Float.BYTES;
        Path file = dir.resolve("xs.bin");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = SparseMemory.map(file, bytes, arena);
            Tensor xs = Tensor.wrap(all, DType.F32, Device.CPU, n, t, 1);
            Tensor dst = real.allocate(arena, DType.F32, 1, 1, 1);   // never reached: the refusal comes first
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Inputs.timeMajor("WaveSeq2seq.forward", "xs", gpu, dst, xs));
            assertTrue(e.getMessage().startsWith("WaveSeq2seq.forward: xs (65536, 32768, 1) has 2147483648 values, "
                    + "past the 2147483639 of the one Java array"), e.getMessage());
            assertTrue(e.getMessage().contains("from host memory on a GPU backend"), e.getMessage());
            assertEquals(0, work.get(), "the backend allocated or copied before the refusal");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A backend that says its device is CUDA, as a GPU backend's does, counting the calls that allocate or copy. */
    private static Backend gpuLabelled(Backend real, AtomicInteger work) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("device")) {
                        return Device.CUDA;
                    }
                    if (method.getName().startsWith("allocate") || method.getName().startsWith("copy")
                            || method.getName().equals("swapAxes01")) {
                        work.incrementAndGet();
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
