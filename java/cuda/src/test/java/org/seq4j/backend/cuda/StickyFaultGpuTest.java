// After a kernel's fault (cudaErrorIllegalAddress: sticky, the whole CUDA context dead) the backend says so: the call
// that meets it throws CudaException saying the context is now unusable (a cuBLAS call names the context's fault, not
// its own CUBLAS_STATUS_EXECUTION_FAILED), every later call throws IllegalStateException naming the fault and where it
// was first seen, and close() still runs. A dead context is the process's, so each case runs in a child JVM
// (StickyFaultMain), which faults its context on purpose. Skipped, with the reason, where the backend does not load.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

class StickyFaultGpuTest {
    @TempDir
    Path scratch;

    @BeforeEach
    void needsAGpu() {
        TestBackends.get("cuda");   // skips the test, with the reason, where cuda does not load
    }

    @ParameterizedTest
    @ValueSource(strings = {"fill", "gemm", "allocate", "copyIn"})
    void aFaultedContextIsReportedOnceAndThenRefusesEveryCall(String firstCall) throws Exception {
        ChildJvm.Result r = ChildJvm.run(scratch, Duration.ofMinutes(2), List.of(), StickyFaultMain.class.getName(),
                firstCall);
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("first: CudaException: ") && r.out().contains("the CUDA context is now unusable"),
                r.toString());
        if (firstCall.equals("gemm")) {
            assertTrue(r.out().contains("because the CUDA context had faulted"), r.toString());
        }
        assertTrue(r.out().contains("later: IllegalStateException: backend cuda is unusable: its CUDA context faulted"
                + " (cudaErrorIllegalAddress, first seen at "), r.toString());
        assertTrue(r.out().contains("closed: IllegalStateException: synchronize: backend cuda is closed"), r.toString());
    }
}
