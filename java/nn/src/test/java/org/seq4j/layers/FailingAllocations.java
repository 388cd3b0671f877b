// A delegating Backend for tests of what a failed allocation leaves behind: every call goes to the real backend,
// except that once armed with k, the allocation k calls later (Backend.allocate or packedMatrix, counted from 0)
// throws OutOfMemoryError, as an arena out of memory does; the ones after it go through again. Built with
// java.lang.reflect.Proxy, as PerturbedBackend.
package org.seq4j.layers;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.seq4j.backend.Backend;

public final class FailingAllocations {
    /** The message of the error an armed allocation throws. */
    public static final String MESSAGE = "FailingAllocations: this allocation was refused";

    private final Backend backend;
    private int countdown = -1;   // allocations to let through before the one that fails; -1: disarmed
    private boolean fired;

    /**
     * Allocations through {@link #backend()} go to {@code delegate} until armed.
     *
     * @param delegate the backend that does the work
     */
    public FailingAllocations(Backend delegate) {
        this.backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    String name = method.getName();
                    if ((name.equals("allocate") || name.equals("packedMatrix")) && countdown >= 0
                            && countdown-- == 0) {
                        fired = true;
                        throw new OutOfMemoryError(MESSAGE);
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The backend whose allocations may fail. */
    public Backend backend() {
        return backend;
    }

    /** The allocation {@code k} allocations from now (0: the next one) throws OutOfMemoryError, once. */
    public void arm(int k) {
        countdown = k;
        fired = false;
    }

    /** Every allocation goes through again. */
    public void disarm() {
        countdown = -1;
    }

    /** Whether an allocation was refused since the last arm. */
    public boolean fired() {
        return fired;
    }

    /**
     * Runs {@code step} with the allocation {@code k} allocations from now refused, and checks that the refusal
     * surfaced as the step's OutOfMemoryError.
     *
     * @param k    which allocation of the step fails (0: its first)
     * @param step the work, throwing the refusal
     * @param what the case, for the assertion's message
     * @return false when the step made fewer than k + 1 allocations (nothing was refused: every one has failed once)
     */
    public boolean refuseDuring(int k, Runnable step, String what) {
        OutOfMemoryError thrown = null;
        arm(k);
        try {
            step.run();
        } catch (OutOfMemoryError e) {
            thrown = e;
        } finally {
            disarm();
        }
        if (!fired) {
            return false;
        }
        org.junit.jupiter.api.Assertions.assertTrue(thrown != null && MESSAGE.equals(thrown.getMessage()),
                what + ": the refused allocation should surface as the step's OutOfMemoryError, got " + thrown);
        return true;
    }
}
