// The memory of a trainer's batch tensors, one set at a time: a re-size makes the new set in an arena of its own and
// closes the last one's. In one arena for the trainer's life every re-size added a set, and the command line re-sizes
// every epoch (it passes a new Batches each): a run's native memory grew by one set an epoch.
package org.seq4j.train;

import java.lang.foreign.Arena;
import java.util.function.Function;
import org.seq4j.tensor.Tensor;

final class BatchArena implements AutoCloseable {
    private Arena current;

    /**
     * The tensors {@code make} allocates in a new arena, which then replaces the last (closed: nothing reads the last
     * set, a model's backward follows only its own forward); if make throws, the new arena is closed and the last stays.
     */
    Tensor[] replace(Function<Arena, Tensor[]> make) {
        Arena next = Arena.ofShared();
        Tensor[] made;
        try {
            made = make.apply(next);
        } catch (RuntimeException | Error e) {
            next.close();
            throw e;
        }
        if (current != null) {
            current.close();
        }
        current = next;
        return made;
    }

    @Override
    public void close() {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
