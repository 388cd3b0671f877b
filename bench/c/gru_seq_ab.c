/*
 * gru_seq_ab.c - the GRU recurrence as one call per sequence (seq4j_gru_forward_seq / _backward_seq, split by rows)
 * against the per-step loops they replace (forward step: seq4j_gemm_packed into the z, r columns,
 * seq4j_gru_gates_forward, seq4j_gemm_packed into the candidate columns, seq4j_gru_cell_forward; backward step: the
 * cell backward, drh's product, the gates backward, dh_prev's product), in one library, timed in alternation; and
 * checks that both give the same bits. Cases: the GRU W1's encoder and decoder (N = 128, H = 128, T = 7 and 4), the
 * date model's batched encoder (N = 64, H = 256, T = 29) and W2's size (N = 64, H = 650, T = 35), two threads.
 * Method as lstm_seq_ab.c: per round, loop then call (call then loop in the next round), each SEQS timed runs after
 * one untimed; the score is the median over all runs of all rounds; every run first restores the pre-activations.
 * Output: <case> forward|backward loop_us=<median> seq_us=<median> seq/loop=<ratio> bits=same|DIFFER
 *
 * Build: gcc -O2 -I native/cpu -o gru_seq_ab bench/c/gru_seq_ab.c -L native/build -lseq4j_cpu
 * Run:   LD_LIBRARY_PATH=native/build ./gru_seq_ab [rounds]
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
static float *pre, *gates, *hs, *rhs, *dA, *dh0, *dhs, *drh, *out;
static void *zr, *hh, *zrt, *hht;

static void forward_loop(void) {
    memcpy(gates, pre, (size_t) t * ng * sizeof(float));
    for (int s = 0; s < t; s++) {
        float *g = gates + s * ng, *hp = hs + s * nh, *rh = rhs + s * nh;
        if (s > 0) seq4j_gemm_packed(THREADS, g, hp, zr, n, 2 * h, h, h, 3 * h, 1.0f, 0);
        seq4j_gru_gates_forward(THREADS, rh, g, hp, n, h);
        if (s > 0) seq4j_gemm_packed(THREADS, g + 2 * h, rh, hh, n, h, h, h, 3 * h, 1.0f, 0);
        seq4j_gru_cell_forward(THREADS, hp + nh, g, hp, n, h);
    }
}

static void forward_seq(void) {
    memcpy(gates, pre, (size_t) t * ng * sizeof(float));
    seq4j_gru_forward_seq(THREADS, hs, gates, rhs, zr, hh, t, n, h, 1, 0);
}

/* from the forward's gates and hs; every run first restores dhs (the backward adds into it) */
static void backward_loop(void) {
    memcpy(dhs, out, (size_t) t * nh * sizeof(float));
    memset(dh0, 0, nh * sizeof(float));
    for (int s = t - 1; s >= 0; s--) {
        float *d = dA + s * ng, *dh_next = dhs + s * nh, *dh_prev = s > 0 ? dh_next - nh : dh0;
        seq4j_gru_cell_backward(THREADS, d, gates + s * ng, hs + s * nh, dh_next, n, h);
        seq4j_gemm_packed(THREADS, drh, d + 2 * h, hht, n, h, h, 3 * h, h, 0.0f, 0);
        seq4j_gru_gates_backward(THREADS, d, dh_prev, gates + s * ng, hs + s * nh, dh_next, drh, n, h);
        seq4j_gemm_packed(THREADS, dh_prev, d, zrt, n, h, 2 * h, 3 * h, h, 1.0f, 0);
    }
}

