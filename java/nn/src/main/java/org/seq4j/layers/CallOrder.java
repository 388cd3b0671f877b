// The order a layer's calls must come in, kept by the layer and checked at every call: a backward follows a forward
// that returned, once (a second one would add the parameter gradients again: silently doubled); what a forward or a
// backward hands out besides its result (an LSTM cell's c_next, the gradient w.r.t. an input other than the first)
// is read only while it is that call's: after the call returned and before a later forward started. And a backward
// follows only a forward over the weights as they still are: the write counters (Parameter.Version) of the layer's
// parameters are read when its forward returns and compared when its backward starts, with their values' Tensor.writes
// (a write through the backend that moved no counter), so a backward after an optimizer step, a copyIn, a load or such
// a write (which would mix the forward's activations with the new weights: a silently inconsistent gradient) is
// refused, as the models refuse it. After the layer's close() every call is refused naming
// it ("TimeLSTM.forward: this TimeLSTM is already closed"), at any size: at the size it last ran at, its buffers are
// those of the closed arena, which the first kernel refused in its own argument names, and a call that reached no
// kernel (TimeDropout's forward in evaluation mode, an accessor handing out a closed buffer) went through. Booleans,
// the counters' distinct objects (found once, in the constructor) and their counts in an array made once; a message
// built only when refusing: the hot path allocates nothing.
package org.seq4j.layers;

import org.seq4j.backend.Confinement;
import org.seq4j.tensor.Tensor;

/**
 * The order of a layer's calls, checked at every call as seq4j's own layers check theirs: a backward follows a forward
 * that returned, once, over the weights as that forward saw them; an output of a call is read only while it is that
 * call's; nothing runs after the layer's close(). A layer of one's own holds one, calls {@link #forwardStarts()} /
 * {@link #forwardReturned()} around its forward and {@link #backwardStarts()} / {@link #backwardReturned()} around its
 * backward, {@link #requireOpen(String)} first in its other calls, and {@link #close()} in its close(), and gets the
 * same IllegalStateExceptions, naming it, as the built-in layers; a forward that keeps a tensor of its caller's for the
 * backward names it with {@link #keep(String, Tensor)}, which the backward then checks first. A backward that checks
 * its arguments between {@link #backwardAllowed()} and backwardStarts(), as the built-in layers check their gradients'
 * shape and memory, leaves its forward for a corrected call when it refuses one.
 *
 * <p>A layer serves one thread at a time, checked as models check it ({@link Confinement}): each of its calls that
 * runs kernels or changes its state is wrapped in {@link #enter(String)} / {@link #exit()}, and a second thread arriving
 * while one is inside gets an IllegalStateException naming both, where two threads' forwards into one layer's buffers
 * gave wrong outputs with no word. A layer may be handed to another thread between calls.
 * <pre>
 * calls.enter("forward");
 * try {
 *     calls.forwardStarts();
 *     ...
 *     calls.keep("x", x);
 *     calls.forwardReturned();
 *     return out;
 * } finally {
 *     calls.exit();
 * }
 * </pre>
 */
public final class CallOrder {
    private final String layer;     // the layer's name in messages, "TimeLSTM"
    private final Parameter[] parameters;   // the layer's parameters, whose memory every forward checks
    private final String forwardCall;       // "TimeLSTM.forward", made once
    private final String backwardCall;      // "TimeLSTM.backward", made once
    private Tensor[] kept = new Tensor[4];  // the caller's tensors the last forward kept for the backward
    private String[] keptNames = new String[4];
    private long[] keptWrites = new long[4];    // their write counts (Tensor.writes) when the forward returned
    private int keptCount;
    private final Parameter.Version[] versions;   // the distinct write counters of the layer's parameters
    private final long[] counts;    // their counts when the last forward returned
    private final long[] valueWrites;   // each parameter's value's Tensor.writes then (a write through the backend
                                        // without valuesWritten moves no version)
    private Parameter.Version input;   // the counter of another layer's parameter the last forward read, or null
    private long inputCount;        // its count then
    private Tensor inputValue;      // that parameter's value, and its Tensor.writes then
    private long inputWrites;
    private boolean forwardDone;    // the last forward returned
    private boolean backwardOpen;   // ... and no backward of it has started
    private boolean backwardDone;   // a backward of the last forward returned
    private final Confinement guard;   // the thread inside one of the layer's calls; closed by the layer's close()

