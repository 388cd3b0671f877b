// The book's PeekyDecoder (ch07): the encoder's h is shown to every step twice: the LSTM reads [h ; embedding]
// and the affine reads [h ; lstm output]. Parameters: <prefix>embed.W (V, D), <prefix>lstm.Wx (H+D, 4H),
// <prefix>lstm.Wh (H, 4H), <prefix>lstm.b (4H,), <prefix>affine.W (2H, V), <prefix>affine.b (V,).
//
// Repeating h over T is a zero fill plus addBias on the (T, N*H) view with h seen as a (N*H,) bias; its
// backward, the sum over T, is sumRows on the same view.
// With Cell.GRU (the book's appendix GRU) the recurrent layer is a TimeGRU and its parameters are
// <prefix>gru.Wx, <prefix>gru.Wh, <prefix>gru.b with 3H gate columns (z, r, h) instead of 4H.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.internal.Rows;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.layers.ViewCache;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

/**
 * The book's PeekyDecoder (ch07): the encoder's h is shown to every step twice: the LSTM reads
 * [h ; embedding] and the affine reads [h ; lstm output]. Parameters: embed.W (V, D), lstm.Wx (H+D, 4H),
 * lstm.Wh (H, 4H), lstm.b (4H,), affine.W (2H, V), affine.b (V,), under a prefix.
 */
public final class PeekyDecoder implements SequenceDecoder {
    private final Backend backend;
    private final TimeEmbedding embed;
    private final TimeRecurrent lstm;
    private final TimeAffine affine;
    private final int D, H;
    private final int HD, H2;   // H + D and 2H, the widths of the two concatenations, checked once
    private final Workspace ws;
    private final Workspace genWs;
    private final BeamState beamState;
    private final ViewCache hVec = new ViewCache();       // h (N, H) as (N*H,)
    private final ViewCache embedOut = new ViewCache();   // (T, N, D) as (T*N, D)
    private final ViewCache lstmOut = new ViewCache();    // (T, N, H) as (T*N, H)
    private final ViewCache affineDx = new ViewCache();   // (T, N, 2H) as (T*N, 2H)
    private final ViewCache lstmDx = new ViewCache();     // (T, N, H+D) as (T*N, H+D)

    private int sizedT = -1, sizedN = -1;
    private Tensor hsRep, hsRep2, hsRepTN;   // (T, N, H) h repeated; (T*N, H); (T, N*H)
    private Tensor lstmIn, lstmIn2;          // (T, N, H+D) = [h ; embedding]; (T*N, H+D)
    private Tensor affineIn, affineIn2;      // (T, N, 2H) = [h ; lstm out]; (T*N, 2H)
    private Tensor dhs0, dhs0TN;             // (T*N, H) gradient of the affine's copy of h; (T, N*H)
    private Tensor dlstm, dlstm3;            // (T*N, H) gradient of the lstm output; (T, N, H)
    private Tensor dhs1;                     // (T*N, H) gradient of the lstm's copy of h
    private Tensor dembed, dembed3;          // (T*N, D); (T, N, D)
    private Tensor dh, dhVec;                // (N, H); (N*H,)

    /**
     * Declares this part's parameters under {@code prefix}, initialised as in the book.
     *
     * @param b      the store's builder
     * @param prefix the names' prefix, e.g. {@code "decoder."}
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size
     */
    public static void declare(ParameterStore.Builder b, String prefix, int V, int D, int H) {
        declare(b, prefix, Cell.LSTM, V, D, H);
    }

    /**
     * Declares this part's parameters under {@code prefix} with the given cell, initialised as in the book: the
     * recurrent weights as {@code prefix + "lstm.*"} (4H columns) or {@code prefix + "gru.*"} (3H columns).
     *
     * @param b      the store's builder
     * @param prefix the names' prefix, e.g. {@code "decoder."}
     * @param cell   the recurrent cell
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size
     * @throws NullPointerException if b, prefix or cell is null
     */
    public static void declare(ParameterStore.Builder b, String prefix, Cell cell, int V, int D, int H) {
        Inputs.declaring("PeekyDecoder.declare", b, prefix, cell);
        String rnn = prefix + cell.lower();
        int g = cell.columns(H);
        int in = Inputs.concatColumns("PeekyDecoder's " + rnn + ".Wx", "H", H, "D", D);       // [h ; embedding]
        int cat = Inputs.concatColumns("PeekyDecoder's " + prefix + "affine.W", "H", H, "H", H);   // [h ; lstm out]
        b.declare(prefix + "embed.W", Init.normal(0.01), V, D)
                .declare(rnn + ".Wx", Init.scaledNormal(in), in, g)
                .declare(rnn + ".Wh", Init.scaledNormal(H), H, g)
                .declare(rnn + ".b", Init.zeros(), g)
                .declare(prefix + "affine.W", Init.scaledNormal(cat), cat, V)
                .declare(prefix + "affine.b", Init.zeros(), V);
    }

