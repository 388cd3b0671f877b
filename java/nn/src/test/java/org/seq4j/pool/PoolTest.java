// The native pool and the kernels' own checks, each in a child JVM (PoolChild) killed at a timeout: a pool
// that hangs or spins, a kernel that divides by a zero extent or follows a bad id fails the test, never CI.
package org.seq4j.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

class PoolTest {
    // the child's own work takes seconds; the rest is JVM start-up on a busy 2-core machine
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @BeforeEach
    void openBlasLoads() {
        TestBackends.get("openblas"); // skips, with the reason, where OpenBLAS or the C kernels do not load
    }

    @TempDir
    Path scratch;

    /** Runs PoolChild's mode args[0]; ChildJvm kills a child that outlives TIMEOUT (a hang) and fails the test. */
    private void runChild(String expected, String... args) throws Exception {
        ChildJvm.Result r = ChildJvm.run(scratch, TIMEOUT, List.of("-Xmx512m"), PoolChild.class.getName(), args);
        assertEquals(0, r.exitCode(), () -> args[0] + ": " + r);
        assertTrue(r.out().contains(expected), () -> args[0] + ": " + r);
    }

    /** Issue: a trainer on OpenBlasBackend(2) and a thread creating OpenBlasBackend(1) spun forever. */
    @Test
    void creatingAndClosingBackendsWhileOneTrainsNeverHangs() throws Exception {
        runChild("churn: ok", "churn", "15");
    }

    /** Issue: concurrent trainings found the pool busy, ran single-threaded and summed differently. */
    @Test
    void trainingIsBitIdenticalAloneOrConcurrent() throws Exception {
        runChild("repro: ok", "repro");
    }

    /** Issue: lstmCellForward/Backward with N = 0 or H = 0 died with SIGFPE in the C kernel. */
    @Test
    void lstmWithZeroRowsOrUnitsDoesNothing() throws Exception {
        runChild("zero: ok", "zero");
    }

    /** The few-row LSTM forward's team, whose parts wait for each other at every step, under contention. */
    @Test
    void fewRowForwardTeamsNeverHangAndKeepTheirBits() throws Exception {
        runChild("team: ok", "team");
    }

    /** Issue: ids changed after the Java check crashed the JVM in the scatter-add. */
    @Test
    void kernelsReportBadIdsInsteadOfFollowingThem() throws Exception {
        runChild("badid: ok", "badid");
    }
}
