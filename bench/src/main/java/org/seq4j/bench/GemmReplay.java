// Records the matrix products of one piece of work (a training step) and replays exactly those calls, with
// the same tensors, on the real backend: "the same step's GEMMs alone". Recording goes through a
// java.lang.reflect.Proxy over Backend, which forwards every call and notes gemm, matmul and
// gemmStridedBatched (matmul is a default method whose inner gemm the proxy would not see), and the packed
// products with the packs they need: gemmPacked, and pack (a recurrent layer packs Wh once per forward and Wh^T
// once per backward), so the replay does the step's products the way the step does them.
package org.seq4j.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.seq4j.backend.Backend;

final class GemmReplay implements AutoCloseable {
    private static final Set<String> PRODUCTS = Set.of("gemm", "matmul", "gemmStridedBatched", "pack", "gemmPacked");

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
