/*
 * kernels_selftest.c - the C kernels against scalar references written here, in double where the kernel
 * approximates (exp, tanh) and in the same float operations where it must round exactly (the optimizers), so
 * it runs wherever the library is built: natively on each x86-64 clone (SEQ4J_CPU_ISA), and cross-compiled for
 * aarch64 under qemu-aarch64 (make check). Covered: LSTM cell forward and backward, softmax with cross-entropy
 * (a bad label reported through the status), embedding forward and backward (duplicates, a bad id), Adam, the
 * sum of squares, GEMM through seq4j_set_blas with a tiny reference sgemm registered here, and the packed
 * weights: seq4j_pack's layout (F32 and BF16, with bf16 rounding's edge cases) and seq4j_gemm_packed; the LSTM
 * sequence kernels and TimeAttention's bit for bit against the per-step calls.
 *
 * Build and run: make -C native check
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../seq4j_cpu.h"

static int failures;
static unsigned long seed = 12345;

static float uniform(float lo, float hi) {
    seed = seed * 6364136223846793005UL + 1442695040888963407UL;
    return lo + (hi - lo) * (float) ((seed >> 40) & 0xFFFFFF) / 16777216.0f;
}

static float *values(size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof(float) + 1);
    if (!x) exit(2);
    for (size_t i = 0; i < n; i++) x[i] = uniform(lo, hi);
    return x;
}

/* |got - want| <= tol (1 + |want|): a relative tolerance that becomes absolute near 0 */
static void near(const char *what, size_t i, double got, double want, double tol) {
    if (!(fabs(got - want) <= tol * (1.0 + fabs(want)))) {
        if (failures++ < 10) fprintf(stderr, "kernels_selftest: %s[%zu] = %.9g, expected %.9g\n", what, i, got, want);
    }
}

static void same(const char *what, size_t i, float got, float want) {
    if (memcmp(&got, &want, sizeof got) != 0) {
        if (failures++ < 10) fprintf(stderr, "kernels_selftest: %s[%zu] = %.9g, expected exactly %.9g\n", what, i, got, want);
    }
}

static void status(const char *what, int64_t got, int64_t want) {
    if (got != want) {
        failures++;
        fprintf(stderr, "kernels_selftest: %s status %lld, expected %lld\n", what, (long long) got, (long long) want);
    }
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* 3 rows of 37 units (vector bodies and tails at every width), and 1 row split by units across threads */
static void lstm(int threads, int n, int h) {
    size_t nh = (size_t) n * h;
    float *gates = values(4 * nh, -4, 4), *a0 = malloc(4 * nh * sizeof(float)), *c_prev = values(nh, -2, 2);
    float *h_next = malloc(nh * sizeof(float)), *c_next = malloc(nh * sizeof(float));
    memcpy(a0, gates, 4 * nh * sizeof(float));
    seq4j_lstm_cell_forward(threads, h_next, c_next, gates, c_prev, n, h);
    for (int r = 0; r < n; r++) {
        for (int j = 0; j < h; j++) {
            const float *a = a0 + (size_t) r * 4 * h;
            double f = sigmoid(a[j]), g = tanh(a[h + j]), i = sigmoid(a[2 * h + j]), o = sigmoid(a[3 * h + j]);
            double c = f * c_prev[r * h + j] + g * i;
            size_t k = (size_t) r * h + j;
            near("lstm f", k, gates[(size_t) r * 4 * h + j], f, 1e-5);
            near("lstm g", k, gates[(size_t) r * 4 * h + h + j], g, 1e-5);
            near("lstm i", k, gates[(size_t) r * 4 * h + 2 * h + j], i, 1e-5);
            near("lstm o", k, gates[(size_t) r * 4 * h + 3 * h + j], o, 1e-5);
            near("lstm c_next", k, c_next[k], c, 1e-5);
            near("lstm h_next", k, h_next[k], o * tanh(c), 1e-5);
        }
    }
    /* backward from the activated gates, without and with a carried dh (dh = dh_next + dh_carry):
     * ds = dc_next + dh o (1 - tanh(c)^2), dc_prev = ds f, ... */
    float *dh = values(nh, -1, 1), *dc = values(nh, -1, 1), *dA = malloc(4 * nh * sizeof(float));
    float *dc_prev = malloc(nh * sizeof(float)), *carry = values(nh, -1, 1);
    for (int carried = 0; carried < 2; carried++) {
        seq4j_lstm_cell_backward(threads, dA, dc_prev, gates, c_next, c_prev, dh, carried ? carry : NULL, dc, n, h);
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < h; j++) {
                const float *a = gates + (size_t) r * 4 * h;
                size_t k = (size_t) r * h + j;
                double f = a[j], g = a[h + j], i = a[2 * h + j], o = a[3 * h + j], tc = tanh(c_next[k]);
                double dhk = carried ? (double) (dh[k] + carry[k]) : dh[k];
                double ds = dc[k] + dhk * o * (1 - tc * tc);
                float *d = dA + (size_t) r * 4 * h;
                near("lstm df", k, d[j], ds * c_prev[k] * f * (1 - f), 1e-5);
                near("lstm dg", k, d[h + j], ds * i * (1 - g * g), 1e-5);
                near("lstm di", k, d[2 * h + j], ds * g * i * (1 - i), 1e-5);
                near("lstm do", k, d[3 * h + j], dhk * tc * o * (1 - o), 1e-5);
                near("lstm dc_prev", k, dc_prev[k], ds * f, 1e-5);
            }
        }
    }
    free(carry), free(gates), free(a0), free(c_prev), free(h_next), free(c_next), free(dh), free(dc), free(dA), free(dc_prev);
}

/* 5 rows of 1003 classes; row 1 ignored (-1), row 3 a bad label (v + 5), reported and treated as ignored */
static void xent(int threads) {
    enum { M = 5, V = 1003 };
    float *logits = values((size_t) M * V, -6, 6), *probs = malloc(sizeof(float) * M * V);
    int32_t labels[M] = {7, -1, 1002, V + 5, 0};
    float loss = -1;
    status("xent forward", seq4j_softmax_xent_forward(threads, probs, &loss, logits, labels, M, V), SEQ4J_BAD_ID(3, V + 5));
    double total = 0;
    int counted = 0;
    for (int r = 0; r < M; r++) {
        double max = logits[r * V], sum = 0;
        for (int j = 1; j < V; j++) max = fmax(max, logits[r * V + j]);
        for (int j = 0; j < V; j++) sum += exp(logits[r * V + j] - max);
        for (int j = 0; j < V; j++) near("xent probs", (size_t) r * V + j, probs[r * V + j], exp(logits[r * V + j] - max) / sum, 1e-5);
        if (labels[r] >= 0 && labels[r] < V) {
            total += log(sum) + max - logits[r * V + labels[r]];
            counted++;
        }
    }
    near("xent loss", 0, loss, total / counted, 1e-5);
    float *dlogits = malloc(sizeof(float) * M * V);
    status("xent backward", seq4j_softmax_xent_backward(threads, dlogits, probs, labels, 2.0f, M, V), SEQ4J_BAD_ID(3, V + 5));
    int scaled = 0; /* the backward divides by the rows not marked -1: a bad label (the call fails) only changes that */
    for (int r = 0; r < M; r++) scaled += labels[r] != -1;
    for (int r = 0; r < M; r++) {
        int ok = labels[r] >= 0 && labels[r] < V;
        for (int j = 0; j < V; j++) {
            double want = ok ? (probs[r * V + j] - (j == labels[r])) * 2.0 / scaled : 0.0;
            near("xent dlogits", (size_t) r * V + j, dlogits[r * V + j], want, 1e-6);
        }
    }
    free(logits), free(probs), free(dlogits);
}

