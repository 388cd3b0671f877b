// Records the matrix products of one piece of work (a training step) and replays exactly those calls, with
// the same tensors, on the real backend: "the same step's GEMMs alone". Recording goes through a
// java.lang.reflect.Proxy over Backend, which forwards every call and notes gemm, matmul and
// gemmStridedBatched (matmul is a default method whose inner gemm the proxy would not see), and the packed
// products with the packs they need: gemmPacked, and pack (a recurrent layer packs Wh once per forward and Wh^T
// once per backward), so the replay does the step's products the way the step does them. An LSTM's whole-sequence
// calls (lstmSequenceForward / lstmSequenceBackward) are recorded as the products they contain, one gemmPacked a step
// on the same views (gates_s += h_s Wh; dh_{s-1} = dA_s Wh^T), so the cells they fuse count as the rest of the step;
// the GRU's gruSequenceForward and gruSequenceBackward as their two strided products a step.
package org.seq4j.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;

final class GemmReplay implements AutoCloseable {
    private static final Set<String> PRODUCTS = Set.of("gemm", "matmul", "gemmStridedBatched", "pack", "gemmPacked");
    private static final Method GEMM_PACKED, GEMM_PACKED_STRIDED;

    static {
        try {
            GEMM_PACKED = Backend.class.getMethod("gemmPacked", Tensor.class, Tensor.class, PackedMatrix.class,
                    float.class);
            GEMM_PACKED_STRIDED = Backend.class.getMethod("gemmPacked", int.class, Tensor.class, int.class,
                    Tensor.class, int.class, PackedMatrix.class, float.class);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private record Call(Method method, Object[] args) {
    }

    private final Backend real;
    private final List<Call> calls;
    private final AutoCloseable keepAlive;

    private GemmReplay(Backend real, List<Call> calls, AutoCloseable keepAlive) {
        this.real = real;
        this.calls = calls;
        this.keepAlive = keepAlive;
    }

    /**
     * Runs {@code work} on a recording view of {@code real}; {@code work} returns what owns the recorded
     * tensors (the model), which stays open until this replay is closed.
     */
    static GemmReplay record(Backend real, Function<Backend, AutoCloseable> work) {
        List<Call> calls = new ArrayList<>();
        Backend recording = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (PRODUCTS.contains(method.getName())) {
                        calls.add(new Call(method, args.clone()));
                    } else if (method.getName().equals("lstmSequenceForward")) {
                        // (hs, cs, gates, wh, fromZero): gates_s += hs_s Wh, from step 1 when h_0 is zero
                        Tensor hs = (Tensor) args[0], gates = (Tensor) args[2];
                        for (int s = (Boolean) args[4] ? 1 : 0; s < gates.dim(0); s++) {
                            calls.add(new Call(GEMM_PACKED, new Object[] {gates.get(s), hs.get(s), args[3], 1f}));
                        }
                    } else if (method.getName().equals("gruSequenceForward")) {
                        // (hs, gates, rhs, zr, hh, fromZero): gates_s[:, :2H] += hs_s Wh[:, :2H] and
                        // gates_s[:, 2H:] += rhs_s Whh (row stride 3H), from step 1 when h_0 is zero
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
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        AutoCloseable owner = work.apply(recording);
        return new GemmReplay(real, calls, owner);
    }

    int size() {
        return calls.size();
    }

    void replay() {
        try {
            for (Call c : calls) {
                c.method().invoke(real, c.args());
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("replaying a recorded product failed", e);
        }
        real.synchronize();
    }

    @Override
    public void close() {
        try {
            keepAlive.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
