/*
 * gemm.c - products: OpenBLAS sgemm and sgemv split over the pool, and seq4j's own products over packed weights
 * (packing, the register-blocked blocks of each clone, seq4j_gemm_tn for weight gradients).
 */
#include "common.h"

/* ---- GEMM through the pool ---------------------------------------------------------------------- */

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static sgemm_fn blas_sgemm;
static sgemv_fn blas_sgemv;

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

API void seq4j_set_blas(void *cblas_sgemm, void *cblas_sgemv) {
    blas_sgemm = (sgemm_fn) cblas_sgemm;
    blas_sgemv = (sgemv_fn) cblas_sgemv;
}

struct gemm_args {
    int ta, tb, m, n, k, lda, ldb, ldc, split_rows;
    float alpha, beta;
    const float *a, *b;
    float *c;
};

/* rows [begin, end) of C (split_rows), or its columns [begin, end): the matching rows of op(A) or columns of op(B) */
static void gemm_part(const void *p, int64_t begin, int64_t end) {
    const struct gemm_args *g = p;
    int w = (int) (end - begin);
    if (g->split_rows) {
        const float *a = g->ta == TRANS ? g->a + begin : g->a + begin * g->lda;
        blas_sgemm(ROW_MAJOR, g->ta, g->tb, w, g->n, g->k, g->alpha, a, g->lda, g->b, g->ldb, g->beta,
                   g->c + begin * g->ldc, g->ldc);
    } else {
        const float *b = g->tb == TRANS ? g->b + begin * g->ldb : g->b + begin;
        blas_sgemm(ROW_MAJOR, g->ta, g->tb, g->m, w, g->k, g->alpha, g->a, g->lda, b, g->ldb, g->beta, g->c + begin,
                   g->ldc);
    }
}

API void seq4j_sgemm(int threads, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    struct gemm_args g = {trans_a, trans_b, m, n, k, lda, ldb, ldc, m >= n, alpha, beta, a, b, c};
    /* a part should be at least ~0.25 MFLOP: about 8 us at the 30 GFLOP/s OpenBLAS reaches on skinny products, where a
     * spinning worker takes a part up in well under one. At 1 MFLOP W1's three output-layer products (512 x 13 x 128,
     * 128 x 13 x 512 TN, 512 x 128 x 13 NT: 1.7 MFLOP each, ~50 us on one core) ran on one thread while the other
     * waited; split, each took 0.52-0.56x the time (this AVX2 VM, C harness, medians of 400 calls) */
    double other = g.split_rows ? n : m;
    int64_t grain = (int64_t) (2.5e5 / (2.0 * other * (k > 0 ? k : 1))) + 1;
    parallel_for(threads, g.split_rows ? m : n, grain, g.split_rows ? 4 : 16, gemm_part, &g);
}

struct gemv_args {
    int trans, rows, cols, lda, incx;
    float alpha, beta;
    const float *a, *x;
    float *y;
};

/* outputs [begin, end) of y = op(A) x: rows of A as stored (no transpose) or its columns (transposed) */
static void gemv_part(const void *p, int64_t begin, int64_t end) {
    const struct gemv_args *g = p;
    int w = (int) (end - begin);
    if (g->trans == TRANS) {
        blas_sgemv(ROW_MAJOR, TRANS, g->rows, w, g->alpha, g->a + begin, g->lda, g->x, g->incx, g->beta, g->y + begin, 1);
    } else {
        blas_sgemv(ROW_MAJOR, NO_TRANS, w, g->cols, g->alpha, g->a + begin * g->lda, g->lda, g->x, g->incx, g->beta,
                   g->y + begin, 1);
    }
}

API void seq4j_sgemv(int threads, int trans, int rows, int cols, float alpha, const float *a, int lda,
                     const float *x, int incx,
                     float beta, float *y) {
    struct gemv_args g = {trans, rows, cols, lda, incx, alpha, beta, a, x, y};
    int64_t outputs = trans == TRANS ? cols : rows, inner = trans == TRANS ? rows : cols;
    if (outputs <= 0) return;
    parallel_for(threads, outputs, 65536 / (inner > 0 ? inner : 1) + 1, 16, gemv_part, &g);
}

/* ---- packed weights ------------------------------------------------------------------------------ */
/*
 * B (k, n) packed into panels of PANEL columns, k-major (layout in seq4j_cpu.h), so that the product needs no
 * packing per call: OpenBLAS's sgemm re-packs B on every call, which for the recurrent product of a step
 * (128 x 512 x 128) is a third of its time, though Wh is the same at every step.
 *
 * The product is register-blocked: a block of MR rows of c times NP panels keeps MR x NP vectors of PANEL floats
 * as accumulators, and each k adds a[r][k] times row k of the panels (one load per panel, one broadcast per row).
 * Written once with GCC's vector extensions (PK_BLOCK, for each clone's native vector width); MR and NP are chosen
 * per clone to fit its register file (PK_PART). With one or two rows (inference, N = 1) blocks of more panels give
 * the FMA chains more independence (the product is then bound by reading B). Only the v4 clone beats OpenBLAS at
 * the recurrent shapes on an AVX-512 CPU, and the v3 clone's blocks (by hand, v3_block) on an AVX2 one
 * (seq4j_packed_preferred); the baseline and aarch64 blocks are correct, and kept simple. Panels are the outer loop and row blocks
 * the inner one, so a block of panels (k x 32 floats: 16 KiB for k = 128) stays in L1 while all rows pass over
 * it; parts of the pool are ranges of panels, fixed by the shapes and the thread count, so each thread reads
 * the same columns of B at every call. Each element of c sums its k products in order, one FMA each (fused
 * where the clone has FMA): the split and the blocking never change a result, only the clone may.
 * Measured (bench/c/packed_bench.c, 2 threads, Zen 4, a shared machine: rough): 128 x 512 x 128 in 80 us against
 * seq4j_sgemm's 115 us (OpenBLAS's Haswell kernels) or 186 us (Cooperlake); 128 x 128 x 512 from Wh^T 75 against 113 /
 * 120 us; one row, 1 x 2600 x 650: 45 us F32 and 24 us BF16 against seq4j_sgemv's 50-54 us. Packing Wh (128 x 512)
 * takes 9-14 us, Wh^T 30-40 us (6 us on Zen 5 since pack_tiles_trans_avx512). The baseline clone took 250-340 us at 128
 * x 512 x 128, slower than sgemm: hence seq4j_packed_preferred. On an AVX2-only Zen 3 (2 threads, rough), the v3 blocks
 * against OpenBLAS's Zen (Haswell) sgemm: 128 x 512 x 128 146 / 231 us, 128 x 128 x 512 from Wh^T 127 / 174, 64 x 2600
 * x 650 1.28 / 2.30 ms, 1 x 1024 x 256 10 / 14 us (BF16 7.7), 1 x 2600 x 650 55 / 66 us (BF16 40); seq4j_gemm_tn there
 * lost as it read dA (128 x 512 x 896 1.74 / 1.17 ms: dA's rows 2 KiB apart keep a block's slice of B out of L1); it
 * packs dA first there now (TN_PACK_ROWS_V3): 0.82-0.91x sgemm's time alone at W1's shapes, about even with it
 * inside W1's step.
 * What is packed: Wh for a forward's h_{t-1} Wh, Wh^T for a backward's dA_t Wh^T (both reused T times). The weight
 * gradients dWh = Hprev^T dA and dWx = x^T dA (dA (T*N, 4H) used once or twice) run the same blocks without a pack
 * (seq4j_gemm_tn): a's strides swapped, and each row of a block's panels loaded from dA as stored, PANEL floats a
 * panel as from a pack. Packing dA first (1.8 MB just written by the cell backward) cost W1's step 0.19-0.45 ms, a
 * third to half of what the blocks gain over OpenBLAS's sgemm TN. Measured (packed_bench, 2 threads, Zen 4, a
 * loaded shared machine: rough), sgemm TN / pack + packed / packed alone / seq4j_gemm_tn, us: 128 x 512 x 896
 * 1800 / 1470 / 1315 / 1400; 128 x 512 x 512 1090 / 900 / 755 / 730; 16 x 512 x 896 476 / 359 / 206 / 218; but W2's
 * 650 x 2600 x 2240 89 / 209 / 205 / 344 ms (rows of 10 KB: a page per row of b and of a), so the backend calls it
 * only at the shapes of OpenBlasBackend.gemmK's rule.
 */

