/*
 * seq4j_cpu.h - the contract between seq4j's Java OpenBlasBackend and its C kernels.
 *
 * These are the fused elementwise kernels that BLAS does not provide: LSTM gates forward and
 * backward, activations, embedding gather and scatter-add, softmax with cross-entropy, MSE,
 * attention weights and weighted sums, dropout masks, optimizer updates and reductions. GEMM goes
 * to OpenBLAS directly. Each function here is the C twin of a method of org.seq4j.backend.Backend;
 * read that interface for the maths, and JavaBackend for the reference loops.
 *
 * What this file is not: a checked API. The Java side (AbstractBackend) validates every shape,
 * pointer extent and index range before calling; these kernels trust their arguments and never
 * re-check. Ids and labels handed to them are already in range.
 *
 * Grammar (llm.c's): outputs first, then values saved for backward, then inputs, then dimensions and
 * scalars. Every pointer names its shape in the comment. Time-major sequences: (T, N, F).
 * Outputs are written (=) unless marked +=.
 *
 * Build: C11, gcc, portable flags; hot loops are compiled twice (x86-64-v3 with AVX2/FMA and the
 * x86-64 baseline) and picked at load time by the dynamic loader (ifunc), never -march=native.
 */
#ifndef SEQ4J_CPU_H
#define SEQ4J_CPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- library ------------------------------------------------------------------------------------ */

/* A static string: version, compiler, and which instruction set the kernels dispatch to here. */
const char *seq4j_cpu_info(void);

/* ---- threads and GEMM ---------------------------------------------------------------------------- */
/*
 * One pool runs all parallel CPU work, GEMM included (OpenBLAS itself is kept single-threaded: two
 * spinning pools on the same cores slow each other down by orders of magnitude). Every kernel below
 * splits its output into contiguous parts, one per thread. Results do not depend on the thread count
 * except for the order of float sums inside a GEMM part; reductions use fixed blocks.
 */

/* Starts (threads - 1) workers; the calling thread is the last one. Returns the number in use. */
int seq4j_set_num_threads(int threads);
int seq4j_get_num_threads(void);

/* Registers OpenBLAS's cblas_sgemm and cblas_sgemv, which seq4j_sgemm and seq4j_sgemv call per part. */
void seq4j_set_blas(void *cblas_sgemm, void *cblas_sgemv);

/* Row-major C (m, n) = alpha op(A) op(B) + beta C, cblas_sgemm's arguments without the order (CBLAS
 * transpose codes: 111 no, 112 yes), split by rows or columns of C across the pool. */
void seq4j_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);

/* Row-major y = alpha op(A) x + beta y for A stored (rows, cols), split by outputs across the pool. */
void seq4j_sgemv(int trans, int rows, int cols, float alpha, const float *a, int lda, const float *x, int incx,
                 float beta, float *y);

/* ---- elementwise -------------------------------------------------------------------------------- */

void seq4j_fill_f32(float *x /* (n) */, int64_t n, float value);
void seq4j_fill_i32(int32_t *x /* (n) */, int64_t n, int32_t value);
void seq4j_scale(float *x /* (n) */, int64_t n, float alpha);                     /* x *= alpha */
void seq4j_axpy(float *y /* (n) += */, const float *x /* (n) */, int64_t n, float alpha);
void seq4j_mul(float *out /* (n), may alias a or b */, const float *a, const float *b, int64_t n);

/* out (t, n, f) = in (n, t, f); 4-byte elements of any type. */
void seq4j_swap_axes01(int32_t *out, const int32_t *in, int n, int t, int f);

/* out (m, f1+f2) = [a (m, f1) | b (m, f2)] */
void seq4j_concat_columns(float *out, const float *a, const float *b, int m, int f1, int f2);
/* da (m, f1) = dout[:, :f1], db (m, f2) = dout[:, f1:], dout (m, f1+f2) */
void seq4j_split_columns(float *da, float *db, const float *dout, int m, int f1, int f2);

/* ---- bias and row sums -------------------------------------------------------------------------- */

void seq4j_add_bias(float *y /* (m, n) += */, const float *b /* (n) */, int m, int n);
/* out (n) = beta * out + sum over rows of x (m, n) */
void seq4j_sum_rows(float *out, const float *x, float beta, int m, int n);

/* ---- activations (y may alias x, dx may alias dy) ---------------------------------------------- */

void seq4j_sigmoid_forward(float *y, const float *x, int64_t n);
void seq4j_sigmoid_backward(float *dx, const float *y, const float *dy, int64_t n);
void seq4j_tanh_forward(float *y, const float *x, int64_t n);
void seq4j_tanh_backward(float *dx, const float *y, const float *dy, int64_t n);
void seq4j_softmax_forward(float *y /* (m, v) */, const float *x /* (m, v) */, int m, int v);
void seq4j_softmax_backward(float *dx /* (m, v) */, const float *y, const float *dy, int m, int v);

