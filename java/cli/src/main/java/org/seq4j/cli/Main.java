// The seq4j command line: seq4j info | train | eval | generate. Run it through scripts/seq4j, which
// finds JDK 25, builds if needed and passes --enable-native-access.
// Exit codes: 0 done; 2 bad input or usage (a bad option, a malformed data file, a corrupt checkpoint, a
// folder that cannot be written, a backend that cannot load, a diverging loss); 1 an internal error; 130 or
// 143 interrupted by SIGINT (Ctrl-C) or SIGTERM: the JVM's own 128 + signal, after the shutdown hooks ran.
package org.seq4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.optim.NonFiniteGradientException;
import org.seq4j.optim.NonFiniteLossException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "seq4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Sequence models (RNN, LSTM, seq2seq, attention) from \"Deep Learning from Scratch 2\", "
                + "on OpenBLAS, CUDA or the pure-Java reference.", "Add --verbose to any command for stack traces.",
                "Exit codes: 0 done, 2 bad input or usage, 1 internal error, 130 interrupted (Ctrl-C, SIGINT), "
                        + "143 terminated (SIGTERM)."},
        subcommands = {TrainCommand.class, EvalCommand.class, GenerateCommand.class, InfoCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /** Exit code of bad input or usage (picocli's too). */
    public static final int BAD_INPUT = 2;
    /** Exit code of an internal error: a bug, or the machine failing (out of memory). */
    public static final int INTERNAL_ERROR = 1;

    /**
     * --verbose: failures end with their stack trace instead of one line. Set by commandLine: run() takes the flag out of
     * the arguments before picocli parses them (anywhere on the line, before any command's own checks), so this option
     * is for the help of every command (inherited), where it was missing.
     */
    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Failures end with their stack trace instead of one line; the log says how the backend"
                    + " was chosen.")
    private boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests: no System.exit). */
    public static int run(String... args) {
        // standard output through a stream that keeps its last write error: a PrintWriter (or System.out) keeps it to
        // itself, and generate > /dev/full lost its answers and exited 0
        Stdout stdout = new Stdout();
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(stdout, System.out.charset()), true);
        int code = run(out, new PrintWriter(System.err, true), args);
        out.flush();
        java.io.IOException failed = stdout.failed;
        if (failed == null || String.valueOf(failed.getMessage()).contains("Broken pipe")) {
            return code;   // a reader that closed the pipe early (| head) wanted no more: as before, no word
        }
        System.err.println("seq4j: could not write all of its output to standard output (" + failed.getMessage()
                + ")");
        return code == 0 ? INTERNAL_ERROR : code;
    }

    /** Standard output's file descriptor, keeping the first write error for {@link #run(String...)}. */
    private static final class Stdout extends java.io.FilterOutputStream {
        java.io.IOException failed;

        Stdout() {
            super(new java.io.FileOutputStream(java.io.FileDescriptor.out));
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            try {
                out.write(b, off, len);
            } catch (java.io.IOException e) {
                if (failed == null) {
                    failed = e;
                }
                throw e;
            }
        }

        @Override
        public void write(int b) throws java.io.IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }
    }

    /** Runs the command line with its output and errors going to the given writers. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        for (String a : args) {
            if (a.startsWith("--verbose=")) {   // taken for an unknown word and ignored: --verbose=true did nothing
                err.println("seq4j: --verbose takes no value, got " + a + " (see seq4j --help)");
                err.flush();
                return BAD_INPUT;
            }
        }
        String undecoded = undecoded(args, System.getProperty("sun.jnu.encoding", "UTF-8"));
        if (undecoded != null) {
            err.println("seq4j: " + undecoded);
            err.flush();
            return BAD_INPUT;
        }
        // backend selection logs through java.util.logging: the backend chosen (FINE, System.Logger's DEBUG) and
        // those skipped (INFO) are for --verbose; a WARNING (a fall back to the slow java backend, say) is one line
        // on err
        Logger seq4j = Logger.getLogger("org.seq4j");
        Level level = seq4j.getLevel();
        boolean parents = seq4j.getUseParentHandlers();
        Handler warnings = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (isLoggable(r)) {
                    String m = new java.util.logging.SimpleFormatter().formatMessage(r);
                    err.println("seq4j: " + r.getLevel().getName() + ": " + (m.startsWith("seq4j: ") ? m.substring(7) : m));
                    err.flush();
                }
            }

            @Override
            public void flush() {
                err.flush();
            }

            @Override
            public void close() {
            }
        };
        seq4j.setLevel(verbose ? Level.FINE : Level.WARNING);
        seq4j.setUseParentHandlers(false);
        seq4j.addHandler(warnings);
        try {
            return commandLine(out, err, verbose)
                    .execute(java.util.Arrays.stream(args).filter(a -> !a.equals("--verbose")).toArray(String[]::new));
        } catch (OutOfMemoryError e) {
            if (verbose) {
                e.printStackTrace(err);
            }
            err.println(outOfMemory(e, Runtime.getRuntime().maxMemory()) + (verbose ? "" : " (--verbose shows where)"));
            err.flush();
            return INTERNAL_ERROR;
        } finally {
            seq4j.removeHandler(warnings);
            seq4j.setUseParentHandlers(parents);
            seq4j.setLevel(level);
        }
    }

    /**
     * Why the command line cannot be read as given, or null: the JVM decodes its arguments in the locale's encoding
     * (sun.jnu.encoding) and turns each byte it cannot decode into U+FFFD. In LC_ALL=C a --start word or a question in
     * another script arrived as '??' and was refused as a word the model does not know; a file name so decoded names
     * no file. Nothing can be done with such an argument, so it is refused first, naming the encoding.
     */
    static String undecoded(String[] args, String encoding) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].indexOf('\uFFFD') >= 0) {
                return "argument " + (i + 1) + " (" + args[i].replace('\uFFFD', '?') + ") has bytes that this locale's "
                        + "encoding, " + encoding + ", cannot decode (shown as '?'); run seq4j in a UTF-8 locale, e.g. "
                        + "LC_ALL=C.UTF-8";
            }
        }
        return null;
    }

    /**
     * The line for an OutOfMemoryError, by the memory that ran out: the Java heap (more -Xmx helps), the GPU's
     * (seq4j-cuda's "CUDA device memory exhausted"), or the machine's outside the heap, where seq4j's tensors live
     * (FFM's "Unable to allocate N bytes": more heap would leave less of it, so the line does not suggest it).
     */
    static String outOfMemory(OutOfMemoryError e, long maxHeapBytes) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (m.startsWith("CUDA device memory exhausted") || m.contains(": CUDA device memory exhausted")) {
            return "seq4j: out of GPU memory (" + m + "): give a smaller input or batch, or another device with "
                    + "-Dseq4j.cuda.device";
        }
        if (m.startsWith("Unable to allocate") || m.startsWith("Cannot reserve")) {
            return "seq4j: out of native memory (" + m + "): the machine's memory outside the Java heap, where "
                    + "tensors live, ran out: give a smaller input or batch, or a smaller -Xmx in SEQ4J_JAVA_OPTS";
        }
        return "seq4j: out of memory (" + (m.isEmpty() ? e.getClass().getName() : m) + ") with a heap of at most "
                + (maxHeapBytes >> 20) + " MiB: give a smaller input, or more heap with SEQ4J_JAVA_OPTS=-Xmx<size>";
    }

    /** The command line, its errors handled: one line (the stack trace with --verbose) and exit code 2 or 1. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, boolean verbose) {
        Main main = new Main();
        main.verbose = verbose;
        CommandLine cli = new CommandLine(main).setCaseInsensitiveEnumValuesAllowed(true).setOut(out).setErr(err);
        // whole numbers in ASCII digits only: Integer.valueOf takes any script's digits (--epochs \u0663 ran 3 epochs),
        // as the checkpoints' descriptions and .npy headers do not
        CommandLine.ITypeConverter<Integer> ints = s -> (int) whole(s, Integer.MIN_VALUE, Integer.MAX_VALUE);
        CommandLine.ITypeConverter<Long> longs = s -> whole(s, Long.MIN_VALUE, Long.MAX_VALUE);
        // a number past float's range read as Infinity ("--lr must be a positive number, got Infinity" for 1e39)
        CommandLine.ITypeConverter<Float> floats = Main::finiteFloat;
        // and the same for doubles (--length-penalty 1e-400 was read as 0: no penalty, and no word that it needs --beam)
        CommandLine.ITypeConverter<Double> doubles = Main::finiteDouble;
        // a path this JVM cannot represent (a NUL in it) as describe names it: picocli's own converter said "cannot
        // convert '...' to interface java.nio.file.Path (java.nio.file.InvalidPathException: Nul character not allowed"
        CommandLine.ITypeConverter<java.nio.file.Path> paths = s -> {
            try {
                return java.nio.file.Path.of(s);
            } catch (java.nio.file.InvalidPathException e) {
                throw new CommandLine.TypeConversionException(describe(e));
            }
        };
        cli.registerConverter(Integer.class, ints).registerConverter(int.class, ints)
                .registerConverter(Long.class, longs).registerConverter(long.class, longs)
                .registerConverter(Float.class, floats).registerConverter(float.class, floats)
                .registerConverter(Double.class, doubles).registerConverter(double.class, doubles)
                .registerConverter(java.nio.file.Path.class, paths);
        // a usage error: picocli's message and a pointer to --help, on one line (not the whole usage text)
        cli.setParameterExceptionHandler((e, args) -> {
            String command = e.getCommandLine().getCommandSpec().qualifiedName();
            String unknown = null;
            if (e instanceof CommandLine.UnmatchedArgumentException u && e.getCommandLine() == cli
                    && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
                unknown = u.getUnmatched().get(0);   // picocli said "Unmatched argument at index 0: 'foo'"
            } else if (e.getCommandLine() == cli && e.getValue() != null
                    && String.valueOf(e.getMessage()).startsWith("Unknown subcommand '")) {
                unknown = e.getValue();              // seq4j help foo: picocli's help said "Unknown subcommand 'foo'."
            }
            if (unknown != null) {
                err.println(quoted("seq4j: unknown command '" + unknown + "'; the commands are "
                        + String.join(", ", cli.getSubcommands().keySet()) + " (see seq4j --help)", args));
                err.flush();
                return BAD_INPUT;
            }
            err.println(quoted("seq4j: " + describe(e) + " (see " + command + " --help)", args));
            err.flush();
            return BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof Said said) { // its line is out already
                return said.exitCode;
            }
            report(err, e, verbose, parseResult.originalArgs());
            return exitCode(e);
        });
        return cli;
    }

    /** s as a whole number in ASCII digits (an optional sign first) from min to max, else a conversion error. */
    private static long whole(String s, long min, long max) {
        if (!s.matches("[+-]?[0-9]+")) {
            throw new CommandLine.TypeConversionException("'" + s + "' is not a whole number in the digits 0-9");
        }
        try {
            long v = Long.parseLong(s);   // ASCII digits only by now: only a value past a long fails here
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // past a long: out of range as below
        }
        throw new CommandLine.TypeConversionException("'" + s + "' is out of range: expected " + min + " to " + max);
    }

    /**
     * A float as Float.parseFloat reads it, but a finite number written past float's range is refused, and so is a
     * number other than zero that rounds to zero: --clip 1e-46 turned clipping off without a word, and --lr 1e-50
     * was refused as "got 0.0", which nobody typed.
     */
    static float finiteFloat(String s) {
        float f;
        try {
            f = Float.parseFloat(s);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + s + "' is not a number");
        }
        if (Float.isInfinite(f) && !s.toLowerCase(java.util.Locale.ROOT).contains("inf")) {
            throw new CommandLine.TypeConversionException("'" + s + "' is past float's range (at most "
                    + Float.MAX_VALUE + " in magnitude)");
        }
        if (f == 0f && !writtenAsZero(s)) {   // as a double too: 1e-400 is 0.0 there, and was taken as 0
            throw new CommandLine.TypeConversionException("'" + s + "' is below float's smallest positive value ("
                    + Float.MIN_VALUE + ") and would be read as 0");
        }
        return f;
    }

    /**
     * A double as Double.parseDouble reads it, but a finite number written past double's range is refused, and so is
     * a number other than zero that rounds to zero (as {@link #finiteFloat} for floats): --length-penalty 1e-400 was
     * read as 0, no length penalty, where 1e-300 is one.
     */
    static double finiteDouble(String s) {
        double d;
        try {
            d = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + s + "' is not a number");
        }
        if (Double.isInfinite(d) && !s.toLowerCase(java.util.Locale.ROOT).contains("inf")) {
            throw new CommandLine.TypeConversionException("'" + s + "' is past double's range (at most "
                    + Double.MAX_VALUE + " in magnitude)");
        }
        if (d == 0 && !writtenAsZero(s)) {
            throw new CommandLine.TypeConversionException("'" + s + "' is below double's smallest positive value ("
                    + Double.MIN_VALUE + ") and would be read as 0");
        }
        return d;
    }

    /** Whether s, which parses as a zero, was written as one (not as a number too small for its type). */
    private static boolean writtenAsZero(String s) {
        return ZERO.matcher(s.trim()).matches();
    }

    /** What Double.parseDouble reads as a zero that was written as one: every digit of the mantissa 0, decimal or hex. */
    private static final java.util.regex.Pattern ZERO = java.util.regex.Pattern.compile(
            "[+-]?((0+\\.?0*|\\.0+)([eE][+-]?[0-9]+)?|0[xX](0+\\.?0*|\\.0+|0*\\.)[pP][+-]?[0-9]+)[fFdD]?");

    /** 2 for bad input (the user can fix it), 1 for anything else (a bug to report). */
    static int exitCode(Throwable e) {
        boolean bad = e instanceof BadInputException || e instanceof IOException || e instanceof UncheckedIOException
                || e instanceof NonFiniteLossException || e instanceof NonFiniteGradientException
                || e instanceof org.seq4j.models.NonFiniteScoresException   // a checkpoint's values, not a bug
                || e instanceof BackendUnavailableException
                || e instanceof CommandLine.ParameterException
                // a path from an argument or a file (a checkpoint's data=) that this JVM cannot represent: a NUL in it,
                // or a name the locale's charset cannot encode (LC_ALL=C)
                || e instanceof java.nio.file.InvalidPathException
                // MPI missing when asked for, ranks started with different input, an MPI call that failed (a rank
                // died): the user's setup, not a bug in seq4j
                || e instanceof org.seq4j.dist.DistributedException;
        return bad ? BAD_INPUT : INTERNAL_ERROR;
    }

    /**
     * A failure whose line a command has already written (as the handler would write it: {@link #say}); the handler
     * only returns its exit code.
     */
    static final class Said extends RuntimeException {
        final int exitCode;

        private Said(Throwable cause, int exitCode) {
            super(cause.getMessage(), cause, false, false);
            this.exitCode = exitCode;
        }
    }

    /**
     * Writes e's line (its stack trace with --verbose) to the command's err now, as the execution handler would, and
     * returns what to throw.
     */
    static Said say(CommandLine.Model.CommandSpec command, Throwable e) {
        boolean verbose = command.root().userObject() instanceof Main m && m.verbose;
        report(command.commandLine().getErr(), e, verbose,
                command.root().commandLine().getParseResult().originalArgs());
        return new Said(e, exitCode(e));
    }

    /** How a command's failure ends: its one line, or with --verbose its stack trace; args: the command line's. */
    private static void report(PrintWriter err, Throwable e, boolean verbose, java.util.List<String> args) {
        if (verbose) {
            e.printStackTrace(err);
        } else {
            err.println(quoted(line(e), args.toArray(String[]::new)));
        }
        err.flush();
    }

    /**
     * The line with each argument it quotes between single quotes as given (picocli's "Unknown option: '...'" and
     * "Invalid value ...", "unknown backend '...'") cut as DataFileException.quote cuts quoted text, if longer: a value
     * of 5,000 characters was echoed whole, a line of 5,000 characters. Only what is quoted: a path is named whole. An
     * option given as one word, --option=value, is looked for as a whole and by its value, which picocli quotes alone.
     */
    static String quoted(String line, String[] args) {
        for (String arg : args) {
            int equals = arg.startsWith("-") ? arg.indexOf('=') : -1;
            for (String a : equals < 0 ? java.util.List.of(arg) : java.util.List.of(arg, arg.substring(equals + 1))) {
                String shown = "'" + org.seq4j.data.DataFileException.printable(a) + "'";   // as describe shows it
                String cut = org.seq4j.data.DataFileException.quote(a, '\'');
                if (cut.length() < shown.length()) {
                    line = line.replace(shown, cut);
                }
            }
        }
        return line;
    }

    /** The one line a failure ends a command with: what was wrong, or for a bug its class and where to look. */
    static String line(Throwable e) {
        boolean bug = exitCode(e) == INTERNAL_ERROR;
        return "seq4j: " + (bug ? "internal error: " + e.getClass().getSimpleName() + ": " : "") + describe(e)
                + (bug ? " (--verbose shows where)" : "");
    }

    private static String describe(Throwable e) {
        // the path as the user typed it, escaped as below: --data $'\e[2J' cleared the terminal, and a path with a line
        // break in it ended the line early
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return org.seq4j.data.DataFileException.printable("no such file: " + f.getFile()
                    + (f.getReason() != null ? " (" + f.getReason() + ")" : ""));
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getMessage() != null
                && f.getMessage().equals(f.getFile())) { // e.g. AccessDeniedException: only the path
            return org.seq4j.data.DataFileException.printable(f.getFile() + ": " + org.seq4j.train.RunFolder.reason(f));
        }
        if (e instanceof java.nio.file.InvalidPathException p) {
            return "cannot use the path " + org.seq4j.data.DataFileException.quote(p.getInput()) + " here: "
                    + p.getReason() + (p.getReason().startsWith("Malformed") ? " (a name the locale's character set "
                    + "cannot encode: run with a UTF-8 locale, e.g. LC_ALL=C.UTF-8)" : "");
        }
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            if (u.getMessage() != null && u.getCause().getMessage() != null
                    && u.getMessage().contains(u.getCause().getMessage())) {
                return describe(new RuntimeException(u.getMessage()));   // it carries its cause's words already
            }
            return (u.getMessage() != null ? u.getMessage() + ": " : "") + describe(u.getCause());
        }
        String m = e.getMessage();
        m = m != null ? m : e.getClass().getSimpleName();
        int newline = m.indexOf('\n');
        // one line, and nothing in it that rewrites the terminal: text from a file (a checkpoint's description edited
        // to hold an escape sequence or a carriage return) reached it raw
        return org.seq4j.data.DataFileException.printable(newline < 0 ? m : m.substring(0, newline) + " ...");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"seq4j " + (v == null ? "(development build)" : v)};
        }
    }
}