/* dW0's element i plus the rows of dout whose id is i / d, in float and in row order as the kernel adds them (so
 * bit for bit), skipping a bad id as the kernel does */
static float embedding_want(const float *dW0, const float *dout, const int32_t *ids, int m, int v, int d, int i) {
    float want = dW0[i];
    for (int k = 0; k < m; k++) {
        if (ids[k] >= 0 && ids[k] < v && ids[k] == i / d) want += dout[(size_t) k * d + i % d];
    }
    return want;
}

/* M ids into V rows of d, with duplicates; then a bad id at position 4. d = 19 is one column block of the backward,
 * d = 600 three (blocks of 256, the last short). With M >= V the backward sums its blocks in the thread's scratch
 * (unless V rows of a block are too many for it: V = 1100), with M < V in dW itself: the same bits either way. */
static void embedding(int threads, int D, int M, int V) {
    float *W = values((size_t) V * D, -1, 1), *out = values((size_t) M * D, -1, 1), *dout = values((size_t) M * D, -1, 1);
    float *dW = values((size_t) V * D, -1, 1), *dW0 = malloc(sizeof(float) * V * D);
    int32_t *ids = malloc(sizeof(int32_t) * M);
    for (int k = 0; k < M; k++) ids[k] = (int32_t) ((k * 7 + 3) % (V < 5 ? V : 5 + k % (V - 4))); /* many of 0..4 */
    memcpy(dW0, dW, sizeof(float) * V * D);
    status("embedding forward", seq4j_embedding_forward(threads, out, W, ids, M, V, D), 0);
    for (size_t i = 0; i < (size_t) M * D; i++) same("embedding out", i, out[i], W[ids[i / D] * D + i % D]);
    status("embedding backward", seq4j_embedding_backward(threads, dW, ids, dout, M, V, D), 0);
    for (int i = 0; i < V * D; i++) same("embedding dW", i, dW[i], embedding_want(dW0, dout, ids, M, V, D, i));
    ids[4] = -7;
    status("embedding forward (bad id)", seq4j_embedding_forward(threads, out, W, ids, M, V, D), SEQ4J_BAD_ID(4, -7));
    for (int j = 0; j < D; j++) same("embedding out (bad id row)", 4 * D + j, out[4 * D + j], 0.0f);
    memcpy(dW0, dW, sizeof(float) * V * D);
    status("embedding backward (bad id)", seq4j_embedding_backward(threads, dW, ids, dout, M, V, D), SEQ4J_BAD_ID(4, -7));
    for (int i = 0; i < V * D; i++) same("embedding dW (bad id)", i, dW[i], embedding_want(dW0, dout, ids, M, V, D, i));
    free(W), free(out), free(dout), free(dW), free(dW0), free(ids);
}

/* Adam rounds exactly as the Java reference: the same float operations in the same order (no FMA: ISO C); with
 * zero_grad the same values, and every gradient 0 after */
static void adam(int threads, int zero_grad) {
    enum { N = 100003 };
    float *p = values(N, -1, 1), *m = values(N, -0.1f, 0.1f), *v = values(N, 0, 0.01f), *g = values(N, -1, 1);
    float *p0 = malloc(sizeof(float) * N), *m0 = malloc(sizeof(float) * N), *v0 = malloc(sizeof(float) * N);
    float *g0 = malloc(sizeof(float) * N);
    memcpy(p0, p, sizeof(float) * N), memcpy(m0, m, sizeof(float) * N), memcpy(v0, v, sizeof(float) * N);
    memcpy(g0, g, sizeof(float) * N);
    float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    seq4j_adam_update(threads, p, m, v, g, N, lr, b1, b2, eps, zero_grad);
    for (int i = 0; i < N; i++) {
        float mi = m0[i] + (1.0f - b1) * (g0[i] - m0[i]);
        float vi = v0[i] + (1.0f - b2) * (g0[i] * g0[i] - v0[i]);
        float pi = p0[i] - lr * mi / (sqrtf(vi) + eps);
        same("adam m", i, m[i], mi);
        same("adam v", i, v[i], vi);
        same("adam param", i, p[i], pi);
        same(zero_grad ? "adam grad (zeroed)" : "adam grad (kept)", i, g[i], zero_grad ? 0.0f : g0[i]);
    }
    free(p), free(m), free(v), free(g), free(p0), free(m0), free(v0), free(g0);
}

/* The calling thread's floating-point control word (MXCSR on x86-64 less its sticky exception flags, bits 0-5, which
 * any arithmetic sets; FPCR on AArch64), which the optimizers change for their parts only (subnormals flushed) and must
 * put back */
static uint64_t fp_control(void) {
    uint64_t c = 0;
#if defined(__x86_64__)
    unsigned csr;
    __asm__ volatile("stmxcsr %0" : "=m"(csr));
    c = csr & ~0x3Fu;
#elif defined(__aarch64__)
    __asm__ volatile("mrs %0, fpcr" : "=r"(c));
#endif
    return c;
}

/* the control word as main started, before any kernel ran */
static uint64_t initial_control;

/* A float result of this thread's arithmetic that is subnormal unless flushing leaked out of a kernel */
static volatile float tiny = 1.0e-38f;

/* Every optimizer with its state (and the gradient) subnormal: the state comes out 0, not a subnormal that would cost
 * Intel cores an assist an operation at every later step (common.h, FLUSHED); normal state next to it rounds as the
 * reference; and the calling thread's control word and its own subnormal arithmetic are as they were. N spans several
 * parts of each update (ELEMENT_GRAIN 32768 elements, 2 or 4 of them for SGD and momentum, common.h), so that with
 * 3 threads the pool's threads run some of them: their parts flush too, and afterwards a kernel on the pool keeps its
 * subnormals (a pool thread left flushing would zero the halves below). */
