// What Backends.select() and requireNative() log in a user's application: with the JDK's default logging (INFO and
// above, on stderr) every call printed two lines saying which backend it chose. The choice is now DEBUG (JUL's FINE),
// there for whoever turns it on; a fall back to the java backend stays a WARNING (NativeLoadingTest). In child JVMs,
// so that the logging configuration is the JDK's own.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.testing.BackendChoices;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

class SelectionLogTest {
    @TempDir
    Path dir;

    @Test
    void theBackendChosenIsNotPrintedByDefault() throws Exception {
        TestBackends.get("openblas"); // so that select() and requireNative() choose without a fall back
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of(), BackendChoices.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("strict: ") && !r.out().contains("strict failed"), r.toString());
        assertFalse(r.err().contains("using backend"), r.toString());
    }

    @Test
    void theBackendChosenIsLoggedAtDebug() throws Exception {
        TestBackends.get("openblas");
        Path config = Files.writeString(dir.resolve("logging.properties"), """
                handlers = java.util.logging.ConsoleHandler
                java.util.logging.ConsoleHandler.level = FINE
                org.seq4j.level = FINE
                """);
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120),
                List.of("-Djava.util.logging.config.file=" + config), BackendChoices.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        // select() and requireNative(): one record each, at FINE
        assertEquals(2, r.err().lines().filter(l -> l.startsWith("FINE: seq4j: using backend ")).count(), r.toString());
        assertFalse(r.err().contains("INFO: seq4j: using backend"), r.toString());
    }
}
