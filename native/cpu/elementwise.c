/*
 * elementwise.c - flat and row-wise kernels: fills, scale, axpy, mul, the layout moves (the first two axes swapped,
 * columns concatenated and split), bias and row sums, sigmoid, tanh and softmax with their backward passes, dropout
 * masks.
 */
#include "common.h"
#include "vmath.h"

/* ---- elementwise -------------------------------------------------------------------------------- */

HOT_PART(fill_f32_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->s0;
}

API void seq4j_fill_f32(int threads, float *x, int64_t n, float value) {
    struct ew_args a = {.y = x, .s0 = value};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, fill_f32_part, &a);
}

HOT_PART(fill_i32_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->iy[i] = a->i0;
}

API void seq4j_fill_i32(int threads, int32_t *x, int64_t n, int32_t value) {
    struct ew_args a = {.iy = x, .i0 = value};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, fill_i32_part, &a);
}

HOT_PART(scale_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] *= a->s0;
}

API void seq4j_scale(int threads, float *x, int64_t n, float alpha) {
    struct ew_args a = {.y = x, .s0 = alpha};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, scale_part, &a);
}

HOT_PART(axpy_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] += a->s0 * a->x[i];
}

API void seq4j_axpy(int threads, float *y, const float *x, int64_t n, float alpha) {
    struct ew_args a = {.y = y, .x = x, .s0 = alpha};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, axpy_part, &a);
}

HOT_PART(mul_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->x[i] * a->x2[i];
}

API void seq4j_mul(int threads, float *out, const float *a, const float *b, int64_t n) {
    struct ew_args args = {.y = out, .x = a, .x2 = b};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, mul_part, &args);
}

API void seq4j_swap_axes01(int threads, int32_t *out, const int32_t *in, int n, int t, int f) {
    (void) threads; /* serial */
    for (int ni = 0; ni < n; ni++) {
        for (int ti = 0; ti < t; ti++) {
            memcpy(out + ((size_t) ti * n + ni) * f, in + ((size_t) ni * t + ti) * f, (size_t) f * sizeof *in);
        }
    }
}

API void seq4j_concat_columns(int threads, float *out, const float *a, const float *b, int m, int f1, int f2) {
    (void) threads; /* serial */
    size_t w = (size_t) f1 + f2;
    for (int r = 0; r < m; r++) {
        memcpy(out + r * w, a + (size_t) r * f1, (size_t) f1 * sizeof *a);
        memcpy(out + r * w + f1, b + (size_t) r * f2, (size_t) f2 * sizeof *b);
    }
}

API void seq4j_split_columns(int threads, float *da, float *db, const float *dout, int m, int f1, int f2) {
    (void) threads; /* serial */
    size_t w = (size_t) f1 + f2;
    for (int r = 0; r < m; r++) {
        memcpy(da + (size_t) r * f1, dout + r * w, (size_t) f1 * sizeof *da);
        memcpy(db + (size_t) r * f2, dout + r * w + f1, (size_t) f2 * sizeof *db);
    }
}

/* ---- bias and row sums -------------------------------------------------------------------------- */


/* rows [b, e) of y (m, n) += x (n) */
HOT_PART(add_bias_part) {
    const struct rows_args *a = p;
    for (int64_t r = b; r < e; r++) {
        float *row = a->y + r * a->n;
        for (int j = 0; j < a->n; j++) row[j] += a->x[j];
    }
}

API void seq4j_add_bias(int threads, float *y, const float *b, int m, int n) {
    struct rows_args a = {.y = y, .x = b, .n = n};
    parallel_for(threads, m, row_grain(n), 1, add_bias_part, &a);
}

/* columns [b, e): y[j] = s0 y[j] + sum over the m rows of x[:, j], in column blocks with double accumulators. A block
 * is as wide as a part's columns up to 2048 (16 KiB of accumulators, in L1): a row's columns of the part are read as
 * one run, where blocks of 512 walked every row four times as often in runs of 2 KiB, at a stride the prefetchers
 * follow poorly (W2's db over dA 2240 x 2600, 23 MB, cold after the weight gradients' products: 1.8 ms of its step,
 * where a pass over the rows takes a third of that). Four rows a round, each column still summed row by row in
 * order: the same bits whatever the block. */