    /**
     * The calls of a layer over {@code parameters} (none for a layer without): their write counters, one per store
     * (parameters built on their own each have one), are checked by every backward.
     *
     * @param layer      the layer's name in messages, e.g. "TimeHighway"
     * @param parameters the layer's parameters
     * @throws NullPointerException naming a null layer name or parameter
     * @throws IllegalArgumentException if a parameter's gradient shares memory with another's value or gradient
     */
    public CallOrder(String layer, Parameter... parameters) {
        this.layer = java.util.Objects.requireNonNull(layer, "CallOrder: layer is null");
        this.guard = new Confinement(layer);
        java.util.Objects.requireNonNull(parameters, "CallOrder: parameters is null");
        Parameter.Version[] distinct = new Parameter.Version[parameters.length];
        int k = 0;
        for (int at = 0; at < parameters.length; at++) {
            Parameter p = parameters[at];
            if (p == null) {
                throw new NullPointerException("CallOrder(" + layer + "): parameter " + at + " is null");
            }
            Parameter.Version v = p.version();
            boolean seen = false;
            for (int i = 0; i < k && !seen; i++) {
                seen = distinct[i] == v;
            }
            if (!seen) {
                distinct[k++] = v;
            }
        }
        // a gradient that shares memory with another parameter's value or gradient: the backward would add into the
        // weights, or two gradients into one buffer, with no word (the same Parameter twice is one parameter)
        for (Parameter p : parameters) {
            for (Parameter q : parameters) {
                if (p == q) {
                    continue;
                }
                if (p.grad().overlaps(q.value()) || p.grad().overlaps(q.grad())) {
                    throw new IllegalArgumentException(layer + ": the grad of " + p.name() + " shares memory with the "
                            + (p.grad().overlaps(q.value()) ? "value" : "grad") + " of " + q.name()
                            + "; each gradient needs a buffer of its own");
                }
            }
        }
        this.parameters = parameters.clone();
        this.forwardCall = layer + ".forward";
        this.backwardCall = layer + ".backward";
        this.versions = java.util.Arrays.copyOf(distinct, k);
        this.counts = new long[k];
        this.valueWrites = new long[parameters.length];
    }

    /**
     * Claims the layer for the calling thread for {@code call}, until the matching {@link #exit()} (re-entrant: a call
     * of the layer calling another of its own).
     *
     * @param call the call's name in messages, e.g. "forward"
     * @throws IllegalStateException naming the layer, the call and both threads, if another thread is inside one of
     *         the layer's calls; or "TimeLSTM.forward: this TimeLSTM is already closed" after its close()
     */
    public void enter(String call) {
        guard.enter(call);
    }

    /**
     * Releases the claim of the matching {@link #enter(String)}; in a finally block, so that a call that throws
     * releases it too.
     *
     * @throws IllegalStateException if the calling thread does not hold the layer
     */
    public void exit() {
        guard.exit();
    }

    /**
     * A forward starts: nothing of the last one may be followed or read until this one returns. The parameters' memory
     * is checked first: a layer that answers from a copy it keeps (a packed Wh, TimeLSTM's folded input table) read no
     * parameter, and answered after its ParameterStore was closed.
     *
     * @throws IllegalStateException naming the layer, if it is closed, or naming a parameter whose memory is closed (its
     *         store's close()) or confined to another thread
     */
    public void forwardStarts() {
        requireOpen("forward");
        for (Parameter p : parameters) {
            p.value().requireUsable(forwardCall, p.name());
        }
        forwardDone = false;
        backwardOpen = false;
        backwardDone = false;
        java.util.Arrays.fill(kept, 0, keptCount, null);   // no reference to the last forward's inputs kept on
        keptCount = 0;
    }

