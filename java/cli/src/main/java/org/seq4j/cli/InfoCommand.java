// seq4j info: the JDK, each backend as available or not with the reason, the OpenBLAS library (path,
// where it came from, its build string and threads), the C kernels' instruction set, the GPU, and the MPI
// library for data-parallel training (found, or why not).
package org.seq4j.cli;

import java.util.concurrent.Callable;
import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.Backends;
import org.seq4j.backend.openblas.OpenBlasBackend;
import org.seq4j.dist.Distributed;
import org.seq4j.dist.MpiLibrary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Show the JDK, which backends load here (and why not), OpenBLAS, GPU and MPI details.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        Runtime.Version v = Runtime.version();
        out.printf("seq4j     %s%n", new Main.Version().getVersion()[0].substring("seq4j ".length()));
        out.printf("JDK       %s (%s) at %s%n", v, System.getProperty("java.vendor"), System.getProperty("java.home"));
        out.printf("machine   %s %s, %d cores, %d MiB max heap%n", System.getProperty("os.name"),
                System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20);
        out.println();
        out.println("backends (best first):");
        for (Backends.Status s : Backends.probe()) {
            out.printf("  %-9s %s%n", s.name(), (s.available() ? "available    " : "unavailable: ") + s.detail());
        }
        // what a command would get: the first that loads, unless an explicit setting (SEQ4J_OPENBLAS...) is wrong
        String chosen;
        try (Backend b = Backends.select()) {
            chosen = b.name();
        } catch (BackendUnavailableException | IllegalArgumentException | java.io.UncheckedIOException e) {
            // an UncheckedIOException (no folder to extract the native libraries into) ended info here, exit code 2,
            // before the OpenBLAS and MPI lines
            chosen = "none, an error: " + e.getMessage();
        }
        String forced = System.getProperty("seq4j.backend", System.getenv("SEQ4J_BACKEND"));
        out.println();
        out.printf("selected  %s%s%n", forced != null && !forced.isBlank() ? chosen + " (forced)" : chosen,
                "  [force with --backend, -Dseq4j.backend or SEQ4J_BACKEND]");
        try (Backend b = Backends.create("openblas")) {
            if (b instanceof OpenBlasBackend ob) {
                out.println();
                out.printf("OpenBLAS  %s (%s)%n", ob.location().path(), ob.location().source());
                for (String skipped : ob.location().skipped()) {
                    out.printf("          passed over: %s%n", skipped);
                }
                out.printf("          %d threads in seq4j's native pool, OpenBLAS single-threaded inside it "
                        + "[set with -Dseq4j.threads or SEQ4J_THREADS]%n", ob.threads());
            }
        } catch (RuntimeException e) {
            out.printf("OpenBLAS  not loaded: %s%n", e.getMessage());
        }
        out.println();
        MpiLibrary.Status mpi = MpiLibrary.probe(); // loads libmpi, never starts MPI
        out.printf("MPI       %s%n", mpi.available() ? mpi.detail() : "not found: " + mpi.detail());
        out.printf("          %s%n", Distributed.launchedByMpi() ? "this process was started by an MPI launcher"
                : "data-parallel training: mpirun -np R scripts/seq4j train ... [--distributed, SEQ4J_MPI]");
        return 0;
    }
}