static void optimizers_flush(int threads) {
    enum { N = 3 * 4 * 32768 + 4099 };
    float *p = values(N, -1, 1), *s1 = malloc(sizeof(float) * N), *s2 = malloc(sizeof(float) * N);
    float *g = malloc(sizeof(float) * N);
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < N; i++) {
            int sub = i % 2 == 0;  /* even elements subnormal, odd ones normal */
            s1[i] = sub ? 3e-39f : 0.25f;
            s2[i] = sub ? 5e-39f : 0.5f;
            g[i] = sub ? 0.0f : 0.5f;
        }
        const char *what = k == 0 ? "adam" : k == 1 ? "momentum" : k == 2 ? "rmsprop" : "adagrad";
        if (k == 0) seq4j_adam_update(threads, p, s1, s2, g, N, 1e-3f, 0.9f, 0.999f, 1e-7f, 0);
        else if (k == 1) seq4j_momentum_update(threads, p, s1, g, N, 0.1f, 0.9f);
        else if (k == 2) seq4j_rmsprop_update(threads, p, s2, g, N, 0.01f, 0.99f, 1e-7f);
        else seq4j_adagrad_update(threads, p, s2, g, N, 0.01f, 1e-7f);
        for (int i = 0; i < N; i += 2) {
            if (k <= 1) same(what, i, s1[i], 0.0f);
            if (k != 1) same(what, i, s2[i], 0.0f);
        }
        float want1 = k == 0 ? 0.25f + (1.0f - 0.9f) * (0.5f - 0.25f) : 0.9f * 0.25f - 0.1f * 0.5f;
        float want2 = k == 0 ? 0.5f + (1.0f - 0.999f) * (0.5f * 0.5f - 0.5f)
                    : k == 2 ? 0.99f * 0.5f + (1.0f - 0.99f) * 0.5f * 0.5f : 0.5f + 0.5f * 0.5f;
        for (int i = 1; i < N; i += 2) {
            if (k <= 1) same(what, i, s1[i], want1);
            if (k != 1) same(what, i, s2[i], want2);
        }
    }
    for (int i = 0; i < N; i++) s1[i] = 0x1p-130f;   /* subnormal, halved exactly */
    seq4j_scale(threads, s1, N, 0.5f);
    for (int i = 0; i < N; i++) same("scale of a subnormal after the optimizers (flushing leaked into a pool thread)",
                                     i, s1[i], 0x1p-131f);
    uint64_t after = fp_control();
    if (after != initial_control) {
        failures++;
        fprintf(stderr, "kernels_selftest: the optimizers left the caller's control word %#llx, expected %#llx\n",
                (unsigned long long) after, (unsigned long long) initial_control);
    }
    if (!(tiny / 2 > 0.0f)) {
        failures++;
        fprintf(stderr, "kernels_selftest: the caller's subnormal 1e-38 / 2 is 0 after the optimizers (flushing leaked)\n");
    }
    free(p), free(s1), free(s2), free(g);
}

/* NaN in, NaN out, through exp's polynomial (sigmoid, tanh, softmax), with no undefined conversion on the way: under
 * make check-sanitize, a NaN once reached (int32_t) NaN and a left shift of a negative value in s4_expf */
static void nan_inputs(int threads) {
    enum { N = 37 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = i % 3 == 0 ? NAN : uniform(-3, 3);
    seq4j_sigmoid_forward(threads, y, x, N);
    for (int i = 0; i < N; i++) if (isnan(x[i]) != isnan(y[i])) near("sigmoid of NaN", (size_t) i, y[i], x[i], 0);
    seq4j_tanh_forward(threads, y, x, N);
    for (int i = 0; i < N; i++) if (isnan(x[i]) != isnan(y[i])) near("tanh of NaN", (size_t) i, y[i], x[i], 0);
    seq4j_softmax_forward(threads, y, x, 1, N);
    for (int i = 0; i < N; i++) if (!isnan(y[i])) near("softmax of a row with NaN", (size_t) i, y[i], NAN, 0);
}

static void squares(int threads) {
    enum { N = 300007 };
    float *x = values(N, -3, 3), out = -1;
    double want = 0;
    for (int i = 0; i < N; i++) want += (double) x[i] * x[i];
    seq4j_sum_of_squares(threads, &out, x, N);
    near("sum of squares", 0, out, want, 1e-6);
    free(x);
}

/* cblas_sgemm, row-major only (what seq4j_sgemm calls), in double: the reference BLAS for the GEMM test */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
static atomic_int ref_calls; /* counted by every thread that runs a part: atomic, or two parts could count once */
static void ref_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc) {
    atomic_fetch_add_explicit(&ref_calls, 1, memory_order_relaxed);
    if (order != ROW_MAJOR) {
        failures++;
        fprintf(stderr, "kernels_selftest: sgemm called with order %d, expected row-major (101)\n", order);
        return;
    }
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                s += (double) (ta == TRANS ? a[p * lda + i] : a[i * lda + p]) * (tb == TRANS ? b[j * ldb + p] : b[p * ldb + j]);
            }
            c[i * ldc + j] = (float) (alpha * s + (beta == 0.0f ? 0.0 : beta * c[i * ldc + j]));
        }
    }
}

/* C (m, n) = 0.5 op(A) op(B) + 2 C with every transpose, split by rows (m >= n) and by columns (m < n) */
static void gemm(int threads) {
    int shapes[2][3] = {{517, 64, 70}, {33, 900, 41}};
    for (int s = 0; s < 2; s++) {
        for (int t = 0; t < 4; t++) {
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], ta = t & 1 ? TRANS : NO_TRANS, tb = t & 2 ? TRANS : NO_TRANS;
            float *a = values((size_t) m * k, -1, 1), *b = values((size_t) k * n, -1, 1), *c = values((size_t) m * n, -1, 1);
            float *c0 = malloc(sizeof(float) * m * n);
            memcpy(c0, c, sizeof(float) * m * n);
            int lda = ta == TRANS ? m : k, ldb = tb == TRANS ? k : n;
            ref_calls = 0;
            seq4j_sgemm(threads, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 2.0f, c, n);
            if (threads > 1 && ref_calls < 2) {
                failures++;
                fprintf(stderr, "kernels_selftest: sgemm %dx%dx%d ran in %d part(s) with %d threads\n", m, n, k, atomic_load(&ref_calls), threads);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        sum += (double) (ta == TRANS ? a[p * m + i] : a[i * k + p]) * (tb == TRANS ? b[j * k + p] : b[p * n + j]);
                    }
                    near("sgemm C", (size_t) i * n + j, c[i * n + j], 0.5 * sum + 2.0 * c0[i * n + j], 1e-5);
                }
            }
            free(a), free(b), free(c), free(c0);
        }
    }
}

/* PackedMatrix.roundToBf16, restated: round to nearest even, NaN kept a quiet NaN; the bits of the float */
static uint32_t bf16_bits(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (bits | 0x00400000u) & 0xffff0000u;
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return bits & 0xffff0000u;
}

