// The book's AttentionDecoder (ch08): embedding, a stateful LSTM started from the encoder's last h, attention
// over all encoder states at every step, and an affine over [context ; decoder h]. Parameters:
// <prefix>embed.W (V, D), <prefix>lstm.Wx (D, 4H), <prefix>lstm.Wh (H, 4H), <prefix>lstm.b (4H,),
// <prefix>affine.W (2H, V), <prefix>affine.b (V,).
// With Cell.GRU (the book's appendix GRU) the recurrent layer is a TimeGRU and its parameters are
// <prefix>gru.Wx, <prefix>gru.Wh, <prefix>gru.b with 3H gate columns (z, r, h) instead of 4H.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.internal.Rows;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeAttention;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.layers.ViewCache;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

/**
 * The book's AttentionDecoder (ch08): embedding, a stateful LSTM started from the encoder's last h, attention over
 * all encoder states at every step, and an affine over [context ; decoder h]. Parameters: embed.W (V, D),
 * lstm.Wx (D, 4H), lstm.Wh (H, 4H), lstm.b (4H,), affine.W (2H, V), affine.b (V,), under a prefix.
 */
public final class AttentionDecoder implements SequenceDecoder {
    private final Backend backend;
    private final TimeEmbedding embed;
    private final TimeRecurrent lstm;
    private final TimeAttention attention;
    private final TimeAffine affine;
    private final int H;
    private final int H2;   // 2H, the width of [c ; dec h], checked once
    private final Workspace ws;
    private final Workspace genWs;
    private final BeamState beamState;
    private final ViewCache encLast = new ViewCache();     // encHs[T_enc - 1] (N, H)
    private final ViewCache dencLast = new ViewCache();    // dencHs[T_enc - 1] (N, H)
    private final ViewCache context = new ViewCache();     // (T, N, H) contexts as (T*N, H)
    private final ViewCache decHs2 = new ViewCache();      // (T, N, H) decoder states as (T*N, H)
    private final ViewCache affineDx = new ViewCache();    // (T, N, 2H) as (T*N, 2H)
    private final ViewCache dDecFromAttention = new ViewCache();

