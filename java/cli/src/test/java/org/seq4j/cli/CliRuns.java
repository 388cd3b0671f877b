// The command line run in-process for the CLI tests: seq4j(args) gives the exit code and what went to stdout and
// stderr; tinyAttentionRun trains the small attention model that the generate/eval tests read.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.seq4j.data.ToySet;

final class CliRuns {
    record Result(int code, String out, String err) {
    }

    private CliRuns() {
    }

    static Result seq4j(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** One epoch of the attention model on 400 addition questions (java backend, H = 16, D = 8) into dir/run. */
    static Path tinyAttentionRun(Path dir) throws IOException {
        Path data = dir.resolve("addition.txt");
        ToySet.ADDITION.write(data, 400, 3);
        Path run = dir.resolve("run");
        Result r = seq4j("train", "addition", "--model", "attention", "--backend", "java", "--epochs", "1", "--batch",
                "32", "--hidden", "16", "--wordvec", "8", "--data", data.toString(), "--out", run.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        return run;
    }
}
