/*
 * time_attention_ab.c - TimeAttention as one call each way (seq4j_time_attention_forward / _backward, each sequence
 * taken through every decoder step) against the per-step loop it replaces (attention weight, weighted sum and their
 * backwards, a call each a decoder step, after zeroing dhs), in one library, timed in alternation; and checks that
 * both give the same bits.
 * With a second library (an older build, dlopen'ed on its own), its per-step loop is timed too, in the same
 * alternation, and its outputs compared bit for bit with this build's.
 * Case: W4's (the date set's sizes: T_enc = 29, T_dec = 10, N = 128, H = 256), two threads; warm (the runs back to
 * back, hs in L2/L3) and cold (64 MB of other data read before each run, as the LSTM passes of a training step evict
 * hs between the encoder and the attention).
 * Method: per round, each variant's REPS timed runs in turn, starting one variant later each round; the score is the
 * median over all runs of all rounds.
 * Output: <case> <pass> loop_us=<median> call_us=<median> call/loop=<ratio> [old_loop_us=<median> call/old=<ratio>]
 *
 * Build: gcc -O2 -I native/cpu -o time_attention_ab bench/c/time_attention_ab.c -ldl
 * Run:   ./time_attention_ab native/build/libseq4j_cpu.so [old/libseq4j_cpu.so] [rounds]
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

enum { TE = 29, TD = 10, N = 128, H = 256, REPS = 8, MAX_ROUNDS = 64, THREADS = 2 };
enum { FLUSH_FLOATS = 16 << 20 }; /* 64 MB */

static const size_t NH = (size_t) N * H, NT = (size_t) N * TE;
static float *hs, *hdec, *dc, *flush;
/* [0]: this build's loop, [1]: its call, [2]: the other build's loop */
static float *a[3], *c[3], *dhs[3], *ddec[3], *work[3];
static volatile float sink;

struct lib {
    void (*awf)(int, float *, const float *, const float *, int, int, int);
    void (*awb)(int, float *, float *, const float *, const float *, const float *, const float *, int, int, int);
    void (*wsf)(int, float *, const float *, const float *, int, int, int);
    void (*wsb)(int, float *, float *, const float *, const float *, const float *, int, int, int);
    void (*fill)(int, float *, int64_t, float);
    void (*taf)(int, float *, float *, const float *, const float *, int, int, int, int);
    void (*tab)(int, float *, float *, float *, const float *, const float *, const float *, const float *, int, int,
                int, int);
    const char *(*info)(void);
} libs[2];

static void *need(void *lib, const char *path, const char *name) {
    void *f = dlsym(lib, name);
    if (!f) {
        fprintf(stderr, "time_attention_ab: %s has no %s\n", path, name);
        exit(2);
    }
    return f;
}

static void load(struct lib *l, const char *path, int with_call) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "time_attention_ab: %s\n", dlerror());
        exit(2);
    }
    *(void **) &l->awf = need(lib, path, "seq4j_attention_weight_forward");
    *(void **) &l->awb = need(lib, path, "seq4j_attention_weight_backward");
    *(void **) &l->wsf = need(lib, path, "seq4j_weight_sum_forward");
    *(void **) &l->wsb = need(lib, path, "seq4j_weight_sum_backward");
    *(void **) &l->fill = need(lib, path, "seq4j_fill_f32");
    *(void **) &l->info = need(lib, path, "seq4j_cpu_info");
    if (with_call) {
        *(void **) &l->taf = need(lib, path, "seq4j_time_attention_forward");
        *(void **) &l->tab = need(lib, path, "seq4j_time_attention_backward");
    }
}

/* variant 0: this build's loop, 1: its call, 2: the other build's loop */
static void forward(int v) {
    const struct lib *l = &libs[v == 2];
    if (v == 1) {
        l->taf(THREADS, a[1], c[1], hs, hdec, TE, TD, N, H);
        return;
    }
    for (int s = 0; s < TD; s++) {
        l->awf(THREADS, a[v] + s * NT, hs, hdec + s * NH, TE, N, H);
        l->wsf(THREADS, c[v] + s * NH, hs, a[v] + s * NT, TE, N, H);
    }
}

