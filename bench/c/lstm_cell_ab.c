/*
 * lstm_cell_ab.c - the LSTM cell kernels of two builds of libseq4j_cpu.so (A and B, loaded side by side with dlopen)
 * timed in alternation in one run, so that load from other processes hits both alike: W1's training shape
 * (N = 128, H = 128), W2's (N = 64, H = 650) and W3's inference forward (N = 1, H = 256), each on 1 and 2 threads.
 *
 * Each case keeps T = 12 sets of buffers (the time steps of a sequence, as TimeLSTM lays them out) and cycles
 * through them, so that the gates and cells come from L2/L3 as in a training step, not from L1.
 * Method: per round and case, A then B (then B then A in the next round), each timed call by call (100 calls after a
 * 2 ms pause, in which the other library's pool workers stop spinning and sleep, and 2 ms of warm-up); the score is
 * the median over all calls of all rounds, which a time slice lost to another process moves little.
 * Output: <kernel> <shape> threads=<t> A_us=<median> B_us=<median> B/A=<ratio>
 *
 * Build: gcc -O2 -o lstm_cell_ab lstm_cell_ab.c -ldl
 * Run:   ./lstm_cell_ab <dir A>/libseq4j_cpu.so <dir B>/libseq4j_cpu.so [rounds]
 *        (SEQ4J_CPU_ISA=avx512|avx2|baseline applies to both)
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

typedef void (*fwd_fn)(int, float *, float *, float *, const float *, int, int);
typedef void (*bwd_fn)(int, float *, float *, const float *, const float *, const float *, const float *,
                       const float *, const float *, int, int);

enum { T = 12, MAX_ROUNDS = 64 };

struct lib {
    fwd_fn fwd;
    bwd_fn bwd;
};

static struct lib load(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "%s\n", dlerror());
        exit(2);
    }
    struct lib l = {(fwd_fn) dlsym(h, "seq4j_lstm_cell_forward"), (bwd_fn) dlsym(h, "seq4j_lstm_cell_backward")};
    if (!l.fwd || !l.bwd) exit(2);
    return l;
}

/* one time step's buffers */
struct step {
    float *gates, *dA, *h, *c, *cp, *dh, *carry, *dc, *dcp;
};

static struct step steps[T];
static int n, hh, threads, carried, backward;
static long calls;

static void once(const struct lib *l) {
    struct step *s = &steps[calls++ % T];
    if (backward) {
        l->bwd(threads, s->dA, s->dcp, s->gates, s->c, s->cp, s->dh, carried ? s->carry : NULL, s->dc, n, hh);
    } else {
        l->fwd(threads, s->h, s->c, s->gates, s->cp, n, hh);
    }
}

/* times CALLS calls one by one into out (us), after a pause and a short warm-up */
enum { CALLS = 100 };
static void window(const struct lib *l, double *out) {
    usleep(2000);
    double end = now() + 0.002;
    while (now() < end) once(l);
    for (int k = 0; k < CALLS; k++) {
        double t0 = now();
        once(l);
        out[k] = (now() - t0) * 1e6;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <libA.so> <libB.so> [rounds]\n", argv[0]);
        return 2;
    }
    struct lib a = load(argv[1]), b = load(argv[2]);
    int rounds = argc > 3 ? atoi(argv[3]) : 21;
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 21;
    static const int shapes[][2] = {{128, 128}, {64, 650}, {1, 256}};
    unsigned seed = 7;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        n = shapes[si][0];
        hh = shapes[si][1];
        size_t e = (size_t) n * hh;
        for (int t = 0; t < T; t++) {
            steps[t] = (struct step){urand(4 * e, &seed, 2.0f), urand(4 * e, &seed, 1.0f), urand(e, &seed, 1.0f),
                                     urand(e, &seed, 1.0f), urand(e, &seed, 1.0f), urand(e, &seed, 0.1f),
                                     urand(e, &seed, 0.1f), urand(e, &seed, 0.1f), urand(e, &seed, 1.0f)};
        }
        for (int kind = 0; kind < 3; kind++) {
            backward = kind > 0;
            carried = kind == 2;
            if (n == 1 && backward) continue; /* W3 is inference */
            for (threads = 1; threads <= 2; threads++) {
                static double ta[MAX_ROUNDS * CALLS], tb[MAX_ROUNDS * CALLS];
                for (int r = 0; r < rounds; r++) {
                    if (r % 2 == 0) {
                        window(&a, ta + r * CALLS);
                        window(&b, tb + r * CALLS);
                    } else {
                        window(&b, tb + r * CALLS);
                        window(&a, ta + r * CALLS);
                    }
                }
                qsort(ta, (size_t) rounds * CALLS, sizeof(double), cmp);
                qsort(tb, (size_t) rounds * CALLS, sizeof(double), cmp);
                double ma = ta[rounds * CALLS / 2], mb = tb[rounds * CALLS / 2];
                printf("%-16s %dx%-4d threads=%d A_us=%8.3f B_us=%8.3f B/A=%.3f\n",
                       kind == 0 ? "forward" : kind == 1 ? "backward" : "backward+carry", n, hh, threads, ma, mb,
                       mb / ma);
                fflush(stdout);
            }
        }
        for (int t = 0; t < T; t++) {
            float **p = (float **) &steps[t];
            for (size_t i = 0; i < sizeof(struct step) / sizeof(float *); i++) free(p[i]);
        }
    }
    return 0;
}
