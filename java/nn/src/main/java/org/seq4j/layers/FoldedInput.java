// The folded input projection of TimeLSTM's and TimeGRU's forward(embed, ids): the table EW = E Wx + b (V, G), the
// gate pre-activations each token contributes, kept while E, Wx and b keep their versions, and its backward, through
// S (V, G), the backward's dA scattered by token id.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

/**
 * When to fold, and the table. Projecting through the table costs V rows of E Wx, the plain path T*N rows per
 * forward. Whether a forward folds is a rule of its shape alone ({@link #folds}): where the vocabulary has fewer rows
 * than the forward has tokens (cheaper outright: training computes the table anew at every step, the weights having
 * moved), or where E is small (V*D at most {@link #SMALL}: the date model's 59 x 16, the addition model's 13 x 16),
 * whose table costs little to make once and then serves every later forward over unchanged weights with a gather
 * (inference: questions one at a time, a decoder a token at a time). The two paths add in different orders, so a
 * rule that also counted the tokens of earlier forwards (rent to buy, until 2026-12-03) made a model's later answers
 * differ in the last bits from its first; by shape, the same input gives the same bits at every call. While E, Wx and
 * b keep the versions the table was computed at, a forward only gathers its rows.
 */
final class FoldedInput implements AutoCloseable {
    private final Backend backend;
    private final Parameter Wx;   // (D, G)
    private final Parameter b;    // (G,)
    private final int g;
    private final Workspace ws;
    private Tensor table;         // (V, G) E Wx + b, for tableE at the versions below; null before the first fold
    private Tensor scatter;       // (V, G) the backward's dA summed per token id
    private Parameter tableE;     // the E the table holds E Wx + b of, null while it holds nothing
    private long tableEv, tableWxv, tableBv;
    private long tableEw, tableWxw, tableBw;   // their values' write counts (Tensor.writes) at the table

    FoldedInput(Backend backend, Parameter Wx, Parameter b) {
        this.backend = backend;
        this.Wx = Wx;
        this.b = b;
        this.g = Wx.dim(1);
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /**
     * Whether the table holds E Wx + b for E, Wx and b as they are now: their versions, and their values' write counts
     * (a write through a Backend kernel, which an Optimizer of one's own makes without a word to the versions).
     */
    private boolean current(Parameter E) {
        return tableE == E && tableEv == E.version().get() && tableWxv == Wx.version().get()
                && tableBv == b.version().get() && tableEw == E.value().writes() && tableWxw == Wx.value().writes()
                && tableBw == b.value().writes();
    }

    /**
     * The most entries V*D of E whose forwards always fold, however few tokens they have. The table then costs at most
     * SMALL * G multiply-adds to make (4 M at the date model's G = 1024), which a forward over
     * weights that moved (training with V >= T*N) pays every time, with the backward's products over V rows instead
     * of T*N; a forward over kept weights only gathers.
     */
    static final long SMALL = 4096;

    /**
     * Whether a forward of {@code tokens} ids looked up in E goes through the table (then {@link #table} gives it):
     * fewer vocabulary rows than tokens, or a small E (see {@link #SMALL}). A rule of the shapes alone, never of
     * the forwards before: the same forward gives the same bits at every call.
     */
    static boolean folds(Parameter E, long tokens) {
        long v = E.dim(0);
        return v < tokens || v * E.dim(1) <= SMALL;
    }

    /** The table (V, G) E Wx + b for E as it is now, computed first if it holds anything else. */
    Tensor table(Parameter E) {
        if (current(E)) {
            return table;
        }
        int v = E.dim(0);
        tableE = null;   // until the table below is whole: a product that throws leaves no table to reuse
        if (table == null || table.dim(0) != v) {
            table = null;   // the key: none until every buffer below is allocated, it last (see Workspace.reset)
            ws.reset();
            scatter = ws.floats(v, g);
            table = ws.floats(v, g);
        }
        // the versions before the product, as KeptPack reads its one: a write during the product (a version moved
        // since) leaves the table stale for the next call, where read after, it marked a mix of old and new current
        long ev = E.version().get(), wxv = Wx.version().get(), bv = b.version().get();
        long ew = E.value().writes(), wxw = Wx.value().writes(), bw = b.value().writes();
        backend.matmul(Transpose.NO, Transpose.NO, 1f, E.value(), Wx.value(), 0f, table);
        backend.addBias(table, b.value());
        tableE = E;
        tableEv = ev;
        tableWxv = wxv;
        tableBv = bv;
        tableEw = ew;
        tableWxw = wxw;
        tableBw = bw;
        return table;
    }

    /**
     * The backward of a folded forward of ids (T, N) looked up in E (the table's: after table(E)), given its gate
     * gradients dA2 (T*N, G). S (V, G) = dA's rows summed per token id; then, as x = E[ids], dWx += x^T dA = E^T S,
     * db += sum of dA's rows = sum of S's rows, and dE += scatter of dA Wx^T = S Wx^T: no (T*N, D) input or
     * gradient is formed. The layer's dWh is its own.
     */
    void backward(Parameter E, Tensor ids, Tensor dA2) {
        backend.fill(scatter, 0f);
        backend.embeddingBackward(scatter, ids, dA2);
        backend.matmul(Transpose.YES, Transpose.NO, 1f, E.value(), scatter, 1f, Wx.grad());
        backend.sumRows(b.grad(), scatter, 1f);
        backend.matmul(Transpose.NO, Transpose.YES, 1f, scatter, Wx.value(), 1f, E.grad());
    }

    @Override
    public void close() {
        ws.close();
        table = null;
        scatter = null;
        tableE = null;
    }
}
