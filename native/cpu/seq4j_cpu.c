/*
 * seq4j_cpu.c - the C kernels of seq4j_cpu.h: fused, single-pass, auto-vectorised loops.
 *
 * What this is: the CPU half of the kernel set that BLAS does not cover, one function per Backend
 * method, called from Java through FFM. What it is not: argument checking (Java did that) or GEMM
 * (OpenBLAS does that). The maths of every kernel is stated in seq4j_cpu.h and in JavaBackend, the
 * reference these loops are tested against.
 *
 * Speed comes from (1) one pass per kernel (e.g. the four LSTM gates, the cell and the hidden state
 * in one loop), (2) a branch-free exp that the compiler vectorises (libm's expf does not vectorise
 * without -ffast-math), and (3) each hot loop compiled twice, for x86-64-v3 (AVX2 + FMA) and for the
 * x86-64 baseline, selected once by the dynamic loader through GCC's target_clones (ifunc).
 */
#include "seq4j_cpu.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define API __attribute__((visibility("default")))
#if defined(__x86_64__) && !defined(SEQ4J_NO_CLONES)
#define HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HOT
#endif
#define INLINE static inline __attribute__((always_inline))

/* ---- vectorisable transcendental functions ------------------------------------------------------ */

INLINE float bits_to_float(int32_t i) {
    union { int32_t i; float f; } u = { .i = i };
    return u.f;
}

/* exp(x) with about 1 ulp of error (Cephes' expf polynomial, Cody-Waite range reduction), branch-free.
 * x is clamped to [-87.3, 88.3] so that 2^n stays a normal float; NaN passes through as NaN. */
INLINE float s4_expf(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    /* n = round(x / ln 2) by the 1.5 * 2^23 trick, which needs no SSE4.1 round instruction */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return p * bits_to_float(((int32_t) n + 127) << 23);
}

INLINE float s4_sigmoid(float x) {
    return 1.0f / (1.0f + s4_expf(-x));
}

/* tanh(x): an odd polynomial for |x| < 0.625 (Cephes' tanhf), 1 - 2 / (exp(2|x|) + 1) beyond, with
 * the sign put back. Both sides are computed and one is selected, so the loop stays branch-free. */
INLINE float s4_tanhf(float x) {
    float ax = fabsf(x);
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                    + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float large = 1.0f - 2.0f / (s4_expf(2.0f * ax) + 1.0f);
    large = x < 0.0f ? -large : large;
    return ax < 0.625f ? small : large;
}

/* ---- library ------------------------------------------------------------------------------------ */

API const char *seq4j_cpu_info(void) {
#if defined(__x86_64__) && !defined(SEQ4J_NO_CLONES)
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return v3 ? "seq4j_cpu 0.1 (gcc " __VERSION__ "), kernels: x86-64-v3 (AVX2+FMA)"
              : "seq4j_cpu 0.1 (gcc " __VERSION__ "), kernels: x86-64 baseline (SSE2)";
#else
    return "seq4j_cpu 0.1 (gcc " __VERSION__ "), kernels: generic";
#endif
}

/* ---- elementwise -------------------------------------------------------------------------------- */

API HOT void seq4j_fill_f32(float *x, int64_t n, float value) {
    for (int64_t i = 0; i < n; i++) x[i] = value;
}

API HOT void seq4j_fill_i32(int32_t *x, int64_t n, int32_t value) {
    for (int64_t i = 0; i < n; i++) x[i] = value;
}

API HOT void seq4j_scale(float *x, int64_t n, float alpha) {
    for (int64_t i = 0; i < n; i++) x[i] *= alpha;
}

