// What every model of this package shares, whatever it computes: the backend and the parameter store it was built
// over, its two workspaces (training, and the inference paths' own), one thread at a time inside (Confinement),
// the training step's protocol (backward only after a forward on the same thread, gradients claimed from the
// store) and a close that releases everything once. Subclasses write the maths: the loss, its backward, and the
// layers they close.
package org.seq4j.models;

import java.util.function.Supplier;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Confinement;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

/**
 * The base of seq4j's models (AbstractRnnlm, AbstractSeq2seq, WavePredictor, WaveSeq2seq): it holds the backend,
 * the parameter store and two workspaces, confines the model to one thread at a time (see {@link Model}), and
 * runs the training step's protocol around the subclass's maths:
 * <ul>
 * <li>{@link #forward} claims the model, forgets any earlier forward, runs {@link #forwardHeld} and, when that
 * returns, remembers the thread it ran on (a forward that throws leaves none: its activations are half written);</li>
 * <li>{@link #backward} claims the model, refuses to run without a forward on the same thread or after the weights
 * changed since that forward (ParameterStore.version: an optimizer step, a load; or the values' Tensor.writes: a
 * write through the backend), claims the store's gradients for this thread, forgets the forward (one backward per
 * forward, even one that throws: its gradients are half added) and runs {@link #backwardHeld}, which adds every
 * parameter's gradient;</li>
 * <li>{@link #close} releases the subclass's layers ({@link #closeLayers}), the workspaces and the store, once.</li>
 * </ul>
 * A second backward of one forward is refused as the layers refuse it ("X.backward: already ran for this forward; run
 * forward again"), a backward after a forward that threw as "X.backward before forward", one after a forward that
 * {@link #discardForward} forgot as "X.backward before forward: the last forward was (who)'s, which discarded it
 * ...". Every operation (forward, backward, those run through held) first checks that the backend is open, and says
 * in the model's words when it is not ("Seq2seq.generate: its backend openblas is closed ..."): close a model before
 * its backend.
 * A subclass's other public operations that use or change the model run their body through
 * {@link #held(String, Supplier)}; plain accessors (sizes, the store, the last forward's attention weights) do not.
 * forward, backward, close, setTraining and isTraining are final: the protocol is the base's, the maths the
 * subclass's ({@link #setTrainingHeld} switches its layers' mode).
 */
public abstract class AbstractModel implements Model {
    /** Where the parameters and activations live; every kernel runs here. */
    protected final Backend backend;
    /** The model's parameters and their gradients (closed by close). */
    protected final ParameterStore store;
    /** The training activations, sized by forward for its (N, T). */
    protected final Workspace ws;
    /** The inference paths' activations (generate, predict, beam search): they never resize the training ones. */
    protected final Workspace genWs;
    private final Confinement guard = new Confinement(nameOf(getClass()));   // one thread at a time
    // built once: forward and backward run every step and must not allocate
    private final String forwardOp = nameOf(getClass()) + ".forward";
    private final String backwardOp = nameOf(getClass()) + ".backward";
    private Thread forwardThread;   // whose forward the next backward follows; null: none since the last backward
    private boolean backwardTaken;  // a backward took the last forward (null forwardThread: "already ran", not "before")
    private long forwardVersion;    // the weights' write counter when that forward returned
    private long forwardWrites;     // the values' Tensor.writes then: a write through the backend moves no version
    private boolean forwardReturned;   // the last forward returned (its activations are whole, whatever ran since)
    private String discardedBy;     // who discarded the last forward (discardForward), for backward's refusal; or null
    // the mode set last by setTraining; volatile: isTraining reads it without holding the model, maybe on another thread
    private volatile boolean training = true;

    /**
     * A model over {@code store}, which it owns from now on (close closes it).
     *
     * @param backend where the parameters and activations live
     * @param store   the model's parameters
     * @throws NullPointerException naming a null argument
     * @throws IllegalStateException if the store already belongs to another model
     */
    protected AbstractModel(Backend backend, ParameterStore store) {
        this.backend = java.util.Objects.requireNonNull(backend, "backend");
        this.store = java.util.Objects.requireNonNull(store, "store");
        store.confineWith(guard);   // its writes (copyIn, a checkpoint load, an optimizer's step) claim this model
        this.ws = new Workspace(backend, nameOf(getClass()));
        this.genWs = new Workspace(backend, nameOf(getClass()));
    }

    @Override
    public final Backend backend() {
        return backend;
    }

    @Override
    public final ParameterStore store() {
        return store;
    }

