// Third-party providers on the class path that misbehave (a red-team find): one whose constructor throws stopped every
// call of Backends, create("java") and select() too, with a ServiceConfigurationError; one named "MyCPU" was listed as
// known and found under no spelling ("unknown backend 'MyCPU'; known here: ..., MyCPU, ..."); a blank name was listed
// as ", ,". Now the first is skipped (probe() says why), names are looked up in any case, and a blank one is skipped.
// A probe that cannot extract its libraries (UncheckedIOException) is described by its message alone, as seq4j info
// shows it; one that fails otherwise keeps the exception's class, the only clue to a bug.
// A child JVM, whose class path holds a service file naming the test providers below.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.testing.ChildJvm;

class ProviderLoadingTest {
    @TempDir
    Path dir;

    /** A provider whose constructor throws, as one whose jar misses a class it needs. */
    public static final class Throwing extends Named {
        public Throwing() {
            super("thrower");
            throw new IllegalStateException("this provider cannot start");
        }
    }

    /** A provider that names its backend in upper case. */
    public static final class Upper extends Named {
        public Upper() {
            super("MyCPU");
        }
    }

    /** A provider with a blank name. */
    public static final class Blank extends Named {
        public Blank() {
            super("  ");
        }
    }

    /** A provider with no folder to extract its libraries into: its message is the status, without a class name. */
    public static final class Unextractable extends Named {
        public Unextractable() {
            super("unextractable");
        }

        @Override
        public Probe probe() {
            throw new java.io.UncheckedIOException("cannot extract native libraries into /x",
                    new java.io.IOException("/x: read-only"));
        }
    }

    /** A provider whose probe fails in a way nobody foresaw: the status names the exception. */
    public static final class Failing extends Named {
        public Failing() {
            super("failing");
        }

        @Override
        public Probe probe() {
            throw new IllegalStateException("a bug");
        }
    }

    /** A provider of a backend that never loads, ranked below every real one. */
    public abstract static class Named implements BackendProvider {
        private final String name;

        Named(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int rank() {
            return 1000;
        }

        @Override
        public Probe probe() {
            return Probe.unavailable("a test provider");
        }

        @Override
        public Backend create(BackendConfig config) {
            throw new BackendUnavailableException("a test provider");
        }
    }

    /** Prints what Backends makes of the providers, one line each. */
    public static void main(String[] args) {
        System.out.println("names " + Backends.names());
        try (Backend b = Backends.create("java")) {
            System.out.println("create java " + b.name());
        }
        try (Backend b = Backends.select()) {
            System.out.println("select " + b.name());
        }
        System.out.println("provider mycpu " + Backends.provider("mycpu").name());
        System.out.println("provider MyCPU " + Backends.provider(" MyCPU ").name());
        for (Backends.Status s : Backends.probe()) {
            if (!List.of("java", "openblas", "cuda").contains(s.name())) {
                System.out.println("probe " + s.name() + ": " + s.detail());
            }
        }
    }

    @Test
    void providersThatCannotLoadOrNameThemselvesOddlyStopNothing() throws Exception {
        Path services = Files.createDirectories(dir.resolve("extra/META-INF/services"));
        Files.writeString(services.resolve(BackendProvider.class.getName()), String.join("\n",
                Throwing.class.getName(), Upper.class.getName(), Blank.class.getName(), Unextractable.class.getName(),
                Failing.class.getName()) + "\n");
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(60), List.of("-cp",
                System.getProperty("java.class.path") + java.io.File.pathSeparator + dir.resolve("extra")),
                ProviderLoadingTest.class.getName());
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("names [") && lines.get(0).contains("MyCPU") && !lines.get(0).contains(", ,")
                && !lines.get(0).contains("thrower"), r.toString());
        assertEquals("create java java", lines.get(1), r.toString());
        assertTrue(lines.get(2).startsWith("select "), r.toString());
        assertEquals("provider mycpu MyCPU", lines.get(3), r.toString());
        assertEquals("provider MyCPU MyCPU", lines.get(4), r.toString());
        assertTrue(lines.contains("probe MyCPU: a test provider"), r.toString());
        assertTrue(lines.contains("probe unextractable: cannot extract native libraries into /x"), r.toString());
        assertTrue(lines.contains("probe failing: its probe failed: java.lang.IllegalStateException: a bug"), r.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("probe (a provider): skipped: it could not be loaded: "
                + "java.util.ServiceConfigurationError") && l.contains("Throwing")), r.toString());
        assertTrue(lines.contains("probe " + Blank.class.getName() + ": skipped: it names its backend '  '; a backend "
                + "needs a name"), r.toString());
    }
}
