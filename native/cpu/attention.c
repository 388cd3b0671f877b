/*
 * attention.c - the attention layer: its weights (softmax of the scores) and the weighted sum, forward and backward,
 * per decoder step, and TimeAttention, both over all of a sequence's decoder steps in one call.
 */
#include "common.h"
#include "vmath.h"

/* ---- attention (hs time-major (t, n, hd); parts are ranges of the batch index n) ------------------ */

/* The dot in double, where the float sum is not finite: products or partial sums past float's range (states above
 * ~1e19) can make +Inf + -Inf = NaN of a score that is finite, as the reference (which sums in double) finds it. Inputs
 * holding NaN or an infinity come out NaN or infinite here too. Off the hot path: one test a dot. */
__attribute__((noinline, cold)) static float dot_wide(const float *a, const float *b, int n) {
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) sum += (double) a[j] * b[j];
    return (float) sum;
}

INLINE float dot(const float *a, const float *b, int n) {
    float lanes[8] = {0};
    int64_t j = 0; /* 64-bit: j + 8 would pass INT_MAX for n above 2^31 - 9 */
    for (; j + 8 <= n; j += 8) {
        for (int k = 0; k < 8; k++) lanes[k] += a[j + k] * b[j + k];
    }
    float sum = 0.0f;
    for (; j < n; j++) sum += a[j] * b[j];
    for (int k = 0; k < 8; k++) sum += lanes[k];
    return isfinite(sum) ? sum : dot_wide(a, b, n);
}

/* out[i] = dot(a + i * stride, b, n) for i < 4, bit for bit: the four sums' chains interleaved, each in dot's order
 * (one dot waits on the latency of its adds; four at once made the attention forward about 2x faster at W4's shape).
 * Written with 8-float vectors, lane k being dot's lanes[k] (an array of 4 x 8 lanes GCC kept partly on the stack). */
typedef float dot_f8 __attribute__((vector_size(32)));
/* an unaligned load that may alias floats (no vector crosses a call: a vector argument's ABI differs by clone) */
typedef float dot_f8u __attribute__((vector_size(32), aligned(4), may_alias));
#define dot_load8(p) (*(const dot_f8u *) (p))

INLINE void dot4(float *out, const float *a, size_t stride, const float *b, int n) {
    dot_f8 l0 = {0}, l1 = {0}, l2 = {0}, l3 = {0};
    const float *a0 = a, *a1 = a + stride, *a2 = a + 2 * stride, *a3 = a + 3 * stride;
    int64_t j = 0; /* as dot's */
    for (; j + 8 <= n; j += 8) {
        dot_f8 bj = dot_load8(b + j);
        l0 += dot_load8(a0 + j) * bj;
        l1 += dot_load8(a1 + j) * bj;
        l2 += dot_load8(a2 + j) * bj;
        l3 += dot_load8(a3 + j) * bj;
    }
    dot_f8 lanes[4] = {l0, l1, l2, l3};
    for (int i = 0; i < 4; i++) {
        float sum = 0.0f;
        for (int64_t r = j; r < n; r++) sum += a[i * stride + r] * b[r];
        for (int k = 0; k < 8; k++) sum += lanes[i][k];
        out[i] = isfinite(sum) ? sum : dot_wide(a + i * stride, b, n);
    }
}

/* out[s] = hs_s . v for s < t, hs_s = hs + s * stride: four at a time, then one by one (the same bits either way) */
INLINE void dots(float *out, const float *hs, size_t stride, const float *v, int t, int hd) {
    int64_t s = 0; /* 64-bit: s + 4 would pass INT_MAX for t above 2^31 - 5 */
    for (; s + 4 <= t; s += 4) dot4(out + s, hs + s * stride, stride, v, hd);
    for (; s < t; s++) out[s] = dot(hs + s * stride, v, hd);
}

/*
 * One sequence (row r of the batch) of each attention kernel. The per-step kernels below loop these over their
 * rows; the TimeAttention calls (seq4j_time_attention_*) loop them over a row's decoder steps, so both give the
 * same bits. hs + r * hd is the row's first encoder state, the next one stride = n * hd floats further on.
 */

