// Running test programs under `mpirun -np R` (as root too, with more ranks than cores) with a hard timeout that
// kills the whole job and fails the test, so a hung collective never hangs CI. Shared by seq4j-nn's
// DataParallelTest and seq4j-cli's DistributedCommandLineTest (a package of its own: no split package).
package org.seq4j.mpitest;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.seq4j.dist.MpiLibrary;

public final class MpiRuns {
    /** How long one mpirun job may take before it is killed and the test fails. */
    public static final long TIMEOUT_S = 180;

    private MpiRuns() {
    }

    /** mpirun found on PATH by {@link #findMpirun()}. */
    public static Path mpirun;

    /** Finds mpirun, or skips the calling test class (call it from a @BeforeAll) with the reason. */
    public static void findMpirun() {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(folder, "mpirun");
            if (!folder.isEmpty() && Files.isExecutable(p)) {
                mpirun = p;
                break;
            }
        }
        assumeTrue(mpirun != null, "mpirun is not on PATH: Open MPI is not installed here "
                + "(Debian: apt-get install openmpi-bin libopenmpi-dev; .ci/run does this)");
        assumeTrue(MpiLibrary.probe().available(), () -> "libmpi does not load: " + MpiLibrary.probe().detail());
    }

    /** mpirun as root too (containers, CI), more ranks than cores, and the java of this JVM with its class path. */
    public static List<String> mpirun(int ranks) {
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--allow-run-as-root", "--oversubscribe", "-np",
                Integer.toString(ranks)));
        cmd.addAll(java());
        return cmd;
    }

    public static List<String> java() {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dseq4j.threads=1", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"));
    }

    public record Run(int exit, String output, double seconds) {
    }

    /** Runs cmd with a hard timeout: on expiry it and every descendant are killed and the test fails. */
    public static Run run(List<String> cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = ("reading output failed: " + e).getBytes(StandardCharsets.UTF_8);
            }
        });
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            reader.join(5000);
            fail("did not end within " + TIMEOUT_S + " s: " + cmd + "\n"
                    + (out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8)));
        }
        reader.join();
        return new Run(p.exitValue(), new String(out[0], StandardCharsets.UTF_8), (System.nanoTime() - t0) / 1e9);
    }

    public static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    public static String line(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(
                "no line starting with '" + prefix + "' in:\n" + text));
    }
}
