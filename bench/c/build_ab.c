/*
 * build_ab.c - two builds of libseq4j_cpu.so in one process, timed in alternation, and their outputs compared bit for
 * bit. Each library is dlopen'ed with RTLD_LOCAL, so each has its own pool; the idle one's worker sleeps after its
 * spin. Cases:
 *   w1  the kernels of a W1 training step that run as long pool jobs: the LSTM sequence calls (encoder T = 7,
 *       decoder T = 4, N = 128, H = 128, forward and backward; the forward's input projection from a folded
 *       embedding table of V = 13 rows, as W1's), the weight gradients h^T dA (seq4j_gemm_tn,
 *       128x512x896 and 128x512x512), the table's gradient (seq4j_embedding_backward: dA's T N rows into V = 13),
 *       the four packs of the two Wh and Adam over 150,000 parameters;
 *   w2  W2's LSTM sequence calls, forward and backward (N = 64, H = 650, T = 35; its weight gradients are sgemm's);
 *   seq:N:H:T  the same two calls at any shape (w2 is seq:64:650:35; W4's encoder seq:128:256:29);
 *   gru:N:H:T  the GRU's sequence calls, forward and backward, at that shape (W1's GRU encoder gru:128:128:7);
 *   w4  W4's two weight gradients (seq4j_gemm_tn with beta 1: 256x1024x3712, the encoder's T N = 29 x 128 rows, and
 *       256x1024x1280, the decoder's 10 x 128).
 * Method: per round, A's STEPS timed runs then B's (B first in odd rounds), each after one untimed run; the score is
 * the median over all runs of all rounds.
 * Output: <case> a_us=<median> b_us=<median> b/a=<ratio> (p10 a / b, p90 a / b) bits=same|DIFFER
 *
 * Build: gcc -O2 -I native/cpu -o build_ab bench/c/build_ab.c -ldl
 * Run:   ./build_ab A/libseq4j_cpu.so B/libseq4j_cpu.so [w1|w2|w4|seq:N:H:T|gru:N:H:T] [rounds]
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

enum { STEPS = 10, MAX_ROUNDS = 64, THREADS = 2, N = 128, H = 128, G = 4 * H, TE = 7, TD = 4, PARAMS = 150000, V = 13 };
enum { W4_H = 256, W4_G = 4 * W4_H, W4_KE = 29 * 128, W4_KD = 10 * 128 };

struct lib {
    /* the forward's table, ids and v came later: a build before them ignores the three (x86-64 calling convention) */
    int64_t (*fwd)(int, float *, float *, float *, const void *, int, int, int, int, int, const float *, const int32_t *,
                   int);
    void (*bwd)(int, float *, float *, float *, float *, const float *, const float *, const float *, const float *,
                const float *, const void *, int, int, int, int);
    void (*tn)(int, float *, const float *, const float *, int, int, int, int, int, int, float);
    void (*pack)(int, void *, const float *, int, int, int, int, int);
    /* zero_grad came later: 0 here, which a build before it ignores */
    void (*adam)(int, float *, float *, float *, float *, int64_t, float, float, float, float, int);
    int64_t (*packed_floats)(int, int, int);
    int64_t (*scatter)(int, float *, const int32_t *, const float *, int, int, int);
    void (*gru_fwd)(int, float *, float *, float *, const void *, const void *, int, int, int, int, int);
    void (*gru_bwd)(int, float *, float *, float *, float *, const float *, const float *, const void *, const void *,
                    int, int, int, int);
};

/* the gru case: one sequence's buffers and Wh's four packs (zr, hh, and their transposes) */
static struct {
    int on, t, n, h;
    float *pre, *gates, *hs, *rhs, *dA, *dh0, *dhs0, *dhs, *drh;
    void *zr, *hh, *zrt, *hht;
} gru;

/* one sequence's buffers (T steps of N rows, H hidden units) */
struct seq {
    int t, n, h;
    float *pre, *gates, *hs, *cs, *dA, *dhs, *dh0, *dc0, *work, *dW, *dTable;
};

