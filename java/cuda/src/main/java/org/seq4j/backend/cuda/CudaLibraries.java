// Finds and loads what the CUDA backend needs, or says precisely what is missing and where it looked:
// the NVIDIA driver (libcuda.so.1, found by the dynamic loader; the CUDA runtime opens it itself), the CUDA
// runtime and cuBLAS of one CUDA major version (libcudart.so.N, libcublasLt.so.N, libcublas.so.N) and our
// kernels (libseq4j_cuda.so, packed into the jar by the native build when nvcc was there).
//
// The runtime and cuBLAS are searched, in this order, in: SEQ4J_CUDA_LIBS or -Dseq4j.cuda.libs (folders or
// files, ':'-separated), LD_LIBRARY_PATH, $CUDA_HOME and $CUDA_PATH, the system loader's folders
// (/etc/ld.so.conf.d and the usual lib folders), /usr/local/cuda/lib64, /usr/local/cuda/targets/x86_64-linux/lib,
// and the nvidia/*/lib folders of NVIDIA's CUDA pip wheels in every Python site-packages folder found.
package org.seq4j.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.internal.NativeAccess;
import org.seq4j.backend.internal.NativeLibraries;
import org.seq4j.bindings.cublas.cublas_h;
import org.seq4j.bindings.cuda.seq4j_cuda_h;
import org.seq4j.bindings.cudart.cudart_h;

public final class CudaLibraries {

    static final String DRIVER = "libcuda.so.1";
    static final String KERNELS = "libseq4j_cuda.so";
    static final String KERNELS_FOLDER = "org/seq4j/native/linux-x86_64/";
    /** The CUDA major version assumed when our kernels library cannot tell (the build machines have CUDA 13). */
    static final int DEFAULT_MAJOR = 13;

    static final List<String> SYSTEM_FOLDERS = List.of(
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/local/lib", "/usr/lib",
            "/usr/lib/wsl/lib");
    static final List<String> CUDA_FOLDERS = List.of(
            "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib");
    static final List<String> PYTHON_PREFIXES = List.of("/usr/local/lib", "/usr/lib", "/opt/conda/lib");

    /** The libraries chosen, in load order, with the CUDA major version they belong to. */
    public record Location(int cudaMajor, Path cudart, Path cublasLt, Path cublas, Path kernels) {
    }

    /**
     * Everything locate() looks at, so that tests can point it at a fake file system.
     *
     * @param env environment variables (SEQ4J_CUDA_LIBS, LD_LIBRARY_PATH, CUDA_HOME, CUDA_PATH, VIRTUAL_ENV,
     *            CONDA_PREFIX, HOME)
     * @param properties system properties (seq4j.cuda.libs, seq4j.native.cuda)
     * @param driver empty if the NVIDIA driver loads, else why not
     * @param kernels our kernels library (extracted from the jar), or why there is none
     * @param systemFolders the system loader's folders, in its order
     * @param cudaFolders the usual CUDA toolkit folders
     * @param pythonPrefixes folders whose python3.X/site-packages (or dist-packages) may hold CUDA wheels
     * @param pythonSitePackages extra site-packages folders to search for wheels (asked of python3 only when
     *                           the driver loads and the other places have no CUDA library; called lazily)
     */
    record Probe(Map<String, String> env, Function<String, String> properties, Supplier<Optional<String>> driver,
                 Supplier<KernelsOrReason> kernels, List<String> systemFolders, List<String> cudaFolders,
                 List<String> pythonPrefixes, Supplier<List<String>> pythonSitePackages) {
    }

    /** Our kernels library, or the reason there is none. */
    record KernelsOrReason(Path path, String reason) {
    }

    private static Location loaded;
    private static BackendUnavailableException failed;
    private static Optional<Path> failedFor; /* the folder the failed load was asked to search first */
    /** The modules that make the cuda backend's downcalls, as {@code --enable-native-access} takes them. */
    static final String MODULES = NativeAccess.CORE_MODULES + ",org.seq4j.cuda";

    private CudaLibraries() {
    }

    /**
     * Locates and loads the libraries once per JVM; later calls return the first result or throw the first
     * failure again (the libraries on a machine do not change while it runs).
     */
    public static synchronized Location load() {
        return load(Optional.empty());
    }