INLINE uint16_t to_bf16(float x) { /* PackedMatrix.roundToBf16, bit for bit */
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t) ((bits | 0x00400000u) >> 16); /* NaN stays NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t) (bits >> 16);
}

API int64_t seq4j_packed_floats(int k, int n, int precision) {
    if (k < 0 || n < 0 || (precision != SEQ4J_PACKED_F32 && precision != SEQ4J_PACKED_BF16)) return -1;
    int64_t panels = ((int64_t) n + PANEL - 1) / PANEL; /* panels x k x PANEL < 2^27 x 2^31 x 2^4: no overflow */
    return panels * (precision == SEQ4J_PACKED_BF16 ? ((int64_t) k + 1) / 2 : k) * PANEL;
}

struct pack_args {
    void *dst;
    const float *w;
    int64_t k, n, ldw; /* row stride of w as stored: (k, n), or (n, k) when transposed */
    int trans, bf16;
};

/* op(w)[kk][col], 0 beyond column n or row k (the padding) */
INLINE float pack_value(const struct pack_args *g, int64_t kk, int64_t col) {
    if (col >= g->n || kk >= g->k) return 0.0f;
    return g->trans ? g->w[col * g->ldw + kk] : g->w[kk * g->ldw + col];
}

/* The padded last F32 panel q (k x PANEL floats at dst), element by element */
INLINE void pack_panel_f32_padded(const struct pack_args *g, float *dst, int64_t q) {
    for (int64_t kk = 0; kk < g->k; kk++) {
        for (int64_t j = 0; j < PANEL; j++) dst[kk * PANEL + j] = pack_value(g, kk, q * PANEL + j);
    }
}

#ifdef SEQ4J_X86_CLONES
/*
 * Rows [k0, k1) of the transposed F32 panel q, k1 - k0 a multiple of 16: each 16 x 16 tile (16 runs of 16 floats, one
 * from each of the panel's 16 rows of w) transposed in registers and stored as 16 whole panel rows (1 KiB in a row).
 * Element by element, each float went to its own place 64 bytes from the last: W1's Wh^T took 3x the time of Wh as
 * stored. The standard three rounds of shuffles: within 128-bit lanes by pairs and quads, then across lanes.
 */
