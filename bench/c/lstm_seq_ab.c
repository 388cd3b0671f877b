/*
 * lstm_seq_ab.c - the LSTM recurrence as one call per sequence (seq4j_lstm_forward_seq / _backward_seq, split by
 * rows) against the per-step loop it replaces (seq4j_gemm_packed + seq4j_lstm_cell_forward a step; cell backward +
 * product a step), in one library, timed in alternation; and checks that both give the same bits.
 * Cases: W1's encoder and decoder (N = 128, H = 128, T = 7 and 4), W2's (N = 64, H = 650, T = 35), two threads.
 * Method: per round, loop then sequence (sequence then loop in the next round), each SEQS timed runs after one
 * untimed; the score is the median over all runs of all rounds. A forward run first restores the pre-activations
 * (the same copy on both sides).
 * Output: <case> <pass> loop_us=<median> seq_us=<median> seq/loop=<ratio>
 * Then the forward from token ids (the folded input table): seq4j_embedding_forward over all T N rows, then the call,
 * against the call with the table, each part gathering its rows of a step just before their product; 8 MB read
 * before every run (as a training step's other work would), W1's encoder (V 13), W4's (N 128, H 256, T 29, V 59) and
 * the date model's batched encoder (N 64). Output: <case> gather_first_us=<median> in_call_us=<median> <ratio>
 *
 * Build: gcc -O2 -I native/cpu -o lstm_seq_ab bench/c/lstm_seq_ab.c -L native/build -lseq4j_cpu
 * Run:   LD_LIBRARY_PATH=native/build ./lstm_seq_ab [rounds]
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"
#include "../../native/cpu/seq4j_cpu.h"

enum { SEQS = 10, MAX_ROUNDS = 64, THREADS = 2 };

static int n, h, t;
static size_t nh, ng;
static float *pre, *gates, *hs, *cs, *dA, *dhs, *dh0, *dc0, *work, *dcLast;
static void *wh, *wht;

static void forward_loop(void) {
    memcpy(gates, pre, (size_t) t * ng * sizeof(float));
    for (int s = 0; s < t; s++) {
        if (s > 0) seq4j_gemm_packed(THREADS, gates + s * ng, hs + s * nh, wh, n, 4 * h, h, h, 4 * h, 1.0f, 0);
        seq4j_lstm_cell_forward(THREADS, hs + (s + 1) * nh, cs + (s + 1) * nh, gates + s * ng, cs + s * nh, n, h);
    }
}

static void forward_seq(void) {
    memcpy(gates, pre, (size_t) t * ng * sizeof(float));
    seq4j_lstm_forward_seq(THREADS, hs, cs, gates, wh, t, n, h, 1, 0, NULL, NULL, 0);
}

static void backward_loop(void) {
    float *carry = work, *ping = work + nh, *pong = work + 2 * nh, *next = ping;
    memcpy(ping, dcLast, nh * sizeof(float));
    for (int s = t - 1; s >= 0; s--) {
        float *prev = next == ping ? pong : ping;
        seq4j_lstm_cell_backward(THREADS, dA + s * ng, prev, gates + s * ng, cs + (s + 1) * nh, cs + s * nh,
                                 dhs + s * nh, s == t - 1 ? NULL : carry, next, n, h);
        seq4j_gemm_packed(THREADS, s > 0 ? carry : dh0, dA + s * ng, wht, n, h, 4 * h, 4 * h, h, 0.0f, 0);
        next = prev;
    }
    memcpy(dc0, next, nh * sizeof(float));
}

static void backward_seq(void) {
    seq4j_lstm_backward_seq(THREADS, dA, dh0, dc0, work, gates, cs, dhs, NULL, dcLast, wht, t, n, h, 0);
}

static int same(const float *a, const float *b, size_t count) {
    return memcmp(a, b, count * sizeof(float)) == 0;
}

/* the forward from ids: the gather first, or in the call; the same bits */
static int gathered(int rounds, unsigned *seed) {
    static const struct { int n, h, t, v; const char *name; } cases[] = {
        {128, 128, 7, 13, "W1 encoder from ids"}, {128, 256, 29, 59, "W4 encoder from ids"},
        {64, 256, 29, 59, "date model N=64 encoder from ids"}};
    enum { JUNK = 8 << 20 };
    float *junk = urand(JUNK, seed, 1.0f);
    volatile float sink = 0;
    int bad = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        int cn = cases[ci].n, ch = cases[ci].h, ct = cases[ci].t, v = cases[ci].v, g = 4 * ch;
        size_t cnh = (size_t) cn * ch, cng = (size_t) cn * g;
        float *w = urand((size_t) ch * g, seed, 0.1f), *table = urand((size_t) v * g, seed, 1.0f);
        float *out[2][3];
        for (int k = 0; k < 2; k++) {
            out[k][0] = urand((size_t) ct * cng, seed, 1.0f);
            out[k][1] = urand((size_t) (ct + 1) * cnh, seed, 1.0f);
            out[k][2] = urand((size_t) (ct + 1) * cnh, seed, 1.0f);
            memset(out[k][1], 0, cnh * sizeof(float)), memset(out[k][2], 0, cnh * sizeof(float));
        }
        int32_t *ids = malloc((size_t) ct * cn * sizeof(int32_t));
        for (int i = 0; i < ct * cn; i++) ids[i] = (int32_t) (rand_r(seed) % v);
        void *packed = aligned_alloc(64, (size_t) seq4j_packed_floats(ch, g, 0) * sizeof(float));
        seq4j_pack(THREADS, packed, w, 111, ch, g, g, 0);
        static double ta[MAX_ROUNDS * SEQS], tb[MAX_ROUNDS * SEQS];
        for (int r = 0; r < rounds; r++) {
            for (int side = 0; side < 2; side++) {
                int k = side ^ (r % 2);
                for (int i = 0; i < SEQS; i++) {
                    for (size_t j = 0; j < JUNK; j += 16) sink += junk[j];
                    double t0 = now();
                    if (k == 0) {
                        seq4j_embedding_forward(THREADS, out[0][0], table, ids, ct * cn, v, g);
                        seq4j_lstm_forward_seq(THREADS, out[0][1], out[0][2], out[0][0], packed, ct, cn, ch, 1, 0, NULL,
                                               NULL, 0);
                        ta[r * SEQS + i] = (now() - t0) * 1e6;
                    } else {
                        seq4j_lstm_forward_seq(THREADS, out[1][1], out[1][2], out[1][0], packed, ct, cn, ch, 1, 0, table,
                                               ids, v);
                        tb[r * SEQS + i] = (now() - t0) * 1e6;
                    }
                }
            }
        }
        int same_bits = same(out[0][0], out[1][0], (size_t) ct * cng) && same(out[0][1], out[1][1], (ct + 1) * cnh)
                        && same(out[0][2], out[1][2], (ct + 1) * cnh);
        bad |= !same_bits;
        size_t all = (size_t) rounds * SEQS;
        qsort(ta, all, sizeof ta[0], cmp), qsort(tb, all, sizeof tb[0], cmp);
        printf("%s gather_first_us=%.1f in_call_us=%.1f in_call/gather_first=%.3f bits=%s\n", cases[ci].name,
               ta[all / 2], tb[all / 2], tb[all / 2] / ta[all / 2], same_bits ? "same" : "DIFFER");
        for (int k = 0; k < 2; k++) free(out[k][0]), free(out[k][1]), free(out[k][2]);
        free(w), free(table), free(ids), free(packed);
    }
    free(junk);
    return bad;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 21;
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 21;
    static const struct { int n, h, t; const char *name; } cases[] = {
        {128, 128, 7, "W1 encoder 128x128 T=7"}, {128, 128, 4, "W1 decoder 128x128 T=4"},
        {64, 650, 35, "W2 64x650 T=35"}};
    unsigned seed = 7;
    int bad = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        n = cases[ci].n, h = cases[ci].h, t = cases[ci].t;
        nh = (size_t) n * h, ng = 4 * nh;
        float *w = urand((size_t) h * 4 * h, &seed, 0.1f);
        wh = aligned_alloc(64, (size_t) seq4j_packed_floats(h, 4 * h, 0) * sizeof(float));
        wht = aligned_alloc(64, (size_t) seq4j_packed_floats(4 * h, h, 0) * sizeof(float));
        seq4j_pack(THREADS, wh, w, 111, h, 4 * h, 4 * h, 0);
        seq4j_pack(THREADS, wht, w, 112, 4 * h, h, 4 * h, 0);
        pre = urand((size_t) t * ng, &seed, 1.0f);
        gates = urand((size_t) t * ng, &seed, 1.0f);
        hs = urand((size_t) (t + 1) * nh, &seed, 1.0f);
        cs = urand((size_t) (t + 1) * nh, &seed, 1.0f);
        memset(hs, 0, nh * sizeof(float));
        dA = urand((size_t) t * ng, &seed, 1.0f);
        dhs = urand((size_t) t * nh, &seed, 1.0f);
        dh0 = urand(nh, &seed, 1.0f);
        dc0 = urand(nh, &seed, 1.0f);
        work = urand(3 * nh, &seed, 1.0f);
        dcLast = urand(nh, &seed, 1.0f);
        /* bits: each pass's outputs through the loop, then through the sequence call */
        size_t hsz = (size_t) (t + 1) * nh, dsz = (size_t) t * ng;
        float *keep = malloc((2 * hsz + 2 * dsz + 2 * nh) * sizeof(float));
        forward_loop();
        memcpy(keep, hs, hsz * 4), memcpy(keep + hsz, cs, hsz * 4), memcpy(keep + 2 * hsz, gates, dsz * 4);
        backward_loop();
        memcpy(keep + 2 * hsz + dsz, dA, dsz * 4), memcpy(keep + 2 * hsz + 2 * dsz, dh0, nh * 4);
        memcpy(keep + 2 * hsz + 2 * dsz + nh, dc0, nh * 4);
        forward_seq();
        int fsame = same(keep, hs, hsz) && same(keep + hsz, cs, hsz) && same(keep + 2 * hsz, gates, dsz);
        backward_seq();
        int bsame = same(keep + 2 * hsz + dsz, dA, dsz) && same(keep + 2 * hsz + 2 * dsz, dh0, nh)
                    && same(keep + 2 * hsz + 2 * dsz + nh, dc0, nh);
        bad |= !fsame || !bsame;
        free(keep);
        void (*const loops[2])(void) = {forward_loop, backward_loop};
        void (*const calls[2])(void) = {forward_seq, backward_seq};
        const int same_bits[2] = {fsame, bsame};
        static double times[4 * MAX_ROUNDS * SEQS];
        loop_against_call(cases[ci].name, loops, calls, same_bits, rounds, SEQS, times);
        free(w), free(wh), free(wht), free(pre), free(gates), free(hs), free(cs), free(dA), free(dhs), free(dh0);
        free(dc0), free(work), free(dcLast);
    }
    return bad | gathered(rounds, &seed);
}
