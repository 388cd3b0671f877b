/*
 * loss.c - the losses (softmax-cross-entropy, mean squared error) forward and backward, the clip's sum of squares and
 * argmax by rows; sums run in fixed blocks added in block order, so their results do not depend on the thread count.
 */
#include "common.h"
#include "vmath.h"

/* ---- losses and reductions ---------------------------------------------------------------------- */
/*
 * Reductions give the same result whatever the number of threads: the data is cut into at most
 * REDUCE_BLOCKS fixed blocks, each block's partial sum (in double) lands in its own slot, and the slots
 * are added in block order at the end. Part boundaries fall on block boundaries (align = block size).
 */
#define REDUCE_BLOCKS 64

struct reduce_args {
    const float *x, *x2;
    float *y;
    const int32_t *labels;
    _Atomic int64_t *bad;
    int v;
    int64_t block;
    double sum[REDUCE_BLOCKS];
    int count[REDUCE_BLOCKS];
};

static int64_t reduce_block(int64_t total) {
    int64_t b = (total + REDUCE_BLOCKS - 1) / REDUCE_BLOCKS;
    return b > 0 ? b : 1;
}

static double reduce_total(const struct reduce_args *a, int *count) {
    double total = 0.0;
    int c = 0;
    for (int i = 0; i < REDUCE_BLOCKS; i++) {
        total += a->sum[i];
        c += a->count[i];
    }
    if (count) *count = c;
    return total;
}

/* rows [b, e): y = probs, x = logits, labels; per block: the sum of -log p[label] and the number of valid rows */
HOT_PART(xent_forward_part) {
    struct reduce_args *a = (struct reduce_args *) p;
    for (int64_t b0 = b; b0 < e; b0 += a->block) {
        int64_t b1 = b0 + a->block < e ? b0 + a->block : e;
        double total = 0.0;
        int count = 0;
        for (int64_t r = b0; r < b1; r++) {
            const float *x = a->x + r * a->v;
            int32_t label = load_id(a->labels, r);
            if (label != -1 && (uint32_t) label >= (uint32_t) a->v) {
                report_bad_id(a->bad, r, label);
                label = -1;
            }
            if (a->v == 0) continue; /* an empty row: its label is -1 */
            float x_label = label >= 0 ? x[label] : 0.0f; /* read before probs may overwrite logits */
            float max, logsum;
            softmax_row(a->y + r * a->v, x, a->v, &max, &logsum);
            if (label != -1) {
                total += (double) logsum - (double) (x_label - max);
                count++;
            }
        }
        a->sum[b0 / a->block] = total;
        a->count[b0 / a->block] = count;
    }
}

API int64_t seq4j_softmax_xent_forward(int threads, float *probs, float *loss, const float *logits,
                                       const int32_t *labels, int m, int v) {
    _Atomic int64_t bad = 0;
    struct reduce_args a = {.x = logits, .y = probs, .labels = labels, .bad = &bad, .v = v, .block = reduce_block(m)};
    /* an exp and a log per element: W1's 512 rows of 13 took 20.0 us on one thread, 11.8 on two (grain 4 v: one) */
    int64_t grain = row_grain(32 * (int64_t) v);
    parallel_for(threads, m, grain > a.block ? grain : a.block, a.block, xent_forward_part, &a);
    int count;
    double total = reduce_total(&a, &count);
    loss[0] = (float) (total / (count > 0 ? count : 1));
    return atomic_load(&bad);
}

struct xent_backward_args {
    float *dlogits;
    const float *probs;
    const int32_t *labels;
    _Atomic int64_t *bad;
    float scale;
    int v;
};

