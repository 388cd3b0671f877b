// The arguments of the collectives as every Communicator checks them: MpiCommunicator before MPI reads them, and the
// single process, whose collectives change nothing, alike. A program built and tested alone passed a null, an int32
// tensor, a heap tensor or one of a closed arena to SingleProcess without a word, and was refused only once it ran
// under mpirun (at the first all-reduce, an epoch into training, say).
package org.seq4j.dist;

import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

final class CollectiveArgs {
    private CollectiveArgs() {
    }

    /** MPI's counts are C ints; every rank refuses alike (their sizes agree) before MPI sees the tensor. */
    static int count(Tensor x, String who, String what) {
        if (x.size() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(who + "." + what + ": " + x.size() + " floats, more than an MPI "
                    + "count holds ("
                    + Integer.MAX_VALUE + "); split the tensor");
        }
        return (int) x.size();
    }

    /**
     * x as MPI reads it: not null, float32, and, on the host, native memory that is open (a heap tensor gave the FFM
     * linker's "Heap segment not allowed: MemorySegment{...}", a closed one "Already closed", naming neither the call
     * nor the tensor).
     */
    static void requireFloat(Tensor x, String who, String what) {
        if (x == null) {
            throw new NullPointerException(who + "." + what + ": x is null");
        }
        if (x.dtype() != DType.F32) {
            throw new IllegalArgumentException(who + "." + what + ": needs a float32 tensor, got " + x);
        }
        if (x.device().isHost() && !x.segment().isNative()) {
            throw new IllegalArgumentException(who + "." + what + ": x " + x + " lies on the Java heap, which "
                    + "MPI cannot read; give a tensor of native memory (Backend.allocate)");
        }
        if (!x.segment().scope().isAlive()) {
            throw new IllegalStateException(who + "." + what + ": x " + x + " belongs to an arena that is "
                    + "already closed");
        }
    }

    /** A null array named in the call's words (it was a NullPointerException without a message). */
    static void requireArray(Object values, String who, String what) {
        if (values == null) {
            throw new NullPointerException(who + "." + what + ": values is null");
        }
    }
}
