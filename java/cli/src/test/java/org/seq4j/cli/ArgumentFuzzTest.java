// An argument fuzzer for the command line: every option of train, eval, generate and info, read from picocli's
// CommandSpec (a new option is fuzzed without a change here, and one of a type this test has no values for is a
// finding), given boundary and malformed values, duplicated, unknown, conflicting, with TASK missing or wrong. Every
// such vector holds something bad, so it must be refused before training starts: exit code 2, one line on stderr
// that starts "seq4j: ", names an option or value of the vector, and rewrites no terminal; no --out left behind and
// no folder or file it touched changed; within a few seconds. A few valid vectors train, evaluate and generate tiny
// and must exit 0. All findings are collected and listed at the end.
//
// Defaults: a systematic pass (each option with each of its values once) and 300 random vectors of one to three
// changes, seed 145; -Dseq4j.fuzz.vectors=N and -Dseq4j.fuzz.seed=S widen it. The lines it saw are written to
// target/argument-fuzz-messages.txt for reading.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.seq4j.cli.CliRuns.Result;
import org.seq4j.data.DataFileException;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

class ArgumentFuzzTest {
    /** A refusal that takes longer is a finding: every check comes before training, and none waits on anything. */
    private static final Duration REFUSAL = Duration.ofSeconds(5);
    /** The longest line a refusal may end with: a path in it whole, anything else typed cut as quote cuts it. */
    private static final int LONGEST = 1000;
    /** A Java class or exception named in a line meant for the user of the command line. */
    private static final Pattern JAVA = Pattern.compile("java\\.[a-z]+\\.|[A-Za-z]+Exception\\b");
    /** A valid vector trains, evaluates or generates tiny. */
    private static final Duration VALID = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    private final List<String> findings = new ArrayList<>();
    private final Map<String, Integer> lines = new TreeMap<>();   // each line a refusal ended with, and how often
    private int fresh;                                            // numbers the fresh --out folders

    // the files the vectors point at
    private Path run, lmRun, malformed, tinyText, garbage, emptyFolder, fullFolder, loop, dangling, fifo;

    /** A value for an option: certain when no option can take it (a parse error), so the line must name it. */
    private record Value(String text, boolean certain) {
    }

    /**
     * A valid base of a command that is still refused late (its anchor: data that cannot be read, a batch larger than
     * the set, a question or word the model does not know), so that a change to it which turns out valid is refused too
     * and never trains; the anchor's words may then be what the line names. A change that may be valid is not made to
     * the anchor's option (anchorOption), which would leave nothing bad; where none of the values may be valid (no path
     * this test gives is a data file of any task) or the anchor is a positional, anchorOption is null.
     */
    private record Base(String command, List<String> positionals, Map<String, List<String>> options,
                        String anchorOption, List<String> anchors) {
        boolean keepsItsAnchor(Change c) {
            return c.certain() || anchorOption == null
                    || !(c.set().containsKey(anchorOption) || c.removed().contains(anchorOption));
        }
    }

    /** One change to a base: options set or removed, positionals replaced, words appended; what the line may name. */
    private record Change(String what, Map<String, List<String>> set, List<String> removed, List<String> positionals,
                          List<String> appended, List<String> names, boolean certain) {
        static Change option(String option, Value v) {
            return new Change(option + " " + show(v.text()), Map.of(option, List.of(v.text())), List.of(), null,
                    List.of(), List.of(option, v.text()), v.certain());
        }

        /** As option, written as one word: --option=value (in place of the base's --option value). */
        static Change attached(String option, Value v) {
            return new Change(option + "=" + show(v.text()), Map.of(option + "=" + v.text(), List.of()),
                    List.of(option), null, List.of(), List.of(option, v.text()), v.certain());
        }

        static Change words(String what, boolean certain, List<String> names, String... words) {
            return new Change(what, Map.of(), List.of(), null, List.of(words), names, certain);
        }
    }

