// An application that embeds seq4j must be able to end: with backends it never closed, with a kernel running on
// another thread when it calls System.exit, and with a shutdown hook that uses the backend while other threads are
// still inside its kernels. Each case runs in a fresh JVM (ChildJvm) that must exit, cleanly, within a time limit.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

public class JvmExitTest {
    @TempDir
    Path dir;

    /** Products of n x n matrices on b, forever (until the JVM ends), on memory of a shared arena never closed. */
    static void spin(Backend b, int n, CountDownLatch started) {
        Arena arena = Arena.ofShared();
        Tensor a = b.allocate(arena, DType.F32, n, n);
        Tensor c = b.allocate(arena, DType.F32, n, n);
        b.fill(a, 0.5f);
        for (long i = 0;; i++) {
            b.matmul(Transpose.NO, Transpose.NO, 1f, a, a, 0f, c);
            b.tanhForward(c, c);
            if (i == 0) {
                started.countDown();
            }
        }
    }

    /**
     * Child: args[0] is the case. "forget": a backend used on several threads, never closed; main returns.
     * "exit": System.exit(3) while two threads (non-daemon) are inside kernels. "hook": the same, with a shutdown
     * hook that runs kernels on the backend and closes it.
     */
    public static void main(String[] args) throws Exception {
        Backend b = Backends.create("openblas");
        CountDownLatch started = new CountDownLatch(2);
        switch (args[0]) {
            case "forget" -> {
                Thread t = Thread.ofPlatform().start(() -> {
                    try (Arena arena = Arena.ofConfined()) {
                        Tensor a = b.allocate(arena, DType.F32, 256, 256);
                        b.fill(a, 0.25f);
                        b.matmul(Transpose.NO, Transpose.NO, 1f, a, a, 0f, b.allocate(arena, DType.F32, 256, 256));
                    }
                });
                t.join();
                Tensor a = b.allocate(Arena.ofAuto(), DType.F32, 256, 256);
                b.matmul(Transpose.NO, Transpose.NO, 1f, a, a, 0f, b.allocate(Arena.ofAuto(), DType.F32, 256, 256));
                System.out.println("main returns");
            }
            case "exit", "hook" -> {
                if (args[0].equals("hook")) {
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try (Arena arena = Arena.ofConfined()) {
                            Tensor a = b.allocate(arena, DType.F32, 64, 64);
                            b.fill(a, 1f);
                            b.matmul(Transpose.NO, Transpose.NO, 1f, a, a, 0f, b.allocate(arena, DType.F32, 64, 64));
                            System.out.println("hook ran a product: " + b.item(a, 0));
                        }
                    }));
                }
                for (int i = 0; i < 2; i++) {
                    Thread.ofPlatform().name("spinner-" + i).start(() -> spin(b, 384, started));
                }
                started.await();
                Thread.sleep(100);
                System.out.println("exiting");
                System.exit(3);
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private ChildJvm.Result child(String mode) throws Exception {
        return ChildJvm.run(dir, Duration.ofSeconds(60), List.of("-XX:ErrorFile=" + dir.resolve("hs_err_%p.log")),
                JvmExitTest.class.getName(), mode);
    }

    private void noCrashLog() throws Exception {
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList());
        }
    }

    @Test
    void aBackendNeverClosedDoesNotKeepTheJvmAlive() throws Exception {
        TestBackends.get("openblas");
        ChildJvm.Result r = child("forget");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("main returns"), r.toString());
        noCrashLog();
    }

    @Test
    void systemExitWhileKernelsRunOnOtherThreadsExitsCleanly() throws Exception {
        TestBackends.get("openblas");
        for (int i = 0; i < 3; i++) {
            ChildJvm.Result r = child("exit");
            assertEquals(3, r.exitCode(), "run " + i + ": " + r);
            noCrashLog();
        }
    }

    @Test
    void aShutdownHookMayUseTheBackendWhileKernelsRunOnOtherThreads() throws Exception {
        TestBackends.get("openblas");
        for (int i = 0; i < 3; i++) {
            ChildJvm.Result r = child("hook");
            assertEquals(3, r.exitCode(), "run " + i + ": " + r);
            assertTrue(r.out().contains("hook ran a product"), r.toString());
            assertFalse(r.err().contains("Exception"), r.toString());
            noCrashLog();
        }
    }
}
