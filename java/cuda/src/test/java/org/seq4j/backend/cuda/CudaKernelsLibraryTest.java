// The built libseq4j_cuda.so and its bindings, without a GPU: every function of seq4j_cuda.h is exported
// and bound, the library's host code runs, every entry point returns before launching on empty extents,
// and a launch on a machine without a driver comes back as a CUDA error status (not a crash), which is
// what CudaBackend's checks turn into exceptions.
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

    /** Loads the CUDA runtime and the built kernels into this JVM, or skips the test saying why it cannot. */
    static void loadWithoutADriver() {
        assumeTrue(Files.isRegularFile(BUILT), BUILT + " was not built (no nvcc when the native build ran)");
        assumeTrue(CudaLibraries.driverProblem().isPresent(), "a driver is present: launches here would be real");
        CudaLibraries.Probe probe = CudaLibraries.defaultProbe();
        String cudartName = "libcudart.so." + CudaLibraries.cudartMajorOf(BUILT).orElse(CudaLibraries.DEFAULT_MAJOR);
        Path cudart = CudaLibraries.searchFolders(probe).stream().map(f -> Path.of(f, cudartName))
                .filter(Files::isRegularFile).findFirst().orElse(null);
        assumeTrue(cudart != null, cudartName + " is not installed here, so the kernels library cannot be loaded");
        System.load(cudart.toAbsolutePath().toString());
        System.load(BUILT.toAbsolutePath().toString());
    }

    /**
     * A grid of 0 blocks is a launch error, so every entry point must return before launching when its
     * extents are empty. Without a driver any launch fails, so a 0 here proves that nothing was launched.
     * Not listed: the three that still launch on empty input to write their scalar (softmax_xent_forward,
     * mse_forward and sum_of_squares write 0), and the embeddings with m > 0 and d == 0, which still check
     * their ids.
     */
    @Test
    void everyEntryPointReturnsBeforeLaunchingOnEmptyExtents() {
        loadWithoutADriver();
        MemorySegment p = MemorySegment.NULL;
        int[] statuses = {
            seq4j_cuda_h.seq4j_cuda_fill_f32(p, 0, 1f, p),
            seq4j_cuda_h.seq4j_cuda_fill_i32(p, 0, 1, p),
            seq4j_cuda_h.seq4j_cuda_scale(p, 0, 2f, p),
            seq4j_cuda_h.seq4j_cuda_axpy(p, p, 0, 2f, p),
            seq4j_cuda_h.seq4j_cuda_mul(p, p, p, 0, p),
            seq4j_cuda_h.seq4j_cuda_swap_axes01(p, p, 0, 3, 4, p),
            seq4j_cuda_h.seq4j_cuda_swap_axes01(p, p, 3, 4, 0, p),
            seq4j_cuda_h.seq4j_cuda_concat_columns(p, p, p, 0, 2, 3, p),
            seq4j_cuda_h.seq4j_cuda_concat_columns(p, p, p, 5, 0, 0, p),
            seq4j_cuda_h.seq4j_cuda_split_columns(p, p, p, 0, 2, 3, p),
            seq4j_cuda_h.seq4j_cuda_add_bias(p, p, 0, 7, p),
            seq4j_cuda_h.seq4j_cuda_add_bias(p, p, 7, 0, p),
            seq4j_cuda_h.seq4j_cuda_sum_rows(p, p, 0f, 9, 0, p),
            seq4j_cuda_h.seq4j_cuda_sigmoid_forward(p, p, 0, p),
            seq4j_cuda_h.seq4j_cuda_sigmoid_backward(p, p, p, 0, p),
            seq4j_cuda_h.seq4j_cuda_tanh_forward(p, p, 0, p),
            seq4j_cuda_h.seq4j_cuda_tanh_backward(p, p, p, 0, p),
            seq4j_cuda_h.seq4j_cuda_softmax_forward(p, p, 0, 13, p),
            seq4j_cuda_h.seq4j_cuda_softmax_forward(p, p, 13, 0, p),
            seq4j_cuda_h.seq4j_cuda_softmax_backward(p, p, p, 0, 13, p),
            seq4j_cuda_h.seq4j_cuda_lstm_cell_forward(p, p, p, p, 0, 128, p),
            seq4j_cuda_h.seq4j_cuda_lstm_cell_forward(p, p, p, p, 128, 0, p),
            seq4j_cuda_h.seq4j_cuda_lstm_cell_backward(p, p, p, p, p, p, p, p, 0, 128, p),
            seq4j_cuda_h.seq4j_cuda_embedding_forward(p, p, p, p, 0, 13, 16, p),
            seq4j_cuda_h.seq4j_cuda_embedding_forward(p, p, p, p, 0, 13, 0, p),
            seq4j_cuda_h.seq4j_cuda_embedding_backward(p, p, p, p, 0, 13, 16, p),
            seq4j_cuda_h.seq4j_cuda_softmax_xent_backward(p, p, p, p, p, 1f, 0, 13, p),
            seq4j_cuda_h.seq4j_cuda_mse_backward(p, p, p, 0, 1f, p),
            seq4j_cuda_h.seq4j_cuda_attention_weight_forward(p, p, p, 0, 4, 8, p),
            seq4j_cuda_h.seq4j_cuda_attention_weight_forward(p, p, p, 7, 0, 8, p),
            seq4j_cuda_h.seq4j_cuda_attention_weight_backward(p, p, p, p, p, p, 7, 0, 8, p),
            seq4j_cuda_h.seq4j_cuda_attention_weight_backward(p, p, p, p, p, p, 7, 4, 0, p),
            seq4j_cuda_h.seq4j_cuda_weight_sum_forward(p, p, p, 7, 0, 8, p),
            seq4j_cuda_h.seq4j_cuda_weight_sum_forward(p, p, p, 7, 4, 0, p),
            seq4j_cuda_h.seq4j_cuda_weight_sum_backward(p, p, p, p, p, 0, 4, 8, p),
            seq4j_cuda_h.seq4j_cuda_dropout_mask(p, 0, 0.5f, 42L, p),
            seq4j_cuda_h.seq4j_cuda_sgd_update(p, p, 0, 0.1f, p),
            seq4j_cuda_h.seq4j_cuda_momentum_update(p, p, p, 0, 0.1f, 0.9f, p),
            seq4j_cuda_h.seq4j_cuda_adagrad_update(p, p, p, 0, 0.1f, 1e-7f, p),
            seq4j_cuda_h.seq4j_cuda_rmsprop_update(p, p, p, 0, 0.1f, 0.99f, 1e-7f, p),
            seq4j_cuda_h.seq4j_cuda_adam_update(p, p, p, p, 0, 0.001f, 0.9f, 0.999f, 1e-8f, 0, p),
            seq4j_cuda_h.seq4j_cuda_adam_update(p, p, p, p, 0, 0.001f, 0.9f, 0.999f, 1e-8f, 1, p),
            seq4j_cuda_h.seq4j_cuda_argmax_rows(p, p, 0, 13, p),
            seq4j_cuda_h.seq4j_cuda_argmax_rows(p, p, 13, 0, p),
        };
        for (int i = 0; i < statuses.length; i++) {
            assertEquals(0, statuses[i], "call " + i + " launched on empty extents: status " + statuses[i] + " ("
                    + Cuda.errorName(statuses[i]) + ")");
        }
        // the zeros above are not vacuous: an entry point that does launch on empty input fails here
        assertNotEquals(0, seq4j_cuda_h.seq4j_cuda_sum_of_squares(p, p, p, 0, p),
                "sum_of_squares launches its finishing kernel for n = 0 (it writes 0), which fails without a driver");
    }

    /**
     * Every launch in native/cuda/*.cu comes after a clear_stale_error() in the same function (or macro): the status
     * read right after it (cudaGetLastError) is then the launch's own, not an error that an earlier runtime call left
     * on the thread. The four GRU entry points once lacked it, so a GRU step right after a copyIn whose staging ring
     * had asked cudaEventQuery (which leaves "not ready" behind) failed with cudaErrorNotReady. Read from the
     * sources: no GPU needed.
     */
    @Test
    void everyLaunchClearsTheStaleErrorFirst() throws IOException {
        List<String> unguarded = new ArrayList<>();
        int launches = 0;
        try (var files = Files.list(HEADER.getParent())) {
            for (Path f : files.filter(x -> x.toString().endsWith(".cu")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                boolean cleared = false;
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    if (line.matches("^[A-Za-z_#].*\\(.*")) {   // a function, kernel or macro starts at column 0
                        cleared = false;
                    }
                    if (line.contains("clear_stale_error()")) {
                        cleared = true;
                    }
                    if (line.contains("<<<")) {
                        launches++;
                        if (!cleared) {
                            unguarded.add(f.getFileName() + ":" + (i + 1) + ": " + line.strip());
                        }
                    }
                }
            }
        }
        assertTrue(launches >= 20, "found only " + launches + " launches: the scan no longer sees them");
        assertEquals(List.of(), unguarded, "launches with no clear_stale_error() before them in their function");
    }

    @Test
    void theBuiltLibraryExportsEveryFunctionAndRunsWithoutAGpu() throws IOException {
        loadWithoutADriver();
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