    /**
     * The forward keeps {@code t}, a tensor of its caller's, for its backward (its input, which the weight gradients
     * read): the backward's {@link #backwardAllowed()} refuses it, naming the layer and {@code name}, where by then its
     * arena was closed or it is confined to another thread, before anything is written. The kernels refused it too,
     * but naming only themselves ("gemm: a Tensor(2, 3, 3) ..."), and after a layer had added part of its gradients.
     * It also refuses it where the tensor was written since the forward returned ({@link Tensor#writes()}: a backend
     * call, copyFrom, a setter or markWritten on it or on a view of its memory), which no kernel could see: the
     * backward would have computed its gradients from values the forward never saw. Between forwardStarts() and
     * forwardReturned().
     *
     * @param name the argument's name in messages, "x"
     * @param t    the tensor (null: nothing kept)
     */
    public void keep(String name, Tensor t) {
        if (t == null) {
            return;
        }
        if (keptCount == kept.length) {
            kept = java.util.Arrays.copyOf(kept, 2 * keptCount);
            keptNames = java.util.Arrays.copyOf(keptNames, 2 * keptCount);
            keptWrites = java.util.Arrays.copyOf(keptWrites, 2 * keptCount);
        }
        kept[keptCount] = t;
        keptWrites[keptCount] = t.writes();
        keptNames[keptCount++] = name;
    }

    /**
     * The forward returned: its outputs may be read, and one backward may follow, while the weights keep the versions
     * read here.
     */
    public void forwardReturned() {
        forwardReturned(null);
    }

    /**
     * As forwardReturned(), for a forward that also read {@code other}, a parameter of another layer (the embedding's
     * E that TimeLSTM and TimeGRU fold into their input projection), whose backward this layer's backward computes.
     *
     * @param other that parameter, or null for none
     */
    public void forwardReturned(Parameter other) {
        for (int i = 0; i < versions.length; i++) {
            counts[i] = versions[i].get();
        }
        input = other == null ? null : other.version();
        inputCount = other == null ? 0 : input.get();
        inputValue = other == null ? null : other.value();
        inputWrites = other == null ? 0 : inputValue.writes();
        for (int i = 0; i < parameters.length; i++) {
            valueWrites[i] = parameters[i].value().writes();
        }
        for (int i = 0; i < keptCount; i++) {   // what the forward itself wrote of its inputs is the forward's
            keptWrites[i] = kept[i].writes();
        }
        forwardDone = true;
        backwardOpen = true;
    }

    /**
     * As {@link #keep(String, Tensor)}, in place of what the forward kept so far: a layer whose forward ran through
     * another of its own forwards (TimeLSTM's forward(embed, ids) through forward(xs)) keeps the tensor its backward
     * reads, the caller's ids, not the inner call's input.
     */
    void keepOnly(String name, Tensor t) {
        java.util.Arrays.fill(kept, 0, keptCount, null);
        keptCount = 0;
        keep(name, t);
    }

    /**
     * A backward starts: refused before a forward returned, after a backward of it started (even one that threw,
     * which may have added part of its gradients), or when a parameter the forward read was written since it
     * returned, or after the layer's close(); otherwise it uses the forward up.
     *
     * @throws IllegalStateException naming the layer, in those cases
     */
    public void backwardStarts() {
        backwardAllowed();
        backwardOpen = false;
    }

