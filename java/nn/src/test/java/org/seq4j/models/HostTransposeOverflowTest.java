// A model makes a host input that its backend's kernels cannot read (Java heap memory; host memory on a GPU backend)
// time-major on the host, in one Java array: an (N, T, F) input past 2^31 - 1 values was Math.toIntExact's bare
// ArithmeticException ("integer overflow") out of the model's call. Refused by name now, before any of the backend's
// allocations or copies. The input is a real (2^16, 2^15, 1) tensor over a sparse file mapped into memory, as in
// GateWidthOverflowTest (nothing read or written, no disk blocks used), on a backend that says its device is CUDA,
// as a GPU backend's does, and counts the calls that would allocate or copy.
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
    @Test
    void hostValuesPastOneJavaArrayAreRefusedByName(@TempDir Path dir) throws IOException {
        Backend real = TestBackends.reference();
        AtomicInteger work = new AtomicInteger();
        Backend gpu = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
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
                    + "past the 2147483647 of the one Java array"), e.getMessage());
            assertTrue(e.getMessage().contains("from host memory on a GPU backend"), e.getMessage());
            assertEquals(0, work.get(), "the backend allocated or copied before the refusal");
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
