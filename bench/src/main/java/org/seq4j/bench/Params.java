// Reads the benchmarks' @Param values (all declared as String), refusing a bad one with a message that names the
// parameter, the value given and the form expected: JMH's own conversion would say only "No enum constant
// ...Precision.BF17" or "For input string", and a shape with a part missing failed on an array index.
package org.seq4j.bench;

import java.util.Arrays;
import java.util.stream.Collectors;

public final class Params {
    private Params() {
    }

    /**
     * "128x512x64" -> {128, 512, 64}: as many positive whole numbers, joined by x, as {@code form} (e.g. "MxNxK")
     * has parts. A form ending in "[T]" (PackedGemmBench's "MxNxK[T]") also takes the value with a T after it, and
     * returns the numbers without it.
     */
    public static int[] dims(String name, String value, String form) {
        boolean t = form.endsWith("[T]");
        String shape = t ? form.substring(0, form.length() - 3) : form;
        int count = shape.split("x").length;
        String expected = (t ? shape + " or " + shape + "T (B transposed)" : shape) + ", " + count
                + " positive whole numbers joined by x";
        String[] parts = (t && value.endsWith("T") ? value.substring(0, value.length() - 1) : value).split("x", -1);
        if (parts.length != count) {
            throw bad(name, value, expected);
        }
        int[] d = new int[count];
        for (int i = 0; i < count; i++) {
            d[i] = positiveOrNot(parts[i]);
            if (d[i] <= 0) {
                throw bad(name, value, expected);
            }
        }
        return d;
    }

    /** A whole number of at least 1. */
    public static int positive(String name, String value) {
        int v = positiveOrNot(value);
        if (v <= 0) {
            throw bad(name, value, "a whole number of at least 1");
        }
        return v;
    }

    /** A finite number above 0 (e.g. 3 or 0.5). */
    public static double positiveNumber(String name, String value) {
        double v;
        try {
            v = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw bad(name, value, "a number above 0");
        }
        if (!(v > 0) || Double.isInfinite(v) || !value.matches("[0-9.eE+-]+")) {
            throw bad(name, value, "a number above 0");
        }
        return v;
    }

    /** One of an enum's constants, by its name. */
    public static <E extends Enum<E>> E choice(String name, String value, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(value)) {
                return e;
            }
        }
        throw bad(name, value, "one of " + Arrays.stream(type.getEnumConstants()).map(Enum::name)
                .collect(Collectors.joining(", ")));
    }

    /** One of the words given. */
    public static String choice(String name, String value, String... allowed) {
        if (Arrays.asList(allowed).contains(value)) {
            return value;
        }
        throw bad(name, value, "one of " + String.join(", ", allowed));
    }

    /** A size in bytes: a whole number of B, KiB, MiB or GiB (e.g. 16MiB), at least 1 byte. */
    public static long bytes(String name, String value) {
        String expected = "a whole number of B, KiB, MiB or GiB, e.g. 16MiB";
        if (!value.matches("[0-9]+(B|KiB|MiB|GiB|K|M|G)?")) {
            throw bad(name, value, expected);
        }
        long v;
        try {
            v = Limits.bytes(value);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw bad(name, value, expected);
        }
        if (v <= 0) {
            throw bad(name, value, expected);
        }
        return v;
    }

    static IllegalArgumentException bad(String name, String value, String expected) {
        return new IllegalArgumentException("bad -p " + name + "=" + value + ": expected " + expected);
    }

    /** The number, or 0 where the text is none (or too large for an int). */
    private static int positiveOrNot(String s) {
        if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return 0;
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
