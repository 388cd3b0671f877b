// Finds and loads OpenBLAS for the FFM bindings, in this order:
//   1. an explicit path: -Dseq4j.openblas=/path/libopenblas.so.0 or SEQ4J_OPENBLAS (if it fails to load,
//      a BackendMisconfiguredException, which ends backend selection: it was asked for),
//   2. the system's libopenblas.so.0 (LD_LIBRARY_PATH, then the usual library folders),
//   3. the binary inside the Maven artifact org.bytedeco:openblas:<ver>:linux-x86_64 (linux-arm64 on aarch64,
//      not a dependency of seq4j-core: there the system's OpenBLAS is the usual one), extracted once into
//      the cache folder with the libgfortran/libquadmath/libgcc_s it finds by RUNPATH $ORIGIN.
// So a machine with only a JDK and Maven has a working OpenBLAS, no root needed.
package org.seq4j.backend.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.seq4j.backend.BackendConfig;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.openblas.OpenBlasBackend.Location;
import org.seq4j.backend.openblas.OpenBlasBackend.Source;
import org.seq4j.bindings.cblas.cblas_h;

/**
 * Finds and loads OpenBLAS once per JVM: an explicit path ({@code -Dseq4j.openblas}, {@code SEQ4J_OPENBLAS}),
 * else the system's {@code libopenblas.so.0}, else the binary inside the Maven artifact
 * {@code org.bytedeco:openblas}, extracted into the cache folder. Internal to seq4j (exported to its own modules
 * only): {@link #setThreads} changes a process-wide setting that every OpenBLAS backend relies on.
 */
public final class OpenBlasLibrary {

    static final String SONAME = "libopenblas.so.0";
    /** The bundled binary's folder: seq4j-core depends on the linux-x86_64 jar only; on linux-aarch64 the
     * system's libopenblas.so.0 is used (Debian: libopenblas0), or the linux-arm64 jar if one is on the class path. */
    static final String ARTIFACT_FOLDER = "org/bytedeco/openblas/"
            + (NativeLibraries.platform().equals("linux-aarch64") ? "linux-arm64" : "linux-x86_64") + "/";
    static final List<String> ARTIFACT_FILES =
            List.of(SONAME, "libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1");
    static final List<String> SYSTEM_FOLDERS = List.of(
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/usr/local/lib",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread",
            "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu/openblas-pthread");

    private static volatile Location loaded;

    /** How messages name an explicit path, which any of three settings may give (see load). */
    private static final String CONFIGURED =
            "the OpenBLAS configured (-Dseq4j.openblas, SEQ4J_OPENBLAS or BackendConfig)";

    /** OpenBLAS's own functions that the bindings call: a library without them is not OpenBLAS. */
    static final List<String> OPENBLAS_FUNCTIONS = List.of("openblas_get_config", "openblas_get_corename",
            "openblas_get_num_threads", "openblas_set_num_threads");

    /**
     * The library's own functions before load() would fail in their bindings' class initialisers: an
     * ExceptionInInitializerError, then a NoClassDefFoundError from that function for the rest of the JVM's life,
     * even after a backend has loaded the library (its description() calls config() and coreName()).
     */
    private static void requireLoaded(String what) {
        if (loaded == null) {
            throw new IllegalStateException("OpenBlasLibrary." + what + ": OpenBLAS is not loaded yet; create an "
                    + "OpenBlasBackend or call OpenBlasLibrary.load() first");
        }
    }

    private OpenBlasLibrary() {
    }

    /**
     * Loads OpenBLAS once per JVM, configured from the environment (later calls return the first result).
     *
     * @return where it came from
     * @throws BackendUnavailableException if no candidate loads
     * @throws BackendMisconfiguredException if an explicit path does not load
     */
    public static synchronized Location load() {
        return load(BackendConfig.fromEnvironment());
    }

