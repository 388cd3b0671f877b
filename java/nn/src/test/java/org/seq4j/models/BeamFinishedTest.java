// Beam search with an end id keeps only the K best finished hypotheses of each question (it kept a copy of every one
// that ever emitted the end id: O(length^2) ids even for K = 1, a red-team find) and stops once no live hypothesis can
// rank before them. The answers are those of the search that kept them all: ReferenceSearch below is that search as it
// was, compared exactly (sequences, log-probabilities, scores, order) on a scripted decoder whose integer logits make
// ties and end ids frequent, and on a small language model whose weights favour the end id.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class BeamFinishedTest {
    static final int V = 5, END = 2;

    /**
     * A decoder whose scores are a function of each row's ids so far (a hash of them, carried as the row's state, so a
     * wrong reorder shows): integer logits 0..2 (many equal totals), the end id's raised by {@code endBoost}, and now
     * and then an id at -Infinity (never all). Flat, the logits depend on the step alone: every hypothesis of a length
     * has the same log-probability, and which of them come back is decided by the ties' rules alone. Counts its steps.
     */
    static final class Hashed implements Beam.Steps {
        final Backend backend;
        final Tensor scores;
        final long seed;
        final float endBoost;
        final boolean flat;
        long[] state;
        int steps;

        Hashed(Backend backend, Arena arena, int m, long seed, float endBoost) {
            this(backend, arena, m, seed, endBoost, false);
        }

        Hashed(Backend backend, Arena arena, int m, long seed, float endBoost, boolean flat) {
            this.flat = flat;
            this.backend = backend;
            this.scores = backend.allocate(arena, DType.F32, 1, m, V);
            this.seed = seed;
            this.endBoost = endBoost;
            this.state = new long[m];
            Arrays.fill(state, mix(seed));
        }

        static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }

        Tensor start() {
            return fill();
        }

        private Tensor fill() {
            float[] s = new float[state.length * V];
            for (int j = 0; j < state.length; j++) {
                for (int v = 0; v < V; v++) {
                    long h = mix((flat ? mix(seed + steps) : state[j]) + 31L * v + 7);
                    float logit = (float) Math.floorMod(h, 3L);
                    if (v == END) {
                        logit += endBoost;
                    } else if (v == 4 && Math.floorMod(h >>> 8, 5L) == 0) {
                        logit = Float.NEGATIVE_INFINITY;   // an id of probability 0 now and then
                    }
                    s[j * V + v] = logit;
                }
            }
            backend.copyIn(scores, s);
            return scores;
        }

        @Override
        public Tensor step(Tensor ids) {
            steps++;
            int[] id = new int[state.length];
            backend.copyOut(id, ids);
            for (int j = 0; j < id.length; j++) {
                state[j] = mix(state[j] * 31 + id[j] + 1);
            }
            return fill();
        }

        @Override
        public void reorder(Tensor parents) {
            int[] p = new int[state.length];
            backend.copyOut(p, parents);
            long[] next = new long[state.length];
            for (int j = 0; j < next.length; j++) {
                next[j] = state[p[j]];
            }
            state = next;
        }
    }

    /** What the reference search returned and how many hypotheses emitted the end id in it. */
    record Reference(Beam.Result result, long finished) {
    }

    /**
     * Beam search as it was before it pruned its finished hypotheses (seq4j 2e87204, Beam.search without its checks):
     * every hypothesis that emits the end id is kept whole, the search runs every step, and the K best of all
     * finished and full-length ones are picked by a stable sort on log(-logP) - alpha log(length).
     */
    static Reference referenceSearch(Backend backend, int n, int length, Tensor first, Beam.Steps steps,
                                     Beam.Options opt) {
        int k = opt.beam(), m = n * k, v = first.dim(first.rank() - 1), cap = opt.endId() >= 0 ? 2 * k : k;
        float[] scores = new float[m * v];
        double[] beamLogP = new double[m], nextLogP = new double[m];
        int[][] parent = new int[length][m], token = new int[length][m];
        int[] parentsHost = new int[m];
        Tensor ids, parents;
        try (Workspace ws = new Workspace(backend)) {
            ids = ws.ints(1, m);
            parents = ws.ints(m);
            List<List<int[]>> finSeq = new ArrayList<>();
            List<List<Double>> finLogP = new ArrayList<>();
            for (int q = 0; q < n; q++) {
                finSeq.add(new ArrayList<>());
                finLogP.add(new ArrayList<>());
            }
            long finished = 0;
            for (int j = 0; j < m; j++) {
                beamLogP[j] = j % k == 0 ? 0 : Double.NEGATIVE_INFINITY;
            }
            double[] lse = new double[k], candTotal = new double[cap];
            float[] candRaw = new float[cap];
            int[] candHyp = new int[cap], candTok = new int[cap];
            Tensor score = first;
            for (int s = 0; s < length; s++) {
                backend.copyOut(scores, score);
                for (int q = 0; q < n; q++) {
                    int base = q * k, count = 0;
                    for (int b = 0; b < k; b++) {
                        lse[b] = logSumExp(scores, (base + b) * v, v);
                    }
                    for (int b = 0; b < k; b++) {
                        double prev = beamLogP[base + b];
                        if (prev == Double.NEGATIVE_INFINITY || Double.isNaN(lse[b])) {
                            continue;
                        }
                        for (int t = 0; t < v; t++) {
                            if (opt.skip() != null && opt.skip()[t]) {
                                continue;
                            }
                            float raw = scores[(base + b) * v + t];
                            double total = prev + ((double) raw - lse[b]);
                            if (Double.isNaN(total) || count == cap
                                    && !better(total, raw, candTotal[cap - 1], candRaw[cap - 1])) {
                                continue;
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
                    }
                    int filled = 0;
                    for (int c = 0; c < count && filled < k; c++) {
                        if (candTok[c] == opt.endId()) {
                            finSeq.get(q).add(backtrack(parent, token, s, base + candHyp[c], candTok[c]));
                            finLogP.get(q).add(candTotal[c]);
                            finished++;
                            continue;
                        }
                        int j = base + filled++;
                        parent[s][j] = base + candHyp[c];
                        token[s][j] = candTok[c];
                        nextLogP[j] = candTotal[c];
                    }
                    for (; filled < k; filled++) {
                        parent[s][base + filled] = base;
                        token[s][base + filled] = 0;
                        nextLogP[base + filled] = Double.NEGATIVE_INFINITY;
                    }
                }
                double[] swap = beamLogP;
                beamLogP = nextLogP;
                nextLogP = swap;
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
            double alpha = opt.lengthPenalty();
            int[][][] sequences = new int[n][k][];
            double[][] logProbs = new double[n][k], ranks = new double[n][k];
            for (int q = 0; q < n; q++) {
                List<int[]> seqs = new ArrayList<>(finSeq.get(q));
                List<Double> logPs = new ArrayList<>(finLogP.get(q));
                for (int b = 0; b < k; b++) {
                    int j = q * k + b;
                    seqs.add(backtrack(parent, token, length - 1, parent[length - 1][j], token[length - 1][j]));
                    logPs.add(beamLogP[j]);
                }
                Integer[] order = new Integer[seqs.size()];
                double[] magnitude = new double[order.length];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                    double logP = logPs.get(i);
                    magnitude[i] = logP == 0 ? Double.NEGATIVE_INFINITY
                            : Math.log(-logP) - (alpha == 0 ? 0 : alpha * Math.log(seqs.get(i).length));
                }
                Arrays.sort(order, (a, b) -> Double.compare(magnitude[a], magnitude[b]));
                for (int b = 0; b < k; b++) {
                    int[] seq = seqs.get(order[b]);
                    double logP = logPs.get(order[b]);
                    sequences[q][b] = seq;
                    logProbs[q][b] = logP;
                    ranks[q][b] = alpha == 0 ? logP : logP / Math.pow(seq.length, alpha);
                }
            }
            return new Reference(new Beam.Result(sequences, logProbs, ranks), finished);
        }
    }

    private static boolean better(double total, float raw, double total2, float raw2) {
        return total > total2 || (total == total2 && raw > raw2);
    }

    private static double logSumExp(float[] x, int offset, int v) {
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < v; t++) {
            if (Float.isNaN(x[offset + t])) {
                return Double.NaN;
            }
            max = Math.max(max, x[offset + t]);
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

    private static int[] backtrack(int[][] parent, int[][] token, int s, int j, int last) {
        int[] seq = new int[s + 1];
        seq[s] = last;
        for (int t = s - 1; t >= 0; t--) {
            seq[t] = token[t][j];
            j = parent[t][j];
        }
        return seq;
    }

    /**
     * Many searches on the scripted decoder (N = 1 and 3, K = 1..4, alpha 0 to 3, lengths 1 to 14, end ids frequent
     * and rare, logits of the prefix or, flat, of the step alone: ties everywhere): each returns exactly what the search that kept every finished hypothesis returned. Among them are
     * searches where far more than K hypotheses per question finished, and searches that stopped early.
     */
    @Test
    void keepingTheKBestFinishedHypothesesReturnsWhatKeepingAllReturned() {
        Backend backend = TestBackends.reference();
        int searches = 0, crowded = 0, stoppedEarly = 0;
        try (Arena arena = Arena.ofConfined(); Workspace ws = new Workspace(backend)) {
            for (int n : new int[] {1, 3}) {
                for (int k = 1; k <= 4; k++) {
                    for (double alpha : new double[] {0, 0.5, 1, 3}) {
                        for (int length : new int[] {1, 2, 5, 14}) {
                            for (float boost : new float[] {0, 1, 2.5f}) {
                                for (long seed = 1; seed <= 6; seed++) {
                                    boolean flat = seed > 3;
                                    Beam.Options opt = new Beam.Options(k, END, alpha, null);
                                    Hashed ref = new Hashed(backend, arena, n * k, seed, boost, flat);
                                    Reference expected = referenceSearch(backend, n, length, ref.start(), ref, opt);
                                    Hashed now = new Hashed(backend, arena, n * k, seed, boost, flat);
                                    Beam.Kept kept = new Beam.Kept(n, k, alpha);
                                    ws.reset();
                                    Beam.Result r = Beam.search("test", backend, ws, n, length, now.start(), now, opt,
                                            kept);
                                    String what = "N=" + n + " K=" + k + " alpha " + alpha + " length " + length
                                            + " boost " + boost + " seed " + seed + (flat ? " flat" : "");
                                    assertEquals(expected.result(), r, what);
                                    assertTrue(kept.peak() <= n * k, what + ": kept " + kept.peak());
                                    searches++;
                                    crowded += expected.finished() > 2L * n * k ? 1 : 0;
                                    stoppedEarly += now.steps < length - 1 ? 1 : 0;
                                }
                            }
                        }
                    }
                }
            }
        }
        assertTrue(crowded > searches / 4, crowded + " of " + searches + " searches had > 2K finished a question");
        assertTrue(stoppedEarly > searches / 10 && stoppedEarly < searches, stoppedEarly + " of " + searches
                + " stopped early");
    }

    /**
     * A small language model whose output bias favours the end id: through the model's own network (dropout off) the
     * search returns what the search that kept every finished hypothesis returned, for prompts where it ends often.
     */
    @Test
    void aLanguageModelWhoseWordsEndOftenFindsWhatItFoundBefore() {
        Backend backend = TestBackends.reference();
        int vocab = 7, end = 3;
        try (Arena arena = Arena.ofConfined(); Workspace ws = new Workspace(backend);
             Rnnlm lm = new Rnnlm(backend, vocab, 4, 6, 1); BeamState state = new BeamState(backend)) {
            ModelTesting.scramble(lm, new Random(31), 1.5);
            float[] bias = new float[vocab];
            bias[end] = 1.5f;
            lm.store().copyIn("affine.b", bias);
            lm.net.setTraining(false);
            int[][] prompts = {{1, 2}, {4, 0}};
            long finished = 0;
            for (int k : new int[] {1, 2, 3, 5}) {
                for (double alpha : new double[] {0, 0.8, 2}) {
                    Beam.Options opt = new Beam.Options(k, end, alpha, null);
                    Reference expected = referenceSearch(backend, 2, 40, feed(backend, ws, lm, state, prompts, k),
                            steps(lm, state), opt);
                    Beam.Kept kept = new Beam.Kept(2, k, alpha);
                    Beam.Result r = Beam.search("test", backend, ws, 2, 40, feed(backend, ws, lm, state, prompts, k),
                            steps(lm, state), opt, kept);
                    assertEquals(expected.result(), r, "K=" + k + " alpha " + alpha);
                    assertTrue(kept.peak() <= 2 * k, "kept " + kept.peak());
                    finished += expected.finished();
                }
            }
            assertTrue(finished > 200, finished + " hypotheses finished in all");
        }
    }

    /** The model's network reset and fed the prompts, each K times: the scores of the first word. */
    private static Tensor feed(Backend backend, Workspace ws, AbstractRnnlm lm, BeamState state, int[][] prompts,
                               int k) {
        lm.net.resetState();
        ws.reset();
        int m = prompts.length * k;
        Tensor ids = ws.ints(1, m);
        Tensor score = null;
        for (int s = 0; s < prompts[0].length; s++) {
            int[] cur = new int[m];
            for (int j = 0; j < m; j++) {
                cur[j] = prompts[j / k][s];
            }
            backend.copyIn(ids, cur);
            score = lm.net.predict(ids);
        }
        return score;
    }

    private static Beam.Steps steps(AbstractRnnlm lm, BeamState state) {
        return new Beam.Steps() {
            @Override
            public Tensor step(Tensor ids) {
                return lm.net.predict(ids);
            }

            @Override
            public void reorder(Tensor parents) {
                lm.net.reorderState(state, parents);
            }
        };
    }

    /**
     * A long search with an end id keeps at most K finished hypotheses per question however many finish: 20000 steps,
     * a hypothesis finishing at nearly every one (the search that kept them all held about length^2/2 ids per
     * question, 800 MB here). The strong length penalty (alpha 10) keeps every question open to the end: a live
     * hypothesis of 20000 ids could still rank before the finished ones, so every step runs.
     */
    @Test
    void aLongSearchKeepsAtMostKFinishedHypothesesPerQuestion() {
        Backend backend = TestBackends.reference();
        int n = 2, k = 2, length = 20_000;
        try (Arena arena = Arena.ofConfined(); Workspace ws = new Workspace(backend)) {
            Beam.Options opt = new Beam.Options(k, END, 10, null);
            Hashed steps = new Hashed(backend, arena, n * k, 5, 2.5f);
            Beam.Kept kept = new Beam.Kept(n, k, 10);
            Beam.Result r = Beam.search("test", backend, ws, n, length, steps.start(), steps, opt, kept);
            assertEquals(length - 1, steps.steps, "every step ran");
            assertTrue(kept.finished() > length, kept.finished() + " hypotheses finished");
            assertTrue(kept.peak() <= n * k, "kept " + kept.peak() + " finished hypotheses at once, expected <= "
                    + n * k);
            for (int q = 0; q < n; q++) {
                for (int b = 1; b < k; b++) {
                    assertTrue(r.scores()[q][b] <= r.scores()[q][b - 1], "best first");
                }
            }
            // the same search, shorter, against the one that kept them all
            Hashed again = new Hashed(backend, arena, n * k, 5, 2.5f), ref = new Hashed(backend, arena, n * k, 5, 2.5f);
            assertEquals(referenceSearch(backend, n, 600, ref.start(), ref, opt).result(),
                    Beam.search("test", backend, ws, n, 600, again.start(), again, opt));
        }
    }

    /**
     * K = 1 without a length penalty, where the end id is the likeliest id of every step: the hypothesis that ends at
     * the first step is likelier than any continuation can become, so the search stops there, and returns what the
     * search that ran all 2000 steps (and kept 2000 finished hypotheses) returned.
     */
    @Test
    void aSearchStopsOnceNoLiveHypothesisCanRankBeforeItsFinishedOnes() {
        Backend backend = TestBackends.reference();
        try (Arena arena = Arena.ofConfined(); Workspace ws = new Workspace(backend)) {
            Beam.Options opt = new Beam.Options(1, END, 0, null);
            Hashed ref = new Hashed(backend, arena, 1, 9, 3f), now = new Hashed(backend, arena, 1, 9, 3f);
            Reference expected = referenceSearch(backend, 1, 2000, ref.start(), ref, opt);
            Beam.Result r = Beam.search("test", backend, ws, 1, 2000, now.start(), now, opt);
            assertEquals(expected.result(), r);
            assertEquals(1999, ref.steps);
            assertTrue(expected.finished() >= 1000, expected.finished() + " finished");
            assertEquals(0, now.steps, "stopped after the first step");
            assertEquals(List.of(END), Arrays.stream(r.sequences()[0][0]).boxed().toList());
        }
    }

    /**
     * With an end id the up-front heap check counts the K finished hypotheses of every question that the search keeps
     * (up to length ids each) beside the K sequences it returns; a refusal names them.
     */
    @Test
    void theHeapCheckCountsTheFinishedHypothesesKept() {
        int n = 3, k = 4, length = 70_000;
        long kept = HostArrays.rowsBytes((long) n * k, length);   // int[N x K][length]
        assertTrue(kept > 4L * n * k * length);
        assertEquals(Beam.roomBytes(length, n, k, V, false) + kept, Beam.roomBytes(length, n, k, V, true));
        try (Rnnlm lm = new Rnnlm(TestBackends.reference(), V, 4, 6, 1)) {
            // a length whose arrays are past any heap this test runs with (about 56 bytes an id at K = 1)
            int past = HostArrays.MAX_LENGTH;
            org.junit.jupiter.api.Assumptions.assumeTrue(Beam.roomBytes(past, 1, 1, V, true)
                    > Runtime.getRuntime().maxMemory(), "a heap that holds a search of " + past + " ids");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> lm.beamSearch(new int[][] {{1}}, past, 1, 0, END));
            assertTrue(e.getMessage().contains("the finished hypotheses kept"), e.getMessage());
        }
    }
}
