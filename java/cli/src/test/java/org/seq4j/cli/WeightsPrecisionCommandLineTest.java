// eval/generate --weights-precision f32|bf16 end to end on a tiny run: f32 is the default (the same output as
// without the option), bf16 answers and says so, and a bad value or a model it does not apply to ends in one
// line and exit code 2.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.cli.CliRuns.Result;

class WeightsPrecisionCommandLineTest {
    @TempDir
    static Path dir;
    static Path run;

    @BeforeAll
    static void trainOnce() throws IOException {
        run = CliRuns.tinyAttentionRun(dir);
    }

    /** The accuracy line of eval's output (not the checkpoint's line, which quotes the training run's). */
    private static String accuracy(String out) {
        return out.lines().filter(l -> l.startsWith("addition ") && l.contains("test accuracy")).findFirst().orElseThrow(() -> new AssertionError(out));
    }

    @Test
    void f32IsTheDefaultAndBf16Answers() {
        Result plain = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "12+34", "5+6");
        Result f32 = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--weights-precision", "f32",
                "12+34", "5+6");
        assertEquals(0, plain.code(), plain.err());
        assertEquals(plain.out(), f32.out(), "f32 is the default");
        Result bf16 = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--weights-precision",
                "bf16", "12+34", "5+6");
        assertEquals(0, bf16.code(), bf16.err());
        assertTrue(bf16.out().contains("12+34 -> ") && bf16.out().contains("5+6 -> "), bf16.out());

        Result evalPlain = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java", "--limit", "40");
        assertEquals(0, evalPlain.code(), evalPlain.err());
        assertTrue(evalPlain.out().contains("greedy, f32 recurrent weights"), evalPlain.out());
        Result evalBf16 = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java", "--limit", "40", "--beam",
                "2", "--weights-precision", "BF16");
        assertEquals(0, evalBf16.code(), evalBf16.err());
        assertTrue(evalBf16.out().contains("beam search K=2, bf16 recurrent weights"), evalBf16.out());
        assertTrue(accuracy(evalBf16.out()).contains("/40)"), evalBf16.out());
    }

    @Test
    void badValuesAndModelsWithoutItEndInOneLine() {
        Path lm = dir.resolve("simple");
        Result r = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "8",
                "--wordvec", "8", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        String[][] bad = {
                {"generate", "--checkpoint", run.toString(), "--backend", "java", "--weights-precision", "fp16", "1+1"},
                {"eval", "--checkpoint", run.toString(), "--backend", "java", "--weights-precision", "half"},
                {"eval", "--checkpoint", lm.toString(), "--backend", "java", "--weights-precision", "bf16"},
                {"generate", "--checkpoint", lm.toString(), "--backend", "java", "--weights-precision", "bf16"}};
        for (String[] args : bad) {
            Result b = seq4j(args);
            assertEquals(2, b.code(), String.join(" ", args) + ": " + b.out() + b.err());
            assertEquals(1, b.err().strip().lines().count(), "one line: " + b.err());
            assertTrue(b.err().contains("--weights-precision"), b.err());
        }
        Result f32 = seq4j("generate", "--checkpoint", lm.toString(), "--backend", "java", "--weights-precision", "f32",
                "--length", "3");
        assertEquals(0, f32.code(), "f32 is fine for every model: " + f32.err());
    }
}
