// Small pieces the commands share: parsing a task name, reading a checkpoint's description, the
// right/wrong mark, and an evaluation loss.
package org.seq4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.SequenceDataset;
import org.seq4j.data.SequencePairs;
import org.seq4j.data.WordVocabulary;
import org.seq4j.models.Model;
import org.seq4j.tensor.Tensor;
import org.seq4j.train.Batches;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.CheckpointException;
import org.seq4j.train.ModelSpec;
import org.seq4j.train.ModelSpec.Task;

final class Cli {
    /**
     * A shutdown hook for as long as a command runs: added now, removed by close(); it runs if the JVM shuts down
     * first (Ctrl-C, SIGTERM).
     */
    static final class ShutdownHook implements AutoCloseable {
        private final Thread hook;

        ShutdownHook(String name, Runnable action) {
            hook = new Thread(action, name);
            Runtime.getRuntime().addShutdownHook(hook);
        }

        @Override
        public void close() {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs
            }
        }
    }

    /**
     * One line on stderr if the JVM shuts down while a command that writes no file runs: eval and generate ended with
     * exit code 130 or 143 and no word, where train says where it stopped.
     */
    static ShutdownHook interruptLine(PrintWriter err, String command) {
        return new ShutdownHook("seq4j interrupt line", () -> {
            err.println("seq4j: interrupted; " + command + " writes no file, so none is left half-written");
            err.flush();
        });
    }

    private Cli() {
    }

    /**
     * Refuses a path option given empty (or blank), before anything else is done: Path.of("") is the working folder,
     * which --data "" reported as "seq4j: : is a folder; expected a text file", and only after eval had opened the
     * backend and loaded the model.
     */
    static void requireNotEmpty(String option, Path value, String expected) {
        if (value != null && value.toString().isBlank()) {
            throw new BadInputException(option + " is empty; give " + expected);
        }
    }

    static Task task(String name) {
        try {
            return Task.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadInputException("unknown task '" + name + "'; choose addition, date, waves or lm");
        }
    }

    /** A checkpoint chosen for eval or generate: its .npz file, its description, and the model it describes. */
    record Saved(Path file, Properties meta, ModelSpec spec) {
        String require(String key) throws CheckpointException {
            return Checkpoint.require(meta, key, file);
        }

        int requireInt(String key, int min) throws CheckpointException {
            return Checkpoint.requireInt(meta, key, min, file);
        }

        int requireInt(String key, int min, int max) throws CheckpointException {
            return Checkpoint.requireInt(meta, key, min, max, file);
        }

        /**
         * A whole number of at least {@code min} in the description, or {@code absent} where it has none (a checkpoint
         * of a version that did not record it).
         */
        int optionalInt(String key, int min, int absent) throws CheckpointException {
            return meta.getProperty(key) == null ? absent : requireInt(key, min);
        }

        /**
         * Whether the model's training questions held spaces other than the padding on their right (see
         * {@link Cli#innerSpace}), or null where the checkpoint does not say (an older version's).
         */
        Boolean questionInnerSpaces() throws CheckpointException {
            String v = meta.getProperty(QUESTION_INNER_SPACES);
            return switch (v == null ? null : v.strip().toLowerCase(Locale.ROOT)) {
                case null -> null;
                case "true" -> true;
                case "false" -> false;
                default -> throw new CheckpointException(file, "its " + Checkpoint.META + " has " + QUESTION_INNER_SPACES
                        + "=" + v + "; expected true or false");
            };
        }

        /** A seq2seq model's characters, one per id of its vocab V: more would feed ids the model has no row for. */
        CharVocabulary characters() throws CheckpointException {
            CharVocabulary v;
            try {
                v = CharVocabulary.of(require("vocabulary"));
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(file, "its vocabulary is not one: " + e.getMessage(), e);
            }
            if (v.size() != spec.vocab()) {
                throw new CheckpointException(file, "its vocabulary has " + v.size() + " characters but vocab="
                        + spec.vocab() + "; they must agree");
            }
            return v;
        }

        /**
         * A language model's vocabulary.txt, beside the checkpoint: one word a line, one per id of its vocab V, and
         * the very words it was trained with where the checkpoint records their fingerprint (older ones do not).
         */
        WordVocabulary words() throws IOException {
            Path f = file.toAbsolutePath().resolveSibling("vocabulary.txt");
            if (!Files.exists(f)) {
                throw new CheckpointException(file, "a language model's checkpoint needs the vocabulary.txt of its run "
                        + "folder beside it (its words, one a line in id order); there is no " + f);
            }
            WordVocabulary v = WordVocabulary.read(f);
            if (v.size() != spec.vocab()) {
                throw new CheckpointException(f, "has " + v.size() + " words but the model beside it (" + file
                        + ") has vocab=" + spec.vocab() + "; they must agree");
            }
            // as many words, in another order (a later run into the folder, on another text): every id another word
            String trained = meta.getProperty(VOCABULARY_FINGERPRINT);
            String found = fingerprint(v);
            if (trained != null && !trained.strip().equals(found)) {
                throw new CheckpointException(f, "is not the vocabulary " + file + " was trained with (its words' "
                        + "fingerprint is " + found + ", the checkpoint's " + trained.strip() + "); use the "
                        + "vocabulary.txt of that checkpoint's own run");
            }
            return v;
        }
    }

    /** The checkpoint that --checkpoint (a run folder or a .npz) and --weights name, and says which it is. */
    static Saved checkpoint(Path checkpoint, Checkpoint.Pick pick, PrintWriter o) throws IOException {
        if (pick != null && Files.isRegularFile(checkpoint)) {
            throw new BadInputException("--weights picks best.npz or model.npz in a run folder; " + checkpoint
                    + " is one checkpoint already (drop --weights, or give its folder)");
        }
        Path file = Checkpoint.file(checkpoint, pick);
        Properties meta = Checkpoint.meta(file);
        Saved s = new Saved(file, meta, ModelSpec.load(meta, file));
        String epoch = meta.getProperty("epoch"), metric = meta.getProperty("metric"), value = meta.getProperty("metric_value");
        String shown = value;
        try {
            double v = Double.parseDouble(value);
            shown = metric.contains("accuracy") ? String.format("%.2f%%", 100 * v) : String.format("%.6g", v);
        } catch (NullPointerException | NumberFormatException e) {
            // an older checkpoint: no metric to show
        }
        o.printf("checkpoint: %s%s%n", file, epoch == null ? "" : " (epoch " + epoch
                + (metric != null && shown != null ? ", " + metric + " " + shown : "") + ")");
        o.flush();
        return s;
    }

    /** The description's key of the training data's fingerprint (see fingerprint). */
    static final String DATA_FINGERPRINT = "data_fingerprint";

    /** A language model's description's key of its vocabulary.txt's fingerprint (see fingerprint(WordVocabulary)). */
    static final String VOCABULARY_FINGERPRINT = "vocabulary_fingerprint";

    /**
     * A fingerprint of a data set as the model read it: the ids of a seq2seq set's rows (train then test, as shuffled,
     * questions as written) or of a corpus's words; the first 16 hex digits of their SHA-256. Line ends, a byte
     * order mark and spacing between words do not change it; any change of content does.
     */
    static String fingerprint(int[]... arrays) {
        MessageDigest sha = sha256();
        ByteBuffer b = ByteBuffer.allocate(4 << 10);
        for (int[] a : arrays) {
            b.putInt(a.length);
            for (int v : a) {
                if (b.remaining() < 4) {
                    sha.update(b.flip());
                    b.clear();
                }
                b.putInt(v);
            }
            sha.update(b.flip());
            b.clear();
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 8);
    }

    /**
     * A fingerprint of a word vocabulary: the first 16 hex digits of the SHA-256 of its words in id order, each
     * followed by '\n', in UTF-8 (vocabulary.txt as WordVocabulary.write writes it).
     */
    static String fingerprint(WordVocabulary v) {
        MessageDigest sha = sha256();
        for (String w : v.words()) {
            sha.update((w + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 8);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** The fingerprint of a seq2seq data set: its train rows, then its test rows, questions then answers. */
    static String fingerprint(SequenceDataset ds) {
        List<int[]> rows = new ArrayList<>();
        for (SequencePairs p : List.of(ds.train(), ds.test())) {
            rows.addAll(Arrays.asList(p.x()));
            rows.addAll(Arrays.asList(p.t()));
        }
        return fingerprint(rows.toArray(int[][]::new));
    }

    /**
     * The training data a checkpoint names (its "data"), where eval takes its held-out part from. One that is not there
     * (the run folder moved or copied, or the file deleted) is named as such, with the file of that name beside the
     * checkpoint where there is one: it said only "no such file: .../addition.txt (no such data file)", of a path the
     * user never gave.
     */
    static Path trainingData(Saved saved) throws org.seq4j.train.CheckpointException {
        Path file = Path.of(saved.require("data"));
        if (java.nio.file.Files.exists(file)) {
            return file;
        }
        Path beside = saved.file().toAbsolutePath().resolveSibling(file.getFileName());
        throw new BadInputException("the training data " + saved.file() + " names, " + file + ", is not there (the run "
                + "folder moved or copied?); " + (java.nio.file.Files.isRegularFile(beside) ? "give --data " + beside
                : "give the data to evaluate on with --data"));
    }

    /**
     * Refuses to evaluate on the training data's held-out part when the file at its path is no longer what the model
     * was trained on (edited, regenerated, replaced): its "test split" would be other questions, some of them
     * trained on, and the score printed as if held out. A checkpoint of an older version carries no fingerprint.
     */
    static void checkTrainingData(Saved saved, Path file, String fingerprint) {
        String trained = saved.meta().getProperty(DATA_FINGERPRINT);
        if (trained != null && !trained.strip().equals(fingerprint)) {
            throw new BadInputException(file + " is no longer the data " + saved.file() + " was trained on (it has "
                    + "changed since), so its held-out part is not the one held out in training; to evaluate on the "
                    + "file as it is now, name it with --data");
        }
    }

    /** A language model's description's key of the streams its run validated with (eval validates with as many). */
    static final String VALID_BATCH = "valid_batch";

    /** A language model's description's key of the steps of each stream its run validated with. */
    static final String VALID_TIME = "valid_time";

    /** The description's key of whether the training questions held spaces other than the padding on their right. */
    static final String QUESTION_INNER_SPACES = "question_inner_spaces";

    /**
     * Where a question (code points, or ids) holds a space other than the padding on its right: 0 for one it
     * starts with, else the 1-based position of the first space that a character follows; -1 for none. Training
     * questions are left-aligned and padded on the right; date questions hold inner spaces ("september 27, 1994"),
     * addition's do not.
     */
    static int innerSpace(int[] question, int space) {
        int last = question.length - 1;
        while (last >= 0 && question[last] == space) {
            last--;
        }
        if (last < 0 && question.length > 0) {
            return 0; // all spaces: none of it is a question padded on the right
        }
        for (int i = 0; i < last; i++) {
            if (question[i] == space) {
                return i == 0 ? 0 : i + 1;
            }
        }
        return -1;
    }

    /** Whether any of the questions (ids) holds a space other than the padding on its right (see innerSpace). */
    static boolean anyInnerSpace(int space, int[][]... questions) {
        for (int[][] rows : questions) {
            for (int[] q : rows) {
                if (innerSpace(q, space) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Why a model would misread a question (code points or ids, as written: unpadded, unreversed), or null: a leading
     * space, as its training questions start with their first character, or a space between its characters where
     * the training questions had none (innerSpaces false; null, an older checkpoint, does not say). The model read
     * " 2+6" as 78 and "2 + 6" as 32.
     */
    static String spaceProblem(int[] question, int space, Boolean innerSpaces) {
        int at = innerSpace(question, space);
        if (at == 0) {
            return "starts with a space; the model reads questions from their first character, padded with spaces on "
                    + "the right, as it was trained";
        }
        if (at > 0 && Boolean.FALSE.equals(innerSpaces)) {
            return "holds a space at position " + at + "; the questions this model was trained on hold none but the "
                    + "padding on their right";
        }
        return null;
    }

    /** The widest beam --beam takes: K hypotheses a question, each a row of every decoding step. */
    static final int MAX_BEAM = 4096;

    /** Refuses a --beam below 1 or above MAX_BEAM (null: not given). */
    static void checkBeam(Integer beam) {
        if (beam != null && (beam < 1 || beam > MAX_BEAM)) {
            throw new BadInputException("--beam must be from 1 to " + MAX_BEAM + " hypotheses, got " + beam);
        }
    }

    /**
     * A model's beam search over the user's --beam (and --length): its IllegalArgumentException says the options ask
     * for what cannot be given, a K more than the answers there are to rank, or a search whose arrays the Java heap
     * cannot hold, all found before the search runs. That is bad input (one line, exit code 2, as --beam 0 is), not an
     * internal error; the line starts with the options.
     *
     * @param options the options as the user gave them, e.g. "--beam 20"
     * @param search  the model's call
     * @param <T>     what it returns
     * @return what search returns
     */
    static <T> T beamSearch(String options, java.util.function.Supplier<T> search) {
        try {
            return search.get();
        } catch (IllegalArgumentException e) {
            throw new BadInputException(options + ": " + e.getMessage(), e);
        }
    }

    /** A precision as the command line spells it: f32, bf16. */
    static String lower(org.seq4j.backend.PackedMatrix.Precision precision) {
        return precision.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The book's check marks where the terminal speaks UTF-8, O and X elsewhere. */
    static String mark(boolean right) {
        boolean utf8 = Charset.forName(System.getProperty("stdout.encoding", "UTF-8"), StandardCharsets.US_ASCII)
                .equals(StandardCharsets.UTF_8);
        return right ? (utf8 ? "\u2611" : "O") : (utf8 ? "\u2612" : "X");
    }

    /**
     * The name of a waves run's evaluation metric (metrics.csv's column, the chart, train's and eval's lines), which is
     * the models' loss, seed 004's scale: 0.5 x the squared errors summed over the scored steps, divided by the N
     * windows. It was named "MSE loss (eval)", but it is half the mean squared error for the predictor (one step
     * scored) and 12 times it for seq2seq (24 steps).
     */
    static final String WAVES_LOSS = "eval loss (0.5 SSE/N)";

    /**
     * The model's loss on every example of the set at once, with dropout off; the gradients are untouched and the
     * model is left in the mode it was in (isTraining), also when the forward throws.
     */
    static double regressionLoss(Model m, Batches set) {
        int[] order = new int[set.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor[] t = set.allocate(m.backend(), arena, set.size());
            set.fill(m.backend(), order, 0, t[0], t[1]);
            boolean wasTraining = m.isTraining();
            m.setTraining(false);
            try {
                return m.forward(t[0], t[1]);
            } finally {
                m.setTraining(wasTraining);
            }
        }
    }
}
