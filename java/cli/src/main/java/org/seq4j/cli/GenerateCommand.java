// seq4j generate --checkpoint DIR [--weights best|last]: answers questions with a saved seq2seq model ("77+85"), or continues a
// text with a saved language model (--start "the", --length 30).
package org.seq4j.cli;

import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.DataFileException;
import org.seq4j.data.WordCorpus;
import org.seq4j.data.WordVocabulary;
import org.seq4j.models.Beam;
import org.seq4j.models.LanguageModel;
import org.seq4j.models.Model;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.CheckpointException;
import org.seq4j.train.ModelSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "generate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Answer questions with a saved addition/date model, or continue a text with a saved language "
                + "model.", "Questions: generate --checkpoint DIR \"77+85\"; a text: generate --checkpoint DIR --start "
                + "\"the\" --length 30 [--sample --seed S]."})
final class GenerateCommand implements Callable<Integer> {
    /** The longest question or answer (characters) and the most words a language model continues by. */
    static final int MAX_LENGTH = 1 << 16;

    @Spec
    CommandSpec spec;

    private boolean unshowableSaid;   // the warning of shown(), once a command

    @Mixin
    BackendOptions backendOptions;

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "a run folder of seq4j train (best.npz, model.npz), or one .npz checkpoint")
    Path dir;

    @Option(names = "--weights", paramLabel = "WHICH", description = "in a run folder: best (default where the run "
            + "wrote one) | last")
    Checkpoint.Pick pick;

    @Parameters(paramLabel = "QUESTION", arity = "0..*", description = "questions for an addition or date model")
    List<String> questions = List.of();

    @Option(names = "--start", description = "lm: the words to start from (default: the vocabulary's first word)")
    String start;

    @Option(names = "--length", defaultValue = "30", description = "lm: words to generate (default ${DEFAULT-VALUE})")
    int length;

    @Option(names = "--sample", description = "lm: draw from the softmax instead of taking the argmax")
    boolean sample;

    @Option(names = "--seed", defaultValue = "1984", description = "lm: seed of --sample")
    long seed;

    @Option(names = "--beam", paramLabel = "K", description = "beam search with K hypotheses (1 = greedy); prints each "
            + "answer's summed log-probability. Time and memory grow with K x --length: each step runs K rows and "
            + "copies their scores to the host (lm: --length 65536 with K 4096 holds about 3 GB of ids and runs for "
            + "tens of minutes; a search the Java heap cannot hold is refused before it starts)")
    Integer beam;

    @Option(names = "--length-penalty", paramLabel = "A", defaultValue = "0",
            description = "lm with --beam: rank by log-probability / length^A (default ${DEFAULT-VALUE}: none)")
    double lengthPenalty;

    @Option(names = "--end", paramLabel = "WORD", description = "lm with --beam: a word that ends a hypothesis (e.g. <eos>)")
    String end;

    @Option(names = "--weights-precision", paramLabel = "P", defaultValue = "F32",
            description = "addition/date/lm: the recurrent weights (Wh) of generation as f32 (default) | bf16: "
                    + "a bfloat16 copy with float32 accumulation, half the bytes per decoding step; changes answers "
                    + "slightly (README)")
    PackedMatrix.Precision weightsPrecision;

    @Override
    public Integer call() throws Exception {
        try (Cli.ShutdownHook line = Cli.interruptLine(spec.commandLine().getErr(), "generate")) {
            return generate();
        }
    }

    private int generate() throws Exception {
        Cli.requireNotEmpty("--checkpoint", dir, "a run folder of seq4j train, or a .npz in one");
        backendOptions.check();
        PrintWriter o = spec.commandLine().getOut();
        Cli.checkBeam(beam);
        if (!(lengthPenalty >= 0) || Double.isInfinite(lengthPenalty)) {
            throw new BadInputException("--length-penalty must be a finite number >= 0, got " + lengthPenalty);
        }
        if (beam != null && sample) {
            throw new BadInputException("--beam and --sample do not go together: beam search keeps the likeliest");
        }
        if (beam == null && (lengthPenalty != 0 || end != null)) {
            throw new BadInputException("--length-penalty and --end apply to beam search: add --beam K");
        }
        Cli.Saved saved = Cli.checkpoint(dir, pick, o);
        ModelSpec ms = saved.spec();
        switch (ms.task()) {
            case ADDITION, DATE -> {
                for (String option : List.of("--start", "--length", "--sample", "--seed", "--length-penalty", "--end")) {
                    if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                        throw new BadInputException(option + " is for language models; " + ms.task().lower()
                                + " models answer the questions given");
                    }
                }
                Questions q = questions(saved, ms);
                try (Backend backend = backendOptions.open(o); Model m = ms.restore(backend, saved.file())) {
                    Seq2seqModel s2s = (Seq2seqModel) m;
                    s2s.setInferencePrecision(weightsPrecision);
                    if (beam != null) {
                        Beam.Result r = Cli.beamSearch("--beam " + beam,
                                () -> s2s.beamSearch(q.ids(), q.startId(), q.answerLength() - 1, beam));
                        for (int i = 0; i < q.ids().length; i++) {
                            o.printf("%s -> %s  (log p %.4f)%n", questions.get(i),
                                    q.vocabulary().decode(r.sequences()[i][0]).stripTrailing(), r.logProbs()[i][0]);
                        }
                    } else {
                        int[][] ys = s2s.generate(q.ids(), q.startId(), q.answerLength() - 1);
                        for (int i = 0; i < ys.length; i++) {
                            // cut on the right only: a leading space is part of the answer (" 91" is not "91 ")
                            o.printf("%s -> %s%n", questions.get(i), q.vocabulary().decode(ys[i]).stripTrailing());
                        }
                    }
                }
            }
            case LM -> {
                if (!questions.isEmpty()) {
                    throw new BadInputException("a language model continues a text: give it with --start \"...\", "
                            + "not as questions");
                }
                if (length < 1 || length > MAX_LENGTH) {
                    throw new BadInputException("--length must be from 1 to " + MAX_LENGTH + " words, got " + length);
                }
                WordVocabulary vocab = saved.words();
                // split as training split its text (Python's str.split(): U+3000 and the no-break spaces too)
                List<String> words = start == null ? List.of(vocab.word(0)) : WordCorpus.words(start);
                if (words.isEmpty()) {
                    throw new BadInputException("--start is blank; give the words to start from, or leave it out to "
                            + "start from the vocabulary's first word (" + DataFileException.quote(vocab.word(0)) + ")");
                }
                if (!sample && spec.commandLine().getParseResult().hasMatchedOption("--seed")) {
                    throw new BadInputException("--seed is the seed of --sample; without --sample the words are the "
                            + "likeliest, with no randomness");
                }
                int[] prompt = new int[words.size()];
                for (int i = 0; i < prompt.length; i++) {
                    prompt[i] = vocab.idOf(words.get(i));
                    if (prompt[i] < 0) {
                        throw new BadInputException("the word " + DataFileException.quote(words.get(i)) + " is not in "
                                + "the model's vocabulary of " + vocab.size() + " words");
                    }
                }
                int endId = -1;
                if (end != null) {
                    List<String> endWords = WordCorpus.words(end);
                    if (endWords.size() != 1) {
                        throw new BadInputException("--end takes one word, got " + DataFileException.quote(end)
                                + (endWords.isEmpty() ? " (blank)" : " (" + endWords.size() + " words)"));
                    }
                    endId = vocab.idOf(endWords.get(0));
                    if (endId < 0) {
                        throw new BadInputException("--end: the word " + DataFileException.quote(endWords.get(0))
                                + " is not in the model's vocabulary");
                    }
                }
                try (Backend backend = backendOptions.open(o); Model m = ms.restore(backend, saved.file())) {
                    LanguageModel lm = (LanguageModel) m;
                    try {
                        lm.setInferencePrecision(weightsPrecision);
                    } catch (UnsupportedOperationException e) {
                        throw new BadInputException("--weights-precision " + Cli.lower(weightsPrecision) + ": a "
                                + ms.kind() + " language model has no LSTM or GRU weights to keep in it", e);
                    }
                    if (beam != null) {
                        int end = endId;
                        Beam.Result r = Cli.beamSearch("--beam " + beam + " --length " + length,
                                () -> lm.beamSearch(new int[][] {prompt}, length, beam, lengthPenalty, end));
                        o.printf("%s%n", shown(String.join(" ", words) + " " + vocab.decode(r.sequences()[0][0])));
                        o.printf("(log p %.4f, score %.4f)%n", r.logProbs()[0][0], r.scores()[0][0]);
                    } else {
                        int[] out = lm.generate(new int[][] {prompt}, length, sample
                                ? LanguageModel.Sampling.SAMPLE : LanguageModel.Sampling.ARGMAX, seed)[0];
                        o.printf("%s%n", shown(String.join(" ", words) + " " + vocab.decode(out)));
                    }
                }
            }
            case WAVES -> throw new BadInputException("generate answers questions or continues text; for a "
                    + "waves model use seq4j eval (or the prediction chart that train writes)");
        }
        return 0;
    }

    /** The questions as the model reads them: padded to its width, reversed if it was trained so. */
    private record Questions(int[][] ids, int startId, int answerLength, CharVocabulary vocabulary) {
    }

    /**
     * {@code text}, with one line on stderr the first time the terminal's encoding (stdout.encoding) cannot show it:
     * Java prints what it cannot encode as '?', and a language model's words of other scripts came out as "? e? e?"
     * without a word (a red-team find, LC_ALL=C).
     */
    private String shown(String text) {
        Charset out = Charset.forName(System.getProperty("stdout.encoding", "UTF-8"), StandardCharsets.UTF_8);
        if (!unshowableSaid && !out.newEncoder().canEncode(text)) {
            unshowableSaid = true;
            PrintWriter err = spec.commandLine().getErr();
            err.println("seq4j: this terminal's encoding (" + out + ") cannot show some of these words, which print as"
                    + " '?'; a UTF-8 locale shows them (e.g. LC_ALL=C.UTF-8)");
            err.flush();
        }
        return text;
    }

    /**
     * Checks each question as typed (errors point into it; a leading space, or an inner one where the training
     * questions had none, is refused: see Cli.spaceProblem), then pads and reverses it as in training.
     */
    private Questions questions(Cli.Saved saved, ModelSpec ms) throws CheckpointException {
        // a question of the model's task (a date model was shown the addition's "77+85")
        String like = ms.task() == ModelSpec.Task.DATE ? "\"september 27, 1994\"" : "\"77+85\"";
        if (questions.isEmpty()) {
            throw new BadInputException("give the questions to answer, e.g. " + like);
        }
        CharVocabulary vocab = saved.characters();
        // at most MAX_LENGTH characters each way: a training set's lines are far shorter, and an edited checkpoint
        // must not make generation decode for hours or fill the heap
        int width = saved.requireInt("question_width", 1, MAX_LENGTH);
        int answer = saved.requireInt("answer_length", 2, MAX_LENGTH);
        int startId = saved.requireInt("start_id", 0);
        if (startId >= vocab.size()) {
            throw new CheckpointException(saved.file(), "its start_id " + startId + " is outside its vocabulary of "
                    + vocab.size());
        }
        if (vocab.codePointOf(startId) != '_') {   // an edited one answered every question otherwise, differently
            throw new CheckpointException(saved.file(), "its start_id " + startId + " is '" + vocab.charOf(startId)
                    + "', not the '_' that starts every answer of the book's sets (as training writes it)");
        }
        Boolean innerSpaces = saved.questionInnerSpaces();
        int[][] xs = new int[questions.size()][];
        for (int i = 0; i < xs.length; i++) {
            String q = questions.get(i);
            if (q.isBlank()) {
                throw new BadInputException("question " + (i + 1) + " is empty; give questions like " + like);
            }
            if (q.indexOf('_') >= 0) {
                throw new BadInputException("question " + DataFileException.quote(q) + ": '_' starts the answer in "
                        + "the data files; give the question alone, like " + like);
            }
            int[] cps = q.codePoints().toArray();
            for (int j = 0; j < cps.length; j++) {
                if (!vocab.contains(cps[j])) {
                    throw new BadInputException("question " + DataFileException.quote(q) + ": character "
                            + CharVocabulary.describe(cps[j]) + " at position " + (j + 1) + " is not in the vocabulary"
                            + " of this model (" + DataFileException.quote(vocab.chars()) + ")");
                }
            }
            String spaces = Cli.spaceProblem(cps, ' ', innerSpaces);
            if (spaces != null) {
                throw new BadInputException("question " + DataFileException.quote(q) + " " + spaces);
            }
            if (cps.length > width) {
                throw new BadInputException("question " + DataFileException.quote(q) + " has " + cps.length
                        + " characters; this model was trained on questions of at most " + width);
            }
            if (cps.length < width && !vocab.contains(' ')) {
                throw new BadInputException("question " + DataFileException.quote(q) + " has " + cps.length
                        + " characters; this model knows no padding and reads questions of exactly " + width);
            }
            String padded = q + " ".repeat(width - cps.length);
            if (ms.reverse()) {
                padded = new StringBuilder(padded).reverse().toString();
            }
            xs[i] = vocab.encode(padded);
        }
        return new Questions(xs, startId, answer, vocab);
    }
}
