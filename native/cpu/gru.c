/*
 * gru.c - the GRU of the book's appendix: its gates and cell forward and backward, and whole sequences in one call.
 */
#include "common.h"
#include "vmath.h"

/* ==== GRU cell ==================================================================================== */
/*
 * The book's appendix GRU, gates sliced z, r, h in each row of gates (n, 3h) = [z | r | hhat]:
 *   z = sigmoid(x Wxz + h Whz + bz),  r = sigmoid(x Wxr + h Whr + br),
 *   hhat = tanh(x Wxh + (r h) Whh + bh),  h_next = (1 - z) h + z hhat.
 * The reset gate multiplies h before Whh, so the candidate's GEMM can only start once r is known: a step is
 * GEMM h Wh[:, :2h] (beta 1, into the x Wx + b computed for all steps before the loop), gates kernel (z, r and
 * r h in one pass), GEMM (r h) Whh, cell kernel (hhat and h_next in one pass). Two GEMMs of (n, h) x (h, 2h)
 * and (h, h) do the same work as one of (h, 3h); the price of the split is one more pass over (n, h).
 * Backward, with drh = dL/d(r h):
 *   dhhat = dh z, dz = dh (hhat - h_prev)       -> dA_h = dhhat (1 - hhat^2), dA_z = dz z (1 - z)
 *   drh = dA_h Whh^T (a GEMM between the two kernels)
 *   dr = drh h_prev                             -> dA_r = dr r (1 - r)
 *   dh_prev += dh (1 - z) + drh r, then += dA[:, :2h] Wh[:, :2h]^T (a GEMM).
 * Rows split over threads as for the LSTM cell (cell_parallel: rows, or units when there are few rows).
 * Every loop is auto-vectorised (restrict, no branches) in each clone; the transcendental ones are HOT_FMA_FN, and
 * the two forward loops also have hand-written AVX2 versions for the AVX2 clone (below), as the LSTM cell forward does.
 */

/* One row of each kernel. restrict on the parameters (as in lstm_row_forward) lets GCC vectorise without
 * runtime alias checks; the caller's buffers never overlap (checked in Java). */
INLINE void gru_row_gates_forward(float *restrict z, float *restrict rg, float *restrict rh,
                                  const float *restrict hp, int w) {
    for (int j = 0; j < w; j++) {
        float rj = s4_sigmoid(rg[j]);
        z[j] = s4_sigmoid(z[j]);
        rg[j] = rj;
        rh[j] = rj * hp[j];
    }
}

INLINE void gru_row_cell_forward(float *restrict hh, float *restrict hn, const float *restrict z,
                                 const float *restrict hp, int w) {
    for (int j = 0; j < w; j++) {
        float c = s4_tanhf(hh[j]);
        hh[j] = c;
        hn[j] = (1.0f - z[j]) * hp[j] + z[j] * c;
    }
}

INLINE void gru_row_cell_backward(float *restrict dz, float *restrict dhh, const float *restrict z,
                                  const float *restrict hh, const float *restrict hp, const float *restrict dh,
                                  int w) {
    for (int j = 0; j < w; j++) {
        dz[j] = dh[j] * (hh[j] - hp[j]) * z[j] * (1.0f - z[j]);
        dhh[j] = dh[j] * z[j] * (1.0f - hh[j] * hh[j]);
    }
}

INLINE void gru_row_gates_backward(float *restrict dr, float *restrict dhp, const float *restrict z,
                                   const float *restrict rg, const float *restrict hp, const float *restrict dh,
                                   const float *restrict drh, int w) {
    for (int j = 0; j < w; j++) {
        dr[j] = drh[j] * hp[j] * rg[j] * (1.0f - rg[j]);
        dhp[j] = dhp[j] + (dh[j] * (1.0f - z[j]) + drh[j] * rg[j]);
    }
}

#ifdef SEQ4J_X86_CLONES
/* The two forward row loops again by hand in AVX2 + FMA, 8 units at a time, for the AVX2 clone: the same
 * v_sigmoid / v_tanh (vmath.h) as the LSTM cell's hand loop (reciprocals by vrcpps and one Newton step instead of vdivps,
 * about 2 ulp; NaN stays NaN, out-of-range inputs clamp as in the scalar loop). The AVX-512 clone runs GCC's
 * 512-bit vectorisation of the scalar loop instead, with exact divisions: in bench/c/clones.sh (one thread,
 * 64x512, a fresh copy of the gates counted in each call, median of 3 rounds) it took 30.3 us (gates) and 27.8
 * us (cell), against 31.1 and 27.3 us for a hand loop in AVX-512 like lstm_row_forward_avx512, and 41.2 and
 * 35.3 us for this AVX2 loop run on the same Zen 4 CPU. The backward loops have no division or exp: GCC's
 * vectorised loops (the clones) are enough there. */