    /**
     * Refuses what {@link #backwardStarts()} refuses, without using the forward up: first in a backward that checks
     * its arguments before backwardStarts(), so that a backward refused for one (a gradient of another shape, on the
     * heap) leaves the forward for a corrected call; and for a layer whose backward calls another layer's after adding
     * its own gradients (TimeLSTM.backward(embed, dhs)), so that a refusal comes before either adds anything.
     *
     * @throws IllegalStateException naming the layer, as backwardStarts()
     */
    public void backwardAllowed() {
        requireOpen("backward");
        if (!forwardDone) {
            throw new IllegalStateException(layer + ".backward before forward");
        }
        if (!backwardOpen) {
            throw new IllegalStateException(layer + ".backward: already ran for this forward; run forward again");
        }
        boolean written = input != null && (input.get() != inputCount || inputValue.writes() != inputWrites);
        for (int i = 0; i < versions.length && !written; i++) {
            written = versions[i].get() != counts[i];
        }
        for (int i = 0; i < parameters.length && !written; i++) {
            written = parameters[i].value().writes() != valueWrites[i];
        }
        if (written) {
            throw new IllegalStateException(layer + ".backward: its weights were written since its forward (an "
                    + "optimizer step, copyIn, a load or a write through the backend); run forward again");
        }
        for (int i = 0; i < keptCount; i++) {
            try {
                kept[i].requireUsable(backwardCall, keptNames[i]);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(e.getMessage() + " (the forward's input, which " + layer
                        + " keeps for its backward)", e);
            }
            if (kept[i].writes() != keptWrites[i]) {
                throw new IllegalStateException(backwardCall + ": " + keptNames[i] + " " + kept[i] + ", the forward's"
                        + " input that " + layer + " keeps for its backward, was written since the forward (itself, or"
                        + " a view of the same allocation: a write to another, disjoint slice of it counts too); the"
                        + " gradients would be computed from values the forward"
                        + " never saw: run forward again, or write the input only after the backward");
            }
        }
    }

    /** The backward returned: its outputs may be read until the next forward starts. */
    public void backwardReturned() {
        backwardDone = true;
    }

    /**
     * Whether the last forward returned and no backward of it has started.
     *
     * @return that
     */
    public boolean backwardOpen() {
        return backwardOpen;
    }

    /**
     * Refuses {@code accessor}, an output of the forward, unless the last forward returned (and the layer is open).
     *
     * @param accessor the accessor's name in the message
     * @throws IllegalStateException unless the last forward returned, or if the layer is closed
     */
    public void requireForward(String accessor) {
        requireOpen(accessor);
        if (!forwardDone) {
            throw new IllegalStateException(layer + "." + accessor + " before forward (or after one that threw): it is"
                    + " an output of the last forward, so one must have returned");
        }
    }

    /**
     * Refuses {@code accessor}, an output of the backward, unless a backward of the last forward returned (and the
     * layer is open).
     *
     * @param accessor the accessor's name in the message
     * @throws IllegalStateException unless a backward of the last forward returned, or if the layer is closed
     */
    public void requireBackward(String accessor) {
        requireOpen(accessor);
        if (!backwardDone) {
            throw new IllegalStateException(layer + "." + accessor + " before backward: it is an output of a backward"
                    + " of the last forward, and none has returned since that forward started");
        }
    }

    /**
     * Refuses {@code call} after the layer's close(): for the calls that change what its next forward does (setState,
     * resetState, setTraining, ...) and for checks a call makes before its forwardStarts() or backwardStarts(). Plain
     * accessors of the layer's configuration (its sizes, its parameters) need none.
     *
     * @param call the call's name in the message, e.g. "setState"
     * @throws IllegalStateException "TimeLSTM.setState: this TimeLSTM is already closed", if it is closed
     */
    public void requireOpen(String call) {
        if (guard.isClosed()) {
            throw new IllegalStateException(layer + "." + call + ": this " + layer + " is already closed");
        }
    }

    /**
     * The layer is closed: every later call that checks this order is refused, naming the layer and the call; nothing
     * of the last forward or backward may be followed or read. Closing again does nothing.
     *
     * @throws IllegalStateException if another thread is inside one of the layer's calls (the layer stays open)
     */
    public void close() {
        if (!guard.enterClose()) {   // refused while another thread is inside a call: its buffers would close under it
            return;
        }
        try {
            forwardDone = false;
            backwardOpen = false;
            backwardDone = false;
        } finally {
            guard.exit();
        }
    }
}
