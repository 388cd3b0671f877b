// What SimpleRnnlm, Rnnlm and BetterRnnlm share: batch-major ids in, time-major inside, a network from
// embedding to scores (T, N, V), TimeSoftmaxWithLoss, and generation on a separate copy of the network
// over the same parameters (its own state and workspaces, dropout off).
package org.seq4j.models;

import java.util.function.Function;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.internal.SplitMix64;
import org.seq4j.internal.JavaHeap;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.layers.TimeSoftmaxWithLoss;
import org.seq4j.tensor.Tensor;

/**
 * What SimpleRnnlm, Rnnlm and BetterRnnlm share: batch-major ids in, time-major inside, a network from embedding
 * to scores (T, N, V), TimeSoftmaxWithLoss, and generation (greedy, sampled, beam search) on a separate copy of the
 * network over the same parameters.
 *
 * <p>A language model of your own extends it with a {@link Network} of its layers (see Rnnlm's, and HighwayRnnlm in
 * the tests' {@code com.example.CustomLayerTest}), and gets the loss, training, generation and beam search.
 */
public abstract class AbstractRnnlm extends AbstractModel implements LanguageModel {

    /**
     * The layers from ids (T, N) to scores (T, N, V), as the shared code drives them. The model makes two over its
     * store: one it trains, and one it generates with (its own state and workspaces, dropout off), on first use.
     */
    public interface Network extends AutoCloseable {
        /**
         * The forward pass.
         *
         * @param xs ids (T, N) int32, time-major
         * @return the next-word scores (T, N, V), valid until the next call
         */
        Tensor predict(Tensor xs);

        /**
         * The backward pass of the last predict, adding every parameter's gradient into the store.
         *
         * @param dscore the gradient of the loss w.r.t. the scores, (T, N, V)
         */
        void backward(Tensor dscore);

        /** Forgets the carried state of the stateful layers (the next predict starts from zeros). */
        void resetState();

        /**
         * Beam search: row j of every carried state becomes row parents[j] of the last forward's.
         *
         * @param state   the reordering helper; {@link BeamState#reorder(TimeRecurrent, Tensor)} for each stateful
         *                recurrent layer
         * @param parents (M,) int32 row indices
         */
        void reorderState(BeamState state, Tensor parents);

        /**
         * Training or inference mode (dropout on or off).
         *
         * @param training whether training
         */
        void setTraining(boolean training);

        /**
         * The precision of the recurrent layers' Wh for inference.
         *
         * @param precision F32 or BF16
         * @throws UnsupportedOperationException for BF16 in a network without recurrent layers
         */
        void setInferencePrecision(PackedMatrix.Precision precision);

        /**
         * Notes where the network's random draws stand (its dropouts' next masks) before a forward: the model calls it
         * before predict and {@link #rewindDraws()} if the forward is then refused (a carried state of another N, a
         * label out of range), so that a refused forward leaves the draws of the next one as they were. A network
         * without random draws does nothing (the default).
         */
        default void markDraws() {
        }

        /** Puts the random draws back where {@link #markDraws()} noted them. The default does nothing. */
        default void rewindDraws() {
        }

        /**
         * Moves the random draws to a stream of their own for rank {@code rank} &gt; 0 (see Model.drawAsRank). The
         * default, for a network without random draws, does nothing.
         *
         * @param rank the replica's rank, at least 1
         */
        default void drawAsRank(int rank) {
        }

        /** Closes the layers. */
        @Override
        void close();
    }

    private final int V;
    private final Function<ParameterStore, Network> newNetwork;
    /** The training network (generation runs on a copy of its own over the same parameters). */
    protected final Network net;
    private final TimeSoftmaxWithLoss softmax;
    private Network genNet;
    private PackedMatrix.Precision inferencePrecision = PackedMatrix.Precision.F32;   // of genNet
    private BeamState beamState;
    private int sizedN = -1, sizedT = -1;
    private Tensor xsT, tsT;      // (T, N)