    /**
     * A part over parameters already declared (with {@code declare}) and built.
     *
     * @param backend runs the kernels
     * @param store   holds the parameters
     * @param prefix  the prefix they were declared under
     * @throws IllegalArgumentException if a parameter is missing or its shape is not the one declare gives it (the
     *         store of another model's part)
     */
    public PeekyDecoder(Backend backend, ParameterStore store, String prefix) {
        this(backend, store, prefix, Cell.LSTM);
    }

    /**
     * A part with the given cell, over parameters already declared (with {@code declare(b, prefix, cell, V, D, H)}) and built.
     *
     * @param backend runs the kernels
     * @param store   holds the parameters
     * @param prefix  the prefix they were declared under
     * @param cell    the cell they were declared with
     * @throws IllegalArgumentException if a parameter is missing or its shape is not the one declare gives it (the
     *         store of another model's part)
     */
    public PeekyDecoder(Backend backend, ParameterStore store, String prefix, Cell cell) {
        Inputs.part("PeekyDecoder", backend, store, prefix, cell);
        String rnn = prefix + cell.lower();
        var s = Inputs.PartShapes.of("PeekyDecoder", cell, store.get(prefix + "embed.W"), store.get(rnn + ".Wh"));
        s.require(store.get(rnn + ".Wx"), "(H + D, GH)",
                Inputs.concatColumns("PeekyDecoder's " + rnn + ".Wx", "H", s.H(), "D", s.D()), s.g());
        s.require(store.get(rnn + ".b"), "(GH,)", s.g());
        s.require(store.get(prefix + "affine.W"), "(H + H, V)",
                Inputs.concatColumns("PeekyDecoder's " + prefix + "affine.W", "H", s.H(), "H", s.H()), s.V());
        s.require(store.get(prefix + "affine.b"), "(V,)", s.V());
        this.backend = backend;
        this.embed = new TimeEmbedding(backend, store.get(prefix + "embed.W"));
        this.lstm = cell.time(backend, store.get(prefix + cell.lower() + ".Wx"),
                store.get(prefix + cell.lower() + ".Wh"), store.get(prefix + cell.lower() + ".b"), true);
        this.affine = new TimeAffine(backend, store.get(prefix + "affine.W"), store.get(prefix + "affine.b"));
        this.D = store.get(prefix + "embed.W").dim(1);
        this.H = lstm.hiddenSize();
        this.HD = Inputs.concatColumns("PeekyDecoder's " + prefix + cell.lower() + ".Wx", "H", H, "D", D);
        this.H2 = Inputs.concatColumns("PeekyDecoder's " + prefix + "affine.W", "H", H, "H", H);
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.genWs = new Workspace(backend, getClass().getSimpleName());
        this.beamState = new BeamState(backend);
    }

