// CpuKernelsLibrary's checks of its settings, before the C kernels load (the rest of the loader is exercised by every
// OpenBLAS backend the other tests create).
package org.seq4j.backend.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.seq4j.backend.BackendMisconfiguredException;

class CpuKernelsLibraryTest {
    /** SEQ4J_POOL_WORKERS, read by the C pool with atoi: what atoi would misread is refused before the library loads. */
    @Test
    void poolWorkersSettingsThePoolCannotStartAreRefused() {
        for (String bad : new String[] {"abc", "2x", "-1", "64", "1e3"}) {
            var e = assertThrows(BackendMisconfiguredException.class,
                    () -> CpuKernelsLibrary.poolWorkersSetting(bad), bad);
            assertTrue(e.getMessage().startsWith("SEQ4J_POOL_WORKERS=" + bad + ": "), e.getMessage());
        }
        for (String good : new String[] {null, "", "0", "1", " 3", "63"}) {
            CpuKernelsLibrary.poolWorkersSetting(good);
        }
    }
}
