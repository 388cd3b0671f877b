// Runs a Python script with python3 and numpy, for the tests that check seq4j's files against numpy itself
// (NpzNumpyInteropTest, CheckpointTest, InteropExamplesTest). A test that calls it is skipped, with the reason,
// where python3 or numpy is not installed.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

public final class Numpy {
    private Numpy() {
    }

    /**
     * Runs {@code python3 -c script args...} and returns what it printed (standard output and error together).
     *
     * @param script the Python source
     * @param args   its sys.argv[1:]
     * @return its output
     * @throws org.opentest4j.TestAbortedException where python3 cannot start or numpy is not installed (the test skips)
     * @throws AssertionError if it exits with another status than 0 (its output is the message) or runs past 60 s
     */
    public static String run(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "python3 is not installed: " + e.getMessage());
            throw e;
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("python3 did not finish in 60 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(!out.contains("No module named 'numpy'"), "numpy is not installed for python3");
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
