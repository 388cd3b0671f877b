/*
 * pool_stress.c - hammers the native thread pool through the public kernels: four callers at once, each
 * with its own thread count (1 to 8 parts on a pool sized once), sizes that split unevenly, every element
 * of every result checked, reductions compared with one thread bit for bit. A missed part shows as a wrong
 * element; a lost wake-up or a part claimed twice as a wrong sum or a hang (run under a timeout). Then the
 * kernels' own defences: zero extents do nothing (no division by zero), and out-of-range ids are skipped
 * and reported through the status, never followed.
 *
 * Build and run: make -C native check
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../seq4j_cpu.h"

#define N_MAX 300000
#define CALLERS 4
#define JOBS 6000

static float *z;
static float reference;

static void fail(const char *what, long i, double got, double want) {
    fprintf(stderr, "pool_stress: %s: element %ld is %g, expected %g\n", what, i, got, want);
    exit(1);
}

static void *caller(void *arg) {
    int id = (int) (intptr_t) arg;
    float *x = malloc(sizeof(float) * N_MAX);
    if (!x) exit(2);
    for (int it = 0; it < JOBS; it++) {
        int threads = 1 + (it + id * 3) % 8;
        long n = 1 + (it * 104729L + id * 7919L) % N_MAX;
        float value = (float) (it * CALLERS + id);
        seq4j_fill_f32(threads, x, n, value);
        for (long i = 0; i < n; i++) {
            if (x[i] != value) fail("fill", i, x[i], value);
        }
        if (it % 97 == id) {
            float s;
            seq4j_sum_of_squares(threads, &s, z, N_MAX);
            if (s != reference) fail("sum of squares vs one thread", it, s, reference);
        }
    }
    free(x);
    return NULL;
}

static void check_zero_extents(void) {
    float one = 1.0f;
    int32_t id = 0;
    /* n = 0 or h = 0: no rows or no units; today's kernels must not divide by either */
    seq4j_lstm_cell_forward(4, &one, &one, &one, &one, 0, 5);
    seq4j_lstm_cell_forward(4, &one, &one, &one, &one, 5, 0);
    seq4j_lstm_cell_backward(4, &one, &one, &one, &one, &one, &one, &one, &one, 0, 5);
    seq4j_lstm_cell_backward(4, &one, &one, &one, &one, &one, &one, &one, &one, 5, 0);
    seq4j_softmax_forward(4, &one, &one, 3, 0);
    if (seq4j_embedding_forward(4, &one, &one, &id, 0, 1, 1) != 0) fail("embedding of no ids", 0, 1, 0);
    float loss = -1.0f;
    int32_t ignored[3] = {-1, -1, -1};
    if (seq4j_softmax_xent_forward(4, &one, &loss, &one, ignored, 3, 0) != 0 || loss != 0.0f) {
        fail("cross-entropy of empty rows", 0, loss, 0);
    }
    if (one != 1.0f) fail("a zero-extent kernel wrote", 0, one, 1);
}

static void check_bad_ids(void) {
    enum { V = 5, D = 40, M = 9 };
    float W[V * D], out[M * D], dW[V * D], dout[M * D];
    int32_t ids[M] = {0, 1, 2, 3, 4, 0, 1, 2, 3};
    for (int i = 0; i < V * D; i++) W[i] = (float) i;
    for (int i = 0; i < M * D; i++) dout[i] = 1.0f;
    memset(dW, 0, sizeof dW);
    if (seq4j_embedding_forward(3, out, W, ids, M, V, D) != 0) fail("embedding forward, good ids", 0, 1, 0);
    ids[6] = 1000000000; /* far outside W: followed, it would fault */
    ids[7] = -7;
    int64_t want = SEQ4J_BAD_ID(6, 1000000000);
    int64_t got = seq4j_embedding_forward(3, out, W, ids, M, V, D);
    if (got != want) fail("embedding forward status", 6, (double) got, (double) want);
    if (out[6 * D] != 0.0f || out[8 * D] != W[3 * D]) fail("embedding forward around a bad id", 6, out[6 * D], 0);
    got = seq4j_embedding_backward(3, dW, ids, dout, M, V, D);
    if (got != want) fail("embedding backward status", 6, (double) got, (double) want);
    if (dW[1 * D] != 1.0f || dW[0] != 2.0f) fail("embedding backward skips only the bad ids", 1, dW[D], 1);
    int32_t labels[M] = {0, 1, -1, 3, 4, 0, 1, 2, 3};
    float logits[M * V], probs[M * V], loss;
    for (int i = 0; i < M * V; i++) logits[i] = (float) (i % 7) * 0.1f;
    labels[4] = V; /* one past the end */
    want = SEQ4J_BAD_ID(4, V);
    got = seq4j_softmax_xent_forward(3, probs, &loss, logits, labels, M, V);
    if (got != want) fail("cross-entropy forward status", 4, (double) got, (double) want);
    got = seq4j_softmax_xent_backward(3, probs, probs, labels, 1.0f, M, V);
    if (got != want) fail("cross-entropy backward status", 4, (double) got, (double) want);
}

int main(void) {
    z = malloc(sizeof(float) * N_MAX);
    if (!z) return 2;
    for (long i = 0; i < N_MAX; i++) z[i] = (float) ((i * 2654435761u) % 1000) / 997.0f - 0.5f;
    seq4j_sum_of_squares(1, &reference, z, N_MAX);

    pthread_t callers[CALLERS];
    for (int c = 0; c < CALLERS; c++) pthread_create(&callers[c], NULL, caller, (void *) (intptr_t) c);
    for (int c = 0; c < CALLERS; c++) pthread_join(callers[c], NULL);
    check_zero_extents();
    check_bad_ids();
    printf("pool_stress: %d callers x %d jobs with 1..8 parts on %d workers: all elements right; zero extents "
           "and bad ids handled\n", CALLERS, JOBS, seq4j_pool_workers());
    free(z);
    return 0;
}