/* ar (t) = softmax_s(hs_s . hr) */
INLINE void attention_weight_row(float *ar, const float *hs, size_t stride, const float *hr, int t, int hd) {
    dots(ar, hs, stride, hr, t, hd);
    float max = -INFINITY;
    for (int s = 0; s < t; s++) max = ar[s] > max ? ar[s] : max;
    float sum = 0.0f;
    for (int s = 0; s < t; s++) {
        ar[s] = s4_expf(ar[s] - max);
        sum += ar[s];
    }
    float inv = 1.0f / sum;
    for (int s = 0; s < t; s++) ar[s] *= inv;
}

/* ds = a (da - sum(a da)); dhs_s += ds_s hr; dhr = sum_s ds_s hs_s */
INLINE void attention_weight_backward_row(float *dhs, float *dhr, const float *ar, const float *dar,
                                          const float *hs, size_t stride, const float *hr, int t, int hd) {
    float sum = 0.0f;
    for (int s = 0; s < t; s++) sum += ar[s] * dar[s];
    for (int j = 0; j < hd; j++) dhr[j] = 0.0f;
    for (int s = 0; s < t; s++) {
        float ds = ar[s] * (dar[s] - sum);
        const float *hss = hs + s * stride;
        float *dhss = dhs + s * stride;
        for (int j = 0; j < hd; j++) {
            dhss[j] += ds * hr[j];
            dhr[j] += ds * hss[j];
        }
    }
}

/* cr = sum_s ar_s hs_s */
INLINE void weight_sum_row(float *cr, const float *hs, size_t stride, const float *ar, int t, int hd) {
    for (int j = 0; j < hd; j++) cr[j] = 0.0f;
    for (int s = 0; s < t; s++) {
        const float *hss = hs + s * stride;
        float w = ar[s];
        for (int j = 0; j < hd; j++) cr[j] += w * hss[j];
    }
}

/* dhs_s += ar_s dcr; dar_s = hs_s . dcr */
INLINE void weight_sum_backward_row(float *dhs, float *dar, const float *hs, size_t stride, const float *ar,
                                    const float *dcr, int t, int hd) {
    for (int s = 0; s < t; s++) {
        float *dhss = dhs + s * stride;
        float w = ar[s];
        for (int j = 0; j < hd; j++) dhss[j] += w * dcr[j];
    }
    dots(dar, hs, stride, dcr, t, hd);
}

/* weight_sum_backward_row then attention_weight_backward_row for one decoder step, with dhs read and written once a
 * step instead of twice. Each dhs element gets the same two additions in the same order, and hs is not written (the
 * callers check that no output overlaps an input), so the dots of da may all come first: the same bits. */
INLINE void attention_backward_row(float *dhs, float *dhr, float *dar, const float *hs, size_t stride,
                                   const float *ar, const float *dcr, const float *hr, int t, int hd) {
    dots(dar, hs, stride, dcr, t, hd);
    float sum = 0.0f;
    for (int s = 0; s < t; s++) sum += ar[s] * dar[s];
    for (int j = 0; j < hd; j++) dhr[j] = 0.0f;
    for (int s = 0; s < t; s++) {
        float w = ar[s], ds = ar[s] * (dar[s] - sum);
        const float *hss = hs + s * stride;
        float *dhss = dhs + s * stride;
        for (int j = 0; j < hd; j++) {
            dhss[j] = (dhss[j] + w * dcr[j]) + ds * hr[j];
            dhr[j] += ds * hss[j];
        }
    }
}

/* sequences [b, e): y = a (n, t), x = hs, x2 = h */
HOT_PART(attention_weight_forward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        attention_weight_row(a->y + r * t, a->x + r * hd, stride, a->x2 + r * hd, t, hd);
    }
}

API void seq4j_attention_weight_forward(int threads, float *a, const float *hs, const float *h, int t, int n, int hd) {
    struct rows_args args = {.y = a, .x = hs, .x2 = h, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, attention_weight_forward_part, &args);
}

/* sequences [b, e): y = dhs (+=), y2 = dh, x = a, x2 = hs, x3 = h, x4 = da */
HOT_PART(attention_weight_backward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        attention_weight_backward_row(a->y + r * hd, a->y2 + r * hd, a->x + r * t, a->x4 + r * t, a->x2 + r * hd,
                                      stride, a->x3 + r * hd, t, hd);
    }
}

