// A bidirectional recurrent layer, the book's TimeBiLSTM (ch08) and its GRU equivalent: two stateless Time layers
// of one Cell (TimeLSTM or TimeGRU) over one time-major sequence xs (T, N, D), the first reading it forwards, the
// second reading it backwards, and hs (T, N, 2H) = [forward hs[t] ; backward hs[t]], where the backward
// direction's state at t has read x[T-1] .. x[t]. Built from existing kernels only: the reversal along T is one
// row gather (the embedding kernel) with the ids (t, n) -> (T-1-t, n), its own inverse, and the two halves join
// with concatColumns / splitColumns. The book's attribute paths name the parameters: forward_lstm / backward_lstm
// for the LSTM, forward_gru / backward_gru for the GRU (see AttentionBiEncoder).
//
// Backward: dhs splits into dF, dB; dB is reversed and goes through the backward layer, whose dx is reversed
// again; dxs = dxF + that. Both layers' parameter gradients accumulate (+=), as every layer's do.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix.Precision;
import org.seq4j.internal.Rows;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A bidirectional recurrent layer: the book's TimeBiLSTM with {@link Cell#LSTM}, its GRU equivalent with
 * {@link Cell#GRU}. Two stateless Time layers of the cell over a time-major sequence xs (T, N, D), one reading it
 * forwards, one backwards, and hs (T, N, 2H) = [forward hs[t] ; backward hs[t]], where the backward direction's
 * state at t has read x[T-1] .. x[t]. In the book's attribute paths the two directions are forward_lstm and
 * backward_lstm (forward_gru and backward_gru for the GRU).
 */
public final class TimeBiRecurrent implements AutoCloseable {
    private final Backend backend;
    private final Cell cell;
    private final TimeRecurrent forwardLayer;
    private final TimeRecurrent backwardLayer;
    private final int D, H;
    private final Workspace ws;
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private final ViewCache xs2 = new ViewCache();        // the caller's xs (T, N, D) as (T*N, D)
    private final ViewCache hsF2 = new ViewCache();       // forward hs (T, N, H) as (T*N, H)
    private final ViewCache hsBr2 = new ViewCache();      // backward hs, in its own (reversed) order, as (T*N, H)
    private final ViewCache dxBr2 = new ViewCache();      // (T*N, D)
    private final ViewCache dhs2 = new ViewCache();       // the caller's dhs (T, N, 2H) as (T*N, 2H)

    private int sizedT = -1, sizedN = -1;
    // the directions' precision in the last forward that returned: a BF16 one has no backward
    private Precision forwardPrecision = Precision.F32;
    private Tensor rev;                   // (T*N,) int32: row t*N + n <- row (T-1-t)*N + n
    private Tensor xsRev, xsRev2;         // (T, N, D) xs reversed along T; (T*N, D)
    private Tensor hsB2;                  // (T*N, H) backward hs in the sequence's order
    private Tensor out, out2;             // (T, N, 2H) what forward returns; (T*N, 2H)
    private Tensor dF, dF3, dB, dBr, dBr3;   // (T*N, H) the halves of dhs (dF also as (T, N, H)); dB reversed; (T, N, H)
    private Tensor dxB2;                  // (T*N, D) the backward direction's dx in the sequence's order
    private Tensor dxs, dxs2;             // (T, N, D) what backward returns; (T*N, D)

    /**
     * A layer of the given cell over the given parameters (held, not copied): the forward direction (forward_lstm
     * or forward_gru) reads Wx1, Wh1, b1; the backward direction (backward_lstm or backward_gru) reads Wx2, Wh2,
     * b2 of the same shapes. G below is cell.gates(): 4 for the LSTM, 3 for the GRU.
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param cell    the recurrent cell of both directions
     * @param Wx1     (D, GH) of the forward direction
     * @param Wh1     (H, GH) of the forward direction
     * @param b1      (GH,) of the forward direction
     * @param Wx2     (D, GH) of the backward direction
     * @param Wh2     (H, GH) of the backward direction
     * @param b2      (GH,) of the backward direction
     * @throws IllegalArgumentException if the shapes do not fit the cell or the two directions differ
     * @throws NullPointerException if cell is null (the message names it), or backend or a parameter is
     */
    public TimeBiRecurrent(Backend backend, Cell cell, Parameter Wx1, Parameter Wh1, Parameter b1, Parameter Wx2,
                           Parameter Wh2, Parameter b2) {
        this.backend = backend;
        this.cell = java.util.Objects.requireNonNull(cell,
                "TimeBiRecurrent: cell is null; expected Cell.LSTM or Cell.GRU");
        this.forwardLayer = cell.time(backend, Wx1, Wh1, b1, false);
        this.backwardLayer = cell.time(backend, Wx2, Wh2, b2, false);
        if (forwardLayer.inputSize() != backwardLayer.inputSize()
                || forwardLayer.hiddenSize() != backwardLayer.hiddenSize()) {
            forwardLayer.close();
            backwardLayer.close();
            throw new IllegalArgumentException("TimeBiRecurrent (" + cell.lower() + ") needs both directions of one "
                    + "shape, got " + Wx1 + ", " + Wh1 + " and " + Wx2 + ", " + Wh2);
        }
        this.D = forwardLayer.inputSize();
        this.H = forwardLayer.hiddenSize();
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("TimeBiRecurrent", Wx1, Wh1, b1, Wx2, Wh2, b2);
    }

    /**
     * The recurrent cell of both directions.
     *
     * @return Cell.LSTM (the book's TimeBiLSTM) or Cell.GRU
     */
    public Cell cell() {
        return cell;
    }

    /**
     * The input width.
     *
     * @return D
     */
    public int inputSize() {
        return D;
    }

    /**
     * The hidden size of one direction; forward returns 2H features.
     *
     * @return H
     */
    public int hiddenSize() {
        return H;
    }

    private void resize(int t, int n) {
        sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
        ws.reset();
        int m = Math.multiplyExact(t, n);
        int[] ids = new int[m];
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < n; i++) {
                ids[s * n + i] = (t - 1 - s) * n + i;
            }
        }
        rev = ws.ints(m);
        backend.copyIn(rev, ids);
        xsRev = ws.floats(t, n, D);
        xsRev2 = xsRev.view(m, D);
        hsB2 = ws.floats(m, H);
        out = ws.floats(t, n, 2 * H);
        out2 = out.view(m, 2 * H);
        dF = ws.floats(m, H);
        dF3 = dF.view(t, n, H);
        dB = ws.floats(m, H);
        dBr = ws.floats(m, H);
        dBr3 = dBr.view(t, n, H);
        dxB2 = ws.floats(m, D);
        dxs = ws.floats(t, n, D);
        dxs2 = dxs.view(m, D);
        sizedT = t;
        sizedN = n;
    }

    /**
     * hs (T, N, 2H) for xs (T, N, D): the forward direction's states in columns [0, H), the backward
     * direction's in [H, 2H).
     *
     * @param xs (T, N, D), T and N at least 1
     * @return hs (T, N, 2H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if xs is not (T, N, D), or lies in this layer's or its directions' buffers
     */
    public Tensor forward(Tensor xs) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing for a backward to follow until this forward returns
            if (xs.dtype() != DType.F32 || xs.rank() != 3 || xs.dim(2) != D || xs.dim(0) < 1 || xs.dim(1) < 1) {
                throw new IllegalArgumentException("TimeBiRecurrent.forward needs xs float32 (T >= 1, N >= 1, D=" + D
                        + "), got " + xs);
            }
            ws.refuseOwn("TimeBiRecurrent.forward", "xs", xs);
            // the reversal below reads xs after the forward direction ran: what it refuses (the Java heap on a native
            // backend), refused first
            Shapes.requireOperand(backend, "embeddingForward", "TimeBiRecurrent.forward", "xs", xs);
            if (holds(forwardLayer, xs) || holds(backwardLayer, xs)) {
                // the backward direction's outputs, say: its forward would overwrite xs after the forward direction
                // kept it for its backward
                throw new IllegalArgumentException("TimeBiRecurrent.forward: xs lies in the buffers of one of its "
                        + "directions' layers, which this forward overwrites while their backwards still read xs; pass "
                        + "a copy");
            }
            int t = xs.dim(0), n = xs.dim(1), m = Rows.of("TimeBiRecurrent.forward", t, n);
            if (t != sizedT || n != sizedN) {
                resize(t, n);
            }
            Tensor hsF = forwardLayer.forward(xs);
            backend.embeddingForward(xsRev2, xs2.matrix(xs, m, D), rev);                 // x reversed along T
            Tensor hsBr = backwardLayer.forward(xsRev);
            backend.embeddingForward(hsB2, hsBr2.matrix(hsBr, m, H), rev);               // back in the sequence's order
            backend.concatColumns(out2, hsF2.matrix(hsF, m, H), hsB2);
            forwardPrecision = forwardLayer.inferencePrecision() != Precision.F32
                    ? forwardLayer.inferencePrecision() : backwardLayer.inferencePrecision();
            calls.keep("xs", xs);
            calls.forwardReturned();
            return out;
        } finally {
            calls.exit();
        }
    }

    private static boolean holds(TimeRecurrent layer, Tensor t) {
        return switch (layer) {
            case TimeLSTM l -> l.holds(t);
            case TimeGRU g -> g.holds(t);
        };
    }

    /**
     * dxs (T, N, D) for dhs (T, N, 2H); both directions' parameter gradients accumulate.
     *
     * @param dhs (T, N, 2H), the shape of the last forward's output
     * @return dxs (T, N, D), the layer's buffer
     * @throws IllegalArgumentException if dhs is not the forward output's (T, N, 2H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, the weights were written
     *         since it, or it ran with BF16 inference weights
     */
    public Tensor backward(Tensor dhs) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
            if (forwardPrecision != Precision.F32) {
                // in this call's name and before the forward is used up, as TimeLSTM and TimeGRU refuse it
                throw new IllegalStateException("TimeBiRecurrent.backward after a forward with " + forwardPrecision
                        + " inference weights; training needs float32 forwards: setInferencePrecision(F32), then "
                        + "forward again");
            }
            int m = sizedT * sizedN;
            Shapes.requireGradient(backend, "splitColumns", "TimeBiRecurrent.backward", "dhs", dhs);
            if (!Shapes.is3(dhs, sizedT, sizedN, 2 * H)) {
                throw Shapes.gradientShape("TimeBiRecurrent.backward", "dhs", dhs, "the forward's output (T, N, 2H)",
                        sizedT, sizedN, 2 * H);
            }
            calls.backwardStarts();
            backend.splitColumns(dF, dB, dhs2.matrix(dhs, m, 2 * H));
            // into the backward layer's order
            backend.embeddingForward(dBr, dB, rev);
            Tensor dxF = forwardLayer.backward(dF3);
            backend.copy(dxs, dxF);
            Tensor dxBr = backwardLayer.backward(dBr3);
            backend.embeddingForward(dxB2, dxBr2.matrix(dxBr, m, D), rev);
            backend.addScaled(dxs2, dxB2, 1f);                                                 // dxs = dxF + dxB
            return dxs;
        } finally {
            calls.exit();
        }
    }

    /**
     * The direction that reads x[0] .. x[T-1] (the book's forward_lstm, or forward_gru).
     *
     * @return the forward layer, stateless
     */
    public TimeRecurrent forwardLayer() {
        return forwardLayer;
    }

    /**
     * The direction that reads x[T-1] .. x[0] (the book's backward_lstm, or backward_gru).
     *
     * @return the backward layer, stateless
     */
    public TimeRecurrent backwardLayer() {
        return backwardLayer;
    }

    /**
     * How both directions multiply by their Wh (see {@link TimeLSTM#setInferencePrecision}): BF16 for inference
     * only; a backward after a BF16 forward throws.
     *
     * @param precision F32 (the default) or BF16
     */
    public void setInferencePrecision(Precision precision) {
        java.util.Objects.requireNonNull(precision, "TimeBiRecurrent.setInferencePrecision: precision is null; expected "
                + "F32 or BF16");
        calls.enter("setInferencePrecision");   // one thread at a time: a second one inside is refused
        try {
            forwardLayer.setInferencePrecision(precision);
            backwardLayer.setInferencePrecision(precision);
        } finally {
            calls.exit();
        }
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        forwardLayer.close();
        backwardLayer.close();
        ws.close();
    }
}
