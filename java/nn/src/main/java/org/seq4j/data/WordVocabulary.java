// A word vocabulary: ids 0..size-1 in first-seen order, as the book's dataset/ptb.py builds
// word_to_id / id_to_word. Immutable. Its file (a language model's vocabulary.txt) is one word a line, in id
// order, UTF-8, read strictly: an empty line or a stray space would shift every id after it.
package org.seq4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A word vocabulary: ids 0..size-1 in first-seen order, as the book's dataset/ptb.py builds word_to_id /
 * id_to_word. Immutable.
 */
public final class WordVocabulary {
    /** The end-of-sentence token put where each line ends. */
    public static final String EOS = "<eos>";
    /** The unknown-word token (PTB's own text uses it for rare words). */
    public static final String UNK = "<unk>";

    private final List<String> words; // id -> word
    private final Map<String, Integer> ids; // word -> id

    private WordVocabulary(List<String> words) {
        this.words = List.copyOf(words);
        this.ids = new HashMap<>();
        for (int id = 0; id < words.size(); id++) {
            if (ids.put(words.get(id), id) != null) {
                throw new IllegalArgumentException("word '" + words.get(id) + "' is listed twice");
            }
        }
    }

    /**
     * The vocabulary whose id i is {@code words.get(i)}.
     *
     * @param words distinct words
     * @return the vocabulary
     * @throws IllegalArgumentException if a word is listed twice
     * @throws NullPointerException if words, or a word in it, is null
     */
    public static WordVocabulary of(List<String> words) {
        java.util.Objects.requireNonNull(words, "WordVocabulary.of: words is null");
        for (int id = 0; id < words.size(); id++) {   // List.copyOf said only "null"
            if (words.get(id) == null) {
                throw new NullPointerException("WordVocabulary.of: word " + id + " of " + words.size() + " is null");
            }
        }
        return new WordVocabulary(words);
    }

    /**
     * Reads a vocabulary file: one word a line in id order, UTF-8, lines ending in \n or \r\n (the last may
     * have none), as {@link #write(Path)} writes it.
     *
     * @param file the file
     * @return the vocabulary
     * @throws DataFileException naming the line of bad UTF-8, a carriage return not before a line feed, an empty
     *         line, a word holding whitespace or a word listed twice, or the file if it is empty or a folder
     * @throws IOException if it cannot be read
     * @throws NullPointerException if file is null
     */
    public static WordVocabulary read(Path file) throws IOException {
        // said "RegularFile.refusal: file is null", a call of its insides
        java.util.Objects.requireNonNull(file, "WordVocabulary.read: file is null");
        byte[] bytes = TextLines.readAll(file);
        if (TextLines.holdsNothing(bytes)) {
            throw new DataFileException(file, 0, "the file is empty (or holds only a byte order mark); expected one word a line");
        }
        List<String> words = new ArrayList<>();
        Map<String, Integer> lines = new HashMap<>();
        TextLines.forEach(file, bytes, (word, number, newlineFollows) -> {
            if (word.isEmpty()) {
                throw new DataFileException(file, number, "an empty line; expected one word a line");
            }
            if (word.chars().anyMatch(c -> WordCorpus.isSpace((char) c))) {
                throw new DataFileException(file, number, DataFileException.quote(word)
                        + " holds a space; expected one word a line");
            }
            Integer first = lines.putIfAbsent(word, number);
            if (first != null) {
                throw new DataFileException(file, number, "word " + DataFileException.quote(word)
                        + " is listed twice (line " + first + ")");
            }
            words.add(word);
        });
        return new WordVocabulary(words);
    }

