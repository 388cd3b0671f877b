// The book's TimeLSTM over a time-major sequence xs (T, N, D) -> hs (T, N, H), with the fast structure:
// one GEMM for x Wx (+ b) over all T*N rows before the loop, then per step one GEMM h_prev Wh (beta = 1)
// into that step's gate block and one fused lstmCellForward (over a packed Wh, the whole loop in one
// lstmSequenceForward; see below). Gates are sliced f, g, i, o as in the book.
//
// h0 sits in front of hs in one (T+1, N, H) buffer (same for c), so "h_prev of every step" is the contiguous
// slice [0, T) and the weight gradients after the loop are single GEMMs over all T*N rows.
// Stateful (truncated BPTT, decoders): the next forward starts from the last h, c (or from setState);
// the gradient never flows into a previous forward.
//
// Fed by an embedding (forward(embed, ids)) with fewer vocabulary rows V than tokens T*N, the input
// projection is folded into the embedding: A = (E Wx + b)[ids] projects V rows instead of T*N, and the
// backward scatters dA by id into S (V, 4H) and takes dWx = E^T S, db = sum of S's rows, dE = S Wx^T, so
// no (T*N, D) input or gradient is ever formed. Same maths; for the book's seq2seq (V = 13, T*N = 896,
// D = 16) it removes the step's least efficient GEMMs. Over a packed Wh the rows of A are gathered inside
// lstmSequenceForward(..., table, ids), each part of the CPU backend's split gathering its rows of a step just before
// their product adds into them (W4's encoder, T*N = 3712 rows of 4 KB: 0.86x the time of gathering all rows first,
// whose 15 MB went out to L3 and back; W1's 1.8 MB: the same time); otherwise all T*N rows before the loop. All of dA
// is scattered after the backward's loop: scattering each dA_t right after its cell backward was measured on W1 and
// did not pay (0.66 against 0.33-0.51 ms a step, from Java), and it would sum S's rows in another order. Gathering
// each step's rows from Java before its product did not pay either (W1's encoder forward 630-670 us either way).
// The table is kept while E, Wx and b keep their versions
// (FoldedInput), and also used with V >= T*N where E is small (V*D <= 4096: the date model's encoder and decoder
// steps, which over kept weights then only gather rows of it), by the forward's shape alone (FoldedInput.folds).
//
// The recurrent products use Wh packed once per pass (Backend.pack, F32: the same products up to the order of float
// additions): the forward packs Wh for its h_{t-1} Wh (kept, and packed again only when Wh.version() moved), the
// backward packs Wh^T for its dA_t Wh^T, so the backend does not re-pack the same weights at every step (OpenBLAS's
// sgemm does: a third of a 128 x 512 x 128 product). Every forward with a recurrent product multiplies by the kept
// pack (generation, a step a forward, packs once for all its steps), whatever forwards came before, so the same
// weights and input give the same bits at every call (KeptPack); the backward packs Wh^T where its pass pays
// (KeptPack.packs: two or more products on several rows, eight or more on one), else the plain gemm, step by step.
//
// Over a packed Wh each pass is one backend call, lstmSequenceForward / lstmSequenceBackward: bit for bit the loop
// of gemmPacked and the cell kernels, which the CPU backend runs as one job split by rows (each thread takes its rows
// through all T steps: no hand-off between steps). bench/c/lstm_seq_ab.c, W1's shapes against that loop: forward
// 0.98-1.02x, backward 0.90-0.92x on a quiet host, and 0.71-0.76x and 0.60x in a slow phase of the shared host,
// where every per-step barrier waits for the slower core. That backward leaves the gradient of h_0 to dh(), which
// multiplies dA_0 by the packed Wh^T on its first call after a backward: an encoder never reads it (its h_0 is no
// parameter), so its backward makes T - 1 products instead of T.
//
// The weight gradients after the loop, dWh += Hprev^T dA and dWx += x^T dA (Hprev: the T*N rows of h_0 .. h_{T-1},
// from h_1 on when h_0 was zero), are two gemm calls (TN, beta 1) over dA as the cell backward wrote it; the CPU
// backend runs them on its packed product's blocks, reading dA without a pack, where that beats sgemm
// (OpenBlasBackend.gemmTnPays).
//
// Inference weights (setInferencePrecision(BF16), opt-in): the per-step product h_prev Wh multiplies by a
// bfloat16 copy of Wh (backend.pack/gemmPacked, float32 accumulation), packed by the first forward that needs it
// and again whenever Wh.version() moved since (an optimizer step, a load): never stale. Backward after such a
// forward throws: gradients always come from float32 forwards. F32, the default, is the path above.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

