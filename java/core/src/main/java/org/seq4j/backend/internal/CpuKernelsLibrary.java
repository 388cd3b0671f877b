// Loads libseq4j_cpu.so, the C kernels of native/cpu, which seq4j-core's build packs into the jar
// under org/seq4j/native/<platform>/ (linux-x86_64, linux-aarch64). -Dseq4j.native.cpu=/path/libseq4j_cpu.so overrides that (for
// working on the kernels without rebuilding the jar).
package org.seq4j.backend.internal;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.bindings.cpu.seq4j_cpu_h;

/**
 * Loads {@code libseq4j_cpu.so}, seq4j's C kernels, from the jar (extracted into the cache once) or from
 * {@code -Dseq4j.native.cpu}.
 */
public final class CpuKernelsLibrary {
    static final String FOLDER = "org/seq4j/native/" + NativeLibraries.platform() + "/";
    static final String NAME = "libseq4j_cpu.so";

    private static volatile Path loaded;

    private CpuKernelsLibrary() {
    }

    /**
     * Loads the C kernels once per JVM.
     *
     * @return the file loaded
     * @throws BackendUnavailableException   if the jar has none for this platform or it does not load
     * @throws BackendMisconfiguredException if a setting is not a value it takes, or -Dseq4j.native.cpu names a
     *                                       library that does not load
     */
    public static synchronized Path load() {
        if (loaded == null) {
            poolWorkersSetting(System.getenv("SEQ4J_POOL_WORKERS"));
            cpuIsaSetting(System.getenv("SEQ4J_CPU_ISA"));
            cpuAmxSetting(System.getenv("SEQ4J_CPU_AMX"));
            String explicit = System.getProperty("seq4j.native.cpu");
            if (explicit != null && !explicit.isBlank()) {
                // named by path: one that does not load is an error, as -Dseq4j.openblas's, not a reason to fall back
                Path p = explicitLibrary(explicit);
                try {
                    NativeLibraries.load(p, "the seq4j C kernels");
                } catch (BackendUnavailableException e) {
                    throw new BackendMisconfiguredException("-Dseq4j.native.cpu=" + explicit + ": " + e.getMessage(), e);
                }
                loaded = p;
                return loaded;
            }
            ClassLoader cl = CpuKernelsLibrary.class.getClassLoader();
            if (cl.getResource(FOLDER + NAME) == null) {
                throw new BackendUnavailableException("this seq4j-core jar has no " + NAME + " for platform "
                        + NativeLibraries.platform() + " (it ships " + shipped(cl) + "; build on this platform "
                        + "with mvn, which runs make in native/, or set -Dseq4j.native.cpu)");
            }
            Path p = NativeLibraries.extract(cl, FOLDER, List.of(NAME), "seq4j-cpu").resolve(NAME);
            NativeLibraries.load(p, "the seq4j C kernels");
            loaded = p;
        }
        return loaded;
    }

    /**
     * The C kernels named by -Dseq4j.native.cpu, which must be a file: a path that names none was a
     * BackendUnavailableException, so that Backends.select() skipped the openblas backend and ran the slow Java
     * reference (with one WARNING), where an OpenBLAS named by path that does not load is an error.
     *
     * @param value the property's value, not blank
     * @return the path
     * @throws BackendMisconfiguredException naming the property, the value and what it takes
     */
    static Path explicitLibrary(String value) {
        Path p = Path.of(value);
        if (!Files.isRegularFile(p)) {
            throw new BackendMisconfiguredException("-Dseq4j.native.cpu=" + value + ": names no file (expected the path"
                    + " of a " + NAME + ", or unset for the one in the jar)");
        }
        return p;
    }

