// Shape and dtype checks for what models receive from their callers, with messages that name N, T and V.
// Token ids' ranges are checked by the backend's kernels; models add which input and which vocabulary.
package org.seq4j.models;

import java.lang.foreign.MemorySegment;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Confinement;
import org.seq4j.internal.JavaHeap;
import org.seq4j.internal.Rows;
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

final class Inputs {
    private Inputs() {
    }

    /**
     * The arguments of a part's constructor over a built store (an encoder's, a decoder's), each refused by name where
     * null: a null store or cell failed with a bare NPE, and a null prefix looked up "nullembed.W".
     */
    static void part(String op, Backend backend, ParameterStore store, String prefix, Cell cell) {
        java.util.Objects.requireNonNull(backend, op + ": backend is null; expected the Backend the part runs on");
        java.util.Objects.requireNonNull(store, op + ": store is null; expected the built ParameterStore holding "
                + "its parameters");
        java.util.Objects.requireNonNull(prefix, op + ": prefix is null; expected the prefix its parameters were "
                + "declared under (such as \"encoder.\"; \"\" for none)");
        java.util.Objects.requireNonNull(cell, op + ": cell is null; expected Cell.LSTM or Cell.GRU");
    }

    /**
     * The arguments of a model's static declare, each refused by name where null: a null builder or cell failed
     * with a bare NPE from inside (about Cell.lower() or b.declare).
     */
    static void declaring(String op, ParameterStore.Builder b, Cell cell) {
        declaring(op, b);
        java.util.Objects.requireNonNull(cell, op + ": cell is null; expected Cell.LSTM or Cell.GRU");
    }

    /** {@link #declaring(String, ParameterStore.Builder, Cell)} for a model without a cell argument. */
    static void declaring(String op, ParameterStore.Builder b) {
        java.util.Objects.requireNonNull(b, op + ": b is null; expected the ParameterStore.Builder to declare the "
                + "parameters on");
    }

    /**
     * The arguments of a part's static declare (an encoder's, a decoder's): a null prefix declared "nullembed.W",
     * names that no constructor over the store then finds under any prefix.
     */
    static void declaring(String op, ParameterStore.Builder b, String prefix, Cell cell) {
        declaring(op, b);
        java.util.Objects.requireNonNull(prefix, op + ": prefix is null; expected the names' prefix (such as "
                + "\"encoder.\"; \"\" for none)");
        java.util.Objects.requireNonNull(cell, op + ": cell is null; expected Cell.LSTM or Cell.GRU");
    }

    /**
     * The sizes of a part over a built store, read from its embed.W (V, D) and its recurrent Wh (H, GH), and the
     * check that its other parameters have the shapes its declare gives for them. A part over another model's store
     * (a Decoder over a PeekySeq2seq's, an AttentionDecoder over a Seq2seq's) constructed without complaint, each
     * layer's own shapes consistent, and failed at its first forward in a layer's words ("TimeAffine.forward needs x
     * float32 (T, N, D=6), got ... (1, 2, 12)"), naming neither the part nor the parameter.
     */
    record PartShapes(String op, Cell cell, String from, int V, int D, int H) {
        static PartShapes of(String op, Cell cell, org.seq4j.layers.Parameter embed, org.seq4j.layers.Parameter Wh) {
            matrix(op, embed, "(V, D)");
            matrix(op, Wh, "(H, " + cell.gates() + "H)");
            return new PartShapes(op, cell, embed.name() + " " + Tensor.shapeString(embed.shape()) + " and " + Wh.name()
                    + " " + Tensor.shapeString(Wh.shape()), embed.dim(0), embed.dim(1), Wh.dim(0));
        }

        private static void matrix(String op, org.seq4j.layers.Parameter p, String formula) {
            if (p.shape().length != 2) {
                throw new IllegalArgumentException(op + ": parameter " + p.name() + " has shape "
                        + Tensor.shapeString(p.shape()) + "; expected a matrix " + formula + " (not the store of a "
                        + op + ".declare with this prefix and cell)");
            }
        }

        /** The recurrent layer's columns, GH. */
        int g() {
            return cell.columns(H);
        }

