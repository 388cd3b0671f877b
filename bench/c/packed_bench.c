/*
 * packed_bench.c - the packed-weight product (seq4j_gemm_packed over seq4j_pack's panels) against what the CPU
 * backend calls without it (seq4j_sgemm, or seq4j_sgemv for one row), at the shapes of the W1 training step and
 * of N = 1 inference, to see which way is faster. Rough figures: the machine is shared.
 *
 * Shapes (M x N x K, c (M, N) = a (M, K) B (K, N)): 128x512x128 (h_{t-1} Wh, B = Wh as stored), 128x128x512
 * (dA_t Wh^T: B = Wh^T, packed transposed; sgemm gets trans_b), the same two for W2 (64x2600x650,
 * 64x650x2600T), W1's weight gradients h^T dA (128x512x896 and 128x512x512, sgemm with a transposed against
 * seq4j_gemm_tn, the packed product's blocks reading B = dA as stored: no pack), 1x1024x256 and 1x2600x650 (an LSTM step of
 * N = 1 with H = 256, 650; F32 and BF16 packed against sgemv). No pack in the timed loop: Wh is packed once per
 * sequence (the pack's own time is printed once per shape).
 *
 * Method: rounds alternate the variants (so load changes hit all alike): ROUNDS rounds of 0.2 s windows per
 * variant after 0.3 s of warm-up each; the score is the median over rounds of the mean time per call.
 *
 * Build: gcc -O2 -o packed_bench packed_bench.c -L<dir> -l:libseq4j_cpu.so -Wl,-rpath,<dir> -ldl
 * Run:   [OPENBLAS_CORETYPE=Haswell] ./packed_bench /path/to/libopenblas.so.0 [threads [MxNxK[T][A] ...]]
 *        (given shapes replace the list: T packs B from W^T, A reads a transposed: seq4j_gemm_tn)
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"
#include "../../native/cpu/seq4j_cpu.h"

enum { NO = 111, TR = 112, ROUNDS = 7 };

static float *rnd(size_t n) {
    float *x = malloc(n * sizeof(float));
    if (!x) exit(2);
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * (float) rand() / ((float) RAND_MAX + 1.0f) - 1.0f;
    return x;
}

static int threads = 2;
struct shape {
    int m, n, k, trans; /* trans: B = W^T, W stored (n, k) */
    int trans_a;        /* a stored (k, m), read transposed: W1's weight gradient h^T dA (sgemm with trans_a,
                         * seq4j_gemm_tn) */
};
static struct shape cur;
static float *a, *w, *c;
static void *packed_f32, *packed_bf16;

static void v_sgemm(void) {
    if (cur.m == 1) { /* the backend's gemvRow: y (n) = op(W)^T x */
        if (cur.trans) seq4j_sgemv(threads, NO, cur.n, cur.k, 1.0f, w, cur.k, a, 1, 0.0f, c);
        else seq4j_sgemv(threads, TR, cur.k, cur.n, 1.0f, w, cur.n, a, 1, 0.0f, c);
    } else {
        seq4j_sgemm(threads, cur.trans_a ? TR : NO, cur.trans ? TR : NO, cur.m, cur.n, cur.k, 1.0f, a,
                    cur.trans_a ? cur.m : cur.k, w, cur.trans ? cur.k : cur.n, 0.0f, c, cur.n);
    }
}
static void v_f32(void) {
    if (cur.trans_a) seq4j_gemm_tn(threads, c, a, w, cur.m, cur.n, cur.k, cur.m, cur.n, cur.n, 0.0f);
    else seq4j_gemm_packed(threads, c, a, packed_f32, cur.m, cur.n, cur.k, cur.k, cur.n, 0.0f, SEQ4J_PACKED_F32);
}
static void v_bf16(void) { seq4j_gemm_packed(threads, c, a, packed_bf16, cur.m, cur.n, cur.k, cur.k, cur.n, 0.0f, SEQ4J_PACKED_BF16); }

static double window(void (*f)(void), double seconds) {
    long calls = 0;
    double s = now(), e;
    do {
        f();
        calls++;
    } while ((e = now()) - s < seconds);
    return (e - s) / (double) calls * 1e6;
}

