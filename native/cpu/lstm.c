/*
 * lstm.c - the LSTM: the fused cell forward and backward (one pass over a row's four gates), and whole sequences in
 * one call (the recurrent products and the cells of every step, rows split over the pool). Also what the GRU (gru.c)
 * shares with it: how a cell kernel splits (cell_parallel), the team of a few-row forward (forward_team) and the
 * sequences' part alignment (seq_align).
 */
#include "common.h"
#include "vmath.h"

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

/* forward: c = f c_prev + g i, h = o tanh(c). With dh = dh_next (+ dh_carry) and ds = dL/dc through both paths:
 *   ds = dc_next + dh_next o (1 - tanh(c)^2),  dc_prev = ds f,
 *   df = ds c_prev f (1 - f),  dg = ds i (1 - g^2),  di = ds g i (1 - i),  do = dh_next tanh(c) o (1 - o). */
INLINE void lstm_row_backward(float *restrict df, float *restrict dg, float *restrict di, float *restrict dO,
                              float *restrict dc_prev, const float *restrict f, const float *restrict g,
                              const float *restrict i, const float *restrict o, const float *restrict c_next,
                              const float *restrict c_prev, const float *restrict dh_next,
                              const float *restrict dh_carry, const float *restrict dc_next, int h, int carry) {
    for (int j = 0; j < h; j++) {
        float tc = s4_tanhf(c_next[j]);
        float dh = carry ? dh_next[j] + dh_carry[j] : dh_next[j]; /* carry: a constant where this is inlined */
        float ds = dc_next[j] + dh * o[j] * (1.0f - tc * tc);
        df[j] = ds * c_prev[j] * f[j] * (1.0f - f[j]);
        dg[j] = ds * i[j] * (1.0f - g[j] * g[j]);
        di[j] = ds * g[j] * i[j] * (1.0f - i[j]);
        dO[j] = dh * tc * o[j] * (1.0f - o[j]);
        dc_prev[j] = ds * f[j];
    }
}

#ifdef SEQ4J_X86_CLONES
/*
 * The forward row loop again, by hand in AVX2 + FMA, 8 units a vector (CELL_VECTORS of them a round), used where
 * the CPU has both. It runs the same exp polynomial as s4_expf, but the five divisions of an element (the
 * reciprocals in sigmoid and tanh, which GCC can only compile to vdivps: about half of the loop's time) become
 * vrcpps and one Newton step, r' = r + r (1 - d r): about 2 ulp instead of 0.5, well inside the transcendental
 * tolerance of the conformance tests. Out-of-range inputs behave as in the scalar loop (the vector functions, in
 * vmath.h): exp's argument is clamped, NaN stays NaN (vmaxps and vminps return their second operand when either is
 * NaN), and the reciprocal of a value above 2^126 is 0, as the exact one rounds to within 1.2e-38 of it.
 */
/* CELL_VECTORS vectors of units a round (the AVX-512 loop's too): each unit's result is the same chain of operations,
 * so the same bits as one vector a round; the rounds' independent chains fill the FP pipes that one vector's exp, wait
 * and reciprocal leave idle. Measured (bench/c/lstm_cell_ab.c, Zen 5, 6 rounds) against one vector a round: AVX-512
 * 128 x 128 0.84x the time on 1 thread and 0.83x on 2, 64 x 650 0.76x and 0.88x, 1 x 256 0.82x; AVX2 (SEQ4J_CPU_ISA)
 * 0.81x, 0.84x, 0.84x, 0.85x, 0.81x. Two vectors gained about half of that, eight (32 registers of gates alone)
 * lost 1.1-1.35x against four */
#define CELL_VECTORS 4

/* n vectors of units from unit j (n a constant where this is inlined) */
AVX2_INLINE void lstm_round_avx2(float *f, float *g, float *i, float *o, float *hn, float *cn, const float *cp, int j,
                                 const int n) {
    __m256 fu[CELL_VECTORS], gu[CELL_VECTORS], iu[CELL_VECTORS], ou[CELL_VECTORS];
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        fu[u] = v_sigmoid(_mm256_loadu_ps(f + j + 8 * u));
        gu[u] = v_tanh(_mm256_loadu_ps(g + j + 8 * u));
        iu[u] = v_sigmoid(_mm256_loadu_ps(i + j + 8 * u));
        ou[u] = v_sigmoid(_mm256_loadu_ps(o + j + 8 * u));
    }
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        int ju = j + 8 * u;
        _mm256_storeu_ps(f + ju, fu[u]);
        _mm256_storeu_ps(g + ju, gu[u]);
        _mm256_storeu_ps(i + ju, iu[u]);
        _mm256_storeu_ps(o + ju, ou[u]);
        __m256 c = _mm256_fmadd_ps(fu[u], _mm256_loadu_ps(cp + ju), _mm256_mul_ps(gu[u], iu[u]));
        _mm256_storeu_ps(cn + ju, c);
        _mm256_storeu_ps(hn + ju, _mm256_mul_ps(ou[u], v_tanh(c)));
    }
}

