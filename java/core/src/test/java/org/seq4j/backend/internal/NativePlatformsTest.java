// The platforms seq4j-core's jar carries C kernels for: linux-aarch64 beside this machine's linux-x86_64 when
// the build machine has Debian's cross compiler (native/Makefile's cpu-aarch64), checked by the ELF header.
package org.seq4j.backend.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NativePlatformsTest {
    private static final int EM_X86_64 = 62, EM_AARCH64 = 183;

    /** e_machine of an ELF shared object, after checking its magic, 64-bit class and little-endian data */
    private static int elfMachine(String resource) throws IOException {
        try (InputStream in = NativePlatformsTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertNotNull(in, resource + " is not in the jar");
            byte[] h = in.readNBytes(20);
            assertEquals(20, h.length, resource + " is shorter than an ELF header");
            assertEquals(0x7f454c46, ByteBuffer.wrap(h, 0, 4).getInt(), resource + " is not an ELF file");
            assertEquals(2, h[4], resource + " is not a 64-bit ELF file");
            assertEquals(1, h[5], resource + " is not little-endian");
            return ByteBuffer.wrap(h, 18, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
        }
    }

    @Test
    void carriesThisPlatformsKernels() throws IOException {
        String platform = NativeLibraries.platform();
        assumeTrue(platform.equals("linux-x86_64") || platform.equals("linux-aarch64"),
                "no C kernels are built for " + platform);
        int want = platform.equals("linux-x86_64") ? EM_X86_64 : EM_AARCH64;
        assertEquals(want, elfMachine("org/seq4j/native/" + platform + "/" + CpuKernelsLibrary.NAME));
    }

    @Test
    void carriesAarch64KernelsWhereTheCrossCompilerIs() throws IOException {
        assumeTrue(NativeLibraries.platform().equals("linux-x86_64"), "cross-compiled from x86-64 hosts only");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/aarch64-linux-gnu-gcc")),
                "no aarch64-linux-gnu-gcc here (Debian's gcc-aarch64-linux-gnu): the build skipped linux-aarch64");
        assertEquals(EM_AARCH64, elfMachine("org/seq4j/native/linux-aarch64/" + CpuKernelsLibrary.NAME));
    }
}
