// The built libseq4j_cuda.so and its bindings, without a GPU: every function of seq4j_cuda.h is exported
// and bound, the library's host code runs, and a launch on a machine without a driver comes back as a
// CUDA error status (not a crash), which is what CudaBackend's checks turn into exceptions.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.seq4j.bindings.cuda.seq4j_cuda_h;
import org.seq4j.bindings.cudart.cudart_h;

class CudaKernelsLibraryTest {
    static final Path HEADER = Path.of("../../native/cuda/seq4j_cuda.h");
    static final Path BUILT = Path.of("target/classes", CudaLibraries.KERNELS_FOLDER, CudaLibraries.KERNELS);

    /** The function names seq4j_cuda.h declares. */
    static List<String> declaredFunctions() throws IOException {
        Matcher m = Pattern.compile("\\b(seq4j_cuda_[a-z0-9_]+)\\(").matcher(Files.readString(HEADER));
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void everyFunctionOfTheHeaderIsBound() throws IOException {
        Set<String> bound = Arrays.stream(seq4j_cuda_h.class.getMethods())
                .filter(x -> Modifier.isStatic(x.getModifiers())).map(Method::getName).collect(Collectors.toSet());
        List<String> declared = declaredFunctions();
        assertEquals(41, declared.size(), "functions in " + HEADER + " (update this count with the header)");
        for (String f : declared) {
            assertTrue(bound.contains(f), f + " is declared in seq4j_cuda.h but has no binding: add it to "
                    + "bindings/jextract/seq4j_cuda.args and rerun scripts/gen-bindings");
        }
    }

    @Test
    void theBuiltLibraryExportsEveryFunctionAndRunsWithoutAGpu() throws IOException {
        assumeTrue(Files.isRegularFile(BUILT), BUILT + " was not built (no nvcc when the native build ran)");
        assumeTrue(CudaLibraries.driverProblem().isPresent(), "a driver is present: launches here would be real");
        CudaLibraries.Probe probe = CudaLibraries.defaultProbe();
        String cudartName = "libcudart.so." + CudaLibraries.cudartMajorOf(BUILT).orElse(CudaLibraries.DEFAULT_MAJOR);
        Path cudart = CudaLibraries.searchFolders(probe).stream().map(f -> Path.of(f, cudartName))
                .filter(Files::isRegularFile).findFirst().orElse(null);
        assumeTrue(cudart != null, cudartName + " is not installed here, so the kernels library cannot be loaded");

        System.load(cudart.toAbsolutePath().toString());
        System.load(BUILT.toAbsolutePath().toString());
        SymbolLookup loaded = SymbolLookup.loaderLookup();
        for (String f : declaredFunctions()) {
            assertTrue(loaded.find(f).isPresent(), f + " is declared in seq4j_cuda.h but not exported by " + BUILT);
        }

        String info = Cuda.string(seq4j_cuda_h.seq4j_cuda_info(), "");
        assertTrue(info.startsWith("seq4j_cuda 0.1 (nvcc ") && info.contains("sm_90"), info);

        // nothing to do launches nothing: success even without a driver
        assertEquals(0, seq4j_cuda_h.seq4j_cuda_fill_f32(MemorySegment.NULL, 0, 1f, MemorySegment.NULL));
        // a real launch without a driver fails cleanly with a named CUDA error
        int status = seq4j_cuda_h.seq4j_cuda_fill_f32(MemorySegment.ofAddress(1 << 20), 16, 1f, MemorySegment.NULL);
        assertNotEquals(0, status, "a launch cannot succeed without a driver");
        String name = Cuda.errorName(status);
        assertTrue(name.startsWith("cudaError"), "status " + status + " has a CUDA error name: " + name);
        // and the runtime's own first call agrees (the failed initialisation sticks: every call reports it)
        assertEquals(status, cudart_h.cudaGetDeviceCount(java.lang.foreign.Arena.ofAuto().allocate(4)),
                "cudaGetDeviceCount reports the same error");
    }
}
