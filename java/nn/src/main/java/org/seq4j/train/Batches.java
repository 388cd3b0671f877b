// A training set that a Trainer can shuffle and cut into batches: how many examples it has, and how to
// copy the examples at some indices into the model's input and target tensors (batch-major, on the
// model's backend). The two implementations cover the book's seq2seq data and the wave regressions.
package org.seq4j.train;

import java.lang.foreign.Arena;
import org.seq4j.backend.Backend;
import org.seq4j.data.HostFloats;
import org.seq4j.data.SequencePairs;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A training set that a Trainer can shuffle and cut into batches: how many examples it has, and how to copy the
 * examples at some indices into the model's input and target tensors (batch-major, on the model's backend).
 */
public interface Batches {

    /**
     * Number of examples.
     *
     * @return the count
     */
    int size();

    /**
     * The (xs, ts) tensors for a batch of {@code n} examples, allocated once and reused for every batch.
     *
     * @param backend the model's backend
     * @param arena   where the tensors live
     * @param n       the batch size
     * @return {xs, ts}, batch-major
     */
    Tensor[] allocate(Backend backend, Arena arena, int n);

    /**
     * Copies examples order[from .. from + xs.dim(0)) into xs and ts.
     *
     * @param backend the model's backend
     * @param order   a permutation of the example indices
     * @param from    the first position in order
     * @param xs      the inputs, from allocate
     * @param ts      the targets, from allocate
     * @throws IndexOutOfBoundsException if the positions run past order, or an index in them is not an example's
     */
    void fill(Backend backend, int[] order, int from, Tensor xs, Tensor ts);

    /**
     * order[at], checked: an index outside [0, size) would read another example's row (the float rows are one flat
     * array) or fail inside a copy with an unhelpful message.
     */
    private static int example(int[] order, int at, int size) {
        int e = order[at];
        if (e < 0 || e >= size) {
            throw new IndexOutOfBoundsException("order[" + at + "] = " + e + " is no example: expected [0, " + size + ")");
        }
        return e;
    }

    /**
     * rows[e], which must still have {@code width} ids: SequencePairs holds its arrays, not copies, and checks them only
     * when made, so a row replaced since (between epochs, say) was cut short without a word when longer, and failed
     * inside System.arraycopy when shorter. The width is the batch tensors' (allocated from row 0 as it was then).
     */
    private static int[] row(int[][] rows, int e, int width, String what) {
        int[] r = rows[e];
        if (r == null || r.length != width) {
            throw new IllegalStateException(what + " " + e + " has " + (r == null ? "no array" : r.length + " ids")
                    + " but the batch tensors hold " + width + " per row (the SequencePairs changed after Batches.of,"
                    + " or the tensors are not from its allocate; make new pairs and a new Batches instead)");
        }
        return r;
    }

    /** Refuses a batch of n positions from {@code from} that runs past the order. */
    private static void checkPositions(int[] order, int from, int n) {
        if (from < 0 || from > order.length - n) {
            throw new IndexOutOfBoundsException("a batch of " + n + " from position " + from + " runs past the order's "
                    + order.length + " positions");
        }
    }

    /**
     * Token-id pairs: questions (N, T_in) and answers (N, T_out + 1) whose first id is the start id.
     *
     * @param pairs the questions and answers
     * @return the batches
     * @throws NullPointerException if pairs is null (it was taken, and fitEpoch then failed with a bare "Cannot invoke
     *                              SequencePairs.size()")
     */
    static Batches of(SequencePairs pairs) {
        java.util.Objects.requireNonNull(pairs, "Batches.of: pairs is null; expected the training questions and answers");
        return new Batches() {
            private int[] xBuffer, tBuffer;

            @Override
            public int size() {
                return pairs.size();
            }

            @Override
            public Tensor[] allocate(Backend backend, Arena arena, int n) {
                // refused before the tensors (8 GiB and more) are allocated, as fill would refuse them
                hostLength("Batches.allocate", n, pairs.questionLength(), "questions");
                hostLength("Batches.allocate", n, pairs.answerLength(), "answers");
                return new Tensor[] {backend.allocate(arena, DType.I32, n, pairs.questionLength()),
                        backend.allocate(arena, DType.I32, n, pairs.answerLength())};
            }

            @Override
            public void fill(Backend backend, int[] order, int from, Tensor xs, Tensor ts) {
                if (xs.rank() != 2 || ts.rank() != 2 || ts.dim(0) != xs.dim(0)) {
                    throw new IllegalArgumentException("fill needs xs (N, T_in) and ts (N, T_out + 1) from allocate, got "
                            + xs + " and " + ts);
                }
                // the widths the tensors were allocated with: row 0 may have been replaced since, like any other
                int n = xs.dim(0), tx = xs.dim(1), tt = ts.dim(1);
                // batches of another size (e.g. evaluation) may interleave
                int xLength = hostLength("Batches.fill", n, tx, "questions");
                int tLength = hostLength("Batches.fill", n, tt, "answers");
                if (xBuffer == null || xBuffer.length != xLength || tBuffer.length != tLength) {
                    xBuffer = new int[xLength];
                    tBuffer = new int[tLength];
                }
                checkPositions(order, from, n);
                for (int i = 0; i < n; i++) {
                    int e = example(order, from + i, pairs.size());
                    System.arraycopy(row(pairs.x(), e, tx, "question"), 0, xBuffer, i * tx, tx);
                    System.arraycopy(row(pairs.t(), e, tt, "answer"), 0, tBuffer, i * tt, tt);
                }
                backend.copyIn(xs, xBuffer);
                backend.copyIn(ts, tBuffer);
            }
        };
    }

