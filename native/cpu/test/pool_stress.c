/*
 * pool_stress.c - hammers the native thread pool through the public kernels: thread counts changing
 * every few jobs (workers created and stopped while jobs keep coming), sizes that split unevenly, every
 * element of every result checked, reductions compared with one thread bit for bit, and a second
 * thread calling kernels at the same time (the pool then runs one caller's job serially). A missed part
 * shows as a wrong element; a lost wake-up or double-counted part as a hang (run under a timeout).
 *
 * Build and run: make -C native check
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../seq4j_cpu.h"

#define N_MAX 300000

static int fail(const char *what, long i, double got, double want) {
    fprintf(stderr, "pool_stress: %s: element %ld is %g, expected %g\n", what, i, got, want);
    exit(1);
}

static void *other_caller(void *arg) {
    float *x = arg;
    for (int it = 0; it < 3000; it++) {
        long n = 1000 + (it * 7919L) % 200000;
        seq4j_fill_f32(x, n, (float) it);
        for (long i = 0; i < n; i++) {
            if (x[i] != (float) it) fail("concurrent fill", i, x[i], it);
        }
    }
    return NULL;
}

int main(void) {
    float *x = malloc(sizeof(float) * N_MAX), *y = malloc(sizeof(float) * N_MAX);
    float *z = malloc(sizeof(float) * N_MAX);
    if (!x || !y || !z) return 2;
    for (long i = 0; i < N_MAX; i++) z[i] = (float) ((i * 2654435761u) % 1000) / 997.0f - 0.5f;

    seq4j_set_num_threads(1);
    float reference;
    seq4j_sum_of_squares(&reference, z, N_MAX);

    pthread_t other;
    pthread_create(&other, NULL, other_caller, y);
    for (int it = 0; it < 20000; it++) {
        if (it % 37 == 0) seq4j_set_num_threads(1 + it % 5); /* workers restart while jobs keep coming */
        long n = 1 + (it * 104729L) % N_MAX;
        seq4j_fill_f32(x, n, (float) it);
        for (long i = 0; i < n; i++) {
            if (x[i] != (float) it) fail("fill", i, x[i], it);
        }
        if (it % 101 == 0) {
            float s;
            seq4j_sum_of_squares(&s, z, N_MAX);
            if (s != reference) fail("sum of squares vs one thread", it, s, reference);
        }
    }
    pthread_join(other, NULL);
    seq4j_set_num_threads(1);
    printf("pool_stress: 20000 jobs with 1..5 threads and a concurrent caller: all elements right\n");
    free(x);
    free(y);
    free(z);
    return 0;
}
