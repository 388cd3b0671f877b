// Where the CUDA backend looks for its libraries and what it says when they are missing, on a fake file
// system in a temporary folder (no GPU, driver or CUDA library needed).
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.BackendUnavailableException;

class CudaLibrariesTest {
    @TempDir
    Path tmp;

    private final Map<String, String> env = new HashMap<>();
    private final Map<String, String> props = new HashMap<>();
    private final AtomicInteger pythonAsked = new AtomicInteger();
    private List<String> pythonSites = List.of();

    /** A fake libseq4j_cuda.so whose string table names libcudart.so.{major}, as the real one's does. */
    private Path kernels(int major) throws IOException {
        Path p = tmp.resolve("kernels/libseq4j_cuda.so");
        Files.createDirectories(p.getParent());
        Files.write(p, ("\u007fELF...libstdc++.so.6\0libcudart.so." + major + "\0libc.so.6\0")
                .getBytes(StandardCharsets.ISO_8859_1));
        return p;
    }

    private Path folderWith(String name, String... files) throws IOException {
        Path d = tmp.resolve(name);
        Files.createDirectories(d);
        for (String f : files) {
            Files.writeString(d.resolve(f), "fake");
        }
        return d;
    }

    private CudaLibraries.Probe probe(Optional<String> driverProblem, Path kernels, String kernelsReason,
                                      List<String> systemFolders) {
        return new CudaLibraries.Probe(env, props::get, () -> driverProblem,
                () -> new CudaLibraries.KernelsOrReason(kernels, kernelsReason), systemFolders, List.of(), List.of(), () -> {
                    pythonAsked.incrementAndGet();
                    return pythonSites;
                });
    }

    @Test
    void everyMissingPieceAndEveryFolderSearchedIsNamed() throws IOException {
        Path empty = folderWith("empty");
        Path sys = folderWith("sys", "libcudart.so.13");
        env.put("SEQ4J_CUDA_LIBS", empty.toString());
        var e = assertThrows(BackendUnavailableException.class, () -> CudaLibraries.locate(probe(
                Optional.of("not on this machine"), null, "libseq4j_cuda.so is not in the jar", List.of(sys.toString()))));
        String m = e.getMessage();
        assertTrue(m.contains("libcuda.so.1 (the NVIDIA driver) cannot be loaded: not on this machine"), m);
        assertTrue(m.contains("libseq4j_cuda.so is not in the jar"), m);
        assertTrue(m.contains("libcublas.so.13 (cuBLAS)"), m);
        assertTrue(m.contains("libcublasLt.so.13"), m);
        assertTrue(!m.contains("libcudart.so.13 (the CUDA runtime)"), "the runtime was found in " + sys + ": " + m);
        assertTrue(m.contains(empty.toString()) && m.contains(sys.toString()), "searched folders are listed: " + m);
        assertTrue(m.contains("SEQ4J_CUDA_LIBS"), "says how to point at the libraries: " + m);
    }

    @Test
    void seq4jCudaLibsComesFirstAndTheKernelsChooseTheCudaMajor() throws IOException {
        Path mine = folderWith("mine", "libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12");
        Path sys = folderWith("sys", "libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12",
                "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13");
        env.put("SEQ4J_CUDA_LIBS", mine + ":" + tmp.resolve("does-not-exist"));
        Path k = kernels(12);
        CudaLibraries.Location where = CudaLibraries.locate(probe(Optional.empty(), k, null, List.of(sys.toString())));
        assertEquals(new CudaLibraries.Location(12, mine.resolve("libcudart.so.12"), mine.resolve("libcublasLt.so.12"),
                mine.resolve("libcublas.so.12"), k), where);
        assertEquals(0, pythonAsked.get(), "python3 is not asked when everything was found");
    }

    @Test
    void aConfiguredFolderIsSearchedFirstAndMustHoldTheLibraries() throws IOException {
        // BackendConfig's "cuda" library: searched before the environment's folders, as -Dseq4j.cuda.libs is
        Path configured = folderWith("configured", "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13");
        Path other = folderWith("other", "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13");
        env.put("SEQ4J_CUDA_LIBS", other.toString());
        props.put("seq4j.cuda.libs", other.toString());
        CudaLibraries.Probe p = CudaLibraries.searchingFirst(probe(Optional.empty(), kernels(13), null, List.of()),
                configured);
        CudaLibraries.Location where = CudaLibraries.locate(p);
        assertEquals(configured.resolve("libcudart.so.13"), where.cudart());
        CudaLibraries.requireFrom(where, configured, "are not there but in ");
        // a folder that lacks them: the search finds them elsewhere (here the loader's path), and the check names
        // both places
        env.put("LD_LIBRARY_PATH", other.toString());
        Path lacking = folderWith("lacking", "libcudart.so.13");
        CudaLibraries.Location found = CudaLibraries.locate(CudaLibraries.searchingFirst(
                probe(Optional.empty(), kernels(13), null, List.of()), lacking));
        var e = assertThrows(BackendUnavailableException.class,
                () -> CudaLibraries.requireFrom(found, lacking, "are not there but in "));
        assertTrue(e.getMessage().contains(lacking.toString()) && e.getMessage().contains(other.toString())
                && e.getMessage().contains("libcublasLt.so.13"), e.getMessage());
    }

