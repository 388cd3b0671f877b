/*
 * team_contention.c - W3's call (the LSTM forward of one row, H = 256, T = 29, F32: a team of two split by units with a
 * barrier a step) back to back, on a quiet machine or beside a process that keeps one core busy (a forked child
 * spinning until the end), as another program or the JVM's own threads would. Prints the call's median, mean, 90th and
 * 99th percentile times, and how many teams a late part ended (pool_team_solos; -1 for a build without it).
 *
 * Built with the library's sources compiled in, so that a tree's pool.c can be built with other TEAM_LATE_NS:
 *   gcc -O3 -std=c11 -pthread -fno-math-errno -fno-trapping-math -falign-loops=64 -I native/cpu \
 *       -o team_contention bench/c/team_contention.c native/cpu/(all .c files, sorted) -lm
 * Run: ./team_contention CALLS [busy] [gap_us]   (gap_us: a sleep between calls, as requests coming one by one)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seq4j_cpu.h"

int64_t pool_team_solos(void) __attribute__((weak)); /* absent from sources before the late-part rule */

enum { N = 1, H = 256, T = 29 };

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e6 + (double) t.tv_nsec * 1e-3;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: team_contention CALLS [busy] [gap_us]\n");
        return 2;
    }
    int calls = atoi(argv[1]), busy = argc > 2 && strcmp(argv[2], "busy") == 0, gap = argc > 3 ? atoi(argv[3]) : 0;
    if (calls < 1) return 2;
    size_t ng = (size_t) T * N * 4 * H, nh = (size_t) (T + 1) * N * H;
    float *w = malloc((size_t) H * 4 * H * sizeof(float)), *pre = malloc(ng * sizeof(float));
    float *gates = malloc(ng * sizeof(float)), *hs = malloc(nh * sizeof(float)), *cs = malloc(nh * sizeof(float));
    void *packed = malloc((size_t) seq4j_packed_floats(H, 4 * H, SEQ4J_PACKED_F32) * sizeof(float));
    double *t = malloc((size_t) calls * sizeof(double));
    if (!w || !pre || !gates || !hs || !cs || !packed || !t) return 2;
    unsigned seed = 1;
    for (size_t i = 0; i < (size_t) H * 4 * H; i++) w[i] = 0.1f * ((float) rand_r(&seed) / (float) RAND_MAX - 0.5f);
    for (size_t i = 0; i < ng; i++) pre[i] = (float) rand_r(&seed) / (float) RAND_MAX - 0.5f;
    seq4j_pack(1, packed, w, 111, H, 4 * H, 4 * H, SEQ4J_PACKED_F32);
    pid_t child = -1;
    if (busy && (child = fork()) == 0) {
        for (volatile unsigned long i = 0;; i++) {
        }
    }
    double sum = 0;
    for (int c = 0; c < calls; c++) {
        memcpy(gates, pre, ng * sizeof(float));
        memset(hs, 0, (size_t) N * H * sizeof(float)), memset(cs, 0, (size_t) N * H * sizeof(float));
        double t0 = now_us();
        seq4j_lstm_forward_seq(2, hs, cs, gates, packed, T, N, H, 1, SEQ4J_PACKED_F32, NULL, NULL, 0);
        t[c] = now_us() - t0;
        sum += t[c];
        if (gap > 0) {
            struct timespec q = {gap / 1000000, (long) (gap % 1000000) * 1000L};
            nanosleep(&q, NULL);
        }
    }
    if (child > 0) kill(child, SIGKILL), waitpid(child, NULL, 0);
    qsort(t, (size_t) calls, sizeof(double), by_value);
    printf("%s%s: median %.1f us, mean %.1f, p90 %.1f, p99 %.1f; teams ended by a late part %lld\n",
           busy ? "beside a busy core" : "quiet", gap > 0 ? ", calls spaced" : "", t[calls / 2], sum / calls,
           t[calls * 9 / 10], t[calls * 99 / 100], pool_team_solos ? (long long) pool_team_solos() : -1LL);
    free(w), free(pre), free(gates), free(hs), free(cs), free(packed), free(t);
    return 0;
}
