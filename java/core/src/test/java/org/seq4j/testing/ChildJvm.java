// Runs a main class in a fresh JVM with this test run's java and class path, for tests whose failure mode
// is a dead or exhausted JVM (an OutOfMemoryError, a StackOverflowError, a native crash): the child can
// die, the test JVM cannot. A child that outlives its time limit is killed and the test fails, so CI never hangs.
package org.seq4j.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

public final class ChildJvm {
    private ChildJvm() {
    }

    /** What the child did: its exit code and everything it wrote. */
    public record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit code " + exitCode + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }

    /**
     * Runs {@code mainClass} with {@code args} in a new JVM given {@code jvmOptions} (e.g. -Xmx64m) and native
     * access; waits at most {@code limit}, else kills it and fails the calling test. Output goes through files
     * in {@code scratch}, so a chatty child cannot block on a full pipe.
     */
    public static Result run(Path scratch, Duration limit, List<String> jvmOptions, String mainClass, String... args)
            throws IOException, InterruptedException {
        return run(scratch, limit, true, jvmOptions, mainClass, args);
    }

    /**
     * {@link #run(Path, Duration, List, String, String...)} without {@code --enable-native-access} (for tests of a
     * JVM that denies seq4j native access).
     */
    public static Result runWithoutNativeAccess(Path scratch, Duration limit, List<String> jvmOptions, String mainClass,
            String... args) throws IOException, InterruptedException {
        return run(scratch, limit, false, jvmOptions, mainClass, args);
    }

    private static Result run(Path scratch, Duration limit, boolean nativeAccess, List<String> jvmOptions,
            String mainClass, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (nativeAccess) {
            cmd.add("--enable-native-access=ALL-UNNAMED");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
        cmd.addAll(jvmOptions);
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(scratch, "child", ".out"), err = Files.createTempFile(scratch, "child", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("the child JVM (" + mainClass + ") did not finish within " + limit + "; killed it. stderr so far:\n"
                    + Files.readString(err, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
