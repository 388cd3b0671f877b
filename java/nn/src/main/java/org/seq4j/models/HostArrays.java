// The Java arrays that a model's inputs and results pass through on the host: their lengths as exact products,
// refused by name when one array cannot hold them (an int product wraps to a negative or a short length, which
// then fails far from its cause, or after the device has done all the work), and their bytes, for a check against the
// heap (JavaHeap) before the work.
package org.seq4j.models;

import org.seq4j.internal.JavaHeap;

final class HostArrays {
    /**
     * The most elements one Java array may have here: HotSpot refuses lengths a few below Integer.MAX_VALUE ("Requested
     * array size exceeds VM limit", an OutOfMemoryError however much memory is free), as the JDK's own growth code
     * assumes (its soft maximum is Integer.MAX_VALUE - 8).
     */
    static final int MAX_LENGTH = Integer.MAX_VALUE - 8;

    private HostArrays() {
    }

    /**
     * The product of {@code factors} as an array length.
     *
     * @param op      the public operation, for the message
     * @param what    what the array holds, naming the factors in order, e.g. {@code "ids (length x N)"}
     * @param factors the non-negative extents
     * @return their product
     * @throws IllegalArgumentException if the product exceeds {@link #MAX_LENGTH}
     */
    static int length(String op, String what, int... factors) {
        long n = 1;
        for (int f : factors) {
            n *= f;                        // both at most 2^31 - 1 here: no long overflow
            if (n > MAX_LENGTH) {
                StringBuilder product = new StringBuilder();
                for (int g : factors) {
                    product.append(product.isEmpty() ? "" : " x ").append(g);
                }
                throw new IllegalArgumentException(op + ": " + what + " = " + product + " is more than the "
                        + MAX_LENGTH + " elements one Java array holds; ask for fewer at a time");
            }
        }
        return (int) n;
    }

    /**
     * The bytes of an int[rows][cols] (or float): the outer array of references and its rows, saturated at
     * Long.MAX_VALUE.
     *
     * @param rows the outer length
     * @param cols each row's length
     * @return the bytes, for JavaHeap.fits
     */
    static long rowsBytes(long rows, long cols) {
        long sum = JavaHeap.arrayBytes(rows, 4) + JavaHeap.multiply(rows, JavaHeap.arrayBytes(cols, 4));
        return sum < 0 ? Long.MAX_VALUE : sum;
    }
}
