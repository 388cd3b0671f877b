/*
 * cell_grain_bench.c - the LSTM and GRU cell forwards at N = 1, H = 256 (W3's step) on one thread and on two,
 * alone and between single-threaded h . Wh products of W3's size (1 x 256 . 256 x 1024, a plain C loop standing
 * in for the sgemm), to see whether splitting 256 units over two threads pays (it decides cell_parallel's grain).
 *
 * Method: 0.2 s warm-up, then 7 windows of 0.2 s; the score is the median mean time per iteration. Output:
 *   <case> threads=<t> us_per_iter=<median>
 *
 * Build: gcc -O2 -o cell_grain_bench cell_grain_bench.c -L<dir> -l:libseq4j_cpu.so -Wl,-rpath,<dir>
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timing.h"
#include "../../native/cpu/seq4j_cpu.h"

#define H 256

static float *wh, *gates, *g0, *h, *c, *c2, *rh;
static int threads;

/* gates (1, g) = g0 + h (1, H) . wh (H, g): W3's recurrent product, one thread */
static void product(int g) {
    memcpy(gates, g0, sizeof(float) * g);
    for (int k = 0; k < H; k++) {
        float hk = h[k];
        const float *w = wh + (size_t) k * g;
        for (int j = 0; j < g; j++) gates[j] += hk * w[j];
    }
}

static void lstm_cell(void) {
    memcpy(gates, g0, sizeof(float) * 4 * H);
    seq4j_lstm_cell_forward(threads, h, c2, gates, c, 1, H);
}

static void lstm_step(void) {
    product(4 * H);
    seq4j_lstm_cell_forward(threads, h, c2, gates, c, 1, H);
}

static void gru_cell(void) {
    memcpy(gates, g0, sizeof(float) * 3 * H);
    seq4j_gru_gates_forward(threads, rh, gates, h, 1, H);
    seq4j_gru_cell_forward(threads, c2, gates, h, 1, H);
}

static void run(const char *name, void (*fn)(void)) {
    double end = now() + 0.2;
    while (now() < end) fn();
    double w[7];
    for (int i = 0; i < 7; i++) {
        long n = 0;
        double t0 = now(), t;
        do {
            fn();
            n++;
        } while ((t = now()) - t0 < 0.2);
        w[i] = (t - t0) / (double) n * 1e6;
    }
    qsort(w, 7, sizeof(double), cmp);
    printf("%s threads=%d us_per_iter=%.3f\n", name, threads, w[3]);
    fflush(stdout);
}

int main(void) {
    unsigned seed = 7;
    wh = urand((size_t) H * 4 * H, &seed, 0.05f);
    g0 = urand(4 * H, &seed, 2.0f);
    gates = urand(4 * H, &seed, 1.0f);
    h = urand(H, &seed, 0.5f);
    c = urand(H, &seed, 1.0f);
    c2 = urand(H, &seed, 1.0f);
    rh = urand(H, &seed, 1.0f);
    for (threads = 1; threads <= 2; threads++) {
        run("lstm_cell_1x256", lstm_cell);
        run("lstm_step_1x256 (product + cell)", lstm_step);
        run("gru_gates+cell_1x256", gru_cell);
    }
    return 0;
}