static AVX2 void lstm_row_forward_avx2(float *f, float *g, float *i, float *o, float *hn, float *cn,
                                       const float *cp, int h) {
    int j = 0;
    for (; j + 8 * CELL_VECTORS <= h; j += 8 * CELL_VECTORS) lstm_round_avx2(f, g, i, o, hn, cn, cp, j, CELL_VECTORS);
    for (; j + 8 <= h; j += 8) lstm_round_avx2(f, g, i, o, hn, cn, cp, j, 1);
    if (j < h) lstm_row_forward(f + j, g + j, i + j, o + j, hn + j, cn + j, cp + j, h - j);
}

/*
 * The same loop in AVX-512, 16 units a vector, the last rounds one vector each, the tail under a mask (no scalar
 * remainder). vrcp14ps is accurate to 2^-14 where vrcpps is to 2^-12, so after the same Newton step the reciprocal is within about
 * 1 ulp. exp takes its table form (w_exp_tail): 4 multiply-adds fewer per exp, five exps an element, which makes
 * the loop about 1.25x faster on Zen 4 (bench/c/lstm_cell_ab.c, N x H = 128 x 128, 64 x 650, 1 x 256). Measured
 * against float64 (bench/c/lstm_cell_ulp.c: 5M units, gates up to +-100, results below 1e-30 left out): sigmoid
 * within 3.1 ulp (mean 0.39) and tanh within 1.4 (mean 0.20), against 2.4 and 1.3 with the AVX2 loop's exp here,
 * and 3.2 and 1.7 for the AVX2 loop; so the clones round differently, by a few ulp, far inside the conformance
 * tests' 1e-5.
 */
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define W1(c) _mm512_set1_ps(c)

/*
 * exp in 16ths of an octave: x = (16 m + k) ln2/16 + r with |r| <= ln2/32, exp(x) = 2^m 2^(k/16) e^r. The rounding
 * constant 1.5 * 2^19 has an ulp of 1/16, so t = x log2 e + 1.5 * 2^19, rounded once, is 1.5 * 2^19 + n/16 (n =
 * 16 m + k): its low four mantissa bits are k, the index vpermps reads into the table of 2^(k/16), and
 * vscalefps multiplies by 2^floor(n/16) = 2^m. e^r to degree 3 (the next term, r^4/24 < 6e-10, is below float's
 * precision) takes three FMAs where the polynomial on [-ln2/2, ln2/2] takes seven.
 */
AVX512_INLINE __m512 w_exp_tail(__m512 t, __m512 r) {
    static const float pow2_16ths[16] = {
        0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fe0p+0f, 0x1.3dea64p+0f,
        0x1.4bfdaep+0f, 0x1.5ab07ep+0f, 0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
        0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};
    __m512 n16 = _mm512_sub_ps(t, W1(786432.0f));
    r = _mm512_fnmadd_ps(n16, W1(-2.12194440e-4f), r);
    __m512 q = _mm512_fmadd_ps(W1(1.0f / 6.0f), r, W1(0.5f));
    q = _mm512_fmadd_ps(q, r, W1(1.0f));
    __m512 tab = _mm512_permutexvar_ps(_mm512_castps_si512(t), _mm512_loadu_ps(pow2_16ths));
    /* 2^(k/16) e^r = 2^(k/16) + (2^(k/16) r) q, rounded once at the end */
    return _mm512_scalef_ps(_mm512_fmadd_ps(_mm512_mul_ps(tab, r), q, tab), n16);
}

/* exp(x) for x >= 0 or NaN (tanh's 2|x|), clamped at 87: exp(87) + 1 = 6.1e37 is below 2^126, so tanh's reciprocal of
 * it stays normal (1.6e-38). At 88.3, as before, any |x| above 43.67 (a saturated candidate gate, or a cell state of 44
 * or more) made vrcp14ps return a subnormal that the Newton step then multiplied: a microcode assist on Intel, the whole
 * 128 x 128 cell 6.4x slower on a Xeon (135 against 21 us, one thread, every g gate beyond +-44). tanh is 1 there either
 * way (1 - 2 / (exp(2|x|) + 1) rounds to 1 from |x| = 9), so the bits are the same. */