static float bits_float(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The packed layout itself (seq4j_cpu.h), element by element, with the bf16 edge cases: ties to even both ways,
 * NaN, infinities, the largest float (rounds to infinity), a denormal; 21 columns (a padded second panel), k odd: 5,
 * and 37 (the transposed full panel in two 16 x 16 tiles of the AVX-512 path and 5 rows past them). */
static void pack_layout_k(int threads, int K) {
    enum { N = 21, P = SEQ4J_PANEL };
    float *w = malloc(sizeof(float) * K * N), *wt = malloc(sizeof(float) * K * N);
    for (int i = 0; i < K * N; i++) w[i] = uniform(-3, 3);
    uint32_t specials[] = {0x3f808000u, 0x3f818000u, 0x7fc00001u, 0xff800001u, 0x7f800000u, 0xff800000u,
                           0x7f7fffffu, 0x00000001u, 0x80000000u, 0x3f80ffffu};
    for (int i = 0; i < 10; i++) w[i * 7] = bits_float(specials[i]);
    int64_t floats = seq4j_packed_floats(K, N, SEQ4J_PACKED_F32), words = seq4j_packed_floats(K, N, SEQ4J_PACKED_BF16);
    if (floats != 2 * K * P || words != 2 * ((K + 1) / 2) * P || seq4j_packed_floats(-1, N, 0) != -1
        || seq4j_packed_floats(K, N, 7) != -1) {
        failures++;
        fprintf(stderr, "kernels_selftest: seq4j_packed_floats(%d, %d) = %lld, %lld\n", K, N, (long long) floats,
                (long long) words);
        free(w), free(wt);
        return;
    }
    for (int trans = 0; trans < 2; trans++) { /* wt: op(w) = w stored transposed, (N, K) */
        for (int kk = 0; kk < K; kk++) {
            for (int j = 0; j < N; j++) wt[j * K + kk] = w[kk * N + j];
        }
        float *f = malloc(sizeof(float) * floats);
        uint32_t *h = malloc(sizeof(uint32_t) * words);
        seq4j_pack(threads, f, trans ? wt : w, trans ? TRANS : NO_TRANS, K, N, trans ? K : N, SEQ4J_PACKED_F32);
        seq4j_pack(threads, h, trans ? wt : w, trans ? TRANS : NO_TRANS, K, N, trans ? K : N, SEQ4J_PACKED_BF16);
        for (int q = 0; q < 2; q++) {
            for (int kk = 0; kk < K; kk++) {
                for (int j = 0; j < P; j++) {
                    int col = q * P + j;
                    float want = col < N ? w[kk * N + col] : 0.0f;
                    size_t at = ((size_t) q * K + kk) * P + j;
                    same(trans ? "pack f32 (transposed)" : "pack f32", at, f[at], want);
                    uint32_t word = h[((size_t) q * ((K + 1) / 2) + kk / 2) * P + j];
                    uint32_t got = kk % 2 ? word & 0xffff0000u : word << 16;
                    if (got != bf16_bits(want) && failures++ < 10) {
                        uint32_t raw;
                        memcpy(&raw, &want, sizeof raw);
                        fprintf(stderr, "kernels_selftest: pack bf16 (%d, %d) = %08x, expected %08x (from %08x)\n", kk,
                                col, got, bf16_bits(want), raw);
                    }
                    if (kk == K - 1 && (word >> 16) != 0 && failures++ < 10) { /* the pad row of an odd k */
                        fprintf(stderr, "kernels_selftest: pack bf16 pad row (%d, %d) = %08x, expected 0\n", kk, col, word);
                    }
                }
            }
        }
        free(f), free(h);
    }
    free(w), free(wt);
}

static void pack_layout(int threads) {
    pack_layout_k(threads, 5);
    pack_layout_k(threads, 37);
}

/* c (m, n) = a (m, k) op(w) + beta c over the packed op(w), against a triple loop in double (over the bf16-rounded
 * weights for BF16). Shapes: one row (over every width of a one-row block of panels), rows not a multiple of any
 * clone's row block, columns not a multiple of the panel, k = 1, odd and even k, k long enough for seq4j_gemm_tn to
 * sum in slices (gemm.c's SLICE_FROM and KC), transposed packs; beta 0 over a c
 * full of NaN (which must not be read) and 0.5.
 * Every shape runs contiguous and again with row strides lda, ldc, ldw larger than the widths (a column block of a
 * wider matrix, as TimeGRU's gates): values in the gaps of a and w must not count, and a sentinel in the gaps of
 * c must come back unchanged.
 * seq4j_gemm_tn (a^T w over a stored transposed and w as stored, row stride ldw: not packed) runs at every F32 shape
 * with w as stored, under the same checks, and must give the packed product's c bit for bit.
 * Tolerance: |got - want| <= 1e-6 (k + 2) (sum |a b| + |beta c|), a float sum's worst rounding (k eps) with room. */
static void gemm_packed(int threads) {
    int shapes[][4] = {{1, 1, 1, 0}, {1, 1000, 37, 0}, {13, 45, 7, 1}, {8, 32, 128, 0}, {9, 17, 5, 0},
                       {2, 70, 3, 1}, {37, 100, 65, 1}, {6, 16, 1, 0}, {17, 130, 64, 0}, {128, 64, 40, 1},
                       /* one row over 2, 3, 4, 5 and 8 + 6 panels: every block width of a row (1, 7, 8 above) */
                       {1, 30, 3, 0}, {1, 40, 5, 1}, {1, 60, 2, 0}, {1, 77, 6, 1}, {1, 213, 9, 0},
                       /* as stored, for seq4j_gemm_tn too: two rows, a partial panel in 2- and 4-panel blocks */
                       {2, 70, 3, 0}, {37, 100, 65, 0}, {3, 40, 11, 0}, {11, 49, 33, 0},
                       /* k past SLICE_FROM, which seq4j_gemm_tn sums in slices of KC: odd k, a last slice of 1 row,
                        * one and two rows (seq4j_gemm_packed sums these in one pass; BF16's lone last row) */
                       {9, 40, 1025, 0}, {2, 70, 1281, 0}, {1, 77, 1100, 1}, {17, 33, 1300, 0},
                       /* rows and k enough for seq4j_gemm_tn to pack w first (TN_PACK_ROWS, SLICE_FROM) */
                       {260, 70, 600, 0},
                       /* whole panels, from 32 rows: the v3 clone's seq4j_gemm_tn packs w first (TN_PACK_ROWS_V3) */
                       {48, 64, 90, 0}, {33, 32, 700, 0},
                       /* one panel of c, split by rows (W1's output layer; 200 rows: a part ends off the row blocks) */
                       {512, 13, 128, 0}, {200, 9, 50, 1}};
    const float gap = 12345.0f; /* the sentinel between the rows of a strided a, w or c */
    for (int s = 0; s < (int) (sizeof shapes / sizeof shapes[0]); s++) {
        for (int strided = 0; strided < 2; strided++) {
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], trans = shapes[s][3];
            int pad = strided ? 1 + s % 5 * 7 : 0, lda = k + pad, ldc = n + pad, wrows = trans ? n : k;
            int ldw = (trans ? k : n) + pad;
            float *a = values((size_t) m * lda, -1, 1), *w = values((size_t) wrows * ldw, -1, 1);
            float *c = malloc(sizeof(float) * m * ldc), *c0 = values((size_t) m * ldc, -1, 1);
            int ldat = m + pad; /* a again, stored transposed (k, m), for seq4j_gemm_tn; gaps hold the sentinel */
            float *at = malloc(sizeof(float) * k * ldat);
            float *packed_c[2] = {malloc(sizeof(float) * m * ldc), malloc(sizeof(float) * m * ldc)};
            for (int p = 0; p < k; p++) {
                for (int i = 0; i < ldat; i++) at[(size_t) p * ldat + i] = i < m ? a[(size_t) i * lda + p] : gap;
            }
            for (int precision = 0; precision < 2; precision++) {
                void *b = malloc(sizeof(float) * seq4j_packed_floats(k, n, precision));
                seq4j_pack(threads, b, w, trans ? TRANS : NO_TRANS, k, n, ldw, precision);
                /* 2, 3: seq4j_gemm_tn over a transposed and w as stored (not a pack), bit for bit the packed F32 c */
                int passes = precision == SEQ4J_PACKED_F32 && !trans ? 4 : 2;
                for (int pass = 0; pass < passes; pass++) {
                    float beta = pass % 2 ? 0.5f : 0.0f;
                    for (size_t i = 0; i < (size_t) m * ldc; i++) c[i] = i % ldc >= (size_t) n ? gap : pass % 2 ? c0[i] : NAN;
                    if (pass < 2) seq4j_gemm_packed(threads, c, a, b, m, n, k, lda, ldc, beta, precision);
                    else seq4j_gemm_tn(threads, c, at, w, m, n, k, ldat, ldw, ldc, beta);
                    if (passes == 4 && pass < 2) memcpy(packed_c[pass], c, sizeof(float) * m * ldc);
                    if (pass >= 2 && memcmp(packed_c[pass - 2], c, sizeof(float) * m * ldc) != 0 && failures++ < 10) {
                        fprintf(stderr, "kernels_selftest: gemm_tn %dx%dx%d lda %d ldb %d ldc %d beta %g differs from "
                                "gemm_packed's bits\n", m, n, k, ldat, ldw, ldc, beta);
                    }
                    for (int i = 0; i < m; i++) {
                        for (int j = n; j < ldc; j++) {
                            if (c[(size_t) i * ldc + j] != gap && failures++ < 10) {
                                fprintf(stderr, "kernels_selftest: gemm_packed %dx%dx%d ldc %d wrote c[%d, %d] past n\n",
                                        m, n, k, ldc, i, j);
                            }
                        }
                        for (int j = 0; j < n; j++) {
                            double sum = 0, mag = 0;
                            for (int p = 0; p < k; p++) {
                                float wv = trans ? w[(size_t) j * ldw + p] : w[(size_t) p * ldw + j];
                                if (precision == SEQ4J_PACKED_BF16) wv = bits_float(bf16_bits(wv));
                                sum += (double) a[(size_t) i * lda + p] * wv;
                                mag += fabs((double) a[(size_t) i * lda + p] * wv);
                            }
                            double c0v = c0[(size_t) i * ldc + j];
                            double want = sum + (pass % 2 ? beta * c0v : 0.0);
                            mag += pass % 2 ? fabs(beta * c0v) : 0.0;
                            double got = c[(size_t) i * ldc + j];
                            if (!(fabs(got - want) <= 1e-6 * (k + 2) * mag) && failures++ < 10) {
                                fprintf(stderr, "kernels_selftest: gemm_%s %s %dx%dx%d%s lda %d ldc %d ldw %d beta %g: "
                                        "c[%d, %d] = %.9g, expected %.9g\n", pass >= 2 ? "tn" : "packed", precision ? "bf16" : "f32", m, n, k,
                                        trans ? "T" : "", lda, ldc, ldw, beta, i, j, got, want);
                            }
                        }
                    }
                }
                free(b);
            }
            free(a), free(w), free(c), free(c0), free(at), free(packed_c[0]), free(packed_c[1]);
        }
    }
}