    @Test
    void badArgumentsAreRefusedInOneLineAndValidOnesRun() throws Exception {
        long seed = Long.getLong("seq4j.fuzz.seed", 145);
        int randomVectors = Integer.getInteger("seq4j.fuzz.vectors", 300);
        long t0 = System.nanoTime();
        fixtures();
        int valid = validVectors();
        if (run == null || lmRun == null) {
            fail("the valid runs that eval and generate read failed:\n" + String.join("\n", findings));
        }
        // the files the vectors name, as they were (the paths that do not exist stay so)
        List<Path> named = new ArrayList<>(List.of(run, lmRun, malformed, tinyText, garbage, emptyFolder, fullFolder,
                dir.resolve("missing"), dir.resolve("new\nline"), dir.resolve("x".repeat(300))));
        if (fifo != null) {
            named.add(fifo);
        }
        Map<Path, String> kept = snapshot(named);
        Path runs = Path.of("runs").toAbsolutePath();
        String runsBefore = snapshot(List.of(runs)).get(runs);

        Map<String, List<Base>> bases = bases();
        Map<String, List<Change>> changes = new LinkedHashMap<>();
        CommandLine cli = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                false);
        for (String command : bases.keySet()) {
            changes.put(command, changes(cli.getSubcommands().get(command).getCommandSpec(), cli));
        }
        int systematic = 0;
        for (var e : changes.entrySet()) {
            List<Base> b = bases.get(e.getKey());
            for (int i = 0; i < e.getValue().size(); i++) {
                List<Change> one = List.of(e.getValue().get(i));
                refused(base(b, i, one), one);
                systematic++;
            }
        }
        int structural = structural();
        Random random = new Random(seed);
        List<String> commands = new ArrayList<>(changes.keySet());
        for (int i = 0; i < randomVectors; i++) {
            String command = commands.get(random.nextInt(commands.size()));
            List<Base> b = bases.get(command);
            List<Change> c = changes.get(command);
            List<Change> picked = new ArrayList<>();
            java.util.Set<String> touched = new java.util.HashSet<>();
            for (int k = 1 + random.nextInt(3); k > 0; k--) {
                // none that sets what an earlier one set: the later value would replace the bad one unseen
                Change change = c.get(random.nextInt(c.size()));
                List<String> sets = new ArrayList<>(change.set().keySet());
                sets.addAll(change.removed());
                if (change.positionals() != null) {
                    sets.add("positionals");
                }
                if (java.util.Collections.disjoint(touched, sets)) {
                    touched.addAll(sets);
                    picked.add(change);
                }
            }
            refused(base(b, random.nextInt(b.size()), picked), picked);
        }

