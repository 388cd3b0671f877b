// scripts/gpu-check's size guard, without building anything: the device tool carries at most 64 MiB, working
// tree included, so `gpu-check size DIR` (which `bundle` runs last) must fail once the working tree plus the
// bundle reach the limit, and must accept the folder as an absolute or a repository-relative path.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GpuCheckScriptTest {
    static final Path SCRIPT = Path.of("../../scripts/gpu-check");

    @TempDir
    Path tmp;

    private record Result(int exit, String output) {
    }

    private static Result run(long limitBytes, String dir) throws IOException, InterruptedException {
        assumeTrue(Files.isRegularFile(SCRIPT), SCRIPT + " is not here (tests run from the java module folder)");
        assumeTrue(Files.isDirectory(Path.of("../../.git")) || Files.isRegularFile(Path.of("../../.git")),
                "not a git checkout: the guard measures the working tree with git");
        ProcessBuilder pb = new ProcessBuilder(List.of("bash", SCRIPT.toString(), "size", dir)).redirectErrorStream(true);
        pb.environment().put("SEQ4J_GPU_BUNDLE_LIMIT_BYTES", Long.toString(limitBytes));
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("gpu-check size did not finish in 60 s");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private Path bundleOf(int bytes) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("bundle"));
        Files.write(dir.resolve("bundle.tar.xz"), new byte[bytes]);
        return dir;
    }

    @Test
    void aBundleUnderTheLimitPassesGivenAsAnAbsolutePath() throws Exception {
        Path dir = bundleOf(3 << 20);
        Result r = run(1L << 40, dir.toAbsolutePath().toString());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("bundle 3.0 MiB") && r.output().contains("working tree"), r.output());
    }

    @Test
    void theWorkingTreePlusTheBundleAtTheLimitFails() throws Exception {
        Path dir = bundleOf(3 << 20);
        Result fits = run(1L << 40, dir.toString());
        long tree = Long.parseLong(fits.output().replaceAll("(?s).*working tree ([0-9.]+) MiB.*", "$1")
                .replace(".", "")) * (1 << 20) / 10;   // "1.9" MiB -> bytes, to 0.1 MiB
        Result over = run(tree + (3 << 20) - (1 << 20), dir.toString());
        assertEquals(1, over.exit(), over.output());
        assertTrue(over.output().contains("FAILED: too big for the device tool"), over.output());
    }

    @Test
    void aRepositoryRelativeFolderIsMeasuredFromTheRoot() throws Exception {
        Result r = run(1L << 40, "native/cuda");   // relative to the repository root, not to the caller's folder
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("bundle 0.0 MiB") || r.output().contains("bundle 0.1 MiB"), r.output());
    }
}