    /**
     * A language model over {@code store}.
     *
     * @param backend    where the parameters and activations live
     * @param V          the vocabulary size
     * @param store      the parameters, owned by the model from now on
     * @param newNetwork makes a network over the store: the training one now, the generation one on first use
     */
    protected AbstractRnnlm(Backend backend, int V, ParameterStore store, Function<ParameterStore, Network> newNetwork) {
        super(backend, store);
        this.V = V;
        this.newNetwork = newNetwork;
        try {
            this.net = newNetwork.apply(store);
        } catch (RuntimeException | Error e) {   // the store is the model's: no one else can close it now
            abandon(e);
            throw e;
        }
        this.softmax = new TimeSoftmaxWithLoss(backend);
    }

    @Override
    public int vocabSize() {
        return V;
    }

    /**
     * Mean cross-entropy of the next-word scores for xs (N, T) against ts (N, T) (-1 ignored). A forward that throws
     * over an id outside the vocabulary (in xs, found by a kernel, or in ts, found after the network ran) resets the
     * carried state: it may have moved past the refused batch, by how much depending on the backend. A refusal before
     * the network runs (a carried state of another batch size: resetState() or setState first) keeps it.
     */
    @Override
    protected float forwardHeld(String op, Tensor xs, Tensor ts) {
        Inputs.ids(op, "xs", xs, -1, 1, V);
        Inputs.ids(op, "ts", ts, xs.dim(0), 1, V);
        if (ts.dim(1) != xs.dim(1)) {
            throw new IllegalArgumentException(op + ": ts must have the shape of xs (N=" + xs.dim(0) + ", T=" + xs.dim(1)
                    + "), got " + ts);
        }
        int n = xs.dim(0), t = xs.dim(1);
        if (n != sizedN || t != sizedT) {
            sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            ws.reset();
            xsT = ws.ints(t, n);
            tsT = ws.ints(t, n);
            sizedN = n;
            sizedT = t;
        }
        Inputs.timeMajor(op, "xs", backend, xsT, xs);
        Inputs.timeMajor(op, "ts", backend, tsT, ts);
        Tensor score;
        // a refusal below leaves the dropouts' masks for the next forward as they were: drop1 had drawn its mask
        // before lstm1 refused a carried state of another N, and all three before a bad label was found
        net.markDraws();
        try {
            try {
                score = scores(net, xsT);
            } catch (IndexOutOfBoundsException e) {
                throw resetAfter(Inputs.outOfVocabulary(op, "xs", xs, V, e));
            } catch (IllegalStateException e) {   // a layer's ("TimeLSTM holds a state for N=2 ..."), led by the call
                throw new IllegalStateException(op + ": " + e.getMessage(), e);
            }
            try {
                return backend.item(softmax.forward(score, tsT), 0);   // item: where a GPU reports a bad id
            } catch (IndexOutOfBoundsException e) {
                throw resetAfter(Inputs.outOfVocabulary(op, "ts", ts, V, e));
            }
        } catch (RuntimeException | Error e) {
            net.rewindDraws();
            throw e;
        }
    }

    /** Resets the carried state after a forward refused once its network ran; returns the refusal to throw. */
    private RuntimeException resetAfter(RuntimeException refusal) {
        try {
            net.resetState();
        } catch (RuntimeException second) {
            refusal.addSuppressed(second);
        }
        return refusal;
    }

    @Override
    protected void backwardHeld() {
        net.backward(softmax.backward(1f));
    }

    @Override
    public void resetState() {
        held("resetState", net::resetState);
    }

    @Override
    protected void setTrainingHeld(boolean training) {
        net.setTraining(training);
    }

    @Override
    public void drawAsRank(int rank) {
        LanguageModel.super.drawAsRank(rank);   // the rank's check
        if (rank > 0) {
            held("drawAsRank", () -> net.drawAsRank(rank));
        }
    }