    /**
     * Float examples: inputs (N, ...) and targets (N, ...), row e of each belonging together.
     *
     * @param inputs  (N, ...) float32
     * @param targets (N, ...) float32
     * @return the batches
     * @throws IllegalArgumentException if either has no first dimension, the example counts differ, an example
     *                                  holds 2^31 values or more, or a value is NaN or infinite
     * @throws NullPointerException if inputs or targets is null
     */
    static Batches of(HostFloats inputs, HostFloats targets) {
        // named (a bare "Cannot invoke HostFloats.shape()")
        java.util.Objects.requireNonNull(inputs, "Batches.of: inputs is null; expected (N, ...) float examples");
        java.util.Objects.requireNonNull(targets, "Batches.of: targets is null; expected (N, ...) float targets");
        if (inputs.shape().length == 0 || targets.shape().length == 0) {
            throw new IllegalArgumentException("inputs and targets need a first dimension of examples, got shapes "
                    + Tensor.shapeString(inputs.shape()) + " and " + Tensor.shapeString(targets.shape()));
        }
        if (inputs.dim(0) != targets.dim(0)) {
            throw new IllegalArgumentException("inputs have " + inputs.dim(0) + " examples but targets have "
                    + targets.dim(0));
        }
        int xRow = rowSize(inputs, "inputs"), tRow = rowSize(targets, "targets");
        requireFinite(inputs, xRow, "inputs");
        requireFinite(targets, tRow, "targets");
        return new Batches() {
            private float[] xBuffer, tBuffer;

            @Override
            public int size() {
                return inputs.dim(0);
            }

            @Override
            public Tensor[] allocate(Backend backend, Arena arena, int n) {
                hostLength("Batches.allocate", n, xRow, "inputs");
                hostLength("Batches.allocate", n, tRow, "targets");
                int[] xs = inputs.shape().clone(), ts = targets.shape().clone();
                xs[0] = n;
                ts[0] = n;
                return new Tensor[] {backend.allocate(arena, DType.F32, xs), backend.allocate(arena, DType.F32, ts)};
            }

            @Override
            public void fill(Backend backend, int[] order, int from, Tensor xs, Tensor ts) {
                int n = xs.dim(0);
                // batches of another size may interleave; each on its own: with rows of 0 inputs the x buffer kept its
                // length (0) at every size, and the targets were copied past the end of the last size's buffer
                int xLength = hostLength("Batches.fill", n, xRow, "inputs");
                int tLength = hostLength("Batches.fill", n, tRow, "targets");
                if (xBuffer == null || xBuffer.length != xLength) {
                    xBuffer = new float[xLength];
                }
                if (tBuffer == null || tBuffer.length != tLength) {
                    tBuffer = new float[tLength];
                }
                checkPositions(order, from, n);
                for (int i = 0; i < n; i++) {
                    int e = example(order, from + i, inputs.dim(0));
                    System.arraycopy(inputs.data(), e * xRow, xBuffer, i * xRow, xRow);
                    System.arraycopy(targets.data(), e * tRow, tBuffer, i * tRow, tRow);
                }
                backend.copyIn(xs, xBuffer);
                backend.copyIn(ts, tBuffer);
            }
        };
    }

    /**
     * Refuses a NaN or infinite value up front, naming its example: trained on, it made the first batch that drew
     * that example end in a NonFiniteLossException that looked like a diverged run (lower the learning rate?).
     */
    private static void requireFinite(HostFloats a, int row, String name) {
        float[] data = a.data();
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new IllegalArgumentException(name + " " + Tensor.shapeString(a.shape()) + " hold " + data[i]
                        + " in example " + i / row + " (flat index " + i + "); expected finite values");
            }
        }
    }

    /**
     * N x row, the values of a batch's host buffer (one Java array), exactly. In int it wrapped (65536 x 65536 to 0),
     * and fill failed inside System.arraycopy; such a batch is more than a model takes anyway (T x N past int's range).
     */
    private static int hostLength(String op, int n, int row, String what) {
        long length = (long) n * row;
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(op + ": a batch of N=" + n + " " + what + " of " + row + " values is "
                    + length + " values, more than the " + (Integer.MAX_VALUE - 8) + " one Java array holds; use a "
                    + "smaller batch");
        }
        return (int) length;
    }

    /** Values of one example: the product of the dimensions after the first (the array's length / N fails at N = 0). */
    private static int rowSize(HostFloats a, String name) {
        long n = 1;
        int[] shape = a.shape();
        for (int d = 1; d < shape.length; d++) {
            n = Math.min(n * shape[d], Integer.MAX_VALUE + 1L);   // n < 2^32 and d < 2^31 before each product
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " of shape " + Tensor.shapeString(shape) + " have examples of "
                    + "2^31 values or more");
        }
        return (int) n;
    }
}