/**
 * The book's TimeLSTM over a time-major sequence xs (T, N, D) to hs (T, N, H): one GEMM x Wx + b over all T*N
 * rows, then per step one GEMM h_prev Wh and one fused {@code lstmCellForward}; gates sliced f, g, i, o. Stateful
 * layers (truncated BPTT, decoders) start each forward from the last h, c.
 */
public final class TimeLSTM implements TimeRecurrent {
    private final Backend backend;
    private final Parameter Wx;   // (D, 4H)
    private final Parameter Wh;   // (H, 4H)
    private final Parameter b;    // (4H,)
    private final int D, H;
    private final boolean stateful;
    private final Workspace ws;
    private final Workspace stateWs;
    private final ViewCache dhsSteps = new ViewCache();  // the caller's dhs as its step views
    private final ViewCache dhsSeq = new ViewCache();    // the caller's dhs as (T, N, H), for lstmSequenceBackward
    private final KeptPack whPacked;    // Wh (H, 4H) F32, packed by a forward that uses it when Wh changed since
    private final Workspace packWs;     // whTPacked, allocated at the first backward that packs
    private PackedMatrix whTPacked;     // Wh^T (4H, H), packed by each backward that uses it

    // carried state (stateful only), sized (N, H) independently of T. After a forward it stays where the forward
    // left it, hT[T] and cT[T] (inLastStep): the next forward of the same size copies it from there into hT[0],
    // cT[0] directly; only a resize or a new workspace needs it in hState, cState first (keepState)
    private Tensor hState, cState;
    private boolean hasH, hasC;
    private boolean inLastStep;
    private int stateN = -1;

    // workspace for one (T, N)
    private int sizedT = -1, sizedN = -1;
    private Tensor gates, gates2;       // (T, N, 4H) pre-activations in, activated gates out; (T*N, 4H) view
    private Tensor hAll, cAll;          // (T+1, N, H): [h0; h1 .. hT], [c0; c1 .. cT]
    private boolean h0Zero, c0Zero;     // whether hT[0], cT[0] still hold the zeros of an earlier forward
    private Tensor hs;                  // (T, N, H) = hAll[1 .. T], what forward returns
    private Tensor dA, dA2;             // (T, N, 4H) gate-pre-activation gradients of every step; (T*N, 4H)
    private Tensor hFrom1, dAFrom1;     // hAll[1 .. T), dA[1 .. T): dWh's rows after a zero h_0 (null for T = 1)
    private Tensor work;                // (3, N, H) = [dhCarry; dcPing; dcPong], lstmSequenceBackward's scratch
    private Tensor dhCarry;             // (N, H) the dh flowing back from step t+1 (dA_{t+1} Wh^T)
    private Tensor dxs;                 // (T, N, D)
    private Tensor dh0;                 // (N, H) gradient w.r.t. h0
    private boolean dh0Pending;         // dh0 not yet computed: dA[0] Wh^T over whTPacked, on the first dh()
    private Tensor dcPing, dcPong;      // (N, H) two buffers: lstmCellBackward's dcPrev must not be dcNext
    private Tensor dcZero;              // (N, H) zeros, filled once per size: the last step's dcNext without dcLast
    private Tensor dcIn;                // (N, H) the caller's dcLast, copied (it may be one of our buffers)
    private Tensor dcOut;               // (N, H) lstmSequenceBackward's gradient w.r.t. c0
    private Tensor dc0;                 // whichever buffer holds the gradient w.r.t. c0 after backward
    private Tensor[] gatesT, hT, cT, dAT;   // per-step views, made once per size
    private Tensor x;                   // (T, N, D) the last forward's input (the caller's); null when folded
    private final CallOrder calls;   // forward, then one backward over unchanged weights
    private final RecurrentChecks checks = new RecurrentChecks(Cell.LSTM);   // its argument checks

    // the folded input projection (forward(embed, ids) where FoldedInput.folds: the table of E Wx + b)
    private final FoldedInput folded;   // the table (V, 4H) E Wx + b (kept while E, Wx, b are unchanged); its backward
    private TimeEmbedding foldedEmbed;  // the last forward's embedding when folded, else null
    private final UnfoldedEmbedding unfolded = new UnfoldedEmbedding("TimeLSTM");   // forward(embed, ids) not folded
    private Tensor foldedIds;           // its ids (T, N)

