// --backend and --threads, shared by the commands that compute: the backend named, or the best one here.
package org.seq4j.cli;

import java.io.PrintWriter;
import org.seq4j.backend.Backend;
import org.seq4j.backend.BackendConfig;
import org.seq4j.backend.Backends;
import org.seq4j.backend.openblas.OpenBlasBackend;
import picocli.CommandLine.Option;

final class BackendOptions {
    @Option(names = "--backend", paramLabel = "NAME", description = "java | openblas | cuda (default: the best that loads here)")
    String backend;

    @Option(names = "--threads", description = "CPU threads of the openblas backend (default, or 0: one per core)")
    Integer threads;

    /** Checks the options without opening anything (a command calls it before it writes anything). */
    void check() {
        checkedConfig();
    }

    /**
     * The options and the environment's settings checked, and the configuration the backend opens with: --threads in
     * place of SEQ4J_THREADS (which is then not read), and none of the environment's settings for the java backend,
     * which uses none (Backends.create reads them so too).
     */
    private BackendConfig checkedConfig() {
        // 0 is one per core, as SEQ4J_THREADS=0 and BackendConfig read it
        if (threads != null && (threads < 0 || threads > OpenBlasBackend.maxThreads())) {
            throw new BadInputException("--threads must be 0 (one per core) or from 1 to " + OpenBlasBackend.maxThreads()
                    + ", got " + threads);
        }
        if (backend != null && !Backends.names().contains(backend.toLowerCase(java.util.Locale.ROOT))) {
            throw new BadInputException("unknown backend '" + backend + "'; choose " + String.join(", ", Backends.names()));
        }
        if (threads != null && backend != null && !backend.equalsIgnoreCase("openblas")) {
            throw new BadInputException("--threads sets the openblas backend's CPU threads; --backend " + backend
                    + " does not use it");
        }
        // the environment's settings as open() will read them: refused here, before a command generates or reads its
        // data (they were refused only as the backend opened, after "data: generated ..." had been printed)
        String forced;
        BackendConfig config;
        try {
            forced = backend != null ? null : Backends.forcedName().orElse(null);
            String opening = backend != null ? backend.toLowerCase(java.util.Locale.ROOT) : forced;
            config = "java".equals(opening) ? BackendConfig.defaults()
                    : threads != null ? BackendConfig.fromEnvironment(threads) : BackendConfig.fromEnvironment();
        } catch (IllegalArgumentException e) { // SEQ4J_BACKEND naming no backend, SEQ4J_THREADS no whole number
            throw new BadInputException(e.getMessage(), e);
        }
        if (threads != null && forced != null && !forced.equals("openblas")) {
            throw new BadInputException("--threads sets the openblas backend's CPU threads; the backend forced here, "
                    + forced + " (SEQ4J_BACKEND or -Dseq4j.backend), does not use it");
        }
        return config;
    }

    /** Opens the backend and says which one it is. */
    Backend open(PrintWriter out) {
        BackendConfig config = checkedConfig();
        Backend b;
        try {
            b = backend != null ? Backends.create(backend, config) : Backends.select(config);
        } catch (IllegalArgumentException e) { // an unknown name, or SEQ4J_THREADS that is not a number
            throw new BadInputException(e.getMessage(), e);
        }
        if (threads != null && !b.name().equals("openblas")) {
            // chosen by SEQ4J_BACKEND / -Dseq4j.backend, or as the best here: --threads was dropped without a word
            String name = b.name();
            b.close();
            throw new BadInputException("--threads sets the openblas backend's CPU threads; the backend chosen here, "
                    + name + " (SEQ4J_BACKEND, -Dseq4j.backend, or the best that loads), does not use it");
        }
        out.printf("backend: %s (%s)%n", b.name(), b.description());
        out.flush();
        return b;
    }
}
