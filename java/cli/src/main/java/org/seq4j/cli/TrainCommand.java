// seq4j train addition|date|waves|lm: trains one of the book's models with the book's hyperparameters
// unless told otherwise, showing progress, evaluating after every epoch, and writing checkpoints (model.npz:
// the last epoch, best.npz: the best so far, each with its description inside), metrics.csv and chart.png
// into the run folder after every epoch. Options are checked, and the run folder created and probed,
// before anything is trained; a run that fails before its first checkpoint leaves no folder behind.
// Under mpirun it trains data-parallel (DistributedOptions): every rank runs this command, rank 0 alone
// prints, draws the progress bar and writes files.
package org.seq4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.seq4j.backend.Backend;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.DataFileException;
import org.seq4j.data.SequenceDataset;
import org.seq4j.data.SequenceLoader;
import org.seq4j.data.SequencePairs;
import org.seq4j.data.TinyCorpus;
import org.seq4j.data.ToySet;
import org.seq4j.data.WaveSets;
import org.seq4j.data.WordCorpus;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.ConfigurationMismatchException;
import org.seq4j.dist.Distributed;
import org.seq4j.dist.MpiCommunicator;
import org.seq4j.io.RegularFile;
import org.seq4j.layers.Cell;
import org.seq4j.models.LanguageModel;
import org.seq4j.models.Model;
import org.seq4j.models.RegressionModel;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.optim.AdaGrad;
import org.seq4j.optim.Adam;
import org.seq4j.optim.Momentum;
import org.seq4j.optim.NonFiniteGradientException;
import org.seq4j.optim.NonFiniteLossException;
import org.seq4j.optim.Optimizer;
import org.seq4j.optim.RMSprop;
import org.seq4j.optim.SGD;
import org.seq4j.train.Batches;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.History;
import org.seq4j.train.ModelSpec;
import org.seq4j.train.ModelSpec.Task;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.RunFolder;
import org.seq4j.train.Seq2seqEval;
import org.seq4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = {"Train one of the book's models; defaults are the book's hyperparameters for the task.",
                "addition/date: --model attention (default) | baseline | reverse | peeky (reverse+peeky);",
                "waves: --model seq2seq (sine -> cosine) | predictor (noisy sine, many-to-one);",
                "lm: --model rnnlm (default) | simple | better (2 layers, dropout, weight tying)."})
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backendOptions;

    @Mixin
    DistributedOptions distributedOptions;

    private Communicator comm = Communicator.single();
    private volatile Progress progressNow;   // the running epoch's, for InterruptNotice
    private volatile int savedEpoch;         // the last epoch whose checkpoint is written (0: none yet)
    private volatile int writingEpoch;       // the epoch whose files save() writes now (0: none)

    @Parameters(index = "0", paramLabel = "TASK", description = "addition | date | waves | lm")
    String taskName;

    @Option(names = "--model", paramLabel = "KIND", description = "the model (see above)")
    String model;

    @Option(names = "--cell", paramLabel = "CELL", description = "recurrent cell: lstm (default) | gru (the book's "
            + "appendix GRU); addition, date and lm rnnlm/better")
    String cellName;

    /** The most lines --lines generates (the book's sets have 50,000). */
    static final int MAX_LINES = 10_000_000;

    /** The largest --seed: numpy's seeds are 32-bit unsigned numbers. */
    static final long MAX_SEED = 0xFFFF_FFFFL;

    /** The parsed --cell, set by check(). */
    private Cell cell = Cell.LSTM;

    @Option(names = "--reverse", negatable = true, description = "feed the questions reversed (default: all but baseline)")
    Boolean reverse;

    @Option(names = "--bidirectional", description = "attention: an encoder that reads the question both ways "
            + "(two directions of H/2 units, concatenated)")
    boolean bidirectional;

    @Option(names = "--epochs", description = "epochs (addition 25, date 10, waves seq2seq 35 / predictor 301, lm rnnlm 4 / "
            + "better 40 / simple 100)")
    Integer epochs;

    @Option(names = "--batch", description = "batch size N")
    Integer batch;

    @Option(names = "--hidden", description = "hidden size H")
    Integer hidden;

    @Option(names = "--wordvec", description = "word vector size D")
    Integer wordvec;

    @Option(names = "--optimizer", description = "sgd | momentum | adagrad | rmsprop | adam (default: the book's)")
    String optimizer;

    @Option(names = "--lr", description = "learning rate")
    Float lr;

    @Option(names = "--clip", description = "clip gradients to this global norm (0: off)")
    Float clip;

    @Option(names = "--dropout", description = "dropout ratio (lm better)")
    Float dropout;

    @Option(names = "--time-size", description = "truncated BPTT length (lm; default 35, 5 for --model simple)")
    Integer timeSize;

    @Option(names = "--seed", defaultValue = "1984", description = "seed of the weights, the shuffles and generated data, 0 to 4294967295 (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data", paramLabel = "FILE", description = "addition/date: a file in the book's format; lm: a text file (default: generated, seeded)")
    Path data;

    @Option(names = "--lines", defaultValue = "50000", description = "lines of a generated addition/date set (default ${DEFAULT-VALUE})")
    int lines;

    @Option(names = "--eval-limit", defaultValue = "0", description = "evaluate on the first N test questions only (0: all)")
    int evalLimit;

    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default runs/<task>-<model>-<time>)")
    Path out;

    @Override
    public Integer call() throws Exception {
        Cli.requireNotEmpty("--data", data, "the data file (or leave --data out to train on a generated set)");
        Cli.requireNotEmpty("--out", out, "the run folder to write (default runs/<task>-<model>-<time>)");
        Task task = Cli.task(taskName);
        String kind = model != null ? model.toLowerCase(Locale.ROOT) : task.kinds()[0];
        if (!Arrays.asList(task.kinds()).contains(kind)) {
            throw new BadInputException("task " + task.lower() + " has no model " + DataFileException.quote(kind, '\'')
                    + "; choose one of " + String.join(", ", task.kinds()));
        }
        check(task, kind);
        try (Communicator c = distributedOptions.open()) {
            comm = c;
            try {
                train(task, kind);
            } catch (ConfigurationMismatchException | NonFiniteLossException | NonFiniteGradientException
                     | BadInputException.OnEveryRank e) {   // the step's check sees the gradients every rank summed
                // every rank throws it at the same point: they end together (close finalizes MPI); an abort could end
                // rank 0 before it printed why. Said before close, whose barrier then holds every rank until all have
                // said it: said after MPI_Finalize, a rank that exited first had mpirun end the others before they did
                throw c.size() > 1 ? Main.say(spec, e) : e;
            } catch (Exception | Error e) { // an Error too (OutOfMemoryError): close()'s barrier would meet no one
                if (c.size() > 1) { // only this rank knows: end the others now instead of at their watchdog
                    System.err.println("seq4j: rank " + c.rank() + " of " + c.size() + ": " + e.getMessage()
                            + "; ending every rank");
                    System.err.flush();
                    c.abort(2);
                }
                throw e;
            }
        }
        return 0;
    }

    /** lm better's default hidden and word vector size (the book's BetterRnnlm: 650 for both). */
    private static final int BETTER_SIZE = 650;

    /** The small corpus train lm generates into its run folder where no --data is given. */
    private static final String CORPUS = "corpus.txt";

    /**
     * Every file a run of train writes into its run folder, of any task: RunFolder removes the temporary files of these
     * (and no others) that a killed run left.
     */
    static final java.util.Set<String> RUN_FILES = java.util.Set.of(Checkpoint.WEIGHTS, Checkpoint.BEST, "metrics.csv",
            "chart.png", "prediction.png", "vocabulary.txt", CORPUS, ToySet.ADDITION.fileName(), ToySet.DATE.fileName());

    private void train(Task task, String kind) throws IOException {
        long started = System.currentTimeMillis();
        if (comm.size() > 1) { // one run folder for the job: rank 0's clock names it
            long[] t = {started};
            comm.broadcast(t);
            started = t[0];
        }
        // the time to the millisecond: two runs started in one second took one folder, and the second was refused
        Path dir = out != null ? out : Path.of("runs", task.lower() + "-" + kind + cellSuffix().replace(' ', '-') + "-"
                + LocalDateTime.ofInstant(
                java.time.Instant.ofEpochMilli(started), java.time.ZoneId.systemDefault())
                .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS")));
        PrintWriter o = comm.isRoot() ? spec.commandLine().getOut() : DistributedOptions.quiet();
        refuseAnotherTasksRun(dir, task);
        // rank 0 writes the run folder; the other ranks work in a private temporary one that nothing reads
        try (RunFolder run = RunFolder.open(comm.isRoot() ? dir : privateFolder(), RUN_FILES);
             InterruptNotice notice = comm.isRoot() ? new InterruptNotice(dir, run) : null) {
            if (comm.isRoot()) {
                sayWhatItReplaces(dir, o);
            }
            if (!run.removedStaleFiles().isEmpty()) {
                o.printf("run folder %s: removed %d temporary files of an interrupted run%n", dir,
                        run.removedStaleFiles().size());
            }
            if (comm.size() > 1) {
                o.printf("distributed: data-parallel, %s; rank 0 prints and writes%n", comm.describe());
            } else if (comm instanceof MpiCommunicator) {
                // MPI with one rank (mpirun -np 1, or --distributed mpi with no launcher, where Open MPI starts a job
                // of one): it trains alone, which said nothing, as if a data-parallel job had started
                o.printf("distributed: %s, so this process trains alone%s%n", comm.describe(),
                        Distributed.launchedByMpi() ? "" : " (no MPI launcher started it: mpirun -np N runs N ranks)");
            }
            // each opens the backend (which prints its line) once its data is read: a data file's error came after
            // the backend's line, as if training had begun
            switch (task) {
                case ADDITION, DATE -> trainSequences(task, kind, run, o);
                case WAVES -> trainWaves(kind, run, o);
                case LM -> trainLanguageModel(kind, run, o);
            }
        }
    }

    /** Rank 0's progress bar; the other ranks draw none. */
    private Progress progress(int epochs) {
        Progress p = new Progress(comm.isRoot() ? System.err : DistributedOptions.quietStream(), epochs);
        progressNow = p;
        return p;
    }

    /**
     * While rank 0 trains, a JVM shutdown (Ctrl-C, SIGTERM) ends with one line on err: where training stopped and what
     * the run folder keeps (the checkpoints of the last saved epoch; before the first, RunFolder's own hook removes
     * what the run wrote and puts back what it replaced). An interrupted run used to end without a word.
     */
    /**
     * The line an interrupted run ends with: where it stopped and what its folder keeps.
     *
     * @param where   the progress ("epoch 2/25, step 10/351"), or null
     * @param dir     the run folder
     * @param saved   the last epoch whose files are all written (0: none)
     * @param writing the epoch whose files were being written (0: none; saved or below: none now)
     * @return the line
     */
    static String interrupted(String where, Path dir, int saved, int writing) {
        return "seq4j: interrupted" + (where != null ? " in " + where : "") + keeps(dir, saved, writing);
    }

    /** What the run folder keeps when a run ends early (interrupted, or failing to save): the tail of its line. */
    static String keeps(Path dir, int saved, int writing) {
        // ended within save(): some of that epoch's files are written, the others are the last epoch's
        String mixed = writing > saved ? " (some may be epoch " + writing + "'s, whose files were being written; each"
                + " .npz names its epoch)" : "";
        return saved > 0 ? "; " + dir + " keeps the checkpoints of epoch " + saved + mixed
                : ", before the first checkpoint: the files this run wrote in " + dir + " are removed, and any it"
                + " replaced put back";
    }

    private final class InterruptNotice implements AutoCloseable {
        private final Cli.ShutdownHook hook;

        InterruptNotice(Path dir, RunFolder run) {
            PrintWriter err = spec.commandLine().getErr();
            hook = new Cli.ShutdownHook("seq4j interrupt notice", () -> {
                Progress p = progressNow;
                if (p != null) {
                    p.stop();   // its lines came after this one's: the training thread runs on until the JVM halts
                }
                String where = p != null ? p.where() : null;
                // the folder settled first (kept, or undone now), as the training thread may still be saving: the line
                // said "before the first checkpoint: the files ... are removed" while that thread went on to keep
                // epoch 1's (the hooks run in no order)
                boolean kept = run.settleAtExit();
                int saved = savedEpoch, writing = writingEpoch;
                if (kept && saved == 0) {
                    saved = writing;   // kept by keep(), right after that epoch's files were all written
                }
                err.println(interrupted(where, dir, kept ? saved : 0, writing));
                err.flush();
            });
        }

        @Override
        public void close() {
            hook.close();
        }
    }

    /** A non-root rank's run folder: private, temporary, deleted at exit; nothing reads what it holds. */
    private Path privateFolder() throws IOException {
        Path tmp = Files.createTempDirectory("seq4j-rank" + comm.rank() + "-");
        tmp.toFile().deleteOnExit();
        return tmp;
    }

    /** Every option in range, and none given that this task would ignore; before anything is written. */
    private void check(Task task, String kind) {
        if (cellName != null) {
            try {
                cell = Cell.of(cellName);
            } catch (IllegalArgumentException e) {
                throw new BadInputException("--cell: " + e.getMessage());
            }
            if (cell != Cell.LSTM && !ModelSpec.hasCellChoice(task, kind)) {
                throw new BadInputException("--cell " + cell.lower() + " is for the addition and date models and lm "
                        + "rnnlm/better; " + task.lower() + " " + kind + " has no choice of cell");
            }
        }
        if (bidirectional && !kind.equals("attention")) {
            throw new BadInputException("--bidirectional needs --model attention, got '" + kind + "'");
        }
        if (bidirectional && hidden != null && hidden % 2 != 0) {
            throw new BadInputException("--bidirectional gives each direction half of --hidden, so it must be even, got "
                    + hidden);
        }
        distributedOptions.check(spec.commandLine().getParseResult().hasMatchedOption("--mpi-timeout"));
        positive("--epochs", epochs);
        positive("--batch", batch);
        positive("--hidden", hidden);
        positive("--wordvec", wordvec);
        positive("--time-size", timeSize);
        if (lr != null && !(lr > 0 && Float.isFinite(lr))) {
            throw new BadInputException("--lr must be a positive number, got " + lr);
        }
        if (clip != null && !(clip >= 0 && Float.isFinite(clip))) {
            // "a number >= 0 ..., got Infinity" said nothing of what was wrong; the trainers take Infinity as no
            // clipping, --clip documents 0 for that
            throw new BadInputException("--clip must be a finite number >= 0 (0: no clipping), got " + clip);
        }
        if (dropout != null && !(dropout >= 0 && dropout < 1)) {
            throw new BadInputException("--dropout must be a ratio in [0, 1), got " + dropout);
        }
        if (lines < 10 || lines > MAX_LINES) {
            throw new BadInputException("--lines must be from 10 (the last tenth is the test set) to " + MAX_LINES
                    + ", got " + lines);
        }
        // the shuffles and generated sets draw from numpy's MT19937, whose seed is a 32-bit unsigned number: outside
        // that range train addition/date/waves ended in "internal error: IllegalArgumentException", exit code 1
        if (seed < 0 || seed > MAX_SEED) {
            throw new BadInputException("--seed must be from 0 to " + MAX_SEED + " (numpy's seeds), got " + seed);
        }
        if (evalLimit < 0) {
            throw new BadInputException("--eval-limit must be >= 0 (0: all), got " + evalLimit);
        }
        if (optimizer != null && !List.of("sgd", "momentum", "adagrad", "rmsprop", "adam")
                .contains(optimizer.toLowerCase(Locale.ROOT))) {
            throw new BadInputException("unknown optimizer '" + optimizer + "'; choose sgd, momentum, adagrad, rmsprop or adam");
        }
        boolean linesGiven = spec.commandLine().getParseResult().hasMatchedOption("--lines");
        boolean evalLimitGiven = spec.commandLine().getParseResult().hasMatchedOption("--eval-limit");
        switch (task) {
            case ADDITION, DATE -> {
                unused(task, "--dropout", dropout != null, "its models have no dropout");
                unused(task, "--time-size", timeSize != null, "it is for language models");
                unused(task, "--lines", linesGiven && data != null, "--lines sizes a generated set; --data gives the file");
                // the two models that differ only in it: the other choice trained the other one under this name
                if (reverse != null && (kind.equals("baseline") || kind.equals("reverse"))
                        && reverse != kind.equals("reverse")) {
                    throw new BadInputException("--model " + kind + " feeds the questions " + (reverse ? "as written"
                            : "reversed") + " by its name; --" + (reverse ? "" : "no-") + "reverse makes it --model "
                            + (reverse ? "reverse" : "baseline") + ": give that instead");
                }
            }
            case WAVES -> {
                unused(task, "--data", data != null, "it generates its sine waves");
                unused(task, "--lines", linesGiven, "it generates its sine waves");
                unused(task, "--wordvec", wordvec != null, "its input is one number per step");
                unused(task, reverseOption(), reverse != null, "it is for addition and date");
                unused(task, "--dropout", dropout != null, "its models have no dropout");
                unused(task, "--time-size", timeSize != null, "it is for language models");
                unused(task, "--eval-limit", evalLimitGiven, "it evaluates on the whole set");
            }
            case LM -> {
                unused(task, "--lines", linesGiven, "it is for generated addition and date sets");
                unused(task, reverseOption(), reverse != null, "it is for addition and date");
                unused(task, "--eval-limit", evalLimitGiven, "it is for addition and date");
                if (dropout != null && !kind.equals("better")) {
                    throw new BadInputException("--dropout is for --model better; lm " + kind + " has no dropout");
                }
                // --hidden's default where only --wordvec is given: checked here, before the corpus is generated or
                // read, not by the model once the backend had opened
                int betterHidden = or(hidden, BETTER_SIZE);
                if (kind.equals("better") && wordvec != null && !wordvec.equals(betterHidden)) {
                    throw new BadInputException("lm better ties its output weights to the word vectors, so --wordvec ("
                            + wordvec + ") must equal --hidden (" + betterHidden + (hidden == null ? ", the default"
                            : "") + ")");
                }
            }
        }
        String refused = data == null ? null : RegularFile.refusal(data, "a text file");
        if (refused != null) {   // before the backend opens (and prints its line), as the other options' checks
            throw new BadInputException(data + ": " + refused);
        }
        backendOptions.check();
    }

    /**
     * Refuses, before anything is written, --data where this run would write over it (see dataWrittenOver), and a run
     * folder that holds a run of another task: this run would replace the
     * checkpoints, metrics and chart, and leave that run's own files (its generated data, a language model's
     * corpus.txt and vocabulary.txt, the waves' prediction.png) mixed with its own. A run of the same task (any model)
     * is replaced, as sayWhatItReplaces says; other files are left alone. Rank 0 decides and tells the others in a
     * broadcast; then every rank throws at once and they end together (BadInputException.OnEveryRank: no MPI_Abort,
     * which could end rank 0 before it printed why).
     */
    private void refuseAnotherTasksRun(Path dir, Task task) {
        String refusal = comm.isRoot() ? dataWrittenOver(dir, task) : null;
        if (refusal == null && comm.isRoot()) {
            refusal = notACheckpoint(dir);
        }
        if (refusal == null && comm.isRoot()) {
            refusal = anotherTasksRun(dir, task);
        }
        if (refusal == null && comm.isRoot()) {
            refusal = dataInTheWay(dir, task);
        }
        long[] refused = {refusal != null ? 1 : 0};
        if (comm.size() > 1) {
            comm.broadcast(refused);
        }
        if (refusal != null) {
            throw new BadInputException.OnEveryRank(refusal);
        }
        if (refused[0] != 0) {
            throw new BadInputException.OnEveryRank("rank 0 refused the run folder " + dir + " (its message says why)");
        }
    }

    /**
     * The files a run of {@code task} on --data writes into its folder (besides its lock file and temporary files): the
     * checkpoints, metrics.csv, chart.png, and the task's own (lm's vocabulary.txt, the waves' prediction.png).
     */
    static java.util.Set<String> filesWritten(Task task) {
        java.util.Set<String> files = new java.util.TreeSet<>(List.of(Checkpoint.WEIGHTS, Checkpoint.BEST, "metrics.csv",
                "chart.png"));
        switch (task) {
            case LM -> files.add("vocabulary.txt");
            case WAVES -> files.add("prediction.png");
            default -> { }
        }
        return files;
    }

    /**
     * Why --data cannot be read where it lies, or null: it is one of the files this run writes into dir (which it read,
     * then replaced with its own: the data was gone, and the run said nothing), the folder's lock file (deleted at the
     * run's end), or a file the folder's clean-up deletes as an interrupted run's temporary file. Compared as files
     * (Files.isSameFile), not as names: a relative path, "./", a link to the file or a folder reached through a link
     * are the same file (and so is a hard link, though its other name would keep the bytes).
     */
    private String dataWrittenOver(Path dir, Task task) {
        if (data == null || !Files.isDirectory(dir)) {
            return null;
        }
        java.util.Set<String> files = new java.util.TreeSet<>(filesWritten(task));
        files.add(RunFolder.LOCK);
        for (String name : files) {
            if (sameFile(dir.resolve(name), data)) {
                return "--data " + data + " is a file this run writes into its folder (" + name + (name.equals(
                        RunFolder.LOCK) ? ", its lock file, deleted at its end" : "") + "); move it or give another --out";
            }
        }
        try {
            for (Path f : RunFolder.staleFiles(dir, RUN_FILES)) {
                if (sameFile(f, data)) {
                    return "--data " + data + " is named as a temporary file of an interrupted run (" + f.getFileName()
                            + "), which this run deletes from its folder; rename it or give another --out";
                }
            }
        } catch (IOException e) {
            return null;   // a folder that cannot be listed: RunFolder.open says why
        }
        return null;
    }

    /** Whether {@code a} and {@code b} are one file (links followed), false where either is missing or unreadable. */
    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /**
     * Why the model.npz or best.npz of dir, which this run replaces, is not to be replaced, or null: it is not a
     * checkpoint of seq4j train (a .npz of numpy's own, with no description), or one that cannot be read (not a zip
     * archive, a truncated one, a corrupt description). Such a file was reported as "a run already (unreadable)" and
     * replaced, while a run of another task is refused to keep its files; a checkpoint that cannot be read might still
     * be mended, or be no seq4j file at all. A readable checkpoint of seq4j is replaced or refused as before (see
     * anotherTasksRun).
     */
    private static String notACheckpoint(Path dir) {
        for (String name : List.of(Checkpoint.WEIGHTS, Checkpoint.BEST)) {
            Path file = dir.resolve(name);
            if (!Files.exists(file)) {   // nor a link to nothing: RunFolder puts a link it replaced back
                continue;
            }
            try {
                Checkpoint.meta(file);
                continue;
            } catch (IOException | RuntimeException e) {
                boolean described;
                try {
                    described = Checkpoint.isDescribed(file);
                } catch (IOException | RuntimeException unreadable) {
                    described = true;   // no telling: as unreadable as meta found it
                }
                if (!described) {
                    return file + " is not a seq4j checkpoint (it has no " + Checkpoint.META + "); give another --out or "
                            + "move it";
                }
                String why = e.getMessage() == null ? e.toString() : e.getMessage().replaceAll("\\s*\\R\\s*", " ");
                return (why.startsWith(file.toString()) ? why : file + ": " + why) + "; this run would replace it, but it "
                        + "cannot be read as a seq4j checkpoint: give another --out or move it";
            }
        }
        return null;
    }

    /** Why dir cannot take a run of task, or null when it can: it holds a readable run of another task. */
    private static String anotherTasksRun(Path dir, Task task) {
        Path held = dir.resolve(Checkpoint.WEIGHTS);
        if (!Files.exists(held)) {
            return killedRunOfAnotherTask(dir, task);
        }
        Properties m;
        try {
            m = Checkpoint.meta(held);
        } catch (IOException | RuntimeException e) {
            return null;   // unreadable: refused by notACheckpoint already
        }
        String heldTask = m.getProperty("task");
        if (heldTask == null || heldTask.strip().equalsIgnoreCase(task.lower())) { // as ModelSpec.load reads it
            return null;
        }
        return "run folder " + dir + " holds a run of another task (" + heldTask + " " + m.getProperty("model", "?")
                + ", epoch " + m.getProperty("epoch", "?") + "), whose files would stay mixed with this "
                + task.lower() + " run's; give another --out, or delete that run first";
    }

    /**
     * A run killed (SIGKILL, the OOM killer) before its first checkpoint leaves its lock file and the data it generated:
     * no hook ran to undo it. Where that data is another task's, this run's files would stay mixed with it (a date run
     * trained into such a folder and left the addition set beside its own): refused as a run of another task is.
     */
    private static String killedRunOfAnotherTask(Path dir, Task task) {
        if (!Files.exists(dir.resolve(RunFolder.LOCK), LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        for (Task other : Task.values()) {
            String file = generatedData(other);
            if (other != task && file != null && Files.exists(dir.resolve(file), LinkOption.NOFOLLOW_LINKS)) {
                return "run folder " + dir + " holds the start of a run of another task (" + other.lower() + ": its "
                        + file + " and " + RunFolder.LOCK + ", left by a run killed before its first checkpoint), whose "
                        + "files would stay mixed with this " + task.lower() + " run's; give another --out, or delete "
                        + "that run first";
            }
        }
        return null;
    }

    /** The data file train generates into the run folder for task where no --data is given (waves: none). */
    private static String generatedData(Task task) {
        return switch (task) {
            case ADDITION -> org.seq4j.data.ToySet.ADDITION.fileName();
            case DATE -> org.seq4j.data.ToySet.DATE.fileName();
            case LM -> CORPUS;
            case WAVES -> null;
        };
    }

    /**
     * Where no --data is given, the set or corpus generated into the run folder replaces a file of that name: refused
     * when the folder holds no checkpoint (not a run folder of seq4j, whose file that would be), so that a user's own
     * addition.txt in a folder given as --out (meant as --data) is not overwritten without a word.
     */
    private String dataInTheWay(Path dir, Task task) {
        String generated = data != null ? null : generatedData(task);
        // a checkpoint, or the lock file of a run killed before its first one (its own generated data, then): a run
        // of seq4j train, whose data this one replaces (the killed run's folder refused every retry)
        if (generated == null || !Files.exists(dir.resolve(generated), LinkOption.NOFOLLOW_LINKS)
                || Files.exists(dir.resolve(Checkpoint.WEIGHTS))
                || Files.exists(dir.resolve(RunFolder.LOCK), LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        return "run folder " + dir + " holds " + generated + " but no checkpoint, so it is not a run of seq4j train: the "
                + "data this run generates there would replace that file; to train on it, give --data "
                + dir.resolve(generated) + " and another --out";
    }

    /** Says so when the run folder already holds a run, whose checkpoints this one will replace. */
    private static void sayWhatItReplaces(Path dir, PrintWriter o) {
        Path held = dir.resolve(Checkpoint.WEIGHTS);
        if (!Files.exists(held)) {
            return;
        }
        String what;
        try {
            Properties m = Checkpoint.meta(held);
            what = m.getProperty("task", "?") + " " + m.getProperty("model", "?") + ", epoch " + m.getProperty("epoch", "?");
        } catch (IOException | RuntimeException e) {
            what = "unreadable";
        }
        o.printf("run folder %s: holds a run already (%s); its checkpoints will be replaced%n", dir, what);
    }

    /** The model of the options' sizes: one too large for the backend is the options' fault. */
    private static Model create(ModelSpec ms, Backend backend) {
        try {
            return ms.create(backend);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("the model's sizes do not fit: " + e.getMessage() + " (see --hidden, --wordvec)");
        }
    }

    /** " gru" after the model's name in titles when it is not the default LSTM, else nothing. */
    private String cellSuffix() {
        return cell == Cell.LSTM ? "" : " " + cell.lower();
    }

    private static void positive(String option, Integer value) {
        if (value != null && value < 1) {
            throw new BadInputException(option + " must be at least 1, got " + value);
        }
    }

    /** --reverse or --no-reverse, as given: "does not use --reverse" answered a --no-reverse. */
    private String reverseOption() {
        return Boolean.FALSE.equals(reverse) ? "--no-reverse" : "--reverse";
    }

    private static void unused(Task task, String option, boolean given, String why) {
        if (given) {
            throw new BadInputException("train " + task.lower() + " does not use " + option + " (" + why + ")");
        }
    }

    // ---- addition, date ----------------------------------------------------------------------------

    private void trainSequences(Task task, String kind, RunFolder run, PrintWriter o) throws IOException {
        boolean rev = reverse != null ? reverse : ModelSpec.reversedByDefault(kind);
        Path file = data;
        if (file == null) {
            ToySet set = task == Task.ADDITION ? ToySet.ADDITION : ToySet.DATE;
            file = run.resolve(set.fileName());
            try {
                writing(run, set.fileName(), f -> set.write(f, lines, seed));
            } catch (IllegalArgumentException e) { // more lines than the set has distinct questions
                throw new BadInputException("--lines " + lines + ": " + e.getMessage());
            }
            if (!comm.isRoot()) {
                file.toFile().deleteOnExit(); // registered after its folder, so deleted before it
            }
            o.printf("data: generated %d lines into %s (seed %d)%n", lines, file, seed);
        }
        SequenceDataset ds = SequenceLoader.load(file);
        SequencePairs trainSet = rev ? ds.train().withReversedQuestions() : ds.train();
        SequencePairs testSet = rev ? ds.test().withReversedQuestions() : ds.test();
        CharVocabulary vocab = ds.vocabulary();
        int n = or(batch, 128);
        if (testSet.size() == 0 || trainSet.size() < n) {
            throw new BadInputException(file + " has " + trainSet.size() + " training and " + testSet.size() + " test "
                    + "questions; training needs at least one batch (" + n + ", see --batch) and a test set (the last "
                    + "tenth of the lines)");
        }
        if (trainSet.answerLength() < 2) {
            throw new BadInputException(file + ": the answers are empty; expected characters after the '_'");
        }
        // what eval and generate refuse in the checkpoint this run writes, refused before it trains: it trained, and
        // its checkpoint was then called corrupt (question_width=70000), or its questions, padded on the left, were
        // refused by eval --data as "starts with a space"
        int widest = Math.max(trainSet.questionLength(), trainSet.answerLength());
        if (widest > GenerateCommand.MAX_LENGTH) {
            throw new BadInputException(file + ": its questions have " + trainSet.questionLength() + " and its answers "
                    + trainSet.answerLength() + " characters; eval and generate take at most "
                    + GenerateCommand.MAX_LENGTH);
        }
        int space = vocab.idOf(' ');
        for (SequencePairs set : new SequencePairs[] {ds.train(), ds.test()}) {
            for (int[] q : set.x()) {
                if (space >= 0 && q.length > 0 && q[0] == space) {
                    throw new BadInputException(file + ": question " + DataFileException.quote(vocab.decode(q)) + " starts"
                            + " with a space; expected questions from their first character, padded with spaces on the "
                            + "right (as the book's data sets)");
                }
            }
        }
        o.printf("data: %s: %d train / %d test, vocabulary %d, questions %s%n", file, trainSet.size(), testSet.size(),
                vocab.size(), rev ? "reversed" : "as written");

        boolean date = task == Task.DATE;
        ModelSpec ms = new ModelSpec(task, kind, vocab.size(), or(wordvec, 16), or(hidden, date ? 256 : 128), 0f, rev, seed,
                bidirectional, cell);
        int epochCount = or(epochs, date ? 10 : 25);
        float maxGrad = or(clip, 5f);
        agree(ms, epochCount, java.util.Arrays.deepHashCode(new Object[] {trainSet.x(), trainSet.t(), testSet.x(),
                testSet.t(), vocab.chars()}));
        Properties meta = meta(ms, file);
        meta.setProperty("vocabulary", vocab.chars());
        meta.setProperty(Cli.DATA_FINGERPRINT, Cli.fingerprint(ds));
        meta.setProperty("question_width", Integer.toString(trainSet.questionLength()));
        meta.setProperty("answer_length", Integer.toString(trainSet.answerLength()));
        meta.setProperty("start_id", Integer.toString(trainSet.t()[0][0]));
        // generate and eval --data refuse questions with spaces between their characters where these had none
        meta.setProperty(Cli.QUESTION_INNER_SPACES, Boolean.toString(Cli.anyInnerSpace(vocab.idOf(' '), ds.train().x(),
                ds.test().x())));

        try (Backend backend = backendOptions.open(o); Seq2seqModel m = (Seq2seqModel) create(ms, backend);
             Optimizer opt = optimizer("adam", 0.001f);
             Trainer trainer = new Trainer(m, opt, maxGrad, seed).distribute(comm); Progress progress = progress(epochCount)) {
            describe(o, ms, m, n, epochCount, opt, maxGrad);
            History history = new History(task.lower() + " " + kind + cellSuffix(), "test accuracy");
            double best = -1, last = -1;
            int bestEpoch = 0;
            for (int e = 1; e <= epochCount; e++) {
                long t0 = System.nanoTime();
                float loss = trainer.fitEpoch(e, Batches.of(trainSet), n, progress);
                progress.close();
                Seq2seqEval.Result r = Seq2seqEval.evaluate(m, testSet, vocab, rev, evalLimit, 500, 3, 0, comm);
                double seconds = (System.nanoTime() - t0) / 1e9;
                o.printf("epoch %d/%d: loss %.4f, test accuracy %.2f%% (%d/%d), %.1f s%n", e, epochCount, loss,
                        100 * r.accuracy(), r.correct(), r.total(), seconds);
                for (Seq2seqEval.Sample s : r.samples()) {
                    // answers cut on the right only, as eval prints them (a leading space is part of the answer)
                    o.printf("  Q %s%n  T %s%n  %s %s%n", s.question().strip(), s.truth().stripTrailing(),
                            Cli.mark(s.correct()), s.guess().stripTrailing());
                }
                o.flush();
                boolean better = r.accuracy() > best;
                if (better) {
                    best = r.accuracy();
                    bestEpoch = e;
                }
                last = r.accuracy();
                history.add(new History.Epoch(e, loss, r.accuracy(), seconds));
                save(run, m, meta, e, r.accuracy(), better, history);
            }
            o.printf("best test accuracy %.2f%% (epoch %d): checkpoint %s; last epoch (%.2f%%): %s; metrics %s, chart %s%n",
                    100 * best, bestEpoch, run.resolve(Checkpoint.BEST), 100 * last, run.resolve(Checkpoint.WEIGHTS),
                    run.resolve("metrics.csv"), run.resolve("chart.png"));
        }
    }

    // ---- waves -------------------------------------------------------------------------------------

    private void trainWaves(String kind, RunFolder run, PrintWriter o) throws IOException {
        boolean predictor = kind.equals("predictor");
        // seed 004: LSTM(45), SGD, batch 10, 301 epochs; seed 002: LSTM(75), Adam, batch 10, 35 epochs.
        // Seed 004 uses lr 0.008 but its backward leaves out the 1/N of its loss, so its steps are N = 10 times
        // those of the true gradient; TimeMSE's gradient is the true one, and lr 0.08 takes the same steps.
        ModelSpec ms = new ModelSpec(Task.WAVES, kind, 0, 1, or(hidden, predictor ? 45 : 75), 0f, false, seed);
        int n = or(batch, 10), epochCount = or(epochs, predictor ? 301 : 35);
        float maxGrad = or(clip, 0f);
        agree(ms, epochCount, 0); // the wave sets are fixed
        Batches set;
        double[] truth;
        float[][] probe;
        int steps;
        if (predictor) {
            WaveSets.NoisySine w = WaveSets.noisySine();
            set = Batches.of(w.inputs(), w.targets());
            int window = w.inputs().dim(1);
            // autoregressive prediction from the first clean window, as seed 004 plots it
            double[] clean = new double[w.x().length];
            for (int i = 0; i < clean.length; i++) {
                clean[i] = Math.sin(w.x()[i]);
            }
            truth = clean;
            probe = new float[][] {new float[window]};
            for (int i = 0; i < window; i++) {
                probe[0][i] = (float) clean[i];
            }
            steps = clean.length - window;
        } else {
            WaveSets.SineToCosine w = WaveSets.sineToCosine();
            set = Batches.of(w.encoderInput(), w.target());
            int window = w.encoderInput().dim(1);
            truth = new double[window];
            probe = new float[][] {Arrays.copyOf(w.encoderInput().data(), window)};
            for (int i = 0; i < window; i++) {
                truth[i] = w.target().data()[i];
            }
            steps = window;
        }
        if (set.size() < n) {   // as for the other tasks, before any model is made (Trainer would throw it as a bug)
            throw new BadInputException("a batch of " + n + " (--batch) is larger than the " + set.size() + " training"
                    + " examples of the " + (predictor ? "noisy sine" : "sine-to-cosine") + " set; use at most "
                    + set.size());
        }
        Properties meta = meta(ms, null);
        try (Backend backend = backendOptions.open(o); RegressionModel m = (RegressionModel) create(ms, backend);
             Optimizer opt = optimizer(predictor ? "sgd" : "adam", predictor ? 0.08f : 0.01f);
             Trainer trainer = new Trainer(m, opt, maxGrad, seed).distribute(comm); Progress progress = progress(epochCount)) {
            describe(o, ms, m, n, epochCount, opt, maxGrad);
            History history = new History("waves " + kind, Cli.WAVES_LOSS);
            double best = Double.POSITIVE_INFINITY;
            int bestEpoch = 0;
            for (int e = 1; e <= epochCount; e++) {
                long t0 = System.nanoTime();
                float loss = trainer.fitEpoch(e, set, n, progress);
                progress.close();
                double seconds = (System.nanoTime() - t0) / 1e9;
                double eval = Cli.regressionLoss(m, set);
                if (e == 1 || e == epochCount || e % Math.max(1, epochCount / 10) == 0) {
                    o.printf("epoch %d/%d: train loss %.6f, %s %.6f, %.2f s%n", e, epochCount, loss, Cli.WAVES_LOSS,
                            eval, seconds);
                }
                boolean better = bestEpoch == 0 || eval < best; // epoch 1 even if NaN: best.npz always exists
                if (better) {
                    best = eval;
                    bestEpoch = e;
                }
                history.add(new History.Epoch(e, loss, eval, seconds));
                save(run, m, meta, e, eval, better, history);
            }
            float[] predicted = m.predict(probe, steps)[0];
            double[] x = new double[truth.length], p = new double[truth.length];
            int offset = truth.length - predicted.length;
            Arrays.fill(p, Double.NaN);
            for (int i = 0; i < truth.length; i++) {
                x[i] = i;
                if (i >= offset) {
                    p[i] = predicted[i - offset];
                } else if (predictor) {
                    p[i] = truth[i];
                }
            }
            double se = 0;
            for (int i = offset; i < truth.length; i++) {
                se += (p[i] - truth[i]) * (p[i] - truth[i]);
            }
            o.printf("free-running prediction of %d steps: RMSE %.4f against the %s%n", predicted.length,
                    Math.sqrt(se / predicted.length), predictor ? "clean sine" : "cosine");
            Path png = run.resolve("prediction.png");
            if (comm.isRoot()) {
                writing(run, "prediction.png", f -> Charts.orWarn(() -> Charts.writeSeries(f,
                        predictor ? "noisy sine predictor: autoregressive prediction"
                                : "sine -> cosine: decoder output for the first window", "step", "value", x,
                        List.of(predictor ? "sin(x)" : "cos (truth)", "seq4j prediction"), List.of(truth, p))));
            }
            o.printf("best %s %.6f (epoch %d): checkpoint %s; last epoch (the prediction's): %s; metrics %s, chart "
                    + "%s, prediction %s%n", Cli.WAVES_LOSS, best, bestEpoch, run.resolve(Checkpoint.BEST),
                    run.resolve(Checkpoint.WEIGHTS), run.resolve("metrics.csv"), run.resolve("chart.png"), png);
        }
    }

    // ---- language models ---------------------------------------------------------------------------

    private void trainLanguageModel(String kind, RunFolder run, PrintWriter o) throws IOException {
        Path file = data;
        if (file == null) {
            file = run.resolve(CORPUS);
            writing(run, CORPUS, f -> TinyCorpus.write(f, 3000, seed));
            if (!comm.isRoot()) {
                file.toFile().deleteOnExit();
            }
            o.printf("data: generated a small corpus into %s (seed %d); use --data for a real text%n", file, seed);
        }
        WordCorpus corpus = WordCorpus.load(file);
        int split = corpus.size() - corpus.size() / 10;
        int[] trainIds = Arrays.copyOfRange(corpus.ids(), 0, split), validIds = Arrays.copyOfRange(corpus.ids(), split,
                corpus.size());
        o.printf("data: %s: %d words (%d train / %d valid), vocabulary %d%n", file, corpus.size(), trainIds.length,
                validIds.length, corpus.vocabulary().size());
        boolean better = kind.equals("better"), simple = kind.equals("simple");
        int size = better ? BETTER_SIZE : 100;
        int h = or(hidden, size);
        ModelSpec ms = new ModelSpec(Task.LM, kind, corpus.vocabulary().size(), or(wordvec, better ? h : size), h,
                or(dropout, better ? 0.5f : 0f), false, seed, false, cell);
        int n = or(batch, simple ? 10 : 20), time = or(timeSize, simple ? 5 : 35);
        int validBatch = Math.max(comm.size(), Math.min(10, n)); // every rank needs a stream of its own
        int validTime = Math.min(time, Math.max(1, (validIds.length - 1) / validBatch));
        // products in long: as ints, --batch 65536 --time-size 65536 is 0, and the division by it an internal error
        if ((trainIds.length - 1L) / ((long) n * time) < 1 || (validIds.length - 1L) / ((long) validBatch * validTime) < 1) {
            throw new BadInputException(file + " has " + corpus.size() + " words (" + trainIds.length + " train / "
                    + validIds.length + " valid): too few for one batch of " + n + " streams of " + time
                    + " steps (see --batch, --time-size), or for the validation tail");
        }
        int epochCount = or(epochs, simple ? 100 : better ? 40 : 4);
        float maxGrad = or(clip, simple ? 0f : 0.25f);
        agree(ms, epochCount, java.util.Arrays.hashCode(corpus.ids()));
        Properties meta = meta(ms, file);
        meta.setProperty(Cli.DATA_FINGERPRINT, Cli.fingerprint(corpus.ids()));
        // eval validates with the same streams and steps, and so reproduces the valid perplexity recorded here
        meta.setProperty(Cli.VALID_BATCH, Integer.toString(validBatch));
        meta.setProperty(Cli.VALID_TIME, Integer.toString(validTime));
        // the checkpoints name the vocabulary.txt they were trained with: a file of another run is refused by eval and
        // generate instead of read as this model's words
        meta.setProperty(Cli.VOCABULARY_FINGERPRINT, Cli.fingerprint(corpus.vocabulary()));
        if (comm.isRoot()) {
            writing(run, "vocabulary.txt", f -> corpus.vocabulary().write(f));
        }
        try (Backend backend = backendOptions.open(o); LanguageModel m = (LanguageModel) create(ms, backend);
             Optimizer opt = optimizer("sgd", simple ? 0.1f : 20f);
             RnnlmTrainer trainer = new RnnlmTrainer(m, opt, maxGrad).distribute(comm);
             Progress progress = progress(epochCount)) {
            describe(o, ms, m, n, epochCount, opt, maxGrad);
            History history = new History("lm " + kind + cellSuffix(), "valid perplexity");
            double bestPpl = Double.POSITIVE_INFINITY;
            int bestEpoch = 0;
            for (int e = 1; e <= epochCount; e++) {
                long t0 = System.nanoTime();
                double trainPpl = trainer.fitEpoch(e, trainIds, n, time, progress);
                progress.close();
                double validPpl = trainer.evalPerplexity(validIds, validBatch, validTime);
                double seconds = (System.nanoTime() - t0) / 1e9;
                o.printf("epoch %d/%d: train perplexity %.2f, valid perplexity %.2f, lr %.4g, %.1f s%n", e, epochCount,
                        trainPpl, validPpl, opt.learningRate(), seconds);
                if (better && validPpl >= bestPpl) { // train_better_rnnlm.py: divide lr by 4 when valid stops improving
                    opt.setLearningRate(opt.learningRate() / 4f);
                }
                boolean improved = bestEpoch == 0 || validPpl < bestPpl;
                if (improved) {
                    bestPpl = validPpl;
                    bestEpoch = e;
                }
                history.add(new History.Epoch(e, Math.log(trainPpl), validPpl, seconds));
                save(run, m, meta, e, validPpl, improved, history);
            }
            int start = corpus.ids()[0];
            int[] words = m.generate(start, 20, LanguageModel.Sampling.SAMPLE, seed);
            o.printf("sample: %s %s%n", corpus.vocabulary().word(start), corpus.vocabulary().decode(words));
            o.printf("best valid perplexity %.2f (epoch %d): checkpoint %s; last epoch: %s; metrics %s, chart %s%n",
                    bestPpl, bestEpoch, run.resolve(Checkpoint.BEST), run.resolve(Checkpoint.WEIGHTS),
                    run.resolve("metrics.csv"), run.resolve("chart.png"));
        }
    }

    // ---- shared ------------------------------------------------------------------------------------

    /**
     * Every rank must run the same model on the same data for as many epochs (else one would wait in a collective
     * that another never makes): checked once, all ranks ending with one line on a difference.
     */
    private void agree(ModelSpec ms, int epochs, int dataFingerprint) {
        comm.agree("model, epochs and data (--model, sizes, --seed, --reverse, --epochs, --eval-limit, the data)",
                ms + ", epochs " + epochs + ", eval limit " + evalLimit + ", data " + Integer.toHexString(dataFingerprint));
    }

    private Optimizer optimizer(String bookDefault, float bookLr) {
        String name = optimizer != null ? optimizer.toLowerCase(Locale.ROOT) : bookDefault;
        float rate = lr != null ? lr : bookLr;
        return switch (name) {
            case "sgd" -> new SGD(rate);
            case "momentum" -> new Momentum(rate, 0.9f);
            case "adagrad" -> new AdaGrad(rate);
            case "rmsprop" -> new RMSprop(rate, 0.99f);
            case "adam" -> new Adam(rate);
            default -> throw new BadInputException("unknown optimizer '" + optimizer
                    + "'; choose sgd, momentum, adagrad, rmsprop or adam");
        };
    }

    private Properties meta(ModelSpec ms, Path file) {
        Properties p = new Properties();
        ms.store(p);
        if (file != null) {
            p.setProperty("data", file.toAbsolutePath().toString());
        }
        p.setProperty("seq4j", new Main.Version().getVersion()[0]);
        return p;
    }

    private static void describe(PrintWriter o, ModelSpec ms, Model m, int n, int epochs, Optimizer opt, float clip) {
        long count = m.store().parameterCount();
        o.printf("model: %s %s%s (%sD=%d, H=%d%s), %,d parameters; %d epoch%s of batch %d, %s lr %.4g%s%n",
                ms.task().lower(), ms.kind(), ms.cell() == Cell.LSTM ? "" : " " + ms.cell().lower(), ms.vocab() > 0 ? "V=" + ms.vocab() + ", " : "", ms.wordvec(), ms.hidden(),
                ms.dropout() > 0 ? ", dropout " + ms.dropout() : "", count, epochs, epochs == 1 ? "" : "s", n,
                opt.getClass().getSimpleName(), opt.learningRate(), clip > 0 ? ", clip " + clip : "");
        o.flush();
    }

    /**
     * The epoch's checkpoint (model.npz, and best.npz when its metric is the best so far), metrics and chart.
     * Each .npz carries its description, so parameters and description never disagree. Rank 0 alone writes;
     * the other ranks hold the same weights and write nothing.
     */
    private void save(RunFolder run, Model m, Properties meta, int epoch, double metric, boolean best,
                      History history) throws IOException {
        if (!comm.isRoot()) {
            return;
        }
        writingEpoch = epoch;
        meta.setProperty("epoch", Integer.toString(epoch));
        meta.setProperty("metric", history.metricName());
        meta.setProperty("metric_value", Double.toString(metric));
        saving(run.path(), savedEpoch, epoch, () -> {
            writing(run, Checkpoint.WEIGHTS, f -> Checkpoint.write(f, m, meta));
            if (best) {
                writing(run, Checkpoint.BEST, f -> Checkpoint.write(f, m, meta));
            }
            writing(run, "metrics.csv", history::writeCsv);
            writing(run, "chart.png", f -> Charts.orWarn(() -> Charts.write(history, f)));
        });
        run.keep();
        savedEpoch = epoch;
    }

    /** Writes a file of the run folder. */
    @FunctionalInterface
    interface FileWrite {
        void run() throws IOException;
    }

    /**
     * Runs {@code write}, the writing of epoch {@code epoch}'s files into {@code dir}; an I/O error's line then says what
     * the folder keeps, as an interrupt's does. A full disk at chart.png stopped the run with "cannot write chart.png"
     * and no word on which epoch's checkpoints were left.
     */
    static void saving(Path dir, int saved, int epoch, FileWrite write) throws IOException {
        try {
            write.run();
        } catch (IOException e) {
            throw new IOException(e.getMessage() + keeps(dir, saved, epoch), e);
        }
    }

    /** Writes the file {@code name} of the run folder (see RunFolder.write), its I/O errors named as below. */
    static void writing(RunFolder run, String name, RunFolder.Write write) throws IOException {
        writing(run.resolve(name), () -> run.write(name, write));
    }

    /**
     * Runs {@code write}, the writing of {@code file}; an I/O error that does not name the file is given its name and
     * the system's reason. A full disk said only "seq4j: No space left on device", and while drawing the chart
     * "seq4j: I/O error writing PNG file!" (ImageIO's message; the reason was its cause).
     */
    static void writing(Path file, FileWrite write) throws IOException {
        try {
            write.run();
        } catch (IOException e) {
            String m = e.getMessage();
            if (m != null && m.contains(file.getFileName().toString())) {
                throw e; // it names the file already (a folder in the way, an atomic rename refused)
            }
            IOException reason = e;
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof IOException io) {
                    reason = io; // the deepest: ImageIO's IIOException wraps the system's
                }
            }
            throw new IOException("cannot write " + file + ": " + RunFolder.reason(reason), e);
        }
    }

    private static int or(Integer v, int fallback) {
        return v != null ? v : fallback;
    }

    private static float or(Float v, float fallback) {
        return v != null ? v : fallback;
    }

}