#define GRU_LD(p) _mm256_loadu_ps((p) + j)
#define GRU_ST(p, v) _mm256_storeu_ps((p) + j, (v))

static AVX2 void gru_row_gates_forward_avx2(float *z, float *rg, float *rh, const float *hp, int w) {
    int j = 0;
    for (; j + 8 <= w; j += 8) {
        __m256 zj = v_sigmoid(GRU_LD(z)), rj = v_sigmoid(GRU_LD(rg));
        GRU_ST(z, zj);
        GRU_ST(rg, rj);
        GRU_ST(rh, _mm256_mul_ps(rj, GRU_LD(hp)));
    }
    if (j < w) gru_row_gates_forward(z + j, rg + j, rh + j, hp + j, w - j);
}

static AVX2 void gru_row_cell_forward_avx2(float *hh, float *hn, const float *z, const float *hp, int w) {
    int j = 0;
    for (; j + 8 <= w; j += 8) {
        __m256 c = v_tanh(GRU_LD(hh)), zj = GRU_LD(z);
        GRU_ST(hh, c);
        GRU_ST(hn, _mm256_fmadd_ps(zj, c, _mm256_mul_ps(_mm256_sub_ps(V1(1.0f), zj), GRU_LD(hp))));
    }
    if (j < w) gru_row_cell_forward(hh + j, hn + j, z + j, hp + j, w - j);
}

#undef GRU_LD
#undef GRU_ST
#else
#define gru_row_gates_forward_avx2 gru_row_gates_forward /* never called: cpu_isa is ISA_BASELINE */
#define gru_row_cell_forward_avx2 gru_row_cell_forward
#endif

/* the four kernels' arguments, named as in the maths above, for n rows of h units (gates (n, 3h), the rest (n, h)):
 *   gates forward:  rh out; gates in (z and r written over with their activations), h_prev in
 *   cell forward:   h_next out; gates in (hhat written over with its activation), h_prev in
 *   cell backward:  dA's z and h blocks out; gates, h_prev, dh_next in
 *   gates backward: dA's r block and dh_prev (+=) out; gates, h_prev, dh_next, drh in */
struct gru_args {
    float *rh, *h_next, *dA, *dh_prev;
    const float *gates, *h_prev, *dh_next, *drh;
    int n, h;
};

