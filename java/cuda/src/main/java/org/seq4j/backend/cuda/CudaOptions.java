// The CUDA backend's system properties, read once at construction and checked: a value that is not what the
// option takes is a BackendMisconfiguredException naming the property, before any library loads. They were
// read with Integer.getInteger / Long.getLong / Boolean.getBoolean, which turn a typo into the default without a
// word: -Dseq4j.cuda.device=1x ran on GPU 0, -Dseq4j.cuda.sync=yes did not synchronise, a negative cache size
// was taken as given.
package org.seq4j.backend.cuda;

import java.util.Locale;
import java.util.function.Function;
import org.seq4j.backend.BackendMisconfiguredException;

/**
 * The CUDA backend's options.
 *
 * @param device         -Dseq4j.cuda.device: the GPU index, 0 or more (default 0)
 * @param tf32           -Dseq4j.cuda.tf32: TF32 tensor cores for GEMM (true or false, default false)
 * @param sync           -Dseq4j.cuda.sync: wait after every launch (true or false, default false)
 * @param poolCacheBytes -Dseq4j.cuda.poolCacheBytes: unused device memory the pool keeps, 0 or more; -1 when unset
 *                       (a quarter of the GPU's memory)
 * @param stagingBytes   -Dseq4j.cuda.stagingBytes: the pinned staging ring's largest size, at least
 *                       {@link #STAGING_START} (default 64 MiB)
 */
record CudaOptions(int device, boolean tf32, boolean sync, long poolCacheBytes, long stagingBytes) {

    /** The staging ring's first size, and so the least -Dseq4j.cuda.stagingBytes may ask for. */
    static final long STAGING_START = 1 << 20;

    /** The options the JVM's system properties set. */
    static CudaOptions fromProperties() {
        return from(System::getProperty);
    }

    /** The options the given lookup sets (for tests). */
    static CudaOptions from(Function<String, String> properties) {
        return new CudaOptions(
                (int) number(properties, "seq4j.cuda.device", 0, 0, Integer.MAX_VALUE, "a GPU index, 0 or more"),
                bool(properties, "seq4j.cuda.tf32"),
                bool(properties, "seq4j.cuda.sync"),
                number(properties, "seq4j.cuda.poolCacheBytes", -1, 0, Long.MAX_VALUE, "a byte count, 0 or more"),
                number(properties, "seq4j.cuda.stagingBytes", 64L << 20, STAGING_START, Long.MAX_VALUE,
                        "a byte count of at least " + STAGING_START));
    }

    private static long number(Function<String, String> properties, String key, long unset, long min, long max,
                               String expected) {
        String v = properties.apply(key);
        if (v == null) {
            return unset;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new BackendMisconfiguredException("-D" + key + "=" + v + ": expected " + expected);
    }

    private static boolean bool(Function<String, String> properties, String key) {
        String v = properties.apply(key);
        if (v == null) {
            return false;
        }
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new BackendMisconfiguredException("-D" + key + "=" + v + ": expected true or false");
        };
    }
}
