// A tiny seeded text corpus for language-model tests and demos (PTB cannot be downloaded here): one
// sentence per line from a small English grammar, lower case, words separated by spaces, like PTB's
// text. About 60 words; a small share of nouns is written "<unk>" as PTB writes rare words.
//   sentence    = noun-phrase verb-phrase
//   noun-phrase = det [adj] noun
//   verb-phrase = verb noun-phrase | verb prep noun-phrase | intransitive-verb
package org.seq4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.seq4j.io.AtomicOutput;

/**
 * A tiny seeded text corpus for language-model tests and demos: one sentence per line from a small English
 * grammar, lower case, words separated by spaces, with a small share of nouns written "&lt;unk&gt;" as PTB does.
 */
public final class TinyCorpus {
    private static final String[] DETERMINERS = {"the", "a", "every", "some", "my", "your"};
    private static final String[] ADJECTIVES = {"big", "small", "red", "old", "young", "happy", "quiet", "green"};
    private static final String[] NOUNS = {"cat", "dog", "man", "woman", "bird", "car", "house", "tree", "child",
        "ball", "book", "river", "city", "teacher", "farmer", "horse"};
    private static final String[] VERBS = {"sees", "likes", "chases", "finds", "watches", "follows", "takes", "hears"};
    private static final String[] PREPOSITIONS = {"near", "under", "with", "behind", "beside"};
    private static final String[] INTRANSITIVE = {"sleeps", "runs", "sings", "waits", "falls", "laughs"};
    /** Share of nouns written as "<unk>". */
    private static final double UNK_RATE = 0.03;

    /** The most sentences drawn at once: text(count) must fit one Java String (2^31 - 1 characters). */
    public static final int MAX_COUNT = 1 << 24;

    private TinyCorpus() {
    }

    /**
     * {@code count} sentences drawn with {@code seed}, one per string, words separated by single spaces.
     *
     * @param count how many, at least 1
     * @param seed  the draw's seed; the same seed gives the same sentences
     * @return the sentences
     * @throws IllegalArgumentException if count is below 1 or above {@link #MAX_COUNT}
     */
    public static List<String> sentences(int count, long seed) {
        if (count < 1) {
            throw new IllegalArgumentException("sentence count must be at least 1; got " + count);
        }
        if (count > MAX_COUNT) {   // new ArrayList<>(count) was the VM's OutOfMemoryError ("exceeds VM limit")
            throw new IllegalArgumentException("TinyCorpus: sentence count " + count + " is more than the " + MAX_COUNT
                    + " whose text (a few dozen characters a sentence) fits one Java String");
        }
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            List<String> words = new ArrayList<>();
            nounPhrase(r, words);
            switch (r.nextInt(3)) {
                case 0 -> {
                    words.add(pick(r, VERBS));
                    nounPhrase(r, words);
                }
                case 1 -> {
                    words.add(pick(r, VERBS));
                    words.add(pick(r, PREPOSITIONS));
                    nounPhrase(r, words);
                }
                default -> words.add(pick(r, INTRANSITIVE));
            }
            out.add(String.join(" ", words));
        }
        return out;
    }

    /**
     * The sentences as a text, one per line, each line ending in '\n'.
     *
     * @param count how many, at least 1
     * @param seed  the draw's seed
     * @return the text
     * @throws IllegalArgumentException if count is below 1 or above {@link #MAX_COUNT}
     */
    public static String text(int count, long seed) {
        return String.join("\n", sentences(count, seed)) + "\n";
    }

    /**
     * Writes text(count, seed) to {@code file} (UTF-8), atomically.
     *
     * @param file  the file; its folder must exist
     * @param count how many sentences, at least 1
     * @param seed  the draw's seed
     * @throws IOException if it cannot be written
     * @throws NullPointerException if file is null
     */
    public static void write(Path file, int count, long seed) throws IOException {
        // named (a bare "Cannot invoke Path.toAbsolutePath()" from inside, after drawing every sentence)
        java.util.Objects.requireNonNull(file, "TinyCorpus.write: file is null");
        byte[] bytes = text(count, seed).getBytes(StandardCharsets.UTF_8);
        AtomicOutput.write(file, out -> out.write(bytes));
    }

    private static void nounPhrase(SplittableRandom r, List<String> words) {
        words.add(pick(r, DETERMINERS));
        if (r.nextBoolean()) {
            words.add(pick(r, ADJECTIVES));
        }
        words.add(r.nextDouble() < UNK_RATE ? WordVocabulary.UNK : pick(r, NOUNS));
    }

    private static String pick(SplittableRandom r, String[] words) {
        return words[r.nextInt(words.length)];
    }
}
