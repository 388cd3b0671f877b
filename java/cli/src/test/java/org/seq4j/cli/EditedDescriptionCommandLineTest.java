// A checkpoint whose description was edited by hand (a red-team find): an edited answer_length, vocabulary, reverse or
// task was believed, and generate and eval answered plausible wrong answers with exit code 0. train records a digest
// of the model-defining keys in the description; generate and eval refuse one that no longer matches it, in one line
// naming the key. The training data's path is out of the digest (the data may move), and a checkpoint from before
// the digest is read as it is; eval blames an older checkpoint's edited vocabulary on the vocabulary, not the data.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.cli.CliRuns.Result;
import org.seq4j.train.Checkpoint;

class EditedDescriptionCommandLineTest {
    @TempDir
    static Path dir;
    static Path run, best;

    @BeforeAll
    static void trainOnce() throws IOException {
        run = CliRuns.tinyAttentionRun(dir);
        best = run.resolve(Checkpoint.BEST);
    }

    /** The one line of a bad-input failure: exit code 2, one line on stderr. */
    private static String refused(Result r) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        return r.err().strip();
    }

    /** The description of {@code file} as it is stored: the text of its entry model.properties. */
    private static String raw(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return new String(zip.getInputStream(zip.getEntry(Checkpoint.META)).readAllBytes(),
                    StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * A copy of the checkpoint {@code from} at {@code to} (folder created) whose description is edited as by hand:
     * the line of {@code key} replaced by key=value, every other line kept byte for byte, the digest among them.
     */
    static Path handEdited(Path from, Path to, String key, String value) throws IOException {
        Properties one = new Properties();
        one.setProperty(key, value);
        StringWriter w = new StringWriter();
        one.store(w, null);
        String line = w.toString().lines().filter(l -> !l.startsWith("#")).findFirst().orElseThrow();
        List<String> lines = new ArrayList<>(raw(from).lines().toList());
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            at = lines.get(i).startsWith(key + "=") ? i : at;
        }
        assertTrue(at >= 0, "no line of " + key + " in " + lines);
        lines.set(at, line);
        Files.createDirectories(to.getParent());
        try (var in = new ZipFile(from.toFile());
             var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(to))) {
            for (var entry : java.util.Collections.list(in.entries())) {
                out.putNextEntry(new java.util.zip.ZipEntry(entry.getName()));
                if (entry.getName().equals(Checkpoint.META)) {
                    out.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.ISO_8859_1));
                } else {
                    in.getInputStream(entry).transferTo(out);
                }
                out.closeEntry();
            }
        }
        return to;
    }

    private static String editedLine(Path file, String key) {
        return "seq4j: " + file + ": its description was edited after seq4j wrote it (" + key + " no longer matches "
                + "its digest); seq4j cannot tell which values the weights were trained with";
    }

    /**
     * The red team's edits, each refused by generate and eval in one line naming the key: answer_length (a date
     * model answered "1993-09" for answer_length=8), two characters of the vocabulary swapped ("1923-09-02"; eval
     * blamed the unchanged data file), reverse (wrong answers; eval printed 0.00%), task (an addition model read as
     * a date model).
     */
    @Test
    void generateAndEvalRefuseADescriptionEditedByHandNamingTheKey() throws IOException {
        Properties meta = Checkpoint.meta(best);
        String vocabulary = meta.getProperty("vocabulary");
        String swapped = vocabulary.charAt(1) + "" + vocabulary.charAt(0) + vocabulary.substring(2);
        List<String[]> edits = List.of(
                new String[] {"answer_length", Integer.toString(Integer.parseInt(meta.getProperty("answer_length")) - 1)},
                new String[] {"answer_length", "20"},
                new String[] {"vocabulary", swapped},
                new String[] {"reverse", meta.getProperty("reverse").equals("true") ? "false" : "true"},
                new String[] {"task", "date"});
        int n = 0;
        for (String[] edit : edits) {
            Path edited = handEdited(best, dir.resolve("edited-" + n++).resolve(Checkpoint.BEST), edit[0], edit[1]);
            assertEquals(edit[0] + "=" + edit[1], raw(edited).lines().filter(l -> l.startsWith(edit[0] + "="))
                    .findFirst().map(l -> {
                        Properties p = new Properties();
                        try {
                            p.load(new StringReader(l));
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                        return edit[0] + "=" + p.getProperty(edit[0]);
                    }).orElseThrow(), "the edit is in the file");
            assertEquals(editedLine(edited, edit[0]), refused(seq4j("generate", "--checkpoint", edited.toString(),
                    "--backend", "java", "12+34")));
            assertEquals(editedLine(edited, edit[0]), refused(seq4j("eval", "--checkpoint",
                    edited.getParent().toString(), "--backend", "java")));
        }
    }

    /**
     * An unedited checkpoint carries the digest and is read; the training data's path is out of the digest: the data
     * moved and its path edited to match, eval scores the held-out part of the file at the new path.
     */
    @Test
    void anUneditedCheckpointAndOneWhoseDataPathWasEditedAreRead() throws IOException {
        assertTrue(raw(best).contains(Checkpoint.DIGEST + "="), "train records the digest: " + raw(best));
        Result gen = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "12+34");
        assertEquals(0, gen.code(), gen.err());
        Path moved = Files.createDirectories(dir.resolve("moved")).resolve("sums.txt");
        Files.copy(dir.resolve("addition.txt"), moved);
        Path edited = handEdited(best, dir.resolve("moved-run").resolve(Checkpoint.BEST), "data", moved.toString());
        Result eval = seq4j("eval", "--checkpoint", edited.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains(" on " + moved + ": test accuracy"), eval.out());
    }

    /**
     * A checkpoint from before the digest whose vocabulary was edited (two characters swapped): eval without --data
     * blamed the training file, unchanged, as "no longer the data ... it has changed since". It names the vocabulary
     * now, and the one training gave the model.
     */
    @Test
    void anOlderCheckpointsEditedVocabularyIsBlamedOnTheVocabularyNotTheData() throws IOException {
        Properties meta = Checkpoint.meta(best);   // without the digest's keys: as a seq4j before it wrote them
        String vocabulary = meta.getProperty("vocabulary");
        String swapped = vocabulary.charAt(1) + "" + vocabulary.charAt(0) + vocabulary.substring(2);
        meta.setProperty("vocabulary", swapped);
        Path old = Files.createDirectories(dir.resolve("old-vocabulary")).resolve(Checkpoint.BEST);
        CommandLineTest.withDescription(best, meta, old);
        assertFalse(raw(old).contains(Checkpoint.DIGEST), raw(old));
        String e = refused(seq4j("eval", "--checkpoint", old.toString(), "--backend", "java"));
        assertTrue(e.startsWith("seq4j: " + old + ": its vocabulary \"" + swapped + "\" is not the one the model was "
                + "trained with: " + dir.resolve("addition.txt") + " is the data it was trained on"), e);
        assertTrue(e.contains("training gave the model the vocabulary \"" + vocabulary + "\""), e);
        assertFalse(e.contains("is no longer the data"), e);
    }

    /** Every key train writes is either digested or deliberately left out (Checkpoint.DIGESTED, NOT_DIGESTED). */
    @Test
    void everyKeyTrainWritesIsInOrOutOfTheDigest() throws IOException {
        Path lm = dir.resolve("lm");
        Result r = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "4",
                "--wordvec", "4", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        for (Path file : List.of(best, lm.resolve(Checkpoint.BEST))) {
            Properties p = new Properties();
            p.load(new StringReader(raw(file)));
            assertTrue(p.containsKey(Checkpoint.DIGEST) && p.containsKey(Checkpoint.DIGEST_BY_KEY), file.toString());
            for (String key : p.stringPropertyNames()) {
                assertTrue(Checkpoint.DIGESTED.contains(key) != Checkpoint.NOT_DIGESTED.contains(key), file + ": " + key
                        + " must be in the digest or deliberately out of it");
            }
        }
    }
}