/*
 * seq4j_gemm_tn with a long k over a large c: summed in slices over chunks of c (common.h's MC x NC, 256 x 512),
 * which must give each element the bits it gets where no chunk is needed. c (257 x 520, k = 1030: 5 slices, a second
 * row chunk of one row and a second column chunk of one partial panel with 1 thread) in one call, against the same
 * product in tiles of 64 rows and 256 or 264 columns (over column blocks of b), each its own call within one chunk.
 */
static void gemm_chunks(int threads) {
    enum { M = 257, N = 520, K = 1030, TR = 64, TC = 256 };
    float *at = values((size_t) K * M, -1, 1), *w = values((size_t) K * N, -1, 1);
    float *whole = malloc(sizeof(float) * M * N), *tiles = malloc(sizeof(float) * M * N);
    seq4j_gemm_tn(threads, whole, at, w, M, N, K, M, N, N, 0.0f);
    for (int r = 0; r < M; r += TR) {
        int rows = M - r < TR ? M - r : TR;
        for (int col = 0, cols; col < N; col += cols) {
            cols = N - col < 2 * TC ? N - col : TC; /* 256, then the last 264 */
            seq4j_gemm_tn(threads, tiles + (size_t) r * N + col, at + r, w + col, rows, cols, K, M, N, N, 0.0f);
        }
    }
    for (size_t i = 0; i < (size_t) M * N; i++) same("gemm_tn chunks", i, whole[i], tiles[i]);
    free(at), free(w), free(whole), free(tiles);
}

/*
 * seq4j_gemm_tn reading b as stored with a partial last panel: it packs b first wherever the pack fits its 64 MiB
 * (gemm.c's TN_PACK_MAX), so only a longer k takes this path, which loads a row's last columns alone. k = 524,300
 * over 17 columns (two panels, the second of one column) packs to just over 64 MiB: c (2 x 17) must be the bits of
 * seq4j_gemm_packed over the same b packed, and within a float sum's worst rounding of a double sum; beta 0.5 over c.
 */
static void gemm_tn_unpacked(int threads) {
    enum { M = 2, N = 17, K = 524300 };
    if (seq4j_packed_floats(K, N, SEQ4J_PACKED_F32) <= (INT64_C(1) << 24)) {
        fprintf(stderr, "kernels_selftest: gemm_tn_unpacked: the pack of %d x %d fits 64 MiB; raise K\n", K, N);
        failures++;
        return;
    }
    float *at = values((size_t) K * M, -1, 1), *w = values((size_t) K * N, -1, 1), *a = malloc(sizeof(float) * K * M);
    float c[M * N], want[M * N], c0[M * N];
    for (int p = 0; p < K; p++) {
        for (int i = 0; i < M; i++) a[(size_t) i * K + p] = at[(size_t) p * M + i];
    }
    for (int i = 0; i < M * N; i++) c[i] = want[i] = c0[i] = uniform(-1, 1);
    void *b = malloc(sizeof(float) * seq4j_packed_floats(K, N, SEQ4J_PACKED_F32));
    if (!a || !b) exit(2);
    seq4j_pack(threads, b, w, NO_TRANS, K, N, N, SEQ4J_PACKED_F32);
    seq4j_gemm_packed(threads, want, a, b, M, N, K, K, N, 0.5f, SEQ4J_PACKED_F32);
    seq4j_gemm_tn(threads, c, at, w, M, N, K, M, N, N, 0.5f);
    for (int i = 0; i < M * N; i++) {
        same("gemm_tn unpacked", i, c[i], want[i]);
        /* a float sum of K products errs by at most K eps times its largest partial sum (eps = 2^-24): about 16 here,
         * where a lost column (the path's risk) is off by the sum itself, a few hundred */
        double sum = 0, largest = 0;
        for (int p = 0; p < K; p++) {
            sum += (double) at[(size_t) p * M + i / N] * w[(size_t) p * N + i % N];
            largest = fabs(sum) > largest ? fabs(sum) : largest;
        }
        sum += 0.5 * c0[i];
        near("gemm_tn unpacked (double sum)", i, c[i], sum, (K + 2) * 0x1p-24 * (largest + 1) / (1.0 + fabs(sum)));
    }
    free(at), free(w), free(a), free(b);
}

/*
 * seq4j_lstm_forward_seq / seq4j_lstm_backward_seq bit for bit against the per-step loop of seq4j_gemm_packed and the
 * cell kernels (checked above against references): few rows (the per-step calls), rows split in parts of 8 with a
 * part of 9 and a gate width ending in a partial panel (h = 37), F32 and BF16 weights; from h_0 = 0 (first product
 * skipped) and from a state; with dhs, and with dh_last only; with and without dc_last.
 */
/*
 * The forward with a table: bit for bit seq4j_embedding_forward over all t n rows, then the call without one; with
 * good ids, and with one bad id (in the last step's last row, so that a part other than the first finds it where
 * there are parts), reported with its position as the embedding reports it, its row zeroed on both paths. hs0, cs0:
 * (t + 1, n, h) buffers whose step 0 is the starting state.
 */