/* rows [r0, r1), units [j0, j1) of each kernel; the forward's hand loop only in the AVX2 clone (see above) */
HOT_FMA_FN(gru_gates_forward_block, (const struct gru_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    int w = (int) (j1 - j0);
    enum isa isa = cpu_isa;
    for (int64_t r = r0; r < r1; r++) {
        float *g = (float *) a->gates + r * 3 * h + j0;
        size_t k = r * h + j0;
        if (isa == ISA_AVX2) {
            gru_row_gates_forward_avx2(g, g + h, a->rh + k, a->h_prev + k, w);
        } else {
            gru_row_gates_forward(g, g + h, a->rh + k, a->h_prev + k, w);
        }
    }
}

HOT_FMA_FN(gru_cell_forward_block, (const struct gru_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    int w = (int) (j1 - j0);
    enum isa isa = cpu_isa;
    for (int64_t r = r0; r < r1; r++) {
        float *g = (float *) a->gates + r * 3 * h + j0;
        size_t k = r * h + j0;
        if (isa == ISA_AVX2) {
            gru_row_cell_forward_avx2(g + 2 * h, a->h_next + k, g, a->h_prev + k, w);
        } else {
            gru_row_cell_forward(g + 2 * h, a->h_next + k, g, a->h_prev + k, w);
        }
    }
}

/* no transcendental function in the backward: no FMA, rounding as the Java reference does; bound by its loads and
 * stores, so 256-bit vectors in the v4 clone as well (HOT_FN_256: measured faster, see HOT_PART_256 in common.h) */
HOT_FN_256(gru_cell_backward_block, (const struct gru_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    for (int64_t r = r0; r < r1; r++) {
        const float *g = a->gates + r * 3 * h + j0;
        float *d = a->dA + r * 3 * h + j0;
        size_t k = r * h + j0;
        gru_row_cell_backward(d, d + 2 * h, g, g + 2 * h, a->h_prev + k, a->dh_next + k, (int) (j1 - j0));
    }
}

HOT_FN_256(gru_gates_backward_block, (const struct gru_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    for (int64_t r = r0; r < r1; r++) {
        const float *g = a->gates + r * 3 * h + j0;
        float *d = a->dA + r * 3 * h + j0;
        size_t k = r * h + j0;
        gru_row_gates_backward(d + h, a->dh_prev + k, g, g + h, a->h_prev + k, a->dh_next + k, a->drh + k, (int) (j1 - j0));
    }
}

static void gru_gates_forward_rows(const void *p, int64_t b, int64_t e) {
    gru_gates_forward_block(p, b, e, 0, ((const struct gru_args *) p)->h);
}

static void gru_gates_forward_units(const void *p, int64_t b, int64_t e) {
    gru_gates_forward_block(p, 0, ((const struct gru_args *) p)->n, b, e);
}

static void gru_cell_forward_rows(const void *p, int64_t b, int64_t e) {
    gru_cell_forward_block(p, b, e, 0, ((const struct gru_args *) p)->h);
}

static void gru_cell_forward_units(const void *p, int64_t b, int64_t e) {
    gru_cell_forward_block(p, 0, ((const struct gru_args *) p)->n, b, e);
}

static void gru_cell_backward_rows(const void *p, int64_t b, int64_t e) {
    gru_cell_backward_block(p, b, e, 0, ((const struct gru_args *) p)->h);
}

static void gru_cell_backward_units(const void *p, int64_t b, int64_t e) {
    gru_cell_backward_block(p, 0, ((const struct gru_args *) p)->n, b, e);
}

static void gru_gates_backward_rows(const void *p, int64_t b, int64_t e) {
    gru_gates_backward_block(p, b, e, 0, ((const struct gru_args *) p)->h);
}

static void gru_gates_backward_units(const void *p, int64_t b, int64_t e) {
    gru_gates_backward_block(p, 0, ((const struct gru_args *) p)->n, b, e);
}

/* grains as for the LSTM cell, scaled by the work an element: two exps (gates), one (cell), none (backward) */
API void seq4j_gru_gates_forward(int threads, float *rh, float *gates, const float *h_prev, int n, int h) {
    struct gru_args a = {.rh = rh, .gates = gates, .h_prev = h_prev, .n = n, .h = h};
    cell_parallel(threads, n, h, 256, gru_gates_forward_rows, gru_gates_forward_units, &a);
}

API void seq4j_gru_cell_forward(int threads, float *h_next, float *gates, const float *h_prev, int n, int h) {
    struct gru_args a = {.h_next = h_next, .gates = gates, .h_prev = h_prev, .n = n, .h = h};
    cell_parallel(threads, n, h, 512, gru_cell_forward_rows, gru_cell_forward_units, &a);
}

API void seq4j_gru_cell_backward(int threads, float *dA, const float *gates, const float *h_prev,
                                 const float *dh_next, int n, int h) {
    struct gru_args a = {.dA = dA, .gates = gates, .h_prev = h_prev, .dh_next = dh_next, .n = n, .h = h};
    cell_parallel(threads, n, h, 512, gru_cell_backward_rows, gru_cell_backward_units, &a);
}

API void seq4j_gru_gates_backward(int threads, float *dA, float *dh_prev, const float *gates, const float *h_prev,
                                  const float *dh_next, const float *drh, int n, int h) {
    struct gru_args a = {.dA = dA, .dh_prev = dh_prev, .gates = gates, .h_prev = h_prev, .dh_next = dh_next, .drh = drh,
                         .n = n, .h = h};
    cell_parallel(threads, n, h, 512, gru_gates_backward_rows, gru_gates_backward_units, &a);
}

/* ---- the GRU recurrence as one call (as seq4j_lstm_forward_seq: rows split in parts, each part's rows through every
 * step, no hand-off a step) ---- */

struct gru_seq_args {
    float *hs, *gates, *rhs; /* hs (t + 1, n, h), gates (t, n, 3h), rhs (t, n, h); the backward only reads hs, gates */
    float *dA, *dh0, *dhs, *drh; /* backward: dA (t, n, 3h), dh0 (n, h), dhs (t, n, h) in and out, drh (n, h) work */
    const void *zr, *hh;     /* forward: Wh[:, :2h] (h, 2h) and Whh (h, h); backward: their transposes (2h, h), (h, h) */
    int64_t t, n, hid;
    int skip_first, bf16;
    int team;                /* forward by units (gru_forward_team_part): the parts, */
    struct team_sync *sync;  /* and their arrivals at each barrier */
};

static void gru_forward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct gru_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 3 * h, nh = n * h;
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hp = a->hs + s * nh, *rh = a->rhs + s * nh;
        int recurrent = s > 0 || !a->skip_first;
        if (recurrent) packed_rows(gs, g, hp, h, a->zr, b, e, 2 * h, h, 1.0f, a->bf16);
        struct gru_args zr = {.rh = rh, .gates = gs, .h_prev = hp, .n = (int) n, .h = (int) h};
        gru_gates_forward_block(&zr, b, e, 0, h);
        if (recurrent) packed_rows(gs + 2 * h, g, rh, h, a->hh, b, e, h, h, 1.0f, a->bf16);
        struct gru_args cell = {.h_next = hp + nh, .gates = gs, .h_prev = hp, .n = (int) n, .h = (int) h};
        gru_cell_forward_block(&cell, b, e, 0, h);
    }
}

/*
 * The GRU forward of too few rows for parts of rows, as lstm_forward_team_part: part p owns units [u0, u1) of
 * every step. Its z and r columns of h Wh[:, :2h] and their gates kernel (r h of its units), a barrier (the next
 * product reads all of r h), its columns of (r h) Whh and its cell (h of its units), a barrier (the next step reads
 * all of h). The same FMA chains and kernels per element as the per-step loop: the same bits. A part that waited too
 * long for a late one at either barrier goes on alone with every unit (team_barrier), from the work after it.
 */
static void gru_forward_team_part(const void *p, int64_t part, int64_t end) {
    (void) end;
    const struct gru_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 3 * h, nh = n * h, u0, u1, round = 0;
    part_range(h, PANEL, a->team, (int) part, &u0, &u1);
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hp = a->hs + s * nh, *rh = a->rhs + s * nh;
        int recurrent = s > 0 || !a->skip_first;
        if (recurrent) {
            struct gemm_packed_args zr = {gs, hp, a->zr, n, 2 * h, h, h, g, 1.0f, a->bf16, 0, 0};
            const int64_t ranges[2][2] = {{u0 / PANEL, u1 / PANEL}, {(h + u0) / PANEL, (h + u1) / PANEL}}; /* z, r */
            gemm_packed_ranges(&zr, ranges, 2);
        }
        struct gru_args gates = {.rh = rh, .gates = gs, .h_prev = hp, .n = (int) n, .h = (int) h};
        gru_gates_forward_block(&gates, 0, n, u0, u1);
        if (recurrent) {
            if (u1 - u0 < h && team_wait(a->sync, a->team, ++round, h, &u0, &u1)) return;
            struct gemm_packed_args hh = {gs + 2 * h, rh, a->hh, n, h, h, h, g, 1.0f, a->bf16, 0, 0};
            gemm_packed_part(&hh, u0 / PANEL, u1 / PANEL);
        }
        struct gru_args cell = {.h_next = hp + nh, .gates = gs, .h_prev = hp, .n = (int) n, .h = (int) h};
        gru_cell_forward_block(&cell, 0, n, u0, u1);
        if (s < a->t - 1 && u1 - u0 < h && team_wait(a->sync, a->team, ++round, h, &u0, &u1)) return;
    }
}

/* rows [b, e) of a step of the backward: dA of z and hhat, drh = dA_hhat Whh^T, dA of r and dh_prev += ..., then
 * dh_prev += dA[:, :2h] Wh[:, :2h]^T; dh_prev is the step before's row of dhs (which holds its own dhs on entry) or dh0 */
static void gru_backward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct gru_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 3 * h, nh = n * h;
    for (int64_t r = b; r < e; r++) memset(a->dh0 + r * h, 0, (size_t) h * sizeof(float));
    for (int64_t s = a->t - 1; s >= 0; s--) {
        float *dA = a->dA + s * n * g, *dh_next = a->dhs + s * nh, *dh_prev = s > 0 ? dh_next - nh : a->dh0;
        const float *gs = a->gates + s * n * g, *hp = a->hs + s * nh;
        struct gru_args cell = {.dA = dA, .gates = gs, .h_prev = hp, .dh_next = dh_next, .n = (int) n, .h = (int) h};
        gru_cell_backward_block(&cell, b, e, 0, h);
        packed_rows(a->drh, h, dA + 2 * h, g, a->hh, b, e, h, h, 0.0f, a->bf16);
        struct gru_args zr = {.dA = dA, .dh_prev = dh_prev, .gates = gs, .h_prev = hp, .dh_next = dh_next,
                              .drh = a->drh, .n = (int) n, .h = (int) h};
        gru_gates_backward_block(&zr, b, e, 0, h);
        packed_rows(dh_prev, h, dA, g, a->zr, b, e, h, 2 * h, 1.0f, a->bf16);
    }
}

