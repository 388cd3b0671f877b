/*
 * optim.c - the optimizers' updates (SGD, momentum, AdaGrad, RMSprop, Adam), elementwise over the flat parameters,
 * each part with subnormals flushed to zero (FLUSHED, common.h: state decaying through them cost Intel cores an assist
 * an operation).
 */
#include "common.h"

/* ---- optimizers (y = param, y2 / y3 = state, x = grad, s0 = lr) --------------------------------- */

HOT_PART(sgd_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] -= a->s0 * a->x[i];
}

FLUSHED(sgd_part)

API void seq4j_sgd_update(int threads, float *param, const float *grad, int64_t n, float lr) {
    struct ew_args a = {.y = param, .x = grad, .s0 = lr};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, sgd_part_flushed, &a);
}

/* s1 = momentum */
HOT_PART(momentum_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) {
        a->y2[i] = a->s1 * a->y2[i] - a->s0 * a->x[i];
        a->y[i] += a->y2[i];
    }
}

FLUSHED(momentum_part)

API void seq4j_momentum_update(int threads, float *param, float *v, const float *grad, int64_t n, float lr,
                               float momentum) {
    struct ew_args a = {.y = param, .y2 = v, .x = grad, .s0 = lr, .s1 = momentum};
    parallel_for(threads, n, ELEMENT_GRAIN * 2, ELEMENT_ALIGN, momentum_part_flushed, &a);
}

/* s1 = eps */
HOT_PART_256(adagrad_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) {
        a->y2[i] += a->x[i] * a->x[i];
        a->y[i] -= a->s0 * a->x[i] / (sqrtf(a->y2[i]) + a->s1);
    }
}

FLUSHED(adagrad_part)

API void seq4j_adagrad_update(int threads, float *param, float *h, const float *grad, int64_t n, float lr, float eps) {
    struct ew_args a = {.y = param, .y2 = h, .x = grad, .s0 = lr, .s1 = eps};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, adagrad_part_flushed, &a);
}

/* s1 = decay, s2 = eps */
HOT_PART_256(rmsprop_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) {
        a->y2[i] = a->s1 * a->y2[i] + (1.0f - a->s1) * a->x[i] * a->x[i];
        a->y[i] -= a->s0 * a->x[i] / (sqrtf(a->y2[i]) + a->s2);
    }
}

FLUSHED(rmsprop_part)

API void seq4j_rmsprop_update(int threads, float *param, float *h, const float *grad, int64_t n, float lr, float decay,
                              float eps) {
    struct ew_args a = {.y = param, .y2 = h, .x = grad, .s0 = lr, .s1 = decay, .s2 = eps};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, rmsprop_part_flushed, &a);
}

/* y = param, y2 = m, y3 = v, y4 = grad, s0 = lr_t, s1 = beta1, s2 = beta2, s3 = eps; i0: grad zeroed as it is read
 * (zero: a constant after inlining, so each loop has no branch) */
INLINE void adam_range(const struct ew_args *a, int64_t b, int64_t e, const int zero) {
    float lr_t = a->s0, beta1 = a->s1, beta2 = a->s2, eps = a->s3;
    for (int64_t i = b; i < e; i++) {
        float g = a->y4[i];
        a->y2[i] += (1.0f - beta1) * (g - a->y2[i]);
        a->y3[i] += (1.0f - beta2) * (g * g - a->y3[i]);
        a->y[i] -= lr_t * a->y2[i] / (sqrtf(a->y3[i]) + eps);
        if (zero) a->y4[i] = 0.0f;
    }
}

HOT_PART_256(adam_part) {
    const struct ew_args *a = p;
    if (a->i0) adam_range(a, b, e, 1);
    else adam_range(a, b, e, 0);
}

/* Zeroing the gradients in the same pass saves the optimizer's fill after it: that fill found the 600 KB of W1's
 * gradients gone from L2 (Adam streams 2.4 MB) and half of them in the other core's caches (Profile w1: 46-54 us a
 * step, against 2.8 us over a cached buffer); here each line is written while Adam has it in L1. */
FLUSHED(adam_part)

API void seq4j_adam_update(int threads, float *param, float *m, float *v, float *grad, int64_t n, float lr_t,
                           float beta1, float beta2, float eps, int zero_grad) {
    struct ew_args a = {.y = param, .y2 = m, .y3 = v, .y4 = grad, .s0 = lr_t, .s1 = beta1, .s2 = beta2, .s3 = eps,
                        .i0 = zero_grad != 0};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, adam_part_flushed, &a);
}

