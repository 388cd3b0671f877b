// Chooses how a process trains: alone, or as one rank of an MPI job. AUTO joins MPI only when the process
// was started by an MPI launcher (mpirun / mpiexec / srun set OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK), so
// seq4j without MPI installed, or started normally, never loads libmpi and trains as a single process.
package org.seq4j.dist;

import java.time.Duration;
import java.util.Map;

/**
 * Chooses how a process trains: alone, or as one rank of an MPI job. {@link Mode#AUTO} joins MPI only when an
 * MPI launcher started the process, so without MPI installed libmpi is never loaded.
 */
public final class Distributed {
    private Distributed() {
    }

    /** --distributed: auto (MPI when launched by mpirun), mpi (an error if MPI does not start), none. */
    public enum Mode {
        /** MPI when an MPI launcher started this process, else a single process. */
        AUTO,
        /** MPI; a DistributedException if it does not start. */
        MPI,
        /** A single process; MPI is never loaded. */
        NONE
    }

    /** How long a collective may block before the watchdog ends the process, unless configured. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    /**
     * Whether an MPI launcher (mpirun, mpiexec, srun) started this process.
     *
     * @return true when OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK is set
     */
    public static boolean launchedByMpi() {
        return launchedByMpi(System.getenv());
    }

    static boolean launchedByMpi(Map<String, String> env) {
        return env.containsKey("OMPI_COMM_WORLD_SIZE") || env.containsKey("PMIX_RANK") || env.containsKey("PMI_RANK");
    }

    /**
     * The communicator for {@code mode}: a single process, or MPI_COMM_WORLD (initialising MPI).
     *
     * @param mode how to train
     * @param timeout how long a collective may block before the watchdog ends the process (MPI only)
     * @return the communicator; close it when training ends
     * @throws DistributedException when MPI was chosen and does not load or start
     * @throws NullPointerException naming a null mode, or a null timeout (needed by MPI, checked for every mode)
     */
    public static Communicator open(Mode mode, Duration timeout) {
        java.util.Objects.requireNonNull(mode, "Distributed.open: mode is null; expected NONE, MPI or AUTO");
        java.util.Objects.requireNonNull(timeout, "Distributed.open: timeout is null; expected how long a collective "
                + "may block, e.g. Duration.ofMinutes(10)");
        return switch (mode) {
            case NONE -> Communicator.single();
            case MPI -> MpiCommunicator.init(timeout);
            case AUTO -> launchedByMpi() ? MpiCommunicator.init(timeout) : Communicator.single();
        };
    }
}
