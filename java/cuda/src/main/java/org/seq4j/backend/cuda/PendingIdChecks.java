// Which threads queued which id-checking kernels since the device's error record was last read, and the id
// errors owed to threads other than the one whose synchronising call found them.
//
// The kernels that index with ids note a bad one in the backend's one device error record, read by the next
// synchronising call (item, copyOut, synchronize) of whichever thread makes it. The record says which kernel met
// a bad id, not whose call queued it. So an error found is thrown to the thread that found it (it may be about to
// read what the bad call wrote: tensors pass between threads) and owed to every other thread that queued that
// kernel since the record was last read, thrown at that thread's next synchronising call. Conservative, never
// silent: before, the first thread to synchronise took the error, and the thread whose call had the bad id read
// its wrong result without a word. Not thread-safe on its own: the backend's lock guards every call.
package org.seq4j.backend.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

final class PendingIdChecks {
    private final int kernels;
    private final List<String> operations;   // bit j of a Pending's mask: operations.get(j)
    private final Map<Thread, Pending> byThread = new HashMap<>();
    private final List<Pending> all = new ArrayList<>();   // the same, walked by index: no iterator per sync
    private boolean anyQueued;

    /** One thread's checks since the record was last read, and an error found for it by another thread. */
    private static final class Pending {
        final Thread thread;
        final int[] ops;   // per kernel k, bit j: operations.get(j) queued it
        boolean queued;
        String owed;
        String announced;   // the operation whose kernel this thread is about to queue (see announce)

        Pending(Thread thread, int kernels) {
            this.thread = thread;
            this.ops = new int[kernels];
        }
    }

    /**
     * @param kernels    the kernels with a check (bit k of the error record's first int)
     * @param operations every operation that may queue one, at most 31
     */
    PendingIdChecks(int kernels, Set<String> operations) {
        if (operations.size() > 31) {
            throw new IllegalArgumentException("at most 31 operations, got " + operations.size());
        }
        this.kernels = kernels;
        this.operations = List.copyOf(new TreeSet<>(operations));
    }

    /** Notes that thread queued kernel k for operation op; allocates only on a thread's first call. */
    void queued(Thread thread, int kernel, String op) {
        int j = operations.indexOf(op);
        if (kernel < 0 || kernel >= kernels || j < 0) {
            throw new IllegalArgumentException("no id check of kernel " + kernel + " by " + op + " is known");
        }
        Pending p = pending(thread);
        p.ops[kernel] |= 1 << j;
        p.queued = true;
        anyQueued = true;
    }

    /**
     * Notes that thread is about to queue, for operation op, a kernel with a check: AbstractBackend checks the ids
     * (checkDeviceIds) and only then calls the kernel, each under the backend's lock but not under one hold of it. The
     * kernel counts as queued only from {@link #launching}, called under the lock that queues it: had the check marked
     * it queued, another thread's synchronising call in between would read the record before the kernel ran, settle,
     * and forget it; the kernel's bad id would then go unread (and be blamed later on whoever next queued that kernel).
     */
    void announce(Thread thread, String op) {
        if (!operations.contains(op)) {
            throw new IllegalArgumentException("no id check by " + op + " is known");
        }
        pending(thread).announced = op;
    }

    /**
     * Notes that thread is queueing kernel k now, for the operation it announced last (its public call: e.g.
     * lstmSequenceForward gathers with the embedding kernel), or for {@code op} where it announced none.
     */
    void launching(Thread thread, int kernel, String op) {
        Pending p = pending(thread);
        String announced = p.announced;
        p.announced = null;
        queued(thread, kernel, announced != null ? announced : op);
    }

    private Pending pending(Thread thread) {
        Pending p = byThread.get(thread);
        if (p == null) {
            p = new Pending(thread, kernels);
            byThread.put(thread, p);
            all.add(p);
        }
        return p;
    }

    /** Whether a kernel with a check was queued since the record was last read: only then is it worth reading. */
    boolean anyQueued() {
        return anyQueued;
    }

    /**
     * Settles a synchronising call of caller, after which every check queued so far has run.
     *
     * @param caller    the thread making the call
     * @param errorBits the record's first int if it was read (bit k: kernel k met a bad id), else 0
     * @param message   the exception message for the record, given per kernel the operations that queued it
     * @return the message to throw to caller (the error found, then one owed to it), or null where there is none;
     *         every other thread that queued a kernel in errorBits is owed the message
     */
    String settle(Thread caller, int errorBits, Function<List<Set<String>>, String> message) {
        Pending self = byThread.get(caller);
        String owed = self == null ? null : self.owed;
        if (self != null) {
            self.owed = null;
        }
        String found = null;
        if (errorBits != 0) {
            found = message.apply(callers(caller));
            for (Pending p : all) {
                if (p != self && p.queued && queuedAny(p, errorBits)) {
                    p.owed = join(p.owed, found + " (Found by a synchronising call of thread \"" + caller.getName()
                            + "\"; reported here too, at this thread's next synchronising call, because this "
                            + "thread had queued that kernel.)");
                }
            }
        }
        if (anyQueued) {
            for (int i = all.size() - 1; i >= 0; i--) {
                Pending p = all.get(i);
                java.util.Arrays.fill(p.ops, 0);
                p.queued = false;
                if (!p.thread.isAlive()) {   // nobody is left to throw its owed error to
                    all.remove(i);
                    byThread.remove(p.thread);
                }
            }
            anyQueued = false;
        }
        return found == null ? owed : join(found, owed);
    }

    /**
     * Per kernel k, the operations that queued it; named with their threads where another thread than the caller
     * queued any.
     */
    private List<Set<String>> callers(Thread caller) {
        boolean withThreads = all.stream().anyMatch(p -> p.queued && p.thread != caller);
        List<Set<String>> callers = new ArrayList<>();
        for (int k = 0; k < kernels; k++) {
            Set<String> named = new TreeSet<>();
            for (Pending p : all) {
                for (int j = 0; j < operations.size(); j++) {
                    if ((p.ops[k] & (1 << j)) != 0) {
                        named.add(withThreads ? operations.get(j) + " (thread \"" + p.thread.getName() + "\")"
                                : operations.get(j));
                    }
                }
            }
            callers.add(named);
        }
        return callers;
    }

    /** How many threads it keeps an entry for (for tests: ended threads are dropped). */
    int threadsTracked() {
        return all.size();
    }

    private boolean queuedAny(Pending p, int errorBits) {
        for (int k = 0; k < kernels; k++) {
            if ((errorBits & (1 << k)) != 0 && p.ops[k] != 0) {
                return true;
            }
        }
        return false;
    }

    private static String join(String first, String second) {
        return first == null ? second : second == null ? first : first + " Also: " + second;
    }
}
