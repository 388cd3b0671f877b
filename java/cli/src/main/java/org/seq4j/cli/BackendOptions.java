// --backend and --threads, shared by the commands that compute: the backend named, or the best one here.
package org.seq4j.cli;

import java.io.PrintWriter;
import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendConfig;
import org.seq4j.backend.Backends;
import picocli.CommandLine.Option;

final class BackendOptions {
    @Option(names = "--backend", paramLabel = "NAME", description = "java | openblas | cuda (default: the best that loads here)")
    String backend;

    @Option(names = "--threads", description = "CPU threads of the openblas backend (default: one per core)")
    Integer threads;

    /** Opens the backend and says which one it is. */
    Backend open(PrintWriter out) {
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            }
        }
        BackendConfig config = BackendConfig.fromEnvironment();
        if (threads != null) {
            config = config.withThreads(threads);
        }
        Backend b = backend != null ? Backends.create(backend, config) : Backends.select(config);
        out.printf("backend: %s (%s)%n", b.name(), b.description());
        out.flush();
        return b;
    }
}