    /**
     * Loads OpenBLAS once per JVM from the configured path, else the search order above, and returns where it
     * came from; later calls return the first result, where they name no path or the file loaded.
     *
     * @param config its {@code openblas} library path, if any, comes first
     * @return where it came from
     * @throws BackendUnavailableException if no candidate loads
     * @throws BackendMisconfiguredException if an explicit path does not load, or names another file than the
     *         OpenBLAS this JVM already loaded (one serves a JVM: the explicit path would be ignored)
     */
    public static synchronized Location load(BackendConfig config) {
        if (loaded != null) {
            config.library(BackendConfig.OPENBLAS).ifPresent(p -> requireLoadedFrom(loaded, p));
        } else {
            String explicit = config.library(BackendConfig.OPENBLAS).map(Path::toString).orElse(null);
            Location where = locate(key -> key.equals("seq4j.openblas") ? explicit : System.getProperty(key),
                    System.getenv(), OpenBlasLibrary::artifactFolder);
            try {
                if (where.source() == Source.EXPLICIT) {
                    requireSharedLibrary(where.path());
                }
                NativeLibraries.load(where.path(), "OpenBLAS (" + where.source() + ")");
                SymbolLookup symbols = SymbolLookup.libraryLookup(where.path(), Arena.global());
                if (symbols.find("cblas_sgemm").isEmpty()) {
                    throw new BackendUnavailableException(where.path() + " loads but has no cblas_sgemm: it is not OpenBLAS");
                }
                // the bindings call these four besides cblas_: a BLAS without them (the reference BLAS, Debian's
                // libblas.so.3, has cblas_sgemm) failed at the first thread setting, with a binding's
                // ExceptionInInitializerError and its stack trace, in every command, seq4j info included
                List<String> missing = OPENBLAS_FUNCTIONS.stream().filter(f -> symbols.find(f).isEmpty()).toList();
                if (!missing.isEmpty()) {
                    throw new BackendUnavailableException(where.path() + " has cblas_sgemm but no " + String.join(", ",
                            missing) + ": it is another BLAS (the reference BLAS?), not OpenBLAS");
                }
                String why = int64Refusal(where.path(), configString());
                if (why != null) {
                    throw new BackendUnavailableException(why);
                }
            } catch (BackendUnavailableException | IllegalArgumentException e) {
                if (where.source() == Source.EXPLICIT) { // asked for: an error, not a reason to fall back
                    throw new BackendMisconfiguredException(e.getMessage() + " (set by -Dseq4j.openblas or "
                            + "SEQ4J_OPENBLAS; unset it to use the system's or the bundled OpenBLAS)", e);
                }
                throw e instanceof BackendUnavailableException b ? b : new BackendUnavailableException(e.getMessage(), e);
            }
            loaded = where;
        }
        return loaded;
    }

    /**
     * Refuses an explicit path that is not the file {@code where} loaded: a JVM holds one OpenBLAS, so a later
     * backend configured with another would run on the first one while its configuration said otherwise.
     */
    static void requireLoadedFrom(Location where, Path configured) {
        boolean same;
        try {
            same = Files.isRegularFile(configured) && Files.isSameFile(configured, where.path());
        } catch (java.io.IOException e) {
            same = false;
        }
        if (!same) {
            throw new BackendMisconfiguredException(CONFIGURED + " names " + configured + ", but this JVM already "
                    + "loaded OpenBLAS from " + where.path() + " (" + where.source() + "), and one serves a JVM: name "
                    + "that file, or none");
        }
    }

    /**
     * Why an OpenBLAS built with 64-bit integers (INTERFACE64: "USE64BITINT" in its openblas_get_config(), as Debian's
     * libopenblas64.so.0, whose functions keep the usual names) cannot serve the bindings, or null for any other build.
     * The bindings pass every size and stride as a 32-bit int: such a library would read each with whatever the
     * register's upper half holds, and multiply the wrong extents, or out of bounds.
     *
     * @param path   the library, for the message
     * @param config its openblas_get_config()
     * @return the reason, or null
     */
    static String int64Refusal(Path path, String config) {
        if (!java.util.Arrays.asList(config.split("\\s+")).contains("USE64BITINT")) {
            return null;
        }
        return path + " is an OpenBLAS built with 64-bit integers (its configuration: " + config + "), but seq4j "
                + "passes sizes as 32-bit ints (the usual LP64 interface); use an LP64 build, such as Debian's "
                + "libopenblas0 (libopenblas.so.0), not libopenblas64";
    }

    // On Linux a library is an ELF file. Checked before System.load, which for any other file first warns on
    // stderr that it "might have disabled stack guard" and then fails with the path repeated.
    private static void requireSharedLibrary(Path p) {
        if (!System.getProperty("os.name", "").equals("Linux")) {
            return;
        }
        byte[] magic;
        try (var in = Files.newInputStream(p)) {
            magic = in.readNBytes(4);
        } catch (java.io.IOException e) {
            throw new BackendUnavailableException("cannot read " + p + ": " + e.getMessage(), e);
        }
        if (!java.util.Arrays.equals(magic, new byte[] {0x7f, 'E', 'L', 'F'})) {
            throw new BackendUnavailableException(p + " is not a shared library (no ELF header)");
        }
    }

