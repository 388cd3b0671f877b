// Prints the path of the OpenBLAS library seq4j loads here, for the C harness (scripts/bench).
package org.seq4j.bench;

import org.seq4j.backend.openblas.OpenBlasBackend;

public final class WhichOpenBlas {
    public static void main(String[] args) {
        try (OpenBlasBackend b = new OpenBlasBackend()) {
            System.out.println(b.location().path());
        }
    }
}
