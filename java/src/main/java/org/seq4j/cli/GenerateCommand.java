// seq4j generate --checkpoint DIR: answers questions with a saved seq2seq model ("77+85"), or continues a
// text with a saved language model (--start "the", --length 30).
package org.seq4j.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.seq4j.backend.Backend;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.WordVocabulary;
import org.seq4j.models.Beam;
import org.seq4j.models.LanguageModel;
import org.seq4j.models.Model;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.ModelSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Answer questions with a saved addition/date model, e.g. generate --checkpoint DIR \"77+85\",",
                "or continue a text with a saved language model: --start \"the\" --length 30 [--sample --seed S]."})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backendOptions;

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "the run folder")
    Path dir;

    @Parameters(paramLabel = "QUESTION", arity = "0..*", description = "questions for an addition or date model")
    List<String> questions = List.of();

    @Option(names = "--start", description = "lm: the words to start from")
    String start;

    @Option(names = "--length", defaultValue = "30", description = "lm: words to generate (default ${DEFAULT-VALUE})")
    int length;

    @Option(names = "--sample", description = "lm: draw from the softmax instead of taking the argmax")
    boolean sample;

    @Option(names = "--seed", defaultValue = "1984", description = "lm: seed of --sample")
    long seed;

    @Option(names = "--beam", paramLabel = "K", description = "beam search with K hypotheses (1 = greedy); prints each "
            + "answer's summed log-probability")
    Integer beam;

    @Option(names = "--length-penalty", paramLabel = "A", defaultValue = "0",
            description = "lm with --beam: rank by log-probability / length^A (default ${DEFAULT-VALUE}: none)")
    double lengthPenalty;

    @Option(names = "--end", paramLabel = "WORD", description = "lm with --beam: a word that ends a hypothesis (e.g. <eos>)")
    String end;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        if (beam != null && beam < 1) {
            throw new IllegalArgumentException("--beam must be >= 1, got " + beam);
        }
        if (!(lengthPenalty >= 0) || Double.isInfinite(lengthPenalty)) {
            throw new IllegalArgumentException("--length-penalty must be a finite number >= 0, got " + lengthPenalty);
        }
        if (beam != null && sample) {
            throw new IllegalArgumentException("--beam and --sample do not go together: beam search keeps the likeliest");
        }
        if (beam == null && (lengthPenalty != 0 || end != null)) {
            throw new IllegalArgumentException("--length-penalty and --end apply to beam search: add --beam K");
        }
        Properties meta = Checkpoint.meta(dir);
        ModelSpec ms = ModelSpec.load(meta, dir);
        try (Backend backend = backendOptions.open(o); Model m = ms.restore(backend, dir)) {
            switch (ms.task()) {
                case ADDITION, DATE -> answer((Seq2seqModel) m, ms, meta, o);
                case LM -> continueText((LanguageModel) m, o);
                case WAVES -> throw new IllegalArgumentException("generate answers questions or continues text; for a "
                        + "waves model use seq4j eval (or the prediction chart that train writes)");
            }
        }
        return 0;
    }

    private void answer(Seq2seqModel m, ModelSpec ms, Properties meta, PrintWriter o) {
        if (questions.isEmpty()) {
            throw new IllegalArgumentException("give the questions to answer, e.g. \"77+85\"");
        }
        CharVocabulary vocab = CharVocabulary.of(Checkpoint.require(meta, "vocabulary", dir));
        int width = Integer.parseInt(Checkpoint.require(meta, "question_width", dir));
        int answer = Integer.parseInt(Checkpoint.require(meta, "answer_length", dir));
        int startId = Integer.parseInt(Checkpoint.require(meta, "start_id", dir));
        int[][] xs = new int[questions.size()][];
        for (int i = 0; i < xs.length; i++) {
            String q = questions.get(i);
            if (q.length() > width) {
                throw new IllegalArgumentException("question \"" + q + "\" has " + q.length()
                        + " characters; this model was trained on questions of at most " + width);
            }
            String padded = q + " ".repeat(width - q.length());
            if (ms.reverse()) {
                padded = new StringBuilder(padded).reverse().toString();
            }
            try {
                xs[i] = vocab.encode(padded);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("question \"" + q + "\": " + e.getMessage() + " (the model knows: \""
                        + vocab.chars() + "\")", e);
            }
        }
        if (beam != null) {
            Beam.Result r = m.beamSearch(xs, startId, answer - 1, beam);
            for (int i = 0; i < xs.length; i++) {
                o.printf("%s -> %s  (log p %.4f)%n", questions.get(i), vocab.decode(r.sequences()[i][0]).strip(),
                        r.logProbs()[i][0]);
            }
            return;
        }
        int[][] ys = m.generate(xs, startId, answer - 1);
        for (int i = 0; i < xs.length; i++) {
            o.printf("%s -> %s%n", questions.get(i), vocab.decode(ys[i]).strip());
        }
    }

    private void continueText(LanguageModel m, PrintWriter o) throws java.io.IOException {
        WordVocabulary vocab = WordVocabulary.of(Files.readAllLines(dir.resolve("vocabulary.txt"), StandardCharsets.UTF_8));
        String[] words = (start == null || start.isBlank() ? vocab.word(0) : start.strip()).split("\\s+");
        int[] prompt = new int[words.length];
        for (int i = 0; i < words.length; i++) {
            prompt[i] = vocab.idOf(words[i]);
            if (prompt[i] < 0) {
                throw new IllegalArgumentException("the word \"" + words[i] + "\" is not in the model's vocabulary of "
                        + vocab.size() + " words");
            }
        }
        if (beam != null) {
            int endId = -1;
            if (end != null) {
                endId = vocab.idOf(end);
                if (endId < 0) {
                    throw new IllegalArgumentException("--end: the word \"" + end + "\" is not in the model's vocabulary");
                }
            }
            Beam.Result r = m.beamSearch(new int[][] {prompt}, length, beam, lengthPenalty, endId);
            o.printf("%s %s%n", String.join(" ", words), vocab.decode(r.sequences()[0][0]));
            o.printf("(log p %.4f, score %.4f)%n", r.logProbs()[0][0], r.scores()[0][0]);
            return;
        }
        int[] out = m.generate(new int[][] {prompt}, length, sample ? LanguageModel.Sampling.SAMPLE
                : LanguageModel.Sampling.ARGMAX, seed)[0];
        o.printf("%s %s%n", String.join(" ", words), vocab.decode(out));
    }
}