    @Override
    public final float forward(Tensor xs, Tensor ts) {
        guard.enter("forward");
        try {
            requireOpenBackend("forward");
            forwardThread = null;
            backwardTaken = false;
            forwardReturned = false;
            discardedBy = null;
            float loss = forwardHeld(forwardOp, xs, ts);
            forwardVersion = store.version().get();
            forwardWrites = store.values().writes();
            forwardThread = Thread.currentThread();
            forwardReturned = true;
            return loss;
        } finally {
            guard.exit();
        }
    }

    /**
     * The loss of one batch, with the model held by the calling thread.
     *
     * @param op what messages about bad input name, e.g. "Seq2seq.forward"
     * @param xs the inputs, batch-major
     * @param ts the targets, batch-major
     * @return the mean loss of the batch
     */
    protected abstract float forwardHeld(String op, Tensor xs, Tensor ts);

    @Override
    public final void backward() {
        guard.enter("backward");
        try {
            requireOpenBackend("backward");
            if (forwardThread == null && backwardTaken) {   // as the layers say it (CallOrder)
                throw new IllegalStateException(backwardOp + ": already ran for this forward; run forward again");
            }
            if (forwardThread == null && discardedBy != null) {   // "before forward" alone: but one had run
                throw new IllegalStateException(backwardOp + " before forward: the last forward was " + discardedBy
                        + "'s, which discarded it (an evaluation's activations are not a training step's); run forward"
                        + " again");
            }
            Inputs.forwardRanHere(backwardOp, forwardThread);
            if (store.version().get() != forwardVersion || store.values().writes() != forwardWrites) {
                throw new IllegalStateException(backwardOp + " after the weights changed since its forward (an optimizer"
                        + " step, copyIn, a checkpoint load, a write through the backend): its activations hold the old"
                        + " weights' values; forward again");
            }
            store.claimGrads(backwardOp);
            forwardThread = null;
            backwardTaken = true;
            backwardHeld();
        } finally {
            guard.exit();
        }
    }

    /**
     * Forgets the last forward (see Model.discardForward): the next backward is refused, naming {@code by}, until a
     * forward returns.
     *
     * @param by the call that discards it
     * @throws IllegalStateException if another thread is inside the model, or it is closed
     */
    @Override
    public final void discardForward(String by) {
        java.util.Objects.requireNonNull(by, () -> op("discardForward") + ": by is null; expected the call that "
                + "discards the forward");
        if (by.isBlank()) {   // the refusal would read "the last forward was 's, which discarded it"
            throw new IllegalArgumentException(op("discardForward") + ": by is blank; expected the call that discards"
                    + " the forward, such as \"RnnlmTrainer.evalPerplexity\"");
        }
        held("discardForward", () -> {
            forwardThread = null;
            backwardTaken = false;
            discardedBy = org.seq4j.internal.Names.shown(by);   // one line in backward's refusal
        });
    }

    /** Adds the gradient of the last forward's loss to every parameter's gradient (the model held, the step checked). */
    protected abstract void backwardHeld();

    /**
     * Sets the mode, held like the other operations: {@link #setTrainingHeld} switches the layers (dropout), then
     * {@link #isTraining} reports the new mode. A mode that setTrainingHeld refused (it threw) is not recorded.
     *
     * @param training true for training (dropout on), false for evaluation
     * @throws IllegalStateException if another thread is inside the model, or it is closed
     */
    @Override
    public final void setTraining(boolean training) {
        held("setTraining", () -> {
            setTrainingHeld(training);
            this.training = training;
        });
    }

    /**
     * The mode set last by {@link #setTraining}, true until setTraining(false), for every model of this base, with
     * dropout or without.
     *
     * @return true in training mode, false in evaluation mode
     */
    @Override
    public final boolean isTraining() {
        return training;
    }

    /**
     * Model's default (F32 only: this model has no LSTM or GRU inference path), held like the other operations, so
     * that a closed model refuses it as it refuses them; the models with such a path override it.
     *
     * @param precision F32
     * @throws UnsupportedOperationException for BF16
     * @throws IllegalStateException if another thread is inside the model, or it is closed
     */
    @Override
    public void setInferencePrecision(PackedMatrix.Precision precision) {
        held("setInferencePrecision", () -> Model.super.setInferencePrecision(precision));
    }

    /**
     * Switches the subclass's layers to {@code training} (dropout on or off), with the model held; nothing by
     * default, for models without dropout.
     *
     * @param training the new mode
     */
    protected void setTrainingHeld(boolean training) {
    }