API void seq4j_gru_backward_seq(int threads, float *dA, float *dh0, float *dhs, float *drh, const float *gates,
                                const float *hs, const void *zrt, const void *hht, int t, int n, int h, int precision) {
    if (t <= 0 || n <= 0 || h <= 0) return;
    if (seq4j_packed_floats(2 * h, h, precision) < 0 || seq4j_packed_floats(h, h, precision) < 0) return;
    if (n < 2 * SEQ_ROWS) { /* as the forward: the per-step calls */
        int64_t nh = (int64_t) n * h, ng = 3 * nh;
        memset(dh0, 0, (size_t) nh * sizeof(float));
        for (int64_t s = t - 1; s >= 0; s--) {
            float *d = dA + s * ng, *dh_next = dhs + s * nh, *dh_prev = s > 0 ? dh_next - nh : dh0;
            const float *gs = gates + s * ng, *hp = hs + s * nh;
            seq4j_gru_cell_backward(threads, d, gs, hp, dh_next, n, h);
            seq4j_gemm_packed(threads, drh, d + 2 * h, hht, n, h, h, 3 * h, h, 0.0f, precision);
            seq4j_gru_gates_backward(threads, d, dh_prev, gs, hp, dh_next, drh, n, h);
            seq4j_gemm_packed(threads, dh_prev, d, zrt, n, h, 2 * h, 3 * h, h, 1.0f, precision);
        }
        return;
    }
    struct gru_seq_args a = {.hs = (float *) hs, .gates = (float *) gates, .dA = dA, .dh0 = dh0, .dhs = dhs, .drh = drh,
                             .zr = zrt, .hh = hht, .t = t, .n = n, .hid = h,
                             .bf16 = precision == SEQ4J_PACKED_BF16};
    seq_parallel(threads, n, 4 * (seq4j_packed_floats(2 * h, h, precision) + seq4j_packed_floats(h, h, precision)),
                 gru_backward_seq_part, &a);
}

