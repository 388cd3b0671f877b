// NumpyRandom against numbers numpy 2.4 printed on this machine (each list says the Python that made it).
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NumpyRandomTest {

    @Test
    void rawOutputsMatchMt19937() {
        // the reference MT19937 (and std::mt19937) seeded with 5489: np.random.RandomState(5489)
        //   .randint(0, 2**32, size=5, dtype=np.uint64) -> one 32-bit draw each
        NumpyRandom r = new NumpyRandom(5489);
        long[] want = {3499211612L, 581869302L, 3890346734L, 3586334585L, 545404204L};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], r.nextUint32(), "draw " + i);
        }
        // np.random.RandomState(1984).randint(0, 2**32, size=5, dtype=np.uint64)
        NumpyRandom s = new NumpyRandom(1984);
        long[] want1984 = {37605596L, 515143279L, 1283102463L, 1754924787L, 242296601L};
        for (int i = 0; i < want1984.length; i++) {
            assertEquals(want1984[i], s.nextUint32(), "draw " + i);
        }
    }

    @Test
    void randomSampleMatchesNumpy() {
        // np.random.seed(1984); [repr(float(v)) for v in np.random.random_sample(3)]; built from integer
        // draws with exact float64 arithmetic, so equal to the bit
        NumpyRandom r = new NumpyRandom(1984);
        assertEquals(0.00875572949604042, r.randomSample());
        assertEquals(0.2987455681607146, r.randomSample());
        assertEquals(0.0564140738326363, r.randomSample());
    }

    @Test
    void shuffleMatchesNumpyLegacyShuffle() {
        // idx = np.arange(50000); np.random.seed(1984); np.random.shuffle(idx); idx[:20], idx[-5:]
        int[] p = new NumpyRandom(1984).permutation(50_000);
        assertArrayEquals(new int[] {21921, 48929, 19568, 37778, 32165, 3139, 33032, 35227, 6231, 13547, 20161, 20189,
            18310, 15475, 35753, 7919, 36752, 29526, 44539, 34365}, Arrays.copyOf(p, 20));
        assertArrayEquals(new int[] {37960, 10009, 1779, 38655, 30319}, Arrays.copyOfRange(p, 49_995, 50_000));
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i], "a permutation holds every index once");
        }
        // idx = np.arange(10); np.random.seed(1984); np.random.shuffle(idx)
        int[] ten = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        new NumpyRandom(1984).shuffle(ten);
        assertArrayEquals(new int[] {9, 7, 4, 1, 5, 2, 0, 6, 8, 3}, ten);
        // np.random.seed(0); np.random.permutation(7), and the largest seed numpy takes, 2**32 - 1
        assertArrayEquals(new int[] {6, 2, 1, 3, 0, 5, 4}, new NumpyRandom(0).permutation(7));
        assertArrayEquals(new int[] {1, 5, 0, 6, 4, 2, 3}, new NumpyRandom(4294967295L).permutation(7));
    }

    @Test
    void randnMatchesNumpy() {
        // np.random.seed(773); np.random.randn(7) (seed 773 is the one the noisy-sine seed document uses)
        double[] want = {0.036896156640327075, 0.04694340396392475, -0.19061471543445538, 0.21476733635671205,
            1.890873651738764, 0.9996585449500085, 0.1006545278048115};
        double[] got = new NumpyRandom(773).randn(want.length);
        // the only inexact step is log(): fdlibm (StrictMath) and glibc may differ in the last bit, which
        // moves the result by a few ulp at most; 1e-14 relative is far tighter than any use of these values
        double atol = 0;
        double rtol = 1e-14;
        for (int i = 0; i < want.length; i++) {
            double diff = Math.abs(got[i] - want[i]);
            assertTrue(diff <= atol + rtol * Math.abs(want[i]),
                    "randn[" + i + "]: got " + got[i] + ", numpy " + want[i] + ", diff " + diff);
        }
    }

    @Test
    void randomIntervalStaysInRange() {
        NumpyRandom r = new NumpyRandom(7);
        for (long max : new long[] {0, 1, 2, 5, 1000, 0xFFFFFFFFL}) {
            for (int i = 0; i < 200; i++) {
                long v = r.randomInterval(max);
                assertTrue(v >= 0 && v <= max, "randomInterval(" + max + ") gave " + v);
            }
        }
    }

    @Test
    void seedOutsideNumpysRangeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NumpyRandom(-1));
        assertTrue(e.getMessage().contains("2^32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NumpyRandom(1L << 32));
    }

    /** A negative length: IllegalArgumentException naming it (a NegativeArraySizeException escaped before). */
    @Test
    void negativeLengthsAreRejected() {
        NumpyRandom r = new NumpyRandom(1);
        assertEquals("permutation: n must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> r.permutation(-1)).getMessage());
        assertEquals("randn: n must be >= 0, got -2",
                assertThrows(IllegalArgumentException.class, () -> r.randn(-2)).getMessage());
    }

    /** shuffle(null) was a bare NullPointerException ("Cannot read the array length because a is null"). */
    @Test
    void shuffleNamesANullArray() {
        NumpyRandom r = new NumpyRandom(1);
        assertEquals("NumpyRandom.shuffle: a is null; expected the array to shuffle",
                assertThrows(NullPointerException.class, () -> r.shuffle(null)).getMessage());
        assertEquals(r.nextUint32(), new NumpyRandom(1).nextUint32(), "nothing was drawn");
    }
}
