// All parameters of a model in ONE contiguous value tensor and ONE contiguous gradient tensor on the model's
// backend, sliced into named views. Declare (name, shape, initializer) first, then build once: the optimizer
// updates the whole flat buffer with one kernel call and zeroes the flat gradient with one fill.
//
// Each parameter starts on a 16-float (64-byte) boundary; the padding between parameters is zero in both
// buffers and stays zero under every optimizer (a zero gradient never moves a zero value), so it never
// shows in norms or updates. Initial values are drawn on the host, in declaration order, from one seeded
// java.util.Random and copied in with a single copyIn.
package org.seq4j.layers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SequencedMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Confinement;
import org.seq4j.internal.Names;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * All parameters of a model in one contiguous value tensor and one contiguous gradient tensor on the model's
 * backend, sliced into named views, so an optimizer updates everything with one kernel call. Each parameter starts
 * on a 64-byte boundary; the padding is zero in both buffers and stays zero.
 *
 * <p>Threads: one thread at a time, with its model. Every operation on the buffers (copyIn, copyInAll, copyOut,
 * copyOutGrad, copyOutAll, zeroGrads, scaleGrads, gradNorm, valuesWritten, close) and every optimizer's step
 * ({@link #claim}) claims the model's guard (shared by {@link #confineWith}; a store of no model has its own): a
 * thread that calls while another is inside the model (a generate, a forward, a step) gets an IllegalStateException
 * naming that thread, where a write in the middle of a generate made answers of neither the old weights nor the
 * new. The model's own operations, and an optimizer's, call them from inside their claim (re-entrant).
 */
public final class ParameterStore implements AutoCloseable {
    /** Alignment of each parameter inside the flat buffers, in floats (64 bytes). */
    public static final int ALIGN = 16;

    private final Backend backend;
    private final Arena arena;
    private final Tensor values;   // (P,) every parameter value, padded
    private final Tensor grads;    // (P,) every gradient, same layout
    private final Tensor scratch;  // (1,) for the gradient norm
    private final List<Parameter> parameters;
    private final Map<String, Parameter> byName;
    private final Map<String, Long> offsets;   // each parameter's first float in the flat buffers
    private final long parameterCount;
    private final Parameter.Version version = new Parameter.Version();   // shared by every parameter: writes to values
    // whose backward added to grads since they were last zeroed; null: nobody. Claimed by compare-and-set: a model's
    // backward and an optimizer's step (each confined, but to different objects) on two threads cannot both win
    private final AtomicReference<Thread> gradsThread = new AtomicReference<>();
    private final Confinement ownGuard = new Confinement("ParameterStore");   // while it belongs to no model
    // one thread at a time, with the model it belongs to (confineWith): every operation on the buffers claims it
    private volatile Confinement guard = ownGuard;

    /**
     * Starts the declarations of a store.
     *
     * @param backend where the buffers will live
     * @return an empty builder
     * @throws NullPointerException if backend is null
     */
    public static Builder builder(Backend backend) {
        return new Builder(java.util.Objects.requireNonNull(backend, "ParameterStore.builder: backend is null"));
    }

    /** Collects (name, shape, initializer) in order; {@link #build} allocates and initialises once. */
    public static final class Builder {
        private final Backend backend;
        private final List<Spec> specs = new ArrayList<>();
        private final Map<String, Spec> names = new LinkedHashMap<>();

        private Builder(Backend backend) {
            this.backend = backend;
        }

        /**
         * The backend the store will live on.
         *
         * @return the backend
         */
        public Backend backend() {
            return backend;
        }

        /**
         * Declares a parameter; names must be unique and every dimension {@code >= 1}.
         *
         * @param name  the book's attribute path, e.g. {@code lstm.Wx}
         * @param init  how its values start
         * @param shape its dimensions
         * @return this builder
         * @throws IllegalArgumentException if the name is null, blank or taken, holds what a checkpoint refuses ('/',
         *         '\', ".." or NUL: NpzWriter.pathPart), init is null, or the shape is empty or holds a dimension
         *         below 1
         */
        public Builder declare(String name, Init init, int... shape) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a parameter needs a name");
            }
            String path = org.seq4j.io.NpzWriter.pathPart(name);
            if (path != null) {
                throw new IllegalArgumentException("parameter \"" + Names.shown(name) + "\" holds " + path
                        + ", which a checkpoint (.npz, one entry per parameter name) refuses as a tool unzipping it may "
                        + "take it as a path; expected a name without '/', '\\', \"..\" or NUL, such as lstm.Wx");
            }
            if (names.containsKey(name)) {
                throw new IllegalArgumentException("parameter " + name + " is declared twice");
            }
            if (init == null) {
                throw new IllegalArgumentException("parameter " + name + " needs an Init (Init.zeros(), Init.normal(...)"
                        + ", ...), got null");
            }
            if (shape == null || shape.length == 0) {
                throw new IllegalArgumentException("parameter " + name + " needs a shape");
            }
            for (int d : shape) {
                if (d < 1) {
                    throw new IllegalArgumentException("parameter " + name + " has shape " + Tensor.shapeString(shape)
                            + "; every dimension must be >= 1");
                }
            }
            Spec s = new Spec(name, shape.clone(), init);
            specs.add(s);
            names.put(name, s);
            return this;
        }

        /**
         * The parameters declared so far, by name in declaration order, with their shapes (copies): what
         * {@link #build} would allocate, known with nothing allocated.
         *
         * @return a new map, name to shape
         */
        public SequencedMap<String, int[]> shapes() {
            SequencedMap<String, int[]> shapes = new LinkedHashMap<>();
            for (Spec s : specs) {
                shapes.put(s.name(), s.shape().clone());
            }
            return shapes;
        }

        /**
         * Allocates the flat buffers once and fills every value from {@code new Random(seed)}, in declaration order.
         *
         * @param seed the initialisation's seed
         * @return the store; close it to free the buffers
         * @throws IllegalArgumentException if the parameters need more floats than one tensor can hold
         */
        public ParameterStore build(long seed) {
            return new ParameterStore(backend, specs, seed);
        }
    }

    /** Floats of initial values made on the heap at a time (4 MiB). */
    private static final int INIT_CHUNK = 1 << 20;

    private static long maxSize(List<Spec> specs) {
        return specs.stream().mapToLong(Spec::size).max().orElse(0);
    }

    /** What {@link #inChunks} does with each chunk: its first value and its length. */
    interface ChunkAction {
        void apply(long from, int n);
    }

    /**
     * The chunks [from, from + n) of size values, chunk (at least 1) at a time, in order. The position is a long: as an
     * int, the last chunk's start plus the chunk passed int's range for a parameter within a chunk of 2^31 (2^31 - 1024
     * floats, an embedding of 2^21 - 1 rows of 1024), and the store failed in flatSlice at position -2^31.
     */
    static void inChunks(int size, int chunk, ChunkAction action) {
        for (long done = 0; done < size; done += chunk) {
            action.apply(done, (int) Math.min(chunk, size - done));
        }
    }

    private record Spec(String name, int[] shape, Init init) {
        long size() {
            return Tensor.sizeOf(shape); // exact; a product past a long is an IllegalArgumentException
        }
    }

    private ParameterStore(Backend backend, List<Spec> specs, long seed) {
        this.backend = backend;
        long[] offsets = new long[specs.size()];
        long total = 0;
        long count = 0;
        for (int i = 0; i < specs.size(); i++) {
            offsets[i] = total;
            long size = specs.get(i).size();
            // stop at the first parameter past the limit: total and count stay below 2^32, so the sums are exact
            total = size > Integer.MAX_VALUE ? size : total + Math.ceilDiv(size, ALIGN) * ALIGN;
            count += size;
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("parameters need at least " + total + " floats (with "
                        + specs.get(i).name() + " " + Tensor.shapeString(specs.get(i).shape()) + "); at most "
                        + (Integer.MAX_VALUE - 8) + " fit one flat buffer");
            }
        }
        this.parameterCount = count;
        this.arena = Arena.ofShared();
        try {
            this.values = backend.allocate(arena, DType.F32, Math.max(1, (int) total));
            this.grads = backend.allocate(arena, DType.F32, Math.max(1, (int) total));
            this.scratch = backend.allocate(arena, DType.F32, 1);

            // the initial values pass through the heap a chunk at a time (the padding stays allocate's zeros): an
            // array of the whole buffer (up to 8 GiB) took the heap of the largest models twice over, and one of a
            // parameter ended a model whose embedding passed the heap (100 MB under -Xmx64m) in OutOfMemoryError.
            // Init draws element by element from one Random, so the chunks hold the values a whole array would
            Random rng = new Random(seed);
            float[] chunk = new float[(int) Math.min(INIT_CHUNK, Math.max(1, maxSize(specs)))];
            MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
            List<Parameter> list = new ArrayList<>(specs.size());
            Map<String, Parameter> map = new LinkedHashMap<>();
            Map<String, Long> starts = new LinkedHashMap<>();
            for (int i = 0; i < specs.size(); i++) {
                Spec s = specs.get(i);
                int size = (int) s.size();
                Tensor value = values.flatSlice(offsets[i], size);
                inChunks(size, chunk.length, (done, n) -> {
                    s.init().fill(chunk, 0, n, rng);
                    backend.copyIn(value.flatSlice(done, n), chunkSegment.asSlice(0, (long) n * Float.BYTES));
                });
                Parameter p = new Parameter(s.name(), value.view(s.shape()), grads.flatSlice(offsets[i], size)
                        .view(s.shape()), version);
                list.add(p);
                map.put(s.name(), p);
                starts.put(s.name(), offsets[i]);
            }
            this.parameters = Collections.unmodifiableList(list);
            this.byName = Collections.unmodifiableMap(map);
            this.offsets = Collections.unmodifiableMap(starts);
        } catch (RuntimeException | Error e) {   // an OutOfMemoryError from an allocation too: nothing stays open
            arena.close();
            throw e;
        }
    }

    /**
     * The backend the buffers live on.
     *
     * @return the backend
     */
    public Backend backend() {
        return backend;
    }

    /**
     * Every parameter in declaration order (stable: the order of the book's params lists).
     *
     * @return an unmodifiable list
     */
    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * The parameter called {@code name}.
     *
     * @param name its name
     * @return the parameter
     * @throws IllegalArgumentException naming the known names if there is none
     */
    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'; this model has " + byName.keySet());
        }
        return p;
    }

    /**
     * Whether a parameter has this name.
     *
     * @param name the name
     * @return true if declared
     */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * The flat value buffer, padding included.
     *
     * @return (P,) float32
     */
    public Tensor values() {
        return values;
    }

    /**
     * The flat gradient buffer, same layout as {@link #values()}.
     *
     * @return (P,) float32
     */
    public Tensor grads() {
        return grads;
    }

    /**
     * The part of {@code flat}, a buffer laid out like {@link #values()} (an optimizer's state), that holds parameter
     * {@code name}: a view shaped like it, no copy.
     *
     * @param flat a float32 tensor of {@link #values()}'s size
     * @param name the parameter
     * @return the view
     * @throws IllegalArgumentException if there is no such parameter, or flat is not laid out like values()
     */
    public Tensor part(Tensor flat, String name) {
        Parameter p = get(name);
        if (flat.dtype() != DType.F32 || flat.size() != values.size()) {
            throw new IllegalArgumentException("part: the buffer must be float32 of " + values.size()
                    + " elements, laid out like values(); got " + flat.dtype() + " " + Tensor.shapeString(flat.shape()));
        }
        return flat.flatSlice(offsets.get(name), (int) p.size()).view(p.shape());
    }

    /**
     * Number of parameter elements, padding excluded.
     *
     * @return the count
     */
    public long parameterCount() {
        return parameterCount;
    }

    // ---- host copies, per name (for .npz and other Java code) ------------------------------------------

    /**
     * The values of {@code name} as a host array, row-major.
     *
     * @param name the parameter
     * @return a new array
     * @throws IllegalArgumentException if there is no such parameter
     */
    public float[] copyOut(String name) {
        Confinement g = enter("ParameterStore.copyOut");
        try {
            Parameter p = get(name);
            float[] out = new float[(int) p.size()];
            backend.copyOut(out, p.value());
            return out;
        } finally {
            g.exit();
        }
    }

    /**
     * The gradient of {@code name} as a host array, row-major.
     *
     * @param name the parameter
     * @return a new array
     * @throws IllegalArgumentException if there is no such parameter
     */
    public float[] copyOutGrad(String name) {
        Confinement g = enter("ParameterStore.copyOutGrad");
        try {
            Parameter p = get(name);
            float[] out = new float[(int) p.size()];
            backend.copyOut(out, p.grad());
            return out;
        } finally {
            g.exit();
        }
    }

    /**
     * Overwrites the values of {@code name}.
     *
     * @param name the parameter
     * @param data exactly its size, row-major
     * @throws IllegalArgumentException if there is no such parameter or the length differs
     * @throws NullPointerException if data is null (the message names the parameter)
     */
    public void copyIn(String name, float[] data) {
        Confinement g = enter("ParameterStore.copyIn");
        try {
            Parameter p = get(name);
            if (data == null) {   // said only: Cannot read the array length because "data" is null
                throw new NullPointerException("copyIn(" + name + "): data is null; expected its " + p.size()
                        + " values");
            }
            if (data.length != p.size()) {
                throw new IllegalArgumentException("parameter " + p + " has " + p.size() + " elements but "
                        + data.length + " values were given");
            }
            try {
                backend.copyIn(p.value(), data);
            } finally {
                version.advance();   // even a failed copy may have written some: kept copies are made again
            }
        } finally {
            g.exit();
        }
    }

    /**
     * Every parameter's values by name, in declaration order.
     *
     * @return a new map of new arrays
     */
    public Map<String, float[]> copyOutAll() {
        Confinement g = enter("ParameterStore.copyOutAll");   // held across: one version of every parameter
        try {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (Parameter p : parameters) {
                out.put(p.name(), copyOut(p.name()));
            }
            return out;
        } finally {
            g.exit();
        }
    }

    /**
     * Overwrites every parameter from {@code data}. The names must match exactly and every array must have
     * its parameter's size (a null array is of the wrong size); otherwise nothing is written and the exception lists
     * what is missing, unexpected or of the wrong size.
     *
     * @param data every parameter's values by name
     * @throws IllegalArgumentException if the names or sizes do not match, or a key is null
     * @throws NullPointerException if data is null
     */
    public void copyInAll(Map<String, float[]> data) {
        Confinement g = enter("ParameterStore.copyInAll");
        try {
            copyInAllHeld(data);
        } finally {
            g.exit();
        }
    }

    private void copyInAllHeld(Map<String, float[]> data) {
        java.util.Objects.requireNonNull(data, "ParameterStore.copyInAll: data is null");
        for (String name : data.keySet()) {   // a TreeSet of the keys threw a bare NullPointerException
            if (name == null) {
                throw new IllegalArgumentException("ParameterStore.copyInAll: a key is null; expected parameter names");
            }
        }
        TreeSet<String> missing = new TreeSet<>(byName.keySet());
        missing.removeAll(data.keySet());
        TreeSet<String> unexpected = new TreeSet<>(data.keySet());
        unexpected.removeAll(byName.keySet());
        List<String> wrongSize = new ArrayList<>();
        for (Parameter p : parameters) {
            float[] a = data.get(p.name());
            if (a == null && data.containsKey(p.name())) {   // was written to after the parameters before it: an NPE
                wrongSize.add(p + " needs " + p.size() + " values, got null");
            } else if (a != null && a.length != p.size()) {
                wrongSize.add(p + " needs " + p.size() + " values, got " + a.length);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !wrongSize.isEmpty()) {
            // the caller's keys as the message shows them: a raw line break in one ran it over several lines
            List<String> shown = unexpected.stream().map(Names::shown).toList();
            throw new IllegalArgumentException("parameters do not match this model: missing " + missing
                    + ", unexpected " + shown + ", wrong size " + wrongSize);
        }
        try {
            for (Parameter p : parameters) {
                backend.copyIn(p.value(), data.get(p.name()));
            }
        } finally {
            version.advance();
        }
    }

    /**
     * The write counter every parameter of this store shares ({@link Parameter#version()}).
     *
     * @return the counter
     */
    public Parameter.Version version() {
        return version;
    }

    /**
     * Records that values changed: copies derived from them (the bfloat16 recurrent weights of inference) are
     * made again before their next use. copyIn, copyInAll and every Optimizer.step call it; code that writes
     * {@link #values()} or a parameter's value any other way must call it afterwards.
     */
    public void valuesWritten() {
        Confinement g = guard;
        g.enterFrom("ParameterStore.valuesWritten");
        try {
            version.advance();
        } finally {
            g.exit();
        }
    }

    // ---- whole-buffer operations ------------------------------------------------------------------------

    /** grads = 0, one fill over the flat buffer. */
    public void zeroGrads() {
        Confinement g = enter("ParameterStore.zeroGrads");
        try {
            backend.fill(grads, 0f);
            gradsThread.set(null);
        } finally {
            g.exit();
        }
    }

    /**
     * Records what {@link #zeroGrads()} records, for gradients a kernel has already zeroed (an optimizer whose update
     * clears each gradient as it applies it, as Adam's does): no gradients are pending, and no fill is needed.
     */
    public void gradsZeroed() {
        Confinement g = guard;
        g.enterFrom("ParameterStore.gradsZeroed");
        try {
            gradsThread.set(null);
        } finally {
            g.exit();
        }
    }

    /**
     * Called by a model's backward before it adds to grads, and by an optimizer's step before it applies them:
     * gradients that another thread added and nobody applied yet would silently mix two threads' batches, so
     * they are an IllegalStateException naming that thread. One thread at a time, as for the model itself.
     *
     * @param op the operation, for the message
     * @throws IllegalStateException if another thread's gradients are pending, or the store is closed
     */
    public void claimGrads(String op) {
        Confinement g = enter(op);
        try {
            Thread me = Thread.currentThread();
            Thread other;
            while ((other = gradsThread.get()) != me) {
                if (other != null) {
                    throw new IllegalStateException(op + " on " + Confinement.describe(me) + ": the gradients hold what "
                            + Confinement.describe(other) + " added and nobody applied yet; a model and its optimizer"
                            + " serve one thread at a time (step or zeroGrads before handing them over)");
                }
                if (gradsThread.compareAndSet(null, me)) {
                    return;
                }
            }
        } finally {
            g.exit();
        }
    }

    /**
     * Claims the store, and the model it belongs to, for the calling thread until {@link #release()}: for code that
     * writes {@link #values()} or {@link #grads()} itself, across several calls (an optimizer's step, from its check
     * to its update and the zeroing; data-parallel training's all-reduce). Re-entrant; allocates nothing unless it
     * throws.
     *
     * <pre>
     * store.claim("Adam.step");
     * try { ... } finally { store.release(); }
     * </pre>
     *
     * @param caller the operation, as messages name it ("Adam.step")
     * @throws IllegalStateException if another thread is inside the model or the store ('Adam.step: in use by thread
     *                               "A" (id 31), which holds the Rnnlm, ...'), or the store is closed
     */
    public void claim(String caller) {
        enter(caller);
    }

    /**
     * Releases one {@link #claim} of the calling thread.
     *
     * @throws IllegalStateException if the calling thread holds no claim
     */
    public void release() {
        guard.exit();
    }

    /**
     * Makes the store share {@code modelGuard}, the guard of the model that owns it: from then on its operations and
     * the optimizers' steps claim the model, and a model's operations may call them from inside their own claim. Called
     * once, by the model's constructor (AbstractModel's; a model of your own that does not extend it calls it too, and
     * closes the store from inside its guard's claim, {@code enterClose()} ... {@code exit()}: the store refuses a close
     * from outside it).
     *
     * @param modelGuard the model's guard
     * @throws IllegalStateException if the store already belongs to a model (a store serves one), or another thread is
     *                               using it
     */
    public void confineWith(Confinement modelGuard) {
        java.util.Objects.requireNonNull(modelGuard, "ParameterStore.confineWith: modelGuard is null");
        ownGuard.enterFrom("ParameterStore.confineWith");
        try {
            if (guard != ownGuard) {
                throw new IllegalStateException("ParameterStore.confineWith: this store already belongs to a model"
                        + " (it shares that model's guard); a store serves one model: build one for each");
            }
            guard = modelGuard;
        } finally {
            ownGuard.exit();
        }
    }

    /**
     * The global L2 norm of the gradients: one reduction and one read back.
     *
     * @return sqrt(sum of every gradient element squared)
     */
    public float gradNorm() {
        Confinement g = enter("ParameterStore.gradNorm");
        try {
            backend.sumOfSquares(scratch, grads);
            return (float) Math.sqrt(backend.item(scratch, 0));
        } finally {
            g.exit();
        }
    }

    /**
     * grads *= rate, one kernel.
     *
     * @param rate the factor
     */
    public void scaleGrads(float rate) {
        Confinement g = enter("ParameterStore.scaleGrads");
        try {
            backend.scale(grads, rate);
        } finally {
            g.exit();
        }
    }

    /**
     * Frees the buffers (closing twice does nothing). A model's store is closed by the model's close: closed on its
     * own it is refused (the model went on, its next call failing in a kernel's words about a closed arena), and while
     * another thread is inside the model it is refused like the other operations.
     *
     * @throws IllegalStateException if the store belongs to a model and this is not the model's close, or another
     *                               thread is inside the model or the store
     */
    @Override
    public void close() {
        Confinement g = guard;
        if (g.heldByCurrentThread()) {   // inside its model's close (or another operation of this thread)
            closeArena();
            return;
        }
        if (!arena.scope().isAlive()) {
            return;
        }
        g.enterFrom("ParameterStore.close");
        try {
            if (g != ownGuard) {
                throw new IllegalStateException("ParameterStore.close: this store belongs to a model; close the model, "
                        + "which closes its store");
            }
            closeArena();
        } finally {
            g.exit();
        }
    }

    private void closeArena() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /**
     * Claims the guard for {@code op} after the closed check (whose message it keeps), and checks again once held: a
     * close on another thread between the two is seen here rather than by the first kernel. Returns the guard to exit.
     */
    private Confinement enter(String op) {
        open(op);
        Confinement g = guard;
        g.enterFrom(op);
        if (!arena.scope().isAlive()) {
            g.exit();
            open(op);
        }
        if (!backend.isOpen()) {   // else the first kernel's words: "fill: backend java is closed"
            g.exit();
            throw new IllegalStateException(op + ": the store's backend " + backend.name() + " is closed; expected it "
                    + "open while the store is used: close the model (or the store) first");
        }
        return g;
    }

    /**
     * Refuses a use after close() in one line naming the call (a checkpoint of a closed model, an optimizer step over
     * its store): the buffers' arena is closed, and the first kernel to touch one said so in its own argument names.
     */
    private void open(String op) {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(op + ": this ParameterStore is already closed (so is the model it belongs "
                    + "to, if any)");
        }
    }

    @Override
    public String toString() {
        return "ParameterStore(" + parameters.size() + " parameters, " + parameterCount + " elements on "
                + backend.name() + ")";
    }
}