        /** Refuses p unless its shape is {@code expected}, which {@code formula} writes in V, D, H and G. */
        void require(org.seq4j.layers.Parameter p, String formula, int... expected) {
            if (!java.util.Arrays.equals(p.shape(), expected)) {
                String f = formula.replace("GH", cell.gates() + "H");
                throw new IllegalArgumentException(op + ": parameter " + p.name() + " has shape "
                        + Tensor.shapeString(p.shape()) + "; expected " + f + " = " + Tensor.shapeString(expected)
                        + " with V = " + V + ", D = " + D + ", H = " + H + " (from " + from + "): not the store of a "
                        + op + ".declare with this prefix and cell");
            }
        }
    }

    /**
     * backward may follow only a forward of the calling thread: forwardThread is the thread of the last forward
     * since the last backward (null: none). Another thread's forward in between would leave this thread's
     * backward on that thread's activations, a silently wrong gradient.
     */
    static void forwardRanHere(String op, Thread forwardThread) {
        if (forwardThread == null) {
            throw new IllegalStateException(op + " before forward");
        }
        if (forwardThread != Thread.currentThread()) {
            throw new IllegalStateException(op + " on " + Confinement.describe(Thread.currentThread())
                    + " follows a forward on " + Confinement.describe(forwardThread)
                    + "; a model serves one thread at a time, forward and backward on the same one");
        }
    }

    /**
     * The argument of a part's setInferencePrecision, refused by name where null (the layer's own words, or a bare
     * "precision", before).
     */
    static void precision(String part, org.seq4j.backend.PackedMatrix.Precision precision) {
        if (precision == null) {   // the message built only here: a call with a precision allocates nothing
            throw new NullPointerException(part + ".setInferencePrecision: precision is null; expected F32 or BF16");
        }
    }

