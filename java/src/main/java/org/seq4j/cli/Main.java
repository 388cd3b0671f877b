// The seq4j command line: seq4j info | train | eval | generate. Run it through scripts/seq4j, which
// finds JDK 25, builds if needed and passes --enable-native-access.
package org.seq4j.cli;

import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "seq4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Sequence models (RNN, LSTM, seq2seq, attention) from \"Deep Learning from Scratch 2\", "
                + "on OpenBLAS, CUDA or the pure-Java reference.",
        subcommands = {InfoCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests: no System.exit). */
    public static int run(String... args) {
        // backend selection logs at INFO through java.util.logging; commands report what matters themselves
        Logger.getLogger("org.seq4j").setLevel(Level.WARNING);
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"seq4j " + (v == null ? "(development build)" : v)};
        }
    }
}
