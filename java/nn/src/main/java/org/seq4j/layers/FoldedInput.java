// The folded input projection of TimeLSTM's and TimeGRU's forward(embed, ids): the table EW = E Wx + b (V, G), the
// gate pre-activations each token contributes, kept while E, Wx and b keep their versions, and S (V, G) for the
// backward's dA scattered by token id.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

/**
 * When to fold, and the table. Projecting through the table costs V rows of E Wx once, the plain path T*N rows
 * per forward, so the table pays when V < T*N (every forward of training computes it anew, the weights having
 * moved) or when the weights stay unchanged over forwards of more than V tokens in all (inference: an encoder run
 * question after question; rent until the rent paid passes the price, then buy). While E, Wx and b keep the versions
 * the table was computed at, a forward only gathers its rows.
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
    private Parameter seenE;      // the weights of the forwards (E, versions) since they last changed ...
    private long seenEv, seenWxv, seenBv;
    private long rows;            // ... and the tokens those forwards projected

    FoldedInput(Backend backend, Parameter Wx, Parameter b) {
        this.backend = backend;
        this.Wx = Wx;
        this.b = b;
        this.g = Wx.dim(1);
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    /** Whether the table holds E Wx + b for E, Wx and b as they are now. */
    private boolean current(Parameter E) {
        return tableE == E && tableEv == E.version().get() && tableWxv == Wx.version().get()
                && tableBv == b.version().get();
    }

    /**
     * Whether a forward of {@code tokens} ids looked up in E should go through the table (then table(E) gives it);
     * counts the tokens towards the table's price otherwise.
     */
    boolean pays(Parameter E, long tokens) {
        if (current(E)) {
            return true;
        }
        long ev = E.version().get(), wxv = Wx.version().get(), bv = b.version().get();
        if (seenE == E && seenEv == ev && seenWxv == wxv && seenBv == bv) {
            rows = Math.addExact(rows, tokens);
        } else {
            seenE = E;
            seenEv = ev;
            seenWxv = wxv;
            seenBv = bv;
            rows = tokens;
        }
        return E.dim(0) < rows;
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
        backend.matmul(Transpose.NO, Transpose.NO, 1f, E.value(), Wx.value(), 0f, table);
        backend.addBias(table, b.value());
        tableE = E;
        tableEv = ev;
        tableWxv = wxv;
        tableBv = bv;
        return table;
    }

    /** S (V, G) for the table's E, where the backward of a folded forward scatters dA; valid after table(E). */
    Tensor scatter() {
        return scatter;
    }

    @Override
    public void close() {
        ws.close();
        table = null;
        scatter = null;
        tableE = null;
    }
}
