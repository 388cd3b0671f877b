// A child JVM's program for DistributedUnitTest: asks for MPI twice, as a library user would (MpiLibrary.probe, then
// Distributed.open), and prints what each returned or threw. In a package of its own, so that it also runs from the
// class path beside seq4j-nn on the module path (a package cannot be split between the two).
package org.seq4j.mpitest;

import java.time.Duration;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.Distributed;
import org.seq4j.dist.MpiLibrary;

public final class MpiProbe {
    private MpiProbe() {
    }

    /** Prints "probe: AVAILABLE: DETAIL", then "open: RANK/SIZE" or "open failed: EXCEPTION", then the probe again. */
    public static void main(String[] args) {
        probe("probe");
        try (Communicator c = Distributed.open(Distributed.Mode.MPI, Duration.ofSeconds(30))) {
            System.out.println("open: " + c.rank() + "/" + c.size());
        } catch (Throwable t) {
            System.out.println("open failed: " + t);
        }
        probe("probe again");
    }

    private static void probe(String what) {
        try {
            MpiLibrary.Status s = MpiLibrary.probe();
            System.out.println(what + ": " + s.available() + ": " + s.detail());
        } catch (Throwable t) {
            System.out.println(what + " failed: " + t);
        }
    }
}
