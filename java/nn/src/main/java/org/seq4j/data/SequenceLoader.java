// Loads the book's toy sequence text format (dataset/addition.txt, date.txt): each line is a
// space-padded question, then the answer starting at the first '_' (kept: it is the decoder's start
// token), e.g. "16+75  _91  ". Same semantics as the book's dataset/sequence.py:
//   - vocabulary ids in first-seen order over question then answer of each line, in file order;
//   - the rows are shuffled as np.random.seed(1984); np.random.shuffle(arange(N)) does;
//   - the last N // 10 rows are the test split;
//   - optionally each whole padded question is reversed (the book's x[:, ::-1]).
// Unlike the book it checks its input: UTF-8, \n or \r\n line ends, a '_' on every line, equal lengths, known
// characters.
package org.seq4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the book's toy sequence text format (dataset/addition.txt, date.txt): each line is a space-padded question,
 * then the answer starting at the first '_', e.g. "16+75  _91  ". Same results as the book's dataset/sequence.py
 * (vocabulary in first-seen order, rows shuffled with numpy's seed 1984, the last N / 10 rows as the test split), but
 * the input is checked.
 */
public final class SequenceLoader {
    /** The seed of the book's load_data. */
    public static final long BOOK_SEED = 1984;

    /**
     * How to load.
     *
     * @param shuffle          shuffle the rows as numpy does, or keep file order
     * @param seed             the shuffle's numpy seed
     * @param reverseQuestions reverse each padded question (the book's x[:, ::-1])
     * @param vocabulary       a fixed vocabulary, or null to build one from the file
     */
    public record Options(boolean shuffle, long seed, boolean reverseQuestions, CharVocabulary vocabulary) {
        /**
         * Checks the seed.
         *
         * @throws IllegalArgumentException if the seed is outside [0, 2^32), which numpy's shuffle refuses (it was
         *                                  refused only by the load that shuffled, naming no call)
         */
        public Options {
            NumpyRandom.requireSeed("SequenceLoader.Options", seed);
        }

        /**
         * The book's defaults: shuffled with seed 1984, questions as written, vocabulary from the file.
         *
         * @return the options
         */
        public static Options book() {
            return new Options(true, BOOK_SEED, false, null);
        }

        /**
         * These options with another shuffle seed, shuffled or not as they were, as the other with-methods keep what
         * they do not name (it turned shuffling on: unshuffled().withSeed(s) loaded the rows shuffled).
         *
         * @param newSeed the seed
         * @return new options
         */
        public Options withSeed(long newSeed) {
            return new Options(shuffle, newSeed, reverseQuestions, vocabulary);
        }

        /**
         * These options keeping file order.
         *
         * @return new options
         */
        public Options unshuffled() {
            return new Options(false, seed, reverseQuestions, vocabulary);
        }

        /**
         * These options with reversed questions.
         *
         * @return new options
         */
        public Options withReversedQuestions() {
            return new Options(shuffle, seed, true, vocabulary);
        }

        /**
         * These options with a fixed vocabulary.
         *
         * @param v the vocabulary
         * @return new options
         */
        public Options withVocabulary(CharVocabulary v) {
            return new Options(shuffle, seed, reverseQuestions, v);
        }
    }

    /**
     * One line of the file as text.
     *
     * @param question the padded question
     * @param answer   the answer, '_' first
     * @param number   the 1-based line number
     */
    public record Line(String question, String answer, int number) {
    }

    private SequenceLoader() {
    }

    /**
     * Loads {@code file} with the book's defaults.
     *
     * @param file the text file
     * @return train and test pairs and the vocabulary
     * @throws DataFileException naming the line if the file does not have the format
     * @throws IOException if it cannot be read
     * @throws NullPointerException if file is null
     */
    public static SequenceDataset load(Path file) throws IOException {
        return load(file, Options.book());
    }

    /**
     * Loads {@code file}.
     *
     * @param file    the text file
     * @param options shuffle, seed, reversal and vocabulary
     * @return train and test pairs and the vocabulary
     * @throws DataFileException naming the line if the file does not have the format
     * @throws IOException if it cannot be read
     * @throws NullPointerException if file or options is null
     */
    public static SequenceDataset load(Path file, Options options) throws IOException {
        java.util.Objects.requireNonNull(file, "SequenceLoader.load: file is null");
        // a bare "Cannot invoke Options.vocabulary()", after reading
        java.util.Objects.requireNonNull(options, "SequenceLoader.load: options is null");
        List<Line> lines = readLines(file);
        CharVocabulary vocab = options.vocabulary();
        if (vocab == null) {
            CharVocabulary.Builder b = CharVocabulary.builder();
            for (Line l : lines) {
                b.add(l.question()).add(l.answer());
            }
            vocab = b.build();
        }
        SequencePairs all = encode(file, lines, vocab);
        int n = all.size();
        int[][] x = all.x();
        int[][] t = all.t();
        if (options.shuffle()) {
            int[] order = new NumpyRandom(options.seed()).permutation(n);
            int[][] xs = new int[n][];
            int[][] ts = new int[n][];
            for (int i = 0; i < n; i++) {
                xs[i] = x[order[i]];
                ts[i] = t[order[i]];
            }
            x = xs;
            t = ts;
        }
        SequencePairs shuffled = new SequencePairs(x, t);
        int splitAt = n - n / 10;
        SequencePairs train = shuffled.slice(0, splitAt);
        SequencePairs test = shuffled.slice(splitAt, n);
        if (options.reverseQuestions()) {
            train = train.withReversedQuestions();
            test = test.withReversedQuestions();
        }
        return new SequenceDataset(train, test, vocab);
    }

    /**
     * Every line of {@code file} in file order, encoded with a given vocabulary (e.g. the training set's, for a
     * separate test file).
     *
     * @param file       the text file
     * @param vocabulary the characters allowed
     * @return the pairs
     * @throws DataFileException naming the line and column of a character the vocabulary lacks, or a format error
     * @throws IOException if it cannot be read
     * @throws NullPointerException if file or vocabulary is null
     */
    public static SequencePairs encode(Path file, CharVocabulary vocabulary) throws IOException {
        java.util.Objects.requireNonNull(file, "SequenceLoader.encode: file is null");
        // a bare "Cannot invoke CharVocabulary.idOf(int)"
        java.util.Objects.requireNonNull(vocabulary, "SequenceLoader.encode: vocabulary is null");
        return encode(file, readLines(file), vocabulary);
    }

    private static SequencePairs encode(Path file, List<Line> lines, CharVocabulary vocab) throws DataFileException {
        int[][] x = new int[lines.size()][];
        int[][] t = new int[lines.size()][];
        for (int i = 0; i < lines.size(); i++) {
            Line l = lines.get(i);
            x[i] = encodeLine(file, l, l.question(), 0, vocab);
            t[i] = encodeLine(file, l, l.answer(), l.question().codePointCount(0, l.question().length()), vocab);
        }
        return new SequencePairs(x, t);
    }

    private static int[] encodeLine(Path file, Line line, String text, int column0, CharVocabulary vocab)
            throws DataFileException {
        int[] ids = new int[text.codePointCount(0, text.length())];
        for (int i = 0, j = 0; i < text.length(); j++) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            ids[j] = vocab.idOf(cp);
            if (ids[j] < 0) {
                int column = column0 + j + 1; // 1-based, in characters
                throw new DataFileException(file, line.number(), "character " + CharVocabulary.describe(cp)
                        + " at column " + column + " is not in the vocabulary (" + vocab.size() + " characters: "
                        + DataFileException.quote(vocab.chars()) + ")");
            }
        }
        return ids;
    }

    /**
     * Reads and checks the lines of {@code file}: UTF-8, not empty, a '_' on every line, and all questions (all
     * answers) of the same length in characters. Line ends are \n or \r\n.
     *
     * @param file the text file
     * @return the lines in file order
     * @throws DataFileException naming the line if a check fails
     * @throws IOException if it cannot be read
     * @throws NullPointerException if file is null
     */
    public static List<Line> readLines(Path file) throws IOException {
        // said RegularFile.refusal, a call of its insides
        java.util.Objects.requireNonNull(file, "SequenceLoader.readLines: file is null");
        byte[] bytes = TextLines.readAll(file);
        if (TextLines.holdsNothing(bytes)) {
            throw new DataFileException(file, 0, "the file is empty (or holds only a byte order mark); expected lines like \"16+75  _91  \"");
        }
        List<Line> lines = new ArrayList<>();
        int[] lengths = {-1, -1}; // question, answer: those of line 1
        TextLines.forEach(file, bytes, (text, number, newlineFollows) -> {
            int us = text.indexOf('_');
            if (text.isEmpty()) {   // said "no '_' between question and answer in \"\"" (a trailing blank line, say)
                throw new DataFileException(file, number, "an empty line; expected lines like \"16+75  _91  \"");
            }
            if (us < 0) {
                throw new DataFileException(file, number, "no '_' between question and answer in "
                        + DataFileException.quote(text));
            }
            if (us == 0) {
                throw new DataFileException(file, number, "the question before '_' is empty in "
                        + DataFileException.quote(text) + "; expected lines like \"16+75  _91  \"");
            }
            Line line = new Line(text.substring(0, us), text.substring(us), number);
            int q = line.question().codePointCount(0, us);
            int a = line.answer().codePointCount(0, line.answer().length());
            if (lengths[0] < 0) {
                lengths[0] = q;
                lengths[1] = a;
            } else if (q != lengths[0]) {
                throw new DataFileException(file, number, "question " + DataFileException.quote(line.question()) + " has " + q
                        + " characters but line 1's has " + lengths[0] + "; every question must be padded to the"
                        + " same length");
            } else if (a != lengths[1]) {
                throw new DataFileException(file, number, "answer " + DataFileException.quote(line.answer()) + " has " + a
                        + " characters but line 1's has " + lengths[1] + "; every answer must be padded to the"
                        + " same length");
            }
            lines.add(line);
        });
        return lines;
    }
}