    // inference weights (setInferencePrecision): the packed copy of Wh and the Wh.version() it was packed at
    private final InferenceWeights inference;   // Wh (H, 4H) in the inference precision
    private PackedMatrix.Precision forwardPacked;   // the inference copy's precision if the last forward used it,
                                                    // else null: no backward after one that did

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend  runs the kernels; the parameters must live on its device
     * @param Wx       (D, 4H)
     * @param Wh       (H, 4H)
     * @param b        (4H,)
     * @param stateful whether each forward starts from the last one's final h, c (else from zeros)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public TimeLSTM(Backend backend, Parameter Wx, Parameter Wh, Parameter b, boolean stateful) {
        Shapes.arguments("TimeLSTM", backend, "Wx Wh b", Wx, Wh, b);
        checks.weights(Wx, Wh, b);
        this.H = Wh.dim(0);
        this.D = Wx.dim(0);
        this.backend = backend;
        this.Wx = Wx;
        this.Wh = Wh;
        this.b = b;
        this.stateful = stateful;
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.stateWs = new Workspace(backend, getClass().getSimpleName());
        this.calls = new CallOrder("TimeLSTM", Wx, Wh, b);
        this.folded = new FoldedInput(backend, Wx, b);
        this.packWs = new Workspace(backend, getClass().getSimpleName());
        KeptPack.Block whBlock = new KeptPack.Block(Wh.value(), 4 * H, 4 * H);
        this.whPacked = new KeptPack(backend, Wh, H, PackedMatrix.Precision.F32, whBlock);
        this.inference = new InferenceWeights(backend, Wh, H, whBlock);
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
     * The hidden width.
     *
     * @return H
     */
    public int hiddenSize() {
        return H;
    }

    /**
     * Whether each forward starts from the last one's final state.
     *
     * @return true if stateful
     */
    public boolean isStateful() {
        return stateful;
    }

    /**
     * How forward multiplies by Wh. {@link PackedMatrix.Precision#F32} (the default): by Wh itself, the path
     * training uses. {@link PackedMatrix.Precision#BF16}: by a copy of Wh rounded to bfloat16 with float32
     * accumulation (half the bytes that a step with few rows N reads; a relative error of up to 2^-9 per weight),
     * for inference only. The copy is taken by the first forward after this call and taken again by the first
     * forward after Wh changed (its {@link Parameter#version()} moved: an optimizer step, copyIn, a checkpoint
     * load), so a forward never multiplies by stale weights; a backward after a BF16 forward throws
     * IllegalStateException. Setting F32 releases the copy.
     *
     * @param precision F32 or BF16
     */
    public void setInferencePrecision(PackedMatrix.Precision precision) {
        calls.enter("setInferencePrecision");   // one thread at a time: a second one inside is refused
        try {
            inference.setPrecision("TimeLSTM.setInferencePrecision", precision);
        } finally {
            calls.exit();
        }
    }

    /**
     * How forward multiplies by Wh (see setInferencePrecision).
     *
     * @return F32 (the default) or BF16
     */
    public PackedMatrix.Precision inferencePrecision() {
        return inference.precision();
    }

    /** Wh packed in the inference precision, packed again if Wh changed since; null for the plain F32 path. */
    private PackedMatrix packedWh() {
        PackedMatrix[] p = inference.current();
        return p == null ? null : p[0];
    }

    private void resize(int t, int n) {
        sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
        ws.reset();
        gates = ws.floats(t, n, 4 * H);
        gates2 = gates.view(t * n, 4 * H);
        hAll = ws.floats(t + 1, n, H);
        cAll = ws.floats(t + 1, n, H);
        hs = hAll.slice(1, t + 1);
        dA = ws.floats(t, n, 4 * H);
        dA2 = dA.view(t * n, 4 * H);
        hFrom1 = t > 1 ? hAll.slice(1, t) : null;
        dAFrom1 = t > 1 ? dA.slice(1, t) : null;
        work = ws.floats(3, n, H);
        dhCarry = work.get(0);
        dcPing = work.get(1);
        dcPong = work.get(2);
        dxs = ws.floats(t, n, D);
        dh0 = ws.floats(n, H);
        dcZero = ws.floats(n, H);
        dcIn = ws.floats(n, H);
        dcOut = ws.floats(n, H);
        backend.fill(dcZero, 0f);   // once per size; only ever read
        gatesT = new Tensor[t];
        dAT = new Tensor[t];
        hT = new Tensor[t + 1];
        cT = new Tensor[t + 1];
        for (int s = 0; s < t; s++) {
            gatesT[s] = gates.get(s);
            dAT[s] = dA.get(s);
        }
        for (int s = 0; s <= t; s++) {
            hT[s] = hAll.get(s);
            cT[s] = cAll.get(s);
        }
        sizedT = t;
        sizedN = n;
        h0Zero = false;
        c0Zero = false;
    }