    /**
     * As {@link #load()}, with the CUDA runtime and cuBLAS taken from {@code folder} where one is given
     * ({@code BackendConfig}'s {@code "cuda"} library): they must be there, and where this JVM already loaded
     * them from another folder the call throws rather than use those.
     *
     * @param folder the folder that holds libcudart, libcublasLt and libcublas, or empty for the usual search
     * @return the libraries loaded
     * @throws BackendUnavailableException naming what is missing where, or where the loaded ones came from
     */
    public static synchronized Location load(Optional<Path> folder) {
        if (loaded != null) {
            folder.ifPresent(f -> requireFrom(loaded, f, "were already loaded from "));
            return loaded;
        }
        if (failed != null && failedFor.equals(folder)) {
            if (failed instanceof BackendMisconfiguredException m) { // an error again, not a reason to fall back
                throw new BackendMisconfiguredException(m.getMessage(), m);
            }
            throw new BackendUnavailableException(failed.getMessage(), failed);
        }
        try {
            Probe probe = folder.map(f -> searchingFirst(defaultProbe(), f)).orElseGet(CudaLibraries::defaultProbe);
            Location where = locate(probe);
            folder.ifPresent(f -> requireFrom(where, f, "are not there but in "));
            NativeLibraries.load(where.cudart(), "the CUDA runtime");
            NativeLibraries.load(where.cublasLt(), "cuBLASLt");
            NativeLibraries.load(where.cublas(), "cuBLAS");
            NativeLibraries.load(where.kernels(), "the seq4j CUDA kernels");
            // the bindings' static initialisers make restricted calls too: a JVM that denies them gets the flag
            NativeAccess.initialise(MODULES, cudart_h.class, cublas_h.class, seq4j_cuda_h.class);
            loaded = where;
            return where;
        } catch (IllegalCallerException e) {   // the driver's lookup above, under --illegal-native-access=deny
            failed = new BackendUnavailableException(NativeAccess.denied(CudaLibraries.class.getModule(), MODULES), e);
            failedFor = folder;
            throw failed;
        } catch (BackendUnavailableException e) {
            failed = e;
            failedFor = folder;
            throw e;
        }
    }

    /** The probe with {@code folder} searched first, as {@code -Dseq4j.cuda.libs} would have it. */
    static Probe searchingFirst(Probe probe, Path folder) {
        Function<String, String> props = name -> name.equals("seq4j.cuda.libs") ? folder.toString()
                : probe.properties().apply(name);
        return new Probe(probe.env(), props, probe.driver(), probe.kernels(), probe.systemFolders(), probe.cudaFolders(),
                probe.pythonPrefixes(), probe.pythonSitePackages());
    }

    /** Throws unless the runtime and both cuBLAS libraries of {@code where} lie in {@code folder}. */
    static void requireFrom(Location where, Path folder, String instead) {
        Path f = folder.toAbsolutePath().normalize();
        for (Path lib : List.of(where.cudart(), where.cublasLt(), where.cublas())) {
            if (!f.equals(lib.toAbsolutePath().normalize().getParent())) {
                throw new BackendUnavailableException("the CUDA libraries configured in " + folder + " " + instead
                        + lib.getParent() + " (" + lib.getFileName() + ")");
            }
        }
    }