    /**
     * Writes the vocabulary file that {@link #read(Path)} reads, atomically: one word a line, '\n' after each.
     *
     * @param file the file; its folder must exist
     * A first word that starts with U+FEFF is written after a byte order mark, which read skips, so that it reads back
     * whole.
     *
     * @throws IllegalStateException if a word is empty, holds whitespace or a NUL character, or is not valid Unicode
     *                               (a lone surrogate): it would not read back as it is (nothing is written)
     * @throws IOException if it cannot be written (a previous file there stays as it was)
     * @throws NullPointerException if file is null
     */
    public void write(Path file) throws IOException {
        // a bare "Cannot invoke Path.toAbsolutePath()" from inside
        java.util.Objects.requireNonNull(file, "WordVocabulary.write: file is null");
        StringBuilder sb = new StringBuilder();
        if (!words.isEmpty() && words.get(0).startsWith("\uFEFF")) {   // read takes a leading U+FEFF for a BOM
            sb.append('\uFEFF');
        }
        java.nio.charset.CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        for (String w : words) {
            String problem = w.isEmpty() || w.chars().anyMatch(c -> WordCorpus.isSpace((char) c)) ? "is not one word"
                    : w.indexOf('\0') >= 0 ? "holds a NUL character, which read refuses"
                    : !utf8.canEncode(w) ? "is not valid Unicode (a lone surrogate), which UTF-8 cannot hold" : null;
            if (problem != null) {   // a lone surrogate was written as '?', a NUL written and then refused by read
                throw new IllegalStateException("word " + DataFileException.quote(w) + " " + problem + "; it would not "
                        + "read back as one word a line");
            }
            sb.append(w).append('\n');
        }
        org.seq4j.io.AtomicOutput.write(file, out -> out.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /** Collects words in first-seen order and gives each occurrence its id. */
    public static final class Builder {
        private final List<String> words = new ArrayList<>();
        private final Map<String, Integer> ids = new HashMap<>();

        /** An empty builder. */
        public Builder() {
        }

        /**
         * The id of {@code word}, adding it if it is new.
         *
         * @param word the word
         * @return its id
         * @throws NullPointerException if word is null (it took one an id, and build failed on it with a bare
         *                              NullPointerException)
         */
        public int add(String word) {
            java.util.Objects.requireNonNull(word, "WordVocabulary.Builder.add: word is null");
            Integer id = ids.get(word);
            if (id == null) {
                id = words.size();
                ids.put(word, id);
                words.add(word);
            }
            return id;
        }

        /**
         * The vocabulary of the words added so far.
         *
         * @return the vocabulary
         */
        public WordVocabulary build() {
            return new WordVocabulary(words);
        }
    }

    /**
     * An empty builder.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The number of words.
     *
     * @return V
     */
    public int size() {
        return words.size();
    }

    /**
     * Whether the word has an id.
     *
     * @param word the word
     * @return true if it is in the vocabulary
     */
    public boolean contains(String word) {
        return ids.containsKey(word);
    }

    /**
     * The id of {@code word}.
     *
     * @param word the word
     * @return its id, or -1 if it is not in the vocabulary
     */
    public int idOf(String word) {
        return ids.getOrDefault(word, -1);
    }

    /**
     * The word with id {@code id}.
     *
     * @param id an id in [0, size)
     * @return the word
     * @throws IllegalArgumentException if the id is outside [0, size)
     */
    public String word(int id) {
        if (id < 0 || id >= words.size()) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + words.size() + " words");
        }
        return words.get(id);
    }

    /**
     * All words in id order.
     *
     * @return an unmodifiable list
     */
    public List<String> words() {
        return words;
    }

    /**
     * The words of {@code ids} joined by single spaces.
     *
     * @param ids ids in [0, size)
     * @return the text
     * @throws IllegalArgumentException if an id is outside [0, size)
     * @throws NullPointerException if ids is null
     */
    public String decode(int[] ids) {
        java.util.Objects.requireNonNull(ids, "WordVocabulary.decode: ids is null");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            sb.append(i > 0 ? " " : "").append(word(ids[i]));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WordVocabulary v && words.equals(v.words);
    }

    @Override
    public int hashCode() {
        return words.hashCode();
    }

    @Override
    public String toString() {
        return "WordVocabulary(" + size() + " words)";
    }
}
