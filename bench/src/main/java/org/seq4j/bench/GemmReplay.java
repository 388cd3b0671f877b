// Records the matrix products of one piece of work (a training step) and replays exactly those calls, with
// the same tensors, on the real backend: "the same step's GEMMs alone". Recording goes through a
// java.lang.reflect.Proxy over Backend, which forwards every call and notes gemm, matmul and
// gemmStridedBatched (matmul is a default method whose inner gemm the proxy would not see), and the packed
// products with the packs they need: gemmPacked, and pack (a recurrent layer packs Wh once per forward and Wh^T
// once per backward), so the replay does the step's products the way the step does them. An LSTM's whole-sequence
// calls (lstmSequenceForward / lstmSequenceBackward) are recorded as the products they contain, one gemmPacked a step
// on the same views (gates_s += h_s Wh; dh_{s-1} = dA_s Wh^T), so the cells they fuse count as the rest of the step;
// the GRU's gruSequenceForward and gruSequenceBackward as their two strided products a step.
// The same recording keeps the complement, the step's other kernels, for replayRest ("the rest alone"): every call
// that is neither a product nor an allocation, a getter or the lifecycle, and an LSTM sequence call as what it does
// besides its products: the folded table's gather (one embeddingForward over all T N rows) and a lstmCellForward a step,
// or a lstmCellBackward a step between the same ping-pong buffers. Replayed thousands of times, two calls change so
// that the values stay as a step leaves them: Adam's zeroGrad is replayed false (zeroed gradients, never written again
// by the products the rest leaves out, would drive m into subnormals, slow on every CPU; the update then writes 600 KB
// less than the step's), the clip's scale by 1 (the same pass, without shrinking the gradients step after step), and
// addBias with a zero bias of the same shape (the same pass): its y is a product's output (the folded tables E Wx + b,
// the logits), which the step rewrites before adding b but the rest alone does not, so the recorded bias was added once
// more a replay: the gathered gates grew by about 1 a replay, past +-44 within the warm-up, and the cells then ran on
// saturated gates only (on AVX-512 also through a subnormal reciprocal, 3x slower a call, since fixed). So
// the rest alone is a floor of what a step spends outside its products, each kernel with its data as warm as a loop
// of the same kernels leaves it. Not for the GRU's sequence calls (their backward accumulates into dhs: replayed, its
// values would grow without bound): replayRest refuses a recording that has them.
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;

final class GemmReplay implements AutoCloseable {
    private static final Set<String> PRODUCTS = Set.of("gemm", "matmul", "gemmStridedBatched", "pack", "gemmPacked");
    /** Backend methods that are no kernel of a step: allocations, getters, the lifecycle. */
    private static final Set<String> NOT_KERNELS = Set.of("allocate", "packedMatrix", "device", "description", "name",
            "close", "synchronize");
    private static final Method GEMM_PACKED, GEMM_PACKED_STRIDED, EMBEDDING_FORWARD, CELL_FORWARD, CELL_BACKWARD,
            CELL_BACKWARD_CARRY, FILL, COPY;

