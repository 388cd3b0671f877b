// CpuKernelsLibrary's checks of its settings, before the C kernels load (the rest of the loader is exercised by every
// OpenBLAS backend the other tests create).
package org.seq4j.backend.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.seq4j.backend.BackendMisconfiguredException;

class CpuKernelsLibraryTest {
    /** SEQ4J_POOL_WORKERS, read by the C pool with atoi: what atoi would misread is refused before the library loads. */
    @Test
    void poolWorkersSettingsThePoolCannotStartAreRefused() {
        // atoi reads only ASCII digits after C's white space: "\u0663" (Arabic-Indic 3), "\uFF13" (fullwidth 3) and 3
        // after an em space or U+001C, which Integer.parseInt and strip() took as 3, start no worker there
        for (String bad : new String[] {"abc", "2x", "-1", "64", "1e3", "\u0663", "\uFF13", "1\u0663", "\u2003 3",
                "\u001C3", "3\u0663"}) {
            var e = assertThrows(BackendMisconfiguredException.class,
                    () -> CpuKernelsLibrary.poolWorkersSetting(bad), bad);
            assertTrue(e.getMessage().startsWith("SEQ4J_POOL_WORKERS=" + bad + ": "), e.getMessage());
        }
        for (String good : new String[] {null, "", "0", "1", " 3", "\t3\n", "+3", "063", "63"}) {
            CpuKernelsLibrary.poolWorkersSetting(good);
        }
    }

    /** SEQ4J_CPU_ISA, compared by the C side with the clones' names: any other value ran the best clone, with a note. */
    @Test
    void cpuIsaSettingsThatNameNoCloneAreRefused() {
        for (String bad : new String[] {"AVX2", "avx-2", "avx2 ", "sse2", "v4", "bogus"}) {
            var e = assertThrows(BackendMisconfiguredException.class, () -> CpuKernelsLibrary.cpuIsaSetting(bad), bad);
            assertTrue(e.getMessage().startsWith("SEQ4J_CPU_ISA=" + bad + ": expected avx512, avx2 or baseline"),
                    e.getMessage());
        }
        for (String good : new String[] {null, "", "avx512", "avx2", "baseline"}) {
            CpuKernelsLibrary.cpuIsaSetting(good);
        }
    }

    /** SEQ4J_CPU_AMX: the C side turns AMX off for "0" alone; "off", "false" or "no" left it on. */
    @Test
    void cpuAmxSettingsOtherThanZeroOrOneAreRefused() {
        for (String bad : new String[] {"off", "false", "no", "00", " 0", "2"}) {
            var e = assertThrows(BackendMisconfiguredException.class, () -> CpuKernelsLibrary.cpuAmxSetting(bad), bad);
            assertTrue(e.getMessage().startsWith("SEQ4J_CPU_AMX=" + bad + ": expected 0 "), e.getMessage());
        }
        for (String good : new String[] {null, "", "0", "1"}) {
            CpuKernelsLibrary.cpuAmxSetting(good);
        }
    }

    /**
     * -Dseq4j.native.cpu naming no file: it was a BackendUnavailableException, so Backends.select() skipped openblas and
     * ran the slow Java reference with a WARNING, where the library was named by path (as -Dseq4j.openblas's refusal).
     */
    @Test
    void nativeCpuNamingNoFileIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        for (String bad : new String[] {dir.resolve("libseq4j_cpu.so").toString(), dir.toString()}) {
            var e = assertThrows(BackendMisconfiguredException.class, () -> CpuKernelsLibrary.explicitLibrary(bad), bad);
            assertTrue(e.getMessage().equals("-Dseq4j.native.cpu=" + bad + ": names no file (expected the path of a "
                    + "libseq4j_cpu.so, or unset for the one in the jar)"), e.getMessage());
        }
        java.nio.file.Path file = java.nio.file.Files.createFile(dir.resolve("lib.so"));
        org.junit.jupiter.api.Assertions.assertEquals(file, CpuKernelsLibrary.explicitLibrary(file.toString()));
    }
}