API HOT void seq4j_axpy(float *y, const float *x, int64_t n, float alpha) {
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

API HOT void seq4j_mul(float *out, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

API void seq4j_swap_axes01(int32_t *out, const int32_t *in, int n, int t, int f) {
    for (int ni = 0; ni < n; ni++) {
        for (int ti = 0; ti < t; ti++) {
            memcpy(out + ((size_t) ti * n + ni) * f, in + ((size_t) ni * t + ti) * f, (size_t) f * sizeof *in);
        }
    }
}

API void seq4j_concat_columns(float *out, const float *a, const float *b, int m, int f1, int f2) {
    size_t w = (size_t) f1 + f2;
    for (int r = 0; r < m; r++) {
        memcpy(out + r * w, a + (size_t) r * f1, (size_t) f1 * sizeof *a);
        memcpy(out + r * w + f1, b + (size_t) r * f2, (size_t) f2 * sizeof *b);
    }
}

API void seq4j_split_columns(float *da, float *db, const float *dout, int m, int f1, int f2) {
    size_t w = (size_t) f1 + f2;
    for (int r = 0; r < m; r++) {
        memcpy(da + (size_t) r * f1, dout + r * w, (size_t) f1 * sizeof *da);
        memcpy(db + (size_t) r * f2, dout + r * w + f1, (size_t) f2 * sizeof *db);
    }
}

/* ---- bias and row sums -------------------------------------------------------------------------- */

API HOT void seq4j_add_bias(float *y, const float *b, int m, int n) {
    for (int r = 0; r < m; r++) {
        float *row = y + (size_t) r * n;
        for (int j = 0; j < n; j++) row[j] += b[j];
    }
}

API HOT void seq4j_sum_rows(float *out, const float *x, float beta, int m, int n) {
    /* column blocks of 512 with double accumulators: exact enough for thousands of rows */
    enum { BLOCK = 512 };
    double acc[BLOCK];
    for (int j0 = 0; j0 < n; j0 += BLOCK) {
        int w = n - j0 < BLOCK ? n - j0 : BLOCK;
        for (int j = 0; j < w; j++) acc[j] = 0.0;
        for (int r = 0; r < m; r++) {
            const float *row = x + (size_t) r * n + j0;
            for (int j = 0; j < w; j++) acc[j] += row[j];
        }
        for (int j = 0; j < w; j++) {
            double old = beta == 0.0f ? 0.0 : (double) beta * out[j0 + j];
            out[j0 + j] = (float) (old + acc[j]);
        }
    }
}

/* ---- activations -------------------------------------------------------------------------------- */

API HOT void seq4j_sigmoid_forward(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = s4_sigmoid(x[i]);
}

API HOT void seq4j_sigmoid_backward(float *dx, const float *y, const float *dy, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

API HOT void seq4j_tanh_forward(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = s4_tanhf(x[i]);
}

API HOT void seq4j_tanh_backward(float *dx, const float *y, const float *dy, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

/* y (v) = softmax(x (v)) for one row; returns log(sum(exp(x - max))) and the max, for cross-entropy */
INLINE void softmax_row(float *y, const float *x, int v, float *max_out, float *logsum_out) {
    float max = x[0];
    for (int j = 1; j < v; j++) max = x[j] > max ? x[j] : max;
    float sum = 0.0f;
    for (int j = 0; j < v; j++) {
        float e = s4_expf(x[j] - max);
        y[j] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < v; j++) y[j] *= inv;
    *max_out = max;
    *logsum_out = logf(sum);
}

API HOT void seq4j_softmax_forward(float *y, const float *x, int m, int v) {
    float max, logsum;
    for (int r = 0; r < m; r++) softmax_row(y + (size_t) r * v, x + (size_t) r * v, v, &max, &logsum);
}

API HOT void seq4j_softmax_backward(float *dx, const float *y, const float *dy, int m, int v) {
    for (int r = 0; r < m; r++) {
        const float *yr = y + (size_t) r * v, *dyr = dy + (size_t) r * v;
        float *dxr = dx + (size_t) r * v;
        float dot = 0.0f;
        for (int j = 0; j < v; j++) dot += yr[j] * dyr[j];
        for (int j = 0; j < v; j++) dxr[j] = yr[j] * (dyr[j] - dot);
    }
}

/* ---- LSTM cell ---------------------------------------------------------------------------------- */

/* One row of the cell. restrict lets GCC vectorise without runtime alias checks (there are too many
 * pointers for its limit of 10 checks); the caller's buffers never overlap (checked in Java). */
INLINE void lstm_row_forward(float *restrict f, float *restrict g, float *restrict i, float *restrict o,
                             float *restrict hn, float *restrict cn, const float *restrict cp, int h) {
    for (int j = 0; j < h; j++) {
        float fj = s4_sigmoid(f[j]), gj = s4_tanhf(g[j]), ij = s4_sigmoid(i[j]), oj = s4_sigmoid(o[j]);
        f[j] = fj;
        g[j] = gj;
        i[j] = ij;
        o[j] = oj;
        float c = fj * cp[j] + gj * ij;
        cn[j] = c;
        hn[j] = oj * s4_tanhf(c);
    }
}

API HOT void seq4j_lstm_cell_forward(float *h_next, float *c_next, float *gates, const float *c_prev, int n, int h) {
    for (int r = 0; r < n; r++) {
        float *f = gates + (size_t) r * 4 * h;
        size_t k = (size_t) r * h;
        lstm_row_forward(f, f + h, f + 2 * (size_t) h, f + 3 * (size_t) h, h_next + k, c_next + k, c_prev + k, h);
    }
}

/* forward: c = f c_prev + g i, h = o tanh(c). With ds = dL/dc through both paths:
 *   ds = dc_next + dh_next o (1 - tanh(c)^2),  dc_prev = ds f,
 *   df = ds c_prev f (1 - f),  dg = ds i (1 - g^2),  di = ds g i (1 - i),  do = dh_next tanh(c) o (1 - o). */
INLINE void lstm_row_backward(float *restrict df, float *restrict dg, float *restrict di, float *restrict dO,
                              float *restrict dc_prev, const float *restrict f, const float *restrict g,
                              const float *restrict i, const float *restrict o, const float *restrict c_next,
                              const float *restrict c_prev, const float *restrict dh_next,
                              const float *restrict dc_next, int h) {
    for (int j = 0; j < h; j++) {
        float tc = s4_tanhf(c_next[j]);
        float dh = dh_next[j];
        float ds = dc_next[j] + dh * o[j] * (1.0f - tc * tc);
        df[j] = ds * c_prev[j] * f[j] * (1.0f - f[j]);
        dg[j] = ds * i[j] * (1.0f - g[j] * g[j]);
        di[j] = ds * g[j] * i[j] * (1.0f - i[j]);
        dO[j] = dh * tc * o[j] * (1.0f - o[j]);
        dc_prev[j] = ds * f[j];
    }
}

API HOT void seq4j_lstm_cell_backward(float *dA, float *dc_prev, const float *gates, const float *c_next,
                                      const float *c_prev, const float *dh_next, const float *dc_next, int n, int h) {
    for (int r = 0; r < n; r++) {
        const float *f = gates + (size_t) r * 4 * h;
        float *d = dA + (size_t) r * 4 * h;
        size_t k = (size_t) r * h, h1 = (size_t) h;
        lstm_row_backward(d, d + h1, d + 2 * h1, d + 3 * h1, dc_prev + k, f, f + h1, f + 2 * h1, f + 3 * h1,
                          c_next + k, c_prev + k, dh_next + k, dc_next + k, h);
    }
}

/* ---- embedding ---------------------------------------------------------------------------------- */

API void seq4j_embedding_forward(float *out, const float *W, const int32_t *ids, int m, int d) {
    for (int r = 0; r < m; r++) memcpy(out + (size_t) r * d, W + (size_t) ids[r] * d, (size_t) d * sizeof *W);
}

API HOT void seq4j_embedding_backward(float *dW, const int32_t *ids, const float *dout, int m, int d) {
    for (int r = 0; r < m; r++) {
        float *row = dW + (size_t) ids[r] * d;
        const float *src = dout + (size_t) r * d;
        for (int j = 0; j < d; j++) row[j] += src[j];
    }
}

/* ---- losses ------------------------------------------------------------------------------------- */

API HOT void seq4j_softmax_xent_forward(float *probs, float *loss, const float *logits, const int32_t *labels,
                                        int m, int v) {
    double total = 0.0;
    int count = 0;
    for (int r = 0; r < m; r++) {
        const float *x = logits + (size_t) r * v;
        int label = labels[r];
        float x_label = label >= 0 ? x[label] : 0.0f; /* read before probs may overwrite logits */
        float max, logsum;
        softmax_row(probs + (size_t) r * v, x, v, &max, &logsum);
        if (label != -1) {
            total += (double) logsum - (double) (x_label - max);
            count++;
        }
    }
    loss[0] = (float) (total / (count > 0 ? count : 1));
}

API HOT void seq4j_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, float dloss,
                                         int m, int v) {
    int count = 0;
    for (int r = 0; r < m; r++) count += labels[r] != -1;
    float scale = dloss / (float) (count > 0 ? count : 1);
    for (int r = 0; r < m; r++) {
        const float *p = probs + (size_t) r * v;
        float *d = dlogits + (size_t) r * v;
        int label = labels[r];
        if (label == -1) {
            for (int j = 0; j < v; j++) d[j] = 0.0f;
            continue;
        }
        for (int j = 0; j < v; j++) d[j] = p[j] * scale;
        d[label] -= scale;
    }
}

API HOT void seq4j_mse_forward(float *loss, const float *y, const float *t, int64_t n, float scale) {
    double lanes[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; k++) {
            double d = (double) y[i + k] - t[i + k];
            lanes[k] += d * d;
        }
    }
    double sum = 0.0;
    for (; i < n; i++) {
        double d = (double) y[i] - t[i];
        sum += d * d;
    }
    for (int k = 0; k < 8; k++) sum += lanes[k];
    loss[0] = (float) (scale * sum);
}

API HOT void seq4j_mse_backward(float *dy, const float *y, const float *t, int64_t n, float scale) {
    float s = 2.0f * scale;
    for (int64_t i = 0; i < n; i++) dy[i] = s * (y[i] - t[i]);
}

/* ---- attention ---------------------------------------------------------------------------------- */

INLINE float dot(const float *a, const float *b, int n) {
    float lanes[8] = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        for (int k = 0; k < 8; k++) lanes[k] += a[j + k] * b[j + k];
    }
    float sum = 0.0f;
    for (; j < n; j++) sum += a[j] * b[j];
    for (int k = 0; k < 8; k++) sum += lanes[k];
    return sum;
}

API HOT void seq4j_attention_weight_forward(float *a, const float *hs, const float *h, int t, int n, int hd) {
    for (int r = 0; r < n; r++) {
        float *ar = a + (size_t) r * t;
        const float *hr = h + (size_t) r * hd;
        float max = -INFINITY;
        for (int s = 0; s < t; s++) {
            ar[s] = dot(hs + ((size_t) s * n + r) * hd, hr, hd);
            max = ar[s] > max ? ar[s] : max;
        }
        float sum = 0.0f;
        for (int s = 0; s < t; s++) {
            ar[s] = s4_expf(ar[s] - max);
            sum += ar[s];
        }
        float inv = 1.0f / sum;
        for (int s = 0; s < t; s++) ar[s] *= inv;
    }
}

API HOT void seq4j_attention_weight_backward(float *dhs, float *dh, const float *a, const float *hs, const float *h,
                                             const float *da, int t, int n, int hd) {
    for (int r = 0; r < n; r++) {
        const float *ar = a + (size_t) r * t, *dar = da + (size_t) r * t, *hr = h + (size_t) r * hd;
        float *dhr = dh + (size_t) r * hd;
        float sum = 0.0f;
        for (int s = 0; s < t; s++) sum += ar[s] * dar[s];
        for (int j = 0; j < hd; j++) dhr[j] = 0.0f;
        for (int s = 0; s < t; s++) {
            float ds = ar[s] * (dar[s] - sum);
            const float *hss = hs + ((size_t) s * n + r) * hd;
            float *dhss = dhs + ((size_t) s * n + r) * hd;
            for (int j = 0; j < hd; j++) {
                dhss[j] += ds * hr[j];
                dhr[j] += ds * hss[j];
            }
        }
    }
}

API HOT void seq4j_weight_sum_forward(float *c, const float *hs, const float *a, int t, int n, int hd) {
    for (int r = 0; r < n; r++) {
        float *cr = c + (size_t) r * hd;
        const float *ar = a + (size_t) r * t;
        for (int j = 0; j < hd; j++) cr[j] = 0.0f;
        for (int s = 0; s < t; s++) {
            const float *hss = hs + ((size_t) s * n + r) * hd;
            float w = ar[s];
            for (int j = 0; j < hd; j++) cr[j] += w * hss[j];
        }
    }
}

API HOT void seq4j_weight_sum_backward(float *dhs, float *da, const float *hs, const float *a, const float *dc,
                                       int t, int n, int hd) {
    for (int r = 0; r < n; r++) {
        const float *ar = a + (size_t) r * t, *dcr = dc + (size_t) r * hd;
        for (int s = 0; s < t; s++) {
            const float *hss = hs + ((size_t) s * n + r) * hd;
            float *dhss = dhs + ((size_t) s * n + r) * hd;
            float w = ar[s];
            for (int j = 0; j < hd; j++) dhss[j] += w * dcr[j];
            da[(size_t) r * t + s] = dot(hss, dcr, hd);
        }
    }
}

/* ---- dropout ------------------------------------------------------------------------------------ */

INLINE float counter_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    return (float) (z >> 40) * 0x1.0p-24f;
}

