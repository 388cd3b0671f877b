// Chooses how a process trains: alone, or as one rank of an MPI job. AUTO joins MPI only when the process
// was started by an MPI launcher (mpirun / mpiexec / srun set OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK), so
// seq4j without MPI installed, or started normally, never loads libmpi and trains as a single process.
package org.seq4j.dist;

import java.time.Duration;
import java.util.Map;

public final class Distributed {
    private Distributed() {
    }

    /** --distributed: auto (MPI when launched by mpirun), mpi (an error if MPI does not start), none. */
    public enum Mode {
        AUTO, MPI, NONE
    }

    /** How long a collective may block before the watchdog ends the process, unless configured. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    /** True when an MPI launcher started this process (its environment variables are set). */
    public static boolean launchedByMpi() {
        return launchedByMpi(System.getenv());
    }

    static boolean launchedByMpi(Map<String, String> env) {
        return env.containsKey("OMPI_COMM_WORLD_SIZE") || env.containsKey("PMIX_RANK") || env.containsKey("PMI_RANK");
    }

    /** The communicator for {@code mode}: a single process, or MPI_COMM_WORLD (initialising MPI). */
    public static Communicator open(Mode mode, Duration timeout) {
        return switch (mode) {
            case NONE -> Communicator.single();
            case MPI -> MpiCommunicator.init(timeout);
            case AUTO -> launchedByMpi() ? MpiCommunicator.init(timeout) : Communicator.single();
        };
    }
}