    private void sizeState(int n) {
        if (n != stateN) {
            stateN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            stateWs.reset();
            hState = stateWs.floats(n, H);
            cState = stateWs.floats(n, H);
            stateN = n;
        }
    }

    /**
     * hs (T, N, H) for xs (T, N, D).
     *
     * @param xs (T, N, D), T and N at least 1
     * @return hs (T, N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if xs does not fit
     * @throws IllegalStateException if a carried state has another batch size N
     */
    public Tensor forward(Tensor xs) {
        calls.enter("forward");   // one thread at a time: a second one inside is refused
        try {
            calls.forwardStarts();   // nothing to follow or read until this forward returns
            this.foldedEmbed = null;   // set again by a folded forward that returns
            unfolded.clear();          // noted again by an unfolded forward(embed, ids) that returns
            checks.input(D, ws, xs);
            int t = xs.dim(0), n = xs.dim(1);
            prepare(t, n);
            // A = x Wx + b for all steps at once: (T*N, D) (D, 4H)
            backend.gemm(Transpose.NO, Transpose.NO, t * n, 4 * H, D, 1f, xs, D, Wx.value(), 4 * H, 0f, gates, 4 * H);
            backend.addBias(gates2, b.value());
            this.x = xs;
            calls.keep("xs", xs);
            return recur(t, n, null, null, null);
        } finally {
            calls.exit();
        }
    }

