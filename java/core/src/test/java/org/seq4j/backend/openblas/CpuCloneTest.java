// Which clone of the C kernels' hot loops runs (x86-64-v4, v3 or baseline, chosen once at load), as
// seq4j_cpu_info() reports it; with SEQ4J_CPU_ISA set (the conformance-avx2 run of the pom), that the forced
// clone is the one that runs, so the conformance suite in that run really tests it. BF16 products run on AMX where
// the CPU has it (native/cpu/amx.c) unless SEQ4J_CPU_AMX=0 (the conformance-no-amx run of the pom), and the info
// says which.
package org.seq4j.backend.openblas;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.internal.CpuKernelsLibrary;
import org.seq4j.backend.internal.NativeLibraries;
import org.seq4j.testing.TestBackends;

class CpuCloneTest {
    private static final Map<String, String> CLONES = Map.of(
            "avx512", "kernels: x86-64-v4 (AVX-512)",
            "avx2", "kernels: x86-64-v3 (AVX2+FMA)",
            "baseline", "kernels: x86-64 baseline (SSE2)");

    @Test
    void infoNamesTheCloneThatRuns() {
        TestBackends.get("openblas"); // skips if the native backend is not available here
        String info = CpuKernelsLibrary.info();
        if (NativeLibraries.platform().equals("linux-x86_64")) {
            assertTrue(CLONES.values().stream().anyMatch(info::contains), "no clone named in: " + info);
        } else {
            assertTrue(info.contains("kernels: aarch64 (NEON)") || info.contains("kernels: generic"), info);
        }
    }

    @Test
    void forcedCloneRuns() {
        String asked = System.getenv("SEQ4J_CPU_ISA");
        assumeTrue(asked != null && !asked.isEmpty(), "SEQ4J_CPU_ISA is not set: the best clone runs");
        assumeTrue(NativeLibraries.platform().equals("linux-x86_64"), "clones exist on x86-64 only");
        TestBackends.get("openblas");
        String info = CpuKernelsLibrary.info();
        assumeFalse(info.contains("cannot run"), "this CPU cannot run the clone SEQ4J_CPU_ISA=" + asked + " asks for: " + info);
        assertTrue(CLONES.containsKey(asked), "SEQ4J_CPU_ISA=" + asked + " is none of " + CLONES.keySet());
        assertTrue(info.contains(CLONES.get(asked)), "SEQ4J_CPU_ISA=" + asked + " but " + info);
    }

    /** The CPU's AMX-BF16 and AMX-TILE, as /proc/cpuinfo's flags say (false where it cannot be read). */
    private static boolean cpuHasAmx() {
        try {
            String flags = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"));
            return flags.contains(" amx_bf16") && flags.contains(" amx_tile");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void infoSaysWhereBf16ProductsRun() {
        assumeTrue(NativeLibraries.platform().equals("linux-x86_64"), "AMX exists on x86-64 only");
        TestBackends.get("openblas");
        String info = CpuKernelsLibrary.info();
        boolean v4 = info.contains(CLONES.get("avx512"));
        if ("0".equals(System.getenv("SEQ4J_CPU_AMX")) && v4 && cpuHasAmx()) {
            assertTrue(info.endsWith("; BF16 products on AMX off (SEQ4J_CPU_AMX=0)"), info);
        } else if (v4 && cpuHasAmx()) {
            // on, or off with the reason (an OS or kernel that does not allow the tile state)
            assertTrue(info.endsWith("; BF16 products on AMX") || info.contains("; BF16 products on AMX off ("), info);
        } else {
            assertTrue(!info.contains("AMX"), "no AMX (or a clone below AVX-512), yet: " + info);
        }
    }
}
