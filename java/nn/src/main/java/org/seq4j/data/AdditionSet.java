// The addition set: "a+b" = "c" with a and b of 1 to 3 digits. Drawn as the book's addition.txt was
// (the Keras addition example): each operand gets a uniform digit count in 1..3 and uniform digits, so
// leading zeros collapse ("07" is 7), and an unordered pair {a, b} appears at most once.
//
// Measured on the book's addition.txt (50,000 lines), count of questions by the digits of a (b alike):
//   1 digit 4,862, 2 digits 16,249, 3 digits 28,889; answers of 1/2/3/4 digits: 30 / 2,478 / 38,415 / 9,077.
// This generator, 50,000 lines with seed 1984: a 4,895 / 16,434 / 28,671; answers 30 / 2,484 / 38,483 /
// 9,003 (ToySetTest checks every count is within 500 of the book's).
package org.seq4j.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

final class AdditionSet {
    static final int QUESTION_WIDTH = 7; // "999+999"
    static final int ANSWER_WIDTH = 4; // "1998"
    static final int MAX_DIGITS = 3;
    /** Distinct unordered pairs of 0..999: 1000 * 1001 / 2. */
    static final int MAX_LINES = 500_500;

    private AdditionSet() {
    }

    static List<String> lines(int count, long seed) {
        if (count > MAX_LINES) {
            throw new IllegalArgumentException("the addition set has at most " + MAX_LINES
                    + " distinct questions (unordered pairs of 0..999); asked for " + count);
        }
        SplittableRandom random = new SplittableRandom(seed);
        Set<Integer> seen = new HashSet<>();
        List<String> lines = new ArrayList<>(count);
        while (lines.size() < count) {
            int a = operand(random);
            int b = operand(random);
            // a+b and b+a are the same question
            if (!seen.add(Math.min(a, b) * 1000 + Math.max(a, b))) {
                continue;
            }
            lines.add(ToySet.line(a + "+" + b, QUESTION_WIDTH, Integer.toString(a + b), ANSWER_WIDTH));
        }
        return lines;
    }

    /** A uniform digit count in 1..3, then uniform digits, read as a number (leading zeros collapse). */
    private static int operand(SplittableRandom random) {
        int digits = 1 + random.nextInt(MAX_DIGITS);
        int v = 0;
        for (int i = 0; i < digits; i++) {
            v = v * 10 + random.nextInt(10);
        }
        return v;
    }
}