    private int sizedT = -1, sizedN = -1;
    private Tensor cat, cat2;        // (T, N, 2H) = [c ; dec_h]; (T*N, 2H)
    private Tensor dc, dc3;          // (T*N, H) gradient of the contexts; (T, N, H)
    private Tensor ddec, ddec3;      // (T*N, H) gradient of the decoder states; (T, N, H)

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
        Inputs.declaring("AttentionDecoder.declare", b, prefix, cell);
        String rnn = prefix + cell.lower();
        int g = cell.columns(H);
        int cat = Inputs.concatColumns("AttentionDecoder's " + prefix + "affine.W", "H", H, "H", H);   // [c ; dec h]
        b.declare(prefix + "embed.W", Init.normal(0.01), V, D)
                .declare(rnn + ".Wx", Init.scaledNormal(D), D, g)
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
    public AttentionDecoder(Backend backend, ParameterStore store, String prefix) {
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
    public AttentionDecoder(Backend backend, ParameterStore store, String prefix, Cell cell) {
        Inputs.part("AttentionDecoder", backend, store, prefix, cell);
        String rnn = prefix + cell.lower();
        var s = Inputs.PartShapes.of("AttentionDecoder", cell, store.get(prefix + "embed.W"), store.get(rnn + ".Wh"));
        s.require(store.get(rnn + ".Wx"), "(D, GH)", s.D(), s.g());
        s.require(store.get(rnn + ".b"), "(GH,)", s.g());
        s.require(store.get(prefix + "affine.W"), "(H + H, V)",
                Inputs.concatColumns("AttentionDecoder's " + prefix + "affine.W", "H", s.H(), "H", s.H()), s.V());
        s.require(store.get(prefix + "affine.b"), "(V,)", s.V());
        this.backend = backend;
        this.embed = new TimeEmbedding(backend, store.get(prefix + "embed.W"));
        this.lstm = cell.time(backend, store.get(prefix + cell.lower() + ".Wx"),
                store.get(prefix + cell.lower() + ".Wh"), store.get(prefix + cell.lower() + ".b"), true);
        this.attention = new TimeAttention(backend);
        this.affine = new TimeAffine(backend, store.get(prefix + "affine.W"), store.get(prefix + "affine.b"));
        this.H = lstm.hiddenSize();
        this.H2 = Inputs.concatColumns("AttentionDecoder's " + prefix + "affine.W", "H", H, "H", H);
        this.ws = new Workspace(backend, getClass().getSimpleName());
        this.genWs = new Workspace(backend, getClass().getSimpleName());
        this.beamState = new BeamState(backend);
    }

    /** score (T, N, V) for xs (T, N) int32 and the encoder's states encHs (T_enc, N, H). */
    @Override
    public Tensor forward(Tensor xs, Tensor encHs) {
        Inputs.encoding("AttentionDecoder.forward", xs, encHs, H, true);
        refuseOwn("AttentionDecoder.forward", encHs);
        lstm.setState(encLast.row(encHs, encHs.dim(0) - 1));
        return scores(xs, encHs);
    }

    /**
     * Refuses an encHs in this decoder's own buffers (Inputs.ownEncoding), before setState: the attention reads it at
     * every step and keeps it for the backward, while the affine rewrites the scores and the backward dencHs (or a
     * step of another size closes them). The attention refused its own (dencHs, the weights) only after the LSTM had
     * run, in its own words.
     */
    private void refuseOwn(String op, Tensor encHs) {
        Inputs.ownEncoding(op, true, ws.holds(encHs) || genWs.holds(encHs) || affine.holds(encHs)
                || attention.holds(encHs));
    }

    private Tensor scores(Tensor xs, Tensor encHs) {
        int t = xs.dim(0), n = xs.dim(1);
        Rows.of("AttentionDecoder.forward", t, n);
        if (t != sizedT || n != sizedN) {
            sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            ws.reset();
            cat = ws.floats(t, n, H2);
            cat2 = cat.view(t * n, H2);
            dc = ws.floats(t * n, H);
            dc3 = dc.view(t, n, H);
            ddec = ws.floats(t * n, H);
            ddec3 = ddec.view(t, n, H);
            sizedT = t;
            sizedN = n;
        }
        Tensor decHs = lstm.forward(embed, xs);
        Tensor c = attention.forward(encHs, decHs);
        backend.concatColumns(cat2, context.matrix(c, t * n, H), decHs2.matrix(decHs, t * n, H));
        return affine.forward(cat);
    }

    /** dencHs (T_enc, N, H): from the attention at every step plus, at the last step, the LSTM's initial h. */
    @Override
    public Tensor backward(Tensor dscore) {
        int m = sizedT * sizedN;
        Tensor dout = affine.backward(dscore);
        backend.splitColumns(dc, ddec, affineDx.matrix(dout, m, H2));
        Tensor dencHs = attention.backward(dc3);
        backend.addScaled(ddec, dDecFromAttention.matrix(attention.dhsDec(), m, H), 1f);   // ddec_hs0 + ddec_hs1
        lstm.backward(embed, ddec3);
        backend.addScaled(dencLast.row(dencHs, dencHs.dim(0) - 1), lstm.dh(), 1f);
        return dencHs;
    }

    @Override
    public Tensor generate(Tensor encHs, int startId, int length) {
        Inputs.encoding("AttentionDecoder.generate", null, encHs, H, true);
        refuseOwn("AttentionDecoder.generate", encHs);
        lstm.setState(encLast.row(encHs, encHs.dim(0) - 1));
        genWs.reset();
        return Greedy.decode("AttentionDecoder.generate", backend, genWs, encHs.dim(1), startId, length,
                ids -> scores(ids, encHs));
    }

    /**
     * Attention weights of this decoder's last forward.
     *
     * @return (T_dec, N, T_enc)
     * @throws IllegalStateException before a forward returned (none ran, or the last one threw)
     */
    public Tensor attentionWeights() {
        return attention.attentionWeights();
    }

    /** The encoding's rows are the hypotheses; it is constant per question, so only the LSTM state is reordered. */
    @Override
    public Beam.Steps steps(Tensor encHs) {
        Inputs.encoding("AttentionDecoder.steps", null, encHs, H, true);
        refuseOwn("AttentionDecoder.steps", encHs);
        lstm.setState(encLast.row(encHs, encHs.dim(0) - 1));
        return beamState.steps(lstm, ids -> scores(ids, encHs));
    }

    @Override
    public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
        Inputs.precision("AttentionDecoder", precision);
        lstm.setInferencePrecision(precision);
    }

    @Override
    public void close() {
        embed.close();
        lstm.close();
        attention.close();
        affine.close();
        ws.close();
        genWs.close();
        beamState.close();
    }
}
