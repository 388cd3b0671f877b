// The book's appendix TimeGRU over a time-major sequence xs (T, N, D) -> hs (T, N, H). Gates sliced z, r, h
// (update, reset, candidate) in Wx (D, 3H), Wh (H, 3H), b (3H,), as in the book:
//   z = sigmoid(x Wxz + h Whz + bz),  r = sigmoid(x Wxr + h Whr + br),
//   hhat = tanh(x Wxh + (r * h) Whh + bh),  h_next = (1 - z) * h + z * hhat.
// The reset gate multiplies h BEFORE Whh (PyTorch's nn.GRU multiplies after: see README), so the candidate's
// GEMM can only run once r is known. Structure, as TimeLSTM's: one GEMM x Wx + b over all T*N rows before the
// loop; per step GEMM h Wh[:, :2H] (beta 1) into the z, r columns, gruGatesForward (z, r and r*h in one pass),
// GEMM (r*h) Whh (beta 1) into the candidate columns, gruCellForward (hhat and h_next in one pass).
// Backward per step: gruCellBackward (dA of z and hhat), GEMM drh = dA_h Whh^T, gruGatesBackward (dA of r,
// dh_prev += dh (1 - z) + drh r), GEMM dh_prev += dA[:, :2H] Wh[:, :2H]^T; after the loop one GEMM each for
// dWx, dWh[:, :2H] (over h_prev of every step), dWhh (over r*h of every step), and db.
//
// h0 sits in front of hs in one (T+1, N, H) buffer, so h_prev of every step is the contiguous slice [0, T).
// Fed by an embedding with fewer rows V than tokens T*N (or a small one, FoldedInput.folds), the input
// projection is folded into the embedding exactly as in TimeLSTM (see there). Stateful (truncated BPTT, decoders):
// the next forward starts from the last h.
//
// Packed weights, as in TimeLSTM (same rule): a forward with a recurrent product packs Wh[:, :2H] (H, 2H) and
// Whh (H, H) once (F32, straight from Wh's column blocks with row stride 3H; kept until Wh.version() moves), a
// backward packs their transposes (2H, H) and (H, H); every recurrent product is then a strided gemmPacked into (or
// out of) the gate columns of the step (ldc or lda 3H): the same products up to the order of float additions.
// Over packed blocks the forward's recurrence is one gruSequenceForward call (as TimeLSTM's lstmSequenceForward).
// Inference weights (setInferencePrecision(BF16), opt-in): the same two blocks packed as bfloat16, again whenever
// Wh.version() moved, multiplied the same way. The weight gradients (dWx, dWh[:, :2H], dWhh) are gemm calls over
// dA's gate columns as stored (as TimeLSTM's dWh, dWx: see there).
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

/**
 * The book's appendix TimeGRU over a time-major sequence xs (T, N, D) to hs (T, N, H): one GEMM x Wx + b over all
 * T*N rows, then per step the products h_prev Wh[:, :2H] and (r h_prev) Whh (by Wh's blocks, kept packed while
 * Wh is unchanged) and two fused kernels
 * ({@code gruGatesForward}, {@code gruCellForward}); gates sliced z, r, hhat. The reset gate multiplies h_prev
 * before Whh, as in the book. Stateful layers (truncated BPTT, decoders) start each forward from the last h.
 */
public final class TimeGRU implements TimeRecurrent {
    private final Backend backend;
    private final Parameter Wx;   // (D, 3H)
    private final Parameter Wh;   // (H, 3H)
    private final Parameter b;    // (3H,)
    private final Tensor Whh, dWhh;   // Wh[:, 2H:] and its gradient, as flat views read with row stride 3H
    private final int D, H;
    private final boolean stateful;
    private final Workspace ws;
    private final Workspace stateWs;
    private final KeptPack whPacked;    // Wh[:, :2H] (H, 2H) and Whh (H, H), F32: packed when Wh changed
    private final Workspace packWs;     // the transposes below, allocated at the first backward that packs
    private PackedMatrix zrTPacked, hhTPacked;   // their transposes (2H, H) and (H, H), packed by backwards that pay

    // carried state (stateful only), (N, H)
    // (as in TimeLSTM: after a forward the state stays in hT[T] (inLastStep) until a resize needs it in hState)
    private Tensor hState;
    private boolean hasH;
    private boolean inLastStep;
    private int stateN = -1;