API void seq4j_gru_forward_seq(int threads, float *hs, float *gates, float *rhs, const void *zr, const void *hh, int t,
                               int n, int h, int skip_first, int precision) {
    if (t <= 0 || n <= 0 || h <= 0) return;
    if (seq4j_packed_floats(h, 2 * h, precision) < 0 || seq4j_packed_floats(h, h, precision) < 0) return;
    struct team_sync sync = {0, 0};
    struct gru_seq_args a = {.hs = hs, .gates = gates, .rhs = rhs, .zr = zr, .hh = hh, .t = t, .n = n, .hid = h,
                             .skip_first = skip_first != 0, .bf16 = precision == SEQ4J_PACKED_BF16,
                             .sync = &sync};
    if (n < 2 * SEQ_ROWS) { /* too few rows for two parts: a team split by units, or the per-step calls */
        if (pool_contended()) threads = 1; /* a team ended by a late part lately: the caller's thread alone */
        a.team = forward_team(threads, n, h, 3, 2, a.bf16);
        if (run_team(a.team, gru_forward_team_part, &a)) return;
        int64_t nh = (int64_t) n * h, ng = 3 * nh;
        for (int64_t s = 0; s < t; s++) {
            float *gs = gates + s * ng, *hp = hs + s * nh, *rh = rhs + s * nh;
            int recurrent = s > 0 || !skip_first;
            if (recurrent) seq4j_gemm_packed(threads, gs, hp, zr, n, 2 * h, h, h, 3 * h, 1.0f, precision);
            seq4j_gru_gates_forward(threads, rh, gs, hp, n, h);
            if (recurrent) seq4j_gemm_packed(threads, gs + 2 * h, rh, hh, n, h, h, h, 3 * h, 1.0f, precision);
            seq4j_gru_cell_forward(threads, hp + nh, gs, hp, n, h);
        }
        return;
    }
    seq_parallel(threads, n, 4 * (seq4j_packed_floats(h, 2 * h, precision) + seq4j_packed_floats(h, h, precision)),
                 gru_forward_seq_part, &a);
}
/* ==== end of GRU cell ============================================================================= */