    static {
        try {
            GEMM_PACKED = Backend.class.getMethod("gemmPacked", Tensor.class, Tensor.class, PackedMatrix.class,
                    float.class);
            GEMM_PACKED_STRIDED = Backend.class.getMethod("gemmPacked", int.class, Tensor.class, int.class,
                    Tensor.class, int.class, PackedMatrix.class, float.class);
            EMBEDDING_FORWARD = Backend.class.getMethod("embeddingForward", Tensor.class, Tensor.class, Tensor.class);
            CELL_FORWARD = Backend.class.getMethod("lstmCellForward", Tensor.class, Tensor.class, Tensor.class,
                    Tensor.class);
            CELL_BACKWARD = Backend.class.getMethod("lstmCellBackward", Tensor.class, Tensor.class, Tensor.class,
                    Tensor.class, Tensor.class, Tensor.class, Tensor.class);
            CELL_BACKWARD_CARRY = Backend.class.getMethod("lstmCellBackward", Tensor.class, Tensor.class, Tensor.class,
                    Tensor.class, Tensor.class, Tensor.class, Tensor.class, Tensor.class);
            FILL = Backend.class.getMethod("fill", Tensor.class, float.class);
            COPY = Backend.class.getMethod("copy", Tensor.class, Tensor.class);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private record Call(Method method, Object[] args) {
    }

    private final Backend real;
    private final List<Call> calls;
    private final List<Call> rest;     // null: the recording has calls replayRest cannot split
    private final AutoCloseable keepAlive;
    private final Arena zeroBiases;    // the zero biases the rest's addBias calls add (see the top)

    private GemmReplay(Backend real, List<Call> calls, List<Call> rest, AutoCloseable keepAlive, Arena zeroBiases) {
        this.real = real;
        this.calls = calls;
        this.rest = rest;
        this.keepAlive = keepAlive;
        this.zeroBiases = zeroBiases;
    }

    /**
     * Runs {@code work} on a recording view of {@code real}, recorded whole; {@code work} returns what owns the recorded
     * tensors (the model), which stays open until this replay is closed.
     */
    static GemmReplay record(Backend real, Function<Backend, AutoCloseable> work) {
        return record(real, work, null);
    }

    /**
     * Runs {@code build} on a recording view of {@code real} without recording (a model built and its first step run:
     * the initial weights copied in, the buffers a first step allocates and fills), then {@code step} on what it
     * returned, recorded: the replays are that step's calls alone. What {@code build} returns owns the recorded
     * tensors and stays open until this replay is closed. A null {@code step} records {@code build} whole.
     */
    static <T extends AutoCloseable> GemmReplay record(Backend real, Function<Backend, T> build, Consumer<T> step) {
        List<Call> calls = new ArrayList<>();
        List<Call> rest = new ArrayList<>();
        boolean[] restSplits = {true};
        boolean[] on = {step == null};
        Arena zeroBiases = Arena.ofShared();
        Function<Tensor, Tensor> zeroLike = b -> {
            Tensor z = real.allocate(zeroBiases, b.dtype(), b.shape());
            real.fill(z, 0f);
            return z;
        };
        Backend recording = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (on[0]) {
                        note(method, args, calls, rest, restSplits, zeroLike);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        T owner = build.apply(recording);
        if (step != null) {
            on[0] = true;
            step.accept(owner);
        }
        return new GemmReplay(real, calls, restSplits[0] ? rest : null, owner, zeroBiases);
    }

    /**
     * Notes a call of the recorded step: a product in {@code calls}; a sequence call as the products it contains, and
     * (LSTM) as the rest of it in {@code rest}; any other kernel in {@code rest}. A GRU sequence call clears
     * {@code restSplits[0]} (see the top).
     */
    private static void note(Method method, Object[] args, List<Call> calls, List<Call> rest, boolean[] restSplits,
                             Function<Tensor, Tensor> zeroLike) {
        if (PRODUCTS.contains(method.getName())) {
            calls.add(new Call(method, args.clone()));
        } else if (method.getName().equals("lstmSequenceForward")) {
            // (hs, cs, gates, wh, fromZero): gates_s += hs_s Wh, from step 1 when h_0 is zero
            Tensor hs = (Tensor) args[0], gates = (Tensor) args[2];
            for (int s = (Boolean) args[4] ? 1 : 0; s < gates.dim(0); s++) {
                calls.add(new Call(GEMM_PACKED, new Object[] {gates.get(s), hs.get(s), args[3], 1f}));
            }
            restOfForward(rest, args);
        } else if (method.getName().equals("gruSequenceForward")) {
            // (hs, gates, rhs, zr, hh, fromZero): gates_s[:, :2H] += hs_s Wh[:, :2H] and
            // gates_s[:, 2H:] += rhs_s Whh (row stride 3H), from step 1 when h_0 is zero
            restSplits[0] = false;
            Tensor hs = (Tensor) args[0], gates = (Tensor) args[1], rhs = (Tensor) args[2];
            int n = gates.dim(1), g = gates.dim(2), h = g / 3;
            for (int s = (Boolean) args[5] ? 1 : 0; s < gates.dim(0); s++) {
                Tensor step = gates.get(s), candidate = step.flatSlice(2L * h, (int) (step.size() - 2L * h));
                calls.add(new Call(GEMM_PACKED_STRIDED, new Object[] {n, step, g, hs.get(s), h, args[3], 1f}));
                calls.add(new Call(GEMM_PACKED_STRIDED,
                        new Object[] {n, candidate, g, rhs.get(s), h, args[4], 1f}));
            }
        } else if (method.getName().equals("gruSequenceBackward")) {
            // (dA, dh0, dhs, drh, gates, hs, zrT, hhT): drh = dA_s[:, 2H:] Whh^T, then dh_prev +=
            // dA_s[:, :2H] Wh[:, :2H]^T into dhs[s - 1], or dh0 at s = 0 (row stride 3H)
            restSplits[0] = false;
            Tensor dA = (Tensor) args[0], dh0 = (Tensor) args[1], dhs = (Tensor) args[2];
            Tensor drh = (Tensor) args[3];
            int n = dA.dim(1), g = dA.dim(2), h = g / 3;
            for (int s = dA.dim(0) - 1; s >= 0; s--) {
                Tensor step = dA.get(s), candidate = step.flatSlice(2L * h, (int) (step.size() - 2L * h));
                calls.add(new Call(GEMM_PACKED_STRIDED, new Object[] {n, drh, h, candidate, g, args[7], 0f}));
                calls.add(new Call(GEMM_PACKED_STRIDED,
                        new Object[] {n, s > 0 ? dhs.get(s - 1) : dh0, h, step, g, args[6], 1f}));
            }
        } else if (method.getName().equals("lstmSequenceBackward")) {
            // (dA, dh0, dc0, work, gates, ..., whT): dh_{s-1} = dA_s Wh^T into work[0], or dh0 at s = 0
            // (none when dh0 is null: the layer multiplies it out in dh(), a gemmPacked of its own)
            Tensor dA = (Tensor) args[0], dh0 = (Tensor) args[1], carry = ((Tensor) args[3]).get(0);
            for (int s = dA.dim(0) - 1; s > 0 || (s == 0 && dh0 != null); s--) {
                calls.add(new Call(GEMM_PACKED, new Object[] {s > 0 ? carry : dh0, dA.get(s), args[9], 0f}));
            }
            restOfBackward(rest, args);
        } else if (!NOT_KERNELS.contains(method.getName())) {
            rest.add(restCall(method, args, zeroLike));
        }
    }

    /** A call of the rest as recorded, but Adam without zeroing, the clip's scale by 1 and a zero bias (see the top). */
    private static Call restCall(Method method, Object[] args, Function<Tensor, Tensor> zeroLike) {
        Object[] a = args == null ? new Object[0] : args.clone();
        if (method.getName().equals("adamUpdate") && a.length == 9) {
            a[8] = false;
        } else if (method.getName().equals("scale")) {
            a[1] = 1f;
        } else if (method.getName().equals("addBias")) {
            a[1] = zeroLike.apply((Tensor) a[1]);
        }
        return new Call(method, a);
    }

    /** lstmSequenceForward (hs, cs, gates, wh, fromZero[, table, ids]) but its products: gather, then a cell a step. */
    private static void restOfForward(List<Call> rest, Object[] args) {
        Tensor hs = (Tensor) args[0], cs = (Tensor) args[1], gates = (Tensor) args[2];
        int t = gates.dim(0), n = gates.dim(1), g = gates.dim(2);
        if (args.length == 7) {
            Tensor table = (Tensor) args[5], ids = (Tensor) args[6];
            rest.add(new Call(EMBEDDING_FORWARD, new Object[] {gates.view(t * n, g), table, ids.view(t * n)}));
        }
        for (int s = 0; s < t; s++) {
            rest.add(new Call(CELL_FORWARD, new Object[] {hs.get(s + 1), cs.get(s + 1), gates.get(s), cs.get(s)}));
        }
    }

    /**
     * lstmSequenceBackward (dA, dh0, dc0, work, gates, cs, dhs, dhLast, dcLast, whT) but its products: the last step's
     * dc (dcLast or zeros) into work[1], then a cell backward a step from s = T-1 down, dc between work[1] and work[2],
     * dh = dhs[s] plus the carried work[0] (or dhLast, then work[0], without dhs), and the last dc out into dc0.
     */
    private static void restOfBackward(List<Call> rest, Object[] args) {
        Tensor dA = (Tensor) args[0], dc0 = (Tensor) args[2], work = (Tensor) args[3], gates = (Tensor) args[4];
        Tensor cs = (Tensor) args[5], dhs = (Tensor) args[6], dhLast = (Tensor) args[7], dcLast = (Tensor) args[8];
        Tensor carry = work.get(0), dcNext = work.get(1), dcPrev = work.get(2);
        rest.add(dcLast != null ? new Call(COPY, new Object[] {dcNext, dcLast}) : new Call(FILL, new Object[] {dcNext, 0f}));
        int t = dA.dim(0);
        for (int s = t - 1; s >= 0; s--) {
            Tensor dh = dhs != null ? dhs.get(s) : s == t - 1 ? dhLast : carry;
            rest.add(dhs != null && s < t - 1
                    ? new Call(CELL_BACKWARD_CARRY, new Object[] {dA.get(s), dcPrev, gates.get(s), cs.get(s + 1),
                            cs.get(s), dh, carry, dcNext})
                    : new Call(CELL_BACKWARD, new Object[] {dA.get(s), dcPrev, gates.get(s), cs.get(s + 1), cs.get(s),
                            dh, dcNext}));
            Tensor swap = dcNext;
            dcNext = dcPrev;
            dcPrev = swap;
        }
        rest.add(new Call(COPY, new Object[] {dc0, dcNext}));
    }

    int size() {
        return calls.size();
    }

    void replay() {
        replay(calls, "product");
    }

    /** The step's other kernels alone (see the top); refused for a recording with GRU sequence calls. */
    void replayRest() {
        if (rest == null) {
            throw new IllegalStateException("replayRest: the recording has GRU sequence calls, which it does not split");
        }
        replay(rest, "kernel");
    }

    int restSize() {
        return rest == null ? -1 : rest.size();
    }

    private void replay(List<Call> list, String what) {
        try {
            for (Call c : list) {
                c.method().invoke(real, c.args());
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("replaying a recorded " + what + " failed", e);
        }
        real.synchronize();
    }

    @Override
    public void close() {
        try {
            keepAlive.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            zeroBiases.close();
        }
    }
}
