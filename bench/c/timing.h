/* timing.h - what the C harnesses under bench/c share: a monotonic clock in seconds, an order of doubles for qsort
 * (medians), timed runs of a function, a loop timed against the call that replaces it, and n floats uniform in
 * [-scale, scale) on 64-byte boundaries (rand_r: a harness defines _DEFAULT_SOURCE before its first include).
 * Header-only: each harness builds from its one .c file. */
#ifndef SEQ4J_BENCH_TIMING_H
#define SEQ4J_BENCH_TIMING_H

#include <stdio.h>
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

/*
 * A per-step loop against the one call that replaces it, forward and backward: in each of `rounds` rounds the loop's
 * two passes then the call's (the call's first in odd rounds), `count` timed runs each into t (4 rounds count
 * doubles); prints "<name> forward|backward loop_us=<median> seq_us=<median> seq/loop=<ratio> bits=same|DIFFER"
 * (same[p]: whether pass p gave the loop's bits).
 */
static inline void loop_against_call(const char *name, void (*const loop[2])(void), void (*const call[2])(void),
                                     const int same[2], int rounds, int count, double *t) {
    static const char *const pass[2] = {"forward", "backward"};
    size_t all = (size_t) rounds * count;
    for (int r = 0; r < rounds; r++) {
        for (int side = 0; side < 2; side++) {
            int k = side ^ (r % 2); /* 0: the loop, 1: the call */
            for (int p = 0; p < 2; p++) {
                timed_runs(k == 0 ? loop[p] : call[p], t + (2 * p + k) * all + (size_t) r * count, count);
            }
        }
    }
    for (int p = 0; p < 2; p++) {
        double *tl = t + 2 * p * all, *tq = tl + all;
        qsort(tl, all, sizeof *tl, cmp), qsort(tq, all, sizeof *tq, cmp);
        printf("%s %s loop_us=%.1f seq_us=%.1f seq/loop=%.3f bits=%s\n", name, pass[p], tl[all / 2], tq[all / 2],
               tq[all / 2] / tl[all / 2], same[p] ? "same" : "DIFFER");
    }
}

#endif
