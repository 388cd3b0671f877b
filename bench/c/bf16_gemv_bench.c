/*
 * bf16_gemv_bench.c - an experiment, not a kernel of the library: the recurrent GEMV of N=1 inference (W3),
 * y (4H) = x (H) Wh (H, 4H), with OpenBLAS's float sgemv against an AVX-512 BF16 loop over a bf16 copy of Wh
 * (vdpbf16ps: pairs of bf16 products summed into float lanes), to size what an opt-in bf16 weight path would
 * gain. x is rounded to bf16 too (vdpbf16ps multiplies bf16 by bf16); the sums stay float.
 *
 * Method: one thread; 0.3 s warm-up, then 7 windows of 0.2 s, median of the mean time per call; the error is
 * the largest |y - y_exact| / max|y_exact| against a double-precision reference.
 *
 * Build: gcc -O2 -o bf16_gemv_bench bf16_gemv_bench.c -ldl -lm
 * Run:   ./bf16_gemv_bench /path/to/libopenblas.so.0 [H ...]
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"

typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*threads_fn)(int);

static uint16_t to_bf16(float f) { /* round to nearest even (finite inputs) */
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t) ((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

/* Wp (H/2, 4H, 2): rows k and k+1 of W interleaved per column, as vdpbf16ps wants its pairs (H even) */
static void pack(uint16_t *wp, const float *w, int h, int g) {
    for (int k = 0; k < h; k += 2) {
        for (int j = 0; j < g; j++) {
            wp[((size_t) (k / 2) * g + j) * 2] = to_bf16(w[(size_t) k * g + j]);
            wp[((size_t) (k / 2) * g + j) * 2 + 1] = to_bf16(w[(size_t) (k + 1) * g + j]);
        }
    }
}

/* y (g) = x (h) W: 64 columns at a time (4 accumulators), x's pairs broadcast */
__attribute__((target("avx512f,avx512bf16")))
static void gemv_bf16(float *y, const uint32_t *xp, const uint16_t *wp, int h, int g) {
    int j = 0;
    for (; j + 64 <= g; j += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < h / 2; k++) {
            __m512bh xb = (__m512bh) _mm512_set1_epi32((int) xp[k]);
            const uint16_t *row = wp + ((size_t) k * g + j) * 2;
            a0 = _mm512_dpbf16_ps(a0, xb, (__m512bh) _mm512_loadu_si512(row));
            a1 = _mm512_dpbf16_ps(a1, xb, (__m512bh) _mm512_loadu_si512(row + 32));
            a2 = _mm512_dpbf16_ps(a2, xb, (__m512bh) _mm512_loadu_si512(row + 64));
            a3 = _mm512_dpbf16_ps(a3, xb, (__m512bh) _mm512_loadu_si512(row + 96));
        }
        _mm512_storeu_ps(y + j, a0);
        _mm512_storeu_ps(y + j + 16, a1);
        _mm512_storeu_ps(y + j + 32, a2);
        _mm512_storeu_ps(y + j + 48, a3);
    }
    for (; j < g; j += 16) { /* the last columns under a mask: a 32-bit lane holds one column's pair */
        __mmask16 m = g - j >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (g - j)) - 1);
        __m512 a0 = _mm512_setzero_ps();
        for (int k = 0; k < h / 2; k++) {
            __m512bh xb = (__m512bh) _mm512_set1_epi32((int) xp[k]);
            a0 = _mm512_dpbf16_ps(a0, xb, (__m512bh) _mm512_maskz_loadu_epi32(m, wp + ((size_t) k * g + j) * 2));
        }
        _mm512_mask_storeu_ps(y + j, m, a0);
    }
}

static sgemv_fn sgemv;
static float *W, *x, *y;
static uint16_t *Wp;
static uint32_t *xp;
static int H, G;

static void run_sgemv(void) { sgemv(101, 112, H, G, 1.0f, W, G, x, 1, 0.0f, y, 1); }
static void run_bf16(void) {
    for (int k = 0; k < H; k += 2) xp[k / 2] = (uint32_t) to_bf16(x[k]) | (uint32_t) to_bf16(x[k + 1]) << 16;
    gemv_bf16(y, xp, Wp, H, G);
}

static double time_it(void (*f)(void)) {
    double t0 = now();
    while (now() - t0 < 0.3) f();
    double w[7];
    for (int r = 0; r < 7; r++) {
        long calls = 0;
        double s = now(), e;
        do {
            f();
            calls++;
        } while ((e = now()) - s < 0.2);
        w[r] = (e - s) / (double) calls * 1e6;
    }
    qsort(w, 7, sizeof w[0], cmp);
    return w[3];
}

static double error(const double *exact) {
    double worst = 0, scale = 0;
    for (int j = 0; j < G; j++) scale = fmax(scale, fabs(exact[j]));
    for (int j = 0; j < G; j++) worst = fmax(worst, fabs(y[j] - exact[j]));
    return worst / scale;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s /path/to/libopenblas.so.0 [H ...]\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    sgemv = (sgemv_fn) dlsym(lib, "cblas_sgemv");
    threads_fn set_threads = (threads_fn) dlsym(lib, "openblas_set_num_threads");
    if (!sgemv || !set_threads) return 1;
    set_threads(1);
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512bf16")) {
        printf("bf16_gemv_bench: skipped: this CPU has no AVX-512 BF16\n");
        return 0;
    }
    int sizes[8] = {650}, count = 1;
    if (argc > 2) {
        count = 0;
        for (int i = 2; i < argc && count < 8; i++) sizes[count++] = atoi(argv[i]);
    }
    unsigned seed = 7;
    for (int s = 0; s < count; s++) {
        H = sizes[s] & ~1, G = 4 * H; /* H even: x's pairs */
        W = malloc(sizeof(float) * H * G), x = malloc(sizeof(float) * H), y = malloc(sizeof(float) * G);
        Wp = malloc(sizeof(uint16_t) * H * G), xp = malloc(sizeof(uint32_t) * H / 2);
        double *exact = malloc(sizeof(double) * G);
        for (long i = 0; i < (long) H * G; i++) W[i] = (float) rand_r(&seed) / RAND_MAX * 0.2f - 0.1f;
        for (int i = 0; i < H; i++) x[i] = (float) rand_r(&seed) / RAND_MAX * 2 - 1;
        for (int j = 0; j < G; j++) {
            double sum = 0;
            for (int k = 0; k < H; k++) sum += (double) x[k] * W[(size_t) k * G + j];
            exact[j] = sum;
        }
        pack(Wp, W, H, G);
        double t_f = time_it(run_sgemv), e_f = error(exact);
        double t_b = time_it(run_bf16), e_b = error(exact);
        printf("H=%d 4H=%d sgemv_us=%.2f (err %.1e)  bf16_us=%.2f (err %.1e)  speedup=%.2f\n", H, G, t_f, e_f, t_b, e_b,
               t_f / t_b);
        fflush(stdout);
        free(W), free(x), free(y), free(Wp), free(xp), free(exact);
    }
    return 0;
}