HOT_PART_256(xent_backward_part) {
    const struct xent_backward_args *a = p;
    int v = a->v;
    for (int64_t r = b; r < e; r++) {
        const float *pr = a->probs + r * v;
        float *d = a->dlogits + r * v;
        int32_t label = load_id(a->labels, r);
        if (label != -1 && (uint32_t) label >= (uint32_t) v) {
            report_bad_id(a->bad, r, label);
            label = -1;
        }
        if (label == -1) {
            for (int j = 0; j < v; j++) d[j] = 0.0f;
            continue;
        }
        /* (p - onehot) * scale, as the reference: p * scale - scale is NaN for an infinite scale where it is -+Inf.
         * p[label] read first: d may be probs (in place) */
        float p_label = pr[label];
        for (int j = 0; j < v; j++) d[j] = pr[j] * a->scale;
        d[label] = (p_label - 1.0f) * a->scale;
    }
}

API int64_t seq4j_softmax_xent_backward(int threads, float *dlogits, const float *probs, const int32_t *labels,
                                        float dloss, int m, int v) {
    int count = 0;
    for (int r = 0; r < m; r++) count += load_id(labels, r) != -1; /* a bad label here only changes the scale */
    _Atomic int64_t bad = 0;
    struct xent_backward_args a = {dlogits, probs, labels, &bad, dloss / (float) (count > 0 ? count : 1), v};
    parallel_for(threads, m, row_grain(v), 1, xent_backward_part, &a);
    return atomic_load(&bad);
}

/* elements [b, e) by block: the sum of (x - x2)^2 (x2 = NULL: of x^2), in double with 8 lanes */
HOT_PART(squares_part) {
    struct reduce_args *a = (struct reduce_args *) p;
    for (int64_t b0 = b; b0 < e; b0 += a->block) {
        int64_t b1 = b0 + a->block < e ? b0 + a->block : e;
        double lanes[8] = {0};
        int64_t i = b0;
        if (a->x2) {
            for (; i + 8 <= b1; i += 8) {
                for (int k = 0; k < 8; k++) {
                    double d = (double) a->x[i + k] - a->x2[i + k];
                    lanes[k] += d * d;
                }
            }
        } else {
            for (; i + 8 <= b1; i += 8) {
                for (int k = 0; k < 8; k++) lanes[k] += (double) a->x[i + k] * a->x[i + k];
            }
        }
        double sum = 0.0;
        for (; i < b1; i++) {
            double d = (double) a->x[i] - (a->x2 ? a->x2[i] : 0.0f);
            sum += d * d;
        }
        for (int k = 0; k < 8; k++) sum += lanes[k];
        a->sum[b0 / a->block] = sum;
    }
}

static double sum_of_squared(int threads, const float *x, const float *minus, int64_t n) {
    struct reduce_args a = {.x = x, .x2 = minus, .block = reduce_block(n)};
    /* in double, so compute-bound: the clip's sum over W1's 150,576 gradients 14.4 us on one thread, 8.4 on two */
    int64_t grain = ELEMENT_GRAIN > a.block ? ELEMENT_GRAIN : a.block;
    parallel_for(threads, n, grain, a.block, squares_part, &a);
    return reduce_total(&a, NULL);
}

API void seq4j_mse_forward(int threads, float *loss, const float *y, const float *t, int64_t n, float scale) {
    loss[0] = (float) (scale * sum_of_squared(threads, y, t, n));
}

HOT_PART(mse_backward_part) {
    const struct ew_args *a = p;
    float s = 2.0f * a->s0;
    for (int64_t i = b; i < e; i++) a->y[i] = s * (a->x[i] - a->x2[i]);
}

API void seq4j_mse_backward(int threads, float *dy, const float *y, const float *t, int64_t n, float scale) {
    struct ew_args a = {.y = dy, .x = y, .x2 = t, .s0 = scale};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, mse_backward_part, &a);
}

API void seq4j_sum_of_squares(int threads, float *out, const float *x, int64_t n) {
    out[0] = (float) sum_of_squared(threads, x, NULL, n);
}

API void seq4j_argmax_rows(int threads, int32_t *ids, const float *x, int m, int v) {
    (void) threads; /* serial */
    for (int r = 0; r < m; r++) {
        const float *row = x + (size_t) r * v;
        int best = 0;
        for (int j = 1; j < v; j++) {
            if (row[j] > row[best]) best = j;
        }
        ids[r] = best;
    }
}