    // workspace for one (T, N)
    private int sizedT = -1, sizedN = -1;
    private Tensor gates, gates2;       // (T, N, 3H) pre-activations in, [z | r | hhat] out; (T*N, 3H) view
    private Tensor hAll;                // (T+1, N, H): [h0; h1 .. hT]
    private boolean h0Zero;             // whether hT[0] still holds the zeros of an earlier forward
    private Tensor hs;                  // (T, N, H) = hAll[1 .. T]
    private Tensor rhAll;               // (T, N, H) r * h_prev of every step, the left factor of (r h) Whh
    private Tensor dA, dA2, dAh;        // (T, N, 3H); (T*N, 3H); its candidate columns as a flat view, stride 3H
    private Tensor hFrom1, rhFrom1, dAFrom1, dAhFrom1;  // the same from step 1 on (null for T = 1): after a zero h_0
    private Tensor dhsWork;             // (T, N, H) dhs + the dh flowing back from step t+1
    private Tensor dhsHead;             // (T-1, N, H) = dhsWork[0 .. T-1), null for T = 1
    private Tensor drh;                 // (N, H) gradient w.r.t. r * h_prev of the current step
    private Tensor dxs;                 // (T, N, D)
    private Tensor dh0;                 // (N, H) gradient w.r.t. h0
    private Tensor[] gatesT, gatesHT, hT, rhT, dAT, dAHT, dhsT;   // per-step views, made once per size
    private Tensor x;                   // (T, N, D) the last forward's input; null when folded
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private final RecurrentChecks checks = new RecurrentChecks(Cell.GRU);   // its argument checks

    // the folded input projection (forward(embed, ids) where FoldedInput.folds: the table of E Wx + b)
    private final FoldedInput folded;   // the table (V, 3H) E Wx + b (kept while E, Wx, b are unchanged); its backward
    private TimeEmbedding foldedEmbed;
    private final UnfoldedEmbedding unfolded = new UnfoldedEmbedding("TimeGRU");   // forward(embed, ids) not folded
    private Tensor foldedIds;           // (T, N)

    // inference weights (setInferencePrecision): Wh[:, :2H] (H, 2H) and Whh (H, H) in the inference precision
    private final InferenceWeights inference;
    private PackedMatrix.Precision forwardPacked;   // the inference copy's precision if the last forward used it,
                                                    // else null: no backward after one that did

    /**
     * A GRU layer on the given weights (the caller's parameters, shared, not copied).
     *
     * @param backend  runs the kernels; the parameters must live on its device
     * @param Wx       (D, 3H), gate columns z, r, hhat
     * @param Wh       (H, 3H)
     * @param b        (3H,)
     * @param stateful whether each forward starts from the last one's final h (else from zeros)
     * @throws IllegalArgumentException unless Wx is (D, 3H), Wh (H, 3H) and b (3H,) with one H
     */
    public TimeGRU(Backend backend, Parameter Wx, Parameter Wh, Parameter b, boolean stateful) {
        Shapes.arguments("TimeGRU", backend, "Wx Wh b", Wx, Wh, b);
        checks.weights(Wx, Wh, b);
        this.H = Wh.dim(0);
        this.D = Wx.dim(0);
        this.backend = backend;
        this.Wx = Wx;
        this.Wh = Wh;
        this.b = b;
        this.Whh = candidateColumns("TimeGRU", "Wh", Wh.value(), H);
        this.dWhh = candidateColumns("TimeGRU", "Wh's gradient", Wh.grad(), H);
        this.stateful = stateful;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.stateWs = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("TimeGRU", Wx, Wh, b);
        this.folded = new FoldedInput(backend, Wx, b);
        this.packWs = new Workspace(backend, getClass().getSimpleName());
        // Wh's column blocks, row stride 3H
        KeptPack.Block[] blocks = {new KeptPack.Block(Wh.value(), 2 * H, 3 * H), new KeptPack.Block(Whh, H, 3 * H)};
        this.whPacked = new KeptPack(backend, Wh, H, PackedMatrix.Precision.F32, blocks);
        this.inference = new InferenceWeights(backend, Wh, H, blocks);
    }

