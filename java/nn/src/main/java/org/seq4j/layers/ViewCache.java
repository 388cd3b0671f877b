// A reshaped view of a tensor that a layer does not own, made once and handed out again while the same
// tensor object keeps coming back (layers pass their own buffers along), so steady-state steps make no views.
// One instance caches one view; use one per call site.
package org.seq4j.layers;

import org.seq4j.tensor.Tensor;

/**
 * A reshaped view of a tensor that a layer does not own, made once and handed out again while the same tensor
 * object keeps coming back, so steady-state steps make no views. One instance caches one view: use one per call site.
 */
public final class ViewCache {
    private enum Kind { MATRIX, SEQ, VECTOR, ROW, STEPS }

    private Tensor source;
    private Tensor view;
    private Tensor[] steps;             // STEPS: the step views of view
    private Kind kind;
    private int a, b, c;

    /** An empty cache. */
    public ViewCache() {
    }

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

    /**
     * {@code t} seen as a (rows, cols) matrix; rows * cols must equal its size.
     *
     * @param t    the tensor
     * @param rows the view's rows
     * @param cols the view's columns
     * @return the view (cached)
     */
    public Tensor matrix(Tensor t, int rows, int cols) {
        return hit(t, Kind.MATRIX, rows, cols, 0) ? view : keep(t, Kind.MATRIX, rows, cols, 0, t.view(rows, cols));
    }

    /**
     * {@code t} seen as a (T, N, F) tensor.
     *
     * @param t     the tensor
     * @param steps T
     * @param n     N
     * @param f     F
     * @return the view (cached)
     */
    public Tensor seq(Tensor t, int steps, int n, int f) {
        return hit(t, Kind.SEQ, steps, n, f) ? view : keep(t, Kind.SEQ, steps, n, f, t.view(steps, n, f));
    }

    /**
     * {@code t} seen as a flat vector.
     *
     * @param t the tensor
     * @return the (size,) view (cached)
     * @throws IllegalArgumentException if t has more than Integer.MAX_VALUE elements
     */
    public Tensor vector(Tensor t) {
        return hit(t, Kind.VECTOR, 0, 0, 0) ? view : keep(t, Kind.VECTOR, 0, 0, 0, t.view(vectorLength(t)));
    }

    /**
     * The length of t's (size,) view, which is an int: past 2^31 - 1 elements Math.toIntExact's bare
     * ArithmeticException ("integer overflow") came out of the caller's call, naming neither the view nor the shape.
     */
    private static int vectorLength(Tensor t) {
        long size = t.size();
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("ViewCache.vector: t " + Tensor.shapeString(t.shape()) + " has " + size
                    + " elements; a (size,) view holds at most " + Integer.MAX_VALUE);
        }
        return (int) size;
    }

    /**
     * {@code t} seen as a (T, N, F) sequence, as its T step views (N, F): what a recurrent layer's backward reads
     * step by step from a caller's dhs. The array is the cache's own: read it, do not change it.
     *
     * @param t     the tensor
     * @param steps T
     * @param n     N
     * @param f     F
     * @return the T step views (cached)
     */
    public Tensor[] steps(Tensor t, int steps, int n, int f) {
        if (hit(t, Kind.STEPS, steps, n, f)) {
            return this.steps;
        }
        Tensor v = t.view(steps, n, f);
        Tensor[] a = new Tensor[steps];
        for (int s = 0; s < steps; s++) {
            a[s] = v.get(s);
        }
        keep(t, Kind.STEPS, steps, n, f, v);
        this.steps = a;
        return a;
    }

    /**
     * Element {@code i} along the first dimension of {@code t}, e.g. step i of a (T, N, H) sequence.
     *
     * @param t the tensor
     * @param i the index
     * @return the view (cached)
     */
    public Tensor row(Tensor t, int i) {
        return hit(t, Kind.ROW, i, 0, 0) ? view : keep(t, Kind.ROW, i, 0, 0, t.get(i));
    }
}
