// Which rows of a global batch one rank takes: rank r of R takes rows [r*N/R, (r+1)*N/R) (integer
// division), so the R shards are disjoint, cover the batch and differ by at most one row when R does not
// divide N. Because each rank's loss is a mean over its own rows, its gradient is weighted by rows / N
// (not 1/R) before the all-reduce sums them: sum_r (rows_r / N) * g_r is exactly the gradient of the mean
// loss over all N rows, whatever the split.
package org.seq4j.dist;

/**
 * Which rows of a global batch one rank takes: rank r of R takes rows [r*N/R, (r+1)*N/R), so the shards are
 * disjoint, cover the batch and differ by at most one row.
 *
 * @param from the first row of this rank
 * @param rows how many rows this rank takes (at least 1 from {@link #of})
 * @param batch N, the rows of the global batch
 */
public record Shard(int from, int rows, int batch) {

    /**
     * A share of rows [from, from + rows) of a batch of {@code batch} rows (see {@link #of} for a rank's); a rank that
     * takes no rows has a share of none, weight 0.
     *
     * @throws IllegalArgumentException unless batch &gt;= 1, from &gt;= 0, rows &gt;= 0 and from + rows &lt;= batch (a
     *                                  batch of 0 rows gave the weight Infinity)
     */
    public Shard {
        if (batch < 1 || from < 0 || rows < 0 || (long) from + rows > batch) {
            throw new IllegalArgumentException("Shard: rows [" + from + ", " + ((long) from + rows) + ") are not a "
                    + "share of a batch of " + batch + " rows (at least 1)");
        }
    }

    /**
     * Rank {@code rank} of {@code size}'s share of a batch of {@code batch} rows; every rank gets at least one.
     *
     * @param batch N, the rows of the global batch, at least {@code size}
     * @param rank 0 .. size - 1
     * @param size the number of ranks R, at least 1
     * @return rows [rank*N/R, (rank+1)*N/R)
     * @throws IllegalArgumentException when rank is not a rank of size, or batch &lt; size
     */
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

    /**
     * The weight of this rank's mean-loss gradient in the global mean.
     *
     * @return rows / batch
     */
    public float weight() {
        return (float) ((double) rows / batch);
    }
}