static __attribute__((target("avx512f"))) void pack_tiles_trans_avx512(float *panel, const float *w, int64_t ldw,
                                                                        int64_t k0, int64_t k1) {
    for (int64_t kk = k0; kk < k1; kk += 16) {
        __m512 r[16], t[16];
        for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(w + j * ldw + kk);
        for (int j = 0; j < 16; j += 2) { /* pairs: (a0 b0 a1 b1 | ...), (a2 b2 a3 b3 | ...) */
            t[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
            t[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
        }
        for (int j = 0; j < 16; j += 4) { /* quads: column c of rows j .. j + 3 in one 128-bit lane */
            r[j] = _mm512_shuffle_ps(t[j], t[j + 2], 0x44);
            r[j + 1] = _mm512_shuffle_ps(t[j], t[j + 2], 0xEE);
            r[j + 2] = _mm512_shuffle_ps(t[j + 1], t[j + 3], 0x44);
            r[j + 3] = _mm512_shuffle_ps(t[j + 1], t[j + 3], 0xEE);
        }
        for (int j = 0; j < 4; j++) { /* lanes: quads of rows 0-3 and 4-7, 8-11 and 12-15, per column */
            t[j] = _mm512_shuffle_f32x4(r[j], r[j + 4], 0x88);
            t[j + 4] = _mm512_shuffle_f32x4(r[j], r[j + 4], 0xDD);
            t[j + 8] = _mm512_shuffle_f32x4(r[j + 8], r[j + 12], 0x88);
            t[j + 12] = _mm512_shuffle_f32x4(r[j + 8], r[j + 12], 0xDD);
        }
        for (int j = 0; j < 4; j++) {
            r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
            r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
            r[j + 4] = _mm512_shuffle_f32x4(t[j + 4], t[j + 12], 0x88);
            r[j + 12] = _mm512_shuffle_f32x4(t[j + 4], t[j + 12], 0xDD);
        }
        /* after the quads r[4 g + m] held, in lane L, column 4 L + m of rows 4 g .. 4 g + 3: now r[c] is column c */
        for (int j = 0; j < 16; j++) _mm512_storeu_ps(panel + (kk + j) * PANEL, r[j]);
    }
}
#endif

#define PACK_ROWS 64   /* rows of a transposed panel copied per tile: source and panel rows stay in L1 */
#define PACK_PANELS 8  /* panels filled per pass over w's rows: 512 contiguous bytes read from each row */

/*
 * Full F32 panels [b, e), in an order that reads w in long runs and keeps what it writes in L1:
 * - w as stored: rows outer, PACK_PANELS panels inner, so each row of w is read as 8 lines in a row (panel by panel
 *   it was one line a row, a new page every row for W2's 10 KB rows: 4.4 ms for W2's pack);
 * - w transposed (each column of op(w) a row of w): tiles of PACK_ROWS rows of op(w), so the 16 source runs and the
 *   PACK_ROWS panel rows stay in L1 (writing a whole panel column by column touched k lines 16 times).
 * Only the order of the copies changes: the panels are the same bytes.
 */
INLINE void pack_panels_f32(const struct pack_args *g, int64_t b, int64_t e) {
    int64_t k = g->k, ldw = g->ldw;
    float *dst = g->dst;
    for (int64_t q0 = b; q0 < e; q0 += PACK_PANELS) {
        int64_t q1 = e - q0 < PACK_PANELS ? e : q0 + PACK_PANELS;
        if (g->trans) {
            for (int64_t q = q0; q < q1; q++) {
                float *panel = dst + q * k * PANEL;
                int64_t from = 0;
#ifdef SEQ4J_X86_CLONES
                if (cpu_isa == ISA_AVX512 && PANEL == 16) {
                    from = k / 16 * 16;
                    pack_tiles_trans_avx512(panel, g->w + q * PANEL * ldw, ldw, 0, from);
                }
#endif
                for (int64_t k0 = from; k0 < k; k0 += PACK_ROWS) {
                    int64_t k1 = k - k0 < PACK_ROWS ? k : k0 + PACK_ROWS;
                    for (int64_t j = 0; j < PANEL; j++) {
                        const float *src = g->w + (q * PANEL + j) * ldw;
                        for (int64_t kk = k0; kk < k1; kk++) panel[kk * PANEL + j] = src[kk];
                    }
                }
            }
        } else {
            for (int64_t kk = 0; kk < k; kk++) {
                const float *row = g->w + kk * ldw;
                for (int64_t q = q0; q < q1; q++) {
                    memcpy(dst + (q * k + kk) * PANEL, row + q * PANEL, PANEL * sizeof(float));
                }
            }
        }
    }
}

/* panels [b, e) */
static void pack_part(const void *p, int64_t b, int64_t e) {
    const struct pack_args *g = p;
    int64_t k = g->k;
    if (!g->bf16) {
        int64_t full = g->n / PANEL; /* panels [0, full) hold PANEL columns of w; the last may be padded */
        pack_panels_f32(g, b, e < full ? e : full);
        for (int64_t q = b > full ? b : full; q < e; q++) pack_panel_f32_padded(g, (float *) g->dst + q * k * PANEL, q);
        return;
    }
    uint32_t *dst = g->dst; /* word (q, i, j): bf16 of rows 2i (low half) and 2i + 1 (high half), column q PANEL + j */
    int64_t pairs = (k + 1) / 2;
    for (int64_t q = b; q < e; q++) {
        for (int64_t i = 0; i < pairs; i++) {
            for (int64_t j = 0; j < PANEL; j++) {
                int64_t col = q * PANEL + j;
                uint32_t lo = to_bf16(pack_value(g, 2 * i, col)), hi = to_bf16(pack_value(g, 2 * i + 1, col));
                dst[(q * pairs + i) * PANEL + j] = lo | hi << 16;
            }
        }
    }
}

API void seq4j_pack(int threads, void *dst, const float *w, int trans, int k, int n, int ldw, int precision) {
    if (k <= 0 || n <= 0 || seq4j_packed_floats(k, n, precision) < 0) return;
    if (ldw < (trans == TRANS ? k : n)) return; /* rows would overlap: the Java side refused it */
    struct pack_args g = {dst, w, k, n, ldw, trans == TRANS, precision == SEQ4J_PACKED_BF16};
    int64_t panels = ((int64_t) n + PANEL - 1) / PANEL;
    /* parts from 64 KiB: W1's 256 KiB Wh is packed by both threads. In a training step Wh was just written by the
     * optimizer on both cores, and one thread alone packed it at 3-8x its isolated time (Profile w1: 70-88 us a pack
     * against 9-25 us in bench/c/pack_ab.c), waiting on the other core's lines; two take about a fifth less. */
    parallel_for(threads, panels, 1 + 16384 / ((int64_t) k * PANEL), 1, pack_part, &g);
}


/*
 * The block of the product, written once (PK_BLOCK) for vectors of L floats, L = 16, 8 and 4: each clone uses its
 * native width (a 64-byte vector type in the baseline clone is lowered through memory, ten times slower); v3 has
 * blocks of its own (v3_block).
 * c rows [0, mr), panels [q, q + np) (row stride ldc) = a rows [0, mr) (row stride lda) times those panels + beta c; mr and np are
 * constants after inlining, so the accumulators (mr x np x PANEL / L vectors) live in registers. Only columns < n
 * are written; with beta = 0, c is not read. BF16: one load of L words gives L columns of two rows, row 2i = word <<
 * 16 and row 2i + 1 = word & 0xffff0000 (a bfloat16 is the high half of its float): no widening shuffle.
 * ta: a stored (k, m), read transposed; sb: B not packed but (k, n) row-major with row stride ldb (F32: seq4j_gemm_tn),
 * the same vectors loaded from row kk, masked to the columns below n in the last, partial panel.
 * (Pointers, not vector values, cross function boundaries: a vector argument would change the ABI by clone.)
 */
/* How far ahead (rows of a panel, 64 bytes each) the F32 product over packed panels prefetches each panel into L1, in
 * blocks of at least 4 rows: a block of panels (k x 2 panels: 83 KB for W2's k = 650) does not stay in L1 between row
 * blocks, and perf put ~15% of W2's product samples on the two panel loads. The prefetch of a row past a panel's end
 * touches the next panel (or nothing: a prefetch never faults). Measured on the Intel Xeon VM against none, the same
 * bits: build_ab W2's sequence calls 0.919-0.925x (8 rows ahead 0.973x, 16 0.951x, 48 0.917x, 64 0.922x), the GRU's at
 * H = 650 0.924x, W1 0.987x, W4's gradients 1.011x; packed_bench 64 x 2600 x 650 566-596 against 635-661 us, 128 x
 * 128 x 512 from Wh^T 47 against 51-54 us; JMH W2 148 / 136 -> 141 / 133 ms. Not for one or two rows (N = 1
 * inference, bound by reading the panels from L2): prefetched there too, JMH W3 (F32) took 133 / 135 against 125 / 122
 * us; without, 127 / 124 against 130 / 122 */
#define PK_AHEAD 32
/* The same for B row-major (seq4j_gemm_tn over dA as stored): each row of a block's panels a new line (W1's dA rows
 * are 2 KiB apart), asked for this many rows early. build_ab W1 0.968-0.970x (4 rows 0.981x, 16 0.983x), JMH W1 step
 * 2.61 / 2.44 -> 2.46 / 2.33 ms; packed_bench 128 x 512 x 768 0.97x, 16 x 512 x 896 0.89-0.91x, 128 x 512 x 512
 * within its noise (0.99-1.09x) */
#define PK_AHEAD_SB 8
#define PK_TYPES(L)                                                                                                  \
    typedef float pk_f##L __attribute__((vector_size((L) * 4)));                                                    \
    typedef uint32_t pk_u##L __attribute__((vector_size((L) * 4)));
/* the F32 product's loop over k: LOAD sets bv[s], vector s of row kk of the panels (s < np PANEL / L) */
#define PK_F32_LOOP(L, MAXS, LOAD)                                                                                       \
    for (int64_t kk = k0; kk < k1; kk++) {                                                                            \
        pk_f##L bv[MAXS];                                                                                           \
        _Pragma("GCC unroll 32")                                                                                    \
        for (int s = 0; s < np * V; s++) {                                                                          \
            LOAD;                                                                                                   \
        }                                                                                                           \
        _Pragma("GCC unroll 32")                                                                                    \
        for (int r = 0; r < mr; r++) {                                                                              \
            float ar = a[r * sr + kk * sk];                                                                         \
            _Pragma("GCC unroll 32")                                                                                \
            for (int s = 0; s < np * V; s++) acc[r][s] += ar * bv[s];                                               \
        }                                                                                                           \
    }
#define PK_BLOCK(NAME, L, MAXR, MAXS)                                                                                         \
    INLINE void packed_block_##NAME(float *c, const float *a, const void *b, int64_t q, int64_t n, int64_t k,          \
                                 int64_t lda, int64_t ldb, int64_t ldc, float beta, const int bf16, const int ta,      \
                                 const int sb, const int mr, const int np, int64_t k0, int64_t k1, float *sums,       \
                                 int64_t lds) {                                                                       \
        enum { V = PANEL / (L) }; /* vectors per panel row */                                                       \
        const int64_t sr = ta ? 1 : lda, sk = ta ? lda : 1; /* a (r, kk): a as stored, or transposed */             \
        pk_f##L acc[MAXR][MAXS]; /* as small as the clone's blocks: a larger array is kept in memory (GCC's SRA) */\
        _Pragma("GCC unroll 32")                                                                                    \
        for (int r = 0; r < mr; r++) {                                                                              \
            _Pragma("GCC unroll 32")                                                                                \
            for (int s = 0; s < np * V; s++) {                                                                      \
                acc[r][s] = (pk_f##L) {0};                                                                          \
                if (sums != NULL && k0 > 0) memcpy(&acc[r][s], sums + r * lds + s * (L), sizeof acc[r][s]);         \
            }                                                                                                       \
        }                                                                                                           \
        if (bf16) {                                                                                                 \
            int64_t pairs = (k1 + 1) / 2; /* k0 is even: slices are KC rows */                                     \
            const uint32_t *bw = (const uint32_t *) b + q * ((k + 1) / 2) * PANEL;                                  \
            for (int64_t i = k0 / 2; i < pairs; i++) {                                                                   \
                pk_f##L b0[MAXS], b1[MAXS];                                                                         \
                _Pragma("GCC unroll 32")                                                                            \
                for (int s = 0; s < np * V; s++) {                                                                  \
                    pk_u##L u;                                                                                      \
                    memcpy(&u, bw + ((s / V) * ((k + 1) / 2) + i) * PANEL + (s % V) * (L), sizeof u);               \
                    b0[s] = (pk_f##L) (u << 16);                                                                    \
                    b1[s] = (pk_f##L) (u & 0xffff0000u);                                                            \
                }                                                                                                   \
                int64_t kk = 2 * i;                                                                                 \
                if (kk + 1 < k) {                                                                                   \
                    _Pragma("GCC unroll 32")                                                                        \
                    for (int r = 0; r < mr; r++) {                                                                  \
                        float a0 = a[r * sr + kk * sk], a1 = a[r * sr + (kk + 1) * sk];                                         \
                        _Pragma("GCC unroll 32")                                                                    \
                        for (int s = 0; s < np * V; s++) {                                                          \
                            acc[r][s] += a0 * b0[s];                                                                \
                            acc[r][s] += a1 * b1[s];                                                                \
                        }                                                                                           \
                    }                                                                                               \
                } else { /* k odd: the last row has no partner (its high halves are padding, never multiplied) */   \
                    _Pragma("GCC unroll 32")                                                                        \
                    for (int r = 0; r < mr; r++) {                                                                  \
                        float a0 = a[r * sr + kk * sk];                                                                \
                        _Pragma("GCC unroll 32")                                                                    \
                        for (int s = 0; s < np * V; s++) acc[r][s] += a0 * b0[s];                                   \
                    }                                                                                               \
                }                                                                                                   \
            }                                                                                                       \
        } else if (!sb) { /* packed panels, each row of a panel asked for PK_AHEAD rows early (see there) */         \
            const float *bf = (const float *) b + q * k * PANEL;                                                    \
            PK_F32_LOOP(L, MAXS, memcpy(&bv[s], bf + ((s / V) * k + kk) * PANEL + (s % V) * (L), sizeof bv[s]);      \
                        if (mr >= 4 && s % V == 0) __builtin_prefetch(bf + ((s / V) * k + kk + PK_AHEAD) * PANEL))   \
        } else if ((q + np) * PANEL <= n) { /* B row-major: vector s of row kk at column q PANEL + s L */            \
            const float *bf = (const float *) b + q * PANEL;                                                        \
            PK_F32_LOOP(L, MAXS, memcpy(&bv[s], bf + kk * ldb + s * (L), sizeof bv[s]);                              \
                        if (mr >= 4) __builtin_prefetch(bf + (kk + PK_AHEAD_SB) * ldb + s * (L)))                    \
        } else { /* the last panel is partial: columns >= n are zeros, never read (as the pack's padding) */       \
            const float *bf = (const float *) b + q * PANEL;                                                        \
            int64_t have[MAXS]; /* columns of vector s below n: 0 to L */                                           \
            for (int s = 0; s < np * V; s++) {                                                                      \
                int64_t left = n - q * PANEL - s * (L);                                                             \
                have[s] = left < 0 ? 0 : left < (L) ? left : (L);                                                   \
            }                                                                                                       \
            PK_F32_LOOP(L, MAXS, bv[s] = (pk_f##L) {0}; memcpy(&bv[s], bf + kk * ldb + s * (L), have[s] * sizeof(float))) \
        }                                                                                                           \
        if (sums != NULL && k1 < k) { /* more slices to come: keep the sums so far, whole vectors */               \
            _Pragma("GCC unroll 32")                                                                                \
            for (int r = 0; r < mr; r++) {                                                                          \
                _Pragma("GCC unroll 32")                                                                            \
                for (int s = 0; s < np * V; s++) memcpy(sums + r * lds + s * (L), &acc[r][s], sizeof acc[r][s]);    \
            }                                                                                                       \
            return;                                                                                                 \
        }                                                                                                           \
        _Pragma("GCC unroll 32")                                                                                    \
        for (int s = 0; s < np * V; s++) {                                                                          \
            int64_t col = (q + s / V) * PANEL + (s % V) * (L), cols = n - col < (L) ? n - col : (L);                \
            _Pragma("GCC unroll 32")                                                                                \
            for (int r = 0; r < mr; r++) {                                                                          \
                float *cr = c + r * ldc + col;                                                                     \
                pk_f##L v = acc[r][s];                                                                              \
                if (cols == (L)) {                                                                                  \
                    if (beta != 0.0f) {                                                                             \
                        pk_f##L old;                                                                                \
                        memcpy(&old, cr, sizeof old);                                                               \
                        v += beta * old;                                                                            \
                    }                                                                                               \
                    memcpy(cr, &v, sizeof v);                                                                       \
                } else {                                                                                            \
                    float t[L];                                                                                     \
                    memcpy(t, &v, sizeof v);                                                                        \
                    for (int64_t j = 0; j < cols; j++) cr[j] = beta != 0.0f ? t[j] + beta * cr[j] : t[j];           \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
    }

/* (name, lanes, most rows, most vectors a row): v4 12 rows x 2 panels (PK_MR_V4), 2 rows x 4 (16n) and one row x 8
 * (16w) in blocks of their own, each array no larger than its largest case (16w's 8 registers in a 12 x 8 array would
 * stay in memory: GCC's SRA); baseline and aarch64 up to 6 x 1 and 2 x 2 (v3 has its own blocks, v3_block) */
PK_TYPES(16)
PK_TYPES(4)
PK_BLOCK(16, 16, 12, 2)
PK_BLOCK(16n, 16, 2, 4)
PK_BLOCK(16w, 16, 1, 8)
PK_BLOCK(4, 4, 6, 8)

/* one (rows, np) instance per case, rows <= mr_max and np <= np_max (constants: the rest is never compiled) */
#define PK_CASE(L, R, S)                                                                                     \
    case R * 16 + S:                                                                                         \
        if (R <= mr_max && S <= np_max)                                                                      \
            packed_block_##L(c, a, b, q, n, k, lda, ldb, ldc, beta, bf16, ta, sb, R, S, k0, k1, sums, lds);   \
        break;
#define PK_ROWS(L, R) PK_CASE(L, R, 1) PK_CASE(L, R, 2) PK_CASE(L, R, 3) PK_CASE(L, R, 4)

INLINE void packed_dispatch(float *c, const float *a, const void *b, int64_t q, int rows, int np, int64_t n,
                            int64_t k, int64_t lda, int64_t ldb, int64_t ldc, float beta, const int lanes, const int bf16,
                            const int ta, const int sb, const int mr_max, const int np_max, int64_t k0, int64_t k1,
                            float *sums, int64_t lds) {
    if (lanes == 16) {
        switch (rows * 16 + np) {
            PK_CASE(16w, 1, 1) PK_CASE(16w, 1, 2) PK_CASE(16w, 1, 3) PK_CASE(16w, 1, 4)
            PK_CASE(16w, 1, 5) PK_CASE(16w, 1, 6) PK_CASE(16w, 1, 7) PK_CASE(16w, 1, 8)
            PK_ROWS(16n, 2) /* two rows: up to 4 panels (m = 2), or a block of many rows' last two */
            /* many rows (12, then 8 and 4 left): 2 panels (PK_PART), 1 for a last odd panel; 3 and 6 never reach v4 */
            PK_CASE(16, 4, 1) PK_CASE(16, 4, 2) PK_CASE(16, 8, 1) PK_CASE(16, 8, 2) PK_CASE(16, 12, 1) PK_CASE(16, 12, 2)
            default: break;
        }
    } else {
        switch (rows * 16 + np) {
            PK_CASE(4, 1, 1) PK_CASE(4, 1, 2) PK_CASE(4, 2, 1) PK_CASE(4, 2, 2) PK_CASE(4, 4, 1) PK_CASE(4, 6, 1)
            default: break;
        }
    }
}

#ifdef SEQ4J_X86_CLONES
/*
 * The v3 clone's blocks, by hand in AVX2 + FMA. Compiled from PK_BLOCK, GCC kept the v3 accumulators on the stack
 * (16 ymm registers; the FMAs of a row of k waited on stores and loads): 2.4x OpenBLAS's time at W1's recurrent
 * shape. It still kept 7 of the 6 x 1 block's 12 there with PK_BLOCK instantiated as a function of its own per case
 * (tried), so the block is written again here with intrinsics, one function per (rows, panels) case, and its
 * accumulators stay in registers. The same vectors in the same order as PK_BLOCK, each accumulator one FMA chain
 * over kk from zero (or from its slice's saved sums), the same epilogue: the same bits as every other clone.
 */
#define V3_BLOCK_ARGS                                                                                        \
    float *c, const float *a, const void *b, int64_t q, int64_t n, int64_t k, int64_t lda, int64_t ldb,     \
        int64_t ldc, float beta, int bf16, int ta, int sb, int64_t k0, int64_t k1, float *sums, int64_t lds
#define V3_BLOCK_PASS c, a, b, q, n, k, lda, ldb, ldc, beta, bf16, ta, sb, k0, k1, sums, lds

AVX2_INLINE void v3_block(V3_BLOCK_ARGS, const int mr, const int np) {
    enum { V = PANEL / 8, MAXS = 4 };
    const int ns = np * V;                                      /* vectors of 8 columns in a row of the block */
    const int64_t sr = ta ? 1 : lda, sk = ta ? lda : 1;         /* a (r, kk): a as stored, or transposed */
    __m256 acc[6][MAXS];
    _Pragma("GCC unroll 8")
    for (int r = 0; r < mr; r++) {
        _Pragma("GCC unroll 8")
        for (int s = 0; s < ns; s++) {
            acc[r][s] = sums != NULL && k0 > 0 ? _mm256_loadu_ps(sums + r * lds + s * 8) : _mm256_setzero_ps();
        }
    }
    if (bf16) { /* a word holds rows 2i (low half) and 2i + 1 (high half) of its column */
        const int64_t half = (k + 1) / 2;
        const uint32_t *bw = (const uint32_t *) b + q * half * PANEL;
        const __m256i high = _mm256_set1_epi32((int) 0xffff0000u);
        for (int64_t i = k0 / 2; i < (k1 + 1) / 2; i++) {
            __m256 b0[MAXS], b1[MAXS];
            _Pragma("GCC unroll 8")
            for (int s = 0; s < ns; s++) {
                __m256i u = _mm256_loadu_si256((const __m256i *) (bw + ((s / V) * half + i) * PANEL + (s % V) * 8));
                b0[s] = _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
                b1[s] = _mm256_castsi256_ps(_mm256_and_si256(u, high));
            }
            int64_t kk = 2 * i;
            _Pragma("GCC unroll 8")
            for (int r = 0; r < mr; r++) {
                __m256 a0 = _mm256_broadcast_ss(a + r * sr + kk * sk);
                _Pragma("GCC unroll 8")
                for (int s = 0; s < ns; s++) acc[r][s] = _mm256_fmadd_ps(a0, b0[s], acc[r][s]);
                if (kk + 1 < k) { /* k odd: the last row has no partner (padding, never multiplied) */
                    __m256 a1 = _mm256_broadcast_ss(a + r * sr + (kk + 1) * sk);
                    _Pragma("GCC unroll 8")
                    for (int s = 0; s < ns; s++) acc[r][s] = _mm256_fmadd_ps(a1, b1[s], acc[r][s]);
                }
            }
        }
    } else {
        /* vector s of row kk at bf + kk bs + (s / V) ps + (s % V) 8: packed panels (bs = PANEL, ps = k PANEL) or
         * B row-major (bs = ldb, ps = PANEL); the last panel of a row-major B loads only its columns below n */
        const float *bf = (const float *) b + q * (sb ? PANEL : k * PANEL);
        const int64_t bs = sb ? ldb : PANEL, ps = sb ? PANEL : k * PANEL;
        int partial = sb && (q + np) * PANEL > n;
        __m256i mask[MAXS];
        _Pragma("GCC unroll 8")
        for (int s = 0; s < ns; s++) {
            int64_t left = n - q * PANEL - s * 8;
            int have = left < 0 ? 0 : left < 8 ? (int) left : 8;
            mask[s] = _mm256_cmpgt_epi32(_mm256_set1_epi32(have), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        }
        for (int64_t kk = k0; kk < k1; kk++) {
            __m256 bv[MAXS];
            _Pragma("GCC unroll 8")
            for (int s = 0; s < ns; s++) {
                const float *src = bf + kk * bs + (s / V) * ps + (s % V) * 8;
                bv[s] = partial ? _mm256_maskload_ps(src, mask[s]) : _mm256_loadu_ps(src);
            }
            _Pragma("GCC unroll 8")
            for (int r = 0; r < mr; r++) {
                __m256 ar = _mm256_broadcast_ss(a + r * sr + kk * sk);
                _Pragma("GCC unroll 8")
                for (int s = 0; s < ns; s++) acc[r][s] = _mm256_fmadd_ps(ar, bv[s], acc[r][s]);
            }
        }
    }
    if (sums != NULL && k1 < k) { /* more slices to come: keep the sums so far */
        _Pragma("GCC unroll 8")
        for (int r = 0; r < mr; r++) {
            _Pragma("GCC unroll 8")
            for (int s = 0; s < ns; s++) _mm256_storeu_ps(sums + r * lds + s * 8, acc[r][s]);
        }
        return;
    }
    _Pragma("GCC unroll 8")
    for (int s = 0; s < ns; s++) {
        int64_t col = (q + s / V) * PANEL + (s % V) * 8, cols = n - col < 8 ? n - col : 8;
        _Pragma("GCC unroll 8")
        for (int r = 0; r < mr; r++) {
            float *cr = c + r * ldc + col;
            __m256 v = acc[r][s];
            if (cols == 8) {
                if (beta != 0.0f) v += beta * _mm256_loadu_ps(cr);
                _mm256_storeu_ps(cr, v);
            } else {
                float t[8];
                _mm256_storeu_ps(t, v);
                for (int64_t j = 0; j < cols; j++) cr[j] = beta != 0.0f ? t[j] + beta * cr[j] : t[j];
            }
        }
    }
}

/* one function per case: rows x panels of 6 x 1, 4 x 1, 2 x 1, 1 x 1 (many rows) and 2 x 2, 1 x 2 (few) */
#define V3_CASE(R, P)                                                                                        \
    static AVX2 FMA_OPT __attribute__((noinline)) void v3_block_##R##x##P(V3_BLOCK_ARGS) {                   \
        v3_block(V3_BLOCK_PASS, R, P);                                                                   \
    }
V3_CASE(6, 1) V3_CASE(4, 1) V3_CASE(2, 1) V3_CASE(1, 1) V3_CASE(2, 2) V3_CASE(1, 2)

/* rows and np as gemm_packed_panels with v3's PK_PART asks for them: 6, 4, 2 or 1 rows of one panel, or up to 2 rows
 * of 2 panels (m <= 2); no other case reaches here */
static void v3_dispatch(V3_BLOCK_ARGS, int rows, int np) {
    switch (rows * 16 + np) {
        case 6 * 16 + 1: v3_block_6x1(V3_BLOCK_PASS); break;
        case 4 * 16 + 1: v3_block_4x1(V3_BLOCK_PASS); break;
        case 2 * 16 + 1: v3_block_2x1(V3_BLOCK_PASS); break;
        case 1 * 16 + 1: v3_block_1x1(V3_BLOCK_PASS); break;
        case 2 * 16 + 2: v3_block_2x2(V3_BLOCK_PASS); break;
        case 1 * 16 + 2: v3_block_1x2(V3_BLOCK_PASS); break;
        default: break;
    }
}
#endif

/* seq4j_gemm_tn with more than SLICE_FROM rows of k sums them in slices of KC over chunks of c of at most MC rows and NC
 * columns (NC a multiple of every clone's panel block), see gemm_packed_panels. From 512 rows (was 1024): W1's encoder
 * dWh, 128 x 512 x 768 (dA 1.5 MB, past a Zen 5 core's 1 MiB L2), took 0.88x the time in its step (Profile w1, three
 * alternating runs, 0.35-0.37 against 0.40-0.44 ms) and build_ab w1 0.980x / 0.96x (either order); at k = 512 (1 MB)
 * slicing gained nothing (0.99-1.06x), so it stays one pass */
#define SLICE_FROM 512
#define KC 256

/* The calling thread's scratch buffers (thread_scratch, common.h): a chunk's partial sums (SCRATCH_SUMS: the embedding
 * scatter-add sums its block of dW there too; a thread runs one part at a time, so the two never overlap) and the A
 * tiles of a BF16 product on AMX (amx.c). One key for all; each buffer grows to the largest asked so far. */
struct scratch_set {
    void *p[SCRATCHES];
    size_t bytes[SCRATCHES];
};
static pthread_key_t scratch_key;
static int scratch_key_ok;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *v) {
    struct scratch_set *s = v;
    for (int i = 0; i < SCRATCHES; i++) free(s->p[i]);
    free(s);
}

static void scratch_key_create(void) {
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

void *thread_scratch(enum scratch which, size_t bytes) {
    pthread_once(&scratch_once, scratch_key_create);
    if (!scratch_key_ok) return NULL;
    struct scratch_set *s = pthread_getspecific(scratch_key);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL) return NULL;
        if (pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->bytes[which] < bytes) {
        void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (p == NULL) return NULL;
        free(s->p[which]);
        s->p[which] = p, s->bytes[which] = bytes;
    }
    return s->p[which];
}

/*
 * panels [b, e) of c: panel blocks outer, row blocks inner; mr rows x np panels, or 2 rows x wide_np panels, or
 * one row x wide1_np panels. In seq4j_gemm_tn's mode (sb) a long k (more than SLICE_FROM rows) is summed in slices of
 * KC rows, chunk of c by chunk (MC x NC), so that a slice's rows of a and b are read from L1 and L2 by every block:
 * summed in one pass, the weight gradient of W4 (k = T N = 3712) streamed all of a (3.8 MB) from L3 again for every
 * panel block, at half the speed. Between slices a block's sums wait in the thread's scratch and its accumulators
 * resume from them: the same FMA chains in the same order as one pass, so the same bits (a row's sums never depend
 * on its block either). Over a packed b with a as stored it did not pay (W2's backward product, k = 2600, 1.05-1.08x
 * the time in bench/c/build_ab.c; W1's 128 x 128 x 512 from Wh^T 1.2x in packed_bench), so there k is summed in one
 * pass; over seq4j_gemm_tn's own pack (ta, a read transposed) it is sliced as over b as stored.
 */
INLINE void gemm_packed_panels(const struct gemm_packed_args *g, int64_t b, int64_t e, const int lanes,
                               const int bf16, const int ta, const int sb, const int mr, const int np,
                               const int wide_np, const int wide1_np) {
    int64_t m = g->m, n = g->n, k = g->k, lda = g->lda, ldb = g->ldb, ldc = g->ldc, row = ta ? 1 : lda;
    float *sums = (sb || ta) && k > SLICE_FROM ? thread_sums() : NULL; /* seq4j_gemm_tn, b as stored or its own pack */
    int64_t kc = sums != NULL ? KC : k, mc = sums != NULL ? MC : m, nc = sums != NULL ? NC / PANEL : e - b;
    int wide = m <= 2; /* few rows: more panels at once, for independent FMA chains */
    int step = m == 1 ? wide1_np : wide ? wide_np : np;
    for (int64_t q0 = b; q0 < e; q0 += nc) {
        int64_t q1 = e - q0 < nc ? e : q0 + nc;
        for (int64_t r0 = 0; r0 < m; r0 += mc) {
            int64_t r1 = m - r0 < mc ? m : r0 + mc;
            for (int64_t k0 = 0; k0 < k; k0 += kc) {
                int64_t k1 = k - k0 < kc ? k : k0 + kc;
                for (int64_t q = q0; q < q1; q += step) {
                    int panels = (int) (q1 - q < step ? q1 - q : step);
                    for (int64_t r = r0, rows = 0; r < r1; r += rows) {
                        /* mr rows, then what is left in blocks of 8 (below v4's 12), 4, 2, 1 (fewer instances of
                         * packed_block) */
                        int64_t left = r1 - r;
                        rows = left >= mr ? mr : left >= 8 && mr > 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
                        float *tile = sums != NULL ? sums + (r - r0) * NC + (q - q0) * PANEL : NULL;
#ifdef SEQ4J_X86_CLONES
                        if (lanes == 8) {
                            v3_dispatch(g->c + r * ldc, g->a + r * row, g->b, q, n, k, lda, ldb, ldc, g->beta, bf16,
                                        ta, sb, k0, k1, tile, NC, (int) rows, panels);
                            continue;
                        }
#endif
                        packed_dispatch(g->c + r * ldc, g->a + r * row, g->b, q, (int) rows, panels, n, k, lda, ldb,
                                        ldc, g->beta, lanes, bf16, ta, sb, wide ? 2 : mr,
                                        m == 1 ? wide1_np : wide ? wide_np : np, k0, k1, tile, NC);
                    }
                }
            }
        }
    }
}

/* (lanes, rows, panels, wide panels, BF16's wide panels for one row) per clone: accumulators = rows x panels x 16 /
 * lanes registers, plus the row of B in registers and a broadcast: v4 24 + 2 + 1 of 32 zmm; v3 (v3_block) 12 + 2 +
 * 1 of 16 ymm (1 x 4 panels for one row was no faster than 1 x 2: 1 x 1024 x 256 and 1 x 2600 x 650 within the
 * noise, either precision); baseline (no FMA: a product needs a temporary) 8 + 4 + 2 of 16 xmm; aarch64 24 + 4 + 1 of 32 q.
 * v4's BF16 product of one row (N = 1 inference) takes 8 panels: 8 independent FMA chains, where 4 (at a latency of 4)
 * allowed at most one FMA a cycle, and a load of 16 words feeds 2 FMAs. Measured (packed_bench one row, pool_ab W3;
 * Zen 4, a shared machine: rough): BF16 1 x 1024 x 256 5.8-6.2 us against 6.3 (1 thread), 1 x 2600 x 650 41-42
 * against 45, W3's BF16 sequence 0.91-0.98x; F32 with 8 panels was no faster (1 x 2600 x 650 the same, 1 x 1024 x 256
 * and W3's sequence 1.01-1.08x: it reads twice the bytes per FMA and is bound by them), so it keeps 4 */
#define PK_PART(lanes, mr, np, wide_np, wide1_bf16)                                                          \
    {                                                                                                        \
        const struct gemm_packed_args *g = p;                                                                \
        if (g->bf16) gemm_packed_panels(g, b, e, lanes, 1, 0, 0, mr, np, wide_np, wide1_bf16);               \
        else if (g->ldb) gemm_packed_panels(g, b, e, lanes, 0, 1, 1, mr, np, wide_np, wide_np);              \
        else if (g->ta) gemm_packed_panels(g, b, e, lanes, 0, 1, 0, mr, np, wide_np, wide_np);               \
        else gemm_packed_panels(g, b, e, lanes, 0, 0, 0, mr, np, wide_np, wide_np);                          \
    }
#ifdef SEQ4J_X86_CLONES
/* v4's blocks, all instances of PK_PART's paths inlined into one function, took GCC 12 about 3 of the library's 3.2 min
 * at -O3 on a 2-core Zen 3 (-ftime-report: 88 s in RTL PRE, 32 s in load CSE after reload). Without those two passes
 * gemm.c compiles in about a third of the time (Zen 5: 50 s before, 18 s after) to the same FMAs and loads; only scalar
 * address arithmetic differs. Zen 5, AVX-512 (2026-12-03): packed_bench's W1, W2 and one-row shapes even within the
 * noise (0.98-1.03x, normalised by the same run's sgemm); JMH W1 step 0.99x, W3 encode F32 0.95x, BF16 0.97x the time
 * (medians of 3 alternating rounds). GCC adds this attribute's options to FMA_OPT's. */
#define NO_GCSE __attribute__((optimize("no-gcse", "no-gcse-after-reload")))
static TARGET_V4 FMA_OPT NO_GCSE void gemm_packed_part_v4(const void *p, int64_t b, int64_t e) PK_PART(16, PK_MR_V4, 2, 4, 8)
static TARGET_V3 FMA_OPT void gemm_packed_part_v3(const void *p, int64_t b, int64_t e) PK_PART(8, PK_MR_V3, 1, 2, 2)
static FMA_OPT void gemm_packed_part_v1(const void *p, int64_t b, int64_t e) PK_PART(4, 2, 1, 1, 1)
/* whether runs of panels of a BF16 product (always a as stored, b packed: PK_PART) ran on AMX (amx.c); 0: the
 * clone's blocks are to run them */
static int on_amx(const struct gemm_packed_args *g, const int64_t (*ranges)[2], int count) {
    return cpu_isa == ISA_AVX512 && g->bf16 && amx_bf16_ready() && amx_bf16_ranges(g, ranges, count);
}

void gemm_packed_part(const void *p, int64_t b, int64_t e) {
    const int64_t range[1][2] = {{b, e}};
    if (on_amx(p, range, 1)) return;
    if (cpu_isa == ISA_AVX512) gemm_packed_part_v4(p, b, e);
    else if (cpu_isa == ISA_AVX2) gemm_packed_part_v3(p, b, e);
    else gemm_packed_part_v1(p, b, e);
}
#elif defined(__aarch64__)
FMA_OPT void gemm_packed_part(const void *p, int64_t b, int64_t e) PK_PART(4, PK_MR_AARCH64, 1, 2, 2)
#else
FMA_OPT void gemm_packed_part(const void *p, int64_t b, int64_t e) PK_PART(4, 2, 1, 1, 1)
#endif

void gemm_packed_ranges(const struct gemm_packed_args *g, const int64_t (*ranges)[2], int count) {
#ifdef SEQ4J_X86_CLONES
    if (on_amx(g, ranges, count)) return;
#endif
    for (int i = 0; i < count; i++) gemm_packed_part(g, ranges[i][0], ranges[i][1]);
}

API int seq4j_packed_preferred(void) {
#ifdef SEQ4J_X86_CLONES
    return cpu_isa == ISA_AVX512 ? 3 : cpu_isa == ISA_AVX2 ? 2 : 0;
#else
    return 0;
#endif
}

/* c (m, n) = beta c, an empty sum (k = 0), without reading c when beta = 0 */
static void scale_rows(float *c, int m, int n, int ldc, float beta) {
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * (int64_t) ldc;
        for (int64_t j = 0; j < n; j++) ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
    }
}


/* rows [b, e) of a product, all its panels (a read transposed, as seq4j_gemm_tn's, starts at column b) */
void gemm_packed_rows_part(const void *p, int64_t b, int64_t e) {
    const struct gemm_packed_args *g = p;
    struct gemm_packed_args rows = *g;
    rows.c = g->c + b * g->ldc, rows.a = g->a + (g->ldb || g->ta ? b : b * g->lda), rows.m = e - b;
    gemm_packed_part(&rows, 0, (g->n + PANEL - 1) / PANEL);
}


/*
 * The product's parts: runs of panels, a part at least ~64K multiply-adds (a few microseconds; waking a thread costs
 * more); or where c has too few panels for two such parts (a narrow c: W1's output layer, 512 x 13 x 128, and its
 * weight gradient 128 x 13 x 512, one panel on one thread), runs of rows on multiples of seq_align(). A row's sums
 * are the same FMA chains whatever rows or panels share its part, so the split changes the speed, not the bits.
 */
static void run_product(int threads, const struct gemm_packed_args *g) {
    int64_t panels = (g->n + PANEL - 1) / PANEL, grain = 1 + 65536 / (g->m * g->k * PANEL);
    if (panels < 2 * grain && threads > 1 && g->m >= 2 * seq_align()) {
        parallel_for(threads, g->m, 1 + 65536 / (g->k * panels * PANEL), seq_align(), gemm_packed_rows_part, g);
    } else {
        parallel_for(threads, panels, grain, 2, gemm_packed_part, g);
    }
}

API void seq4j_gemm_packed(int threads, float *c, const float *a, const void *b, int m, int n, int k, int lda,
                           int ldc, float beta, int precision) {
    if (m <= 0 || n <= 0 || k < 0 || seq4j_packed_floats(k, n, precision) < 0) return;
    if (lda < (k > 1 ? k : 1) || ldc < n) return; /* rows would overlap: the Java side refused it */
    if (k == 0) {
        scale_rows(c, m, n, ldc, beta);
        return;
    }
    struct gemm_packed_args g = {c, a, b, m, n, k, lda, ldc, beta, precision == SEQ4J_PACKED_BF16, 0, 0};
    run_product(threads, &g);
}

/*
 * seq4j_gemm_tn with a partial last panel (n not a multiple of 16), or with at least TN_PACK_ROWS rows of c and more
 * than SLICE_FROM rows of k, first packs b into panels (in
 * a buffer kept for the process, TN_PACK_MAX floats at most; see tn_packed), then runs the same sliced blocks over the
 * panels: read where the cell backward wrote it, each row of a block's panels is a new page of b (W2's dA rows are
 * 10 KB apart), from the pack one run of lines. The blocks' loads are the same vectors, so the same bits.
 * bench/c/packed_bench.c, 2 threads, Zen 5, pack included: W2's 650 x 2600 x 2240 22.4-22.6 against 29.7-33.3 ms,
 * W4's 256 x 1024 x 3712 6.1-6.8 against 7.9-8.6 and 256 x 1024 x 1280 1.86-2.16 against 2.65-2.86 ms; build_ab w4
 * 0.93x either order. For W1's 128 rows it gained nothing (128 x 512 x 768 and 896 within noise, build_ab w1 1.02x),
 * hence the 256. A partial panel read from b as stored loads a row's last columns with a copy of variable length (no
 * vector reads past column n), which made W1's output-layer gradient 128 x 13 x 512 67 us on one thread; from the
 * pack (its padding zeros) 14 us, the pack's 3 us included (Zen 5). A c of one panel is split by rows (run_product):
 * for W1's 128 rows that gained nothing (15.1 against 14.8 us), but 1024 x 13 x 512 took 97 against 172 us and 4096 x
 * 13 x 256 179 against 348 (packed_bench, 2 threads; sgemm 183 and 374).
 */
#define TN_PACK_ROWS 256
/* The v3 clone packs b from 32 rows of c on: reading dA as stored, rows 2 KiB apart kept a block's slice of b out of
 * L1 (128 x 512 x 896 1.74 against sgemm's 1.17 ms, twelfth pass). Packed first, on an AVX2-only Zen 3 (packed_bench,
 * 2 threads, two runs, us, as stored / packed first / OpenBLAS Zen sgemm TN): 128 x 512 x 896 1045-1066 / 755-948 /
 * 826-1145, 128 x 512 x 768 812-893 / 626-652 / 766-837, 128 x 512 x 640 687-695 / 536-604 / 604-722, 64 x 512 x 896
 * 457-567 / 429-440 / 506-702, 32 x 512 x 896 254-321 / 237-242 / 348-390; 16 x 512 x 896 105-112 / 134-145 /
 * 225-253: below 32 rows the pack costs more than it saves */
#define TN_PACK_ROWS_V3 32
#define TN_PACK_MAX (INT64_C(1) << 24) /* 64 MiB */

/* The buffer for seq4j_gemm_tn's packs: one for the process, grown to the largest pack and kept, used by one call at a
 * time; a call that finds it in use packs into a buffer of its own, freed on return. So the memory kept for packs is
 * one buffer however many threads call (a buffer a thread would keep up to 64 MiB for each thread of a server). */
static pthread_mutex_t tn_pack_lock = PTHREAD_MUTEX_INITIALIZER;
static float *tn_pack_buffer;
static int64_t tn_pack_floats;

/* seq4j_gemm_tn's product over its own pack of b (pack floats); 0 if no memory for it (nothing written) */
static int tn_packed(int threads, const struct gemm_packed_args *g, const float *b, int64_t ldb, int64_t pack,
                     int64_t panels) {
    float *own = NULL, *packed;
    int shared = pthread_mutex_trylock(&tn_pack_lock) == 0;
    if (shared) {
        if (tn_pack_floats < pack) {
            free(tn_pack_buffer);
            tn_pack_floats = 0;
            tn_pack_buffer = aligned_alloc(64, (size_t) pack * sizeof(float)); /* pack: whole panels of 16 floats */
            if (tn_pack_buffer != NULL) tn_pack_floats = pack;
        }
        packed = tn_pack_buffer;
    } else {
        packed = own = aligned_alloc(64, (size_t) pack * sizeof(float));
    }
    if (packed != NULL) {
        struct pack_args pa = {packed, b, g->k, g->n, ldb, 0, 0};
        parallel_for(threads, panels, 1 + 16384 / (g->k * PANEL), 1, pack_part, &pa);
        struct gemm_packed_args over = *g;
        over.b = packed;
        run_product(threads, &over);
    }
    if (shared) pthread_mutex_unlock(&tn_pack_lock);
    free(own);
    return packed != NULL;
}

/* c (m, n) = a^T b + beta c with a stored (k, m) and b (k, n), both row-major as stored (row strides lda >= m, ldb
 * >= n): a weight gradient h^T dA read where the cell backward wrote dA, without a pack (but for many rows of c and a
 * long k, TN_PACK_ROWS: then b is packed first, to the same bits). The blocks of
 * seq4j_gemm_packed with a's strides swapped (the broadcasts read a's column r at row kk), loading each row of a
 * block's panels from b's row kk instead of from packed panels: the same vectors, so the same sums in the same
 * order, bit for bit seq4j_gemm_packed over b packed and a transposed. The last, partial panel loads only the
 * columns below n. */
API void seq4j_gemm_tn(int threads, float *c, const float *a, const float *b, int m, int n, int k, int lda, int ldb,
                       int ldc, float beta) {
    if (m <= 0 || n <= 0 || k < 0) return;
    if (lda < m || ldb < n || ldc < n) return; /* rows would overlap: the Java side refused it */
    if (k == 0) {
        scale_rows(c, m, n, ldc, beta);
        return;
    }
    int64_t panels = ((int64_t) n + PANEL - 1) / PANEL;
    int64_t pack = seq4j_packed_floats(k, n, SEQ4J_PACKED_F32);
    /* b packed, a read transposed over the panels: for many rows and a long k, or where the last panel is partial */
    if (((m >= TN_PACK_ROWS && k > SLICE_FROM) || n % PANEL != 0 || (cpu_isa == ISA_AVX2 && m >= TN_PACK_ROWS_V3))
        && pack <= TN_PACK_MAX) {
        struct gemm_packed_args over = {c, a, NULL, m, n, k, lda, ldc, beta, 0, 0, 1};
        if (tn_packed(threads, &over, b, ldb, pack, panels)) return;
    }
    struct gemm_packed_args g = {c, a, b, m, n, k, lda, ldc, beta, 0, ldb, 0};
    run_product(threads, &g);
}