    /**
     * Refuses to read what the last forward left (its attention weights, say) unless it returned: after one that threw,
     * a layer that never saw it, or saw it return before a later layer refused, still held an older forward's values.
     * Call it inside {@link #held(String, Supplier)}.
     *
     * @param method the operation, as messages name it ("attentionWeights")
     * @throws IllegalStateException if no forward returned since the model was made, or the last one threw
     */
    protected final void requireForwardReturned(String method) {
        if (!forwardReturned) {
            throw new IllegalStateException(nameOf(getClass()) + "." + method + " before a forward returned (none ran, "
                    + "or the last one threw)");
        }
    }

    /**
     * Runs {@code body} with the model held by the calling thread for operation {@code method}.
     *
     * @param method the operation, as messages name it ("generate")
     * @param body   the operation's work
     * @param <T>    what it returns
     * @return what body returns
     * @throws IllegalStateException if another thread is inside the model, or it is closed
     */
    protected final <T> T held(String method, Supplier<T> body) {
        guard.enter(method);
        try {
            requireOpenBackend(method);
            return body.get();
        } finally {
            guard.exit();
        }
    }

    /**
     * {@link #held(String, Supplier)} for an operation that returns nothing.
     *
     * @param method the operation, as messages name it
     * @param body   the operation's work
     */
    protected final void held(String method, Runnable body) {
        guard.enter(method);
        try {
            requireOpenBackend(method);
            body.run();
        } finally {
            guard.exit();
        }
    }

    /**
     * Refuses an operation of this model whose backend was closed, in the model's words: the first allocation or
     * kernel refused it in its own ("allocate: backend openblas is closed"). {@link #held} checks it; an operation that
     * allocates on the backend before it holds the model (a host-array convenience) checks it first.
     *
     * @param method the operation, "generate"
     * @throws IllegalStateException naming the model, the operation and the backend, if the backend is closed
     */
    protected final void requireOpenBackend(String method) {
        if (!backend.isOpen()) {
            throw new IllegalStateException(op(method) + ": its backend " + backend.name() + " is closed; expected the"
                    + " backend open while the model is used: close the model first");
        }
    }

    /**
     * The name messages give an operation of this model: "BetterRnnlm.beamSearch".
     *
     * @param method the operation
     * @return the class's simple name, a dot and the operation
     */
    protected final String op(String method) {
        return nameOf(getClass()) + "." + method;
    }

    @Override
    public final void close() {
        if (!guard.enterClose()) {
            return;
        }
        try {
            closeLayers();
            ws.close();
            genWs.close();
            store.close();
        } finally {
            guard.exit();
        }
    }

    /** Closes the subclass's layers (training and inference copies) and anything else it allocated. */
    protected abstract void closeLayers();

    /**
     * For a subclass constructor that failed after this one returned (a layer factory that threw): closes what this
     * one holds, the store the model was given to own included, since no caller gets a model to close; a failure of
     * the closing is added to {@code failure} as suppressed. The constructor then throws failure.
     *
     * @param failure what the construction failed with
     */
    protected final void abandon(Throwable failure) {
        boolean held = guard.enterClose();   // as close(): the store closes only inside its model's claim
        try {
            for (AutoCloseable c : new AutoCloseable[] {ws, genWs, store}) {
                try {
                    c.close();
                } catch (Throwable second) {
                    failure.addSuppressed(second);
                }
            }
        } finally {
            if (held) {
                guard.exit();
            }
        }
    }

    /**
     * A model class as messages name it: its simple name, or for an anonymous subclass (which has none: messages began
     * ".backward on thread ...") its binary name, e.g. "com.example.Main$1".
     */
    static String nameOf(Class<?> c) {
        return c.getSimpleName().isEmpty() ? c.getName() : c.getSimpleName();
    }

    /**
     * Refuses scores that are not (T, N, V) from a part of one's own: a network's predict or a decoder's forward that
     * gave another width had the loss taken over the wrong columns. The message: "{who}: its {call} returned {score}
     * for {of} (T=t, N=n); expected scores (T, N, V=v)".
     */
    static void requireScores(String who, String call, String of, Tensor score, int t, int n, int v) {
        if (score == null || score.rank() != 3 || score.dim(0) != t || score.dim(1) != n || score.dim(2) != v) {
            throw new IllegalStateException(who + ": its " + call + " returned " + score + " for " + of + " (T=" + t
                    + ", N=" + n + "); expected scores (T, N, V=" + v + ")");
        }
    }
}