static void backward(int v) {
    const struct lib *l = &libs[v == 2];
    if (v == 1) {
        l->tab(THREADS, dhs[1], ddec[1], work[1], a[1], hs, hdec, dc, TE, TD, N, H);
        return;
    }
    l->fill(THREADS, dhs[v], (int64_t) TE * NH, 0.0f);
    for (int s = 0; s < TD; s++) {
        l->wsb(THREADS, dhs[v], work[v], hs, a[v] + s * NT, dc + s * NH, TE, N, H);
        l->awb(THREADS, dhs[v], ddec[v] + s * NH, a[v] + s * NT, hs, hdec + s * NH, work[v], TE, N, H);
    }
}

static void evict(void) {
    float sum = 0;
    for (size_t i = 0; i < FLUSH_FLOATS; i += 16) sum += flush[i];
    sink = sum;
}

static int same(const char *what, const float *x, const float *y, size_t n) {
    if (memcmp(x, y, n * sizeof(float)) != 0) {
        fprintf(stderr, "time_attention_ab: %s differs between the loop and the call\n", what);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: time_attention_ab this/libseq4j_cpu.so [other/libseq4j_cpu.so] [rounds]\n");
        return 2;
    }
    int variants = argc > 2 && strchr(argv[2], '/') ? 3 : 2;
    int rounds = atoi(argc > variants ? argv[variants] : "11");
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 11;
    load(&libs[0], argv[1], 1);
    if (variants == 3) load(&libs[1], argv[2], 0);
    unsigned seed = 7;
    hs = urand(TE * NH, &seed, 0.5f), hdec = urand(TD * NH, &seed, 0.5f), dc = urand(TD * NH, &seed, 1.0f);
    flush = urand(FLUSH_FLOATS, &seed, 1.0f);
    for (int v = 0; v < variants; v++) {
        a[v] = urand(TD * NT, &seed, 1), c[v] = urand(TD * NH, &seed, 1), dhs[v] = urand(TE * NH, &seed, 1);
        ddec[v] = urand(TD * NH, &seed, 1), work[v] = urand(NT, &seed, 1);
    }
    int ok = 1;
    for (int v = 0; v < variants; v++) forward(v), backward(v);
    for (int v = 1; v < variants; v++) {
        ok &= same("a", a[0], a[v], TD * NT) & same("c", c[0], c[v], TD * NH) & same("dhs", dhs[0], dhs[v], TE * NH)
              & same("ddec", ddec[0], ddec[v], TD * NH);
    }
    if (!ok) return 1;
    printf("# %s; %d rounds of %d runs a variant%s\n", libs[0].info(), rounds, REPS,
           variants == 3 ? "; the other build's loop too, the same bits" : "");
    static double times[2][2][3][MAX_ROUNDS * REPS]; /* [cold][pass][variant][run] */
    for (int cold = 0; cold < 2; cold++) {
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < variants; k++) {
                int v = (round + k) % variants;
                for (int r = 0; r < REPS; r++) {
                    if (cold) evict();
                    double t0 = now();
                    forward(v);
                    double t1 = now();
                    if (cold) evict();
                    double t2 = now();
                    backward(v);
                    double t3 = now();
                    times[cold][0][v][round * REPS + r] = 1e6 * (t1 - t0);
                    times[cold][1][v][round * REPS + r] = 1e6 * (t3 - t2);
                }
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            double med[3];
            for (int v = 0; v < variants; v++) {
                qsort(times[cold][pass][v], (size_t) rounds * REPS, sizeof(double), cmp);
                med[v] = times[cold][pass][v][rounds * REPS / 2];
            }
            printf("W4%s %s loop_us=%.1f call_us=%.1f call/loop=%.3f", cold ? "-cold" : "-warm",
                   pass ? "backward" : "forward", med[0], med[1], med[1] / med[0]);
            if (variants == 3) printf(" old_loop_us=%.1f call/old=%.3f", med[2], med[1] / med[2]);
            printf("\n");
        }
    }
    return 0;
}