static void lstm_sequence_gathered(int threads, int n, int h, int t, int precision, const void *wh, int skip_first,
                                   const float *hs0, const float *cs0) {
    enum { V = 7 };
    size_t nh = (size_t) n * h, ng = 4 * nh, m = (size_t) t * n;
    float *table = values(V * 4 * (size_t) h, -2, 2);
    int32_t *ids = malloc(m * sizeof(int32_t));
    for (size_t i = 0; i < m; i++) ids[i] = (int32_t) (i * 5 % V);
    float *g[2], *hs[2], *cs[2];
    for (int bad = 0; bad < 2; bad++) {
        if (bad) ids[m - 1] = V + 3;
        int64_t want = bad ? SEQ4J_BAD_ID(m - 1, V + 3) : 0;
        for (int v = 0; v < 2; v++) {
            g[v] = values(t * ng, -9, 9), hs[v] = malloc((t + 1) * nh * sizeof(float));
            cs[v] = malloc((t + 1) * nh * sizeof(float));
            memcpy(hs[v], hs0, nh * sizeof(float)), memcpy(cs[v], cs0, nh * sizeof(float));
        }
        status("embedding before lstm_forward_seq", seq4j_embedding_forward(threads, g[0], table, ids, (int) m, V, 4 * h), want);
        status("lstm_forward_seq", seq4j_lstm_forward_seq(threads, hs[0], cs[0], g[0], wh, t, n, h, skip_first, precision,
                                                          NULL, NULL, 0), 0);
        status("lstm_forward_seq with a table", seq4j_lstm_forward_seq(threads, hs[1], cs[1], g[1], wh, t, n, h,
                                                                      skip_first, precision, table, ids, V), want);
        for (size_t i = 0; i < t * ng; i++) same("lstm_forward_seq with a table, gates", i, g[1][i], g[0][i]);
        for (size_t i = 0; i < (t + 1) * nh; i++) same("lstm_forward_seq with a table, hs", i, hs[1][i], hs[0][i]);
        for (size_t i = 0; i < (t + 1) * nh; i++) same("lstm_forward_seq with a table, cs", i, cs[1][i], cs[0][i]);
        for (int v = 0; v < 2; v++) free(g[v]), free(hs[v]), free(cs[v]);
    }
    free(table), free(ids);
}

static void lstm_sequence(int threads, int n, int h, int t, int precision) {
    size_t nh = (size_t) n * h, ng = 4 * nh;
    float *w = values((size_t) h * 4 * h, -0.3f, 0.3f), *pre = values(t * ng, -2, 2), *state = values(2 * nh, -1, 1);
    float *wh = malloc((size_t) seq4j_packed_floats(h, 4 * h, precision) * sizeof(float));
    float *wht = malloc((size_t) seq4j_packed_floats(4 * h, h, precision) * sizeof(float));
    seq4j_pack(threads, wh, w, 111, h, 4 * h, 4 * h, precision);
    seq4j_pack(threads, wht, w, 112, 4 * h, h, 4 * h, precision);
    float *dhs = values(t * nh, -1, 1), *dh_last = values(nh, -1, 1), *dc_last = values(nh, -1, 1);
    /* [0]: the loop, [1]: the sequence call */
    float *g[2], *hs[2], *cs[2], *dA[2], *dh0[2], *dc0[2], *work[2];
    for (int v = 0; v < 2; v++) {
        g[v] = malloc(t * ng * sizeof(float)), hs[v] = malloc((t + 1) * nh * sizeof(float));
        cs[v] = malloc((t + 1) * nh * sizeof(float)), dA[v] = malloc(t * ng * sizeof(float));
        dh0[v] = malloc(nh * sizeof(float)), dc0[v] = malloc(nh * sizeof(float)), work[v] = malloc(3 * nh * sizeof(float));
    }
    for (int from_state = 0; from_state < 2; from_state++) {
        for (int v = 0; v < 2; v++) {
            memcpy(g[v], pre, t * ng * sizeof(float));
            memset(hs[v], 0, nh * sizeof(float)), memset(cs[v], 0, nh * sizeof(float));
            if (from_state) memcpy(hs[v], state, nh * sizeof(float)), memcpy(cs[v], state + nh, nh * sizeof(float));
        }
        for (int s = 0; s < t; s++) {
            if (s > 0 || from_state) seq4j_gemm_packed(threads, g[0] + s * ng, hs[0] + s * nh, wh, n, 4 * h, h, h, 4 * h, 1.0f, precision);
            seq4j_lstm_cell_forward(threads, hs[0] + (s + 1) * nh, cs[0] + (s + 1) * nh, g[0] + s * ng, cs[0] + s * nh, n, h);
        }
        status("lstm_forward_seq", seq4j_lstm_forward_seq(threads, hs[1], cs[1], g[1], wh, t, n, h, !from_state,
                                                          precision, NULL, NULL, 0), 0);
        for (size_t i = 0; i < t * ng; i++) same("lstm_forward_seq gates", i, g[1][i], g[0][i]);
        for (size_t i = 0; i < (t + 1) * nh; i++) same("lstm_forward_seq hs", i, hs[1][i], hs[0][i]);
        for (size_t i = 0; i < (t + 1) * nh; i++) same("lstm_forward_seq cs", i, cs[1][i], cs[0][i]);
        lstm_sequence_gathered(threads, n, h, t, precision, wh, !from_state, hs[1], cs[1]);
        for (int mode = 0; mode < 4; mode++) { /* bit 0: dhs (else dh_last only); bit 1: dc_last */
            const float *out = mode & 1 ? dhs : NULL, *dcl = mode & 2 ? dc_last : NULL;
            float *carry = work[0], *next = work[0] + nh, *prev = work[0] + 2 * nh;
            if (dcl) memcpy(next, dcl, nh * sizeof(float));
            else memset(next, 0, nh * sizeof(float));
            for (int s = t - 1; s >= 0; s--) {
                const float *dh_next = out ? out + s * nh : s == t - 1 ? dh_last : carry;
                seq4j_lstm_cell_backward(threads, dA[0] + s * ng, prev, g[0] + s * ng, cs[0] + (s + 1) * nh,
                                         cs[0] + s * nh, dh_next, s < t - 1 && out ? carry : NULL, next, n, h);
                seq4j_gemm_packed(threads, s > 0 ? carry : dh0[0], dA[0] + s * ng, wht, n, h, 4 * h, 4 * h, h, 0.0f, precision);
                float *x = next;
                next = prev, prev = x;
            }
            memcpy(dc0[0], next, nh * sizeof(float));
            seq4j_lstm_backward_seq(threads, dA[1], dh0[1], dc0[1], work[1], g[1], cs[1], out, dh_last, dcl, wht, t, n,
                                    h, precision);
            for (size_t i = 0; i < t * ng; i++) same("lstm_backward_seq dA", i, dA[1][i], dA[0][i]);
            for (size_t i = 0; i < nh; i++) same("lstm_backward_seq dh0", i, dh0[1][i], dh0[0][i]);
            for (size_t i = 0; i < nh; i++) same("lstm_backward_seq dc0", i, dc0[1][i], dc0[0][i]);
            /* without dh0: the same dA and dc0, step 0's product left out */
            memset(dA[1], 0, t * ng * sizeof(float)), memset(dc0[1], 0, nh * sizeof(float));
            seq4j_lstm_backward_seq(threads, dA[1], NULL, dc0[1], work[1], g[1], cs[1], out, dh_last, dcl, wht, t, n, h,
                                    precision);
            for (size_t i = 0; i < t * ng; i++) same("lstm_backward_seq dA (no dh0)", i, dA[1][i], dA[0][i]);
            for (size_t i = 0; i < nh; i++) same("lstm_backward_seq dc0 (no dh0)", i, dc0[1][i], dc0[0][i]);
        }
    }
    for (int v = 0; v < 2; v++) free(g[v]), free(hs[v]), free(cs[v]), free(dA[v]), free(dh0[v]), free(dc0[v]), free(work[v]);
    free(w), free(pre), free(state), free(wh), free(wht), free(dhs), free(dh_last), free(dc_last);
}