API void seq4j_attention_weight_backward(int threads, float *dhs, float *dh, const float *a, const float *hs,
                                         const float *h,
                                         const float *da, int t, int n, int hd) {
    struct rows_args args = {.y = dhs, .y2 = dh, .x = a, .x2 = hs, .x3 = h, .x4 = da, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, attention_weight_backward_part, &args);
}

/* sequences [b, e): y = c (n, hd), x = hs, x2 = a */
HOT_PART(weight_sum_forward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        weight_sum_row(a->y + r * hd, a->x + r * hd, stride, a->x2 + r * t, t, hd);
    }
}

API void seq4j_weight_sum_forward(int threads, float *c, const float *hs, const float *a, int t, int n, int hd) {
    struct rows_args args = {.y = c, .x = hs, .x2 = a, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, weight_sum_forward_part, &args);
}

/* sequences [b, e): y = dhs (+=), y2 = da, x = hs, x2 = a, x3 = dc */
HOT_PART(weight_sum_backward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        weight_sum_backward_row(a->y + r * hd, a->y2 + r * t, a->x + r * hd, stride, a->x2 + r * t, a->x3 + r * hd,
                                t, hd);
    }
}

API void seq4j_weight_sum_backward(int threads, float *dhs, float *da, const float *hs, const float *a,
                                   const float *dc, int t,
                                   int n, int hd) {
    struct rows_args args = {.y = dhs, .y2 = da, .x = hs, .x2 = a, .x3 = dc, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, weight_sum_backward_part, &args);
}

/*
 * TimeAttention: the attention of every decoder step over the same encoder states, in one call. The per-step
 * kernels read all of hs (T_enc x N x H) from memory twice a step forward and twice backward, where dhs is also read
 * and written twice (W4: 3.8 MB each, 10 steps). Here a part takes each of its rows through every decoder step, so
 * the row's encoder states (and gradients: T_enc x H floats each, 29 KB in W4) stay in L1/L2 from one step to the
 * next. Each row is computed by the same row functions, step after step in the same order, as the per-step loop:
 * the same bits.
 */

/* sequences [b, e): y = a (td, n, t), y2 = c (td, n, hd), x = hs (t, n, hd), x2 = hdec (td, n, hd), m = td */
HOT_PART(time_attention_forward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h, td = a->m;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        for (int s = 0; s < td; s++) {
            float *ar = a->y + ((size_t) s * a->n + r) * t;
            attention_weight_row(ar, a->x + r * hd, stride, a->x2 + s * stride + r * hd, t, hd);
            weight_sum_row(a->y2 + s * stride + r * hd, a->x + r * hd, stride, ar, t, hd);
        }
    }
}

API void seq4j_time_attention_forward(int threads, float *a, float *c, const float *hs, const float *hdec, int t,
                                      int td, int n, int hd) {
    struct rows_args args = {.y = a, .y2 = c, .x = hs, .x2 = hdec, .t = t, .m = td, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) td * t * hd), 1, time_attention_forward_part, &args);
}

/* sequences [b, e): y = dhs (t, n, hd, written), y2 = ddec (td, n, hd), x = a (td, n, t), x2 = hs, x3 = hdec,
 * x4 = dc (td, n, hd), x5 = work (n, t): the row's da; m = td */
HOT_PART(time_attention_backward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h, td = a->m;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        float *dhs = a->y + r * hd, *dar = (float *) a->x5 + r * t;
        const float *hs = a->x2 + r * hd;
        for (int s = 0; s < t; s++) {
            for (int j = 0; j < hd; j++) dhs[s * stride + j] = 0.0f;
        }
        for (int s = 0; s < td; s++) {
            const float *ar = a->x + ((size_t) s * a->n + r) * t;
            size_t k = s * stride + r * hd;
            attention_backward_row(dhs, a->y2 + k, dar, hs, stride, ar, a->x4 + k, a->x3 + k, t, hd);
        }
    }
}

API void seq4j_time_attention_backward(int threads, float *dhs, float *ddec, float *work, const float *a,
                                       const float *hs, const float *hdec, const float *dc, int t, int td, int n,
                                       int hd) {
    struct rows_args args = {.y = dhs, .y2 = ddec, .x = a, .x2 = hs, .x3 = hdec, .x4 = dc, .x5 = work, .t = t,
                             .m = td, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) td * t * hd), 1, time_attention_backward_part, &args);
}