        Map<Path, String> after = snapshot(new ArrayList<>(kept.keySet()));
        for (Path p : kept.keySet()) {
            if (!kept.get(p).equals(after.get(p))) {
                findings.add("the refusals changed " + p + ": " + kept.get(p) + " -> " + after.get(p));
            }
        }
        if (!runsBefore.equals(snapshot(List.of(runs)).get(runs))) {
            findings.add("a refusal left a default run folder in " + runs);
        }
        StringBuilder report = new StringBuilder();
        lines.forEach((line, n) -> report.append(n).append('\t').append(line).append('\n'));
        if (Files.isDirectory(Path.of("target"))) {   // the module's, where Maven runs it
            Files.writeString(Path.of("target", "argument-fuzz-messages.txt"), report, StandardCharsets.UTF_8);
        }
        int total = valid + systematic + structural + randomVectors;
        System.out.printf("argument fuzz: seed %d, %d vectors (%d valid, %d systematic, %d structural, %d random), "
                + "%d distinct lines, %d findings, %.1f s%n", seed, total, valid, systematic, structural, randomVectors,
                lines.size(), findings.size(), (System.nanoTime() - t0) / 1e9);
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings (seed " + seed + "):\n" + String.join("\n", findings));
        }
    }

    // ---- the files --------------------------------------------------------------------------------------

    private void fixtures() throws IOException {
        malformed = Files.writeString(dir.resolve("malformed.txt"), "1+1    _2   \nno separator here\n".repeat(20));
        tinyText = Files.writeString(dir.resolve("tiny.txt"), "the cat sat\n");
        garbage = Files.write(dir.resolve("garbage.bin"), new byte[] {0, (byte) 0xff, 'P', 'K', 3, 4, '\n', 7});
        emptyFolder = Files.createDirectories(dir.resolve("empty"));
        fullFolder = Files.createDirectories(dir.resolve("full"));
        Files.writeString(fullFolder.resolve("notes.txt"), "mine\n");
        loop = Files.createSymbolicLink(dir.resolve("loop"), dir.resolve("loop"));
        dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("missing"));
        fifo = dir.resolve("fifo");   // one that nothing writes: a run that opened it to read would wait for ever
        try {
            if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() != 0) {
                fifo = null;
            }
        } catch (IOException | InterruptedException e) {
            fifo = null;
        }
    }

    /** The valid vectors; the first two runs are the checkpoints the refusals of eval and generate read. */
    private int validVectors() {
        Path a = dir.resolve("run"), lm = dir.resolve("lm");
        List<List<String>> vectors = List.of(
                List.of("train", "addition", "--epochs", "1", "--lines", "200", "--batch", "8", "--hidden", "8",
                        "--wordvec", "4", "--backend", "java", "--out", a.toString()),
                List.of("train", "lm", "--model", "rnnlm", "--epochs", "1", "--batch", "10", "--time-size", "5",
                        "--hidden", "8", "--wordvec", "8", "--backend", "java", "--out", lm.toString()),
                // values at the edge of what each option takes, spelled as it allows
                List.of("train", "ADDITION", "--model", "Peeky", "--no-reverse", "--cell", "GRU", "--epochs", "+1",
                        "--lines", "0200", "--batch", "8", "--hidden", "8", "--wordvec", "4", "--seed", "4294967295",
                        "--clip", "0", "--lr", "1e-45", "--eval-limit", "0", "--optimizer", "SGD", "--backend", "JAVA",
                        "--distributed", "NONE", "--out", dir.resolve("edge").toString()),
                List.of("train", "date", "--model", "attention", "--bidirectional", "--epochs", "1", "--lines", "10",
                        "--batch", "1", "--hidden", "2", "--wordvec", "1", "--seed", "0", "--clip", "-0.0",
                        "--backend", "java", "--out", dir.resolve("date").toString()),
                List.of("eval", "--checkpoint", a.toString(), "--backend", "java", "--limit", "0"),
                List.of("eval", "--checkpoint", a.resolve("model.npz").toString(), "--backend", "java", "--beam", "1",
                        "--weights-precision", "bf16"),
                List.of("eval", "--checkpoint", lm.toString(), "--weights", "LAST", "--backend", "java"),
                List.of("generate", "--checkpoint", a.toString(), "--backend", "java", "--beam", "4096", "1+2",
                        "999+999"),
                List.of("generate", "--checkpoint", lm.toString(), "--backend", "java", "--length", "1", "--sample",
                        "--seed", "0"),
                List.of("generate", "--checkpoint", lm.toString(), "--backend", "java", "--length", "2", "--beam", "2",
                        "--length-penalty", "-0.0", "--weights-precision", "BF16"),
                List.of("train", "waves", "--model", "predictor", "--epochs", "1", "--hidden", "4", "--backend", "java",
                        "--out", dir.resolve("waves").toString()),
                List.of("info"),
                List.of("--version"),
                List.of("help", "train"),
                List.of("generate", "-h"));
        for (List<String> v : vectors) {
            Result r;
            try {
                r = assertTimeoutPreemptively(VALID, () -> seq4j(v.toArray(String[]::new)));
            } catch (AssertionFailedError e) {
                findings.add("valid " + v + ": took over " + VALID.toSeconds() + " s");
                continue;
            }
            if (r.code() != 0) {
                findings.add("valid " + v + ": exit " + r.code() + ": " + r.err().strip());
            } else if (v.get(0).equals("train") && v.contains("addition")) {
                run = a;
            } else if (v.get(0).equals("train") && v.contains("lm")) {
                lmRun = lm;
            }
        }
        return vectors.size();
    }

    /** Each command's bases; every one is refused late (see Base) whatever single option is changed. */
    private Map<String, List<Base>> bases() {
        Map<String, List<Base>> b = new LinkedHashMap<>();
        List<Base> train = new ArrayList<>();
        for (String task : List.of("addition", "date")) {
            train.add(new Base("train", List.of(task), options("--backend", "java", "--data", malformed.toString()),
                    null, List.of(malformed.getFileName().toString())));
        }
        train.add(new Base("train", List.of("waves"), options("--backend", "java", "--batch", "100000"), "--batch",
                List.of("--batch")));
        train.add(new Base("train", List.of("lm"), options("--backend", "java", "--data", tinyText.toString()),
                null, List.of(tinyText.getFileName().toString())));
        b.put("train", train);
        b.put("eval", List.of(
                new Base("eval", List.of(), options("--checkpoint", run.toString(), "--backend", "java", "--data",
                        malformed.toString()), null, List.of(malformed.getFileName().toString())),
                new Base("eval", List.of(), options("--checkpoint", lmRun.toString(), "--backend", "java", "--data",
                        tinyText.toString()), null, List.of(tinyText.getFileName().toString()))));
        b.put("generate", List.of(
                new Base("generate", List.of("1x+2"), options("--checkpoint", run.toString(), "--backend", "java"),
                        null, List.of("1x+2")),
                new Base("generate", List.of(), options("--checkpoint", lmRun.toString(), "--backend", "java",
                        "--start", "zzzunknown"), "--start", List.of("zzzunknown"))));
        b.put("info", List.of(new Base("info", List.of(), options(), null, List.of())));
        return b;
    }

    /** The first of bases from the i-th round that keeps its anchor under changes, else the i-th (see refused). */
    private static Base base(List<Base> bases, int i, List<Change> changes) {
        for (int k = 0; k < bases.size(); k++) {
            Base b = bases.get((i + k) % bases.size());
            if (changes.stream().allMatch(b::keepsItsAnchor)) {
                return b;
            }
        }
        return bases.get(i % bases.size());
    }

    private static Map<String, List<String>> options(String... pairs) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], List.of(pairs[i + 1]));
        }
        return m;
    }

    // ---- the changes ------------------------------------------------------------------------------------

    /** Every single change to a command's vector: each option with each of its values, and the words around them. */
    private List<Change> changes(CommandSpec spec, CommandLine root) {
        List<Change> c = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp() || o.longestName().equals("--verbose")) {
                continue;   // their documented answer is the usage, the version, or stack traces
            }
            String name = o.longestName();
            if (o.arity().max() == 0) {   // a flag: given where it may not belong, with a value, twice
                c.add(new Change(name, Map.of(name, List.of()), List.of(), null, List.of(), List.of(name), false));
                if (o.negatable()) {
                    String no = "--no-" + name.substring(2);
                    c.add(Change.words(no, false, List.of(no), no));
                }
                for (String v : List.of("true", "false", "maybe", "")) {
                    c.add(Change.words(name + "=" + v, v.equals("maybe"), List.of(name), name + "=" + v));
                }
                c.add(Change.words(name + " twice", true, List.of(name), name, name));
                continue;
            }
            List<Value> values = values(o);
            if (values == null) {
                findings.add("no values for " + spec.qualifiedName() + " " + name + " of type " + o.type().getName()
                        + ": teach ArgumentFuzzTest.values its type");
                continue;
            }
            for (Value v : values) {
                c.add(Change.option(name, v));
                c.add(Change.attached(name, v));
            }
            if (o.required()) {
                c.add(new Change("no " + name, Map.of(), List.of(name), null, List.of(), List.of(name), true));
            }
            c.add(Change.words(name + " twice", true, List.of(name), name, values.get(0).text(), name,
                    values.get(0).text()));
            c.add(Change.words(name + " with no value", true, List.of(name), name));
            c.add(Change.words(name + " before an option", true, List.of(name), name, "--help"));
            c.add(Change.words(name + "=", true, List.of(name), name + "="));
        }
        for (var p : spec.positionalParameters()) {
            String label = p.paramLabel();
            for (Value v : values(p)) {   // a list (generate's questions) beside the base's, which stay its anchor
                c.add(new Change(label + " " + show(v.text()), Map.of(), List.of(), p.isMultiValue() ? null
                        : List.of(v.text()), p.isMultiValue() ? List.of(v.text()) : List.of(), List.of(label, v.text()),
                        v.certain()));
            }
            if (p.required()) {
                c.add(new Change("no " + label, Map.of(), List.of(), List.of(), List.of(), List.of(label), true));
            }
        }
        // words that are no option of this command: misspelt, another command's, an abbreviation, a stray word
        List<String> unknown = new ArrayList<>(List.of("--frobnicate", "-x", "---out", "--Out", "--o", "--=1"));
        for (CommandLine other : root.getSubcommands().values()) {
            for (OptionSpec o : other.getCommandSpec().options()) {
                if (spec.findOption(o.longestName()) == null && !o.longestName().equals("--verbose")) {
                    unknown.add(o.longestName());
                }
            }
        }
        for (String u : unknown) {
            c.add(Change.words(u, true, List.of(u), u));
        }
        if (spec.positionalParameters().stream().noneMatch(ArgSpec::isMultiValue)) {   // else a question
            c.add(Change.words("a stray word", true, List.of("stray"), "stray"));
            c.add(Change.words("-", true, List.of("'-'"), "-"));
        }
        c.add(Change.words("--verbose=true", true, List.of("--verbose"), "--verbose=true"));
        return c;
    }

    /** The values to give an option or positional of its type, or null for a type this test does not know. */
    private List<Value> values(ArgSpec a) {
        Class<?> t = a.auxiliaryTypes().length > 0 && a.isMultiValue() ? a.auxiliaryTypes()[0] : a.type();
        List<Value> v = new ArrayList<>();
        // no option takes these, whatever its type; a path is named whole (see LONGEST), its long one is below
        for (String s : List.of("", " ", "\t", "\r", "\u0000", "\u001b[2J", "\ud800", "\u202eabc", "x".repeat(5000))) {
            if (t != Path.class || s.length() < 5000) {
                v.add(new Value(s, t != String.class && t != Path.class));
            }
        }
        if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
            boolean isLong = t == Long.class || t == long.class;
            for (String s : List.of("1 ", " 1", "0x10", "1e3", "1.0", "1,000", "1_000", "\u0663", "\uff11", "+-1",
                    "NaN", "Infinity", "9223372036854775808", "-9223372036854775809", "9".repeat(400))) {
                v.add(new Value(s, true));
            }
            if (!isLong) {
                v.add(new Value("2147483648", true));
                v.add(new Value("-2147483649", true));
            }
            for (String s : List.of("0", "-1", "-0", "+0", "007", "65536", Integer.toString(Integer.MIN_VALUE),
                    Integer.toString(Integer.MAX_VALUE))) {
                v.add(new Value(s, false));
            }
            if (isLong) {
                for (String s : List.of(Long.toString(Long.MIN_VALUE), Long.toString(Long.MAX_VALUE), "4294967295",
                        "4294967296")) {
                    v.add(new Value(s, false));
                }
            }
            return v;
        }
        if (t == Float.class || t == float.class || t == Double.class || t == double.class) {
            boolean isFloat = t == Float.class || t == float.class;
            for (String s : List.of("abc", "1,5", "\u0663", "0x", "1e309", "-1e309", "1e-400", "1..0", "--1")) {
                v.add(new Value(s, true));
            }
            if (isFloat) {
                for (String s : List.of("1e39", "1e-50", "0x1p200")) {
                    v.add(new Value(s, true));
                }
            }
            for (String s : List.of("0", "-0.0", "-1", "NaN", "-NaN", "Infinity", "-Infinity", "+Infinity", "1e-45",
                    "4.9e-324", "3.4028235e38", "1.7976931348623157e308", "1 ", "0x1p-3", "1f", "2147483648")) {
                v.add(new Value(s, false));
            }
            return v;
        }
        if (t.isEnum()) {
            for (String s : List.of("bogus", "1", " none", "none ")) {
                v.add(new Value(s, true));
            }
            for (Object constant : t.getEnumConstants()) {
                String s = ((Enum<?>) constant).name();
                v.add(new Value(s, false));
                v.add(new Value(s.toLowerCase(Locale.ROOT), false));
            }
            return v;
        }
        if (t == Path.class) {
            Path missing = dir.resolve("missing");
            List<Path> paths = new ArrayList<>(List.of(missing, missing.resolve("deeper"), emptyFolder, fullFolder,
                    garbage, garbage.resolve("child"), loop, dangling, dir.resolve("new\nline"),
                    dir.resolve("x".repeat(300)), Path.of("/dev/null"), Path.of("/proc/seq4j-fuzz/out")));
            if (fifo != null) {
                paths.add(fifo);
            }
            for (Path p : paths) {
                v.add(new Value(p.toString(), false));
            }
            v.add(new Value(dir + "/a\u0000b", false));
            return v;
        }
        if (t == String.class) {
            // words: the known ones of each kind (another task's model, a cell, a backend, a task), and unknown ones
            for (String s : List.of("bogus", "ADDITION", "addition ", "lm2", "rnnlm", "simple", "better", "peeky",
                    "baseline", "attention", "predictor", "seq2seq", "gru", "GRU", "rnn", "lstm", "adam", "lion",
                    "java", "openblas", "cuda", "tpu", "the", "<unk>", "a b", "1+1", "é", "\u200b", "-1")) {
                v.add(new Value(s, false));
            }
            return v;
        }
        return null;
    }

    // ---- the structural vectors -------------------------------------------------------------------------

    /** Conflicts and missing pieces that random changes reach only by luck, each with what its line must name. */
    private int structural() throws IOException {
        String data = malformed.toString(), tiny = tinyText.toString();
        List<List<String>> cases = List.of(
                List.of("''", ""),
                List.of("--frobnicate", "--frobnicate"),
                List.of("frobnicate", "frobnicate"),
                List.of("TASK", "train"),
                List.of("TASK", "train", "--epochs", "1", "--backend", "java"),
                List.of("rnnlm", "train", "addition", "--model", "rnnlm", "--data", data),
                List.of("attention", "train", "waves", "--model", "attention", "--batch", "100000"),
                List.of("peeky", "train", "lm", "--model", "peeky", "--data", tiny),
                List.of("--cell", "train", "lm", "--model", "simple", "--cell", "gru", "--data", tiny),
                List.of("--cell", "train", "waves", "--cell", "gru", "--batch", "100000"),
                List.of("--cell", "train", "addition", "--cell", "rnn", "--data", data),
                List.of("--bidirectional", "train", "addition", "--model", "peeky", "--bidirectional", "--data", data),
                List.of("--bidirectional", "train", "lm", "--bidirectional", "--data", tiny),
                List.of("--no-reverse", "train", "waves", "--no-reverse", "--batch", "100000"),
                List.of("--no-reverse", "train", "lm", "--no-reverse", "--data", tiny),
                List.of("--hidden", "train", "date", "--bidirectional", "--hidden", "15", "--data", data),
                List.of("--reverse", "train", "addition", "--model", "baseline", "--reverse", "--data", data),
                List.of("--dropout", "train", "lm", "--model", "rnnlm", "--dropout", "0.3", "--data", tiny),
                List.of("--wordvec", "train", "lm", "--model", "better", "--wordvec", "8", "--data", tiny),
                List.of("--threads", "train", "addition", "--backend", "java", "--threads", "2", "--data", data),
                List.of("--mpi-timeout", "train", "addition", "--distributed", "none", "--mpi-timeout", "5", "--data",
                        data),
                List.of("--distributed", "train", "addition", "--distributed", "mpi", "--data", data),
                List.of("--lines", "train", "addition", "--lines", "100", "--data", data),
                List.of("--lines", "train", "addition", "--lines", "600000"),
                List.of(garbage.toString(), "train", "addition", "--data", data, "--out", garbage.toString()),
                // a run's folder: refused as another task's, or (its own task) put back as it was after the refusal
                List.of("another task", "train", "date", "--data", data, "--out", run.toString()),
                List.of("malformed", "train", "addition", "--data", data, "--out", run.toString()),
                List.of("tiny", "train", "lm", "--data", tiny, "--out", lmRun.toString()),
                List.of("--epochs", "train", "addition", "--data", data, "--", "--epochs", "1"),
                List.of("--checkpoint", "eval"),
                List.of("--checkpoint", "eval", "--backend", "java"),
                List.of("--weights", "eval", "--checkpoint", run.resolve("model.npz").toString(), "--weights", "last"),
                List.of("--limit", "eval", "--checkpoint", lmRun.toString(), "--limit", "5"),
                List.of("--beam", "eval", "--checkpoint", lmRun.toString(), "--beam", "2"),
                List.of("--weights-precision", "eval", "--checkpoint", lmRun.toString(), "--weights-precision", "bf16"),
                List.of("question", "generate", "--checkpoint", run.toString(), "--backend", "java"),
                List.of("--start", "generate", "--checkpoint", run.toString(), "--start", "the", "1+2"),
                List.of("--length", "generate", "--checkpoint", run.toString(), "--length", "3", "1+2"),
                List.of("--start", "generate", "--checkpoint", lmRun.toString(), "1+2"),
                List.of("--sample", "generate", "--checkpoint", lmRun.toString(), "--beam", "2", "--sample"),
                List.of("--length-penalty", "generate", "--checkpoint", lmRun.toString(), "--length-penalty", "1"),
                List.of("--end", "generate", "--checkpoint", lmRun.toString(), "--end", "the"),
                List.of("--end", "generate", "--checkpoint", lmRun.toString(), "--beam", "2", "--end", "a b"),
                List.of("--seed", "generate", "--checkpoint", lmRun.toString(), "--seed", "5"),
                List.of("--length", "generate", "--checkpoint", lmRun.toString(), "--length", "0"),
                List.of("--beam", "generate", "--checkpoint", run.toString(), "--beam", "0", "1+2"),
                List.of("extra", "info", "extra"),
                List.of("--backend", "info", "--backend", "java"));
        for (List<String> c : cases) {
            List<String> args = new ArrayList<>(c.subList(1, c.size()));
            Path out = null;
            if (args.size() > 0 && args.get(0).equals("train") && !args.contains("--out")) {
                out = dir.resolve("fresh-" + fresh++);
                args.addAll(List.of("--out", out.toString()));
            }
            check(String.join(" ", args), args, List.of(c.get(0)), out, null, false);
        }
        return cases.size();
    }

    // ---- running a vector -------------------------------------------------------------------------------

    /** Runs base with changes, which must be refused (see check). */
    private void refused(Base base, List<Change> changes) throws IOException {
        List<String> positionals = new ArrayList<>(base.positionals());
        Map<String, List<String>> options = new LinkedHashMap<>(base.options());
        List<String> appended = new ArrayList<>(), names = new ArrayList<>(), what = new ArrayList<>();
        boolean certain = false;
        for (Change c : changes) {
            if (c.positionals() != null) {
                positionals = new ArrayList<>(c.positionals());
            }
            c.removed().forEach(options::remove);
            options.putAll(c.set());
            appended.addAll(c.appended());
            names.addAll(c.names());
            what.add(c.what());
            certain |= c.certain();
        }
        Path out = null, folder = null;
        if (base.command().equals("train")) {
            String given = options.containsKey("--out") ? options.get("--out").get(0) : options.keySet().stream()
                    .filter(o -> o.startsWith("--out=")).map(o -> o.substring("--out=".length())).findFirst()
                    .orElse(null);
            if (given == null) {
                out = dir.resolve("fresh-" + fresh++);
                options.put("--out", List.of(out.toString()));
            } else if (!given.isBlank()) {   // "" is the working folder, where nothing is to be written
                try {
                    Path p = Path.of(given);
                    if (!Files.exists(p)) {
                        out = p;      // must not exist after the refusal either
                    } else if (Files.isDirectory(p)) {
                        folder = p;   // must hold what it held
                    }
                } catch (java.nio.file.InvalidPathException e) {
                    // a path no file can have (a NUL, a lone surrogate): nothing to look at
                }
            }
        }
        if (!certain) {
            names.addAll(base.anchors());
        }
        // no base of the command keeps its anchor under these changes: they may be valid, and run (in time)
        boolean mayRun = !changes.stream().allMatch(base::keepsItsAnchor);
        List<String> args = new ArrayList<>(List.of(base.command()));
        args.addAll(positionals);
        options.forEach((option, value) -> {
            args.add(option);
            args.addAll(value);
        });
        args.addAll(appended);
        check(base.command() + " " + base.positionals() + " + " + String.join(", ", what), args, names, out, folder,
                mayRun);
    }

    /**
     * Runs args and records what breaks the contract: exit code 2; one line on stderr starting "seq4j: " that names
     * one of names and holds no control character; the fresh run folder out not created; folder unchanged; in time.
     * Where mayRun, exit code 0 is right too.
     */
    private void check(String what, List<String> args, List<String> names, Path out, Path folder, boolean mayRun)
            throws IOException {
        String before = folder == null ? null : snapshot(List.of(folder)).get(folder);
        String[] argv = args.toArray(String[]::new);
        Result r;
        try {
            r = assertTimeoutPreemptively(REFUSAL, () -> seq4j(argv));
        } catch (AssertionFailedError e) {
            findings.add(what + ": took over " + REFUSAL.toSeconds() + " s " + show(args));
            return;
        }
        String err = r.err().strip();
        if (mayRun && r.code() == 0) {
            return;
        }
        List<String> errLines = err.lines().toList();
        String line = errLines.isEmpty() ? "" : errLines.get(0);
        lines.merge(shorten(line.replaceAll("fresh-[0-9]+", "fresh-N").replace(dir.toString(), "$TMP")), 1,
                Integer::sum);
        List<String> wrong = new ArrayList<>();
        if (r.code() != Main.BAD_INPUT) {
            wrong.add("exit " + r.code() + (r.code() == 0 ? " (accepted)" : ""));
        }
        if (errLines.size() != 1) {
            wrong.add(errLines.size() + " lines on stderr");
        }
        if (!line.startsWith("seq4j: ")) {
            wrong.add("a line not starting 'seq4j: '");
        }
        if (line.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            wrong.add("a control character in the line");
        }
        if (line.length() > LONGEST) {   // DataFileException.quote cuts what a line quotes to about 80 characters
            wrong.add("a line of " + line.length() + " characters");
        }
        if (JAVA.matcher(line).find()) {
            wrong.add("a line in Java's words, not the user's");
        }
        if (names.stream().flatMap(ArgumentFuzzTest::named).noneMatch(n -> n.matcher(line).find())) {
            wrong.add("a line naming none of " + show(names));
        }
        if (out != null && Files.exists(out)) {
            wrong.add("--out " + out.getFileName() + " left behind");
            deleteAll(out);
        }
        if (folder != null && !before.equals(snapshot(List.of(folder)).get(folder))) {
            wrong.add("--out " + folder + " changed");
        }
        if (!wrong.isEmpty()) {
            findings.add(what + ": " + String.join("; ", wrong) + "\n    args " + show(args) + "\n    err "
                    + shorten(err.replace("\n", "\n        ")));
        }
    }

    /**
     * The ways a line may name an option or value (case aside): an option by its name or by the word of what it sets
     * ("unknown backend ''" for --backend), a value as written or escaped as the lines escape it
     * (DataFileException.printable), or as far as its first control character (a message cut at a line break), each
     * by its first 40 characters.
     */
    private static Stream<Pattern> named(String s) {
        int cut = 0;
        while (cut < s.length() && s.charAt(cut) >= 0x20 && s.charAt(cut) != 0x7f) {
            cut++;
        }
        Stream<Pattern> word = s.startsWith("--") && s.length() > 2
                ? Stream.of(Pattern.compile("\\b" + Pattern.quote(s.substring(2)) + "\\b", Pattern.CASE_INSENSITIVE))
                : Stream.empty();
        return Stream.concat(word, Stream.of(s, DataFileException.printable(s), s.substring(0, cut)).map(String::strip)
                .filter(n -> !n.isEmpty()).map(n -> Pattern.compile(Pattern.quote(n.length() > 40 ? n.substring(0, 40)
                        : n), Pattern.CASE_INSENSITIVE)));
    }

    private static String show(Object o) {
        return shorten(String.valueOf(o).replace("\n", "\\n").replace("\u0000", "\\0").replace("\u001b", "\\e")
                .replace("\t", "\\t"));
    }

    private static String shorten(String s) {
        return s.length() > 400 ? s.substring(0, 400) + "... (" + s.length() + " characters)" : s;
    }

    /** Each path's files (name, size, modification time), or "absent". */
    private static Map<Path, String> snapshot(List<Path> paths) throws IOException {
        Map<Path, String> m = new LinkedHashMap<>();
        for (Path p : paths) {
            if (!Files.exists(p)) {
                m.put(p, "absent");
                continue;
            }
            TreeSet<String> files = new TreeSet<>();
            try (Stream<Path> s = Files.walk(p)) {
                for (Path f : s.toList()) {
                    files.add(p.relativize(f) + " " + (Files.isRegularFile(f) ? Files.size(f) + " "
                            + Files.getLastModifiedTime(f).toMillis() : Files.isDirectory(f) ? "folder" : "other"));
                }
            }
            m.put(p, files.toString());
        }
        return m;
    }

    private static void deleteAll(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
