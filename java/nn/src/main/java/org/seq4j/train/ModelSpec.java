// What a model is, as saved in model.properties: the task, the model kind, its recurrent cell (lstm or gru;
// absent in older checkpoints, which are lstm), its sizes and seed, and the input order. Builds the model on a backend, for training and for reloading a checkpoint.
package org.seq4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.SequencedMap;
import org.seq4j.backend.Backend;
import org.seq4j.data.DataFileException;
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.models.BetterRnnlm;
import org.seq4j.models.Model;
import org.seq4j.models.PeekySeq2seq;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seq;
import org.seq4j.models.SimpleRnnlm;
import org.seq4j.models.WavePredictor;
import org.seq4j.models.WaveSeq2seq;

/**
 * What a model is, as saved in model.properties: the task, the model kind, its recurrent cell, its sizes and seed,
 * and the input order. Builds the model on a backend, for training and for reloading a checkpoint.
 *
 * @param task    what is learned
 * @param kind    the model kind, one of {@code task.kinds()}
 * @param vocab   vocabulary size V (unused for waves)
 * @param wordvec word vector size D
 * @param hidden  hidden size H
 * @param dropout BetterRnnlm's dropout ratio
 * @param reverse whether questions are fed reversed
 * @param seed    the initial weights' seed
 * @param bidirectional whether the attention model's encoder reads the question in both directions
 * @param cell    the recurrent cell (Cell.LSTM in checkpoints that do not name one); another than Cell.LSTM only
 *                where {@link #hasCellChoice(Task, String)} (a bidirectional attention encoder may be GRU too)
 */
