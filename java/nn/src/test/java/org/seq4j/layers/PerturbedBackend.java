// A delegating Backend for tests that must see a wrong kernel: every call goes to the real backend, and after
// the one kernel named, one of its output tensors is scaled by a factor. Built with java.lang.reflect.Proxy,
// so it stays a few lines whatever the size of the Backend interface.
package org.seq4j.layers;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

public final class PerturbedBackend {
    private PerturbedBackend() {
    }

    /**
     * {@code delegate}, except that after {@code kernel} its argument {@code outputArg} is multiplied by factor, in
     * the calls where that argument is a tensor (not an overload's int there, nor an output left null).
     */
    public static Backend wrap(Backend delegate, String kernel, int outputArg, float factor) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals(kernel) && args[outputArg] instanceof Tensor out) {
                        delegate.scale(out, factor);
                    }
                    return result;
                });
    }
}