HOT_PART(sum_rows_part) {
    const struct rows_args *a = p;
    enum { BLOCK = 2048 };
    double acc[BLOCK];
    const size_t n = (size_t) a->n;
    for (int64_t j0 = b; j0 < e; j0 += BLOCK) {
        int w = e - j0 < BLOCK ? (int) (e - j0) : BLOCK;
        for (int j = 0; j < w; j++) acc[j] = 0.0;
        int64_t r = 0; /* 64-bit: r + 4 would pass INT_MAX for m above 2^31 - 5 (as sum_rows_kernel's r in CUDA) */
        for (; r + 4 <= a->m; r += 4) {
            const float *x0 = a->x + (size_t) r * n + j0, *x1 = x0 + n, *x2 = x1 + n, *x3 = x2 + n;
            for (int j = 0; j < w; j++) acc[j] = (((acc[j] + x0[j]) + x1[j]) + x2[j]) + x3[j];
        }
        for (; r < a->m; r++) {
            const float *row = a->x + (size_t) r * n + j0;
            for (int j = 0; j < w; j++) acc[j] += row[j];
        }
        for (int j = 0; j < w; j++) {
            double old = a->s0 == 0.0f ? 0.0 : (double) a->s0 * a->y[j0 + j];
            a->y[j0 + j] = (float) (old + acc[j]);
        }
    }
}

API void seq4j_sum_rows(int threads, float *out, const float *x, float beta, int m, int n) {
    struct rows_args a = {.y = out, .x = x, .s0 = beta, .m = m, .n = n};
    parallel_for(threads, n, row_grain(m), ELEMENT_ALIGN, sum_rows_part, &a);
}

/* ---- activations -------------------------------------------------------------------------------- */

HOT_FMA_PART(sigmoid_forward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = s4_sigmoid(a->x[i]);
}

API void seq4j_sigmoid_forward(int threads, float *y, const float *x, int64_t n) {
    struct ew_args a = {.y = y, .x = x};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, sigmoid_forward_part, &a);
}

/* y = dx, x = y (the activations), x2 = dy */
HOT_PART_256(sigmoid_backward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->x2[i] * a->x[i] * (1.0f - a->x[i]);
}

API void seq4j_sigmoid_backward(int threads, float *dx, const float *y, const float *dy, int64_t n) {
    struct ew_args a = {.y = dx, .x = y, .x2 = dy};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, sigmoid_backward_part, &a);
}

HOT_FMA_PART(tanh_forward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = s4_tanhf(a->x[i]);
}

API void seq4j_tanh_forward(int threads, float *y, const float *x, int64_t n) {
    struct ew_args a = {.y = y, .x = x};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, tanh_forward_part, &a);
}

/* y = dx, x = y (the activations), x2 = dy */
HOT_PART(tanh_backward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->x2[i] * (1.0f - a->x[i] * a->x[i]);
}

API void seq4j_tanh_backward(int threads, float *dx, const float *y, const float *dy, int64_t n) {
    struct ew_args a = {.y = dx, .x = y, .x2 = dy};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, tanh_backward_part, &a);
}


/* rows [b, e): y = softmax(x), n = v */
HOT_PART(softmax_forward_part) {
    const struct rows_args *a = p;
    float max, logsum;
    for (int64_t r = b; r < e; r++) softmax_row(a->y + r * a->n, a->x + r * a->n, a->n, &max, &logsum);
}

API void seq4j_softmax_forward(int threads, float *y, const float *x, int m, int v) {
    if (v <= 0) return; /* rows of nothing */
    struct rows_args a = {.y = y, .x = x, .n = v};
    parallel_for(threads, m, row_grain(4 * (int64_t) v), 1, softmax_forward_part, &a);
}

/* rows [b, e): y = dx, x = y (the probabilities), x2 = dy, n = v */
HOT_PART(softmax_backward_part) {
    const struct rows_args *a = p;
    int v = a->n;
    for (int64_t r = b; r < e; r++) {
        const float *yr = a->x + r * v, *dyr = a->x2 + r * v;
        float *dxr = a->y + r * v;
        float dot = 0.0f;
        for (int j = 0; j < v; j++) dot += yr[j] * dyr[j];
        for (int j = 0; j < v; j++) dxr[j] = yr[j] * (dyr[j] - dot);
    }
}

API void seq4j_softmax_backward(int threads, float *dx, const float *y, const float *dy, int m, int v) {
    struct rows_args a = {.y = dx, .x = y, .x2 = dy, .n = v};
    parallel_for(threads, m, row_grain(v), 1, softmax_backward_part, &a);
}

/* ---- dropout ------------------------------------------------------------------------------------ */

INLINE float counter_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    return (float) (z >> 40) * 0x1.0p-24f;
}

/* y = mask, s0 = ratio, u0 = seed */
HOT_PART(dropout_mask_part) {
    const struct ew_args *a = p;
    float keep = 1.0f / (1.0f - a->s0);
    for (int64_t i = b; i < e; i++) a->y[i] = counter_uniform(a->u0, (uint64_t) i) >= a->s0 ? keep : 0.0f;
}

API void seq4j_dropout_mask(int threads, float *mask, int64_t n, float ratio, uint64_t seed) {
    struct ew_args a = {.y = mask, .s0 = ratio, .u0 = seed};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, dropout_mask_part, &a);
}

