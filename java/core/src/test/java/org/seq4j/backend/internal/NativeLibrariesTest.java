package org.seq4j.backend.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {
    @TempDir
    Path dir;

    /**
     * A second class loader's own path to a library that is reached through a symbolic link (Debian's
     * libopenblas.so.0 -> openblas-pthread/libopenblasp-r0.3.26.so, found on the GPU machine): the JDK refuses a
     * path whose canonical form another loader holds, so the link must lead to a file of another canonical path.
     */
    @Test
    void aSecondLoadersLinkToASymbolicLinkHasACanonicalPathOfItsOwn() throws Exception {
        Path real = Files.createDirectories(dir.resolve("openblas-pthread")).resolve("libopenblasp-r0.3.26.so");
        Files.write(real, new byte[] {0x7f, 'E', 'L', 'F', 1, 2, 3});
        Path symlink = Files.createSymbolicLink(dir.resolve("libopenblas.so.0"), dir.relativize(real));
        Path own = NativeLibraries.linkForThisLoader(symlink);
        assertEquals("libopenblas.so.0", own.getFileName().toString(), "the name the loader asked for");
        assertNotEquals(real.toRealPath(), own.toRealPath(), "a path of its own, also once canonicalised");
        assertArrayEquals(Files.readAllBytes(real), Files.readAllBytes(own), "the same library");
    }
}
