// The -Dseq4j.cuda.* options: defaults when unset, and a value the option does not take refused with one line
// naming the property (they were read with Integer.getInteger / Boolean.getBoolean / Long.getLong, which turned
// a typo into the default: -Dseq4j.cuda.device=1x ran on GPU 0). No GPU needed: the options are read before
// anything loads.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.BackendMisconfiguredException;

class CudaOptionsTest {

    @Test
    void unsetOptionsAreTheDefaults() {
        assertEquals(new CudaOptions(0, false, false, -1, 64L << 20), CudaOptions.from(k -> null));
    }

    @Test
    void setOptionsAreRead() {
        Map<String, String> p = Map.of("seq4j.cuda.device", "1", "seq4j.cuda.tf32", "TRUE", "seq4j.cuda.sync", " true",
                "seq4j.cuda.poolCacheBytes", "0", "seq4j.cuda.stagingBytes", "1048576");
        assertEquals(new CudaOptions(1, true, true, 0, 1 << 20), CudaOptions.from(p::get));
    }

    @Test
    void theBackendRefusesABadOptionBeforeLookingForAGpu() {
        assertEquals("-Dseq4j.cuda.sync=yes: expected true or false",
                refusedWith("seq4j.cuda.sync", "yes", () -> new CudaBackend(0).close()));
        assertEquals("-Dseq4j.cuda.device=1x: expected a GPU index, 0 or more",
                refusedWith("seq4j.cuda.device", "1x", () -> new CudaBackend().close()));
    }

    /** The message of the BackendMisconfiguredException that {@code call} throws with the property set. */
    private static String refusedWith(String key, String value, org.junit.jupiter.api.function.Executable call) {
        String saved = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return assertThrows(BackendMisconfiguredException.class, call).getMessage();
        } finally {
            if (saved != null) {
                System.setProperty(key, saved);
            } else {
                System.clearProperty(key);
            }
        }
    }

    @Test
    void aValueTheOptionDoesNotTakeIsRefusedNamingIt() {
        Map<String, String> bad = Map.of(
                "seq4j.cuda.device", "-Dseq4j.cuda.device=1x: expected a GPU index, 0 or more",
                "seq4j.cuda.tf32", "-Dseq4j.cuda.tf32=1x: expected true or false",
                "seq4j.cuda.sync", "-Dseq4j.cuda.sync=1x: expected true or false",
                "seq4j.cuda.poolCacheBytes", "-Dseq4j.cuda.poolCacheBytes=1x: expected a byte count, 0 or more",
                "seq4j.cuda.stagingBytes", "-Dseq4j.cuda.stagingBytes=1x: expected a byte count of at least 1048576");
        for (var c : bad.entrySet()) {
            var e = assertThrows(BackendMisconfiguredException.class,
                    () -> CudaOptions.from(k -> k.equals(c.getKey()) ? "1x" : null));
            assertEquals(c.getValue(), e.getMessage());
        }
        for (String[] c : new String[][] {{"seq4j.cuda.device", "-1"}, {"seq4j.cuda.device", "2147483648"},
                {"seq4j.cuda.poolCacheBytes", "-5"}, {"seq4j.cuda.stagingBytes", "1048575"},
                {"seq4j.cuda.sync", "yes"}, {"seq4j.cuda.tf32", ""}}) {
            var e = assertThrows(BackendMisconfiguredException.class,
                    () -> CudaOptions.from(k -> k.equals(c[0]) ? c[1] : null), c[0] + "=" + c[1]);
            assertEquals(true, e.getMessage().startsWith("-D" + c[0] + "=" + c[1] + ": expected "), e.getMessage());
        }
    }
}
