// Runs a test's risky part (one that could hang, spin or crash the JVM) as a main class in a child JVM with
// the same java and class path, killed after a timeout, so that a failure fails the test and never CI.
package org.seq4j.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

public final class ChildJvm {
    /** How the child ended: its exit code (-1: killed at the timeout) and everything it printed. */
    public record Result(int exitCode, boolean timedOut, String output) {
        public String describe() {
            return (timedOut ? "killed after the timeout" : "exit code " + exitCode) + "; output:\n" + output;
        }
    }

    private ChildJvm() {
    }

    public static Result run(Class<?> main, Duration timeout, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                main.getName()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("seq4j-child", ".txt");
        try {
            // output to a file, not a pipe: a hung child must not block the parent on a read
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            return new Result(finished ? p.exitValue() : -1, !finished, text);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
