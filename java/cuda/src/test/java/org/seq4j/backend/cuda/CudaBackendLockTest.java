// Every kernel entry of the CUDA backend holds the backend's lock (no GPU needed: read from the class). The class
// comment promises it, and the calls rely on it: the host scalars, the staging ring and the id-check records are
// shared, the device is made current and the stream read under it, and close() takes it. The four GRU kernels
// once lacked it, and read the stream field without making the device current on the calling thread.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.AbstractBackend;

class CudaBackendLockTest {

    @Test
    void everyKernelEntryHoldsTheBackendsLock() {
        List<String> unlocked = new ArrayList<>();
        int kernels = 0;
        for (Method m : CudaBackend.class.getDeclaredMethods()) {
            boolean entry = m.getName().endsWith("K") && overridesAbstractBackend(m)
                    || m.getName().equals("synchronize") || m.getName().equals("checkDeviceIds");
            if (entry && !m.isSynthetic() && !m.isBridge()) {
                kernels++;
                if (!Modifier.isSynchronized(m.getModifiers())) {
                    unlocked.add(m.getName());
                }
            }
        }
        assertTrue(kernels > 40, "found only " + kernels + " kernel methods: the test no longer sees them");
        assertEquals(List.of(), unlocked, "CudaBackend methods that run without the backend's lock");
    }

    private static boolean overridesAbstractBackend(Method m) {
        try {
            AbstractBackend.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