    @Test
    void thePropertyOverridesTheEnvironmentAndMayNameFiles() throws IOException {
        Path a = folderWith("a", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13");
        Path b = folderWith("b", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13");
        env.put("SEQ4J_CUDA_LIBS", a.toString());
        props.put("seq4j.cuda.libs", b.resolve("libcublas.so.13") + ":" + b);
        CudaLibraries.Location where = CudaLibraries.locate(probe(Optional.empty(), kernels(13), null, List.of()));
        assertEquals(b.resolve("libcublas.so.13"), where.cublas());
        assertEquals(b.resolve("libcudart.so.13"), where.cudart());
    }

    @Test
    void pipWheelsAreFoundInAVirtualEnvironment() throws IOException {
        Path venv = tmp.resolve("venv");
        Path lib = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cu13/lib"));
        for (String f : List.of("libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13")) {
            Files.writeString(lib.resolve(f), "fake");
        }
        env.put("VIRTUAL_ENV", venv.toString());
        CudaLibraries.Location where = CudaLibraries.locate(probe(Optional.empty(), kernels(13), null, List.of()));
        assertEquals(lib.resolve("libcublas.so.13"), where.cublas());
        assertEquals(0, pythonAsked.get(), "found by looking, without running python3");
    }

    @Test
    void python3IsNotAskedWhenTheDriverIsMissing() throws IOException {
        pythonSites = List.of(folderWith("would-have-it").toString());
        var e = assertThrows(BackendUnavailableException.class, () -> CudaLibraries.locate(probe(
                Optional.of("not on this machine"), kernels(13), null, List.of())));
        assertEquals(0, pythonAsked.get(), "no python3 process without a driver: the backend cannot load anyway");
        assertTrue(e.getMessage().contains("libcuda.so.1 (the NVIDIA driver) cannot be loaded"), e.getMessage());
        assertTrue(e.getMessage().contains("libcudart.so.13 (the CUDA runtime)"), "still names what is missing: "
                + e.getMessage());
    }

    @Test
    void python3IsAskedForItsSitePackagesOnlyWhenSomethingIsMissing() throws IOException {
        Path site = tmp.resolve("odd-site");
        Path lib = Files.createDirectories(site.resolve("nvidia/cublas/lib"));
        Files.writeString(lib.resolve("libcublas.so.13"), "fake");
        Files.writeString(lib.resolve("libcublasLt.so.13"), "fake");
        Path sys = folderWith("sys", "libcudart.so.13");
        pythonSites = List.of(site.toString());
        CudaLibraries.Location where = CudaLibraries.locate(probe(Optional.empty(), kernels(13), null,
                List.of(sys.toString())));
        assertEquals(1, pythonAsked.get(), "asked once");
        assertEquals(lib.resolve("libcublas.so.13"), where.cublas());
        assertEquals(sys.resolve("libcudart.so.13"), where.cudart());
    }

    @Test
    void theCudaMajorIsReadFromTheKernelsLibrary() throws IOException {
        assertEquals(Optional.of(12), CudaLibraries.cudartMajorOf(kernels(12)));
        assertEquals(Optional.empty(), CudaLibraries.cudartMajorOf(folderWith("x", "libother.so").resolve("libother.so")));
    }

    /**
     * -Dseq4j.native.cuda naming no file: it was one of the reasons the backend could not load, so Backends.select()
     * ran openblas and said so at INFO alone (nothing on a default console), where the library was named by path.
     */
    @Test
    void nativeCudaNamingNoFileIsRefused() throws IOException {
        for (String bad : new String[] {tmp.resolve("libseq4j_cuda.so").toString(), tmp.toString()}) {
            var e = assertThrows(BackendMisconfiguredException.class, () -> CudaLibraries.kernelsLibrary(
                    name -> name.equals("seq4j.native.cuda") ? bad : null), bad);
            assertEquals("-Dseq4j.native.cuda=" + bad + ": names no file (expected the path of a libseq4j_cuda.so, or "
                    + "unset for the one in the jar)", e.getMessage());
        }
        Path file = kernels(13);
        assertEquals(file, CudaLibraries.kernelsLibrary(name -> name.equals("seq4j.native.cuda") ? file.toString() : null)
                .path());
    }
}
