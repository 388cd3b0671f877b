// seq4j eval --checkpoint DIR [--weights best|last]: how well a saved model does: test accuracy (addition, date), perplexity (lm)
// or loss and free-running error (waves), on the data it was trained on or another file.
package org.seq4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.DataFileException;
import org.seq4j.data.HostFloats;
import org.seq4j.data.SequenceDataset;
import org.seq4j.data.SequenceLoader;
import org.seq4j.data.SequencePairs;
import org.seq4j.data.WaveSets;
import org.seq4j.data.WordCorpus;
import org.seq4j.data.WordVocabulary;
import org.seq4j.models.LanguageModel;
import org.seq4j.models.Model;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.optim.SGD;
import org.seq4j.train.Batches;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.CheckpointException;
import org.seq4j.train.ModelSpec;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.Seq2seqEval;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "eval", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Evaluate a saved model (a run folder of seq4j train).")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backendOptions;

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "a run folder of seq4j train (best.npz, model.npz), or one .npz checkpoint")
    Path dir;

    @Option(names = "--weights", paramLabel = "WHICH", description = "in a run folder: best (default where the run "
            + "wrote one) | last")
    Checkpoint.Pick pick;

    @Option(names = "--data", paramLabel = "FILE", description = "evaluate on this file: addition and date its test "
            + "split (the last tenth), lm the whole text (default: the training data's held-out part)")
    Path data;

    @Option(names = "--limit", defaultValue = "0", description = "evaluate the first N test questions only (0: all)")
    int limit;

    @Option(names = "--beam", paramLabel = "K", description = "addition/date: answer by beam search with K hypotheses "
            + "(1 = greedy, through the beam code); default: greedy")
    Integer beam;

    @Option(names = "--weights-precision", paramLabel = "P", defaultValue = "F32",
            description = "addition/date: the recurrent weights (Wh) of generation as f32 (default) | bf16: "
                    + "a bfloat16 copy with float32 accumulation, half the bytes per decoding step; changes answers "
                    + "slightly (README)")
    PackedMatrix.Precision weightsPrecision;

    @Override
    public Integer call() throws Exception {
        try (Cli.ShutdownHook line = Cli.interruptLine(spec.commandLine().getErr(), "eval")) {
            return evaluate();
        } catch (org.seq4j.optim.NonFiniteLossException e) {
            // eval trains nothing: the exception's own words ("training diverged, try a smaller learning rate") misled
            throw new BadInputException("the model's loss is " + e.loss() + " at step " + e.step() + " of the "
                    + "evaluation: the checkpoint's weights are not finite, or so large that its products overflow "
                    + "float; it cannot be evaluated", e);
        }
    }

    private int evaluate() throws Exception {
        Cli.requireNotEmpty("--checkpoint", dir, "a run folder of seq4j train, or a .npz in one");
        Cli.requireNotEmpty("--data", data, "the file to evaluate on (or leave --data out for the training data's "
                + "held-out part)");
        if (limit < 0) {
            throw new BadInputException("--limit must be >= 0 (0: all), got " + limit);
        }
        backendOptions.check();
        PrintWriter o = spec.commandLine().getOut();
        Cli.checkBeam(beam);
        Cli.Saved saved = Cli.checkpoint(dir, pick, o);
        ModelSpec ms = saved.spec();
        if (ms.task() == ModelSpec.Task.WAVES && data != null) {
            throw new BadInputException("a waves model is evaluated on its generated sine waves; --data is not used");
        }
        if (ms.task() == ModelSpec.Task.LM || ms.task() == ModelSpec.Task.WAVES) {
            for (String option : List.of("--limit", "--beam")) {
                if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                    throw new BadInputException(option + " is for addition and date models; " + ms.task().lower()
                            + " models are evaluated by their " + (ms.task() == ModelSpec.Task.LM ? "perplexity" : "loss"));
                }
            }
            if (weightsPrecision != PackedMatrix.Precision.F32) {
                throw new BadInputException("--weights-precision " + Cli.lower(weightsPrecision) + " is for the answers "
                        + "of addition and date models; " + ms.task().lower() + " models are evaluated in float32");
            }
        }
        // the data is read and held to the model's description before the backend opens and the model loads
        boolean seq2seq = ms.task() == ModelSpec.Task.ADDITION || ms.task() == ModelSpec.Task.DATE;
        Questions questions = seq2seq ? questions(saved, ms) : null;
        Text text = ms.task() == ModelSpec.Task.LM ? text(saved) : null;
        try (Backend backend = backendOptions.open(o); Model m = ms.restore(backend, saved.file())) {
            switch (ms.task()) {
                case ADDITION, DATE -> {
                    m.setInferencePrecision(weightsPrecision);
                    long t0 = System.nanoTime();
                    java.util.function.Supplier<Seq2seqEval.Result> evaluate = () -> Seq2seqEval.evaluate(
                            (Seq2seqModel) m, questions.test(), questions.vocabulary(), ms.reverse(), limit, 500, 5,
                            beam == null ? 0 : beam);
                    Seq2seqEval.Result r = beam == null ? evaluate.get() : Cli.beamSearch("--beam " + beam, evaluate);
                    double msPerQuestion = (System.nanoTime() - t0) / 1e6 / Math.max(1, r.total());
                    o.printf("%s %s on %s: test accuracy %.2f%% (%d/%d)%n", ms.task().lower(), model(ms),
                            questions.file(), 100 * r.accuracy(), r.correct(), r.total());
                    o.printf("decoding: %s, %s recurrent weights, %.3f ms per question (batches of 500)%n",
                            beam == null ? "greedy" : "beam search K=" + beam, Cli.lower(weightsPrecision), msPerQuestion);
                    for (Seq2seqEval.Sample s : r.samples()) {
                        // answers cut on the right only: a leading space is part of the answer (a guess " 91" is
                        // wrong for "91 "), and strip() showed the two alike beside a wrong mark
                        o.printf("  Q %s  T %s  %s %s%n", s.question().strip(), s.truth().stripTrailing(),
                                Cli.mark(s.correct()), s.guess().stripTrailing());
                    }
                }
                case WAVES -> {
                    boolean predictor = ms.kind().equals("predictor");
                    HostFloats inputs = predictor ? WaveSets.noisySine().inputs()
                            : WaveSets.sineToCosine().encoderInput();
                    HostFloats targets = predictor ? WaveSets.noisySine().targets() : WaveSets.sineToCosine().target();
                    Batches set = Batches.of(inputs, targets);
                    double loss = Cli.regressionLoss(m, set);
                    // the loss is 0.5 x the squared errors summed / N windows; their mean over the targets beside it
                    o.printf("waves %s: %s %.6f over %d windows (mean squared error %.6g over their %d target "
                            + "values)%n",
                            ms.kind(), Cli.WAVES_LOSS, loss, set.size(), 2 * loss * set.size() / targets.data().length,
                            targets.data().length);
                }
                case LM -> {
                    int[] ids = text.ids();
                    try (RnnlmTrainer t = new RnnlmTrainer((LanguageModel) m, new SGD(0f), 0f)) {
                        o.printf("lm %s on %s: perplexity %.2f (%d streams of %d steps)%n", model(ms), text.file(),
                                t.evalPerplexity(ids, text.batch(), text.time()), text.batch(), text.time());
                    }
                    WordVocabulary vocab = text.vocabulary();
                    int unk = vocab.idOf(WordVocabulary.UNK);
                    if (unk >= 0) { // a text of other words scores as a run of <unk>: say how much of it was
                        long unks = Arrays.stream(ids).filter(id -> id == unk).count();
                        o.printf("words read as %s: %d of %d (%.2f%%: the text's own and those outside the model's "
                                + "%d words)%n", WordVocabulary.UNK, unks, ids.length, 100.0 * unks / ids.length,
                                vocab.size());
                    }
                }
            }
        }
        return 0;
    }

    /** The test questions of an addition or date model, as it reads them, and the file they come from. */
    private record Questions(Path file, SequencePairs test, CharVocabulary vocabulary) {
    }

    /** The words a language model is evaluated on, the file they come from, and the streams and steps to read them. */
    private record Text(Path file, int[] ids, WordVocabulary vocabulary, int batch, int time) {
    }

    /**
     * The test split of --data (or of the training file), held to the checkpoint's description: answers of its
     * answer_length, questions of at most its question_width, padded with spaces on the right as generate pads
     * them (where the model knows a space), and, from --data, no question with a space the model never saw in that
     * place (Cli.spaceProblem); then reversed if the model reads them so. Other widths were scored without a word:
     * questions one wider fell from 99% to 78%, answers cut to one digit scored 100%.
     */
    private Questions questions(Cli.Saved saved, ModelSpec ms) throws IOException {
        CharVocabulary vocab = saved.characters();
        int width = saved.requireInt("question_width", 1, GenerateCommand.MAX_LENGTH);
        int answer = saved.requireInt("answer_length", 2, GenerateCommand.MAX_LENGTH);
        Path file = data != null ? data : Cli.trainingData(saved);
        SequenceDataset ds = SequenceLoader.load(file, SequenceLoader.Options.book().withVocabulary(vocab));
        if (data == null) {
            String found = Cli.fingerprint(ds);
            checkVocabulary(saved, file, found, vocab);
            Cli.checkTrainingData(saved, file, found);
        }
        SequencePairs test = ds.test();
        if (test.size() == 0) {
            throw new BadInputException(file + " has no test questions (the last tenth of its lines)");
        }
        if (test.answerLength() < 2) { // as train refuses them; the evaluation ended in an internal error
            throw new BadInputException(file + ": the answers are empty; expected characters after the '_'");
        }
        if (test.answerLength() != answer) {
            throw new BadInputException(file + ": its answers have " + test.answerLength() + " characters ('_' "
                    + "included) but " + saved.file() + " was trained on answers of " + answer + "; expected " + answer);
        }
        if (test.questionLength() > width) {
            throw new BadInputException(file + ": its questions have " + test.questionLength() + " characters but "
                    + saved.file() + " was trained on questions of " + width + "; expected at most " + width);
        }
        int space = vocab.idOf(' ');
        if (test.questionLength() < width && space < 0) {
            throw new BadInputException(file + ": its questions have " + test.questionLength() + " characters but "
                    + saved.file() + " knows no padding and reads questions of exactly " + width);
        }
        if (data != null) { // the training file is, by its fingerprint, what the model was trained on
            Boolean innerSpaces = saved.questionInnerSpaces();
            for (int[] q : test.x()) {
                String problem = Cli.spaceProblem(q, space, innerSpaces);
                if (problem != null) {
                    throw new BadInputException(file + ": question " + DataFileException.quote(vocab.decode(q)) + " "
                            + problem);
                }
            }
        }
        if (test.questionLength() < width) { // as generate pads a shorter question: on the right, before reversing
            int[][] x = new int[test.size()][];
            for (int i = 0; i < x.length; i++) {
                x[i] = Arrays.copyOf(test.x()[i], width);
                Arrays.fill(x[i], test.questionLength(), width, space);
            }
            test = new SequencePairs(x, test.t());
        }
        return new Questions(file, ms.reverse() ? test.withReversedQuestions() : test, vocab);
    }

    /**
     * Where the training file, read with the checkpoint's vocabulary, is not the data the model was trained on, but
     * read as train read it (with the vocabulary train builds from it) it is: the file is unchanged, and the
     * checkpoint's vocabulary is not the one training gave the model. Said so, of the checkpoint; it was blamed on
     * the file ("... is no longer the data ... it has changed since"). A checkpoint that records a digest of its
     * description is refused for an edited vocabulary before this, by Checkpoint.meta; one of a seq4j from before
     * the digest gets here.
     */
    private static void checkVocabulary(Cli.Saved saved, Path file, String found, CharVocabulary vocab)
            throws IOException {
        String trained = saved.meta().getProperty(Cli.DATA_FINGERPRINT);
        if (trained == null || trained.strip().equals(found)) {
            return;
        }
        SequenceDataset asTrained;
        try {
            asTrained = SequenceLoader.load(file);
        } catch (DataFileException e) {
            return; // the file is not what it was: checkTrainingData says so
        }
        if (Cli.fingerprint(asTrained).equals(trained.strip()) && !asTrained.vocabulary().chars().equals(vocab.chars())) {
            throw new CheckpointException(saved.file(), "its vocabulary " + DataFileException.quote(vocab.chars())
                    + " is not the one the model was trained with: " + file + " is the data it was trained on (read "
                    + "as train reads it, it has the fingerprint the checkpoint records), and training gave the model "
                    + "the vocabulary " + DataFileException.quote(asTrained.vocabulary().chars()) + " (was the "
                    + "checkpoint's description edited?)");
        }
    }

    /** The text a language model is evaluated on: --data, or the held-out tail of its training text. */
    private Text text(Cli.Saved saved) throws IOException {
        WordVocabulary vocab = saved.words();
        Path file = data != null ? data : Cli.trainingData(saved);
        int[] ids = WordCorpus.load(file, vocab).ids();
        if (data == null) { // the training run's held-out tail
            Cli.checkTrainingData(saved, file, Cli.fingerprint(ids));
            ids = Arrays.copyOfRange(ids, ids.length - ids.length / 10, ids.length);
        }
        // the streams and steps the run validated with, so that the held-out tail scores the perplexity the run
        // recorded (eval's fixed 10 streams of up to 35 steps scored another figure for any other --batch or
        // --time-size, the simple model's defaults among them); a checkpoint from before they were recorded: 10
        // streams of up to 35 steps, as eval read every language model then
        int batch = saved.optionalInt(Cli.VALID_BATCH, 1, 10);
        int time = Math.min(saved.optionalInt(Cli.VALID_TIME, 1, 35), Math.max(1, (ids.length - 1) / batch));
        if ((ids.length - 1L) / ((long) batch * time) < 1) {
            throw new BadInputException(file + ": " + ids.length + " words to evaluate on, too few for one "
                    + "batch of " + batch + " streams");
        }
        return new Text(file, ids, vocab, batch, time);
    }

    /** The model as train's model line names it: its kind, then its cell other than LSTM, then bidirectional. */
    private static String model(ModelSpec ms) {
        return ms.kind() + (ms.cell() == org.seq4j.layers.Cell.LSTM ? "" : " " + ms.cell().lower())
                + (ms.bidirectional() ? " bidirectional" : "");
    }
}
