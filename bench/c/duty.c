/*
 * duty.c - other work that takes the cores now and then, for bench/c/team_contention.c and JMH runs beside it: THREADS
 * threads (default 2), each spinning ON ms, then sleeping OFF ms times a factor drawn from 0.5-1.5 (so that the threads
 * drift apart), until killed. `duty 3 27 2` keeps each of two cores busy about a tenth of the time in 3 ms bursts.
 *
 *   gcc -O2 -pthread -o duty bench/c/duty.c
 *   ./duty ON_MS OFF_MS [THREADS] & ...; kill %1
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double on_ms, off_ms;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e3 + (double) t.tv_nsec * 1e-6;
}

static void *run(void *arg) {
    unsigned seed = (unsigned) (size_t) arg;
    for (;;) {
        double start = now_ms();
        while (now_ms() - start < on_ms) {
        }
        double off = off_ms * (0.5 + (double) rand_r(&seed) / RAND_MAX);
        struct timespec t = {(time_t) (off / 1e3), (long) ((off - 1e3 * (double) (time_t) (off / 1e3)) * 1e6)};
        nanosleep(&t, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    on_ms = argc > 2 ? atof(argv[1]) : -1, off_ms = argc > 2 ? atof(argv[2]) : -1;
    if (on_ms <= 0 || off_ms < 0 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: duty ON_MS OFF_MS [THREADS (1-64)]\n");
        return 2;
    }
    pthread_t t;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&t, NULL, run, (void *) (size_t) (i + 1)) != 0) return 1;
    }
    pthread_join(t, NULL); /* never returns: the threads spin until the process is killed */
    return 0;
}
