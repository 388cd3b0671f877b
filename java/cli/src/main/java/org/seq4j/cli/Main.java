// The seq4j command line: seq4j info | train | eval | generate. Run it through scripts/seq4j, which
// finds JDK 25, builds if needed and passes --enable-native-access.
package org.seq4j.cli;

import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "seq4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Sequence models (RNN, LSTM, seq2seq, attention) from \"Deep Learning from Scratch 2\", "
                + "on OpenBLAS, CUDA or the pure-Java reference.", "Add --verbose to any command for stack traces."},
        subcommands = {TrainCommand.class, EvalCommand.class, GenerateCommand.class, InfoCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests: no System.exit). */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** Runs the command line with its output and errors going to the given writers. */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        // backend selection logs at INFO through java.util.logging; commands report what matters themselves
        Logger.getLogger("org.seq4j").setLevel(Level.WARNING);
        CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).setOut(out).setErr(err);
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        // user errors (bad input, missing files, NaN loss) end in one line; --verbose shows the stack trace
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (verbose) {
                e.printStackTrace(commandLine.getErr());
            } else {
                commandLine.getErr().println("seq4j: " + describe(e));
            }
            commandLine.getErr().flush();
            return 2;
        });
        return cli.execute(java.util.Arrays.stream(args).filter(a -> !a.equals("--verbose")).toArray(String[]::new));
    }

    private static String describe(Throwable e) {
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return "no such file: " + f.getFile() + (f.getReason() != null ? " (" + f.getReason() + ")" : "");
        }
        String m = e.getMessage();
        return m != null ? m : e.getClass().getSimpleName();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"seq4j " + (v == null ? "(development build)" : v)};
        }
    }
}
