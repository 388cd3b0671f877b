// How much of the Java heap host arrays may still take: a check before a public call allocates its results (or starts
// work whose results it must then allocate), so that a request the heap cannot hold is one IllegalArgumentException
// with the numbers, instead of an OutOfMemoryError out of the call, or minutes of work before one.
package org.seq4j.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;

/**
 * The Java heap as a budget for host arrays: generation's and beam search's results, an .npz array's values (in a
 * package the module does not export: a helper of seq4j-nn, not API). What is free is the maximum less what is in use; where that says no, the use left after the last
 * collection is taken instead, so that garbage not yet collected does not refuse a request a collection would make
 * room for. That estimate errs on the generous side (live data may have grown since): a request it lets through that
 * the heap still cannot hold ends in an OutOfMemoryError, as before the check; one it refuses could not be held.
 */
public final class JavaHeap {
    private JavaHeap() {
    }

    /**
     * About how many bytes of heap are free: the maximum less what is in use now, garbage included.
     *
     * @return the bytes, at most Runtime.maxMemory()
     */
    public static long available() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /**
     * The maximum less the heap pools' use after their last collection (java.lang.management; an allocation or two
     * of its own), or available() where no pool reports one.
     */
    public static long availableAfterCollection() {
        long live = 0;
        boolean known = false;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage after = pool.getType() == MemoryType.HEAP && pool.isValid() ? pool.getCollectionUsage() : null;
            if (after != null) {
                live += after.getUsed();
                known = true;
            }
        }
        return known ? Math.max(available(), Runtime.getRuntime().maxMemory() - live) : available();
    }

    /**
     * The bytes of one Java array of {@code length} elements of {@code elementBytes} each: a 16-byte header and the
     * elements, rounded up to 8 bytes (HotSpot's layout; a little more than an exact count for one with compressed
     * class pointers off does not matter here). Saturates at Long.MAX_VALUE.
     *
     * @param length       the elements, >= 0
     * @param elementBytes bytes per element (4 for int, float and compressed references, 8 for double)
     * @return the bytes
     */
    public static long arrayBytes(long length, int elementBytes) {
        long data = multiply(length, elementBytes);
        return data > Long.MAX_VALUE - 24 ? Long.MAX_VALUE : (16 + data + 7) & ~7L;
    }

    /**
     * a * b, or Long.MAX_VALUE when it would overflow (a request that large is refused either way).
     *
     * @param a >= 0
     * @param b >= 0
     * @return the product, saturated
     */
    public static long multiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }

    /**
     * Whether {@code bytes} of heap are free: now, or once the garbage of the last collection's kind is collected (see
     * the class comment). The second look, through java.lang.management, is taken only where the first says no.
     *
     * @param bytes what a request needs
     * @return true if they fit
     */
    public static boolean fits(long bytes) {
        return bytes <= available() || bytes <= availableAfterCollection();
    }

    /**
     * The refusal of a request for {@code bytes} of heap that do not fit ({@link #fits} said no), before anything is
     * allocated; built only then, so the check costs a call that fits nothing.
     *
     * @param op    the public call, for the message ("Rnnlm.generate")
     * @param what  what the bytes hold, with the sizes that made them ("the ids int[N=1][length=1500000000]")
     * @param bytes the bytes it needs
     * @return an IllegalArgumentException naming op, what, the bytes needed and the bytes free, to throw
     */
    public static IllegalArgumentException refusal(String op, String what, long bytes) {
        return new IllegalArgumentException(op + ": " + what + " need about " + bytes + " bytes of Java heap, but"
                + " only about " + availableAfterCollection() + " of its maximum " + Runtime.getRuntime().maxMemory()
                + " are free;"
                + " ask for less at a time, or give the JVM more heap (-Xmx)");
    }
}