AVX512_INLINE __m512 w_exp_nonneg(__m512 x) {
    x = _mm512_min_ps(W1(87.0f), x);
    __m512 t = _mm512_fmadd_ps(x, W1(1.44269504088896341f), W1(786432.0f));
    return w_exp_tail(t, _mm512_fnmadd_ps(_mm512_sub_ps(t, W1(786432.0f)), W1(0.693359375f), x));
}

/* exp(-x) for the sigmoid: x >= -89 lets exp(89) overflow to +Inf (vscalefps), so that sigmoid(x) is 0 below -88.72
 * as in the scalar loop (s4_expf), not the 4.5e-39 that 1 / exp(88.3) left (0.45 of a cell state of 1e38 kept) */
AVX512_INLINE __m512 w_exp_neg(__m512 x) {
    x = _mm512_max_ps(W1(-89.0f), _mm512_min_ps(W1(87.3f), x));
    __m512 t = _mm512_fmadd_ps(x, W1(-1.44269504088896341f), W1(786432.0f));
    return w_exp_tail(t, _mm512_fnmsub_ps(_mm512_sub_ps(t, W1(786432.0f)), W1(0.693359375f), x));
}

AVX512_INLINE __m512 w_rcp(__m512 d) {
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, W1(1.0f)), r);
}

/* 1 / (1 + exp(-x)), where 1 + exp(-x) may be +Inf: vrcp14ps gives 0 for it, and the Newton step's 1 - d r (Inf 0 =
 * NaN) is replaced by 1 through vminps (which returns its second operand when either is NaN), so r stays 0; a NaN x
 * gives a NaN r, which the step keeps */
AVX512_INLINE __m512 w_sigmoid(__m512 x) {
    __m512 d = _mm512_add_ps(W1(1.0f), w_exp_neg(x));
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_min_ps(_mm512_fnmadd_ps(d, r, W1(1.0f)), W1(1.0f)), r);
}

AVX512_INLINE __m512 w_tanh(__m512 x) {
    __m512 ax = _mm512_abs_ps(x), z = _mm512_mul_ps(x, x);
    __m512 small = _mm512_fmadd_ps(W1(-5.70498872745e-3f), z, W1(2.06390887954e-2f));
    small = _mm512_fmadd_ps(small, z, W1(-5.37397155531e-2f));
    small = _mm512_fmadd_ps(small, z, W1(1.33314422036e-1f));
    small = _mm512_fmadd_ps(small, z, W1(-3.33332819422e-1f));
    small = _mm512_fmadd_ps(_mm512_mul_ps(small, z), x, x);
    __m512 large = _mm512_fnmadd_ps(W1(2.0f), w_rcp(_mm512_add_ps(w_exp_nonneg(_mm512_add_ps(ax, ax)), W1(1.0f))), W1(1.0f));
    /* large | (x & sign) in one vpternlogd (0xF8: a | (b & c)) */
    large = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(large), _mm512_castps_si512(x),
                                                          _mm512_set1_epi32(INT32_MIN), 0xF8));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, W1(0.625f), _CMP_LT_OQ), large, small);
}

/* n vectors of units from unit j (n a constant where this is inlined); a partial last vector (n = 1) under mask m,
 * whole vectors unmasked (masked, the rounds of four took 1.03-1.06x the time) */
#define W_LD(p, d) (n == 1 ? _mm512_maskz_loadu_ps(m, (p) + (d)) : _mm512_loadu_ps((p) + (d)))
#define W_ST(p, d, v) (n == 1 ? _mm512_mask_storeu_ps((p) + (d), m, (v)) : _mm512_storeu_ps((p) + (d), (v)))
AVX512_INLINE void lstm_round_avx512(float *f, float *g, float *i, float *o, float *hn, float *cn, const float *cp,
                                     int j, const int n, __mmask16 m) {
    __m512 fu[CELL_VECTORS], gu[CELL_VECTORS], iu[CELL_VECTORS], ou[CELL_VECTORS];
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        int ju = j + 16 * u;
        fu[u] = w_sigmoid(W_LD(f, ju));
        gu[u] = w_tanh(W_LD(g, ju));
        iu[u] = w_sigmoid(W_LD(i, ju));
        ou[u] = w_sigmoid(W_LD(o, ju));
    }
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        int ju = j + 16 * u;
        W_ST(f, ju, fu[u]);
        W_ST(g, ju, gu[u]);
        W_ST(i, ju, iu[u]);
        W_ST(o, ju, ou[u]);
        __m512 c = _mm512_fmadd_ps(fu[u], W_LD(cp, ju), _mm512_mul_ps(gu[u], iu[u]));
        W_ST(cn, ju, c);
        W_ST(hn, ju, _mm512_mul_ps(ou[u], w_tanh(c)));
    }
}
#undef W_LD
#undef W_ST

