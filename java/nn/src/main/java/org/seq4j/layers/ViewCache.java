// A reshaped view of a tensor that a layer does not own, made once and handed out again while the same
// tensor object keeps coming back (layers pass their own buffers along), so steady-state steps make no views.
// One instance caches one view; use one per call site.
package org.seq4j.layers;

import org.seq4j.tensor.Tensor;

public final class ViewCache {

    public ViewCache() {
    }
    private enum Kind { MATRIX, SEQ, VECTOR, ROW }

    private Tensor source;
    private Tensor view;
    private Kind kind;
    private int a, b, c;

    private boolean hit(Tensor t, Kind k, int a, int b, int c) {
        return t == source && kind == k && this.a == a && this.b == b && this.c == c && view.isAlive();
    }

    private Tensor keep(Tensor t, Kind k, int a, int b, int c, Tensor v) {
        source = t;
        kind = k;
        this.a = a;
        this.b = b;
        this.c = c;
        view = v;
        return v;
    }

    /** {@code t} seen as a (rows, cols) matrix; rows * cols must equal its size. */
    public Tensor matrix(Tensor t, int rows, int cols) {
        return hit(t, Kind.MATRIX, rows, cols, 0) ? view : keep(t, Kind.MATRIX, rows, cols, 0, t.view(rows, cols));
    }

    /** {@code t} seen as a (T, N, F) tensor. */
    public Tensor seq(Tensor t, int steps, int n, int f) {
        return hit(t, Kind.SEQ, steps, n, f) ? view : keep(t, Kind.SEQ, steps, n, f, t.view(steps, n, f));
    }

    /** {@code t} seen as a flat vector. */
    public Tensor vector(Tensor t) {
        return hit(t, Kind.VECTOR, 0, 0, 0) ? view
                : keep(t, Kind.VECTOR, 0, 0, 0, t.view(Math.toIntExact(t.size())));
    }

    /** Element {@code i} along the first dimension of {@code t}, e.g. step i of a (T, N, H) sequence. */
    public Tensor row(Tensor t, int i) {
        return hit(t, Kind.ROW, i, 0, 0) ? view : keep(t, Kind.ROW, i, 0, 0, t.get(i));
    }
}