    /**
     * The columns of a concatenation [a ; b] (a + b), exactly: as an int the sum of two large sizes wraps negative
     * and surfaced as an odd "fan-in must be >= 1, got -2147483645".
     */
    static int concatColumns(String what, String aName, int a, String bName, int b) {
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + " has " + aName + " + " + bName + " = " + a + " + " + b + " = "
                    + ((long) a + b) + " columns; expected " + aName + " + " + bName + " <= " + Integer.MAX_VALUE);
        }
    }

    /**
     * The builder of a model's parameter store, for its constructor, which builds it before anything else: a null
     * backend surfaced as the JDK's NullPointerException about a local inside the builder, a null cell as one about
     * Cell.lower(); both now name the model and the argument, as AbstractModel promises.
     */
    static ParameterStore.Builder storeBuilder(String model, Backend backend) {
        java.util.Objects.requireNonNull(backend, () -> model + ": backend is null; expected the Backend the model"
                + " runs on");
        return ParameterStore.builder(backend);
    }

    /** {@link #storeBuilder(String, Backend)} for a model with a recurrent cell, checked too. */
    static ParameterStore.Builder storeBuilder(String model, Backend backend, Cell cell) {
        ParameterStore.Builder b = storeBuilder(model, backend);
        java.util.Objects.requireNonNull(cell, () -> model + ": cell is null; expected Cell.LSTM or Cell.GRU");
        return b;
    }

    /**
     * The sizes of a language or seq2seq model: vocabulary V, word vectors D, hidden state H, all >= 1. The message
     * names the model, as WavePredictor's and BetterRnnlm's own size checks do (it named none).
     */
    static void requireSizes(String model, int V, int D, int H) {
        if (V < 1 || D < 1 || H < 1) {
            throw new IllegalArgumentException(model + ": vocabulary size V, word vector size D and hidden size H must "
                    + "be >= 1, got V=" + V + ", D=" + D + ", H=" + H);
        }
    }

    /**
     * The encoding a decoder starts from, checked in the decoder's words: h, the encoder's last hidden state (N, H),
     * or (states) all its hidden states (T_enc, N, H); and xs (T, N), where given, of the same N. A wrong one was
     * refused by the decoder's TimeLSTM, naming TimeLSTM.setState, or for N alone saying that "TimeLSTM holds a state
     * for N=3 but the input has N=2; call resetState() or setState(...) first", which the decoder's caller never
     * called; a null encHs was the JDK's NullPointerException about encHs.dim.
     *
     * @return N, the encoding's rows
     */
    static int encoding(String op, Tensor xs, Tensor encoding, int H, boolean states) {
        if (encoding == null) {
            throw new NullPointerException(op + ": " + (states ? "encHs" : "h") + " is null; expected "
                    + encodingWanted(H, states));
        }
        int rank = states ? 3 : 2;
        if (encoding.dtype() != DType.F32 || encoding.rank() != rank || encoding.dim(rank - 1) != H
                || encoding.dim(0) < 1 || encoding.dim(rank - 2) < 1) {
            throw new IllegalArgumentException(op + ": expected " + encodingWanted(H, states) + ", got " + encoding);
        }
        int n = encoding.dim(rank - 2);
        if (xs != null && xs.rank() == 2 && xs.dim(1) != n) {
            throw new IllegalArgumentException(op + ": xs " + Tensor.shapeString(xs.shape()) + " is (T, N) with N="
                    + xs.dim(1) + ", but the encoding " + Tensor.shapeString(encoding.shape()) + " has N=" + n
                    + "; expected one row of the encoding for each of xs's columns");
        }
        return n;
    }

    /**
     * Refuses an encoding that lies in the decoder's own buffers (its scores, its gradient w.r.t. the encoding, its
     * attention weights, fed back): the decoder reads the encoding at every step of its forward, generate or beam
     * steps, after a step before had rewritten those buffers, or at another size closed them. The scores then came
     * from values the caller never passed, or a kernel refused a closed arena in its own words, or the backward
     * refused the encoding as written since the forward: after the decoder's state was already set.
     *
     * @param own whether the encoding lies in the decoder's buffers
     */
    static void ownEncoding(String op, boolean states, boolean own) {
        if (own) {
            String name = states ? "encHs" : "h";
            throw new IllegalArgumentException(op + ": " + name + " lies in this decoder's own buffers (its scores"
                    + (states ? ", its attention weights" : "") + " or its gradient w.r.t. the encoding?), which it "
                    + "overwrites while it still reads " + name + "; pass a copy, or the encoder's output");
        }
    }

    /** What {@link #encoding} expects, for its refusals (built only then: a forward allocates nothing). */
    private static String encodingWanted(int H, boolean states) {
        return states ? "encHs, the encoder's hidden states, float32 (T_enc >= 1, N >= 1, H=" + H + ")"
                : "h, the encoder's last hidden state, float32 (N >= 1, H=" + H + ")";
    }

    /** t must be (N, T) int32 token ids with T >= minT (and N == n unless n < 0). */
    static void ids(String op, String name, Tensor t, int n, int minT, int V) {
        if (t == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
        t.requireUsable(op, name);   // else the first kernel refused it in its own argument names
        if (t.rank() != 2 || t.dtype() != DType.I32 || t.dim(0) < 1 || t.dim(1) < minT || (n >= 0 && t.dim(0) != n)) {
            throw new IllegalArgumentException(op + ": " + name + " must be batch-major (N, T) int32 token ids in [0, V="
                    + V + ")" + (n >= 0 ? " with N=" + n : " with N >= 1") + " and T >= " + minT + ", got " + t);
        }
        Rows.of(op, t.dim(1), t.dim(0));
    }

    /**
     * dst (T, N, ...) = the caller's batch-major src (N, T, ...), int32 or float32, in the model's workspace. A src on
     * the host that the backend's kernels cannot read (Java heap memory, {@code Tensor.wrap(int[], ...)}, on a native
     * backend; host memory on a GPU backend) is transposed on the host and copied in, so the models take such inputs
     * on every backend (they are copied into the workspace anyway); the swap kernel refused them in its own words
     * ("swapAxes01: in ... lies on the Java heap"). A src on another device is left to the kernel's refusal: its
     * memory cannot be read from here.
     */
    static void timeMajor(String op, String name, Backend backend, Tensor dst, Tensor src) {
        boolean unreadable = !src.segment().isNative() || !backend.device().isHost();
        if (!src.device().isHost() || !unreadable) {
            backend.swapAxes01(dst, src);
            return;
        }
        transposableOnHost(op, name, src);
        int n = src.dim(0), t = src.dim(1);
        long entry = src.byteSize() / Math.max(1, (long) n * t);   // bytes of one (row, step): int32 or float32 alike
        MemorySegment out = MemorySegment.ofArray(new int[(int) src.size()]);
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < t; s++) {
                MemorySegment.copy(src.segment(), (i * (long) t + s) * entry, out, (s * (long) n + i) * entry, entry);
            }
        }
        backend.copyIn(dst, out);
    }

    /**
     * Refuses a src that {@link #timeMajor} would transpose on the host (heap memory; host memory on a GPU backend)
     * with more elements than the one Java array it is transposed into holds: Math.toIntExact's bare
     * ArithmeticException ("integer overflow") came out of the model's call, naming neither it nor the input; a size a
     * few below 2^31 (past HostArrays.MAX_LENGTH, the VM's limit) an OutOfMemoryError ("Requested array size exceeds VM
     * limit") however much heap was free, and one the heap cannot hold an OutOfMemoryError ("Java heap space"): refused
     * with the numbers, as generate's arrays are. Only (N, T, F) values can get past int's range: ids are (N, T) with
     * T x N checked against it.
     */
    static void transposableOnHost(String op, String name, Tensor src) {
        long size = src.size();
        if (size > HostArrays.MAX_LENGTH) {
            throw new IllegalArgumentException(op + ": " + name + " " + Tensor.shapeString(src.shape()) + " has " + size
                    + " values, past the " + HostArrays.MAX_LENGTH + " of the one Java array it is made time-major in"
                    + " from " + from(src) + "; give a smaller batch, or native memory on a CPU backend");
        }
        long bytes = JavaHeap.arrayBytes(size, Integer.BYTES);
        if (!JavaHeap.fits(bytes)) {
            throw JavaHeap.refusal(op, name + " " + Tensor.shapeString(src.shape()) + ", made time-major from " + from(src)
                    + " in one int[" + size + "],", bytes);
        }
    }

    private static String from(Tensor src) {
        return src.segment().isNative() ? "host memory on a GPU backend" : "Java heap memory";
    }

    /**
     * dst = the caller's src, of dst's shape, in the model's workspace, from any host memory (as {@link #timeMajor}: the
     * Java heap on a native backend, host memory on a GPU backend); a src on the backend's device is copied there.
     */
    static void copy(Backend backend, Tensor dst, Tensor src) {
        if (src.device().isHost()) {
            backend.copyIn(dst, src.segment());
        } else {
            backend.copy(dst, src);
        }
    }

    /** t must be (N, T, F) float32 with the given F (and N == n, T == steps unless those are < 0). */
    static void values(String op, String name, Tensor t, int n, int steps, int f) {
        if (t == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
        t.requireUsable(op, name);   // else the first kernel refused it in its own argument names
        if (t.rank() != 3 || t.dtype() != DType.F32 || t.dim(0) < 1 || t.dim(1) < 1 || t.dim(2) != f
                || (n >= 0 && t.dim(0) != n) || (steps >= 0 && t.dim(1) != steps)) {
            throw new IllegalArgumentException(op + ": " + name + " must be batch-major (N" + (n >= 0 ? "=" + n : "")
                    + ", T" + (steps >= 0 ? "=" + steps : "") + ", F=" + f + ") float32, got " + t);
        }
        if (t.device().isHost() && !t.segment().isNative()) {   // made time-major on the host on every backend:
            transposableOnHost(op, name, t);                     // refused before the model sizes its buffers for it
        }
    }

    /** An id outside the vocabulary, reported by a kernel, re-thrown saying which input and which vocabulary. */
    static IllegalArgumentException outOfVocabulary(String op, String name, Tensor batchMajor, int V,
                                                    IndexOutOfBoundsException e) {
        return outOfVocabulary(op, name, batchMajor, V, e, "");
    }

    /** {@link #outOfVocabulary(String, String, Tensor, int, IndexOutOfBoundsException)} with {@code note} after it. */
    static IllegalArgumentException outOfVocabulary(String op, String name, Tensor batchMajor, int V,
                                                    IndexOutOfBoundsException e, String note) {
        return new IllegalArgumentException(op + ": " + name + " " + Tensor.shapeString(batchMajor.shape())
                + " holds a token id outside the vocabulary [0, V=" + V + "); the kernel said: " + e.getMessage()
                + " (its index counts time-major, t * N + n)" + note, e);
    }
}