    /**
     * Refuses a SEQ4J_POOL_WORKERS that is not a whole number of workers the pool can start (0 to
     * SEQ4J_MAX_THREADS - 1) in ASCII digits: the C side reads it with atoi when the pool starts, where "abc", "2x" or
     * "\u0663" (an Arabic-Indic 3) would start no worker or the wrong count without a word.
     *
     * @param value the variable's value, or null where it is not set
     * @throws BackendMisconfiguredException naming the variable and what it takes
     */
    static void poolWorkersSetting(String value) {
        if (value == null || value.isEmpty()) {
            return;
        }
        int most = seq4j_cpu_h.SEQ4J_MAX_THREADS() - 1;
        int workers = -1;
        // what atoi reads as written: C's white space around, ASCII digits. Integer.parseInt and strip() also take
        // other scripts' digits ("\u0663" as 3) and other white space, where atoi stops and reads 0 (or 1 of "1\u0663")
        if (value.matches("[ \\t\\n\\x0B\\f\\r]*\\+?[0-9]+[ \\t\\n\\x0B\\f\\r]*")) {
            try {
                workers = Integer.parseInt(value.strip());
            } catch (NumberFormatException e) {
                // too many digits for an int: refused below
            }
        }
        if (workers < 0 || workers > most) {
            throw new BackendMisconfiguredException("SEQ4J_POOL_WORKERS=" + value + ": expected the number of worker"
                    + " threads of the C kernels' pool in ASCII digits, 0.." + most
                    + " (unset: one per core beyond the caller's)");
        }
    }

    /**
     * Refuses a SEQ4J_CPU_ISA that names no clone: the C side compares it with avx512, avx2 and baseline when it loads
     * and ignored any other value with a note in seq4j_cpu_info() alone, so that a typo ("AVX2", "avx-2") ran the best
     * clone where a run meant to test or time another one. A clone this CPU cannot run stays a note: the value is
     * right, the machine lacks it (CpuCloneTest skips, saying so).
     *
     * @param value the variable's value, or null where it is not set
     * @throws BackendMisconfiguredException naming the variable and the values it takes
     */
    static void cpuIsaSetting(String value) {
        oneOf("SEQ4J_CPU_ISA", value, List.of("avx512", "avx2", "baseline"), "avx512, avx2 or baseline (the C kernels'"
                + " clone to run, for tests and benchmarks), or unset for the best this CPU runs");
    }

    /**
     * Refuses a SEQ4J_CPU_AMX other than 0 or 1: the C side turns AMX off for "0" alone, so "off", "false" or "no" left
     * it on without a word.
     *
     * @param value the variable's value, or null where it is not set
     * @throws BackendMisconfiguredException naming the variable and the values it takes
     */
    static void cpuAmxSetting(String value) {
        oneOf("SEQ4J_CPU_AMX", value, List.of("0", "1"), "0 (BF16 products on the AVX-512 clone's own FMA blocks) or 1"
                + " (on AMX where the CPU and the kernel allow it, as unset)");
    }

    /**
     * Refuses a variable the C side compares with fixed words (strcmp) whose value is none of them: unset or empty is
     * taken, as there.
     *
     * @param variable the variable's name
     * @param value    its value, or null where it is not set
     * @param taken    the words the C side acts on
     * @param expected what the message says it takes
     * @throws BackendMisconfiguredException naming the variable, the value and what it takes
     */
    private static void oneOf(String variable, String value, List<String> taken, String expected) {
        if (value != null && !value.isEmpty() && !taken.contains(value)) {
            throw new BackendMisconfiguredException(variable + "=" + value + ": expected " + expected);
        }
    }

    private static String shipped(ClassLoader cl) {
        List<String> found = new java.util.ArrayList<>();
        for (String platform : List.of("linux-x86_64", "linux-aarch64")) {
            if (cl.getResource("org/seq4j/native/" + platform + "/" + NAME) != null) {
                found.add(platform);
            }
        }
        return found.isEmpty() ? "none: the native build did not run" : String.join(" and ", found);
    }

    /**
     * Version, compiler and the instruction set the kernels dispatched to on this CPU.
     *
     * @return {@code seq4j_cpu_info()}
     * @throws IllegalStateException if the C kernels are not loaded yet (see {@link #load()})
     */
    public static String info() {
        if (loaded == null) { // the binding's class initialiser would fail, and keep failing after a load
            throw new IllegalStateException("CpuKernelsLibrary.info(): the seq4j C kernels are not loaded yet; create an"
                    + " OpenBlasBackend or call CpuKernelsLibrary.load() first");
        }
        MemorySegment s = seq4j_cpu_h.seq4j_cpu_info();
        return s.reinterpret(512).getString(0);
    }
}