static AVX512 void lstm_row_forward_avx512(float *f, float *g, float *i, float *o, float *hn, float *cn,
                                           const float *cp, int h) {
    int j = 0;
    for (; j + 16 * CELL_VECTORS <= h; j += 16 * CELL_VECTORS) {
        lstm_round_avx512(f, g, i, o, hn, cn, cp, j, CELL_VECTORS, (__mmask16) 0xFFFF);
    }
    for (; j < h; j += 16) {
        __mmask16 m = h - j >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (h - j)) - 1);
        lstm_round_avx512(f, g, i, o, hn, cn, cp, j, 1, m);
    }
}

#else
#define lstm_row_forward_avx512 lstm_row_forward /* never called: cpu_isa is ISA_BASELINE */
#define lstm_row_forward_avx2 lstm_row_forward /* never called: cpu_isa is ISA_BASELINE */
#endif

/* the cell forward's arguments, each (n, h) but the gates (n, 4h): h_next and c_next out; the gates f, g, i, o in, as
 * pre-activations, written over with their activations; c_prev in */
struct lstm_forward_args {
    float *h_next, *c_next, *gates;
    const float *c_prev;
    int n, h;
};

/* the cell backward's arguments, each (n, h) but the gates (n, 4h): dA (n, 4h) and dc_prev out; the forward's activated
 * gates, c_next, c_prev, dh_next (plus dh_carry, or NULL) and dc_next in */
struct lstm_backward_args {
    float *dA, *dc_prev;
    const float *gates, *c_next, *c_prev, *dh_next, *dh_carry, *dc_next;
    int n, h;
};

