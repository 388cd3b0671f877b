// --distributed and --mpi-timeout of seq4j train: under mpirun (auto) or with --distributed mpi, this process
// is one rank of a data-parallel job (org.seq4j.dist); otherwise it trains alone and never loads MPI.
package org.seq4j.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.Distributed;
import org.seq4j.dist.DistributedException;
import picocli.CommandLine.Option;

final class DistributedOptions {
    @Option(names = "--distributed", paramLabel = "MODE", defaultValue = "auto",
            description = "auto (data-parallel over MPI when started by mpirun/srun) | mpi (an error without MPI) | none")
    Distributed.Mode mode;

    @Option(names = "--mpi-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "end this rank when an MPI collective blocks longer, e.g. because another rank died (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    /** Refuses a timeout below one second, before anything is started or written. */
    void check() {
        if (timeoutSeconds < 1) {
            throw new BadInputException("--mpi-timeout must be at least 1 second, got " + timeoutSeconds);
        }
    }

    /** As check(), and refuses a --mpi-timeout given (timeoutGiven) with --distributed none, where it would do nothing. */
    void check(boolean timeoutGiven) {
        check();
        if (timeoutGiven && mode == Distributed.Mode.NONE) {
            throw new BadInputException("--mpi-timeout is for data-parallel training; --distributed none trains alone");
        }
    }

    /** Starts MPI when asked or launched by mpirun, else the single-process communicator. */
    Communicator open() {
        check();
        try {
            return Distributed.open(mode, Duration.ofSeconds(timeoutSeconds));
        } catch (DistributedException e) {
            if (mode != Distributed.Mode.MPI) {
                throw e;
            }
            // asked for by name: the line said "no Open MPI library ..." without the option that wanted one
            throw new DistributedException("--distributed mpi: " + e.getMessage(), e);
        }
    }

    /** Where a rank other than 0 prints: nowhere (rank 0 speaks for the job). */
    static PrintWriter quiet() {
        return new PrintWriter(OutputStream.nullOutputStream());
    }

    static PrintStream quietStream() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
