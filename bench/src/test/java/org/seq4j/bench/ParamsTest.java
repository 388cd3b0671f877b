// Params: the benchmarks' @Param values read, and a bad one refused in a message naming the parameter, the value
// and the form expected (not JMH's bare "No enum constant" or an array index out of bounds).
package org.seq4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.seq4j.backend.PackedMatrix;

class ParamsTest {

    private static String refusal(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void dimsReadsAsManyNumbersAsTheFormHasParts() {
        assertArrayEquals(new int[] {2240, 2600, 650}, Params.dims("mnk", "2240x2600x650", "MxNxK"));
        assertArrayEquals(new int[] {64, 650}, Params.dims("nh", "64x650", "NxH"));
        assertArrayEquals(new int[] {128, 128, 512}, Params.dims("mnk", "128x128x512T", "MxNxK[T]"));
        assertArrayEquals(new int[] {128, 512, 128}, Params.dims("mnk", "128x512x128", "MxNxK[T]"));
    }

    @Test
    void dimsRefusesAMissingZeroOrNonNumericPart() {
        String expected = "bad -p mnk=12x12: expected MxNxK, 3 positive whole numbers joined by x";
        assertEquals(expected, refusal(() -> Params.dims("mnk", "12x12", "MxNxK")));
        for (String v : new String[] {"12x0x5", "12x-1x5", "12xx5", "12x5x5x", "12xax5", "", "99999999999x1x1"}) {
            assertEquals("bad -p mnk=" + v + ": expected MxNxK, 3 positive whole numbers joined by x",
                    refusal(() -> Params.dims("mnk", v, "MxNxK")));
        }
        assertEquals("bad -p mnk=12x12x12T: expected MxNxK, 3 positive whole numbers joined by x",
                refusal(() -> Params.dims("mnk", "12x12x12T", "MxNxK")));
        assertEquals("bad -p mnk=1x1024T: expected MxNxK or MxNxKT (B transposed), 3 positive whole numbers joined by x",
                refusal(() -> Params.dims("mnk", "1x1024T", "MxNxK[T]")));
    }

    @Test
    void choiceNamesTheValuesItTakes() {
        assertEquals(PackedMatrix.Precision.BF16, Params.choice("precision", "BF16", PackedMatrix.Precision.class));
        assertEquals("bad -p precision=BF17: expected one of F32, BF16",
                refusal(() -> Params.choice("precision", "BF17", PackedMatrix.Precision.class)));
        assertEquals("normal", Params.choice("state", "normal", "normal", "subnormal"));
        assertEquals("bad -p state=weird: expected one of normal, subnormal",
                refusal(() -> Params.choice("state", "weird", "normal", "subnormal")));
    }

    /** A buffer of part of a row pair: the ops moved 8KiB of 12KiB, and GB/s divided 12KiB (1.5x the bandwidth). */
    @Test
    void aBandwidthBufferIsAWholeNumberOfRowPairs() {
        for (String v : new String[] {"12KiB", "15KiB", "4KiB", "1000B"}) {
            MemoryBandwidthBench bench = new MemoryBandwidthBench();
            bench.buffer = v;
            assertEquals("bad -p buffer=" + v + ": expected a multiple of 8KiB (an even number of rows of 1024 floats)",
                    refusal(bench::setUp));
        }
    }

    @Test
    void positiveAndBytes() {
        assertEquals(650, Params.positive("h", "650"));
        for (String v : new String[] {"0", "-3", "abc", "6.5", ""}) {
            assertEquals("bad -p h=" + v + ": expected a whole number of at least 1", refusal(() -> Params.positive("h", v)));
        }
        assertEquals(0.5, Params.positiveNumber("range", "0.5"));
        for (String v : new String[] {"0", "-3", "abc", "NaN", "Infinity", "3f", ""}) {
            assertEquals("bad -p range=" + v + ": expected a number above 0", refusal(() -> Params.positiveNumber("range", v)));
        }
        assertEquals(16L << 20, Params.bytes("buffer", "16MiB"));
        assertEquals(512, Params.bytes("buffer", "512"));
        for (String v : new String[] {"12XB", "0MiB", "MiB", "1.5MiB"}) {
            assertEquals("bad -p buffer=" + v + ": expected a whole number of B, KiB, MiB or GiB, e.g. 16MiB",
                    refusal(() -> Params.bytes("buffer", v)));
        }
    }
}