    /**
     * Columns [2H, 3H) of a (rows, 3H) matrix as a flat view from element 2H, to be read with row stride 3H. A flat
     * view holds at most 2^31 - 1 elements: past that, refused by name (op, name), where the count was cast to int and
     * wrapped: flatSlice refused a negative count in its own words ("-1073774592 elements from element 65536"), and a
     * count that wrapped to a positive one gave a short view, which the layer was built on without a word.
     */
    static Tensor candidateColumns(String op, String name, Tensor m, int h) {
        long size = m.size();
        long count = Math.max(0, size - 2L * h);
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + name + " " + Tensor.shapeString(m.shape()) + " spans "
                    + count + " elements from its candidate columns [2H, 3H) (H = " + h + ") to its end, more than the "
                    + Integer.MAX_VALUE + " one view holds; use a smaller hidden size or batch");
        }
        return m.flatSlice(Math.min(2L * h, size), (int) count);
    }

    @Override
    public int inputSize() {
        return D;
    }

    @Override
    public int hiddenSize() {
        return H;
    }

    @Override
    public boolean isStateful() {
        return stateful;
    }

    /**
     * How forward multiplies by Wh. F32 (the default): by Wh itself (its blocks kept packed while it is unchanged),
     * the path training uses. BF16: by a copy of Wh rounded to bfloat16 with float32 accumulation, for inference
     * only. As in {@link TimeLSTM#setInferencePrecision}: the copy is taken by the first forward that needs it and
     * again by the first forward after Wh's {@link Parameter#version()} moved, so it is never stale; a backward
     * after a BF16 forward throws IllegalStateException; F32 releases the copy.
     *
     * @param precision F32 or BF16
     */
    @Override
    public void setInferencePrecision(PackedMatrix.Precision precision) {
        calls.enter("setInferencePrecision");   // one thread at a time: a second one inside is refused
        try {
            inference.setPrecision("TimeGRU.setInferencePrecision", precision);
        } finally {
            calls.exit();
        }
    }

    @Override
    public PackedMatrix.Precision inferencePrecision() {
        return inference.precision();
    }

    private void resize(int t, int n) {
        sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
        ws.reset();
        int g = 3 * H;
        gates = ws.floats(t, n, g);
        gates2 = gates.view(t * n, g);
        hAll = ws.floats(t + 1, n, H);
        hs = hAll.slice(1, t + 1);
        rhAll = ws.floats(t, n, H);
        dA = ws.floats(t, n, g);
        dA2 = dA.view(t * n, g);
        dAh = candidateColumns("TimeGRU.forward", "dA (T, N, 3H)", dA, H);
        hFrom1 = t > 1 ? hAll.slice(1, t) : null;
        rhFrom1 = t > 1 ? rhAll.slice(1, t) : null;
        dAFrom1 = t > 1 ? dA.slice(1, t) : null;
        dAhFrom1 = t > 1 ? candidateColumns("TimeGRU.forward", "dA[1:] (T - 1, N, 3H)", dAFrom1, H) : null;
        dhsWork = ws.floats(t, n, H);
        dhsHead = t > 1 ? dhsWork.slice(0, t - 1) : null;
        drh = ws.floats(n, H);
        dxs = ws.floats(t, n, D);
        dh0 = ws.floats(n, H);
        gatesT = new Tensor[t];
        gatesHT = new Tensor[t];
        rhT = new Tensor[t];
        dAT = new Tensor[t];
        dAHT = new Tensor[t];
        dhsT = new Tensor[t];
        hT = new Tensor[t + 1];
        for (int s = 0; s < t; s++) {
            gatesT[s] = gates.get(s);
            gatesHT[s] = candidateColumns("TimeGRU.forward", "a step's gates (N, 3H)", gatesT[s], H);
            rhT[s] = rhAll.get(s);
            dAT[s] = dA.get(s);
            dAHT[s] = candidateColumns("TimeGRU.forward", "a step's dA (N, 3H)", dAT[s], H);
            dhsT[s] = dhsWork.get(s);
        }
        for (int s = 0; s <= t; s++) {
            hT[s] = hAll.get(s);
        }
        sizedT = t;
        sizedN = n;
        h0Zero = false;
    }

    private void sizeState(int n) {
        if (n != stateN) {
            stateN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            stateWs.reset();
            hState = stateWs.floats(n, H);
            stateN = n;
        }
    }

    @Override
    public Tensor forward(Tensor xs) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing to follow or read until this forward returns
            this.foldedEmbed = null;   // set again by a folded forward that returns
            unfolded.clear();          // noted again by an unfolded forward(embed, ids) that returns
            checks.input(D, ws, xs);
            int t = xs.dim(0), n = xs.dim(1), g = 3 * H;
            prepare(t, n);
            // A = x Wx + b for all steps at once: (T*N, D) (D, 3H)
            backend.gemm(Transpose.NO, Transpose.NO, t * n, g, D, 1f, xs, D, Wx.value(), g, 0f, gates, g);
            backend.addBias(gates2, b.value());
            this.x = xs;
            calls.keep("xs", xs);
            return recur(t, n, null);
        } finally {
            calls.exit();
        }
    }

    @Override
    public Tensor forward(TimeEmbedding embed, Tensor ids) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing to follow or read until this forward returns
            this.foldedEmbed = null;   // set again by a folded forward that returns
            unfolded.clear();          // noted again by an unfolded forward(embed, ids) that returns
            Parameter E = checks.embedding(D, embed, ids);
            int t = ids.dim(0), n = ids.dim(1);
            if (!FoldedInput.folds(E, (long) t * n)) {
                return unfolded.forward(this, calls, embed, E, ids);   // forward(embed.forward(ids)), noted
            }
            prepare(t, n);
            backend.embeddingForward(gates2, folded.table(E), ids);
            this.x = null;
            this.foldedIds = ids;
            calls.keep("ids", ids);   // the backward's scatter into dE reads them
            Tensor out = recur(t, n, E);
            this.foldedEmbed = embed;
            return out;
        } finally {
            calls.exit();
        }
    }

    private void prepare(int t, int n) {
        checks.steps(t, n, stateful && hasH, stateN);
        if (t != sizedT || n != sizedN) {
            if (inLastStep) {   // the carried state, before its buffer is reused
                backend.copy(hState, hT[sizedT]);
                inLastStep = false;
            }
            resize(t, n);
        }
    }

    /**
     * The recurrence over the pre-activations already in gates: hs (T, N, H). E is the embedding's weights of a folded
     * forward (null otherwise): the backward computes their gradient, so it checks them too.
     */
    private Tensor recur(int t, int n, Parameter E) {
        int g = 3 * H;
        // h0: the carried state (the last forward's final step, or hState), else zeros filled once per workspace
        boolean fromZero = !(stateful && hasH);
        if (fromZero) {
            if (!h0Zero) {
                backend.fill(hT[0], 0f);
                h0Zero = true;
            }
        } else {
            backend.copy(hT[0], inLastStep ? hT[t] : hState);
            h0Zero = false;
        }
        // inLastStep stays as it is until the recurrence has run (as in TimeLSTM): a call that throws before it
        // leaves the state in hT[t], where the next forward takes it from
        // the BF16 inference blocks if asked for, else the F32 blocks kept packed (whenever the pass has a product:
        // never by what ran before, KeptPack), else none
        PackedMatrix[] copy = inference.current();
        boolean inferenceCopy = copy != null;
        PackedMatrix zr = inferenceCopy ? copy[0] : null, hh = inferenceCopy ? copy[1] : null;
        if (!inferenceCopy && (fromZero ? t - 1 : t) > 0) {
            PackedMatrix[] f32 = whPacked.current();   // packed again only if Wh changed
            zr = f32[0];
            hh = f32[1];
        }
        if (zr != null) {
            // the whole recurrence in one call over the packed blocks (the CPU backend runs each thread's rows through
            // every step: no hand-off a step), bit for bit the loop of gemmPacked and the two kernels
            backend.gruSequenceForward(hAll, gates, rhAll, zr, hh, fromZero);
        } else {
            for (int s = 0; s < t; s++) {
                // from h_0 = 0 the first step's h Wh and (r h) Whh are zero: both GEMMs are skipped
                boolean recurrent = s > 0 || !fromZero;
                if (recurrent) {   // gates[:, :2H] += h Wh[:, :2H], the z and r columns of the step (row stride 3H)
                    backend.gemm(Transpose.NO, Transpose.NO, n, 2 * H, H, 1f, hT[s], H, Wh.value(), g, 1f, gatesT[s], g);
                }
                backend.gruGatesForward(rhT[s], gatesT[s], hT[s]);
                if (recurrent) {   // gates[:, 2H:] += (r h) Whh, the candidate columns
                    backend.gemm(Transpose.NO, Transpose.NO, n, H, H, 1f, rhT[s], H, Whh, g, 1f, gatesHT[s], g);
                }
                backend.gruCellForward(hT[s + 1], gatesT[s], hT[s]);
            }
        }
        inLastStep = false;
        if (stateful) {
            sizeState(n);
            inLastStep = true;   // the state is hT[t]; copied out only if the workspace is resized
            hasH = true;
        }
        calls.forwardReturned(E);
        this.forwardPacked = inferenceCopy ? inference.precision() : null;
        return hs;
    }

    @Override
    public Tensor backward(Tensor dhs) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            checks.noIds(foldedEmbed != null || unfolded.tookIds());
            return backwardUnfolded(dhs, null);
        } finally {
            calls.exit();
        }
    }

    /** backward(dhs) where dhs != null, else with dhs zero but for dhLast at the last step. */
    private Tensor backwardUnfolded(Tensor dhs, Tensor dhLast) {
        backpropagateSteps(dhs, dhLast);
        int t = sizedT, n = sizedN, g = 3 * H, m = t * n;
        // dWx += x^T dA
        backend.gemm(Transpose.YES, Transpose.NO, D, g, m, 1f, unfolded.input(backend, ws, x), D, dA, g, 1f, Wx.grad(),
                g);
        recurrentWeightGradients(t, n);
        backend.sumRows(b.grad(), dA2, 1f);
        backend.gemm(Transpose.NO, Transpose.YES, m, D, g, 1f, dA, g, Wx.value(), g, 0f, dxs, D);
        calls.backwardReturned();
        return dxs;
    }

    @Override
    public void backward(TimeEmbedding embed, Tensor dhs) {
        backwardThrough(embed, dhs, null);
    }

    @Override
    public void backwardLast(TimeEmbedding embed, Tensor dhLast) {
        backwardThrough(embed, null, java.util.Objects.requireNonNull(dhLast, "dhLast"));
    }

    /** backward(embed, dhs) where dhs != null, else with dhs zero but for dhLast at the last step. */
    private void backwardThrough(TimeEmbedding embed, Tensor dhs, Tensor dhLast) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            if (foldedEmbed == null) {
                // as in TimeLSTM: what would refuse this layer's backward or the embedding's refuses both, before
                // either adds anything
                calls.backwardAllowed();
                unfolded.backwardAllowed(embed, sizedT, sizedN);
                unfolded.backward(embed, backwardUnfolded(dhs, dhLast));
                return;
            }
            checks.sameEmbedding(foldedEmbed, embed);
            backpropagateSteps(dhs, dhLast);
            recurrentWeightGradients(sizedT, sizedN);
            folded.backward(embed.W(), foldedIds, dA2);   // dWx, db and dE through S (V, 3H), dA summed per id
            calls.backwardReturned();
        } finally {
            calls.exit();
        }
    }

    /**
     * dWh[:, :2H] += Hprev^T dA[:, :2H] (Hprev = hAll[0 .. T)), dWhh += RH^T dA[:, 2H:], over all m = T*N rows; from
     * step 1 on when the forward started from a zero h_0, whose rows (and r h_0's) add nothing. Two products, not one
     * over dA's 3H columns: dWh's two blocks have different left factors (h_prev and r h_prev).
     */
    private void recurrentWeightGradients(int t, int n) {
        int g = 3 * H, m = t * n;
        if (!h0Zero) {
            backend.gemm(Transpose.YES, Transpose.NO, H, 2 * H, m, 1f, hAll, H, dA, g, 1f, Wh.grad(), g);
            backend.gemm(Transpose.YES, Transpose.NO, H, H, m, 1f, rhAll, H, dAh, g, 1f, dWhh, g);
        } else if (t > 1) {
            int rows = (t - 1) * n;
            backend.gemm(Transpose.YES, Transpose.NO, H, 2 * H, rows, 1f, hFrom1, H, dAFrom1, g, 1f, Wh.grad(), g);
            backend.gemm(Transpose.YES, Transpose.NO, H, H, rows, 1f, rhFrom1, H, dAhFrom1, g, 1f, dWhh, g);
        }
    }

    /**
     * The loop of the backward pass: dA for every step, dh() for the initial state. The output gradients are dhs
     * (T, N, H), or, when dhs is null, dhLast (N, H) at the last step and zero at the others.
     */
    private void backpropagateSteps(Tensor dhs, Tensor dhLast) {
        calls.backwardAllowed();   // not yet used up: a backward refused for its gradient leaves the forward
        checks.float32Forward(forwardPacked);
        int t = sizedT, n = sizedN, g = 3 * H;
        checks.outputGradient(backend, "copy", t, n, H, dhs, dhLast);   // copied below
        calls.backwardStarts();   // dh() reads what it writes: refused until this backward returns
        if (dhs != null) {
            backend.copy(dhsWork, dhs);
        } else {
            // the steps before the last start from 0 (each step's backward adds into the one before it)
            if (dhsHead != null) {
                backend.fill(dhsHead, 0f);
            }
            backend.copy(dhsT[t - 1], dhLast);
        }
        // Wh[:, :2H]^T (2H, H) and Whh^T (H, H) packed for this pass where that pays: t products each
        boolean packed = KeptPack.packs(t, n);
        if (packed) {
            if (zrTPacked == null) {   // set last: a failed second allocation leaves it null, and the next one retries
                PackedMatrix zrT = packWs.packed(2 * H, H, PackedMatrix.Precision.F32);
                hhTPacked = packWs.packed(H, H, PackedMatrix.Precision.F32);
                zrTPacked = zrT;
            }
            backend.pack(zrTPacked, Transpose.YES, Wh.value(), g);
            backend.pack(hhTPacked, Transpose.YES, Whh, g);
        }
        if (packed) {
            // the whole backward in one call over the packed blocks (dh0 zeroed there), bit for bit the loop below
            // over them
            backend.gruSequenceBackward(dA, dh0, dhsWork, drh, gates, hAll, zrTPacked, hhTPacked);
            return;
        }
        backend.fill(dh0, 0f);
        for (int s = t - 1; s >= 0; s--) {
            // dhsT[s] holds dhs_t + dh_next; dhPrev is step s-1's incoming gradient (already holding dhs_{t-1}),
            // or dh0; both kernels and the last GEMM add to it
            Tensor dhPrev = s > 0 ? dhsT[s - 1] : dh0;
            backend.gruCellBackward(dAT[s], gatesT[s], hT[s], dhsT[s]);
            // drh = dA[:, 2H:] Whh^T, then dhPrev += dA[:, :2H] Wh[:, :2H]^T (dA's columns read with row stride 3H)
            backend.gemm(Transpose.NO, Transpose.YES, n, H, H, 1f, dAHT[s], g, Whh, g, 0f, drh, H);
            backend.gruGatesBackward(dAT[s], dhPrev, gatesT[s], hT[s], dhsT[s], drh);
            backend.gemm(Transpose.NO, Transpose.YES, n, H, 2 * H, 1f, dAT[s], g, Wh.value(), g, 1f, dhPrev, H);
        }
    }

    @Override
    public void setState(Tensor h) {
        calls.enter("setState");   // one thread at a time: a second one inside is refused
        try {
            checks.stateful(stateful);
            Shapes.requireState(backend, "TimeGRU.setState", "h", h);   // before the carried state is dropped below
            if (h.rank() != 2 || h.dim(0) < 1 || h.dim(1) != H) {   // N = 0: no forward takes it
                throw new IllegalArgumentException("TimeGRU.setState needs h (N >= 1, H=" + H + "), got " + h);
            }
            // the old state goes first: a call that throws below (allocating for another N) leaves none, not one in the
            // closed buffers of the old N
            resetState();
            sizeState(h.dim(0));
            backend.copy(hState, h);
            hasH = true;
        } finally {
            calls.exit();
        }
    }

    @Override
    public void resetState() {
        calls.enter("resetState");   // one thread at a time: a second one inside is refused
        try {
            hasH = false;
            inLastStep = false;
        } finally {
            calls.exit();
        }
    }

    @Override
    public Tensor h() {
        calls.requireForward("h");
        return hT[sizedT];
    }

    @Override
    public Tensor hs() {
        calls.requireForward("hs");
        return hs;
    }

    @Override
    public Tensor dh() {
        calls.requireBackward("dh");
        return dh0;
    }

    /** Whether t lies in this layer's buffers (its outputs, gradients, carried state): TimeBiRecurrent's check. */
    boolean holds(Tensor t) {
        return ws.holds(t) || stateWs.holds(t);
    }

    @Override
    public void close() {
        calls.close();   // every later call is refused, naming this layer
        ws.close();
        stateWs.close();
        folded.close();
        packWs.close();
        whPacked.close();
        inference.close();
    }
}