/* rows [r0, r1), hidden units [j0, j1) of the forward; the gates are written over with the activations */
HOT_FMA_FN(lstm_forward_block, (const struct lstm_forward_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    int w = (int) (j1 - j0);
    enum isa isa = cpu_isa;
    for (int64_t r = r0; r < r1; r++) {
        float *f = a->gates + r * 4 * h + j0;
        size_t k = r * h + j0;
        if (isa == ISA_AVX512) {
            lstm_row_forward_avx512(f, f + h, f + 2 * h, f + 3 * h, a->h_next + k, a->c_next + k, a->c_prev + k, w);
        } else if (isa == ISA_AVX2) {
            lstm_row_forward_avx2(f, f + h, f + 2 * h, f + 3 * h, a->h_next + k, a->c_next + k, a->c_prev + k, w);
        } else {
            lstm_row_forward(f, f + h, f + 2 * h, f + 3 * h, a->h_next + k, a->c_next + k, a->c_prev + k, w);
        }
    }
}

/* the backward is bound by memory, not by its one tanh: GCC's loop is enough. Measured on Zen 4, one thread, 128 x 128:
 * 15.5 us with everything in L1/L2, about the same with the 12 time steps' buffers cycling through L3, 35 us and
 * 86-100 us after 16 MB and 64 MB of other traffic (the ~900 KB it touches then comes partly or wholly from DRAM);
 * a hand AVX-512 loop (masked tail, the forward's tanh) measured 0.96-1.0x, and prefetching the next rows 1, 2
 * or 4 ahead no gain, so neither is here */
HOT_FMA_FN(lstm_backward_block, (const struct lstm_backward_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    for (int64_t r = r0; r < r1; r++) {
        const float *f = a->gates + r * 4 * h + j0;
        float *d = a->dA + r * 4 * h + j0;
        size_t k = r * h + j0;
        if (a->dh_carry != NULL) { /* two loops, each vectorised: without and with a carried dh */
            lstm_row_backward(d, d + h, d + 2 * h, d + 3 * h, a->dc_prev + k, f, f + h, f + 2 * h, f + 3 * h,
                              a->c_next + k, a->c_prev + k, a->dh_next + k, a->dh_carry + k, a->dc_next + k,
                              (int) (j1 - j0), 1);
        } else {
            lstm_row_backward(d, d + h, d + 2 * h, d + 3 * h, a->dc_prev + k, f, f + h, f + 2 * h, f + 3 * h,
                              a->c_next + k, a->c_prev + k, a->dh_next + k, NULL, a->dc_next + k, (int) (j1 - j0), 0);
        }
    }
}

static void lstm_forward_rows(const void *p, int64_t b, int64_t e) {
    lstm_forward_block(p, b, e, 0, ((const struct lstm_forward_args *) p)->h);
}

static void lstm_forward_units(const void *p, int64_t b, int64_t e) {
    lstm_forward_block(p, 0, ((const struct lstm_forward_args *) p)->n, b, e);
}

static void lstm_backward_rows(const void *p, int64_t b, int64_t e) {
    lstm_backward_block(p, b, e, 0, ((const struct lstm_backward_args *) p)->h);
}

static void lstm_backward_units(const void *p, int64_t b, int64_t e) {
    lstm_backward_block(p, 0, ((const struct lstm_backward_args *) p)->n, b, e);
}

/*
 * Parts of at least `grain` elements, about half a microsecond of work, which a spinning thread takes up in
 * less (measured: the forward, five exps an element, takes about 3.5 ns an element on one core, 2.8 ns since
 * the AVX-512 table exp; the backward, bound by memory, about 1 to 2 ns from cache). Rows are split where there are enough of them; a few rows
 * (inference with N = 1, where the cell is a tenth of a step) are split by hidden units.
 */
void cell_parallel(int threads, int64_t n, int64_t h, int64_t grain, part_fn rows, part_fn units, const void *args) {
    if (n <= 0 || h <= 0) return; /* nothing to compute (and no division by zero below) */
    if (n >= 2 * (int64_t) threads) {
        parallel_for(threads, n, 1 + grain / h, 1, rows, args);
    } else {
        parallel_for(threads, h, grain / n, ELEMENT_ALIGN, units, args);
    }
}

API void seq4j_lstm_cell_forward(int threads, float *h_next, float *c_next, float *gates, const float *c_prev,
                                 int n, int h) {
    struct lstm_forward_args a = {.h_next = h_next, .c_next = c_next, .gates = gates, .c_prev = c_prev, .n = n, .h = h};
    /* 1024, not 128: split over threads, 1 x 256 took 2.1 us against 0.8 us on one thread (bench/c/cell_grain_bench.c,
     * 2 cores); parts now hold >= 1024 elements (~3.5 us), so N = 1 inference (H < 2048) stays on one thread */
    cell_parallel(threads, n, h, 1024, lstm_forward_rows, lstm_forward_units, &a);
}

API void seq4j_lstm_cell_backward(int threads, float *dA, float *dc_prev, const float *gates, const float *c_next,
                                  const float *c_prev, const float *dh_next, const float *dh_carry,
                                  const float *dc_next, int n, int h) {
    struct lstm_backward_args a = {.dA = dA, .dc_prev = dc_prev, .gates = gates, .c_next = c_next, .c_prev = c_prev,
                                   .dh_next = dh_next, .dh_carry = dh_carry, .dc_next = dc_next, .n = n, .h = h};
    cell_parallel(threads, n, h, 256, lstm_backward_rows, lstm_backward_units, &a);
}

/* ---- the LSTM recurrence, whole sequences ------------------------------------------------------- */
/*
 * A step's rows depend only on the same rows of the step before (h_t = cell(A_t + h_{t-1} Wh) row by row; dA_t and
 * dh_{t-1} from dh_t, dc_t row by row), so a sequence splits by rows into parts that run all T steps on their own:
 * one job for the whole recurrence instead of two a step, no barrier between steps, and each step's gates, h and
 * dA still in the core's cache when the next call reads them. Each part runs the same blocks (gemm_packed_part over
 * its rows, lstm_forward_block / lstm_backward_block) as the per-step calls: every row's sums are the same FMA
 * chains in the same order whatever rows share a part, so the result is bit for bit the per-step loop's.
 * Each core reads the whole packed Wh at every step (the per-step split reads half by columns): it pays while the
 * packed Wh stays in a core's L2, which is for the Java side to decide (OpenBlasBackend.sequencePays).
 */
struct lstm_seq_args {
    float *hs_out, *cs_out, *gates; /* forward: hs, cs (t + 1, n, h), gates (t, n, 4h); backward: dA (t, n, 4h) in gates */
    float *dh0, *dc0, *work; /* backward: (n, h) each; work (3, n, h): the carried dh, two cell gradients */
    const float *saved, *cs, *dhs, *dh_last, *dc_last; /* backward: the forward's gates and cs; dhs or dh_last */
    const void *w;         /* Wh (h, 4h) packed, or Wh^T (4h, h) packed */
    int64_t t, n, hid;
    int skip_first;        /* forward: step 0 has no product (h_0 = 0) */
    int bf16;
    const float *table;    /* forward: NULL, or each step's rows of gates are first rows ids[s, r] of table (v, 4h) */
    const int32_t *ids;    /* (t, n) */
    int64_t v;
    _Atomic int64_t *bad;  /* the first bad id, as seq4j_embedding_forward reports it */
    int team;              /* forward by units (lstm_forward_team_part): the parts, */
    struct team_sync *sync; /* and their arrivals at the ends of steps */
};

static void lstm_forward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct lstm_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 4 * h;
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hs = a->hs_out + s * n * h, *cs = a->cs_out + s * n * h;
        if (a->table != NULL) gather_rows(gs, a->table, a->ids, s * n, b, e, a->v, (size_t) g, a->bad);
        if (s > 0 || !a->skip_first) packed_rows(gs, g, hs, h, a->w, b, e, g, h, 1.0f, a->bf16);
        struct lstm_forward_args r = {.h_next = hs + n * h, .c_next = cs + n * h, .gates = gs, .c_prev = cs, .n = (int) n,
                                      .h = (int) h};
        lstm_forward_block(&r, b, e, 0, h);
    }
}

