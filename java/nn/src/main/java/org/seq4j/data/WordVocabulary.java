// A word vocabulary: ids 0..size-1 in first-seen order, as the book's dataset/ptb.py builds
// word_to_id / id_to_word. Immutable.
package org.seq4j.data;

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
     */
    public static WordVocabulary of(List<String> words) {
        return new WordVocabulary(words);
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
         */
        public int add(String word) {
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
     */
    public String decode(int[] ids) {
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