    /**
     * Decides which libraries to load, without loading them. Throws BackendUnavailableException naming every
     * missing piece and every folder searched.
     */
    static Location locate(Probe probe) {
        List<String> problems = new ArrayList<>();
        Optional<String> driverProblem = probe.driver().get();
        driverProblem.ifPresent(why -> problems.add(DRIVER + " (the NVIDIA driver) cannot be loaded: " + why
                + "; without it no GPU is visible (install the NVIDIA driver, or run where one is)"));

        KernelsOrReason kernels = probe.kernels().get();
        int major = DEFAULT_MAJOR;
        if (kernels.path() == null) {
            problems.add(kernels.reason());
        } else {
            major = cudartMajorOf(kernels.path()).orElse(DEFAULT_MAJOR);
        }

        List<String> folders = searchFolders(probe);
        String cudartName = "libcudart.so." + major;
        String cublasLtName = "libcublasLt.so." + major;
        String cublasName = "libcublas.so." + major;
        Path cudart = find(cudartName, folders);
        Path cublasLt = find(cublasLtName, folders);
        Path cublas = find(cublasName, folders);
        if ((cudart == null || cublas == null || cublasLt == null) && driverProblem.isEmpty()) {
            // the wheels' folders are worth asking python3 for only when the usual places lack something, and
            // only where there is a driver: without one the backend cannot load anyway, so no process is started
            boolean grew = false;
            for (String site : probe.pythonSitePackages().get()) {
                for (String f : wheelFolders(Path.of(site))) {
                    if (!folders.contains(f)) {
                        folders.add(f);
                        grew = true;
                    }
                }
            }
            if (grew) {
                cudart = cudart != null ? cudart : find(cudartName, folders);
                cublasLt = cublasLt != null ? cublasLt : find(cublasLtName, folders);
                cublas = cublas != null ? cublas : find(cublasName, folders);
            }
        }
        List<String> missing = new ArrayList<>();
        if (cudart == null) {
            missing.add(cudartName + " (the CUDA runtime)");
        }
        if (cublas == null) {
            missing.add(cublasName + " (cuBLAS)");
        }
        if (cublasLt == null) {
            missing.add(cublasLtName + " (cuBLASLt, which cuBLAS needs)");
        }
        if (!missing.isEmpty()) {
            problems.add(String.join(", ", missing) + " not found in " + (folders.isEmpty() ? "any folder" : folders)
                    + " (set SEQ4J_CUDA_LIBS to the folder that holds them, e.g. a CUDA " + major
                    + " toolkit's lib64 or the nvidia/cu" + major + "/lib folder of its pip wheels)");
        }
        if (!problems.isEmpty()) {
            throw new BackendUnavailableException(String.join("; ", problems));
        }
        return new Location(major, cudart, cublasLt, cublas, kernels.path());
    }

