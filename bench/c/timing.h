/* timing.h - what the C harnesses under bench/c share: a monotonic clock in seconds, an order of doubles for qsort
 * (medians), timed runs of a function, and n floats uniform in [-scale, scale) on 64-byte boundaries (rand_r: a
 * harness defines _DEFAULT_SOURCE before its first include). Header-only: each harness builds from its one .c file. */
#ifndef SEQ4J_BENCH_TIMING_H
#define SEQ4J_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static inline int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static inline float *urand(size_t n, unsigned *seed, float scale) {
    float *x = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!x) exit(2);
    for (size_t i = 0; i < n; i++) x[i] = scale * (2.0f * (float) rand_r(seed) / ((float) RAND_MAX + 1.0f) - 1.0f);
    return x;
}

/* one untimed run of f, then count timed ones into out (microseconds each) */
static inline void timed_runs(void (*f)(void), double *out, int count) {
    f();
    for (int k = 0; k < count; k++) {
        double t0 = now();
        f();
        out[k] = (now() - t0) * 1e6;
    }
}

#endif
