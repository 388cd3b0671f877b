// The one-thread-at-a-time check of models, optimizers and trainers: each public operation claims the object
// for the calling thread on entry and releases it on exit, so a second thread arriving meanwhile gets an
// IllegalStateException naming the holder instead of a wrong number; after close every operation throws.
package org.seq4j.backend;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Confinement to one thread at a time, not to one thread forever: an object may be built on one thread and
 * used on another (built in main, trained in an executor), as long as calls do not overlap. The check is
 * one compare-and-set on entry and one release store on exit; it allocates nothing unless it throws.
 * A thread that holds the object may enter it again (a public method calling another).
 *
 * <pre>
 * guard.enter("forward");
 * try { ... } finally { guard.exit(); }
 *
 * if (!guard.enterClose()) return;   // closing twice is a no-op
 * try { ... } finally { guard.exit(); }
 * </pre>
 *
 * Another object that must be used only with this one (a model's parameter store) shares its guard and enters it
 * with {@link #enterFrom}, under its own operation's name.
 */
public final class Confinement {
    private final String what;
    private final AtomicReference<Thread> holder = new AtomicReference<>();
    private int depth;          // entries of the holder; read and written only while held
    private boolean closed;     // written while held; the next holder's compare-and-set makes it visible

    /**
     * A guard for one object.
     *
     * @param what what is guarded, as messages name it: "AttentionSeq2seq", "Adam", "Trainer"
     */
    public Confinement(String what) {
        this.what = what;
    }

    /**
     * Claims the object for the calling thread for operation {@code op} (re-entrant).
     *
     * @param op the operation, as messages name it
     * @throws IllegalStateException when another thread holds it (naming that thread) or when it is closed
     */
    public void enter(String op) {
        claim(op, false);
        if (closed) {
            exit();
            throw new IllegalStateException(what + "." + op + ": this " + what + " is already closed");
        }
    }

    /**
     * Claims the object for the calling thread on behalf of {@code caller}, another object's operation that uses it
     * (re-entrant): a model's parameter store ("ParameterStore.copyInAll"), an optimizer's step over that store
     * ("Adam.step"). Messages start with the caller, then name what is held: 'ParameterStore.copyInAll: in use by
     * thread "A" (id 31), which holds the Rnnlm, called from thread "B" (id 32); ...'.
     *
     * @param caller the operation, class and method, as messages name it
     * @throws IllegalStateException when another thread holds it (naming that thread) or when it is closed
     */
    public void enterFrom(String caller) {
        claim(caller, true);
        if (closed) {
            exit();
            throw new IllegalStateException(caller + ": this " + what + " is already closed");
        }
    }

    /**
     * Whether the calling thread holds the object (for a close that the holder's own close calls, inside its claim).
     *
     * @return true while the calling thread is inside an operation of the object
     */
    public boolean heldByCurrentThread() {
        return holder.getOpaque() == Thread.currentThread();   // as in exit: the holder sees its own last write
    }

    /**
     * Claims the object for closing. Returns false, holding nothing, when it is closed already; otherwise marks
     * it closed (every later enter throws) and returns true, and the caller releases it with exit().
     *
     * @return true if this call closes it
     * @throws IllegalStateException when another thread holds it
     */
    public boolean enterClose() {
        claim("close", false);
        if (closed) {
            exit();
            return false;
        }
        closed = true;
        return true;
    }

    /**
     * Releases one entry of the calling thread, which must hold the object.
     *
     * @throws IllegalStateException if the calling thread does not hold it (an exit without its enter, or from
     *                               another thread, would otherwise release the holder's claim and let a second
     *                               thread in)
     */
    public void exit() {
        // opaque: the calling thread sees its own last write, so this is "me" exactly while it holds the object
        Thread h = holder.getOpaque();
        if (h != Thread.currentThread()) {
            throw new IllegalStateException(what + ": exit() from " + describe(Thread.currentThread()) + ", which does"
                    + " not hold it (" + (h == null ? "nobody does" : "held by " + describe(h)) + "); call exit() once"
                    + " per enter() or enterClose() that returned true, on the same thread");
        }
        if (--depth == 0) {
            holder.setRelease(null);
        }
    }

    /**
     * Whether close has run (for checks made while held).
     *
     * @return true once {@link #enterClose()} has returned true
     */
    public boolean isClosed() {
        return closed;
    }

    private void claim(String op, boolean caller) {
        Thread me = Thread.currentThread();
        while (!holder.compareAndSet(null, me)) {
            Thread other = holder.get();
            if (other == me) {
                depth++;
                return;
            }
            if (other != null) {
                throw caller ? inUseFrom(op, other) : inUse(op, other);
            }
            // released between the two reads: try again
        }
        depth = 1;
    }

    private IllegalStateException inUse(String op, Thread other) {
        return new IllegalStateException(what + "." + op + ": in use by " + describe(other) + ", called from "
                + describe(Thread.currentThread()) + "; " + article(what)
                + " serves one thread at a time (hand it over between calls, never during one)");
    }

    private IllegalStateException inUseFrom(String caller, Thread other) {
        return new IllegalStateException(caller + ": in use by " + describe(other) + ", which holds the " + what
                + ", called from " + describe(Thread.currentThread()) + "; " + article(what)
                + " serves one thread at a time (hand it over between calls, never during one)");
    }

    /**
     * The message part that names a thread, for checks that span calls (backward after another thread's forward).
     *
     * @param t the thread
     * @return its name and id
     * @throws NullPointerException if t is null, naming it
     */
    public static String describe(Thread t) {
        // was the JVM's "Cannot invoke getName()"
        java.util.Objects.requireNonNull(t, "Confinement.describe: t is null");
        return "thread \"" + t.getName() + "\" (id " + t.threadId() + ")";
    }

    /** "a Trainer", "an AttentionSeq2seq": the message said "a AttentionSeq2seq". */
    private static String article(String what) {
        return ("AEIOUaeiou".indexOf(what.isEmpty() ? 'x' : what.charAt(0)) >= 0 ? "an " : "a ") + what;
    }
}