    /** Where to search for the runtime and cuBLAS, in order, without duplicates (python's folders come later). */
    static List<String> searchFolders(Probe probe) {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        String explicit = probe.properties().apply("seq4j.cuda.libs");
        if (explicit == null || explicit.isBlank()) {
            explicit = probe.env().get("SEQ4J_CUDA_LIBS");
        }
        addPathList(out, explicit);
        addPathList(out, probe.env().get("LD_LIBRARY_PATH"));
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String home = probe.env().get(var);
            if (home != null && !home.isBlank()) {
                out.add(Path.of(home, "lib64").toString());
                out.add(Path.of(home, "targets", "x86_64-linux", "lib").toString());
            }
        }
        out.addAll(probe.systemFolders());
        out.addAll(probe.cudaFolders());
        for (String site : sitePackagesWithoutPython(probe.env(), probe.pythonPrefixes())) {
            out.addAll(wheelFolders(Path.of(site)));
        }
        return new ArrayList<>(out);
    }

    private static void addPathList(LinkedHashSet<String> out, String list) {
        if (list == null) {
            return;
        }
        for (String f : list.split(":")) {
            if (!f.isBlank()) {
                out.add(f.trim());
            }
        }
    }

    /** The first entry that is the file {@code name}, or a folder holding it. */
    private static Path find(String name, List<String> entries) {
        for (String e : entries) {
            Path p = Path.of(e);
            if (p.getFileName() != null && p.getFileName().toString().equals(name) && Files.isRegularFile(p)) {
                return p;
            }
            Path inside = p.resolve(name);
            if (Files.isRegularFile(inside)) {
                return inside;
            }
        }
        return null;
    }

    /** site/nvidia/X/lib for every X, sorted (CUDA 13 wheels use nvidia/cu13/lib, CUDA 12 ones nvidia/cublas/lib...). */
    static List<String> wheelFolders(Path site) {
        Path nvidia = site.resolve("nvidia");
        if (!Files.isDirectory(nvidia)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(nvidia)) {
            for (Path d : ds) {
                if (Files.isDirectory(d.resolve("lib"))) {
                    out.add(d.resolve("lib").toString());
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** Python site-packages folders found by looking, not by running python: venv, conda, user, system. */
    static List<String> sitePackagesWithoutPython(Map<String, String> env, List<String> pythonPrefixes) {
        List<Path> prefixes = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                prefixes.add(Path.of(v, "lib"));
            }
        }
        String home = env.get("HOME");
        if (home != null && !home.isBlank()) {
            prefixes.add(Path.of(home, ".local", "lib"));
        }
        for (String p : pythonPrefixes) {
            prefixes.add(Path.of(p));
        }
        List<String> out = new ArrayList<>();
        for (Path prefix : prefixes) {
            if (!Files.isDirectory(prefix)) {
                continue;
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(prefix, "python3*")) {
                List<Path> pythons = new ArrayList<>();
                ds.forEach(pythons::add);
                pythons.sort(Comparator.reverseOrder());   // newest python first
                for (Path py : pythons) {
                    for (String kind : List.of("site-packages", "dist-packages")) {
                        if (Files.isDirectory(py.resolve(kind))) {
                            out.add(py.resolve(kind).toString());
                        }
                    }
                }
            } catch (IOException e) {
                // an unreadable folder holds no wheels we could load anyway
            }
        }
        return out;
    }

    /** python3's own list of site-packages folders (5 s at most), or nothing if there is no python3. */
    static List<String> sitePackagesFromPython() {
        try {
            Process p = new ProcessBuilder("python3", "-c",
                    "import site, sys; print('\\n'.join(site.getsitepackages() + [site.getusersitepackages()]))")
                    .redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (InputStream in = p.getInputStream()) {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return List.of();
                }
                String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                return p.exitValue() == 0 ? out.lines().filter(s -> !s.isBlank()).toList() : List.of();
            }
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    private static final Pattern CUDART_SONAME = Pattern.compile("libcudart\\.so\\.(\\d+)");

    /** The CUDA major version our kernels were linked against: the N of the libcudart.so.N they need. */
    static Optional<Integer> cudartMajorOf(Path kernels) {
        try {
            // the DT_NEEDED names sit in the ELF's string table; a plain scan finds them without an ELF parser
            String bytes = new String(Files.readAllBytes(kernels), StandardCharsets.ISO_8859_1);
            Matcher m = CUDART_SONAME.matcher(bytes);
            return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Empty if the dynamic loader can open the NVIDIA driver, else its reason. */
    static Optional<String> driverProblem() {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup(DRIVER, arena);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of("the dynamic loader did not find it (searched LD_LIBRARY_PATH, /etc/ld.so.cache and the "
                    + "default folders: " + e.getMessage() + ")");
        }
    }

    /** Our kernels: -Dseq4j.native.cuda, else the copy in the jar, extracted to the cache folder. */
    static KernelsOrReason kernelsLibrary(Function<String, String> properties) {
        String explicit = properties.apply("seq4j.native.cuda");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) {
                // named by path: an error, not a reason to skip the backend (select() ran openblas, said at INFO alone)
                throw new BackendMisconfiguredException("-Dseq4j.native.cuda=" + explicit + ": names no file (expected"
                        + " the path of a " + KERNELS + ", or unset for the one in the jar)");
            }
            return new KernelsOrReason(p, null);
        }
        ClassLoader cl = CudaLibraries.class.getClassLoader();
        if (cl.getResource(KERNELS_FOLDER + KERNELS) == null) {
            return new KernelsOrReason(null, KERNELS + " is not in the jar: the native build skipped CUDA (nvcc was not"
                    + " found when it ran; build where nvcc is, or set -Dseq4j.native.cuda=/path/" + KERNELS + ")");
        }
        try {
            Path folder = NativeLibraries.extract(cl, KERNELS_FOLDER, List.of(KERNELS), "seq4j-cuda");
            return new KernelsOrReason(folder.resolve(KERNELS), null);
        } catch (RuntimeException e) {
            return new KernelsOrReason(null, "cannot extract " + KERNELS + " from the jar: " + e.getMessage());
        }
    }

    /** The system loader's folders: those named in /etc/ld.so.conf.d/*.conf, then the usual ones. */
    static List<String> systemLoaderFolders() {
        List<String> out = new ArrayList<>();
        Path conf = Path.of("/etc/ld.so.conf.d");
        if (Files.isDirectory(conf)) {
            try (Stream<Path> files = Files.list(conf)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".conf")).sorted().toList()) {
                    for (String line : Files.readAllLines(f)) {
                        String s = line.strip();
                        if (s.startsWith("/")) {
                            out.add(s);
                        }
                    }
                }
            } catch (IOException e) {
                // fall back to the usual folders below
            }
        }
        out.addAll(SYSTEM_FOLDERS);
        return out;
    }

    static Probe defaultProbe() {
        Function<String, String> props = System::getProperty;
        return new Probe(System.getenv(), props, CudaLibraries::driverProblem, () -> kernelsLibrary(props),
                systemLoaderFolders(), CUDA_FOLDERS, PYTHON_PREFIXES, CudaLibraries::sitePackagesFromPython);
    }
}