static void run(struct shape s, int with_bf16) {
    cur = s;
    a = rnd((size_t) s.m * s.k), w = rnd((size_t) s.k * s.n), c = rnd((size_t) s.m * s.n);
    packed_f32 = malloc(sizeof(float) * seq4j_packed_floats(s.k, s.n, SEQ4J_PACKED_F32));
    packed_bf16 = malloc(sizeof(float) * seq4j_packed_floats(s.k, s.n, SEQ4J_PACKED_BF16));
    double t0 = now();
    seq4j_pack(threads, packed_f32, w, s.trans ? TR : NO, s.k, s.n, s.trans ? s.k : s.n, SEQ4J_PACKED_F32);
    double pack_us = (now() - t0) * 1e6;
    seq4j_pack(threads, packed_bf16, w, s.trans ? TR : NO, s.k, s.n, s.trans ? s.k : s.n, SEQ4J_PACKED_BF16);
    void (*fs[3])(void) = {v_sgemm, v_f32, v_bf16};
    const char *names[3] = {s.m == 1 ? "sgemv" : "sgemm", "packed_f32", "packed_bf16"};
    int count = with_bf16 ? 3 : 2;
    if (s.trans_a) names[1] = "gemm_tn";
    double t[3][ROUNDS];
    for (int v = 0; v < count; v++) window(fs[v], 0.3);
    for (int r = 0; r < ROUNDS; r++) {
        for (int v = 0; v < count; v++) t[v][r] = window(fs[v], 0.2);
    }
    for (int v = 0; v < count; v++) {
        qsort(t[v], ROUNDS, sizeof(double), cmp);
        printf("%dx%dx%d%s%s %-11s threads=%d us_per_call=%.2f (min %.2f max %.2f)\n", s.m, s.n, s.k, s.trans ? "T" : "",
               s.trans_a ? " (a^T)" : "", names[v], threads, t[v][ROUNDS / 2], t[v][0], t[v][ROUNDS - 1]);
    }
    t0 = now();
    for (int i = 0; i < 20; i++) seq4j_pack(threads, packed_f32, w, s.trans ? TR : NO, s.k, s.n, s.trans ? s.k : s.n, SEQ4J_PACKED_F32);
    printf("%dx%dx%d%s pack f32: first (cold) %.1f us, then %.1f us\n", s.m, s.n, s.k, s.trans ? "T" : "", pack_us,
           (now() - t0) / 20 * 1e6);
    fflush(stdout);
    free(a), free(w), free(c), free(packed_f32), free(packed_bf16);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s /path/to/libopenblas.so.0 [threads]\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }
    void (*set_threads)(int) = (void (*)(int)) dlsym(lib, "openblas_set_num_threads");
    char *(*config)(void) = (char *(*)(void)) dlsym(lib, "openblas_get_config");
    char *(*core)(void) = (char *(*)(void)) dlsym(lib, "openblas_get_corename");
    if (set_threads) set_threads(1); /* as the backend: OpenBLAS single-threaded, seq4j's pool splits */
    seq4j_set_blas(dlsym(lib, "cblas_sgemm"), dlsym(lib, "cblas_sgemv"));
    if (argc > 2) threads = atoi(argv[2]);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("# %s; OpenBLAS %s, core %s; OPENBLAS_CORETYPE=%s\n", seq4j_cpu_info(), config ? config() : "?",
           core ? core() : "?", ct ? ct : "(unset)");
    if (argc > 3) { /* the shapes given, e.g. 16x512x896A */
        for (int i = 3; i < argc; i++) {
            struct shape s = {0, 0, 0, 0, 0};
            int used = 0;
            if (sscanf(argv[i], "%dx%dx%d%n", &s.m, &s.n, &s.k, &used) != 3 || s.m < 1 || s.n < 1 || s.k < 1) {
                fprintf(stderr, "packed_bench: shape %s is not MxNxK[T][A] with positive extents\n", argv[i]);
                return 2;
            }
            s.trans = strchr(argv[i] + used, 'T') != NULL;
            s.trans_a = strchr(argv[i] + used, 'A') != NULL;
            run(s, !s.trans_a && s.m == 1);
        }
        return 0;
    }
    run((struct shape) {128, 512, 128, 0, 0}, 0);
    run((struct shape) {128, 128, 512, 1, 0}, 0);
    run((struct shape) {64, 2600, 650, 0, 0}, 0); /* W2 (N = 64, H = 650): h_{t-1} Wh */
    run((struct shape) {64, 650, 2600, 1, 0}, 0); /* and dA_t Wh^T */
    run((struct shape) {128, 512, 896, 0, 1}, 0); /* W1's dWh = h^T dA over the encoder's 7 steps (sgemm: TN) */
    run((struct shape) {128, 512, 512, 0, 1}, 0); /* and the decoder's 4 */
    run((struct shape) {1, 1024, 256, 0, 0}, 1);
    run((struct shape) {1, 2600, 650, 0, 0}, 1);
    return 0;
}