/*
 * seq4j_time_attention_forward / _backward bit for bit against the loop of the per-step attention kernels over the
 * decoder steps (dhs from zero), and the forward's weights and contexts against a double reference: one part, and
 * rows split across threads; hd = 37 and 131 (vector tails).
 */
static void time_attention(int threads, int n, int hd, int t, int td) {
    size_t nh = (size_t) n * hd, nt = (size_t) n * t;
    float *hs = values(t * nh, -1, 1), *hdec = values(td * nh, -1, 1), *dc = values(td * nh, -1, 1);
    /* [0]: the loop, [1]: the TimeAttention call */
    float *a[2], *c[2], *dhs[2], *ddec[2], *work[2];
    for (int v = 0; v < 2; v++) {
        a[v] = malloc(td * nt * sizeof(float)), c[v] = malloc(td * nh * sizeof(float));
        dhs[v] = values(t * nh, -9, 9), ddec[v] = malloc(td * nh * sizeof(float)), work[v] = malloc(nt * sizeof(float));
    }
    memset(dhs[0], 0, t * nh * sizeof(float)); /* the loop accumulates from zero; the call overwrites garbage */
    for (int s = 0; s < td; s++) {
        seq4j_attention_weight_forward(threads, a[0] + s * nt, hs, hdec + s * nh, t, n, hd);
        seq4j_weight_sum_forward(threads, c[0] + s * nh, hs, a[0] + s * nt, t, n, hd);
        seq4j_weight_sum_backward(threads, dhs[0], work[0], hs, a[0] + s * nt, dc + s * nh, t, n, hd);
        seq4j_attention_weight_backward(threads, dhs[0], ddec[0] + s * nh, a[0] + s * nt, hs, hdec + s * nh, work[0], t,
                                        n, hd);
    }
    seq4j_time_attention_forward(threads, a[1], c[1], hs, hdec, t, td, n, hd);
    seq4j_time_attention_backward(threads, dhs[1], ddec[1], work[1], a[1], hs, hdec, dc, t, td, n, hd);
    for (size_t i = 0; i < td * nt; i++) same("time_attention a", i, a[1][i], a[0][i]);
    for (size_t i = 0; i < td * nh; i++) same("time_attention c", i, c[1][i], c[0][i]);
    for (size_t i = 0; i < t * nh; i++) same("time_attention dhs", i, dhs[1][i], dhs[0][i]);
    for (size_t i = 0; i < td * nh; i++) same("time_attention ddec", i, ddec[1][i], ddec[0][i]);
    for (int s = 0; s < td; s++) {
        for (int r = 0; r < n; r++) {
            double score[64], max = -INFINITY, sum = 0;
            for (int e = 0; e < t; e++) {
                score[e] = 0;
                for (int j = 0; j < hd; j++) score[e] += (double) hs[(e * n + r) * hd + j] * hdec[(s * n + r) * hd + j];
                max = score[e] > max ? score[e] : max;
            }
            for (int e = 0; e < t; e++) sum += score[e] = exp(score[e] - max);
            for (int e = 0; e < t; e++) near("time_attention a (reference)", e, a[1][(s * n + r) * t + e], score[e] / sum, 1e-6);
            for (int j = 0; j < hd; j++) {
                double cj = 0;
                for (int e = 0; e < t; e++) cj += score[e] / sum * hs[(e * n + r) * hd + j];
                near("time_attention c (reference)", j, c[1][(s * n + r) * hd + j], cj, 1e-6);
            }
        }
    }
    for (int v = 0; v < 2; v++) free(a[v]), free(c[v]), free(dhs[v]), free(ddec[v]), free(work[v]);
    free(hs), free(hdec), free(dc);
}

/*
 * seq4j_gru_forward_seq / seq4j_gru_backward_seq bit for bit against the per-step loops (seq4j_gemm_packed at row
 * stride 3h and the GRU kernels): few rows (the per-step calls), rows in parts of 8 with a part of 9, widths ending in
 * partial panels (h = 37), F32 and BF16 weights; from h_0 = 0 (first products skipped) and from a state.
 */