    /**
     * hs (T, N, H) for token ids (T, N) looked up in {@code embed}: the same as forward(embed.forward(ids)) up to
     * the order of float additions, with the input projection folded into the embedding where the vocabulary has
     * fewer rows than there are tokens or E is small (a rule of the shapes alone: see FoldedInput). Pair it with
     * backward(embed, dhs).
     *
     * @param embed the embedding, whose vectors have width D
     * @param ids   (T, N) int32 in [0, V)
     * @return hs (T, N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if the shapes do not fit
     * @throws IndexOutOfBoundsException if an id is outside [0, V)
     */
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
            calls.keep("ids", ids);   // the backward's scatter into dE reads them
            Tensor out = recur(t, n, folded.table(E), ids, E);   // a bad id throws before anything below is set
            this.x = null;
            this.foldedEmbed = embed;
            this.foldedIds = ids;
            return out;
        } finally {
            calls.exit();
        }
    }

    /** Sizes the workspace for (T, N) and checks that a carried state fits. */
    private void prepare(int t, int n) {
        checks.steps(t, n, stateful && (hasH || hasC), stateN);
        if (t != sizedT || n != sizedN) {
            keepState();
            resize(t, n);
        }
    }

    /** Copies a carried state still in the last step's buffers into hState, cState (before they are reused). */
    private void keepState() {
        if (inLastStep) {
            backend.copy(hState, hT[sizedT]);
            backend.copy(cState, cT[sizedT]);
            inLastStep = false;
        }
    }

    /**
     * The recurrence: hs (T, N, H) from the pre-activations already in gates, or (table non-null) from rows ids of the
     * folded table, looked up into gates as the recurrence goes where Wh is packed, else all first. E is the
     * embedding's weights the table was made of (null without a table): the backward computes their gradient, so it
     * checks them too.
     */
    private Tensor recur(int t, int n, Tensor table, Tensor ids, Parameter E) {
        int g = 4 * H;
        // h0, c0: the carried state (from the last forward's final step, or from hState, cState), else zeros,
        // filled once per workspace (nothing else writes hT[0], cT[0])
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
        if (stateful && hasC) {
            backend.copy(cT[0], inLastStep ? cT[t] : cState);
            c0Zero = false;
        } else if (!c0Zero) {
            backend.fill(cT[0], 0f);
            c0Zero = true;
        }
        // inLastStep stays as it is until the recurrence has run: a call refused (a bad id) leaves the state in
        // hT[t], cT[t] untouched, and the next forward takes it from there

        // the BF16 inference copy if one was asked for, else Wh kept packed (whenever the pass has a product: never by
        // what ran before, KeptPack), else none
        PackedMatrix packed = packedWh();
        boolean inferenceCopy = packed != null;
        if (!inferenceCopy && (fromZero ? t - 1 : t) > 0) {
            packed = whPacked.current()[0];   // packed again only if Wh changed (inference: kept)
        }
        if (packed != null && table != null) {
            // the whole loop below in one call, over the packed Wh, each step's rows of the table gathered in it
            backend.lstmSequenceForward(hAll, cAll, gates, packed, fromZero, table, ids);
        } else if (packed != null) {
            backend.lstmSequenceForward(hAll, cAll, gates, packed, fromZero);
        } else {
            if (table != null) {
                backend.embeddingForward(gates2, table, ids);
            }
            for (int s = 0; s < t; s++) {
                // A_t += h_{t-1} Wh (nothing to add to the first step's from h_0 = 0), then the fused cell: gates
                // activated in place, c_t and h_t written
                if (s > 0 || !fromZero) {
                    backend.gemm(Transpose.NO, Transpose.NO, n, g, H, 1f, hT[s], H, Wh.value(), g, 1f, gatesT[s], g);
                }
                backend.lstmCellForward(hT[s + 1], cT[s + 1], gatesT[s], cT[s]);
            }
        }

        inLastStep = false;
        if (stateful) {
            sizeState(n);
            inLastStep = true;   // the state is hT[t], cT[t]; copied out only if the workspace is resized
            hasH = true;
            hasC = true;
        }
        calls.forwardReturned(E);
        this.forwardPacked = inferenceCopy ? inference.precision() : null;
        return hs;
    }

    /**
     * dxs (T, N, D) for dhs (T, N, H); Wx, Wh, b gradients accumulate. No gradient arrives at the last c.
     *
     * @param dhs (T, N, H), the shape of the forward's output
     * @return dxs (T, N, D), the layer's buffer
     * @throws IllegalArgumentException if dhs is not the forward output's (T, N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, the weights were written
     *         since it, or it took token ids
     */
    public Tensor backward(Tensor dhs) {
        return backward(dhs, null);
    }

    /**
     * dxs (T, N, D) for dhs (T, N, H) and dcLast (N, H), the gradient arriving at the last cell state (null
     * for none; a seq2seq whose decoder starts from the encoder's (h, c) passes the decoder's dc here).
     * Afterwards dh() and dc() hold the gradients w.r.t. the initial h0 and c0.
     *
     * @param dhs    (T, N, H), the shape of the forward's output
     * @param dcLast (N, H), or null
     * @return dxs (T, N, D), the layer's buffer
     * @throws IllegalArgumentException if dhs is not the forward output's (T, N, H) or dcLast not (N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, the weights were written
     *         since it, or it took token ids
     */
    public Tensor backward(Tensor dhs, Tensor dcLast) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            checks.noIds(foldedEmbed != null || unfolded.tookIds());
            return backwardUnfolded(dhs, null, dcLast);
        } finally {
            calls.exit();
        }
    }

    /**
     * backward(dhs, dcLast) for a dhs that is zero at every step but the last, where it is dhLast: an encoder whose
     * only outputs are its last h and c. The same gradients, without a (T, N, H) buffer of zeros.
     *
     * @param dhLast (N, H), the gradient w.r.t. the last hidden state h_T
     * @param dcLast (N, H), or null
     * @return dxs (T, N, D), the layer's buffer
     * @throws IllegalArgumentException if the shapes do not fit
     * @throws IllegalStateException if no forward returned, a backward of it already ran, the weights were written
     *         since it, or it took token ids
     */
    public Tensor backwardLast(Tensor dhLast, Tensor dcLast) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            if (foldedEmbed != null || unfolded.tookIds()) {   // folded or not: a rule of the shapes
                throw new IllegalStateException("TimeLSTM.backwardLast(dh, dc): the last forward took token ids "
                        + "through an embedding; use backwardLast(embed, dh)");
            }
            return backwardUnfolded(null, java.util.Objects.requireNonNull(dhLast, "dhLast"), dcLast);
        } finally {
            calls.exit();
        }
    }

    /** backward(dhs, dcLast) where dhs != null, else with dhs zero but for dhLast at the last step. */
    private Tensor backwardUnfolded(Tensor dhs, Tensor dhLast, Tensor dcLast) {
        backpropagateSteps(dhs, dhLast, dcLast);
        int t = sizedT, n = sizedN, g = 4 * H, m = t * n;
        // dWx += x^T dA, dWh += Hprev^T dA (accumulateWhGrad); db += sum of dA's rows, dxs = dA Wx^T
        backend.gemm(Transpose.YES, Transpose.NO, D, g, m, 1f, unfolded.input(backend, ws, x), D, dA, g, 1f, Wx.grad(),
                g);
        accumulateWhGrad(t, n);
        backend.sumRows(b.grad(), dA2, 1f);
        backend.gemm(Transpose.NO, Transpose.YES, m, D, g, 1f, dA, g, Wx.value(), g, 0f, dxs, D);
        calls.backwardReturned();
        return dxs;
    }

    /**
     * Backward of forward(embed, ids): the LSTM's and the embedding's gradients accumulate.
     *
     * @param embed the embedding the forward used
     * @param dhs   (T, N, H)
     * @throws IllegalArgumentException if embed is another embedding or dhs is not the forward output's (T, N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public void backward(TimeEmbedding embed, Tensor dhs) {
        backward(embed, dhs, null);
    }

    /**
     * As backward(embed, dhs), with a gradient dcLast (N, H) arriving at the last cell state (or null).
     *
     * @param embed  the embedding the forward used
     * @param dhs    (T, N, H)
     * @param dcLast (N, H), or null
     * @throws IllegalArgumentException if embed is another embedding, dhs is not the forward output's (T, N, H) or
     *         dcLast not (N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public void backward(TimeEmbedding embed, Tensor dhs, Tensor dcLast) {
        backwardThrough(embed, dhs, null, dcLast);
    }

    @Override
    public void backwardLast(TimeEmbedding embed, Tensor dhLast) {
        backwardThrough(embed, null, java.util.Objects.requireNonNull(dhLast, "dhLast"), null);
    }

    /** backward(embed, dhs, dcLast) where dhs != null, else with dhs zero but for dhLast at the last step. */
    private void backwardThrough(TimeEmbedding embed, Tensor dhs, Tensor dhLast, Tensor dcLast) {
        calls.enter("backward");   // one thread at a time: a second one inside is refused
        try {
            if (foldedEmbed == null) {
                // the embedding's backward runs after this layer's adds its gradients: whatever would refuse either is
                // refused before both (this layer's refusals first), so that a refused backward adds nothing
                calls.backwardAllowed();
                unfolded.backwardAllowed(embed, sizedT, sizedN);
                unfolded.backward(embed, backwardUnfolded(dhs, dhLast, dcLast));
                return;
            }
            checks.sameEmbedding(foldedEmbed, embed);
            backpropagateSteps(dhs, dhLast, dcLast);
            // dWh += Hprev^T dA as in backwardUnfolded (dWx comes from the folded backward below)
            accumulateWhGrad(sizedT, sizedN);
            folded.backward(embed.W(), foldedIds, dA2);   // dWx, db and dE through S (V, 4H), dA summed per id
            calls.backwardReturned();
        } finally {
            calls.exit();
        }
    }

    /**
     * dWh += Hprev^T dA, Hprev = hAll[0 .. T): the T*N rows of h_0 .. h_{T-1}. When the forward started from a zero
     * h_0, its N rows add nothing, and the product leaves them out (from step 1 on: one step's product fewer, 1/T of
     * it).
     */
    private void accumulateWhGrad(int t, int n) {
        int g = 4 * H;
        if (!h0Zero) {
            backend.gemm(Transpose.YES, Transpose.NO, H, g, t * n, 1f, hAll, H, dA, g, 1f, Wh.grad(), g);
        } else if (t > 1) {
            backend.gemm(Transpose.YES, Transpose.NO, H, g, (t - 1) * n, 1f, hFrom1, H, dAFrom1, g, 1f, Wh.grad(), g);
        }
    }

    /**
     * The loop of the backward pass: dA for every step, dh() and dc() for the initial state. The output gradients
     * are dhs (T, N, H), or, when dhs is null, dhLast (N, H) at the last step and zero at the others.
     */
    private void backpropagateSteps(Tensor dhs, Tensor dhLast, Tensor dcLast) {
        calls.backwardAllowed();   // not yet used up: a backward refused for its gradients leaves the forward
        checks.float32Forward(forwardPacked);
        int t = sizedT, n = sizedN, g = 4 * H;
        boolean packs = KeptPack.packs(t, n);
        String cell = packs ? "lstmSequenceBackward" : "lstmCellBackward";   // what reads dhs or dhLast
        checks.outputGradient(backend, cell, t, n, H, dhs, dhLast);
        if (dcLast != null) {
            Shapes.requireGradient(backend, "copy", "TimeLSTM.backward", "dcLast", dcLast);
            if (!Shapes.is2(dcLast, n, H)) {
                // copied below, which would take any shape of N*H values
                throw Shapes.gradientShape("TimeLSTM.backward", "dcLast", dcLast, "the last cell state (N, H)", n, H);
            }
        }
        // the output gradient in its last dc(), one of these (dhLast, or dhs of one step viewed as (1, N, H)): the cell
        // state's gradients are written into them while it is still read. dhs there took dcLast's values, copied over
        // it, with no word; dhLast was refused by a kernel after the backward had started
        Tensor dOut = dhs != null ? dhs : dhLast;
        String op = dhs != null ? "TimeLSTM.backward" : "TimeLSTM.backwardLast", name = dhs != null ? "dhs" : "dhLast";
        Workspace.refuseWritten(op, name, dOut, "dc", dcOut);
        Workspace.refuseWritten(op, name, dOut, "dc", dcPing);
        Workspace.refuseWritten(op, name, dOut, "dc", dcPong);
        calls.backwardStarts();   // dh() and dc() read what it writes: refused until this backward returns
        dh0Pending = false;
        if (packs) {
            if (whTPacked == null) {
                whTPacked = packWs.packed(g, H, PackedMatrix.Precision.F32);
            }
            backend.pack(whTPacked, Transpose.YES, Wh.value());
            // the loop below in one call over the packed Wh^T; dcLast copied (the caller's may be one of ours)
            if (dcLast != null) {
                backend.copy(dcIn, dcLast);
            }
            // dh0 is left to dh(): an encoder's is never read, and its product is one of the T
            backend.lstmSequenceBackward(dA, null, dcOut, work, gates, cAll,
                    dhs != null ? dhsSeq.seq(dhs, t, n, H) : null, dhLast, dcLast != null ? dcIn : null, whTPacked);
            dh0Pending = true;
            dc0 = dcOut;
            return;
        }
        // the caller's dhs as step views, only read (made once per tensor)
        Tensor[] dhsT = dhs != null ? dhsSteps.steps(dhs, t, n, H) : null;
        // the last step's dcNext: dcLast (copied: the caller's may be one of ours) or the zeros of dcZero. Copied into
        // whichever of dcPing and dcPong it does not lie in: the last backward's dc() is one of them, and a copy onto
        // itself was refused by the copy, after the backward had started (the forward used up, no word of dcLast)
        Tensor dcNext = dcZero;
        if (dcLast != null) {
            dcNext = dcLast.overlaps(dcPing) ? dcPong : dcPing;
            backend.copy(dcNext, dcLast);
        }
        for (int s = t - 1; s >= 0; s--) {
            Tensor dcPrev = dcNext == dcPing ? dcPong : dcPing;
            // the hidden state's gradient is dhs_t + the dh carried from step s+1 (none at the last step),
            // summed in the kernel: no copy of dhs to accumulate into. Without dhs (backwardLast) the output
            // gradient is dhLast at the last step and 0 before it, where dh is the carried one alone (0 + x = x)
            if (s == t - 1) {
                backend.lstmCellBackward(dAT[s], dcPrev, gatesT[s], cT[s + 1], cT[s], dhsT != null ? dhsT[s] : dhLast,
                        dcNext);
            } else if (dhsT == null) {
                backend.lstmCellBackward(dAT[s], dcPrev, gatesT[s], cT[s + 1], cT[s], dhCarry, dcNext);
            } else {
                backend.lstmCellBackward(dAT[s], dcPrev, gatesT[s], cT[s + 1], cT[s], dhsT[s], dhCarry, dcNext);
            }
            // dh_prev = dA_t Wh^T: carried into step s-1, or out as dh for h0
            Tensor dhPrev = s > 0 ? dhCarry : dh0;
            backend.gemm(Transpose.NO, Transpose.YES, n, H, g, 1f, dAT[s], g, Wh.value(), g, 0f, dhPrev, H);
            dcNext = dcPrev;
        }
        dc0 = dcNext;
    }

    /**
     * The state to start the next forward from (stateful only). c == null starts from c = 0, as in the book.
     *
     * @param h (N, H), copied
     * @param c (N, H), copied, or null
     * @throws IllegalStateException if the layer is not stateful, or h or c lives in a closed arena
     * @throws IllegalArgumentException if the shapes do not fit or h or c is not float32
     * @throws NullPointerException if h is null
     */
    public void setState(Tensor h, Tensor c) {
        calls.enter("setState");   // one thread at a time: a second one inside is refused
        try {
            checks.stateful(stateful);
            Shapes.requireState(backend, "TimeLSTM.setState", "h", h);   // before the carried state is dropped below
            if (c != null) {
                Shapes.requireState(backend, "TimeLSTM.setState", "c", c);
            }
            if (h.rank() != 2 || h.dim(0) < 1 || h.dim(1) != H || (c != null && (c.rank() != 2
                    || c.dim(0) != h.dim(0) || c.dim(1) != H))) {
                // N = 0 too: no forward takes it (they need N >= 1), and each would then be refused for its N
                throw new IllegalArgumentException("TimeLSTM.setState needs h (N >= 1, H=" + H
                        + ") and c (N, H) or null, got h "
                        + h + ", c " + c);
            }
            // the old state goes first: a call that throws below (allocating for another N) leaves none, not one in the
            // closed buffers of the old N
            resetState();
            sizeState(h.dim(0));
            backend.copy(hState, h);
            hasH = true;
            if (c != null) {
                backend.copy(cState, c);
            }
            hasC = c != null;
        } finally {
            calls.exit();
        }
    }

    /**
     * setState(h, null): start the next forward from h and c = 0.
     *
     * @param h (N, H), copied
     * @throws IllegalStateException if the layer is not stateful, or h lives in a closed arena
     * @throws IllegalArgumentException if h is not (N, H) float32
     * @throws NullPointerException if h is null
     */
    public void setState(Tensor h) {
        setState(h, null);
    }

    /** Forgets the carried state: the next forward starts from h = c = 0. */
    public void resetState() {
        calls.enter("resetState");   // one thread at a time: a second one inside is refused
        try {
            hasH = false;
            hasC = false;
            inLastStep = false;
        } finally {
            calls.exit();
        }
    }

    /**
     * The last forward's final hidden state, a view into this layer's buffer: read it, don't write it (in a stateful
     * layer it is also where the next forward starts from; change that with {@link #setState}).
     *
     * @return h_T (N, H)
     * @throws IllegalStateException if no forward returned
     */
    public Tensor h() {
        calls.requireForward("h");
        return hT[sizedT];
    }

    /**
     * The last forward's final cell state, a view into this layer's buffer, read-only like {@link #h()}.
     *
     * @return c_T (N, H)
     * @throws IllegalStateException if no forward returned
     */
    public Tensor c() {
        calls.requireForward("c");
        return cT[sizedT];
    }

    /**
     * The hidden states of the last forward.
     *
     * @return hs (T, N, H)
     * @throws IllegalStateException if no forward returned
     */
    public Tensor hs() {
        calls.requireForward("hs");
        return hs;
    }

    /**
     * Gradient w.r.t. the initial h0, after backward (the book's dh).
     *
     * @return dh (N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor dh() {
        calls.requireBackward("dh");
        if (dh0Pending) {
            // the product the sequence call left out, bit for bit (whTPacked holds Wh as the backward read it, even
            // if the optimizer has moved Wh since; dA is unchanged until the next forward)
            backend.gemmPacked(dh0, dAT[0], whTPacked, 0f);
            dh0Pending = false;
        }
        return dh0;
    }

    /**
     * Gradient w.r.t. the initial c0, after backward.
     *
     * @return dc (N, H)
     * @throws IllegalStateException if no backward of the last forward returned
     */
    public Tensor dc() {
        calls.requireBackward("dc");
        return dc0;
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
        inference.close();
        whPacked.close();
        packWs.close();
    }
}