    /**
     * Refuses N rows of h whose N x H, the length of the (N*H,) bias that repeats h over T, passes int's range (a
     * view's dimension): resize's view(t, n * H) wrapped and failed with a view's "negative dimension" naming no call,
     * after the workspace had taken its T x N x H floats (8 GiB and more) and TimeLSTM.setState its state for N rows.
     * Checked before either.
     */
    static void requireRows(String op, int n, int H) {
        long flat = (long) n * H;
        if (flat > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": N x H = " + n + " x " + H + " = " + flat + " values of h (N, H),"
                    + " past the " + Integer.MAX_VALUE + " that PeekyDecoder's repeat of h over the steps takes as one"
                    + " (N*H,) vector; use a smaller batch");
        }
    }

    /** {@link #requireRows(String, int, int)} with this decoder's H: for a model, before its encoder runs. */
    @Override
    public void requireBatch(String op, int n) {
        requireRows(op, n, H);
    }

    /** {@link #requireRows(String, int, int)} for h (N, H), after Inputs.encoding checked its shape. */
    private void requireRows(String op, Tensor h) {
        if (h != null && h.rank() == 2) {
            requireRows(op, h.dim(0), H);
        }
    }

    /**
     * Refuses an h in this decoder's own buffers (Inputs.ownEncoding), before setState: generate's and the beam's
     * steps read h at every step (the repeat over T), after the step before rewrote the scores or resized them and dh
     * away; a forward at another T resizes dh away before it reads h.
     */
    private void refuseOwn(String op, Tensor h) {
        Inputs.ownEncoding(op, false, ws.holds(h) || genWs.holds(h) || affine.holds(h));
    }

    private void resize(int t, int n) {
        sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
        ws.reset();
        hsRep = ws.floats(t, n, H);
        hsRep2 = hsRep.view(t * n, H);
        hsRepTN = hsRep.view(t, n * H);
        lstmIn = ws.floats(t, n, HD);
        lstmIn2 = lstmIn.view(t * n, HD);
        affineIn = ws.floats(t, n, H2);
        affineIn2 = affineIn.view(t * n, H2);
        dhs0 = ws.floats(t * n, H);
        dhs0TN = dhs0.view(t, n * H);
        dlstm = ws.floats(t * n, H);
        dlstm3 = dlstm.view(t, n, H);
        dhs1 = ws.floats(t * n, H);
        dembed = ws.floats(t * n, D);
        dembed3 = dembed.view(t, n, D);
        dh = ws.floats(n, H);
        dhVec = dh.view(n * H);
        sizedT = t;
        sizedN = n;
    }

    /** score (T, N, V) for xs (T, N) int32 given the encoder's h (N, H). */
    @Override
    public Tensor forward(Tensor xs, Tensor h) {
        Inputs.encoding("PeekyDecoder.forward", xs, h, H, false);
        requireRows("PeekyDecoder.forward", h);   // before setState sizes the LSTM's state for its N rows
        refuseOwn("PeekyDecoder.forward", h);
        lstm.setState(h);
        return scores(xs, h);
    }

    private Tensor scores(Tensor xs, Tensor h) {
        int t = xs.dim(0), n = xs.dim(1);
        Rows.of("PeekyDecoder.forward", t, n);
        requireRows("PeekyDecoder.forward", n, H);   // xs's N, which sizes the buffers below
        if (t != sizedT || n != sizedN) {
            resize(t, n);
        }
        Tensor emb = embed.forward(xs);
        backend.fill(hsRep, 0f);
        backend.addBias(hsRepTN, hVec.vector(h));                       // hsRep[t] = h for every t
        backend.concatColumns(lstmIn2, hsRep2, embedOut.matrix(emb, t * n, D));
        Tensor out = lstm.forward(lstmIn);
        backend.concatColumns(affineIn2, hsRep2, lstmOut.matrix(out, t * n, H));
        return affine.forward(affineIn);
    }

    /** dh (N, H): through the LSTM's initial state plus both peeks, summed over T. */
    @Override
    public Tensor backward(Tensor dscore) {
        int m = sizedT * sizedN;
        Tensor dout = affine.backward(dscore);
        backend.splitColumns(dhs0, dlstm, affineDx.matrix(dout, m, H2));
        Tensor dx = lstm.backward(dlstm3);
        backend.splitColumns(dhs1, dembed, lstmDx.matrix(dx, m, HD));
        embed.backward(dembed3);
        backend.addScaled(dhs0, dhs1, 1f);                                   // dhs = dhs0 + dhs1
        backend.copy(dh, lstm.dh());
        backend.sumRows(dhVec, dhs0TN, 1f);                             // dh += sum over T of dhs
        return dh;
    }

    @Override
    public Tensor generate(Tensor h, int startId, int length) {
        Inputs.encoding("PeekyDecoder.generate", null, h, H, false);
        requireRows("PeekyDecoder.generate", h);
        refuseOwn("PeekyDecoder.generate", h);
        lstm.setState(h);
        genWs.reset();
        return Greedy.decode("PeekyDecoder.generate", backend, genWs, h.dim(0), startId, length,
                ids -> scores(ids, h));
    }

    /** The encoding's rows are the hypotheses; it is constant per question, so only the LSTM state is reordered. */
    @Override
    public Beam.Steps steps(Tensor h) {
        Inputs.encoding("PeekyDecoder.steps", null, h, H, false);
        requireRows("PeekyDecoder.steps", h);
        refuseOwn("PeekyDecoder.steps", h);
        lstm.setState(h);
        return beamState.steps(lstm, ids -> scores(ids, h));
    }

    @Override
    public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
        Inputs.precision("PeekyDecoder", precision);
        lstm.setInferencePrecision(precision);
    }

    @Override
    public void close() {
        embed.close();
        lstm.close();
        affine.close();
        ws.close();
        genWs.close();
        beamState.close();
    }
}
