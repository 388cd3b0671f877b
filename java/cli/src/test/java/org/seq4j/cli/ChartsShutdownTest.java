// A chart drawn while the JVM shuts down (SIGTERM while an epoch is saved) fails inside AWT with
// IllegalStateException "Shutdown in progress"; the warning said charts "are not drawn on this machine", which is
// false and made a user look for missing fonts. Now it says the JVM is shutting down. A child JVM draws from a
// shutdown hook, with a drawing that throws as AWT does there.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChartsShutdownTest {

    /** The child: draws once now (a machine that cannot draw), then once from a shutdown hook. */
    public static void main(String[] args) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Charts.orWarn(() -> {
                    throw new IllegalStateException("Shutdown in progress");
                });
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }));
        if (args.length > 0) {
            Charts.orWarn(() -> {
                throw new InternalError("no fonts");
            });
        }
    }

    @Test
    void aChartRefusedByAShutdownSaysSoAndNotThatThisMachineCannotDraw() throws Exception {
        String err = child();
        assertEquals("seq4j: a chart is not drawn: the JVM is shutting down", err.strip(), err);
        // a machine that cannot draw is still told once, with why; the shutdown's line comes after it
        String both = child("cannot draw");
        assertTrue(both.startsWith("seq4j: WARNING: charts are not drawn on this machine (java.lang.InternalError: no "
                + "fonts)"), both);
        assertTrue(both.strip().endsWith("seq4j: a chart is not drawn: the JVM is shutting down"), both);
        assertFalse(Charts.shuttingDown(), "this JVM is not shutting down");
    }

    private static String child(String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), ChartsShutdownTest.class.getName()));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), err);
        return err;
    }
}
