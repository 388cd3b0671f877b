// eval --data holds questions to what the model was trained on: answers of its length, questions of at most its
// width (narrower ones padded on the right, as in training). Each used to be scored without a word.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.cli.CliRuns.Result;
import org.seq4j.data.ToySet;
import org.seq4j.train.Checkpoint;

class QuestionsAsTrainedCommandLineTest {
    @TempDir
    static Path dir;
    static Path run, best;
    static List<String> lines; // "310+5  _315 ": questions of 7 characters, answers of 5 ('_' included)

    @BeforeAll
    static void trainOnce() throws IOException {
        run = CliRuns.tinyAttentionRun(dir);
        best = run.resolve(Checkpoint.BEST);
        lines = Files.readAllLines(dir.resolve("addition.txt"));
    }

    /** The one line of a bad-input failure (exit code 2), said before the backend opened and the model loaded. */
    private static String refused(Result r) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(r.out().contains("backend:"), "refused before the backend opened: " + r.out());
        return r.err().strip();
    }

    private static Result eval(Path file) {
        return seq4j("eval", "--checkpoint", run.toString(), "--backend", "java", "--data", file.toString());
    }

    /** eval --data of a file whose questions are wider or answers of another length than the model's: refused. */
    @Test
    void evalRefusesDataOfAnotherQuestionWidthOrAnswerLength() throws IOException {
        Path wide = Files.write(dir.resolve("wide.txt"), lines.stream().map(l -> l.substring(0, 7) + " " + l.substring(7))
                .toList());
        assertEquals("seq4j: " + wide + ": its questions have 8 characters but " + best + " was trained on questions "
                + "of 7; expected at most 7", refused(eval(wide)));
        Path shortAnswers = Files.write(dir.resolve("short-answers.txt"), lines.stream().map(l -> l.substring(0, 9))
                .toList());
        assertEquals("seq4j: " + shortAnswers + ": its answers have 2 characters ('_' included) but " + best + " was "
                + "trained on answers of 5; expected 5", refused(eval(shortAnswers)));
        Path longAnswers = Files.write(dir.resolve("long-answers.txt"), lines.stream().map(l -> l + " ").toList());
        assertTrue(refused(eval(longAnswers)).contains("its answers have 6 characters"));
    }

    /** Lines like "310+5  _": train refused them; eval ended in "internal error", exit code 1. */
    @Test
    void evalRefusesDataWhoseAnswersAreEmpty() throws IOException {
        Path empty = Files.write(dir.resolve("no-answers.txt"), lines.stream().map(l -> l.substring(0, 8)).toList());
        assertEquals("seq4j: " + empty + ": the answers are empty; expected characters after the '_'",
                refused(eval(empty)));
    }

    /**
     * Narrower questions are padded on the right, as generate pads them: they are answered as the same lines at width
     * 7. A model that reads questions as written (baseline: its decoder starts from the encoder's last state) answered
     * them otherwise ("1100" for "100"); a well-trained attention model fell from 99% to 53%.
     */
    @Test
    void evalPadsNarrowerQuestionsAsTheTrainingDataIsPadded() throws IOException {
        Path data = dir.resolve("addition-1000.txt");
        ToySet.ADDITION.write(data, 1000, 3);
        Path baseline = dir.resolve("baseline");
        Result r = seq4j("train", "addition", "--model", "baseline", "--backend", "java", "--epochs", "3", "--batch",
                "32", "--hidden", "32", "--wordvec", "16", "--lr", "0.01", "--data", data.toString(), "--out",
                baseline.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        List<String> fit = Files.readAllLines(data).stream().filter(l -> l.substring(0, 7).stripTrailing().length() <= 6)
                .toList();
        Path six = Files.write(dir.resolve("six.txt"), fit.stream().map(l -> l.substring(0, 6) + l.substring(7)).toList());
        Path seven = Files.write(dir.resolve("seven.txt"), fit);
        List<String> answered = new java.util.ArrayList<>();
        for (Path file : List.of(six, seven)) {
            Result e = seq4j("eval", "--checkpoint", baseline.toString(), "--backend", "java", "--data", file.toString());
            assertEquals(0, e.code(), e.err());
            // the accuracy and the samples (question, truth, answer), not the file's name nor the time taken
            answered.add(e.out().lines().filter(l -> l.contains("test accuracy") || l.startsWith("  Q "))
                    .map(l -> l.replace(file.toString(), "FILE")).collect(Collectors.joining("\n")));
        }
        assertTrue(answered.get(1).contains("test accuracy") && answered.get(1).contains("  Q "), answered.get(1));
        assertEquals(answered.get(1), answered.get(0), "questions of 6 characters as the same ones of 7");
    }

}
