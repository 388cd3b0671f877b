/*
 * pool_busy.c - a kernel called while another thread's job holds the pool gives the same bits as when the
 * pool is free: the busy caller runs the same parts one after another instead of one whole part, so a
 * GEMM's sums never depend on what other threads are doing. A stand-in sgemm (registered with
 * seq4j_set_blas) writes the shape of the part it was given into C, so any other split shows; the blocking
 * job is made to wait inside its parts until the busy call is over, so the overlap is certain, not timed.
 *
 * Build and run: make -C native check
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../seq4j_cpu.h"

enum { M = 64, N = 64, K = 1000 }; /* K only sets the grain: 64 rows split into 2 parts on 2 threads */

static _Atomic int blockers_in, released;

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void wait_for(_Atomic int *flag, int at_least, const char *what) {
    double start = seconds();
    while (atomic_load(flag) < at_least) {
        if (seconds() - start > 30) {
            fprintf(stderr, "pool_busy: timed out waiting for %s\n", what);
            exit(1);
        }
        sched_yield();
    }
}

/* cblas_sgemm's signature; C (m, n) = the part's shape m * 1000 + n. alpha 2 marks the blocking job. */
static void fake_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc) {
    (void) order, (void) ta, (void) tb, (void) k, (void) a, (void) lda, (void) b, (void) ldb, (void) beta;
    if (alpha == 2.0f) {
        atomic_fetch_add(&blockers_in, 1);
        wait_for(&released, 1, "the busy call to finish");
    }
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) c[(long) i * ldc + j] = (float) (m * 1000 + n);
    }
}

static float dummy[1], blocker_c[M * N], busy_c[M * N], free_c[M * N];

static void *blocker(void *arg) {
    (void) arg;
    seq4j_sgemm(111, 111, M, N, K, 2.0f, dummy, K, dummy, N, 0.0f, blocker_c, N);
    return NULL;
}

int main(void) {
    seq4j_set_blas((void *) fake_sgemm, NULL);
    if (seq4j_set_num_threads(2) != 2) {
        fprintf(stderr, "pool_busy: could not start a second thread\n");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, blocker, NULL);
    wait_for(&blockers_in, 1, "the blocking job to hold the pool");
    seq4j_sgemm(111, 111, M, N, K, 1.0f, dummy, K, dummy, N, 0.0f, busy_c, N); /* finds the pool busy */
    atomic_store(&released, 1);
    pthread_join(t, NULL);
    seq4j_sgemm(111, 111, M, N, K, 1.0f, dummy, K, dummy, N, 0.0f, free_c, N); /* the pool is free now */
    for (int i = 0; i < M * N; i++) {
        if (busy_c[i] != free_c[i] || blocker_c[i] != free_c[i]) {
            fprintf(stderr, "pool_busy: element %d is %g with the pool busy, %g with it free (blocking job: %g); "
                            "a busy caller must split its work the same way\n", i, busy_c[i], free_c[i], blocker_c[i]);
            return 1;
        }
    }
    if (free_c[0] != (float) (M / 2 * 1000 + N)) {
        fprintf(stderr, "pool_busy: expected 2 parts of %d rows, the first part had shape %g\n", M / 2, free_c[0]);
        return 1;
    }
    seq4j_set_num_threads(1);
    printf("pool_busy: a GEMM called while another thread's job held the pool split into the same parts\n");
    return 0;
}