public record ModelSpec(Task task, String kind, int vocab, int wordvec, int hidden, float dropout, boolean reverse,
                        long seed, boolean bidirectional, Cell cell) {

    /** What is learned: the book's toy sets, the wave regressions, or a word-level language model. */
    public enum Task {
        /** The book's addition problems (ch07). */
        ADDITION,
        /** The book's date formats (ch08). */
        DATE,
        /** Sine and cosine wave regressions. */
        WAVES,
        /** A word-level language model (ch05, ch06). */
        LM;

        /**
         * The model kinds this task accepts, the first being the default.
         *
         * @return the kinds
         */
        public String[] kinds() {
            return switch (this) {
                case ADDITION, DATE -> new String[] {"attention", "baseline", "reverse", "peeky"};
                case WAVES -> new String[] {"seq2seq", "predictor"};
                case LM -> new String[] {"rnnlm", "simple", "better"};
            };
        }

        /**
         * The task as the command line spells it.
         *
         * @return the name in lower case
         */
        public String lower() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Checks that the task has this kind of model, and that the cell and bidirectional fit it.
     *
     * @throws IllegalArgumentException if a size is below 1 (vocab below 0 for waves), dropout is not in [0, 1), the
     *         task has no model of this kind, the kind has no choice of cell but the cell is not Cell.LSTM, or
     *         bidirectional is asked for with another kind than attention
     * @throws NullPointerException if task, kind or cell is null
     */
    public ModelSpec {
        java.util.Objects.requireNonNull(task, "ModelSpec: task is null");
        java.util.Objects.requireNonNull(kind, "ModelSpec: kind is null");
        // what load refuses in a checkpoint, refused here: a spec accepted here was saved, then could not be read back
        if (vocab < (task == Task.WAVES ? 0 : 1) || wordvec < 1 || hidden < 1) {
            throw new IllegalArgumentException("ModelSpec: vocab " + vocab + ", wordvec " + wordvec + ", hidden " + hidden
                    + "; expected each at least 1 (vocab at least 0 for waves, which do not use it)");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("ModelSpec: dropout " + dropout + "; expected a ratio in [0, 1)");
        }
        if (!java.util.Arrays.asList(task.kinds()).contains(kind)) {
            throw new IllegalArgumentException("task " + task.lower() + " has no model '" + kind + "'; choose one of "
                    + String.join(", ", task.kinds()));
        }
        java.util.Objects.requireNonNull(cell, "cell");
        if (cell != Cell.LSTM && !hasCellChoice(task, kind)) {
            throw new IllegalArgumentException("model '" + kind + "' of task " + task.lower() + " has no choice of cell; "
                    + "cell " + cell.lower() + " applies to the addition and date models and the lm models rnnlm and better");
        }
        if (bidirectional && !kind.equals("attention")) {
            throw new IllegalArgumentException("only the attention model has a bidirectional encoder, not '" + kind + "'");
        }
    }

    /**
     * A model with a one-directional encoder (every model but a bidirectional attention seq2seq).
     *
     * @param task    what is learned
     * @param kind    the model kind, one of {@code task.kinds()}
     * @param vocab   vocabulary size V (unused for waves)
     * @param wordvec word vector size D
     * @param hidden  hidden size H
     * @param dropout BetterRnnlm's dropout ratio
     * @param reverse whether questions are fed reversed
     * @param seed    the initial weights' seed
     * @throws IllegalArgumentException if the task has no model of this kind
     */
    public ModelSpec(Task task, String kind, int vocab, int wordvec, int hidden, float dropout, boolean reverse,
                     long seed) {
        this(task, kind, vocab, wordvec, hidden, dropout, reverse, seed, false, Cell.LSTM);
    }

    /**
     * A model with the book's LSTM, its encoder bidirectional or not.
     *
     * @param task    what is learned
     * @param kind    the model kind, one of {@code task.kinds()}
     * @param vocab   vocabulary size V (unused for waves)
     * @param wordvec word vector size D
     * @param hidden  hidden size H
     * @param dropout BetterRnnlm's dropout ratio
     * @param reverse whether questions are fed reversed
     * @param seed    the initial weights' seed
     * @param bidirectional whether the attention model's encoder reads the question in both directions
     * @throws IllegalArgumentException if the task has no model of this kind, or bidirectional is asked for with
     *         another kind than attention
     */
    public ModelSpec(Task task, String kind, int vocab, int wordvec, int hidden, float dropout, boolean reverse,
                     long seed, boolean bidirectional) {
        this(task, kind, vocab, wordvec, hidden, dropout, reverse, seed, bidirectional, Cell.LSTM);
    }

    /**
     * Whether the model kind can be built with another cell than the LSTM (Cell.GRU).
     *
     * @param task what is learned
     * @param kind the model kind
     * @return true for the addition and date models and the lm models but "simple"
     */
    public static boolean hasCellChoice(Task task, String kind) {
        return switch (task) {
            case ADDITION, DATE -> true;
            case LM -> !kind.equals("simple");
            case WAVES -> false;
        };
    }

    /**
     * Whether the questions are fed reversed by default: all but the baseline (the book's chapter 7 tricks).
     *
     * @param kind the model kind
     * @return true unless kind is "baseline"
     */
    public static boolean reversedByDefault(String kind) {
        return !kind.equals("baseline");
    }

    /**
     * The model saved in {@code checkpoint} (a .npz, or a run folder's model.npz), ready for inference (dropout off).
     *
     * @param backend where the model lives
     * @param checkpoint a .npz file or a run folder
     * @return the model with the saved parameters; close it
     * @throws IOException if the checkpoint cannot be read or does not fit this spec (a CheckpointException where
     *         its sizes make no model, e.g. a hidden size whose parameters would not fit in memory; an
     *         NpzFormatException naming the parameter where the arrays' names or shapes differ from this spec's,
     *         found from their headers before the model is built)
     */
    public Model restore(Backend backend, Path checkpoint) throws IOException {
        SequencedMap<String, int[]> shapes;
        try {
            shapes = parameterShapes(backend);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(checkpoint, "its description makes no model: " + e.getMessage(), e);
        }
        // from the arrays' headers, before the model is built: a description edited to hidden=16000 built a 16 GB
        // model (or ran out of heap doing so) and only then found that the arrays do not fit it
        Checkpoint.requireShapes(checkpoint, shapes, "its " + Checkpoint.META + " implies (" + task.lower() + " "
                + kind + ": vocab=" + vocab + ", wordvec=" + wordvec + ", hidden=" + hidden + ", cell=" + cell.lower()
                + (bidirectional ? ", bidirectional" : "") + ")");
        Model m;
        try {
            m = create(backend);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(checkpoint, "its description makes no model: " + e.getMessage(), e);
        }
        try {
            Checkpoint.load(checkpoint, m);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
        m.setTraining(false);
        return m;
    }

    /**
     * The parameters {@link #create} declares, by name in its order, with their shapes, from the models' own
     * declarations (Seq2seq.declare, ...) with nothing allocated: what restore compares a checkpoint's arrays with
     * before it builds the model.
     *
     * @param backend the backend the model would live on (nothing is allocated on it)
     * @return name to shape
     * @throws IllegalArgumentException if the sizes make no model (the model's own words: a dimension past an int,
     *         BetterRnnlm's D != H, an odd H for a bidirectional encoder)
     */
    SequencedMap<String, int[]> parameterShapes(Backend backend) {
        ParameterStore.Builder b = ParameterStore.builder(backend);
        ParameterStore.Builder declared = switch (task) {
            case ADDITION, DATE -> switch (kind) {
                case "baseline", "reverse" -> Seq2seq.declare(b, vocab, wordvec, hidden, cell);
                case "peeky" -> PeekySeq2seq.declare(b, vocab, wordvec, hidden, cell);
                default -> AttentionSeq2seq.declare(b, vocab, wordvec, hidden, cell, bidirectional);
            };
            case WAVES -> kind.equals("predictor") ? WavePredictor.declare(b, 1, hidden)
                    : WaveSeq2seq.declare(b, 1, 1, hidden);
            case LM -> switch (kind) {
                case "simple" -> SimpleRnnlm.declare(b, vocab, wordvec, hidden);
                case "better" -> BetterRnnlm.declare(b, vocab, wordvec, hidden, cell);
                default -> Rnnlm.declare(b, vocab, wordvec, hidden, cell);
            };
        };
        return declared.shapes();
    }

    /**
     * A new model of this spec, with weights from its seed.
     *
     * @param backend where the model lives
     * @return the model; close it
     */
    public Model create(Backend backend) {
        return switch (task) {
            case ADDITION, DATE -> switch (kind) {
                case "baseline", "reverse" -> new Seq2seq(backend, vocab, wordvec, hidden, cell, seed);
                case "peeky" -> new PeekySeq2seq(backend, vocab, wordvec, hidden, cell, seed);
                default -> new AttentionSeq2seq(backend, vocab, wordvec, hidden, cell, seed, bidirectional);
            };
            case WAVES -> kind.equals("predictor") ? new WavePredictor(backend, 1, hidden, seed)
                    : new WaveSeq2seq(backend, 1, 1, hidden, seed);
            case LM -> switch (kind) {
                case "simple" -> new SimpleRnnlm(backend, vocab, wordvec, hidden, seed);
                case "better" -> new BetterRnnlm(backend, vocab, wordvec, hidden, dropout, cell, seed);
                default -> new Rnnlm(backend, vocab, wordvec, hidden, cell, seed);
            };
        };
    }

    /**
     * Writes this spec as properties (task, model, vocab, wordvec, hidden, dropout, reverse, seed, bidirectional,
     * cell).
     *
     * @param p the description to write into
     */
    public void store(Properties p) {
        p.setProperty("task", task.lower());
        p.setProperty("model", kind);
        p.setProperty("vocab", Integer.toString(vocab));
        p.setProperty("wordvec", Integer.toString(wordvec));
        p.setProperty("hidden", Integer.toString(hidden));
        p.setProperty("dropout", Float.toString(dropout));
        p.setProperty("reverse", Boolean.toString(reverse));
        p.setProperty("seed", Long.toString(seed));
        p.setProperty("bidirectional", Boolean.toString(bidirectional));
        p.setProperty("cell", cell.lower());
    }

    /**
     * The spec a checkpoint's description names.
     *
     * @param p    the description
     * @param file the checkpoint, for messages
     * @return the spec
     * @throws CheckpointException naming the file and the property if one is missing or invalid
     */
    public static ModelSpec load(Properties p, Path file) throws CheckpointException {
        // names stripped as numbers are: "task=addition " was refused with the space invisible in the message
        String taskName = Checkpoint.require(p, "task", file).strip();
        Task task;
        try {
            task = Task.valueOf(taskName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "its " + Checkpoint.META + " has task="
                    + DataFileException.quote(taskName) + "; expected addition, date, waves or lm");
        }
        String kind = Checkpoint.require(p, "model", file).strip();
        if (!java.util.Arrays.asList(task.kinds()).contains(kind)) {
            throw new CheckpointException(file, "its " + Checkpoint.META + " has model=" + kind + ", which task "
                    + task.lower() + " does not have (" + String.join(", ", task.kinds()) + ")");
        }
        int vocab = Checkpoint.requireInt(p, "vocab", task == Task.WAVES ? 0 : 1, file);
        int wordvec = Checkpoint.requireInt(p, "wordvec", 1, file);
        int hidden = Checkpoint.requireInt(p, "hidden", 1, file);
        float dropout;
        long seed;
        String dropoutText = p.getProperty("dropout", "0").strip(), seedText = p.getProperty("seed", "0").strip();
        try {
            // a decimal number as the writer gives it (Float.toString): not a hexadecimal float, nor "NaN" with a
            // trailing "f" that parseFloat takes
            if (!dropoutText.matches("[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")) {
                throw new NumberFormatException(dropoutText);
            }
            dropout = Float.parseFloat(dropoutText);
        } catch (NumberFormatException e) {
            throw new CheckpointException(file, "its " + Checkpoint.META + " has dropout=" + dropoutText
                    + "; expected a decimal ratio in [0, 1)");
        }
        try {
            seed = Long.parseLong(Checkpoint.asciiInteger(seedText));
        } catch (NumberFormatException e) {   // past a long too: named, as the other keys are
            throw new CheckpointException(file, "its " + Checkpoint.META + " has seed=" + seedText
                    + "; expected a whole number of at most 19 digits (a long)");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new CheckpointException(file, "its " + Checkpoint.META + " has dropout=" + dropout
                    + "; expected a ratio in [0, 1)");
        }
        String cellName = p.getProperty("cell", "lstm").strip(); // checkpoints from before the GRU have no cell: lstm
        Cell cell;
        try {
            cell = Cell.of(cellName);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "its " + Checkpoint.META + " has cell=" + cellName
                    + "; expected lstm or gru");
        }
        if (cell != Cell.LSTM && !hasCellChoice(task, kind)) {
            throw new CheckpointException(file, "its " + Checkpoint.META + " has cell=" + cellName + ", which model "
                    + kind + " of task " + task.lower() + " does not have");
        }
        boolean bidirectional = bool(p, "bidirectional", false, file); // absent before --bidirectional existed
        // the order the model reads questions in: written by every seq4j, and decisive for addition and date
        boolean reverse = task == Task.ADDITION || task == Task.DATE ? bool(p, "reverse", null, file)
                : bool(p, "reverse", false, file);
        try {
            return new ModelSpec(task, kind, vocab, wordvec, hidden, dropout, reverse, seed, bidirectional, cell);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "its " + Checkpoint.META + " describes no model: " + e.getMessage(), e);
        }
    }

    /**
     * A true/false property (in any case), or {@code absent} where it is missing (null: required). Anything else
     * is an error: read as false, reverse=yes would feed a reversed model unreversed questions.
     */
    private static boolean bool(Properties p, String key, Boolean absent, Path file) throws CheckpointException {
        String v = absent == null ? Checkpoint.require(p, key, file) : p.getProperty(key);
        if (v == null) {
            return absent;
        }
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new CheckpointException(file, "its " + Checkpoint.META + " has " + key + "=" + v
                    + "; expected true or false");
        };
    }
}
