// The argument and call checks TimeLSTM and TimeGRU share, each written once (STYLE principle 2) and worded with the
// layer's Cell: "TimeLSTM ..." or "TimeGRU ...", 4H or 3H, the messages each layer gave before, word for word. One
// instance per layer, its call names made once: a check that passes allocates nothing (SteadyStateAllocationTest).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.internal.Rows;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/** The checks of one Time layer of a {@link Cell}; each throws what the layer's javadoc names. */
final class RecurrentChecks {
    private final Cell cell;
    private final String layer;          // "TimeLSTM" or "TimeGRU", which every message starts with
    private final String forward;        // "TimeLSTM.forward"
    private final String backward;       // "TimeLSTM.backward"
    private final String backwardLast;   // "TimeLSTM.backwardLast"

    RecurrentChecks(Cell cell) {
        this.cell = cell;
        this.layer = "Time" + cell.name();
        this.forward = layer + ".forward";
        this.backward = layer + ".backward";
        this.backwardLast = layer + ".backwardLast";
    }

    /** Wx (D, kH), Wh (H, kH), b (kH,) with one H, k = cell.gates(); else IllegalArgumentException. */
    void weights(Parameter Wx, Parameter Wh, Parameter b) {
        if (Wx.value().rank() != 2 || Wh.value().rank() != 2 || b.value().rank() != 1) {
            throw new IllegalArgumentException(needs() + ", got " + Wx + ", " + Wh + ", " + b);
        }
        long g = (long) cell.gates() * Wh.dim(0);   // in long: 4H wraps in int past 2^29
        if (Wh.dim(1) != g || Wx.dim(1) != g || b.dim(0) != g) {
            throw new IllegalArgumentException(needs() + " with one H, got " + Wx + ", " + Wh + ", " + b);
        }
    }

    private String needs() {
        int k = cell.gates();
        return layer + " needs Wx (D, " + k + "H), Wh (H, " + k + "H), b (" + k + "H,)";
    }

    /** forward(xs): xs float32 (T, N, D), not one of the layer's own buffers (ws). */
    void input(int d, Workspace ws, Tensor xs) {
        if (xs.dtype() != DType.F32 || xs.rank() != 3 || xs.dim(2) != d) {
            throw new IllegalArgumentException(forward + " needs xs float32 (T, N, D=" + d + "), got " + xs);
        }
        ws.refuseOwn(forward, "xs", xs);
    }

    /** forward(embed, ids): E usable and of width D, ids (T, N). Returns E. */
    Parameter embedding(int d, TimeEmbedding embed, Tensor ids) {
        Parameter E = embed.W();
        E.value().requireUsable(forward, E.name());   // a kept folded table would not read it
        if (E.dim(1) != d) {
            throw new IllegalArgumentException(forward + ": the embedding's vectors have " + E.dim(1)
                    + " features but this " + cell.name() + " takes D=" + d);
        }
        if (ids.rank() != 2) {
            throw new IllegalArgumentException(forward + " needs ids (T, N), got " + ids);
        }
        return E;
    }

    /**
     * A forward of T steps over N rows: T, N >= 1, T*N rows in an int, and a carried state (carried: the layer is
     * stateful and holds one) of the same N.
     */
    void steps(int t, int n, boolean carried, int stateN) {
        if (t < 1 || n < 1) {
            throw new IllegalArgumentException(forward + " needs T >= 1 and N >= 1, got T=" + t + ", N=" + n);
        }
        Rows.of(forward, t, n);
        if (carried && n != stateN) {
            throw new IllegalStateException(layer + " holds a state for N=" + stateN + " but the input has N=" + n
                    + "; call resetState() or setState(...) first");
        }
    }

    /** backward(dhs) after a forward that took token ids (folded or not: a rule of the shapes). */
    void noIds(boolean tookIds) {
        if (tookIds) {
            throw new IllegalStateException(backward + "(dhs): the last forward took token ids through an embedding; "
                    + "use backward(embed, dhs)");
        }
    }

    /** backward(embed, dhs) of a folded forward must name that forward's embedding. */
    void sameEmbedding(TimeEmbedding forwards, TimeEmbedding given) {
        if (forwards != given) {
            throw new IllegalArgumentException(backward + "(embed, dhs) with another embedding than the forward's");
        }
    }

    /**
     * A backward needs a float32 forward: forwardPacked is the precision of the inference copy the last forward used
     * (the forward's, not the one set since: setInferencePrecision(F32) alone does not make it float32), else null.
     */
    void float32Forward(PackedMatrix.Precision forwardPacked) {
        if (forwardPacked != null) {
            throw new IllegalStateException(backward + " after a forward with " + forwardPacked
                    + " inference weights; training needs float32 forwards: setInferencePrecision(F32), then forward "
                    + "again");
        }
    }

    /**
     * The output gradient of a backward: dhs (T, N, H) of backward, or, when dhs is null, dhLast (N, H) of
     * backwardLast, each fit for {@code kernel}, the backend call that reads it.
     */
    void outputGradient(Backend backend, String kernel, int t, int n, int h, Tensor dhs, Tensor dhLast) {
        if (dhs != null) {
            Shapes.requireGradient(backend, kernel, backward, "dhs", dhs);
            if (!Shapes.is3(dhs, t, n, h)) {
                throw Shapes.gradientShape(backward, "dhs", dhs, "the forward's output (T, N, H)", t, n, h);
            }
        } else {
            Shapes.requireGradient(backend, kernel, backwardLast, "dhLast", dhLast);
            if (!Shapes.is2(dhLast, n, h)) {
                throw Shapes.gradientShape(backwardLast, "dhLast", dhLast, "the last hidden state (N, H)", n, h);
            }
        }
    }

    /** setState on a layer that is not stateful would be ignored: refused. */
    void stateful(boolean stateful) {
        if (!stateful) {
            throw new IllegalStateException("setState on a " + layer + " that is not stateful would be ignored by "
                    + "forward");
        }
    }
}
