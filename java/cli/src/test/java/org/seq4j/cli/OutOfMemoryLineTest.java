// The CLI's line for an OutOfMemoryError names the memory that ran out. Before, every one of them spoke of the
// Java heap and advised more -Xmx, also when FFM's malloc had failed outside the heap (where a larger heap
// leaves less room) or the GPU was full.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class OutOfMemoryLineTest {
    private static final long HEAP = 512L << 20;

    @Test
    void theJavaHeapAdvisesMoreHeap() {
        assertEquals("seq4j: out of memory (Java heap space) with a heap of at most 512 MiB: give a smaller input, "
                + "or more heap with SEQ4J_JAVA_OPTS=-Xmx<size>",
                Main.outOfMemory(new OutOfMemoryError("Java heap space"), HEAP));
    }

    @Test
    void aFailedOffHeapAllocationSaysNativeMemoryAndNotMoreHeap() {
        // the JDK's own error for an arena's malloc that fails (2^62 bytes: refused at once, nothing reserved)
        OutOfMemoryError e;
        try (Arena arena = Arena.ofConfined()) {
            e = assertThrows(OutOfMemoryError.class, () -> arena.allocate(1L << 62));
        }
        assertEquals("seq4j: out of native memory (" + e.getMessage() + "): the machine's memory outside the Java heap, "
                + "where tensors live, ran out: give a smaller input or batch, or a smaller -Xmx in SEQ4J_JAVA_OPTS",
                Main.outOfMemory(e, HEAP));
    }

    @Test
    void aFullGpuSaysGpuMemory() {
        // the messages of seq4j-cuda's DevicePool and of CudaBackend.embeddingBackward's sorted scatter-add
        for (String m : new String[] {"CUDA device memory exhausted: cannot allocate 1024 bytes with 0 cached",
                "embeddingBackward: CUDA device memory exhausted: the sorted scatter-add of 9 ids"}) {
            assertEquals("seq4j: out of GPU memory (" + m + "): give a smaller input or batch, or another device with "
                    + "-Dseq4j.cuda.device", Main.outOfMemory(new OutOfMemoryError(m), HEAP));
        }
    }

    @Test
    void noMessageStillNamesTheError() {
        assertEquals("seq4j: out of memory (java.lang.OutOfMemoryError) with a heap of at most 512 MiB: give a "
                + "smaller input, or more heap with SEQ4J_JAVA_OPTS=-Xmx<size>", Main.outOfMemory(new OutOfMemoryError(), HEAP));
    }
}
