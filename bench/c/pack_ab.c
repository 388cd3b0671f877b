/*
 * pack_ab.c - seq4j_pack of two builds of libseq4j_cpu.so (A and B, loaded side by side with dlopen) timed in
 * alternation in one run, at the recurrent layers' weight shapes: Wh as stored (k x 4k) and Wh^T (packed from the
 * stored Wh, transposed) for W1 (H = 128), W3 (H = 256) and W2 (H = 650), F32, 2 threads. The source is re-read
 * from memory each call (it is 256 KiB to 6.8 MiB), as after an optimizer step.
 * Method: per round, A then B (B then A in the next round), each after a 2 ms pause and one untimed call, then
 * CALLS calls timed one by one; the score is the median over all calls of all rounds.
 * Output: <shape> A_us=<median> B_us=<median> B/A=<ratio>
 *
 * Build: gcc -O2 -o pack_ab pack_ab.c -ldl
 * Run:   ./pack_ab <dir A>/libseq4j_cpu.so <dir B>/libseq4j_cpu.so [rounds]
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

enum { CALLS = 10, MAX_ROUNDS = 64, NO = 111, TR = 112, F32 = 0 };

typedef void (*pack_fn)(int, void *, const float *, int, int, int, int, int);
typedef int64_t (*floats_fn)(int, int, int);

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <libA.so> <libB.so> [rounds]\n", argv[0]);
        return 2;
    }
    pack_fn pack[2];
    floats_fn floats = NULL;
    for (int i = 0; i < 2; i++) {
        void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
        if (!h || !(pack[i] = (pack_fn) dlsym(h, "seq4j_pack")) || !(floats = (floats_fn) dlsym(h, "seq4j_packed_floats"))) {
            fprintf(stderr, "pack_ab: cannot load %s\n", argv[1 + i]);
            return 2;
        }
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 21;
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 21;
    static const int hs[] = {128, 256, 650};
    for (size_t hi = 0; hi < sizeof hs / sizeof hs[0]; hi++) {
        for (int trans = 0; trans < 2; trans++) {
            int h = hs[hi], k = trans ? 4 * h : h, n = trans ? h : 4 * h; /* op(Wh) is k x n; Wh is stored h x 4h */
            size_t count = (size_t) h * 4 * h;
            float *w = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
            void *dst = aligned_alloc(64, (size_t) floats(k, n, F32) * sizeof(float));
            if (!w || !dst) return 2;
            for (size_t i = 0; i < count; i++) w[i] = (float) (i % 1000) * 1e-3f;
            static double t[2][MAX_ROUNDS * CALLS];
            for (int r = 0; r < rounds; r++) {
                for (int side = 0; side < 2; side++) {
                    int i = side ^ (r % 2);
                    usleep(2000);
                    pack[i](2, dst, w, trans ? TR : NO, k, n, 4 * h, F32);
                    for (int c = 0; c < CALLS; c++) {
                        double t0 = now();
                        pack[i](2, dst, w, trans ? TR : NO, k, n, 4 * h, F32);
                        t[i][r * CALLS + c] = (now() - t0) * 1e6;
                    }
                }
            }
            qsort(t[0], (size_t) rounds * CALLS, sizeof t[0][0], cmp);
            qsort(t[1], (size_t) rounds * CALLS, sizeof t[1][0], cmp);
            double a = t[0][rounds * CALLS / 2], b = t[1][rounds * CALLS / 2];
            printf("%dx%d%s A_us=%.1f B_us=%.1f B/A=%.3f\n", k, n, trans ? " (Wh^T)" : " (Wh)", a, b, b / a);
            free(w);
            free(dst);
        }
    }
    return 0;
}