static void gru_sequence(int threads, int n, int h, int t, int precision) {
    size_t nh = (size_t) n * h, ng = 3 * nh;
    float *w = values((size_t) h * 3 * h, -0.3f, 0.3f), *pre = values(t * ng, -2, 2), *state = values(nh, -1, 1);
    float *zr = malloc((size_t) seq4j_packed_floats(h, 2 * h, precision) * sizeof(float));
    float *hh = malloc((size_t) seq4j_packed_floats(h, h, precision) * sizeof(float));
    seq4j_pack(threads, zr, w, 111, h, 2 * h, 3 * h, precision);
    seq4j_pack(threads, hh, w + 2 * h, 111, h, h, 3 * h, precision);
    float *zrt = malloc((size_t) seq4j_packed_floats(2 * h, h, precision) * sizeof(float));
    float *hht = malloc((size_t) seq4j_packed_floats(h, h, precision) * sizeof(float));
    seq4j_pack(threads, zrt, w, 112, 2 * h, h, 3 * h, precision);
    seq4j_pack(threads, hht, w + 2 * h, 112, h, h, 3 * h, precision);
    float *out = values(t * nh, -1, 1);
    float *g[2], *hs[2], *rh[2], *dA[2], *dh0[2], *dhs[2], *drh[2]; /* [0]: the loop, [1]: the sequence call */
    for (int v = 0; v < 2; v++) {
        g[v] = malloc(t * ng * sizeof(float)), hs[v] = malloc((t + 1) * nh * sizeof(float));
        rh[v] = malloc(t * nh * sizeof(float)), dA[v] = malloc(t * ng * sizeof(float));
        dh0[v] = values(nh, -5, 5), dhs[v] = malloc(t * nh * sizeof(float)), drh[v] = malloc(nh * sizeof(float));
    }
    for (int from_state = 0; from_state < 2; from_state++) {
        for (int v = 0; v < 2; v++) {
            memcpy(g[v], pre, t * ng * sizeof(float));
            if (from_state) memcpy(hs[v], state, nh * sizeof(float));
            else memset(hs[v], 0, nh * sizeof(float));
        }
        for (int s = 0; s < t; s++) {
            float *gs = g[0] + s * ng, *hp = hs[0] + s * nh;
            if (s > 0 || from_state) seq4j_gemm_packed(threads, gs, hp, zr, n, 2 * h, h, h, 3 * h, 1.0f, precision);
            seq4j_gru_gates_forward(threads, rh[0] + s * nh, gs, hp, n, h);
            if (s > 0 || from_state) seq4j_gemm_packed(threads, gs + 2 * h, rh[0] + s * nh, hh, n, h, h, h, 3 * h, 1.0f, precision);
            seq4j_gru_cell_forward(threads, hp + nh, gs, hp, n, h);
        }
        seq4j_gru_forward_seq(threads, hs[1], g[1], rh[1], zr, hh, t, n, h, !from_state, precision);
        for (size_t i = 0; i < t * ng; i++) same("gru_forward_seq gates", i, g[1][i], g[0][i]);
        for (size_t i = 0; i < (t + 1) * nh; i++) same("gru_forward_seq hs", i, hs[1][i], hs[0][i]);
        for (size_t i = 0; i < t * nh; i++) same("gru_forward_seq rh", i, rh[1][i], rh[0][i]);
        /* the backward from the loop's saved gates and states on both sides */
        for (int v = 0; v < 2; v++) memcpy(dhs[v], out, t * nh * sizeof(float));
        memset(dh0[0], 0, nh * sizeof(float));
        for (int s = t - 1; s >= 0; s--) {
            float *d = dA[0] + s * ng, *dh_next = dhs[0] + s * nh, *dh_prev = s > 0 ? dh_next - nh : dh0[0];
            seq4j_gru_cell_backward(threads, d, g[0] + s * ng, hs[0] + s * nh, dh_next, n, h);
            seq4j_gemm_packed(threads, drh[0], d + 2 * h, hht, n, h, h, 3 * h, h, 0.0f, precision);
            seq4j_gru_gates_backward(threads, d, dh_prev, g[0] + s * ng, hs[0] + s * nh, dh_next, drh[0], n, h);
            seq4j_gemm_packed(threads, dh_prev, d, zrt, n, h, 2 * h, 3 * h, h, 1.0f, precision);
        }
        seq4j_gru_backward_seq(threads, dA[1], dh0[1], dhs[1], drh[1], g[0], hs[0], zrt, hht, t, n, h, precision);
        for (size_t i = 0; i < t * ng; i++) same("gru_backward_seq dA", i, dA[1][i], dA[0][i]);
        for (size_t i = 0; i < nh; i++) same("gru_backward_seq dh0", i, dh0[1][i], dh0[0][i]);
        for (size_t i = 0; i < t * nh; i++) same("gru_backward_seq dhs", i, dhs[1][i], dhs[0][i]);
    }
    for (int v = 0; v < 2; v++) free(g[v]), free(hs[v]), free(rh[v]), free(dA[v]), free(dh0[v]), free(dhs[v]), free(drh[v]);
    free(w), free(pre), free(state), free(zr), free(hh), free(zrt), free(hht), free(out);
}

/* kernels_selftest [THREADS...]: every check with each thread count given (default 1 and 3; 1 to SEQ4J_MAX_THREADS) */
int main(int argc, char **argv) {
    initial_control = fp_control();
    seq4j_set_blas((void *) ref_sgemm, NULL);
    int threads[8] = {1, 3}, counts = argc > 1 ? argc - 1 : 2;
    if (counts > 8) {
        fprintf(stderr, "kernels_selftest: at most 8 thread counts, got %d\n", counts);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char *end;
        long v = strtol(argv[i], &end, 10);
        if (*argv[i] == '\0' || *end != '\0' || v < 1 || v > SEQ4J_MAX_THREADS) {
            fprintf(stderr, "kernels_selftest: a thread count from 1 to %d expected, got '%s'\n", SEQ4J_MAX_THREADS,
                    argv[i]);
            return 2;
        }
        threads[i - 1] = (int) v;
    }
    char with[64] = "";
    for (int t = 0; t < counts; t++) {
        snprintf(with + strlen(with), sizeof with - strlen(with), "%s%d", t == 0 ? "" : t == counts - 1 ? " and " : ", ",
                 threads[t]);
    }
    for (int t = 0; t < counts; t++) {
        lstm(threads[t], 3, 37);
        lstm(threads[t], 1, 200);
        xent(threads[t]);
        embedding(threads[t], 19, 9, 11);
        embedding(threads[t], 600, 9, 11);
        embedding(threads[t], 19, 400, 13);
        embedding(threads[t], 600, 400, 13);
        embedding(threads[t], 19, 1200, 1100);
        adam(threads[t], 0);
        adam(threads[t], 1);
        optimizers_flush(threads[t]);
        squares(threads[t]);
        nan_inputs(threads[t]);
        gemm(threads[t]);
        pack_layout(threads[t]);
        gemm_packed(threads[t]);
        if (threads[t] == 1) gemm_chunks(1); /* one part holds all of c: both kinds of chunk boundary */
        gemm_tn_unpacked(threads[t]);
        lstm_sequence(threads[t], 5, 37, 3, SEQ4J_PACKED_F32);
        lstm_sequence(threads[t], 17, 37, 4, SEQ4J_PACKED_F32);
        lstm_sequence(threads[t], 24, 16, 3, SEQ4J_PACKED_F32);
        lstm_sequence(threads[t], 24, 37, 3, SEQ4J_PACKED_BF16);
        lstm_sequence(threads[t], 1, 256, 4, SEQ4J_PACKED_F32);  /* few rows, split by units (a team) where threads */
        lstm_sequence(threads[t], 2, 272, 3, SEQ4J_PACKED_BF16); /* 17 panels of units: parts of 9 and 8 */
        /* 4.3 MB of packed Wh, past half of any L2 up to 8 MiB: one part a thread (seq_parallel; 3 threads: 24 + 24 +
         * 16 rows, where BALANCE parts would be 8 parts of 8) */
        lstm_sequence(threads[t], 64, 520, 2, SEQ4J_PACKED_F32);
        gru_sequence(threads[t], 5, 37, 3, SEQ4J_PACKED_F32);
        gru_sequence(threads[t], 17, 37, 4, SEQ4J_PACKED_F32);
        gru_sequence(threads[t], 24, 16, 3, SEQ4J_PACKED_F32);
        gru_sequence(threads[t], 24, 37, 3, SEQ4J_PACKED_BF16);
        gru_sequence(threads[t], 1, 256, 4, SEQ4J_PACKED_F32);  /* few rows, split by units (a team) where threads */
        gru_sequence(threads[t], 2, 272, 3, SEQ4J_PACKED_BF16); /* 17 panels of units: parts of 9 and 8 */
        gru_sequence(threads[t], 64, 600, 2, SEQ4J_PACKED_F32); /* 4.3 MB of packed weights: one part a thread */
        time_attention(threads[t], 5, 37, 6, 4);
        time_attention(threads[t], 1, 16, 3, 2);
        time_attention(threads[t], 37, 131, 9, 5); /* parts of at least 5 rows (row_grain): split with 3 threads */
    }
    if (failures) {
        fprintf(stderr, "kernels_selftest: %d failures (%s)\n", failures, seq4j_cpu_info());
        return 1;
    }
    printf("kernels_selftest: LSTM cell, softmax-xent, embedding, adam, sum of squares, NaN through exp, sgemm, pack, gemm_packed, gemm_tn, LSTM and GRU sequences, TimeAttention right with %s thread%s (%s)\n",
           with, counts == 1 && threads[0] == 1 ? "" : "s", seq4j_cpu_info());
    return 0;
}
