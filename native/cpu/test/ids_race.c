/*
 * ids_race.c - ids changed by another thread while a kernel runs (a Java thread writing the ids tensor after
 * AbstractBackend's check): whatever the kernel read, a bad id it skipped must be reported in the status, never
 * dropped without a word. Here one thread flips ids[0] between 1 and V (one past the table) while the embedding
 * scatter-add runs over many column blocks: a call that reports nothing must have added dout to all of row 1 of dW.
 * (The scatter-add reads each id once per block of columns; it reported a bad one only from its part's first block,
 * so a row that turned bad later was skipped in the remaining blocks with status 0: part of the row's gradient lost.)
 *
 * Build and run: make -C native check
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../seq4j_cpu.h"

enum { V = 4, D = 256 * 64 }; /* 64 blocks of EMBED_BLOCK columns in one part */

static int32_t ids[1];
static atomic_int stop;

static void *flipper(void *arg) {
    (void) arg;
    for (uint32_t i = 0; !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
        __atomic_store_n(&ids[0], (i & 1) ? V : 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void) {
    float *dW = malloc((size_t) V * D * sizeof(float)), *dout = malloc((size_t) D * sizeof(float));
    if (dW == NULL || dout == NULL) return 2;
    for (int j = 0; j < D; j++) dout[j] = 1.0f;
    ids[0] = 1;
    pthread_t t;
    if (pthread_create(&t, NULL, flipper, NULL) != 0) return 2;
    long calls = 0, reported = 0, silent_loss = 0;
    double end = now_s() + 2.0;
    while (now_s() < end && silent_loss == 0) {
        memset(dW, 0, (size_t) V * D * sizeof(float));
        int64_t status = seq4j_embedding_backward(1, dW, ids, dout, 1, V, D);
        calls++;
        if (status != 0) {
            if (status != SEQ4J_BAD_ID(0, V)) {
                fprintf(stderr, "ids_race: status %lld, expected 0 or SEQ4J_BAD_ID(0, %d)\n", (long long) status, V);
                silent_loss++;
            }
            reported++;
            continue;
        }
        int lost = 0;
        for (int j = 0; j < D; j++) lost += dW[(size_t) 1 * D + j] != 1.0f;
        if (lost) {
            fprintf(stderr, "ids_race: status 0 after call %ld, but %d of row 1's %d columns were not added "
                    "(a bad id skipped without a report)\n", calls, lost, D);
            silent_loss++;
        }
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    free(dW);
    free(dout);
    if (silent_loss) return 1;
    printf("ids_race: ok (%ld embedding backward calls against a flipping id, %ld reported it)\n", calls, reported);
    return 0;
}
