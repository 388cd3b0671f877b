// A child JVM's program for NativeLoadingTest: each way of getting a backend once, in the order a user might call
// them, printing what it returned or what it threw. In org.seq4j.testing, not org.seq4j.backend, so that it also runs
// from the class path beside seq4j-core on the module path (a package cannot be split between the two).
package org.seq4j.testing;

import java.util.concurrent.Callable;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.openblas.OpenBlasBackend;

public final class BackendChoices {
    private BackendChoices() {
    }

    /** Prints "probe openblas: true|false: DETAIL", then "WHAT: NAME" or "WHAT failed: EXCEPTION" for each call. */
    public static void main(String[] args) {
        report("probe openblas", () -> Backends.probe().stream().filter(s -> s.name().equals("openblas"))
                .map(s -> s.available() + ": " + s.detail()).findFirst().orElse("no provider"));
        report("strict", () -> name(Backends.requireNative()));
        report("select", () -> name(Backends.select()));
        report("openblas", () -> name(Backends.create("openblas")));
        report("openblas again", () -> name(Backends.create("openblas")));
        report("maxThreads", () -> String.valueOf(OpenBlasBackend.maxThreads()));
    }

    private static String name(Backend b) {
        try (b) {
            return b.name();
        }
    }

    private static void report(String what, Callable<String> call) {
        try {
            System.out.println(what + ": " + call.call());
        } catch (Throwable t) {
            System.out.println(what + " failed: " + t);
        }
    }
}
