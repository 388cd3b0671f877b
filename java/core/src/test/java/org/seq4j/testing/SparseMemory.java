// Tensors past 2^31 elements for the tests of size refusals, without the memory: a sparse file of the size wanted,
// mapped into the address space, costs one written block of disk and nothing of RAM until a page is touched. A
// refusal that comes before any kernel reads it never touches one.
package org.seq4j.testing;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public final class SparseMemory {
    private SparseMemory() {
    }

    /**
     * {@code bytes} of memory over a new sparse file, mapped until {@code arena} closes. The file stays: put it in a
     * test's {@code @TempDir}.
     *
     * @param file  where the file goes; it must not exist
     * @param bytes its size, at least 1
     * @param arena what the mapping lives as long as
     * @return the mapped segment, all zeros
     * @throws IOException if the file cannot be made or mapped
     */
    public static MemorySegment map(Path file, long bytes, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
            ch.position(bytes - 1).write(ByteBuffer.allocate(1));   // the file's size: one block written
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
        }
    }

    /** Consecutive float32 host tensors cut from one segment, in order: a layer's parameters and their gradients. */
    public static final class Carver {
        private final MemorySegment all;
        private long at;

        /**
         * A carver from the start of {@code all}.
         *
         * @param all the memory to cut tensors from
         */
        public Carver(MemorySegment all) {
            this.all = all;
        }

        /**
         * The next tensor of {@code shape}, right after the last one.
         *
         * @param shape its dimensions
         * @return a float32 host tensor over the next {@code 4 * size} bytes
         */
        public Tensor next(int... shape) {
            long size = Tensor.byteSizeOf(DType.F32, shape);
            MemorySegment s = all.asSlice(at, size);
            at += size;
            return Tensor.wrapHost(s, shape);
        }
    }
}