/*
 * Too few rows for parts of rows (N = 1 inference): a team of threads splits every step by hidden units instead. Part p
 * owns units [u0, u1) (on panel boundaries): it computes their gates, the four runs of columns g H + [u0, u1) of the
 * step's product, and their cell, writing h and c of its units, then waits at the step's barrier for the other parts'
 * units of h, which the next step's product reads whole. One job for the sequence and the cell on every thread, where
 * the per-step loop ran two jobs a step, the cell on one thread; and each core reads the same panels of Wh at every
 * step, kept in its own L2. Each column's sum is the same FMA chain whatever part computes it, so the result is bit for
 * bit the per-step loop's. Ids are read (and checked) once by each part, for its own columns. A part that waited too
 * long for a late one at a barrier (its thread preempted) goes on with every unit alone (team_barrier).
 */
static void lstm_forward_team_part(const void *p, int64_t part, int64_t end) {
    (void) end;
    const struct lstm_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 4 * h, u0, u1;
    part_range(h, PANEL, a->team, (int) part, &u0, &u1);
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hs = a->hs_out + s * n * h, *cs = a->cs_out + s * n * h;
        int64_t ranges[4][2]; /* the part's units in each gate: panels of the product */
        for (int64_t gate = 0; gate < 4; gate++) {
            int64_t c0 = gate * h + u0, c1 = gate * h + u1;
            if (a->table != NULL) {
                gather_columns(gs, a->table, a->ids, s * n, 0, n, a->v, (size_t) g, (size_t) c0, (size_t) (c1 - c0),
                               a->bad);
            }
            ranges[gate][0] = c0 / PANEL, ranges[gate][1] = c1 / PANEL;
        }
        if (s > 0 || !a->skip_first) { /* after every gather: the product adds to the rows they wrote */
            struct gemm_packed_args pr = {gs, hs, a->w, n, g, h, h, g, 1.0f, a->bf16, 0, 0};
            gemm_packed_ranges(&pr, (const int64_t (*)[2]) ranges, 4);
        }
        struct lstm_forward_args r = {.h_next = hs + n * h, .c_next = cs + n * h, .gates = gs, .c_prev = cs, .n = (int) n,
                                      .h = (int) h};
        lstm_forward_block(&r, 0, n, u0, u1);
        if (s < a->t - 1 && u1 - u0 < h && team_wait(a->sync, a->team, s + 1, h, &u0, &u1)) return;
    }
}

/* The team for a few-row forward split by units (lstm_forward_team_part, gru_forward_team_part), or 0 for the per-step
 * loop: at least two threads, units on panel boundaries and at least a panel a part, a step's products (`gates` H
 * columns of n x H sums) worth splitting (seq4j_gemm_packed's grain: ~64K multiply-adds a part), and at least 128 KiB
 * of weights read by a part between two of the step's `barriers`. Measured on Zen 5, 1 x 256, 29 steps (2 threads
 * against the per-step loop): the LSTM (one barrier a step) F32 0.76-0.81x the time, BF16 0.77-0.82x; the GRU (two)
 * F32 0.83x, but BF16 1.16x (96 KiB a part between barriers), which the last condition leaves to the loop */