static float *wh[2], *whp[2], *whtp[2], *param, *m1, *v1, *grad, *table; /* table (V, 4H): W1's folded embedding */
static int32_t *ids; /* (TE, N) ids into table (the decoder reads its first TD N) */
static float *w4_h, *w4_dA, *w4_dW[2]; /* W4: hs (K, H) and dA (K, 4H) of the encoder (the decoder's are their first rows) */
static int w2, w4;
static struct seq enc, dec;

static void seq_alloc(struct seq *s, int t, int n, int h, unsigned *seed) {
    size_t nh = (size_t) n * h, ng = 4 * nh;
    s->t = t, s->n = n, s->h = h;
    s->pre = urand(t * ng, seed, 1.0f), s->gates = urand(t * ng, seed, 1.0f), s->dA = urand(t * ng, seed, 1.0f);
    s->hs = urand((t + 1) * nh, seed, 1.0f), s->cs = urand((t + 1) * nh, seed, 1.0f);
    s->dhs = urand(t * nh, seed, 1.0f);
    s->dh0 = urand(nh, seed, 1.0f), s->dc0 = urand(nh, seed, 1.0f), s->work = urand(3 * nh, seed, 1.0f);
    s->dW = urand((size_t) h * 4 * h, seed, 1.0f), s->dTable = urand((size_t) V * 4 * h, seed, 1.0f);
    memset(s->hs, 0, nh * sizeof(float));
}

static void seq_pass(const struct lib *l, struct seq *s, int which) {
    int n = s->n, h = s->h;
    if (w2) {
        memcpy(s->gates, s->pre, (size_t) s->t * n * 4 * h * sizeof(float));
        l->fwd(THREADS, s->hs, s->cs, s->gates, whp[which], s->t, n, h, 1, 0, NULL, NULL, 0);
    } else {
        l->fwd(THREADS, s->hs, s->cs, s->gates, whp[which], s->t, n, h, 1, 0, table, ids, V);
    }
    l->bwd(THREADS, s->dA, s->dh0, s->dc0, s->work, s->gates, s->cs, s->dhs, NULL, NULL, whtp[which], s->t, n, h, 0);
    /* dWh = hs^T dA over the steps with a product: (H, T N) x (T N, 4H), as TimeLSTM's gradient (W1 only) */
    if (!w2) l->tn(THREADS, s->dW, s->hs, s->dA, h, 4 * h, s->t * n, h, 4 * h, 4 * h, 0.0f);
    /* the folded table's gradient: dA's rows summed into the rows of their ids (W1 only) */
    if (!w2) l->scatter(THREADS, s->dTable, ids, s->dA, s->t * n, V, 4 * h);
}

static void w4_grads(const struct lib *l) {
    l->tn(THREADS, w4_dW[0], w4_h, w4_dA, W4_H, W4_G, W4_KE, W4_H, W4_G, W4_G, 1.0f);
    l->tn(THREADS, w4_dW[1], w4_h, w4_dA, W4_H, W4_G, W4_KD, W4_H, W4_G, W4_G, 1.0f);
}

static void gru_pass(const struct lib *l) {
    size_t nh = (size_t) gru.n * gru.h;
    memcpy(gru.gates, gru.pre, gru.t * 3 * nh * sizeof(float));
    l->gru_fwd(THREADS, gru.hs, gru.gates, gru.rhs, gru.zr, gru.hh, gru.t, gru.n, gru.h, 1, 0);
    memcpy(gru.dhs, gru.dhs0, gru.t * nh * sizeof(float)); /* the backward overwrites dhs */
    l->gru_bwd(THREADS, gru.dA, gru.dh0, gru.dhs, gru.drh, gru.gates, gru.hs, gru.zrt, gru.hht, gru.t, gru.n, gru.h, 0);
}