API HOT void seq4j_dropout_mask(float *mask, int64_t n, float ratio, uint64_t seed) {
    float keep = 1.0f / (1.0f - ratio);
    for (int64_t i = 0; i < n; i++) mask[i] = counter_uniform(seed, (uint64_t) i) > ratio ? keep : 0.0f;
}

/* ---- optimizers --------------------------------------------------------------------------------- */

API HOT void seq4j_sgd_update(float *param, const float *grad, int64_t n, float lr) {
    for (int64_t i = 0; i < n; i++) param[i] -= lr * grad[i];
}

API HOT void seq4j_momentum_update(float *param, float *v, const float *grad, int64_t n, float lr, float momentum) {
    for (int64_t i = 0; i < n; i++) {
        v[i] = momentum * v[i] - lr * grad[i];
        param[i] += v[i];
    }
}

API HOT void seq4j_adagrad_update(float *param, float *h, const float *grad, int64_t n, float lr, float eps) {
    for (int64_t i = 0; i < n; i++) {
        h[i] += grad[i] * grad[i];
        param[i] -= lr * grad[i] / (sqrtf(h[i]) + eps);
    }
}

API HOT void seq4j_rmsprop_update(float *param, float *h, const float *grad, int64_t n, float lr, float decay,
                                  float eps) {
    for (int64_t i = 0; i < n; i++) {
        h[i] = decay * h[i] + (1.0f - decay) * grad[i] * grad[i];
        param[i] -= lr * grad[i] / (sqrtf(h[i]) + eps);
    }
}

API HOT void seq4j_adam_update(float *param, float *m, float *v, const float *grad, int64_t n,
                               float lr_t, float beta1, float beta2, float eps) {
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i];
        m[i] += (1.0f - beta1) * (g - m[i]);
        v[i] += (1.0f - beta2) * (g * g - v[i]);
        param[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}

/* ---- reductions --------------------------------------------------------------------------------- */

API HOT void seq4j_sum_of_squares(float *out, const float *x, int64_t n) {
    double lanes[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; k++) lanes[k] += (double) x[i + k] * x[i + k];
    }
    double sum = 0.0;
    for (; i < n; i++) sum += (double) x[i] * x[i];
    for (int k = 0; k < 8; k++) sum += lanes[k];
    out[0] = (float) sum;
}

API void seq4j_argmax_rows(int32_t *ids, const float *x, int m, int v) {
    for (int r = 0; r < m; r++) {
        const float *row = x + (size_t) r * v;
        int best = 0;
        for (int j = 1; j < v; j++) {
            if (row[j] > row[best]) best = j;
        }
        ids[r] = best;
    }
}
