// eval --data and generate hold questions to what the model was trained on: answers of its length, questions of
// at most its width (narrower ones padded on the right, as in training), no leading space, and no space between
// characters where its training questions had none. Each used to be answered, and scored, without a word.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
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

    /** A data file of the training lines whose question has at most 6 characters, each line edited. */
    private static Path narrow(String name, UnaryOperator<String> question) throws IOException {
        List<String> edited = lines.stream().filter(l -> l.substring(0, 7).stripTrailing().length() <= 6)
                .map(l -> question.apply(l.substring(0, 7).stripTrailing()) + l.substring(7)).toList();
        assertTrue(edited.size() > 100, "questions of 6 characters or fewer: " + edited.size());
        return Files.write(dir.resolve(name), edited);
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

    /**
     * Questions with a leading space, or a space between characters where the training questions had none: the model
     * answered " 2+6" with 78 and "2 + 6" with 32.
     */
    @Test
    void aQuestionWithASpaceTheModelNeverSawThereIsRefused() throws IOException {
        assertEquals("false", Checkpoint.meta(best).getProperty(Cli.QUESTION_INNER_SPACES), "addition: none");
        String leading = " starts with a space; the model reads questions from their first character, padded with "
                + "spaces on the right, as it was trained";
        String inner = "; the questions this model was trained on hold none but the padding on their right";
        assertEquals("seq4j: question \" 2+6\"" + leading, refused(generate(run, " 2+6")));
        assertEquals("seq4j: question \"2 + 6\" holds a space at position 2" + inner, refused(generate(run, "2 + 6")));
        Result padded = generate(run, "2+6  ");
        assertEquals(0, padded.code(), padded.err());

        Path leadingData = narrow("leading.txt", q -> " " + q + " ".repeat(6 - q.length()));
        String e = refused(eval(leadingData));
        assertTrue(e.startsWith("seq4j: " + leadingData + ": question \" ") && e.endsWith(leading), e);
        Path innerData = narrow("inner.txt", q -> q.replace("+", " +") + " ".repeat(6 - q.length()));
        e = refused(eval(innerData));
        assertTrue(e.startsWith("seq4j: " + innerData + ": question \"") && e.contains(" holds a space at position ")
                && e.endsWith(inner), e);

        // a checkpoint of an older version does not say: only the leading space is refused
        Path old = Files.createDirectories(dir.resolve("old"));
        Properties meta = Checkpoint.meta(best);
        meta.remove(Cli.QUESTION_INNER_SPACES);
        CommandLineTest.withDescription(best, meta, old.resolve(Checkpoint.BEST));
        Result spaced = generate(old, "2 + 6");
        assertEquals(0, spaced.code(), spaced.err());
        assertTrue(refused(generate(old, " 2+6")).endsWith(leading));
    }

    /** Date questions hold spaces ("september 27, 1994"): the checkpoint says so, and generate takes them. */
    @Test
    void dateQuestionsMayHoldSpaces() throws IOException {
        Path date = dir.resolve("date");
        Result r = seq4j("train", "date", "--backend", "java", "--lines", "200", "--epochs", "1", "--batch", "32",
                "--hidden", "8", "--wordvec", "4", "--out", date.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals("true", Checkpoint.meta(date.resolve(Checkpoint.BEST)).getProperty(Cli.QUESTION_INNER_SPACES));
        String question = Files.readAllLines(date.resolve("date.txt")).stream().map(l -> l.substring(0, l.indexOf('_'))
                .stripTrailing()).filter(q -> q.contains(" ")).findFirst().orElseThrow();
        Result answered = generate(date, question);
        assertEquals(0, answered.code(), answered.err());
        assertTrue(answered.out().contains(question + " -> "), answered.out());
        assertTrue(refused(generate(date, " " + question)).contains("starts with a space"));
        // an example of the model's task (it was the addition's "77+85")
        assertEquals("seq4j: question 1 is empty; give questions like \"september 27, 1994\"",
                refused(generate(date, " ")));
        assertTrue(refused(generate(date, "5_")).endsWith("give the question alone, like \"september 27, 1994\""));
    }

    private static Result generate(Path checkpoint, String question) {
        return seq4j("generate", "--checkpoint", checkpoint.toString(), "--backend", "java", question);
    }
}