    /**
     * The skip mask after checking prompts, length and skip ids. Nothing of the model changes here: a refused call
     * leaves it as it was; {@link #startGeneration} follows once every check has passed.
     */
    private boolean[] checkGenerate(String op, int[][] prompts, int length, int... skipIds) {
        if (prompts == null) {
            throw new NullPointerException(op + ": prompts is null; expected N prompts of one length");
        }
        if (skipIds == null) {
            throw new NullPointerException(op + ": skipIds is null; expected the ids never to generate, or none");
        }
        int n = prompts.length;
        for (int i = 0; i < n; i++) {
            if (prompts[i] == null) {
                throw new NullPointerException(op + ": prompt " + i + " is null; expected its ids");
            }
        }
        if (n == 0 || prompts[0].length == 0) {   // "got 1 prompts and length 2" named neither the empty prompt
            throw new IllegalArgumentException(op + ": needs at least one prompt of at least one id, got " + n
                    + (n == 0 ? " prompts" : " prompts of 0 ids"));
        }
        if (length < 1) {
            throw new IllegalArgumentException(op + ": needs length >= 1 ids to generate, got " + length);
        }
        int p = prompts[0].length;
        boolean[] skip = new boolean[V];
        int skipped = 0;
        for (int id : skipIds) {
            if (id < 0 || id >= V) {
                throw new IllegalArgumentException(op + ": skip id " + id + " is outside the vocabulary [0, V=" + V + ")");
            }
            skipped += skip[id] ? 0 : 1;
            skip[id] = true;
        }
        if (skipped == V) {   // beam search would return dead hypotheses made of id 0, a skipped id
            throw new IllegalArgumentException(op + ": every id of the vocabulary (V=" + V + ") is skipped; at least one"
                    + " must be left to generate");
        }
        for (int i = 0; i < n; i++) {
            if (prompts[i].length != p) {
                throw new IllegalArgumentException(op + ": prompt " + i + " has " + prompts[i].length
                        + " ids but prompt 0 has " + p);
            }
            for (int id : prompts[i]) {
                if (id < 0 || id >= V) {
                    throw new IllegalArgumentException(op + ": prompt " + i + " holds id " + id
                            + ", outside the vocabulary [0, V=" + V + ")");
                }
            }
        }
        return skip;
    }

    /** After every check of a generate or beam search: the generation network reset, its workspace empty. */
    private void startGeneration() {
        generationNetwork().resetState();
        genWs.reset();
    }