static void step(const struct lib *l) {
    if (gru.on) {
        gru_pass(l);
        return;
    }
    if (w4) {
        w4_grads(l);
        return;
    }
    if (w2) {
        seq_pass(l, &enc, 0);
        return;
    }
    for (int i = 0; i < 2; i++) {
        l->pack(THREADS, whp[i], wh[i], 111, H, G, G, 0);
        l->pack(THREADS, whtp[i], wh[i], 112, G, H, G, 0);
    }
    seq_pass(l, &enc, 0);
    seq_pass(l, &dec, 1);
    l->adam(THREADS, param, m1, v1, grad, PARAMS, 1e-3f, 0.9f, 0.999f, 1e-7f, 0);
}

static void load(struct lib *l, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "build_ab: cannot load %s: %s\n", path, dlerror());
        exit(2);
    }
    *(void **) &l->fwd = dlsym(h, "seq4j_lstm_forward_seq");
    *(void **) &l->bwd = dlsym(h, "seq4j_lstm_backward_seq");
    *(void **) &l->tn = dlsym(h, "seq4j_gemm_tn");
    *(void **) &l->pack = dlsym(h, "seq4j_pack");
    *(void **) &l->adam = dlsym(h, "seq4j_adam_update");
    *(void **) &l->packed_floats = dlsym(h, "seq4j_packed_floats");
    *(void **) &l->scatter = dlsym(h, "seq4j_embedding_backward");
    *(void **) &l->gru_fwd = dlsym(h, "seq4j_gru_forward_seq");
    *(void **) &l->gru_bwd = dlsym(h, "seq4j_gru_backward_seq");
    if (!l->fwd || !l->bwd || !l->tn || !l->pack || !l->adam || !l->packed_floats || !l->scatter || !l->gru_fwd
        || !l->gru_bwd) {
        fprintf(stderr, "build_ab: %s lacks a kernel this harness calls\n", path);
        exit(2);
    }
}

static uint64_t hash(uint64_t h, const float *x, size_t n) {
    const unsigned char *b = (const unsigned char *) x;
    for (size_t i = 0; i < n * sizeof(float); i++) h = (h ^ b[i]) * 1099511628211u;
    return h;
}

static void fill(float *x, size_t n, unsigned *seed, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = scale * (2.0f * (float) rand_r(seed) / ((float) RAND_MAX + 1.0f) - 1.0f);
}

/* every output after one step from the same inputs: the two builds must agree bit for bit */
static uint64_t digest(const struct lib *l) {
    unsigned seed = 11;
    uint64_t h = 1469598103934665603u;
    if (gru.on) {
        step(l);
        size_t nh = (size_t) gru.n * gru.h;
        h = hash(h, gru.gates, gru.t * 3 * nh), h = hash(h, gru.hs, (gru.t + 1) * nh), h = hash(h, gru.rhs, gru.t * nh);
        return hash(hash(hash(h, gru.dA, gru.t * 3 * nh), gru.dh0, nh), gru.dhs, gru.t * nh);
    }
    if (w4) {
        for (int i = 0; i < 2; i++) fill(w4_dW[i], (size_t) W4_H * W4_G, &seed, 1.0f);
        step(l);
        for (int i = 0; i < 2; i++) h = hash(h, w4_dW[i], (size_t) W4_H * W4_G);
        return h;
    }
    if (w2) {
        step(l);
        size_t nh = (size_t) enc.n * enc.h, ng = 4 * nh;
        h = hash(h, enc.gates, enc.t * ng), h = hash(h, enc.hs, (enc.t + 1) * nh), h = hash(h, enc.cs, (enc.t + 1) * nh);
        return hash(hash(hash(h, enc.dA, enc.t * ng), enc.dh0, nh), enc.dc0, nh);
    }
    for (int i = 0; i < 2; i++) fill(wh[i], (size_t) H * G, &seed, 0.1f);
    fill(param, PARAMS, &seed, 1.0f);
    fill(enc.dTable, (size_t) V * G, &seed, 1.0f), fill(dec.dTable, (size_t) V * G, &seed, 1.0f); /* summed into */
    memset(m1, 0, PARAMS * sizeof(float)), memset(v1, 0, PARAMS * sizeof(float));
    step(l);
    const struct seq *ss[2] = {&enc, &dec};
    for (int k = 0; k < 2; k++) {
        const struct seq *s = ss[k];
        size_t nh = (size_t) s->n * s->h, ng = 4 * nh;
        h = hash(h, s->gates, s->t * ng), h = hash(h, s->hs, (s->t + 1) * nh), h = hash(h, s->cs, (s->t + 1) * nh);
        h = hash(h, s->dA, s->t * ng), h = hash(h, s->dh0, nh), h = hash(h, s->dc0, nh);
        h = hash(h, s->dW, (size_t) s->h * 4 * s->h), h = hash(h, s->dTable, (size_t) V * 4 * s->h);
    }
    return hash(h, param, PARAMS);
}

