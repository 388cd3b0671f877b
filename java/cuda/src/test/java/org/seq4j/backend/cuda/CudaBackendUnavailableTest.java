// The CUDA backend on a machine without an NVIDIA driver (the build machines): it must refuse to load with
// a message that names what is missing, through every door (constructor, Backends, TestBackends' skip).
// Where a driver is present these tests skip; the GPU session runs the conformance suites instead.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.Backends;
import org.seq4j.bindings.cuda.seq4j_cuda_h;

class CudaBackendUnavailableTest {

    @BeforeEach
    void onlyWithoutADriver() {
        assumeTrue(CudaLibraries.driverProblem().isPresent(),
                "an NVIDIA driver (libcuda.so.1) loads here, so the CUDA backend may load; the GPU suites cover it");
    }

    @Test
    void constructingItSaysTheDriverIsMissing() {
        var e = assertThrows(BackendUnavailableException.class, CudaBackend::new);
        String m = e.getMessage();
        assertTrue(m.contains("libcuda.so.1 (the NVIDIA driver) cannot be loaded"), m);
        assertTrue(m.contains("install the NVIDIA driver"), "says what to do: " + m);
    }

    @Test
    void aConfiguredLibraryFolderIsSearchedAndNamed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) {
        // BackendConfig's "cuda" library reaches the backend (it was once documented and never read)
        var config = new org.seq4j.backend.BackendConfig(0, 0, java.util.Map.of(org.seq4j.backend.BackendConfig.CUDA,
                folder));
        var e = assertThrows(BackendUnavailableException.class, () -> new CudaBackendProvider().create(config));
        assertTrue(e.getMessage().contains(folder.toString()), "the folder searched is named: " + e.getMessage());
        var selected = assertThrows(BackendUnavailableException.class, () -> Backends.select(config));
        assertTrue(selected.getMessage().contains("configured with the library " + folder), selected.getMessage());
    }

    @Test
    void askingAgainGivesTheSameReasonWithoutSearchingAgain() {
        String first = assertThrows(BackendUnavailableException.class, CudaBackend::new).getMessage();
        String second = assertThrows(BackendUnavailableException.class, () -> Backends.create("cuda")).getMessage();
        assertEquals(first, second);
    }

    @Test
    void probeListsCudaAsUnavailableWithTheReason() {
        var status = Backends.probe().stream().filter(s -> s.name().equals("cuda")).findFirst().orElseThrow();
        assertFalse(status.available(), "cuda cannot be available without a driver");
        assertTrue(status.detail().contains("libcuda.so.1"), status.detail());
        assertEquals("cuda", Backends.names().getFirst(), "cuda is tried first by select()");
    }

    /**
     * Every operation that checks ids has a kernel that checks them on the device (the gathered lstmSequenceForward
     * had none, and every model with an embedding before an LSTM stopped on the first GPU it met).
     */
    @Test
    void everyOperationThatChecksIdsHasADeviceSideCheck() {
        assertTrue(CudaBackend.idOperations().contains("lstmSequenceForward"), CudaBackend.idOperations().toString());
        for (String op : CudaBackend.idOperations()) {
            int bit = CudaBackend.idCheckBit(op, "ids");
            assertEquals(1, Integer.bitCount(bit), op + ": one kernel's bit");
        }
        assertThrows(IllegalStateException.class, () -> CudaBackend.idCheckBit("gemm", "ids"));
    }

    @Test
    void idErrorsAreWordedLikeTheHostCheck() {
        int[] record = new int[seq4j_cuda_h.SEQ4J_CUDA_ERROR_INTS()];
        record[0] = seq4j_cuda_h.SEQ4J_CUDA_ERR_EMBEDDING_FORWARD() | seq4j_cuda_h.SEQ4J_CUDA_ERR_XENT_BACKWARD();
        System.arraycopy(new int[] {1, 13, 2, 13}, 0, record, 1, 4);        // kernel 0: ids[2] = 13, bound 13
        System.arraycopy(new int[] {1, -2, 5, 10000}, 0, record, 13, 4);    // kernel 3: labels[5] = -2
        String m = CudaBackend.idErrorMessage(record);
        assertTrue(m.contains("embeddingForward: ids[2] = 13 is outside [0, 13) (the number of rows of the table)"), m);
        assertTrue(m.contains("softmaxCrossEntropyBackward: labels[5] = -2 is outside [0, 10000) and is not the "
                + "ignore label -1 (the vocabulary size)"), m);
        assertFalse(m.contains("embeddingBackward"), m);
        // the embedding kernel queued by the gathered lstmSequenceForward (AbstractBackend's default here) is named
        // after the call the user made; after both calls, after both
        String gathered = CudaBackend.idErrorMessage(record, List.of(Set.of("lstmSequenceForward")));
        assertTrue(gathered.startsWith("lstmSequenceForward: ids[2] = 13 is outside [0, 13)"), gathered);
        String both = CudaBackend.idErrorMessage(record,
                List.of(new TreeSet<>(Set.of("lstmSequenceForward", "embeddingForward"))));
        assertTrue(both.startsWith("embeddingForward or lstmSequenceForward: ids[2] = 13"), both);
    }
}
