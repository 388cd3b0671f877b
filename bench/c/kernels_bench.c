/*
 * kernels_bench.c - times the hot C kernels of libseq4j_cpu.so, one thread, to compare the clones
 * (SEQ4J_CPU_ISA=avx512|avx2|baseline, chosen at load) and before/after a change, in one run of bench/c/clones.sh.
 *
 * Method: each kernel is called on fixed data (uniform [-2, 2), labels and ids in range) for 0.3 s of warm-up,
 * then 7 windows of 0.2 s; the score is the median over the windows of the mean time per call. Output, one
 * line per kernel:  <kernel> <shape> us_per_call=<median>
 *
 * Build: gcc -O2 -o kernels_bench kernels_bench.c -L<dir> -l:libseq4j_cpu.so -Wl,-rpath,<dir>
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"
#include "../../native/cpu/seq4j_cpu.h"

static float *rnd(size_t n, unsigned *seed) {
    float *x = malloc(n * sizeof(float));
    if (!x) exit(2);
    for (size_t i = 0; i < n; i++) x[i] = 4.0f * (float) rand_r(seed) / ((float) RAND_MAX + 1.0f) - 2.0f;
    return x;
}

#define N 64
#define H 512
#define V 10000
#define XM 64  /* rows of the softmax cross-entropy */
#define D 512
#define P (1 << 20) /* optimizer parameters */

static float *a1, *a2, *a3, *a4, *a5, *a6, *a7, *a8, *g0;
static int32_t *ids;
static float loss;

typedef void (*kernel)(void);
static void k_lstm_fwd(void) {
    memcpy(a1, g0, sizeof(float) * N * 4 * H); /* fresh pre-activations each call (counted, in all clones) */
    seq4j_lstm_cell_forward(1, a2, a3, a1, a4, N, H);
}
static void k_lstm_bwd(void) { seq4j_lstm_cell_backward(1, a5, a6, a1, a3, a4, a7, NULL, a8, N, H); }
static void k_lstm_bwd2(void) { seq4j_lstm_cell_backward(1, a5, a6, a1, a3, a4, a7, a2, a8, N, H); }
static void k_gru_gates_fwd(void) {
    memcpy(a1, g0, sizeof(float) * N * 3 * H); /* fresh pre-activations each call, as for lstm_fwd */
    seq4j_gru_gates_forward(1, a2, a1, a4, N, H);
}
static void k_gru_cell_fwd(void) {
    memcpy(a1, g0, sizeof(float) * N * 3 * H);
    seq4j_gru_cell_forward(1, a2, a1, a4, N, H);
}
static void k_gru_cell_bwd(void) { seq4j_gru_cell_backward(1, a5, a1, a4, a7, N, H); }
static void k_gru_gates_bwd(void) { seq4j_gru_gates_backward(1, a5, a6, a1, a4, a7, a8, N, H); }
static void k_xent_fwd(void) { seq4j_softmax_xent_forward(1, a2, &loss, a1, ids, XM, V); }
static void k_xent_bwd(void) { seq4j_softmax_xent_backward(1, a3, a2, ids, 1.0f, XM, V); }
static void k_adam(void) { seq4j_adam_update(1, a1, a2, a3, a4, P, 1e-3f, 0.9f, 0.999f, 1e-8f, 0); }
static void k_tanh(void) { seq4j_tanh_forward(1, a5, a4, P); }
static void k_sigmoid_bwd(void) { seq4j_sigmoid_backward(1, a5, a4, a3, P); }
static void k_emb_bwd(void) { seq4j_embedding_backward(1, a6, ids, a7, XM * 8, V, D); }
static void k_squares(void) { seq4j_sum_of_squares(1, &loss, a4, P); }

static void run(const char *name, const char *shape, kernel k) {
    double t0 = now();
    while (now() - t0 < 0.3) k();
    double w[7];
    for (int r = 0; r < 7; r++) {
        long calls = 0;
        double s = now(), e;
        do {
            k();
            calls++;
        } while ((e = now()) - s < 0.2);
        w[r] = (e - s) / (double) calls * 1e6;
    }
    qsort(w, 7, sizeof w[0], cmp);
    printf("%-14s %-14s us_per_call=%.2f\n", name, shape, w[3]);
    fflush(stdout);
}

int main(int argc, char **argv) {
    unsigned seed = 42;
    size_t big = (size_t) V * D > (size_t) XM * V ? (size_t) V * D : (size_t) XM * V;
    if (big < P) big = P;
    a1 = rnd(big, &seed), a2 = rnd(big, &seed), a3 = rnd(big, &seed), a4 = rnd(big, &seed);
    a5 = rnd(big, &seed), a6 = rnd(big, &seed), a7 = rnd(big, &seed), a8 = rnd(big, &seed);
    g0 = rnd((size_t) N * 4 * H, &seed);
    for (size_t i = 0; i < P; i++) a3[i] = a3[i] * a3[i]; /* adam's v >= 0 */
    ids = malloc(sizeof(int32_t) * XM * 8);
    for (int i = 0; i < XM * 8; i++) ids[i] = rand_r(&seed) % V;
    printf("# %s\n", seq4j_cpu_info());
    const char *only = argc > 1 ? argv[1] : NULL;
#define RUN(name, shape, k) if (!only || strstr(name, only)) run(name, shape, k)
    RUN("lstm_fwd", "64x512", k_lstm_fwd);
    RUN("lstm_bwd", "64x512", k_lstm_bwd);
    RUN("lstm_bwd_carry", "64x512", k_lstm_bwd2);
    RUN("gru_gates_fwd", "64x512", k_gru_gates_fwd);
    RUN("gru_cell_fwd", "64x512", k_gru_cell_fwd);
    RUN("gru_cell_bwd", "64x512", k_gru_cell_bwd);
    RUN("gru_gates_bwd", "64x512", k_gru_gates_bwd);
    RUN("xent_fwd", "64x10000", k_xent_fwd);
    RUN("xent_bwd", "64x10000", k_xent_bwd);
    RUN("adam", "1M", k_adam);
    RUN("tanh_fwd", "1M", k_tanh);
    RUN("sigmoid_bwd", "1M", k_sigmoid_bwd);
    RUN("emb_bwd", "512x512", k_emb_bwd);
    RUN("sum_squares", "1M", k_squares);
    return 0;
}