static void timed(const struct lib *l, double *out) {
    step(l);
    for (int k = 0; k < STEPS; k++) {
        double t0 = now();
        step(l);
        out[k] = (now() - t0) * 1e6;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: build_ab A/libseq4j_cpu.so B/libseq4j_cpu.so [w1|w2|w4|seq:N:H:T|gru:N:H:T] [rounds]\n");
        return 2;
    }
    const char *name = argc > 3 ? argv[3] : "w1";
    int seq_n = 64, seq_h = 650, seq_t = 35; /* w2's */
    char end;
    w2 = strcmp(name, "w2") == 0, w4 = strcmp(name, "w4") == 0;
    if (strncmp(name, "seq:", 4) == 0) {
        if (sscanf(name + 4, "%d:%d:%d%c", &seq_n, &seq_h, &seq_t, &end) != 3 || seq_n < 1 || seq_h < 1 || seq_t < 1
            || (double) seq_t * seq_n * seq_h > 1e8) {
            fprintf(stderr, "build_ab: case %s: expected seq:N:H:T, positive, T N H at most 1e8\n", name);
            return 2;
        }
        w2 = 1;
    } else if (strncmp(name, "gru:", 4) == 0) {
        if (sscanf(name + 4, "%d:%d:%d%c", &seq_n, &seq_h, &seq_t, &end) != 3 || seq_n < 1 || seq_h < 1 || seq_t < 1
            || (double) seq_t * seq_n * seq_h > 1e8) {
            fprintf(stderr, "build_ab: case %s: expected gru:N:H:T, positive, T N H at most 1e8\n", name);
            return 2;
        }
        gru.on = 1;
    } else if (!w2 && !w4 && strcmp(name, "w1") != 0) {
        fprintf(stderr, "build_ab: case %s: expected w1, w2, w4, seq:N:H:T or gru:N:H:T\n", name);
        return 2;
    }
    int rounds = argc > 4 ? atoi(argv[4]) : 21;
    if (rounds < 1 || rounds > MAX_ROUNDS) rounds = 21;
    struct lib a, b;
    load(&a, argv[1]), load(&b, argv[2]);
    unsigned seed = 7;
    if (gru.on) {
        int t = seq_t, n = seq_n, h = seq_h;
        size_t nh = (size_t) n * h;
        gru.t = t, gru.n = n, gru.h = h;
        gru.pre = urand(t * 3 * nh, &seed, 1.0f), gru.gates = urand(t * 3 * nh, &seed, 1.0f);
        gru.hs = urand((t + 1) * nh, &seed, 1.0f), gru.rhs = urand(t * nh, &seed, 1.0f);
        gru.dA = urand(t * 3 * nh, &seed, 1.0f), gru.dh0 = urand(nh, &seed, 1.0f), gru.drh = urand(nh, &seed, 1.0f);
        gru.dhs0 = urand(t * nh, &seed, 1.0f), gru.dhs = urand(t * nh, &seed, 1.0f);
        memset(gru.hs, 0, nh * sizeof(float));
        float *w = urand((size_t) h * 3 * h, &seed, 0.05f); /* Wh (h, 3h): zr its first 2h columns, hh the last h */
        gru.zr = aligned_alloc(64, (size_t) a.packed_floats(h, 2 * h, 0) * sizeof(float));
        gru.hh = aligned_alloc(64, (size_t) a.packed_floats(h, h, 0) * sizeof(float));
        gru.zrt = aligned_alloc(64, (size_t) a.packed_floats(2 * h, h, 0) * sizeof(float));
        gru.hht = aligned_alloc(64, (size_t) a.packed_floats(h, h, 0) * sizeof(float));
        if (!gru.zr || !gru.hh || !gru.zrt || !gru.hht) return 2;
        a.pack(THREADS, gru.zr, w, 111, h, 2 * h, 3 * h, 0), a.pack(THREADS, gru.hh, w + 2 * h, 111, h, h, 3 * h, 0);
        a.pack(THREADS, gru.zrt, w, 112, 2 * h, h, 3 * h, 0), a.pack(THREADS, gru.hht, w + 2 * h, 112, h, h, 3 * h, 0);
    } else if (w4) {
        w4_h = urand((size_t) W4_KE * W4_H, &seed, 1.0f), w4_dA = urand((size_t) W4_KE * W4_G, &seed, 1e-2f);
        for (int i = 0; i < 2; i++) w4_dW[i] = urand((size_t) W4_H * W4_G, &seed, 1.0f);
    } else if (w2) {
        const int W2_N = seq_n, W2_H = seq_h, W2_T = seq_t;
        seq_alloc(&enc, W2_T, W2_N, W2_H, &seed);
        size_t packed = (size_t) a.packed_floats(W2_H, 4 * W2_H, 0);
        wh[0] = urand((size_t) W2_H * 4 * W2_H, &seed, 0.05f);
        whp[0] = aligned_alloc(64, packed * sizeof(float)), whtp[0] = aligned_alloc(64, packed * sizeof(float));
        a.pack(THREADS, whp[0], wh[0], 111, W2_H, 4 * W2_H, 4 * W2_H, 0);
        a.pack(THREADS, whtp[0], wh[0], 112, 4 * W2_H, W2_H, 4 * W2_H, 0);
    } else {
        seq_alloc(&enc, TE, N, H, &seed), seq_alloc(&dec, TD, N, H, &seed);
        size_t packed = (size_t) a.packed_floats(H, G, 0);
        for (int i = 0; i < 2; i++) {
            wh[i] = urand((size_t) H * G, &seed, 0.1f);
            whp[i] = aligned_alloc(64, packed * sizeof(float)), whtp[i] = aligned_alloc(64, packed * sizeof(float));
        }
        param = urand(PARAMS, &seed, 1.0f), m1 = urand(PARAMS, &seed, 0.0f), v1 = urand(PARAMS, &seed, 0.0f);
        grad = urand(PARAMS, &seed, 1e-3f);
        table = urand((size_t) V * G, &seed, 1.0f);
        ids = malloc((size_t) TE * N * sizeof(int32_t));
        if (!ids) return 2;
        for (int i = 0; i < TE * N; i++) ids[i] = rand_r(&seed) % V;
    }
    int same = digest(&a) == digest(&b);
    static double ta[MAX_ROUNDS * STEPS], tb[MAX_ROUNDS * STEPS];
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) timed(&a, ta + r * STEPS), timed(&b, tb + r * STEPS);
        else timed(&b, tb + r * STEPS), timed(&a, ta + r * STEPS);
    }
    size_t all = (size_t) rounds * STEPS;
    qsort(ta, all, sizeof ta[0], cmp), qsort(tb, all, sizeof tb[0], cmp);
    printf("%s a_us=%.1f b_us=%.1f b/a=%.3f (p10 %.1f / %.1f, p90 %.1f / %.1f) bits=%s\n", name, ta[all / 2],
           tb[all / 2], tb[all / 2] / ta[all / 2], ta[all / 10], tb[all / 10], ta[all * 9 / 10], tb[all * 9 / 10],
           same ? "same" : "DIFFER");
    return !same;
}
