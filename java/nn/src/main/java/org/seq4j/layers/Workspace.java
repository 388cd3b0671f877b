// Memory for a layer's activations and scratch at one size (T, N): allocated together in one arena,
// reused by every step until the sizes change, then released together by reset() or close().
package org.seq4j.layers;

import java.lang.foreign.Arena;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * Memory for a layer's activations and scratch at one size: allocated together in one arena, reused until
 * the sizes change, then released together by {@link #reset()} or {@link #close()}.
 */
public final class Workspace implements AutoCloseable {
    private final Backend backend;
    private final String owner;
    private Arena arena;
    private boolean closed;

    /**
     * An empty workspace.
     *
     * @param backend allocates the tensors
     */
    public Workspace(Backend backend) {
        this(backend, "Workspace");
    }

    /**
     * An empty workspace of a named owner, whose name a use after close() gives ("this TimeLSTM is already closed").
     *
     * @param backend allocates the tensors
     * @param owner   what it belongs to: the layer's or model's class name
     * @throws NullPointerException if backend or owner is null
     */
    public Workspace(Backend backend, String owner) {
        this.owner = java.util.Objects.requireNonNull(owner, "owner");
        // every layer makes its workspace in its constructor: a null backend was kept, and refused by the first
        // forward as a bare "Cannot invoke Backend.allocate because this.backend is null"
        this.backend = java.util.Objects.requireNonNull(backend, () -> owner + ": backend is null");
    }

    /**
     * Releases everything allocated so far; tensors from before become invalid (their arena is closed). A layer that
     * keys its buffers on a size forgets the key before this call and records it only once its last allocation
     * returned: an allocation that throws (OutOfMemoryError from the arena, or anything else) must not leave the old
     * key over buffers of a closed arena, or of the new size, for the next call at the old size to use.
     */
    public void reset() {
        refuseClosed();
        if (arena != null) {
            arena.close();
            arena = null;
        }
    }

    /**
     * A zero-filled float32 tensor that lives until the next reset.
     *
     * @param shape its dimensions
     * @return the tensor
     */
    public Tensor floats(int... shape) {
        return backend.allocate(arena(), DType.F32, shape);
    }

    /**
     * A zero-filled int32 tensor that lives until the next reset.
     *
     * @param shape its dimensions
     * @return the tensor
     */
    public Tensor ints(int... shape) {
        return backend.allocate(arena(), DType.I32, shape);
    }

    /**
     * An unfilled packed matrix of the backend (Backend.packedMatrix), in this workspace's memory.
     *
     * @param rows      K
     * @param cols      N
     * @param precision how the weights are kept
     * @return the packed matrix, valid until reset or close
     */
    public PackedMatrix packed(int rows, int cols, PackedMatrix.Precision precision) {
        return backend.packedMatrix(arena(), rows, cols, precision);
    }

    /**
     * Whether {@code t} lies in this workspace's memory: a buffer it handed out since the last reset, or a view of one.
     *
     * @param t any tensor
     * @return true if t's memory is this workspace's
     * @throws NullPointerException if t is null
     */
    public boolean holds(Tensor t) {
        // null was false before the first buffer and a bare "Cannot invoke Tensor.segment()" after it
        java.util.Objects.requireNonNull(t, "Workspace.holds: t is null");
        return arena != null && t.segment().scope().equals(arena.scope());
    }

    /**
     * Refuses a forward's input that lies in the layer's own buffers (its last forward's output, say): the forward,
     * or the backward before it reads (a loss layer's gradient), overwrites them while the backward still reads the
     * input, which would then see the new values. And one whose
     * memory is closed or another thread's, in the call's words (the first kernel to read it named its own argument:
     * "gemm: a ... belongs to an arena that is already closed").
     *
     * @param op   the call, for the message ("TimeLSTM.forward")
     * @param name the input's name
     * @param t    the input
     * @throws IllegalArgumentException if t lies in this workspace
     * @throws IllegalStateException if t's memory is closed or confined to another thread
     */
    void refuseOwn(String op, String name, Tensor t) {
        t.requireUsable(op, name);
        if (holds(t)) {
            throw new IllegalArgumentException(op + ": " + name + " lies in this layer's own buffers (an output of its "
                    + "last forward or backward?), which this layer overwrites while its backward still reads " + name
                    + "; pass a copy");
        }
    }

    /**
     * Refuses a backward's gradient that overlaps a buffer the backward writes while it still reads the gradient (its
     * last backward's result fed back, say): the kernel that writes the buffer refused it in its own words ("gemm: c
     * and a overlap in memory"), and only after the backward had started, which left the forward used up (the same
     * call on a copy was then refused as "already ran for this forward") and some gradients already added. Called
     * before the backward starts; a buffer not yet allocated (null) holds nothing.
     *
     * @param op      the call, for the message ("Affine.backward")
     * @param name    the gradient's name
     * @param t       the gradient
     * @param written what the buffer is, for the message ("dx")
     * @param buffer  a buffer the backward writes while it reads t, or null
     * @throws IllegalArgumentException if t overlaps buffer
     */
    static void refuseWritten(String op, String name, Tensor t, String written, Tensor buffer) {
        if (buffer != null && t.overlaps(buffer)) {
            throw new IllegalArgumentException(op + ": " + name + " lies in this layer's own buffers (its " + written
                    + ", which this backward writes while it still reads " + name + "); pass a copy");
        }
    }

    /**
     * Refuses a use after close(): a layer used after it was closed would otherwise allocate a new arena that nothing
     * closes (at a new size), or hand out buffers of the closed one.
     */
    private void refuseClosed() {
        if (closed) {
            throw new IllegalStateException(owner + ": this " + owner + " is already closed");
        }
    }

    private Arena arena() {
        refuseClosed();
        if (arena == null) {
            // shared, not confined: a model may be built on one thread and trained on another
            arena = Arena.ofShared();
        }
        return arena;
    }

    /** Releases everything allocated; any later use throws IllegalStateException. Closing again does nothing. */
    @Override
    public void close() {
        if (!closed) {
            reset();
            closed = true;
        }
    }
}
