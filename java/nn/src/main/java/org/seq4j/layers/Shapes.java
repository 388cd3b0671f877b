// Allocation-free shape comparisons for the layers' hot paths (Tensor.shape() and hasShape(int...) allocate).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

final class Shapes {
    private Shapes() {
    }

    /**
     * A layer constructor's arguments, each refused by name where null ({@code names}: the parameters' names, space
     * separated, in order). A null parameter failed with the JDK's NullPointerException about a local of the
     * constructor ("Cannot invoke Parameter.value() because W is null"), naming no layer; a null backend was kept and
     * failed at the first forward.
     */
    static void arguments(String layer, Backend backend, String names, Parameter... parameters) {
        if (backend == null) {
            throw new NullPointerException(layer + ": backend is null; expected the Backend the layer runs on");
        }
        for (int i = 0; i < parameters.length; i++) {
            if (parameters[i] == null) {
                throw new NullPointerException(layer + ": " + names.split(" ")[i] + " is null; expected its Parameter"
                        + " (a ParameterStore's, or a new Parameter(name, value, grad))");
            }
        }
    }

    static boolean same(Tensor a, Tensor b) {
        if (a == null || b == null || a.rank() != b.rank()) {
            return false;
        }
        for (int i = 0; i < a.rank(); i++) {
            if (a.dim(i) != b.dim(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A state that setState will copy, checked before the layer drops the state it carries: not null, float32, in memory
     * this thread can use, on the backend's device where its copy can read it. The copy found an int32 one ("copy: dst
     * is F32 but src is I32") after the carried state was gone, as one on another device or backend did until later.
     */
    static void requireState(Backend backend, String op, String name, Tensor t) {
        if (t == null) {
            throw new NullPointerException(op + ": " + name + " is null; expected (N, H) float32");
        }
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + name + " must be float32 (N, H), got " + t.dtype() + " " + t);
        }
        t.requireUsable(op, name);
        // what the copy into the layer's state would refuse (another device or backend, heap memory it cannot read),
        // refused here, before the old state is dropped
        requireOperand(backend, "copy", op, name, t);
    }

    /**
     * What the backend's {@code kernel} would refuse of {@code t} (Backend.requireOperand: another device or backend,
     * memory it cannot read such as the Java heap for most native kernels), refused before the layer's call has done
     * anything, its message led by the call: "TimeBiRecurrent.forward: embeddingForward: xs ... lies on the Java heap
     * ...". The kernel alone named its own argument ("W"), after part of the call had run.
     */
    static void requireOperand(Backend backend, String kernel, String op, String name, Tensor t) {
        try {
            backend.requireOperand(kernel, name, t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(op + ": " + e.getMessage(), e);
        }
    }

    /**
     * A forward's input, refused in the call's words where it is null or its memory is closed or another thread's
     * (Tensor.requireUsable: two field reads where it passes). A layer that checked nothing of its memory had it refused
     * by the first kernel to read it, in that kernel's words: "sigmoidForward: x ... belongs to an arena that is already
     * closed" out of Sigmoid.forward.
     *
     * @param op   the call, "Sigmoid.forward"
     * @param name the input's name, "x"
     * @param t    the input
     * @throws NullPointerException if t is null
     * @throws IllegalStateException if t's memory is closed or confined to another thread
     */
    static void requireInput(String op, String name, Tensor t) {
        if (t == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
        t.requireUsable(op, name);
    }

    /**
     * A tensor a caller hands a backward, checked before the backward uses its forward up (CallOrder.backwardStarts):
     * not null, float32, and memory that {@code kernel}, the first of the backend's kernels to read it, can read (open,
     * on the backend's device, not on the heap where that kernel cannot read it). With the layer's own shape check
     * after it, a backward refused for its arguments has changed nothing and leaves its forward for a corrected call.
     *
     * @param backend the layer's backend
     * @param kernel  the backend method that reads t first, "sumRows" (its heap rule; refusals of memory on the heap or
     *                another device name it; a closed arena or another thread's is refused in the layer's words, where
     *                "sumRows: dout ... belongs to an arena that is already closed" named no call of the caller's)
     * @param op      the call, "Affine.backward"
     * @param name    the tensor's name, "dout"
     * @param t       the tensor
     */
    static void requireGradient(Backend backend, String kernel, String op, String name, Tensor t) {
        if (t == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + name + " must be float32, got " + t.dtype() + " " + t);
        }
        t.requireUsable(op, name);
        backend.requireOperand(kernel, name, t);
    }

    /**
     * The refusal of a backward given a gradient of another shape than its forward's output. The kernels take element
     * counts, so a gradient of the same size but another layout (a batch-major (N, T, .) one after a time-major forward)
     * would be read as the forward's layout and give wrong weight gradients without an error; each backward compares
     * the whole shape first. Built only when refusing.
     *
     * @param op       the call, "TimeAffine.backward"
     * @param name     the gradient's name, "dout"
     * @param got      the gradient given
     * @param what     what it is the gradient of, "the forward's output (T, N, V)"
     * @param expected the expected shape
     * @return the exception to throw
     */
    static IllegalArgumentException gradientShape(String op, String name, Tensor got, String what, int... expected) {
        return new IllegalArgumentException(op + ": " + name + " has shape " + Tensor.shapeString(got.shape())
                + ", expected " + Tensor.shapeString(expected) + ", the shape of " + what);
    }

    static boolean is2(Tensor t, int d0, int d1) {
        return t.rank() == 2 && t.dim(0) == d0 && t.dim(1) == d1;
    }

    /** is2, and float32. */
    static boolean isF32(Tensor t, int d0, int d1) {
        return t.dtype() == org.seq4j.tensor.DType.F32 && is2(t, d0, d1);
    }

    static boolean is3(Tensor t, int d0, int d1, int d2) {
        return t.rank() == 3 && t.dim(0) == d0 && t.dim(1) == d1 && t.dim(2) == d2;
    }
}