int forward_team(int threads, int64_t n, int64_t h, int gates, int barriers, int bf16) {
    if (threads < 2 || h % PANEL != 0) return 0;
    int64_t team = threads, panels = h / PANEL;
    int helpers = seq4j_pool_workers(), cpus = pool_cpus();
    if (team > panels) team = panels;
    if (team > helpers + 1) team = helpers + 1;
    if (team > cpus) team = cpus; /* parts that wait for each other need a core each */
    double step = (double) gates * (double) n * (double) h * (double) h; /* multiply-adds (in double: no overflow) */
    double bytes = bf16 ? 2.0 : 4.0;
    while (team >= 2 && (step / team < 65536.0 || step / team / barriers * bytes < 131072.0)) team--;
    return team >= 2 ? (int) team : 0;
}

static void lstm_backward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct lstm_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 4 * h, nh = n * h;
    float *carry = a->work, *ping = a->work + nh, *pong = a->work + 2 * nh;
    /* the last step's dc_next: dc_last, or zeros, in this part's rows of ping (dc_last may be any caller's buffer) */
    for (int64_t r = b; r < e; r++) {
        if (a->dc_last != NULL) memcpy(ping + r * h, a->dc_last + r * h, (size_t) h * sizeof(float));
        else memset(ping + r * h, 0, (size_t) h * sizeof(float));
    }
    float *dc_next = ping, *dc_prev = pong;
    for (int64_t s = a->t - 1; s >= 0; s--) {
        /* dh = dhs_t + the dh carried from step s + 1; at the last step dhs_t (or dh_last) alone, and without dhs
         * the carried one alone */
        const float *dh_next = a->dhs != NULL ? a->dhs + s * nh : s == a->t - 1 ? a->dh_last : carry;
        const float *dh_carry = s < a->t - 1 && a->dhs != NULL ? carry : NULL;
        float *dA = a->gates + s * g * n;
        struct lstm_backward_args r = {.dA = dA, .dc_prev = dc_prev, .gates = a->saved + s * g * n,
                                       .c_next = a->cs + (s + 1) * nh, .c_prev = a->cs + s * nh, .dh_next = dh_next,
                                       .dh_carry = dh_carry, .dc_next = dc_next, .n = (int) n, .h = (int) h};
        lstm_backward_block(&r, b, e, 0, h);
        /* dh_{t-1} = dA_t Wh^T: carried into step s - 1 (its rows of carry were read just above), or out as dh0
         * (none when dh0 is NULL) */
        if (s > 0 || a->dh0 != NULL) packed_rows(s > 0 ? carry : a->dh0, h, dA, g, a->w, b, e, h, g, 0.0f, a->bf16);
        float *t = dc_next;
        dc_next = dc_prev;
        dc_prev = t;
    }
    for (int64_t r = b; r < e; r++) memcpy(a->dc0 + r * h, dc_next + r * h, (size_t) h * sizeof(float));
}

int64_t seq_align(void) {
#ifdef SEQ4J_X86_CLONES
    return cpu_isa == ISA_AVX2 ? PK_MR_V3 : PK_ALIGN_V4; /* the baseline's blocks of 2 rows divide 8 */
#elif defined(__aarch64__)
    return PK_MR_AARCH64;
#else
    return SEQ_ROWS; /* the generic PK_PART's blocks of 2 rows divide it */
#endif
}

/*
 * Parts of rows: BALANCE a thread (parallel_for_balanced: a core that runs late leaves its last parts to the other;
 * bench/c/build_ab.c on Zen 5: W2's sequence calls 0.97-0.99x the time of one part a thread, W1's pool-job kernels
 * 0.98x), but one a thread where the packed weights are more than half a core's L2. Every part reads all of them at
 * every step, and once they no longer stay in L2 each part streams them from L3 again: on the Intel Xeon VM (2 MiB
 * L2, build_ab seq:N:H:T, one part a thread against BALANCE, the same bits) H = 650 (W2, 6.8 MB of Wh) 0.73-0.77x the
 * time, H = 448 (3.2 MB) 0.72x, H = 352 (2 MB) 0.90x, but H = 256 (1 MB) 1.02x and W1's H = 128 1.01x. The GRU's sequences split by the
 * same rule over their two packed blocks (build_ab gru:N:H:T, with the 12-row blocks: H = 650 0.67x the time, H = 256
 * 1.00x, W1's 128 0.97x). Not yet measured on a Zen 4 or 5 (1 MiB L2): there W2 and H = 256 (W4, the date model)
 * take one part a thread, where BALANCE had measured 0.97-0.99x for W2 (above). The split never changes a row's sums,
 * only the speed.
 */
