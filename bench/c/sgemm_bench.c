/*
 * sgemm_bench.c - times cblas_sgemm called from C, to compare with the same OpenBLAS called from Java
 * through FFM (GemmBench). It dlopen()s the library file that seq4j loaded (pass its path), so both
 * sides run the very same binary, with the same thread count.
 *
 * Method, mirroring the JMH settings of GemmBench: row-major C = A.B with uniform [-1, 1) data; 3 warm-up
 * windows of 1 s, then 5 measured windows of 1 s; in each window as many calls as fit; the score is the
 * mean time per call over the measured windows. Output, one line per shape:
 *   c_sgemm <m> <n> <k> threads=<t> us_per_call=<mean> gflops=<2mnk/mean>
 *
 * Build: gcc -O2 -o sgemm_bench sgemm_bench.c -ldl
 * Run:   ./sgemm_bench /path/to/libopenblas.so.0 512x512x512 1024x1024x1024
 */
#define _POSIX_C_SOURCE 199309L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timing.h"

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);
typedef int (*threads_fn)(void);

enum { ROW_MAJOR = 101, NO_TRANS = 111 };

/* calls per window and seconds spent, for one window of about `seconds` */
static double window(sgemm_fn sgemm, int m, int n, int k, const float *a, const float *b, float *c, double seconds,
                     long *calls) {
    double start = now(), t = start;
    long count = 0;
    while (t - start < seconds) {
        sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        count++;
        t = now();
    }
    *calls = count;
    return t - start;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s /path/to/libopenblas.so.0 MxNxK [MxNxK ...]\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }
    sgemm_fn sgemm = (sgemm_fn) dlsym(lib, "cblas_sgemm");
    threads_fn threads = (threads_fn) dlsym(lib, "openblas_get_num_threads");
    if (!sgemm || !threads) {
        fprintf(stderr, "%s has no cblas_sgemm / openblas_get_num_threads\n", argv[1]);
        return 1;
    }
    srand(42);
    for (int s = 2; s < argc; s++) {
        int m, n, k;
        if (sscanf(argv[s], "%dx%dx%d", &m, &n, &k) != 3 || m <= 0 || n <= 0 || k <= 0) {
            fprintf(stderr, "bad shape '%s', expected MxNxK\n", argv[s]);
            return 2;
        }
        float *a = malloc(sizeof(float) * (size_t) m * k), *b = malloc(sizeof(float) * (size_t) k * n);
        float *c = malloc(sizeof(float) * (size_t) m * n);
        if (!a || !b || !c) {
            fprintf(stderr, "out of memory for %s\n", argv[s]);
            return 1;
        }
        for (size_t i = 0; i < (size_t) m * k; i++) a[i] = 2.0f * rand() / (float) RAND_MAX - 1.0f;
        for (size_t i = 0; i < (size_t) k * n; i++) b[i] = 2.0f * rand() / (float) RAND_MAX - 1.0f;
        long calls;
        for (int w = 0; w < 3; w++) window(sgemm, m, n, k, a, b, c, 1.0, &calls);
        double total = 0;
        long total_calls = 0;
        for (int w = 0; w < 5; w++) {
            total += window(sgemm, m, n, k, a, b, c, 1.0, &calls);
            total_calls += calls;
        }
        double us = 1e6 * total / (double) total_calls;
        printf("c_sgemm %d %d %d threads=%d us_per_call=%.3f gflops=%.2f\n", m, n, k, threads(), us,
               2.0 * m * n * k / (us * 1e3));
        fflush(stdout);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
