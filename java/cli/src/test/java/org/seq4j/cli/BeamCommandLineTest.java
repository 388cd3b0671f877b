// The command line's beam search and bidirectional options, end to end on a tiny run: generate --beam K and
// eval --beam K read a checkpoint (K = 1 answers as greedy does); bad values end in one line and exit code 2, also
// those only the model can judge: a K more than the answers there are, a search the Java heap cannot hold (they ended
// in "internal error: IllegalArgumentException" and exit code 1).
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.cli.CliRuns.Result;
import org.seq4j.testing.ChildJvm;

class BeamCommandLineTest {
    @TempDir
    static Path dir;
    static Path run;

    @BeforeAll
    static void trainOnce() throws IOException {
        run = CliRuns.tinyAttentionRun(dir);
    }

    /** "Q -> A" answers of generate's output, without the log-probabilities beam search adds. */
    private static String answers(String out) {
        return out.lines().filter(l -> l.contains(" -> ")).map(l -> l.replaceAll("\\(log p [^)]*\\)$", "").strip())
                .reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void generateAndEvalWithABeam() {
        Result greedy = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "12+34", "5+6", "77+85");
        assertEquals(0, greedy.code(), greedy.err());
        Result one = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--beam", "1", "12+34",
                "5+6", "77+85");
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("(log p -"), one.out());
        assertEquals(answers(greedy.out()), answers(one.out()), "beam 1 answers as greedy does");
        Result three = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "--beam", "3", "12+34");
        assertEquals(0, three.code(), three.err());
        assertTrue(three.out().contains("12+34 -> "), three.out());

        Result eval = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java", "--beam", "3", "--limit", "20");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("test accuracy") && eval.out().contains("beam search K=3"), eval.out());
    }

    @Test
    void aBidirectionalRunIsSavedAndRebuiltAsBidirectional() throws IOException {
        Path bi = dir.resolve("bi");
        Result r = seq4j("train", "addition", "--model", "attention", "--bidirectional", "--backend", "java", "--epochs",
                "1", "--batch", "32", "--hidden", "16", "--wordvec", "8", "--data", dir.resolve("addition.txt").toString(),
                "--out", bi.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals("true", org.seq4j.train.Checkpoint.meta(bi).getProperty("bidirectional"),
                "the description inside the run's .npz records the bidirectional encoder");
        // eval and generate rebuild the two-direction encoder (a one-direction model would not load model.npz)
        Result eval = seq4j("eval", "--checkpoint", bi.toString(), "--backend", "java", "--limit", "20");
        assertEquals(0, eval.code(), eval.err());
        Result gen = seq4j("generate", "--checkpoint", bi.toString(), "--backend", "java", "--beam", "2", "12+34");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().contains("12+34 -> "), gen.out());

        Result bad = seq4j("train", "addition", "--model", "peeky", "--bidirectional", "--backend", "java",
                "--out", dir.resolve("nope").toString());
        assertEquals(2, bad.code(), bad.out() + bad.err());
        assertTrue(bad.err().contains("--bidirectional needs --model attention"), bad.err());
    }

    @Test
    void aLanguageModelContinuesByBeamSearch() {
        Path lm = dir.resolve("lm");
        Result r = seq4j("train", "lm", "--model", "rnnlm", "--backend", "java", "--epochs", "1", "--hidden", "16",
                "--wordvec", "8", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        Result greedy = seq4j("generate", "--checkpoint", lm.toString(), "--backend", "java", "--length", "8");
        assertEquals(0, greedy.code(), greedy.err());
        Result one = seq4j("generate", "--checkpoint", lm.toString(), "--backend", "java", "--length", "8", "--beam", "1");
        assertEquals(0, one.code(), one.err());
        assertEquals(greedy.out().lines().findFirst().orElseThrow(), one.out().lines().findFirst().orElseThrow(),
                "beam 1 continues as greedy does");
        assertTrue(one.out().contains("(log p -"), one.out());
        Result ended = seq4j("generate", "--checkpoint", lm.toString(), "--backend", "java", "--length", "8", "--beam",
                "3", "--end", "<eos>", "--length-penalty", "0.6");
        assertEquals(0, ended.code(), ended.err());
        assertTrue(ended.out().contains("score -"), ended.out());
        Result unknown = seq4j("generate", "--checkpoint", lm.toString(), "--backend", "java", "--beam", "2", "--end",
                "notaword");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("--end") && unknown.err().contains("notaword"), unknown.err());
        // options a language model would ignore, or could not honour: one line, exit 2
        String c = lm.toString();
        Map<List<String>, String> refused = new LinkedHashMap<>();
        refused.put(List.of("generate", "--checkpoint", c, "--start", " "), "--start is blank");
        // --start and --end split as training split its text (Python's str.split()): a no-break space is white space
        // too (it was the word " "; U+3000 joined "the\u3000cat" into one unknown word)
        refused.put(List.of("generate", "--checkpoint", c, "--start", "\u00a0"), "--start is blank");
        refused.put(List.of("generate", "--checkpoint", c, "--beam", "2", "--end", "<eos> the"), "--end takes one word, got \"<eos> the\" (2 words)");
        Result ideographic = seq4j("generate", "--checkpoint", c, "--backend", "java", "--start", "the\u3000cat",
                "--length", "3");
        assertEquals(0, ideographic.code(), ideographic.err());
        assertEquals(seq4j("generate", "--checkpoint", c, "--backend", "java", "--start", "the cat", "--length", "3")
                .out(), ideographic.out(), "the same two words");
        Result endNbsp = seq4j("generate", "--checkpoint", c, "--backend", "java", "--length", "8", "--beam", "3",
                "--end", "<eos>\u00a0", "--length-penalty", "0.6");
        assertEquals(0, endNbsp.code(), endNbsp.err());
        assertEquals(ended.out(), endNbsp.out(), "--end <eos> with a no-break space after it");
        refused.put(List.of("generate", "--checkpoint", c, "--seed", "5"), "--seed is the seed of --sample");
        refused.put(List.of("generate", "--checkpoint", c, "--length", "2147483647"), "--length must be from 1 to 65536 words");
        refused.put(List.of("eval", "--checkpoint", c, "--beam", "2"), "--beam is for addition and date models");
        // a penalty that rounds to 0 as a double was read as none: greedy text where --beam was missing, and no penalty
        refused.put(List.of("generate", "--checkpoint", c, "--length-penalty", "1e-400"),
                "'1e-400' is below double's smallest positive value (4.9E-324) and would be read as 0");
        refused.put(List.of("generate", "--checkpoint", c, "--beam", "2", "--length-penalty", "1e-400"),
                "'1e-400' is below double's smallest positive value");
        for (var e : refused.entrySet()) {
            List<String> args = new ArrayList<>(e.getKey());
            args.addAll(List.of("--backend", "java"));
            Result bad = seq4j(args.toArray(String[]::new));
            assertEquals(2, bad.code(), e.getKey() + ": " + bad.out() + bad.err());
            assertTrue(bad.err().contains(e.getValue()), e.getKey() + ": " + bad.err());
        }
    }

    @Test
    void badBeamOptionsEndInOneLine() {
        for (String[] args : new String[][] {
                {"generate", "--checkpoint", run.toString(), "--backend", "java", "--beam", "0", "1+1"},
                {"eval", "--checkpoint", run.toString(), "--backend", "java", "--beam", "-2"},
                {"generate", "--checkpoint", run.toString(), "--backend", "java", "--length-penalty", "0.5", "1+1"},
                {"generate", "--checkpoint", run.toString(), "--backend", "java", "--beam", "2",
                        "--length-penalty", "-1", "1+1"}}) {
            Result r = seq4j(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().contains("--beam") || r.err().contains("--length-penalty"), r.err());
        }
    }

    /**
     * A beam wider than the answers there are to rank (single-digit sums: one id to generate from 11; a language model
     * of 12 words continued by one) is refused by the model before it searches; the command line said "internal
     * error: IllegalArgumentException" and exit code 1 for what --beam 0 gets as bad input.
     */
    @Test
    void aBeamWiderThanTheAnswersIsBadInput() throws IOException {
        Random r = new Random(1);
        List<String> sums = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            int a = r.nextInt(5), b = r.nextInt(5);
            sums.add(a + "+" + b + "_" + (a + b));   // answers of one character after '_'
        }
        Path data = Files.write(dir.resolve("single-digit.txt"), sums);
        Path add = dir.resolve("single-digit");
        Result t = seq4j("train", "addition", "--backend", "java", "--epochs", "1", "--hidden", "16", "--wordvec", "8",
                "--data", data.toString(), "--out", add.toString());
        assertEquals(0, t.code(), t.out() + t.err());
        Path lm = tinyLanguageModel("lm-12-words");
        for (String[] args : new String[][] {
                {"generate", "--checkpoint", add.toString(), "--backend", "java", "--beam", "20", "1+2"},
                {"eval", "--checkpoint", add.toString(), "--backend", "java", "--beam", "12"},
                {"generate", "--checkpoint", lm.toString(), "--backend", "java", "--start", "the cat", "--length", "1",
                        "--beam", "100"}}) {
            Result bad = seq4j(args);
            assertEquals(2, bad.code(), String.join(" ", args) + ": " + bad.out() + bad.err());
            assertEquals(1, bad.err().strip().lines().count(), "one line: " + bad.err());
            assertTrue(bad.err().startsWith("seq4j: --beam ") && bad.err().contains("is more than the")
                    && !bad.err().contains("internal error"), bad.err());
        }
        Result fits = seq4j("generate", "--checkpoint", add.toString(), "--backend", "java", "--beam", "11", "1+2");
        assertEquals(0, fits.code(), "K = 11, all the answers there are: " + fits.err());
    }

    /**
     * A beam search whose arrays the Java heap cannot hold (--length 65536 and K 4096, both within the command line's
     * limits: about 3 GB of ids) is refused before it runs, as bad input; run in a JVM of 256 MB of heap.
     */
    @Test
    void aBeamSearchPastTheHeapIsBadInput() throws Exception {
        Path lm = tinyLanguageModel("lm-heap");
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-Xmx256m"), Main.class.getName(),
                "generate", "--checkpoint", lm.toString(), "--backend", "java", "--start", "the", "--length", "65536",
                "--beam", "4096");
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r);
        assertTrue(r.err().startsWith("seq4j: --beam 4096 --length 65536: ") && r.err().contains("Java heap")
                && !r.err().contains("internal error"), r.toString());
    }

    /** A language model of 12 words (11 and <eos>), one epoch on the java backend, into dir/name. */
    private static Path tinyLanguageModel(String name) throws IOException {
        String[] words = "the cat sat on a mat and dog ran far away".split(" ");
        Random r = new Random(2);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            for (int w = 0; w < 8; w++) {
                text.append(words[r.nextInt(words.length)]).append(' ');
            }
            text.append("<eos>\n");
        }
        Path corpus = Files.writeString(dir.resolve(name + ".txt"), text);
        Path lm = dir.resolve(name);
        Result t = seq4j("train", "lm", "--backend", "java", "--epochs", "1", "--hidden", "16", "--wordvec", "16",
                "--time-size", "5", "--batch", "5", "--data", corpus.toString(), "--out", lm.toString());
        assertEquals(0, t.code(), t.out() + t.err());
        return lm;
    }
}
