// Beam search over any decoder that can take one step for M = N*K rows: N questions (or prompts) times K
// hypotheses advance together, one decoder forward per step for all of them; the top-K choice per question
// runs on the host over the copied-out scores (N*K*V floats per step).
//
// Scores. Each step's scores s (M, V) become log-probabilities by a log-softmax computed stably in double:
// log p_v = s_v - (max + log sum_u exp(s_u - max)). A hypothesis' log-probability is the sum of the
// log-probabilities of the tokens it emitted (the start id and any prompt excluded). Hypotheses are ranked
// by that sum; finished hypotheses (those that emitted the end id, when one is given) and the full-length
// ones are finally ranked by sum / length^alpha (GNMT's length penalty in its plain form; alpha = 0, the
// default, is no penalty). Without an end id every hypothesis has the same length and alpha changes nothing.
//
// Finished hypotheses. The result holds K per question, so the search keeps only the K best finished ones of each
// question (by the final ranking, earlier ones first among equals), one backtracked copy each, and drops the worst when
// a better one finishes: kept all, they were a copy of up to length ids for every hypothesis that ever emitted the
// end id, O(length^2) ids even for K = 1 (a red-team pass: --beam 1 --length 65536 --end "<eos>" on a small language
// model ran out of a 6 GB heap). The answer is the same: a hypothesis below the K-th kept one could never be returned.
// A question is done once its K-th finished hypothesis ranks at least as well as anything its live ones can still
// become: their descendants' log-probabilities only fall (every token adds a log-probability <= 0) and are at most
// `length` long, so none ranks better than log(-logP_best) - alpha log(length) in the ranking's log space (monotone in
// floating point too), and on a tie the one finished earlier wins. Once every question is done the search stops; the
// steps it skips could not change the answer (their scores are not computed, so not checked either).
//
// What it finds. Beam search keeps the K likeliest prefixes at each step and drops the others for good, so it is not
// exact search: a wider beam is not guaranteed to find an answer at least as likely as a narrower one's, nor K >= 2 one
// at least as likely as greedy's (K = 1). Greedy's prefix can be pruned at a later step by K others whose continuations
// all turn out less likely; the generation audit (2026-12-03) found such questions on small seq2seq models with
// random weights (a reference search built on teacher forcing alone pruned the same way, so it is beam search's, not
// this code's). Only K large enough to keep every prefix (V^(length-1)) is exhaustive.
//
// Ties. Candidates with equal totals are ordered by their raw score, then by hypothesis, then by token id.
// Since the total is a non-decreasing function of the raw score within one row, K = 1 picks exactly the
// first largest raw score, which is what greedy's argmax picks: K = 1 is bit-identical to greedy decoding.
// Scores of a live hypothesis that hold NaN or +Infinity, or that are -Infinity for every id it may emit (weights that
// are not finite), are an IllegalStateException, as in greedy generation: ranked, they only filled the K slots with
// dead hypotheses (id 0, log-probability -Infinity) that came back as answers. Any finite scores are ranked (the
// log-softmax is computed in double and cannot overflow); an id whose score is -Infinity is a candidate of
// log-probability -Infinity.
//
// Layout: hypothesis k of question n is row n*K + k of every decoder tensor; the decoder's state of row j
// continues row parents[j] after each step, and parents never leave their question's K rows, so anything
// derived from the encoding alone (attention over the encoder's states, the peeky h) needs no reordering.
package org.seq4j.models;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.seq4j.backend.Backend;
import org.seq4j.internal.JavaHeap;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

/**
 * Beam search over any decoder that can take one step for M = N*K rows (N questions times K hypotheses):
 * hypotheses are ranked by their summed log-probabilities, finished ones by sum / length^alpha; K = 1 is
 * bit-identical to greedy decoding, and refuses the scores greedy refuses. Hypothesis k of question n is row n*K + k.
 * It prunes: the best answer of K &gt;= 2 is not guaranteed to be at least as likely as greedy's (K = 1), since
 * greedy's prefix may be dropped at a later step; only a beam that keeps every prefix is exhaustive.
 */
public final class Beam {
    private Beam() {
    }

