/*
 * amx_interleave.c - the BF16 one-row product (seq4j_gemm_packed, 1 x 512 x 256: one thread's half of W3's step)
 * alternating with scalar work of SPIN tanhf calls, as a step's product alternates with its cell: the time a round
 * and the product's share, with the product on AMX (SEQ4J_CPU_AMX unset) or on the v4 FMA blocks (SEQ4J_CPU_AMX=0).
 * Measures whether AMX's gain in a loop of products alone survives the gaps between products. One thread; best of 7
 * windows of 100,000 rounds.
 *
 * Build: gcc -O2 -o amx_interleave bench/c/amx_interleave.c -L native/build -l:libseq4j_cpu.so \
 *            -Wl,-rpath,$PWD/native/build -lm
 * Run:   [SEQ4J_CPU_AMX=0] ./amx_interleave SPIN
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
#include "../../native/cpu/seq4j_cpu.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static volatile float sink;
int main(int argc, char **argv) {
    int n = 512, k = 256, spin = atoi(argv[1]);
    float *w = malloc(sizeof(float) * k * n), *a = malloc(sizeof(float) * k), *y = calloc(n, 4);
    for (int i = 0; i < k * n; i++) w[i] = 2.0f * rand() / RAND_MAX - 1;
    for (int i = 0; i < k; i++) a[i] = 2.0f * rand() / RAND_MAX - 1;
    void *pb = aligned_alloc(64, seq4j_packed_floats(k, n, SEQ4J_PACKED_BF16) * 4);
    seq4j_pack(1, pb, w, 111, k, n, n, SEQ4J_PACKED_BF16);
    float buf[2048]; for (int i = 0; i < 2048; i++) buf[i] = i * 1e-3f;
    int reps = 100000; double best = 1e9, bestp = 1e9;
    for (int w9 = 0; w9 < 7; w9++) {
        double t0 = now(), tp = 0;
        for (int r = 0; r < reps; r++) {
            double t1 = now();
            seq4j_gemm_packed(1, y, a, pb, 1, n, k, k, n, 0.0f, SEQ4J_PACKED_BF16);
            tp += now() - t1;
            float s = 0; /* other (vector) work between products, as a step's cell would */
            for (int i = 0; i < spin; i++) s += tanhf(buf[i & 2047] + s * 1e-9f);
            sink = s;
        }
        double t = (now() - t0) / reps * 1e6; if (t < best) best = t; if (tp / reps * 1e6 < bestp) bestp = tp / reps * 1e6;
    }
    printf("spin %d: %.2f us a round, product %.2f us (%s)\n", spin, best, bestp, seq4j_cpu_info());
}
