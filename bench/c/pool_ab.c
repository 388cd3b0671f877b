/*
 * pool_ab.c - a recurrent sequence (the packed product h Wh then the LSTM cell, step after step) through two builds
 * of libseq4j_cpu.so (A and B, loaded side by side with dlopen), timed in alternation in one run: for changes to
 * the thread pool, whose effect is which core touches which data from one call to the next.
 * Cases: W3's encoder (N = 1, H = 256, T = 29; Wh 256 x 1024 packed F32 and BF16) and W1's recurrent forward
 * (N = 128, H = 128, T = 7), 2 threads.
 * Method: per round, A then B (B then A in the next round), each after a 2 ms pause (the other library's workers
 * stop spinning and sleep) and one untimed sequence, then SEQS sequences timed one by one; the score is the median
 * over all sequences of all rounds. This host's speed changes over tens of seconds (W3 in one JMH fork: 136-332
 * us an iteration), so only ratios taken this close together in time mean anything.
 * Output: <case> A_us=<median> B_us=<median> B/A=<ratio>
 *
 * Build: gcc -O2 -o pool_ab pool_ab.c -ldl
 * Run:   ./pool_ab <dir A>/libseq4j_cpu.so <dir B>/libseq4j_cpu.so [rounds]
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"
#include "../../native/cpu/seq4j_cpu.h"

enum { SEQS = 20, MAX_ROUNDS = 64, MAX_T = 29 };

struct lib {
    int64_t (*floats)(int, int, int);
    void (*pack)(int, void *, const float *, int, int, int, int, int);
    void (*gemm_packed)(int, float *, const float *, const void *, int, int, int, int, int, float, int);
    void (*cell)(int, float *, float *, float *, const float *, int, int);
    void *packed; /* this library's packed Wh of the current case */
};

static void *need(void *h, const char *name) {
    void *f = dlsym(h, name);
    if (!f) {
        fprintf(stderr, "pool_ab: %s missing\n", name);
        exit(2);
    }
    return f;
}

static struct lib load(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        exit(2);
    }
    return (struct lib){need(h, "seq4j_packed_floats"), need(h, "seq4j_pack"), need(h, "seq4j_gemm_packed"),
                        need(h, "seq4j_lstm_cell_forward"), NULL};
}

static int n, h, t, precision;
static float *gates[MAX_T], *hs[MAX_T + 1], *cs[MAX_T + 1];

/* one sequence: gates_s = h_{s-1} Wh (beta 0: the x Wx part is left out), then the cell */
static void sequence(const struct lib *l) {
    for (int s = 0; s < t; s++) {
        l->gemm_packed(2, gates[s], hs[s], l->packed, n, 4 * h, h, h, 4 * h, 0.0f, precision);
        l->cell(2, hs[s + 1], cs[s + 1], gates[s], cs[s], n, h);
    }
}

static void window(const struct lib *l, double *out) {
    usleep(2000);
    sequence(l);
    for (int k = 0; k < SEQS; k++) {
        double t0 = now();
        sequence(l);
        out[k] = (now() - t0) * 1e6;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <libA.so> <libB.so> [rounds]\n", argv[0]);
        return 2;
    }
    struct lib libs[2] = {load(argv[1]), load(argv[2])};
    int rounds = argc > 3 ? atoi(argv[3]) : 21;
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 21;
    static const struct { int n, h, t, precision; const char *name; } cases[] = {
        {1, 256, 29, SEQ4J_PACKED_F32, "W3 1x256 T=29 F32"},
        {1, 256, 29, SEQ4J_PACKED_BF16, "W3 1x256 T=29 BF16"},
        {128, 128, 7, SEQ4J_PACKED_F32, "W1 128x128 T=7 F32"}};
    unsigned seed = 11;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        n = cases[ci].n, h = cases[ci].h, t = cases[ci].t, precision = cases[ci].precision;
        float *wh = urand((size_t) h * 4 * h, &seed, 0.1f);
        for (int s = 0; s <= t; s++) {
            if (s < t) gates[s] = urand((size_t) n * 4 * h, &seed, 1.0f);
            hs[s] = urand((size_t) n * h, &seed, 1.0f);
            cs[s] = urand((size_t) n * h, &seed, 1.0f);
        }
        for (int i = 0; i < 2; i++) {
            libs[i].packed = aligned_alloc(64, (size_t) libs[i].floats(h, 4 * h, precision) * sizeof(float));
            libs[i].pack(2, libs[i].packed, wh, 111 /* CBLAS no transpose */, h, 4 * h, 4 * h, precision);
        }
        static double ta[MAX_ROUNDS * SEQS], tb[MAX_ROUNDS * SEQS];
        for (int r = 0; r < rounds; r++) {
            int first = r % 2;
            for (int side = 0; side < 2; side++) {
                int i = side ^ first;
                window(&libs[i], (i == 0 ? ta : tb) + r * SEQS);
            }
        }
        qsort(ta, (size_t) rounds * SEQS, sizeof ta[0], cmp);
        qsort(tb, (size_t) rounds * SEQS, sizeof tb[0], cmp);
        double ma = ta[rounds * SEQS / 2], mb = tb[rounds * SEQS / 2];
        printf("%s A_us=%.1f B_us=%.1f B/A=%.3f\n", cases[ci].name, ma, mb, mb / ma);
        for (int i = 0; i < 2; i++) free(libs[i].packed);
        free(wh);
        for (int s = 0; s <= t; s++) {
            if (s < t) free(gates[s]);
            free(hs[s]);
            free(cs[s]);
        }
    }
    return 0;
}