    /** A decoder driven one step at a time for M rows (N questions times K hypotheses). */
    public interface Steps {
        /**
         * One decoder step; carries the decoder's state to the next call.
         *
         * @param ids (1, M) int32, each row's last token
         * @return scores (1, M, V), the decoder's buffer, valid until the next call
         */
        Tensor step(Tensor ids);

        /**
         * Row j of the carried state becomes a copy of row parents[j].
         *
         * @param parents (M,) int32, each within its own question's K rows
         */
        void reorder(Tensor parents);
    }

    /**
     * What a beam search found: for question n, sequences[n][k] best first (k &lt; K), their summed log-probabilities
     * logProbs[n][k] and the ranking scores[n][k] = logProbs / length^alpha. A sequence is shorter than the
     * requested length only when it ended with the end id (which it includes). Equality, the hash and toString go by
     * the arrays' contents (a record's own went by their identities: two searches with the same answers were not
     * equal, and toString printed "[[[I@1b6d3586"); doubles compare as {@link Double#equals} does.
     *
     * @param sequences int[N][K][], the token ids of each hypothesis, best first
     * @param logProbs  double[N][K], each hypothesis' summed log-probability (natural log)
     * @param scores    double[N][K], each hypothesis' ranking score, descending
     */
    public record Result(int[][][] sequences, double[][] logProbs, double[][] scores) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Result r && Arrays.deepEquals(sequences, r.sequences)
                    && Arrays.deepEquals(logProbs, r.logProbs) && Arrays.deepEquals(scores, r.scores);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.deepHashCode(sequences) + Arrays.deepHashCode(logProbs))
                    + Arrays.deepHashCode(scores);
        }

        @Override
        public String toString() {
            return "Result[sequences=" + Arrays.deepToString(sequences) + ", logProbs=" + Arrays.deepToString(logProbs)
                    + ", scores=" + Arrays.deepToString(scores) + "]";
        }

        /**
         * The best sequence of every question.
         *
         * @return int[N][], sequences[n][0] for every n
         */
        public int[][] best() {
            int[][] out = new int[sequences.length][];
            for (int n = 0; n < out.length; n++) {
                out[n] = sequences[n][0];
            }
            return out;
        }
    }

    /**
     * How to search: K hypotheses per question; an end id that finishes a hypothesis (-1: none, every hypothesis
     * runs the full length); the length penalty alpha >= 0; ids never emitted (skip[v], or null for none).
     *
     * @param beam          K, hypotheses kept per question, at least 1
     * @param endId         the id that finishes a hypothesis, or -1 for none
     * @param lengthPenalty alpha, finite and &gt;= 0; 0 is no penalty
     * @param skip          skip[v]: id v is never emitted; null for none
     */
    public record Options(int beam, int endId, double lengthPenalty, boolean[] skip) {
        /**
         * Checks the options.
         *
         * @throws IllegalArgumentException if beam &lt; 1 or lengthPenalty is not a finite number &gt;= 0
         */
        public Options {
            if (beam < 1) {
                throw new IllegalArgumentException("beam search needs a beam width K >= 1, got " + beam);
            }
            if (!(lengthPenalty >= 0) || Double.isInfinite(lengthPenalty)) {
                throw new IllegalArgumentException("the length penalty alpha must be a finite number >= 0, got "
                        + lengthPenalty);
            }
        }

        /**
         * Plain beam search: no end id, no length penalty, no skipped ids.
         *
         * @param beam K, at least 1
         * @return the options
         * @throws IllegalArgumentException if beam &lt; 1
         */
        public static Options of(int beam) {
            return new Options(beam, -1, 0, null);
        }
    }

    /** Checks a beam width at a public entry point, naming the operation. */
    static void requireBeam(String op, int beam) {
        if (beam < 1) {
            throw new IllegalArgumentException(op + ": the beam width K must be >= 1, got " + beam);
        }
    }

    /**
     * M = N * K, the rows every step of the search runs: N questions or prompts times the beam width K. Checked before
     * anything runs, with the scores a step copies to the host (N x K x V floats in one array): past that, the search
     * ended in an OutOfMemoryError ("Requested array size exceeds VM limit") after the encoding was repeated K times.
     */
    static int rows(String op, int n, int beam, int v) {
        long m = (long) n * beam;
        if (m > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": N = " + n + " questions times the beam width K = " + beam
                    + " is " + m + " hypotheses, more than the " + Integer.MAX_VALUE + " rows a batch can have");
        }
        HostArrays.length(op, "a step's scores (N x K x V)", n, beam, v);
        return (int) m;
    }

    /**
     * The ids every step of the search keeps for its backtracking (two int[length][N*K] arrays, N x K ids a step), as
     * one Java array could hold them, and what the search allocates on the heap (those two, a step's scores, the K
     * sequences of every question and, with an end id, the K best finished hypotheses of every question it keeps on the
     * way) against what is free: checked before anything runs. A length near
     * Integer.MAX_VALUE ended in an OutOfMemoryError ("Requested array size exceeds VM limit"), in the seq2seq models
     * after the encoder had run, and a length past the heap in an OutOfMemoryError out of the call.
     */
    static void requireRoom(String op, int length, int n, int beam, int v, boolean ends) {
        HostArrays.length(op, "the hypotheses' ids (length x N x K)", length, n, beam);
        long m = (long) n * beam;
        long bytes = roomBytes(length, n, beam, v, ends);
        if (!JavaHeap.fits(bytes)) {
            throw JavaHeap.refusal(op, "length " + length + ": the hypotheses' ids (two int[length][N x K=" + m
                    + "]), a step's scores float[N x K x V=" + v + "]" + (ends ? ", the finished hypotheses kept" : "")
                    + " and the sequences found", bytes);
        }
    }

    /** The bytes requireRoom asks the heap for (length x N x K fits an int, N x K x V was checked by rows). */
    static long roomBytes(int length, int n, int beam, int v, boolean ends) {
        long m = (long) n * beam;
        long bytes = 2 * HostArrays.rowsBytes(length, m) + JavaHeap.arrayBytes(JavaHeap.multiply(m, v), 4)
                + HostArrays.rowsBytes(m, length);
        if (ends) {   // the K best finished hypotheses of every question, up to length ids each
            bytes += HostArrays.rowsBytes(m, length);
        }
        return bytes;
    }

    /**
     * Refuses a beam wider than the sequences there are to rank: the slots no candidate fills stay dead hypotheses
     * (id 0, log-probability -Infinity), and came back as answers. Each step has c = V minus the skipped ids
     * candidates per hypothesis; a search that never fills its K slots is exhaustive, so it returns dead ones exactly
     * when K exceeds the number of sequences: c^length without an end id; with one (not skipped), those it ends
     * after s ids, (c-1)^(s-1) for s = 1..length, plus the (c-1)^length of full length that never emit it.
     */
    static void requireSequences(String op, Options opt, int length, int v) {
        int skipped = 0;
        if (opt.skip() != null) {
            for (int t = 0; t < Math.min(v, opt.skip().length); t++) {
                skipped += opt.skip()[t] ? 1 : 0;
            }
        }
        int c = v - skipped;
        boolean ends = opt.endId() >= 0 && opt.endId() < v && (opt.skip() == null || !opt.skip()[opt.endId()]);
        long k = opt.beam();
        long sequences;   // exact while below K; once it reaches K it stops counting
        if (!ends) {
            sequences = Math.max(c, 0);
            for (int s = 1; c > 1 && s < length && sequences < k; s++) {
                sequences *= c;
            }
        } else if (c <= 2) {   // w = c - 1 ids go on. w = 0: only [end]; w = 1: one ending at each step, one never
            sequences = c <= 1 ? 1 : length + 1L;
        } else {
            long w = c - 1, total = 0, power = 1;   // power = w^(s-1), at most K
            int s = 1;
            for (; s <= length && total < k; s++) {
                total += power;
                power = Math.min(power * w, k);
            }
            sequences = total < k ? total + power : total;   // total < k: s ran past length, power = w^length
        }
        if (k > sequences) {
            String which = ends ? " sequences of at most " + length + (length == 1 ? " id" : " ids")
                    + " (those the end id " + opt.endId() + " ends, and those of full length)"
                    : " sequences of " + length + (length == 1 ? " id" : " ids");
            throw new IllegalArgumentException(op + ": the beam width K = " + k + " is more than the " + sequences
                    + which + " there are to rank, from " + c + " candidates a step (V = " + v + " ids, " + skipped
                    + " skipped); expected K <= " + sequences + " (the hypotheses left over would come back dead, of"
                    + " log-probability -Infinity)");
        }
    }

    /**
     * Copies an encoding (..., N, C) K times per row: out (..., N*K, C) with out[..., n*K + k, :] = in[..., n, :],
     * by one row gather (the embedding kernel) with the table in[...] seen as (P*N, C). The result lives in ws.
     */
    static Tensor repeat(String op, Backend backend, Workspace ws, Tensor encoding, int k) {
        int rank = encoding.rank();
        int n = encoding.dim(rank - 2), c = encoding.dim(rank - 1);
        long p = 1;   // the dimensions before N: an attention model's T, 1 for an encoding (N, C)
        for (int d = 0; d < rank - 2; d++) {
            p *= encoding.dim(d);   // each < 2^31, and p x N x C elements lie in memory: no long overflow
        }
        // P x N x K rows in one gather (int rows, an int[] of ids): past int's range, Math.multiplyExact's bare
        // ArithmeticException ("integer overflow") came out of the public call, naming none
        long total = JavaHeap.multiply(p * n, k);   // saturated: p x N alone may pass 2^32
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": the encoding " + Tensor.shapeString(encoding.shape())
                    + " repeated for K = " + k + " hypotheses is " + p + " x " + n + " x " + k + " = " + total
                    + " rows, more than the " + Integer.MAX_VALUE + " one gather takes; use a smaller beam, fewer "
                    + "questions at a time or shorter questions");
        }
        int rows = (int) total;
        int[] ids = new int[rows];
        for (int i = 0; i < p; i++) {
            for (int q = 0; q < n; q++) {
                for (int j = 0; j < k; j++) {
                    ids[(i * n + q) * k + j] = i * n + q;
                }
            }
        }
        Tensor idsT = ws.ints(rows);
        backend.copyIn(idsT, ids);
        int[] shape = encoding.shape();
        shape[rank - 2] = Math.multiplyExact(n, k);
        Tensor out = ws.floats(shape);
        backend.embeddingForward(out.view(rows, c), encoding.view((int) p * n, c), idsT);
        return out;
    }

    /**
     * Runs the search for N questions ({@code op}, the public call, names it in messages). {@code first} holds the scores (1, M, V) of the first generated token
     * (the decoder has already read the start id or the prompt, for all M = N*K rows); each later step feeds
     * the chosen ids through {@code steps}. Returns the K best sequences of at most {@code length} ids each.
     */
    static Result search(String op, Backend backend, Workspace ws, int n, int length, Tensor first, Steps steps,
                         Options opt) {
        return search(op, backend, ws, n, length, first, steps, opt, new Kept(n, opt.beam(), opt.lengthPenalty()));
    }

    /** As above, keeping the finished hypotheses in {@code finished} (made for these n, K and alpha): tests read it. */
    static Result search(String op, Backend backend, Workspace ws, int n, int length, Tensor first, Steps steps,
                         Options opt, Kept finished) {
        if (length < 1) {
            throw new IllegalArgumentException(op + ": needs length >= 1, got " + length);
        }
        int k = opt.beam();
        int m = Math.multiplyExact(n, k);
        int v = first.dim(first.rank() - 1);
        if (first.size() != (long) m * v) {
            throw new IllegalArgumentException("beam search: scores " + first + " are not (1, M=" + m + ", V)");
        }
        if (opt.skip() != null && opt.skip().length != v) {
            throw new IllegalArgumentException("beam search: the skip mask has " + opt.skip().length
                    + " entries for a vocabulary of V=" + v);
        }
        if (opt.endId() >= v) {
            throw new IllegalArgumentException("beam search: end id " + opt.endId() + " is outside the vocabulary [0, V="
                    + v + ")");
        }
        requireRoom(op, length, n, k, v, opt.endId() >= 0);
        if (finished.k != k || finished.size.length != n || Double.compare(finished.alpha, opt.lengthPenalty()) != 0) {
            throw new IllegalArgumentException("beam search: finished hypotheses kept for N=" + finished.size.length
                    + ", K=" + finished.k + ", alpha " + finished.alpha + ", not N=" + n + ", K=" + k + ", alpha "
                    + opt.lengthPenalty());
        }
        requireSequences("beam search", opt, length, v);
        int cap = opt.endId() >= 0 ? 2 * k : k;          // room for up to K end ids above the K-th survivor
        float[] scores = new float[HostArrays.length("beam search", "a step's scores (N x K x V)", n, k, v)];
        double[] beamLogP = new double[m];
        double[] nextLogP = new double[m];
        int[][] parent = new int[length][m];
        int[][] token = new int[length][m];
        int[] parentsHost = new int[m];
        Tensor ids = ws.ints(1, m);
        Tensor parents = ws.ints(m);
        // at the start the K hypotheses of a question are one: only hypothesis 0 is alive
        for (int j = 0; j < m; j++) {
            beamLogP[j] = j % k == 0 ? 0 : Double.NEGATIVE_INFINITY;
        }
        double[] lse = new double[k];
        double[] candTotal = new double[cap];
        float[] candRaw = new float[cap];
        int[] candHyp = new int[cap];
        int[] candTok = new int[cap];
        Tensor score = first;
        boolean stopped = false;   // every question done before the last step: the live hypotheses cannot rank
        for (int s = 0; s < length; s++) {
            Interrupts.check(op, "step", s, length);
            backend.copyOut(scores, score);
            for (int q = 0; q < n; q++) {
                int base = q * k;
                for (int b = 0; b < k; b++) {
                    lse[b] = logSumExp(scores, (base + b) * v, v);
                    if (beamLogP[base + b] != Double.NEGATIVE_INFINITY
                            && (Double.isNaN(lse[b]) || lse[b] == Double.POSITIVE_INFINITY)) {
                        // a live hypothesis' scores hold NaN or +Infinity: ranking them would only make dead
                        // hypotheses (id 0, -Infinity) look like an answer, as greedy's argmax once did
                        throw new NonFiniteScoresException(op + ": at step " + (s + 1) + " the scores of question "
                                + q + ", hypothesis " + b + " hold " + (Double.isNaN(lse[b]) ? "NaN" : "Infinity"));
                    }
                }
                // the cap best candidates over this question's live hypotheses, best first
                int count = 0;
                for (int b = 0; b < k; b++) {
                    double prev = beamLogP[base + b];
                    if (prev == Double.NEGATIVE_INFINITY || Double.isNaN(lse[b])) {
                        continue;
                    }
                    int row = (base + b) * v;
                    boolean any = false;   // a candidate of finite log-probability: an id whose score is not -Infinity
                    for (int t = 0; t < v; t++) {
                        if (opt.skip() != null && opt.skip()[t]) {
                            continue;
                        }
                        float raw = scores[row + t];
                        any |= raw != Float.NEGATIVE_INFINITY;
                        double total = prev + ((double) raw - lse[b]);
                        if (Double.isNaN(total)) {
                            continue;
                        }
                        if (count == cap && !better(total, raw, candTotal[cap - 1], candRaw[cap - 1])) {
                            continue;   // ties keep the earlier (smaller hypothesis, then token) candidate
                        }
                        int at = count < cap ? count++ : cap - 1;
                        while (at > 0 && better(total, raw, candTotal[at - 1], candRaw[at - 1])) {
                            candTotal[at] = candTotal[at - 1];
                            candRaw[at] = candRaw[at - 1];
                            candHyp[at] = candHyp[at - 1];
                            candTok[at] = candTok[at - 1];
                            at--;
                        }
                        candTotal[at] = total;
                        candRaw[at] = raw;
                        candHyp[at] = b;
                        candTok[at] = t;
                    }
                    if (!any) {
                        // every id it may emit has probability 0 (all -Infinity: log-softmax is NaN, or -Infinity where
                        // only skipped ids are finite): it would fill the slots with dead hypotheses (id 0, -Infinity)
                        // that came back as answers, where greedy generate refuses the same scores
                        throw new NonFiniteScoresException(op + ": at step " + (s + 1) + " the scores of question "
                                + q + ", hypothesis " + b + " are -Infinity for every id" + (opt.skip() != null
                                ? " that is not skipped" : "") + ", so no id can follow it");
                    }
                }
                // walk them: end ids finish a hypothesis, the others fill the K slots
                int filled = 0;
                for (int c = 0; c < count && filled < k; c++) {
                    if (candTok[c] == opt.endId()) {
                        int at = finished.place(q, candTotal[c], s + 1);
                        if (at >= 0) {   // among the K best finished so far: its ids are copied out, the K+1-th dropped
                            finished.insert(q, at, backtrack(parent, token, s, base + candHyp[c], candTok[c]),
                                    candTotal[c]);
                        }
                        continue;
                    }
                    int j = base + filled++;
                    parent[s][j] = base + candHyp[c];
                    token[s][j] = candTok[c];
                    nextLogP[j] = candTotal[c];
                }
                for (; filled < k; filled++) {     // fewer live candidates than K: dead slots
                    int j = base + filled;
                    parent[s][j] = base;
                    token[s][j] = 0;
                    nextLogP[j] = Double.NEGATIVE_INFINITY;
                }
            }
            double[] swap = beamLogP;
            beamLogP = nextLogP;
            nextLogP = swap;
            if (s + 1 < length && opt.endId() >= 0 && finished.allDone(beamLogP, length)) {
                stopped = true;
                break;
            }
            if (s + 1 < length) {
                boolean identity = true;
                for (int j = 0; j < m; j++) {
                    parentsHost[j] = parent[s][j];
                    identity &= parent[s][j] == j;
                }
                if (!identity) {
                    backend.copyIn(parents, parentsHost);
                    steps.reorder(parents);
                }
                backend.copyIn(ids, token[s]);
                score = steps.step(ids);
            }
        }
        return collect(n, k, length, parent, token, stopped ? null : beamLogP, finished, opt.lengthPenalty());
    }

    private record Finished(int[] sequence, double logProb) {
    }

    /**
     * The finished hypotheses a search keeps: per question at most the K best so far in the order of the final
     * ranking (logMagnitude ascending, the one finished earlier first among equals), all that its result can return.
     */
    static final class Kept {
        final int k;
        final double alpha;
        private final Finished[][] best;      // [question][0 .. size), best first
        private final double[][] magnitude;   // logMagnitude of each
        private final int[] size;
        private final boolean[] done;
        private long finished;                // hypotheses that emitted the end id, kept or not
        private int held, peak;

        Kept(int n, int k, double alpha) {
            this.k = k;
            this.alpha = alpha;
            best = new Finished[n][];
            magnitude = new double[n][];
            size = new int[n];
            done = new boolean[n];
        }

        /**
         * Where a hypothesis of question q that finishes now with {@code logP} and {@code length} ids ranks among the
         * kept ones (after every one of equal rank, as it finished later), or -1 if K rank before it. Counts it.
         */
        int place(int q, double logP, int length) {
            finished++;
            double mag = logMagnitude(logP, length, alpha);
            int at = size[q];
            while (at > 0 && Double.compare(mag, magnitude[q][at - 1]) < 0) {
                at--;
            }
            return at < k ? at : -1;
        }

        /** Puts it at {@code at} (from place), dropping the K+1-th. */
        void insert(int q, int at, int[] sequence, double logP) {
            if (best[q] == null) {
                best[q] = new Finished[k];
                magnitude[q] = new double[k];
            }
            if (size[q] == k) {
                size[q]--;   // the worst goes
                held--;
            }
            System.arraycopy(best[q], at, best[q], at + 1, size[q] - at);
            System.arraycopy(magnitude[q], at, magnitude[q], at + 1, size[q] - at);
            best[q][at] = new Finished(sequence, logP);
            magnitude[q][at] = logMagnitude(logP, sequence.length, alpha);
            size[q]++;
            peak = Math.max(peak, ++held);
        }

        /**
         * Whether no hypothesis still live (logP[q*K .. q*K + K), after a step) can rank before the K-th kept one of
         * its question, for every question: see the class comment. A question once done stays done.
         */
        boolean allDone(double[] logP, int length) {
            boolean all = true;
            for (int q = 0; q < size.length; q++) {
                if (!done[q] && size[q] == k) {
                    double live = Double.NEGATIVE_INFINITY;
                    for (int b = 0; b < k; b++) {
                        live = Math.max(live, logP[q * k + b]);
                    }
                    // the best any descendant can rank: its log-probability at most live's, its length at most length
                    done[q] = Double.compare(magnitude[q][k - 1], logMagnitude(live, length, alpha)) <= 0;
                }
                all &= done[q];
            }
            return all;
        }

        /** The kept hypotheses of question q, best first. */
        List<Finished> of(int q) {
            return size[q] == 0 ? List.of() : Arrays.asList(best[q]).subList(0, size[q]);
        }

        /** How many hypotheses emitted the end id so far, kept or not. */
        long finished() {
            return finished;
        }

        /** The most finished hypotheses kept at once, over all questions (at most N x K). */
        int peak() {
            return peak;
        }
    }

    /** Whether candidate (total, raw) ranks above (total2, raw2); equal ones do not (first come stays first). */
    private static boolean better(double total, float raw, double total2, float raw2) {
        return total > total2 || (total == total2 && raw > raw2);
    }

    /** log sum_u exp(x_u) over one row, in double, with the maximum subtracted first; NaN if the row holds NaN. */
    private static double logSumExp(float[] x, int offset, int v) {
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < v; t++) {
            float f = x[offset + t];
            if (Float.isNaN(f)) {
                return Double.NaN;
            }
            max = Math.max(max, f);
        }
        if (Double.isInfinite(max)) {
            return max;
        }
        double sum = 0;
        for (int t = 0; t < v; t++) {
            sum += Math.exp(x[offset + t] - max);
        }
        return max + Math.log(sum);
    }

    /** The ids of hypothesis j up to step s, followed by {@code last} at step s. */
    private static int[] backtrack(int[][] parent, int[][] token, int s, int j, int last) {
        int[] seq = new int[s + 1];
        seq[s] = last;
        for (int t = s - 1; t >= 0; t--) {
            seq[t] = token[t][j];
            j = parent[t][j];
        }
        return seq;
    }

    /** The K best of the kept finished and (unless logP is null: the search stopped early) the live hypotheses. */
    private static Result collect(int n, int k, int length, int[][] parent, int[][] token, double[] logP,
                                  Kept finished, double alpha) {
        int[][][] sequences = new int[n][k][];
        double[][] logProbs = new double[n][k];
        double[][] ranks = new double[n][k];
        for (int q = 0; q < n; q++) {
            List<Finished> all = new ArrayList<>(finished.of(q));
            for (int b = 0; logP != null && b < k; b++) {
                int j = q * k + b;
                all.add(new Finished(backtrack(parent, token, length - 1, parent[length - 1][j], token[length - 1][j]),
                        logP[j]));
            }
            // stable: among equal scores the earlier (finished first, then beam order) wins; the kept finished ones
            // are in the order of this sort already
            Finished[] sorted = all.toArray(Finished[]::new);
            double[] rank = new double[sorted.length], magnitude = new double[sorted.length];
            Integer[] order = new Integer[sorted.length];
            for (int i = 0; i < sorted.length; i++) {
                rank[i] = penalised(sorted[i], alpha);
                magnitude[i] = logMagnitude(sorted[i].logProb(), sorted[i].sequence().length, alpha);
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Double.compare(magnitude[a], magnitude[b]));
            for (int b = 0; b < k; b++) {
                Finished f = sorted[order[b]];
                sequences[q][b] = f.sequence();
                logProbs[q][b] = f.logProb();
                ranks[q][b] = rank[order[b]];
            }
        }
        return new Result(sequences, logProbs, ranks);
    }

    private static double penalised(Finished f, double alpha) {
        return alpha == 0 ? f.logProb() : f.logProb() / Math.pow(f.sequence().length, alpha);
    }

    /**
     * The order of penalised(f, alpha), in log space: log(-logP) - alpha log(length), smaller is better (the score
     * -exp of it is nearer 0). Ranking by the score itself failed for large alpha: length^alpha overflowed and every
     * score of a length became -0.0, the ties then broken by beam order, not by log-probability (alpha 700 at length 3
     * put a hypothesis of log-probability -4.13 before one of -3.39 of the same length).
     */
    private static double logMagnitude(double logP, int length, double alpha) {
        if (logP == 0) {
            return Double.NEGATIVE_INFINITY;   // probability 1: score 0, the best there is
        }
        return Math.log(-logP) - (alpha == 0 ? 0 : alpha * Math.log(length));
    }
}
