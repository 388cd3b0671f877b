/*
 * embedding.c - the first bad id reported (ids are read once and checked at use: load_id and the rules in common.h),
 * gathers of rows by id, and the embedding forward and its scatter-add backward.
 */
#include "common.h"

void report_bad_id(_Atomic int64_t *bad, int64_t position, int32_t id) {
    int64_t status = SEQ4J_BAD_ID(position, id);
    int64_t seen = atomic_load_explicit(bad, memory_order_relaxed);
    while ((seen == 0 || status < seen)
           && !atomic_compare_exchange_weak_explicit(bad, &seen, status, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* columns [c0, c0 + w) of rows [b, e) of y (row stride d) = those of rows ids[first + r] of x (v, d); a row whose id
 * is bad is zeroed there and reported at its position first + r */
void gather_columns(float *y, const float *x, const int32_t *ids, int64_t first, int64_t b, int64_t e,
                    int64_t v, size_t d, size_t c0, size_t w, _Atomic int64_t *bad) {
    for (int64_t r = b; r < e; r++) {
        int32_t id = load_id(ids, first + r);
        if ((uint32_t) id >= (uint32_t) v) {
            report_bad_id(bad, first + r, id);
            memset(y + r * d + c0, 0, w * sizeof(float));
        } else {
            memcpy(y + r * d + c0, x + (size_t) id * d + c0, w * sizeof(float));
        }
    }
}

/* rows [b, e) of y (row stride d) = rows ids[first + r] of x (v, d), whole (gather_columns) */
void gather_rows(float *y, const float *x, const int32_t *ids, int64_t first, int64_t b, int64_t e, int64_t v,
                 size_t d, _Atomic int64_t *bad) {
    gather_columns(y, x, ids, first, b, e, v, d, 0, d, bad);
}

/* ---- embedding ---------------------------------------------------------------------------------- */

/* rows [b, e): y = out (m, d), x = W (v, d), n = d; a row whose id is bad is zeroed */
static void embedding_forward_part(const void *p, int64_t b, int64_t e) {
    const struct rows_args *a = p;
    gather_rows(a->y, a->x, a->ids, 0, b, e, a->v, (size_t) a->n, a->bad);
}

API int64_t seq4j_embedding_forward(int threads, float *out, const float *W, const int32_t *ids, int m, int v,
                                    int d) {
    _Atomic int64_t bad = 0;
    struct rows_args a = {.y = out, .x = W, .ids = ids, .bad = &bad, .n = d, .v = v};
    parallel_for(threads, m, row_grain(d) * 4, 1, embedding_forward_part, &a);
    return atomic_load(&bad);
}

/* columns [b, e) of every row: y = dW (v, d), x = dout (m, d), n = d. Threads own disjoint columns of
 * dW, so duplicate ids never race and rows are summed in the order of the ids, as in the reference.
 * The columns go in blocks of EMBED_BLOCK, and while one row's slice is added, the slices of the rows
 * EMBED_AHEAD further on are prefetched: dout streams from L3 or memory (W4's encoder scatter reads
 * 15 MB into 59 rows), and the prefetch hides that latency. Each element is still summed in row order,
 * so the bits do not change. In a C harness (3712 rows of 1024 into 59, two threads), blocks with the
 * prefetch took 0.71x the time of whole rows without it; the prefetch alone 0.80-0.83x.
 *
 * Where the job has parts of columns, the block of every row of dW fits in EMBED_OWN floats and there are at least
 * as many rows of dout as of dW, the block is summed in the thread's scratch: copied there, summed row by row, copied back (the same
 * additions in the same order, so the same bits). Summed in place, the two threads' writes to neighbouring lines
 * of the same few rows of dW cost each 6x its time alone (W1: 896 rows of 512 into 13, 94 us on two threads
 * against 32 us on one, on Zen 5; a pthreads harness showed the same, so it is the cores' prefetchers and caches,
 * not the pool); in scratch, 13.6 us a thread. */
#define EMBED_BLOCK 256
#define EMBED_AHEAD 2
#define EMBED_OWN 16384
_Static_assert(EMBED_OWN <= MC * NC, "the block fits the thread's scratch");
HOT_PART_256(embedding_backward_part) {
    const struct rows_args *a = p;
    size_t d = (size_t) a->n;
    /* a part that holds every column has dW to itself: in place, and no scratch kept by a thread that never shares */
    int shared = b > 0 || e < a->n;
    float *own = shared && a->v > 0 && a->m >= a->v ? thread_sums() : NULL;
    int64_t width = own != NULL ? EMBED_OWN / a->v / ELEMENT_ALIGN * ELEMENT_ALIGN : 0;
    if (width > EMBED_BLOCK) width = EMBED_BLOCK;
    if (width < ELEMENT_ALIGN) own = NULL, width = EMBED_BLOCK;
    for (int64_t jb = b; jb < e; jb += width) {
        int64_t je = jb + width < e ? jb + width : e;
        size_t w = (size_t) (je - jb), ld = own != NULL ? w : d;
        float *y = own != NULL ? own : a->y + jb;
        if (own != NULL) {
            for (int i = 0; i < a->v; i++) memcpy(own + (size_t) i * w, a->y + (size_t) i * d + jb, w * sizeof(float));
        }
        for (int64_t r = 0; r < a->m; r++) { /* 64-bit: r + EMBED_AHEAD would pass INT_MAX for m near it */
            if (r + EMBED_AHEAD < a->m) {
                const char *next = (const char *) (a->x + (size_t) (r + EMBED_AHEAD) * d + jb);
                for (size_t k = 0; k < w * sizeof(float); k += 64) __builtin_prefetch(next + k);
            }
            int32_t id = load_id(a->ids, r); /* read again for each block: another thread may have changed it */
            if ((uint32_t) id >= (uint32_t) a->v) {
                report_bad_id(a->bad, r, id); /* from every block that skips it, not just the part's first */
                continue;
            }
            float *row = y + (size_t) id * ld;
            const float *src = a->x + (size_t) r * d + jb;
            for (size_t j = 0; j < w; j++) row[j] += src[j];
        }
        if (own != NULL) {
            for (int i = 0; i < a->v; i++) memcpy(a->y + (size_t) i * d + jb, own + (size_t) i * w, w * sizeof(float));
        }
    }
}

API int64_t seq4j_embedding_backward(int threads, float *dW, const int32_t *ids, const float *dout, int m, int v,
                                     int d) {
    _Atomic int64_t bad = 0;
    struct rows_args a = {.y = dW, .ids = ids, .x = dout, .bad = &bad, .m = m, .n = d, .v = v};
    int64_t grain = row_grain(m);
    parallel_for(threads, d, grain < 64 ? 64 : grain, ELEMENT_ALIGN, embedding_backward_part, &a);
    return atomic_load(&bad);
}

