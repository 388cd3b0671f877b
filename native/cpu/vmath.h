/*
 * vmath.h - the transcendental functions of the kernels, branch-free so that GCC vectorises them (libm's expf does not
 * vectorise without -ffast-math): exp, sigmoid and tanh on floats, a row's softmax, and exp, sigmoid and tanh by hand
 * in AVX2 + FMA vectors for the cells' hand-written loops (lstm.c, gru.c).
 */
#ifndef SEQ4J_CPU_VMATH_H
#define SEQ4J_CPU_VMATH_H

#include "common.h"

/* ---- vectorisable transcendental functions ------------------------------------------------------ */

INLINE float bits_to_float(int32_t i) {
    union { int32_t i; float f; } u = { .i = i };
    return u.f;
}

/* exp(x) with about 1 ulp of error (Cephes' expf polynomial, Cody-Waite range reduction), branch-free; NaN passes
 * through as NaN. x is clamped to [-88, 88.7], where n = round(x / ln 2) runs from -127 to 128, and the exponent
 * field n + 127 of 2^n from 0, which encodes +0, to 255, which encodes +Inf: so exp underflows to 0 below -87.68
 * (where the exact value is subnormal) and overflows to +Inf above 88.37 (where it passes FLT_MAX at 88.72). A clamp
 * inside the normal range instead left a floor of 1.2e-38 (softmax gave a logit of -Inf, or 1000 below the row's
 * maximum, that probability, which an attention weight times an encoder state of 1e38 made 1.2) and a ceiling that
 * made sigmoid(-1e4) 4.5e-39 (a forget gate that kept 0.45 of a cell state of 1e38); now both are 0, as in the
 * reference. The clamps cost what they did. */
INLINE float s4_expf(float x) {
    x = x < -88.0f ? -88.0f : x;
    x = x > 88.7f ? 88.7f : x;
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
    /* 2^n from its exponent field; for x NaN, n is NaN and p already NaN, so the field is built from 0 instead:
     * (int32_t) NaN is undefined in C (x86 gives INT32_MIN) and shifting INT32_MIN + 127 left is too (UBSan: "left
     * shift of negative value -2147483521"); the select is a blend in the vector loop, the same bits for every x */
    float e = n == n ? n : 0.0f;
    return p * bits_to_float(((int32_t) e + 127) << 23);
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

#ifdef SEQ4J_X86_CLONES
/*
 * In AVX2 + FMA, 8 floats a vector: the same exp polynomial as s4_expf, but the reciprocals (in sigmoid and tanh, which
 * GCC can only compile to vdivps) by vrcpps and one Newton step, r' = r + r (1 - d r) (sigmoid's a step of third order,
 * so that a saturated gate is exactly 1): about 2 ulp instead of 0.5. See
 * the LSTM cell's AVX2 loop (lstm.c) for what that buys and where it is tested.
 */
#define V1(c) _mm256_set1_ps(c)

/* the end of exp(x) once x is clamped to [-87.3, 88.3] and n = round(x / ln 2) is known: r = x - n ln 2 (the first
 * product n ln2_hi subtracted from x by the caller, which may have x only as -x), then 2^n p(r) */
AVX2_INLINE __m256 v_exp_tail(__m256 n, __m256 r) {
    r = _mm256_fnmadd_ps(n, V1(-2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(V1(1.9875691500e-4f), r, V1(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, V1(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, V1(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, V1(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, V1(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), V1(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* exp(x) for x >= 0 or NaN (tanh's 2|x|): only the upper clamp is needed */
AVX2_INLINE __m256 v_exp_nonneg(__m256 x) {
    x = _mm256_min_ps(V1(88.3f), x);
    __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, V1(1.44269504088896341f), V1(12582912.0f)), V1(12582912.0f));
    return v_exp_tail(n, _mm256_fnmadd_ps(n, V1(0.693359375f), x));
}

/* exp(-x), the negation folded into the range reduction: with x clamped to [-88.3, 87.3], n = round(x (-log2 e))
 * and r = -(n ln2_hi) - x take the values that exp(-x) computes from -x, each rounded once, so the result is the
 * same to the bit without the negation */
AVX2_INLINE __m256 v_exp_neg(__m256 x) {
    x = _mm256_max_ps(V1(-88.3f), _mm256_min_ps(V1(87.3f), x));
    __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, V1(-1.44269504088896341f), V1(12582912.0f)), V1(12582912.0f));
    return v_exp_tail(n, _mm256_fnmsub_ps(n, V1(0.693359375f), x));
}

AVX2_INLINE __m256 v_rcp(__m256 d) {
    __m256 r = _mm256_rcp_ps(d);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, V1(1.0f)), r);
}

/* 1 / (1 + exp(-x)) with the reciprocal's step taken to third order, r' = r + r (e + e^2), e = 1 - d r: one FMA more
 * than v_rcp's Newton step, whose error e^2 (up to 2^-24 after vrcpps) left a saturated gate (d = 1, x from about 17.4
 * up, +Inf included) at 1 - 2^-24 where the reference and the other clones have 1: a GRU's (1 - z) h_prev was 6e-8
 * h_prev, and -Inf for an h_prev of -Inf where 0 * Inf is NaN elsewhere. e^3 (2^-36) rounds away; d = +Inf or huge
 * still gives r = 0 (e = 1), and NaN stays NaN. */
AVX2_INLINE __m256 v_sigmoid(__m256 x) {
    __m256 d = _mm256_add_ps(V1(1.0f), v_exp_neg(x));
    __m256 r = _mm256_rcp_ps(d);
    __m256 e = _mm256_fnmadd_ps(d, r, V1(1.0f));
    return _mm256_fmadd_ps(r, _mm256_fmadd_ps(e, e, e), r);
}

/* s4_tanhf's two branches, both computed, one selected per lane */
AVX2_INLINE __m256 v_tanh(__m256 x) {
    const __m256 sign = V1(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign, x), z = _mm256_mul_ps(x, x);
    __m256 small = _mm256_fmadd_ps(V1(-5.70498872745e-3f), z, V1(2.06390887954e-2f));
    small = _mm256_fmadd_ps(small, z, V1(-5.37397155531e-2f));
    small = _mm256_fmadd_ps(small, z, V1(1.33314422036e-1f));
    small = _mm256_fmadd_ps(small, z, V1(-3.33332819422e-1f));
    small = _mm256_fmadd_ps(_mm256_mul_ps(small, z), x, x);
    __m256 large = _mm256_fnmadd_ps(V1(2.0f), v_rcp(_mm256_add_ps(v_exp_nonneg(_mm256_add_ps(ax, ax)), V1(1.0f))), V1(1.0f));
    large = _mm256_or_ps(large, _mm256_and_ps(x, sign));
    return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, V1(0.625f), _CMP_LT_OQ));
}
#endif

#endif
