// Which OpenBLAS and which seq4j C clone this JVM loads, with the environment that chose them: the library's
// path for the C harness, the core name for scripts/bench's labels, and all of it for Report's section headers.
// The loaders are internal to seq4j-core (not exported); the benches run on the class path, where they are reachable.
package org.seq4j.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.seq4j.backend.internal.CpuKernelsLibrary;
import org.seq4j.backend.internal.OpenBlasLibrary;
import org.seq4j.backend.openblas.OpenBlasBackend;

/**
 * {@code java -cp benchmarks.jar org.seq4j.bench.WhichOpenBlas [--core | --info]}: with no argument the path of
 * the OpenBLAS library file; {@code --core} its {@code openblas_get_corename()}; {@code --info} every fact of
 * {@link #facts()}, one {@code key: value} a line.
 */
public final class WhichOpenBlas {

    /** The environment variables that choose OpenBLAS's core (OpenBLAS reads them) and seq4j's clone. */
    static final String[] ENV = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SEQ4J_CPU_ISA"};

    public static void main(String[] args) {
        String what = args.length == 0 ? "--path" : args[0];
        switch (what) {
            case "--path" -> {
                try (OpenBlasBackend b = new OpenBlasBackend()) {
                    System.out.println(b.location().path());
                }
            }
            case "--core" -> System.out.println(facts().get("OpenBLAS core"));
            case "--info" -> facts().forEach((k, v) -> System.out.println(k + ": " + v));
            default -> throw new IllegalArgumentException("usage: WhichOpenBlas [--core | --info], not " + what);
        }
    }

    /**
     * What this JVM loads, as the benchmarks (run with the same environment) load it: OpenBLAS's core name and
     * config string, seq4j_cpu_info() (the C clone that runs), and the environment variables of {@link #ENV}.
     *
     * @return name to value, in a fixed order; "not loaded: ..." where the openblas backend does not load
     */
    static Map<String, String> facts() {
        Map<String, String> f = new LinkedHashMap<>();
        try (OpenBlasBackend b = new OpenBlasBackend()) {
            f.put("OpenBLAS core", OpenBlasLibrary.coreName());
            f.put("OpenBLAS config", OpenBlasLibrary.config());
            f.put("OpenBLAS file", b.location().path().toString());
            f.put("seq4j C clone", CpuKernelsLibrary.info());
        } catch (RuntimeException | LinkageError e) {
            f.put("OpenBLAS core", "not loaded: " + e.getMessage());
        }
        try {
            double ns = CoreLatency.oneWayNanos();
            f.put("core-to-core", Double.isNaN(ns) ? "n/a (one CPU, or the two threads did not both run)"
                    : String.format(Locale.ROOT, "%.0f ns one way", ns));
            String start = System.getenv("SEQ4J_BENCH_CORE_LATENCY_START"); // scripts/bench's, as its run began
            if (start != null && !start.isBlank()) {
                f.put("core-to-core at the start", start.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        StringBuilder env = new StringBuilder();
        for (String name : ENV) {
            String v = System.getenv(name);
            env.append(env.isEmpty() ? "" : ", ").append(name).append('=').append(v == null ? "(unset)" : v);
        }
        f.put("environment", env.toString());
        return f;
    }
}