    /** The network generate and beamSearch run on (dropout off, the inference precision), made on first use. */
    private Network generationNetwork() {
        if (genNet == null) {
            Network g = newNetwork.apply(store);
            try {
                g.setTraining(false);
                g.setInferencePrecision(inferencePrecision);
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
            genNet = g;
        }
        return genNet;
    }

    /** Sets the precision on the generation network only; training always multiplies in float32. */
    @Override
    public void setInferencePrecision(PackedMatrix.Precision precision) {
        java.util.Objects.requireNonNull(precision, () -> op("setInferencePrecision") + ": precision is null; expected "
                + "F32 or BF16");
        held("setInferencePrecision", () -> {
            generationNetwork().setInferencePrecision(precision);
            inferencePrecision = precision;
        });
    }

    @Override
    public PackedMatrix.Precision inferencePrecision() {
        return inferencePrecision;
    }

    @Override
    public int[][] generate(int[][] prompts, int length, Sampling sampling, long seed, int... skipIds) {
        // null fell through the ARGMAX test in pick and sampled
        java.util.Objects.requireNonNull(sampling, () -> op("generate") + ": sampling is null; expected ARGMAX or SAMPLE");
        return held("generate", () -> generateHeld(prompts, length, sampling, seed, skipIds));
    }

    private int[][] generateHeld(int[][] prompts, int length, Sampling sampling, long seed, int... skipIds) {
        String op = op("generate");
        boolean[] skip = checkGenerate(op, prompts, length, skipIds);
        int n = prompts.length;
        int p = prompts[0].length;
        // int[N][length] unchecked was an OutOfMemoryError ("Requested array size exceeds VM limit") for a length near
        // Integer.MAX_VALUE: refused with the product, before the network runs
        HostArrays.length(op, "ids (N x length)", n, length);
        int scoresLength = HostArrays.length(op, "scores (N x V)", n, V);
        // the answers and a step's scores against the heap, before the network runs: length 1.5e9 with -Xmx2g was an
        // OutOfMemoryError out of this call
        long bytes = HostArrays.rowsBytes(n, length) + JavaHeap.arrayBytes(scoresLength, 4);
        if (!JavaHeap.fits(bytes)) {
            throw JavaHeap.refusal(op, "length " + length + ": the ids int[N=" + n + "][length=" + length
                    + "] and a step's scores float[N x V=" + V + "]", bytes);
        }
        float[] scores = new float[scoresLength];
        startGeneration();
        int[] cur = new int[n];
        Tensor ids = genWs.ints(1, n);
        int[][] out = new int[n][length];
        Tensor score = null;
        for (int s = 0; s < p; s++) {
            Interrupts.check(op, "prompt id", s, p);
            for (int i = 0; i < n; i++) {
                cur[i] = prompts[i][s];
            }
            backend.copyIn(ids, cur);
            score = scores(genNet, ids);
        }
        for (int s = 0; s < length; s++) {
            Interrupts.check(op, "step", s, length);
            backend.copyOut(scores, score);
            for (int i = 0; i < n; i++) {
                double u = sampling == Sampling.SAMPLE ? draw(seed, i, s) : 0;
                cur[i] = pick(op, scores, i * V, V, skip, sampling, u, i);
                out[i][s] = cur[i];
            }
            if (s + 1 < length) {
                backend.copyIn(ids, cur);
                score = scores(genNet, ids);
            }
        }
        return out;
    }

    /**
     * Beam search (see Beam): every prompt is fed K times, as rows n*K .. n*K + K-1 of one batch of M = N*K, so
     * the hypotheses start from equal states; then each step feeds the chosen words of all M rows at once.
     */
    @Override
    public Beam.Result beamSearch(int[][] prompts, int length, int beam, double lengthPenalty, int endId,
                                  int... skipIds) {
        return held("beamSearch", () -> beamSearchHeld(prompts, length, beam, lengthPenalty, endId, skipIds));
    }

    private Beam.Result beamSearchHeld(int[][] prompts, int length, int beam, double lengthPenalty, int endId,
                                       int... skipIds) {
        String op = op("beamSearch");
        Beam.requireBeam(op, beam);
        if (endId < -1 || endId >= V) {
            throw new IllegalArgumentException(op + ": end id " + endId + " is outside the vocabulary [0, V=" + V
                    + ") (use -1 for none)");
        }
        boolean[] skip = checkGenerate(op, prompts, length, skipIds);
        if (endId >= 0 && skip[endId]) {   // no hypothesis could end: it ran the full length as if endId were -1
            throw new IllegalArgumentException(op + ": end id " + endId + " is also in skipIds, which are never"
                    + " emitted, so no hypothesis could end with it; expected an end id outside skipIds, or -1 for none");
        }
        Beam.Options options;
        try {
            options = new Beam.Options(beam, endId, lengthPenalty, skip);
        } catch (IllegalArgumentException e) {   // the record's check names no call
            throw new IllegalArgumentException(op + ": " + e.getMessage(), e);
        }
        int n = prompts.length, p = prompts[0].length, m = Beam.rows(op, n, beam, V);
        Beam.requireRoom(op, length, n, beam, V, endId >= 0);
        Beam.requireSequences(op, options, length, V);
        startGeneration();
        if (beamState == null) {
            beamState = new BeamState(backend);
        }
        Tensor ids = genWs.ints(1, m);
        int[] cur = new int[m];
        Tensor score = null;
        for (int s = 0; s < p; s++) {
            Interrupts.check(op, "prompt id", s, p);
            for (int j = 0; j < m; j++) {
                cur[j] = prompts[j / beam][s];
            }
            backend.copyIn(ids, cur);
            score = scores(genNet, ids);
        }
        Network net = genNet;
        BeamState state = beamState;
        return Beam.search(op, backend, genWs, n, length, score, new Beam.Steps() {
            @Override
            public Tensor step(Tensor next) {
                return scores(net, next);
            }

            @Override
            public void reorder(Tensor parents) {
                net.reorderState(state, parents);
            }
        }, options);
    }

    /**
     * The uniform number in [0, 1) (53 bits) that draws word {@code step} of prompt {@code row} under {@code seed}:
     * output step + 1 of a SplitMix64 stream whose start mixes seed and row. A pure function of the three, so a
     * prompt's sampled words depend on its ids, the seed and its row alone; one java.util.Random drawn in turn by
     * every row made them depend on the other prompts of the batch.
     */
    static double draw(long seed, int row, int step) {
        long stream = SplitMix64.mix(SplitMix64.mix(seed) + (row + 1L) * SplitMix64.GOLDEN);
        return (SplitMix64.mix(stream + (step + 1L) * SplitMix64.GOLDEN) >>> 11) * 0x1.0p-53;
    }

    /**
     * The next id from row {@code row} of scores: the largest, or for SAMPLE the id where {@code u} (uniform in
     * [0, 1)) falls in the softmax over the ids not skipped (renormalised over them), never a skipped id. A NaN
     * or +Infinity score (weights that are not finite, or products that overflowed) is an IllegalStateException, as
     * in the seq2seq models' greedy decode and in beam search: argmax passed over NaN, a draw whose softmax sum is NaN
     * fell through to the last id, every time, and argmax took an overflowed score as the answer.
     */
    private static int pick(String op, float[] scores, int offset, int v, boolean[] skip, Sampling sampling, double u,
                            int row) {
        double max = Double.NEGATIVE_INFINITY;
        int best = -1;
        for (int j = 0; j < v; j++) {
            if (skip[j]) {
                continue;
            }
            float f = scores[offset + j];
            if (Float.isNaN(f) || f == Float.POSITIVE_INFINITY) {
                throw new NonFiniteScoresException(op + ": the scores of prompt " + row + " hold " + f + " (id "
                        + j + ")");
            }
            if (f > max) {
                max = f;
                best = j;
            }
        }
        if (best < 0) {   // checkGenerate leaves at least one id: every score left is -infinity
            throw new NonFiniteScoresException(op + ": every score of prompt " + row + " that is not skipped is"
                    + " -Infinity");
        }
        if (sampling == Sampling.ARGMAX) {
            return best;
        }
        double sum = 0;
        for (int j = 0; j < v; j++) {
            sum += skip[j] ? 0 : Math.exp(scores[offset + j] - max);
        }
        u *= sum;
        int last = best;
        for (int j = 0; j < v; j++) {
            if (skip[j]) {
                continue;
            }
            u -= Math.exp(scores[offset + j] - max);
            last = j;
            if (u < 0) {
                return j;
            }
        }
        return last;
    }

    @Override
    protected void closeLayers() {
        net.close();
        if (genNet != null) {
            genNet.close();
        }
        if (beamState != null) {
            beamState.close();
        }
        softmax.close();
    }

    /**
     * The network's scores for ids (T, N), held to (T, N, V): a network of one's own that returned another width was
     * taken, its loss computed over the wrong columns, and generation failed later in a copy's words (an adopter's
     * find).
     */
    private Tensor scores(Network network, Tensor ids) {
        Tensor score = network.predict(ids);
        requireScores(nameOf(getClass()), "Network.predict", "ids", score, ids.dim(0), ids.dim(1), V);
        return score;
    }
}
