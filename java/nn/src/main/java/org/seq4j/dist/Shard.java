// Which rows of a global batch one rank takes: rank r of R takes rows [r*N/R, (r+1)*N/R) (integer
// division), so the R shards are disjoint, cover the batch and differ by at most one row when R does not
// divide N. Because each rank's loss is a mean over its own rows, its gradient is weighted by rows / N
// (not 1/R) before the all-reduce sums them: sum_r (rows_r / N) * g_r is exactly the gradient of the mean
// loss over all N rows, whatever the split.
package org.seq4j.dist;

public record Shard(int from, int rows, int batch) {

    /** Rank {@code rank} of {@code size}'s share of a batch of {@code batch} rows; every rank gets at least one. */
    public static Shard of(int batch, int rank, int size) {
        if (size < 1 || rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " of " + size + " is not a rank");
        }
        if (batch < size) {
            throw new IllegalArgumentException("a batch of " + batch + " cannot be split across " + size
                    + " ranks: every rank needs at least one row; use --batch " + size + " or more");
        }
        int from = (int) ((long) rank * batch / size);
        int to = (int) ((long) (rank + 1) * batch / size);
        return new Shard(from, to - from, batch);
    }

    /** rows / batch: the weight of this rank's mean-loss gradient in the global mean. */
    public float weight() {
        return (float) ((double) rows / batch);
    }
}