    /**
     * Decides which library to load, without loading it. Separated from load() so that the order can be
     * tested with any properties, environment and artifact.
     *
     * @param properties system properties (seq4j.openblas)
     * @param env environment (SEQ4J_OPENBLAS, LD_LIBRARY_PATH)
     * @param artifact extracts the Maven artifact's libraries and returns their folder, or throws
     */
    static Location locate(Function<String, String> properties, Map<String, String> env,
                           Function<List<String>, Path> artifact) {
        List<String> skipped = new ArrayList<>();
        String explicit = properties.apply("seq4j.openblas");
        // load() passes the configuration's path as this property, whichever of -Dseq4j.openblas, SEQ4J_OPENBLAS
        // or BackendConfig.OPENBLAS named it
        String explicitWhere = CONFIGURED;
        if (explicit == null || explicit.isBlank()) {
            explicit = env.get("SEQ4J_OPENBLAS");
            explicitWhere = "SEQ4J_OPENBLAS";
        }
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) {
                throw new BackendMisconfiguredException(explicitWhere + " names " + p + ", which is not a file");
            }
            return new Location(p, Source.EXPLICIT, skipped);
        }
        skipped.add("explicit path: neither -Dseq4j.openblas nor SEQ4J_OPENBLAS is set");

        List<String> folders = new ArrayList<>();
        String ld = env.get("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String f : ld.split(":")) {
                if (!f.isBlank()) {
                    folders.add(f);
                }
            }
        }
        folders.addAll(SYSTEM_FOLDERS);
        for (String f : folders) {
            Path p = Path.of(f, SONAME);
            if (Files.isRegularFile(p)) {
                return new Location(p, Source.SYSTEM, skipped);
            }
        }
        skipped.add("system: no " + SONAME + " in LD_LIBRARY_PATH or " + String.join(", ", SYSTEM_FOLDERS));

        Path folder = artifact.apply(ARTIFACT_FILES);
        return new Location(folder.resolve(SONAME), Source.MAVEN_ARTIFACT, skipped);
    }

    private static Path artifactFolder(List<String> files) {
        ClassLoader cl = OpenBlasLibrary.class.getClassLoader();
        try {
            return NativeLibraries.extract(cl, ARTIFACT_FOLDER, files, "openblas");
        } catch (BackendUnavailableException e) {
            throw new BackendUnavailableException("no OpenBLAS found: no explicit path (-Dseq4j.openblas / SEQ4J_OPENBLAS), "
                    + "no system " + SONAME + ", and the jar org.bytedeco:openblas:" + ARTIFACT_FOLDER.split("/")[3]
                    + " is on neither the class path nor the module path (on " + NativeLibraries.platform()
                    + ": install the system's OpenBLAS, e.g. Debian's libopenblas0)", e);
        }
    }

    /**
     * OpenBLAS's own description of its build (version, DYNAMIC_ARCH, threading, the core it detected).
     *
     * @return {@code openblas_get_config()}, or "?"
     * @throws IllegalStateException if OpenBLAS is not loaded yet (see {@link #load()})
     */
    public static String config() {
        requireLoaded("config()");
        return configString();
    }

    private static String configString() {
        MemorySegment s = cblas_h.openblas_get_config();
        return s.equals(MemorySegment.NULL) ? "?" : s.reinterpret(4096).getString(0).trim();
    }

    /**
     * The CPU core type OpenBLAS chose its kernels for, e.g. {@code Haswell}.
     *
     * @return {@code openblas_get_corename()}, or "?"
     * @throws IllegalStateException if OpenBLAS is not loaded yet (see {@link #load()})
     */
    public static String coreName() {
        requireLoaded("coreName()");
        MemorySegment s = cblas_h.openblas_get_corename();
        return s.equals(MemorySegment.NULL) ? "?" : s.reinterpret(256).getString(0).trim();
    }

    /**
     * OpenBLAS's own thread count (seq4j keeps it at 1: its pool splits the work instead).
     *
     * @return {@code openblas_get_num_threads()}
     * @throws IllegalStateException if OpenBLAS is not loaded yet (see {@link #load()})
     */
    public static int threads() {
        requireLoaded("threads()");
        return cblas_h.openblas_get_num_threads();
    }

    /**
     * Sets OpenBLAS's own thread count, process-wide.
     *
     * @param n the count, at least 1
     * @throws IllegalArgumentException if n is below 1
     * @throws IllegalStateException    if OpenBLAS is not loaded yet (see {@link #load()})
     */
    public static void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("OpenBLAS threads must be >= 1, got " + n);
        }
        requireLoaded("setThreads(" + n + ")");
        cblas_h.openblas_set_num_threads(n);
    }
}