/* ---- LSTM cell (gates sliced f, g, i, o as in the book) ---------------------------------------- */

/* gates (n, 4h): in, pre-activation A = x Wx + h_prev Wh + b; out, activated sigmoid(f), tanh(g),
 * sigmoid(i), sigmoid(o). c_next (n, h) = f * c_prev + g * i; h_next (n, h) = o * tanh(c_next). */
void seq4j_lstm_cell_forward(float *h_next, float *c_next, float *gates, const float *c_prev, int n, int h);

/* dA (n, 4h) and dc_prev (n, h; a separate buffer from dc_next) from the saved gates (n, 4h), c_next and c_prev
 * (n, h), and the incoming dh_next and dc_next (n, h). */
void seq4j_lstm_cell_backward(float *dA, float *dc_prev, const float *gates, const float *c_next,
                              const float *c_prev, const float *dh_next, const float *dc_next, int n, int h);

/* ---- embedding ---------------------------------------------------------------------------------- */

/* out (m, d) = W[ids]; W (v, d); ids (m) already checked to lie in [0, v) */
void seq4j_embedding_forward(float *out, const float *W, const int32_t *ids, int m, int d);
/* dW (v, d) += scatter of dout (m, d) into rows ids (m); duplicates summed */
void seq4j_embedding_backward(float *dW, const int32_t *ids, const float *dout, int m, int d);

/* ---- losses ------------------------------------------------------------------------------------- */

/* probs (m, v) = softmax(logits (m, v)); loss (1) = mean over rows with label != -1 of -log p[label].
 * labels (m) in [0, v) or -1. probs may alias logits. */
void seq4j_softmax_xent_forward(float *probs, float *loss, const float *logits, const int32_t *labels, int m, int v);
/* dlogits (m, v) = (probs - onehot) * dloss / count, 0 on ignored rows; may alias probs. */
void seq4j_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, float dloss, int m, int v);

/* loss (1) = scale * sum((y - t)^2) */
void seq4j_mse_forward(float *loss, const float *y, const float *t, int64_t n, float scale);
/* dy (n) = 2 * scale * (y - t) */
void seq4j_mse_backward(float *dy, const float *y, const float *t, int64_t n, float scale);

/* ---- attention (hs time-major (t, n, hd)) ------------------------------------------------------- */

/* a (n, t) = softmax_t(hs[t, n, :] . h[n, :]); h (n, hd) */
void seq4j_attention_weight_forward(float *a, const float *hs, const float *h, int t, int n, int hd);
/* dhs (t, n, hd) +=; dh (n, hd) = */
void seq4j_attention_weight_backward(float *dhs, float *dh, const float *a, const float *hs, const float *h,
                                     const float *da, int t, int n, int hd);
/* c (n, hd) = sum_t a[n, t] * hs[t, n, :] */
void seq4j_weight_sum_forward(float *c, const float *hs, const float *a, int t, int n, int hd);
/* dhs (t, n, hd) +=; da (n, t) = */
void seq4j_weight_sum_backward(float *dhs, float *da, const float *hs, const float *a, const float *dc,
                               int t, int n, int hd);

/* ---- dropout ------------------------------------------------------------------------------------ */

/* mask (n) = u(seed, i) > ratio ? 1 / (1 - ratio) : 0, with u the SplitMix64 counter uniform of
 * org.seq4j.backend.CounterRandom (bit-identical on every backend). */
void seq4j_dropout_mask(float *mask, int64_t n, float ratio, uint64_t seed);

/* ---- optimizers (one call per flat parameter buffer) ------------------------------------------- */

void seq4j_sgd_update(float *param, const float *grad, int64_t n, float lr);
void seq4j_momentum_update(float *param, float *v, const float *grad, int64_t n, float lr, float momentum);
void seq4j_adagrad_update(float *param, float *h, const float *grad, int64_t n, float lr, float eps);
void seq4j_rmsprop_update(float *param, float *h, const float *grad, int64_t n, float lr, float decay, float eps);
void seq4j_adam_update(float *param, float *m, float *v, const float *grad, int64_t n,
                       float lr_t, float beta1, float beta2, float eps);

/* ---- reductions --------------------------------------------------------------------------------- */

/* out (1) = sum of x^2, accumulated in double */
void seq4j_sum_of_squares(float *out, const float *x, int64_t n);
/* ids (m) = argmax of each row of x (m, v); first on ties */
void seq4j_argmax_rows(int32_t *ids, const float *x, int m, int v);

#ifdef __cplusplus
}
#endif

#endif /* SEQ4J_CPU_H */
