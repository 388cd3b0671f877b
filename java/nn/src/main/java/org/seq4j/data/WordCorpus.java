// A word-level text corpus for language models, read as the book's dataset/ptb.py reads PTB: every
// line end becomes the word "<eos>", the text is split on whitespace, and each word becomes its id in
// first-seen order. A validation or test file is read with the training file's vocabulary; a word it
// lacks becomes "<unk>" if the vocabulary has that word, and is an error otherwise. Lines end in \n or \r\n: a
// carriage return alone is an error, not a space between words (old Mac line ends lost every "<eos>").
package org.seq4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A word-level corpus read as the book's dataset/ptb.py reads PTB: every line end becomes "&lt;eos&gt;", the text
 * is split on whitespace, and each word becomes its id. The id array is held, not copied.
 *
 * @param ids        the word ids in text order
 * @param vocabulary the words
 */
public record WordCorpus(int[] ids, WordVocabulary vocabulary) {

    /**
     * Checks the components: every id is one of the vocabulary's.
     *
     * @throws IllegalArgumentException if an id is outside 0..vocabulary.size()-1 (an embedding lookup took it far
     *                                  from here, or a word printed for it failed)
     * @throws NullPointerException if ids or vocabulary is null (size() and every later use failed with a bare NPE)
     */
    public WordCorpus {
        if (ids == null || vocabulary == null) {
            throw new NullPointerException("WordCorpus: " + (ids == null ? "ids" : "vocabulary") + " is null");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabulary.size()) {
                throw new IllegalArgumentException("WordCorpus: ids[" + i + "] is " + ids[i] + "; expected an id of "
                        + "the vocabulary, 0 to " + (vocabulary.size() - 1));
            }
        }
    }

    /**
     * The number of words, "&lt;eos&gt;" included.
     *
     * @return the length of ids
     */
    public int size() {
        return ids.length;
    }

    /**
     * Reads {@code file} and builds its vocabulary (like ptb.load_data('train')).
     *
     * @param file a UTF-8 text file, lines ending in \n or \r\n
     * @return the corpus
     * @throws DataFileException naming the line of bad UTF-8 or of a carriage return not before a line feed, or the
     *         file if it holds no words
     * @throws IOException if it cannot be read
     * @throws NullPointerException if file is null
     */
    public static WordCorpus load(Path file) throws IOException {
        Objects.requireNonNull(file, "WordCorpus.load: file is null");   // said RegularFile.refusal, a call of its insides
        return read(file, null);
    }

    /**
     * Reads {@code file} with a fixed vocabulary (like ptb.load_data('valid') with the train vocabulary): a word it
     * lacks becomes "&lt;unk&gt;" if the vocabulary has that word, and is an error otherwise.
     *
     * @param file       a UTF-8 text file
     * @param vocabulary the words allowed
     * @return the corpus
     * @throws DataFileException naming the line of an unknown word, bad UTF-8 or a carriage return not before a
     *         line feed, or a file without words
     * @throws IOException if it cannot be read
     * @throws NullPointerException if file or vocabulary is null (a null vocabulary built the file's own, so that ids
     *                              meant for the training vocabulary were another text's, without a word)
     */
    public static WordCorpus load(Path file, WordVocabulary vocabulary) throws IOException {
        Objects.requireNonNull(file, "WordCorpus.load: file is null");
        Objects.requireNonNull(vocabulary, "WordCorpus.load: vocabulary is null; expected the training corpus's "
                + "(load(file) builds the file's own)");
        return read(file, vocabulary);
    }

    private static WordCorpus read(Path file, WordVocabulary fixed) throws IOException {
        byte[] bytes = TextLines.readAll(file);
        WordVocabulary.Builder builder = fixed == null ? WordVocabulary.builder() : null;
        int unk = fixed == null ? -1 : fixed.idOf(WordVocabulary.UNK);
        IntList ids = new IntList(Math.max(16, bytes.length / 4));
        long[] words = {0};   // the words other than the line ends' "<eos>"
        TextLines.forEach(file, bytes, (line, number, newlineFollows) -> {
            // the words of the line, then "<eos>" if a line end follows (ptb.py: replace('\n', '<eos>'))
            List<String> tokens = new ArrayList<>(words(line));
            words[0] += tokens.size();
            if (newlineFollows) {
                tokens.add(WordVocabulary.EOS);
            }
            for (String word : tokens) {
                if (builder != null) {
                    ids.add(builder.add(word));
                } else {
                    int id = fixed.idOf(word);
                    if (id < 0 && unk < 0) {
                        throw new DataFileException(file, number, "word " + DataFileException.quote(word, '\'')
                                + " is not in the vocabulary of "
                                + fixed.size() + " words, which has no " + WordVocabulary.UNK + " to map it to");
                    }
                    ids.add(id < 0 ? unk : id);
                }
            }
        });
        int n = ids.size;
        int[] out = Arrays.copyOf(ids.values, n);
        if (n == 0) {
            throw new DataFileException(file, 0, "the file holds no words");
        }
        if (words[0] == 0) {   // its "words" were the line ends' <eos>: "has 3 words (3 train / 0 valid): too few"
            throw new DataFileException(file, 0, "the file holds no words, only " + n + " blank or white-space lines");
        }
        return new WordCorpus(out, fixed != null ? fixed : builder.build());
    }

    /** A growable int array. */
    private static final class IntList {
        int[] values;
        int size;

        IntList(int capacity) {
            values = new int[capacity];
        }

        void add(int v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }
    }

    /**
     * The words of a line of text as the corpus splits it, Python's str.split(): separated by runs of white space
     * (str.isspace, which also counts the no-break spaces and the ideographic space U+3000), none empty.
     *
     * @param text the text
     * @return its words, in order; none if it is blank
     * @throws NullPointerException if text is null
     */
    public static List<String> words(String text) {
        Objects.requireNonNull(text, "WordCorpus.words: text is null");
        List<String> out = new ArrayList<>();
        int i = 0;
        while (true) {
            while (i < text.length() && isSpace(text.charAt(i))) {
                i++;
            }
            if (i == text.length()) {
                return out;
            }
            int j = i;
            while (j < text.length() && !isSpace(text.charAt(j))) {
                j++;
            }
            out.add(text.substring(i, j));
            i = j;
        }
    }

    /**
     * Python's str.split() whitespace (str.isspace), exactly: Java's whitespace (controls \t..\r and \x1c..\x1f, the
     * space separators but the no-break ones, the line and paragraph separators), the no-break spaces (isSpaceChar),
     * and NEL (U+0085), which Python splits on as a line break and Java counts as neither.
     */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }
}
