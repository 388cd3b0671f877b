/* timing.h - what the C harnesses under bench/c share: a monotonic clock in seconds, and an order of doubles for
 * qsort (medians). Header-only, so each harness still builds from its one .c file. */
#ifndef SEQ4J_BENCH_TIMING_H
#define SEQ4J_BENCH_TIMING_H

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

#endif