static void backward_seq(void) {
    memcpy(dhs, out, (size_t) t * nh * sizeof(float));
    seq4j_gru_backward_seq(THREADS, dA, dh0, dhs, drh, gates, hs, zrt, hht, t, n, h, 0);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 21;
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 21;
    static const struct { int n, h, t; const char *name; } cases[] = {
        {128, 128, 7, "GRU W1 encoder 128x128 T=7"}, {128, 128, 4, "GRU W1 decoder 128x128 T=4"},
        {64, 256, 29, "GRU date encoder 64x256 T=29"}, {64, 650, 35, "GRU 64x650 T=35"}};
    unsigned seed = 7;
    int bad = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        n = cases[ci].n, h = cases[ci].h, t = cases[ci].t;
        nh = (size_t) n * h, ng = 3 * nh;
        float *w = urand((size_t) h * 3 * h, &seed, 0.1f);
        zr = aligned_alloc(64, (size_t) seq4j_packed_floats(h, 2 * h, 0) * sizeof(float));
        hh = aligned_alloc(64, (size_t) seq4j_packed_floats(h, h, 0) * sizeof(float));
        seq4j_pack(THREADS, zr, w, 111, h, 2 * h, 3 * h, 0);
        seq4j_pack(THREADS, hh, w + 2 * h, 111, h, h, 3 * h, 0);
        zrt = aligned_alloc(64, (size_t) seq4j_packed_floats(2 * h, h, 0) * sizeof(float));
        hht = aligned_alloc(64, (size_t) seq4j_packed_floats(h, h, 0) * sizeof(float));
        seq4j_pack(THREADS, zrt, w, 112, 2 * h, h, 3 * h, 0);
        seq4j_pack(THREADS, hht, w + 2 * h, 112, h, h, 3 * h, 0);
        dA = urand((size_t) t * ng, &seed, 1.0f), dh0 = urand(nh, &seed, 1.0f);
        dhs = urand((size_t) t * nh, &seed, 1.0f);
        drh = urand(nh, &seed, 1.0f), out = urand((size_t) t * nh, &seed, 1.0f);
        pre = urand((size_t) t * ng, &seed, 1.0f);
        gates = urand((size_t) t * ng, &seed, 1.0f);
        hs = urand((size_t) (t + 1) * nh, &seed, 1.0f);
        rhs = urand((size_t) t * nh, &seed, 1.0f);
        memset(hs, 0, nh * sizeof(float));
        size_t hsz = (size_t) (t + 1) * nh, gsz = (size_t) t * ng, rsz = (size_t) t * nh;
        float *keep = malloc((hsz + gsz + rsz) * sizeof(float));
        forward_loop();
        memcpy(keep, hs, hsz * 4), memcpy(keep + hsz, gates, gsz * 4), memcpy(keep + hsz + gsz, rhs, rsz * 4);
        forward_seq();
        int fsame = memcmp(keep, hs, hsz * 4) == 0 && memcmp(keep + hsz, gates, gsz * 4) == 0
                    && memcmp(keep + hsz + gsz, rhs, rsz * 4) == 0;
        float *bkeep = malloc((gsz + nh + rsz) * sizeof(float));
        backward_loop();
        memcpy(bkeep, dA, gsz * 4), memcpy(bkeep + gsz, dh0, nh * 4), memcpy(bkeep + gsz + nh, dhs, rsz * 4);
        backward_seq();
        int bsame = memcmp(bkeep, dA, gsz * 4) == 0 && memcmp(bkeep + gsz, dh0, nh * 4) == 0
                    && memcmp(bkeep + gsz + nh, dhs, rsz * 4) == 0;
        bad |= !fsame || !bsame;
        free(keep), free(bkeep);
        void (*const loops[2])(void) = {forward_loop, backward_loop};
        void (*const calls[2])(void) = {forward_seq, backward_seq};
        const int same_bits[2] = {fsame, bsame};
        static double times[4 * MAX_ROUNDS * SEQS];
        loop_against_call(cases[ci].name, loops, calls, same_bits, rounds, SEQS, times);
        free(w), free(zr), free(hh), free(zrt), free(hht), free(pre), free(gates), free(hs), free(rhs);
        free(dA), free(dh0), free(dhs), free(drh), free(out);
    }
    return bad;
}
