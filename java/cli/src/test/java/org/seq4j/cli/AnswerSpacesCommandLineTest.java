// Answers are printed cut on the right only. The book's answers are left-aligned and padded on the right, so a leading
// space is part of an answer: a guess "   x" for the truth "x   " is wrong. Printed through strip(), the two read the
// same, and eval and train showed "T x  [wrong] x" (a red-team pass, on a set of non-digit characters that a
// one-epoch model answers with leading spaces).
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.cli.CliRuns.Result;

class AnswerSpacesCommandLineTest {
    private static final String RIGHT = Cli.mark(true), WRONG = Cli.mark(false);

    /**
     * reversals.txt: 300 lines "q   _r   ", q of 1 to 4 characters of five (an emoji, e-acute, a CJK character, a and a
     * combining acute accent), r the same reversed, each padded to 4 on the right (written once by Python's random with
     * seed 0). A one-epoch model answers some of its eval samples with leading spaces, which other draws did not give.
     */
    private static Path reversals(Path dir) throws IOException {
        try (var in = AnswerSpacesCommandLineTest.class.getResourceAsStream("reversals.txt")) {
            Path data = dir.resolve("reversals.txt");
            Files.copy(java.util.Objects.requireNonNull(in, "reversals.txt"), data);
            return data;
        }
    }

    /** Every sample's mark agrees with its answers as printed: the same text is marked right, other text wrong. */
    private static int assertMarksAgree(Pattern sample, String out) {
        Matcher m = sample.matcher(out);
        int samples = 0;
        while (m.find()) {
            samples++;
            String truth = m.group(1), mark = m.group(2), guess = m.group(3);
            assertTrue(mark.equals(RIGHT) || mark.equals(WRONG), m.group());
            assertEquals(truth.equals(guess), mark.equals(RIGHT), "as printed: '" + m.group() + "'");
        }
        return samples;
    }

    @Test
    void aLeadingSpaceInAnAnswerIsShown(@TempDir Path dir) throws IOException {
        Path data = reversals(dir), run = dir.resolve("run");
        Result train = seq4j("train", "addition", "--backend", "java", "--epochs", "1", "--hidden", "4", "--wordvec",
                "4", "--data", data.toString(), "--out", run.toString());
        assertEquals(0, train.code(), train.out() + train.err());
        String marks = Pattern.quote(RIGHT) + "|" + Pattern.quote(WRONG);
        assertTrue(assertMarksAgree(Pattern.compile("(?m)^  T (.*)\\n  (" + marks + ") (.*)$"), train.out()) > 0,
                train.out());
        Result eval = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.out() + eval.err());
        assertTrue(assertMarksAgree(Pattern.compile("(?m)^  Q \\S+  T (\\S+)  (" + marks + ") (.*)$"), eval.out()) > 0,
                eval.out());
    }
}
