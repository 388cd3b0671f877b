/*
 * lstm_cell_ulp.c - the LSTM cell forward's error in ulp against float64, for each library given (for example the
 * builds before and after a change to its exp or tanh): sigmoid gates, tanh(g), and h = o tanh(c) from the kernel's
 * own c and o. 20 batches of 256 x 1024 units, gates uniform in +-1, +-10 and +-100; results below 1e-30 in
 * magnitude are left out (exp underflows to 0 below -87.7 and sigmoid to 0 below -88.4, by design: not close in ulp).
 * Output: <library>: sigmoid max <ulp> mean <ulp> | tanh(g) max mean | h max mean | max abs err h, tanh(g)
 *
 * Build: gcc -O2 -o lstm_cell_ulp lstm_cell_ulp.c -ldl -lm
 * Run:   SEQ4J_CPU_ISA=avx512|avx2|baseline ./lstm_cell_ulp <dir A>/libseq4j_cpu.so [<dir B>/libseq4j_cpu.so ...]
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*fwd_fn)(int, float *, float *, float *, const float *, int, int);

/* |got - ref| in units of float's ulp at ref; 0 below 1e-30 (see above) */
static double ulp_err(float got, double ref) {
    if (fabs(ref) < 1e-30) return 0;
    return fabs(got - ref) / ldexp(1.0, ilogb((float) ref) - 23);
}

int main(int argc, char **argv) {
    enum { N = 256, H = 1024 };
    size_t e = (size_t) N * H;
    float *g = malloc(16 * e), *g0 = malloc(16 * e), *cp = malloc(4 * e), *hn = malloc(4 * e), *cn = malloc(4 * e);
    if (!g || !g0 || !cp || !hn || !cn) return 2;
    for (int l = 1; l < argc; l++) {
        void *lib = dlopen(argv[l], RTLD_NOW | RTLD_LOCAL);
        fwd_fn fwd = lib ? (fwd_fn) dlsym(lib, "seq4j_lstm_cell_forward") : NULL;
        if (!fwd) {
            fprintf(stderr, "%s: %s\n", argv[l], dlerror());
            return 2;
        }
        double max[3] = {0}, sum[3] = {0}, abs_h = 0, abs_t = 0;
        long count = 0;
        srand(1);
        for (int rep = 0; rep < 20; rep++) {
            double scale = (rep < 10 ? 10.0 : 100.0) * (rep % 2 ? 1.0 : 0.1);
            for (size_t q = 0; q < 4 * e; q++) g0[q] = g[q] = (float) (((double) rand() / RAND_MAX * 2 - 1) * scale);
            for (size_t k = 0; k < e; k++) cp[k] = (float) (((double) rand() / RAND_MAX * 2 - 1) * 3);
            fwd(1, hn, cn, g, cp, N, H);
            for (size_t r = 0; r < N; r++) {
                for (size_t j = 0; j < H; j++) {
                    size_t q = r * 4 * H + j, k = r * H + j;
                    double ref[4] = {1 / (1 + exp(-(double) g0[q])), tanh((double) g0[q + H]),
                                     1 / (1 + exp(-(double) g0[q + 2 * H])), 1 / (1 + exp(-(double) g0[q + 3 * H]))};
                    for (int z = 0; z < 4; z++) {
                        double u = ulp_err(g[q + z * H], ref[z]);
                        int kind = z == 1; /* 0: sigmoid, 1: tanh */
                        max[kind] = u > max[kind] ? u : max[kind];
                        sum[kind] += u;
                    }
                    double th = tanh((double) cn[k]) * g[q + 3 * H], u = ulp_err(hn[k], th);
                    max[2] = u > max[2] ? u : max[2];
                    sum[2] += u;
                    abs_h = fmax(abs_h, fabs(hn[k] - th));
                    abs_t = fmax(abs_t, fabs(g[q + H] - ref[1]));
                    count++;
                }
            }
        }
        printf("%s: sigmoid max %.2f ulp mean %.3f | tanh(g) max %.2f mean %.3f | h max %.2f mean %.3f | "
               "max abs err h %.3g, tanh(g) %.3g\n", argv[l], max[0], sum[0] / (3.0 * count), max[1], sum[1] / count,
               max[2], sum[2] / count, abs_h, abs_t);
    }
    return 0;
}