void seq_parallel(int threads, int64_t n, int64_t weight_bytes, part_fn fn, const void *args) {
    if (weight_bytes > l2_bytes() / 2) parallel_for(threads, n, SEQ_ROWS, seq_align(), fn, args);
    else parallel_for_balanced(threads, n, SEQ_ROWS, seq_align(), fn, args);
}

API int64_t seq4j_lstm_forward_seq(int threads, float *hs, float *cs, float *gates, const void *wh, int t, int n,
                                   int h, int skip_first, int precision, const float *table, const int32_t *ids, int v) {
    if (t <= 0 || n <= 0 || h <= 0 || seq4j_packed_floats(h, 4 * h, precision) < 0) return 0;
    if (table != NULL && (ids == NULL || v < 0)) return 0; /* the Java side refused it */
    _Atomic int64_t bad = 0;
    struct team_sync sync = {0, 0};
    struct lstm_seq_args a = {.hs_out = hs, .cs_out = cs, .gates = gates, .w = wh, .t = t, .n = n, .hid = h,
                              .skip_first = skip_first != 0, .bf16 = precision == SEQ4J_PACKED_BF16, .table = table,
                              .ids = ids, .v = v, .bad = &bad, .sync = &sync};
    if (n < 2 * SEQ_ROWS) { /* too few rows for two parts: a team split by units, or the per-step calls */
        if (pool_contended()) threads = 1; /* a team ended by a late part lately: the caller's thread alone */
        a.team = forward_team(threads, n, h, 4, 1, a.bf16);
        if (run_team(a.team, lstm_forward_team_part, &a)) return atomic_load(&bad);
        int64_t nh = (int64_t) n * h, ng = 4 * nh;
        for (int64_t s = 0; s < t; s++) {
            if (table != NULL) gather_rows(gates + s * ng, table, ids, s * n, 0, n, v, (size_t) (4 * h), &bad);
            if (s > 0 || !skip_first) {
                seq4j_gemm_packed(threads, gates + s * ng, hs + s * nh, wh, n, 4 * h, h, h, 4 * h, 1.0f, precision);
            }
            seq4j_lstm_cell_forward(threads, hs + (s + 1) * nh, cs + (s + 1) * nh, gates + s * ng, cs + s * nh, n, h);
        }
        return atomic_load(&bad);
    }
    seq_parallel(threads, n, 4 * seq4j_packed_floats(h, 4 * h, precision), lstm_forward_seq_part, &a);
    return atomic_load(&bad);
}

API void seq4j_lstm_backward_seq(int threads, float *dA, float *dh0, float *dc0, float *work, const float *gates,
                                 const float *cs, const float *dhs, const float *dh_last, const float *dc_last,
                                 const void *wht, int t, int n, int h, int precision) {
    if (t <= 0 || n <= 0 || h <= 0 || (dhs == NULL && dh_last == NULL)) return;
    if (seq4j_packed_floats(4 * h, h, precision) < 0) return;
    struct lstm_seq_args a = {.gates = dA, .dh0 = dh0, .dc0 = dc0, .work = work, .saved = gates, .cs = cs,
                              .dhs = dhs, .dh_last = dh_last, .dc_last = dc_last, .w = wht, .t = t, .n = n, .hid = h,
                              .bf16 = precision == SEQ4J_PACKED_BF16};
    if (n < 2 * SEQ_ROWS) { /* as the forward: the per-step calls */
        int64_t nh = (int64_t) n * h, ng = 4 * nh;
        float *carry = work, *next = work + nh, *prev = work + 2 * nh;
        if (dc_last != NULL) memcpy(next, dc_last, (size_t) nh * sizeof(float));
        else memset(next, 0, (size_t) nh * sizeof(float));
        for (int64_t s = t - 1; s >= 0; s--) {
            const float *dh_next = dhs != NULL ? dhs + s * nh : s == t - 1 ? dh_last : carry;
            seq4j_lstm_cell_backward(threads, dA + s * ng, prev, gates + s * ng, cs + (s + 1) * nh, cs + s * nh, dh_next,
                                     s < t - 1 && dhs != NULL ? carry : NULL, next, n, h);
            if (s > 0 || dh0 != NULL) {
                seq4j_gemm_packed(threads, s > 0 ? carry : dh0, dA + s * ng, wht, n, h, 4 * h, 4 * h, h, 0.0f, precision);
            }
            float *swap = next;
            next = prev;
            prev = swap;
        }
        memcpy(dc0, next, (size_t) nh * sizeof(float));
        return;
    }
    seq_parallel(threads, n, 4 * seq4j_packed_floats(4 * h, h, precision), lstm_backward_seq_part, &a);
}

