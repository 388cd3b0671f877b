/*
 * seq4j_cuda.h - the contract between seq4j's Java CudaBackend and its CUDA kernels.
 *
 * The GPU twin of native/cpu/seq4j_cpu.h: the fused elementwise kernels that cuBLAS does not provide
 * (LSTM gates forward and backward, activations, embedding gather and scatter-add, softmax with
 * cross-entropy, MSE, attention weights and weighted sums, dropout masks, optimizer updates and
 * reductions). GEMM goes to cuBLAS directly. Each function is the CUDA twin of a method of
 * org.seq4j.backend.Backend; read that interface for the maths and JavaBackend for the reference loops.
 *
 * What this file is not: a checked API. The Java side (AbstractBackend) validates every shape and
 * extent before calling. The one thing Java cannot check cheaply is the value of ids and labels in
 * device memory, so the kernels that index with them skip an out-of-range id and set a bit in a device
 * int, errors (see SEQ4J_CUDA_ERR_*), which the Java side reads at its next synchronising call.
 *
 * Grammar (llm.c's, as in seq4j_cpu.h): outputs first (then the device error word and scratch
 * space, where a kernel needs them), then values saved for backward, then inputs, then dimensions and
 * scalars, and last the cudaStream_t, passed as void * so that this header needs no CUDA header.
 * Every pointer is a DEVICE pointer and names its shape in the comment. Time-major sequences:
 * (T, N, F). Outputs are written (=) unless marked +=.
 *
 * Every function only enqueues work on the stream and returns at once with the status of its launches
 * (a cudaError_t as int: 0 is cudaSuccess): it clears any error an earlier call left, and reads the status
 * right after each of its launches, returning the first failure. Faults inside a running kernel surface at
 * the next synchronising CUDA call; they are sticky, so a launch status that is one of them (illegal
 * address, launch failure, device assert, ...) belongs to an EARLIER kernel. Empty inputs launch nothing
 * (a grid of 0 blocks is a launch error; except where an output scalar must still be written) and return 0.
 */
#ifndef SEQ4J_CUDA_H
#define SEQ4J_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- library ------------------------------------------------------------------------------------ */

/* A static string: version, the CUDA version it was compiled with and the GPU architectures inside. */
const char *seq4j_cuda_info(void);

/* The device error record, int32_t errors[SEQ4J_CUDA_ERROR_INTS], zeroed by the caller. errors[0] holds
 * the bits below: which kernels met an id or label outside its range (and skipped it). For the kernel
 * with bit 1 << k, errors[1 + 4k] .. errors[4 + 4k] = {a claim word (nonzero once claimed; internal), the value
 * at the lowest such position met since the record was zeroed, that position in ids or labels, the bound it
 * broke}, so that the error message can name them: the same one on every run, as the CPU's lowest position. */
#define SEQ4J_CUDA_ERR_EMBEDDING_FORWARD 1
#define SEQ4J_CUDA_ERR_EMBEDDING_BACKWARD 2
#define SEQ4J_CUDA_ERR_XENT_FORWARD 4
#define SEQ4J_CUDA_ERR_XENT_BACKWARD 8
#define SEQ4J_CUDA_ERROR_INTS 17

/* The reductions to one scalar (sum of squares, MSE) are deterministic two-stage reductions: at most
 * this many blocks each write one partial sum (double) into scratch, and one block adds them in a
 * fixed order. So scratch must hold SEQ4J_CUDA_REDUCE_BLOCKS doubles. */
#define SEQ4J_CUDA_REDUCE_BLOCKS 1024

/* ---- elementwise -------------------------------------------------------------------------------- */

int seq4j_cuda_fill_f32(float *x /* (n) */, int64_t n, float value, void *stream);
int seq4j_cuda_fill_i32(int32_t *x /* (n) */, int64_t n, int32_t value, void *stream);
int seq4j_cuda_scale(float *x /* (n) */, int64_t n, float alpha, void *stream);                 /* x *= alpha */
int seq4j_cuda_axpy(float *y /* (n) += */, const float *x /* (n) */, int64_t n, float alpha, void *stream);
int seq4j_cuda_mul(float *out /* (n), may alias a or b */, const float *a, const float *b, int64_t n, void *stream);

/* out (t, n, f) = in (n, t, f); 4-byte elements of any type. */
int seq4j_cuda_swap_axes01(int32_t *out, const int32_t *in, int n, int t, int f, void *stream);

/* out (m, f1+f2) = [a (m, f1) | b (m, f2)] */
int seq4j_cuda_concat_columns(float *out, const float *a, const float *b, int m, int f1, int f2, void *stream);
/* da (m, f1) = dout[:, :f1], db (m, f2) = dout[:, f1:], dout (m, f1+f2) */
int seq4j_cuda_split_columns(float *da, float *db, const float *dout, int m, int f1, int f2, void *stream);

/* ---- bias and row sums -------------------------------------------------------------------------- */

int seq4j_cuda_add_bias(float *y /* (m, n) += */, const float *b /* (n) */, int m, int n, void *stream);
/* out (n) = beta * out + sum over rows of x (m, n), summed in double, in a fixed order */
int seq4j_cuda_sum_rows(float *out, const float *x, float beta, int m, int n, void *stream);

/* ---- activations (y may alias x, dx may alias dy) ---------------------------------------------- */

int seq4j_cuda_sigmoid_forward(float *y, const float *x, int64_t n, void *stream);
int seq4j_cuda_sigmoid_backward(float *dx, const float *y, const float *dy, int64_t n, void *stream);
int seq4j_cuda_tanh_forward(float *y, const float *x, int64_t n, void *stream);
int seq4j_cuda_tanh_backward(float *dx, const float *y, const float *dy, int64_t n, void *stream);
/* one block per row */
int seq4j_cuda_softmax_forward(float *y /* (m, v) */, const float *x /* (m, v) */, int m, int v, void *stream);
int seq4j_cuda_softmax_backward(float *dx /* (m, v) */, const float *y, const float *dy, int m, int v, void *stream);

/* ---- LSTM cell (gates sliced f, g, i, o as in the book); one kernel per call ------------------ */

/* gates (n, 4h): in, pre-activation A = x Wx + h_prev Wh + b; out, activated sigmoid(f), tanh(g),
 * sigmoid(i), sigmoid(o). c_next (n, h) = f * c_prev + g * i; h_next (n, h) = o * tanh(c_next). */
int seq4j_cuda_lstm_cell_forward(float *h_next, float *c_next, float *gates, const float *c_prev, int n, int h,
                                 void *stream);

/* dA (n, 4h) and dc_prev (n, h; a separate buffer from dc_next) from the saved gates (n, 4h), c_next and
 * c_prev (n, h), and the incoming dh_next + dh_carry and dc_next (n, h); dh_carry may be NULL (dh = dh_next). */
int seq4j_cuda_lstm_cell_backward(float *dA, float *dc_prev, const float *gates, const float *c_next,
                                  const float *c_prev, const float *dh_next, const float *dh_carry,
                                  const float *dc_next, int n, int h, void *stream);

/* ---- GRU cell (the book's appendix GRU, gates sliced z, r, h); see seq4j_cpu.h for the step ----- */

/* gates (n, 3h): columns [0, 2h) in, pre-activations of z, r; out, their sigmoid; rh (n, h) = r h_prev */
int seq4j_cuda_gru_gates_forward(float *rh, float *gates, const float *h_prev, int n, int h, void *stream);

/* gates (n, 3h): columns [2h, 3h) in, the candidate's pre-activation; out, hhat = its tanh;
 * h_next (n, h) = (1 - z) h_prev + z hhat */
int seq4j_cuda_gru_cell_forward(float *h_next, float *gates, const float *h_prev, int n, int h, void *stream);

/* dA (n, 3h) columns [0, h) = dh_next (hhat - h_prev) z (1 - z), [2h, 3h) = dh_next z (1 - hhat^2) */
int seq4j_cuda_gru_cell_backward(float *dA, const float *gates, const float *h_prev, const float *dh_next, int n,
                                 int h, void *stream);

/* dA (n, 3h) columns [h, 2h) = drh h_prev r (1 - r); dh_prev (n, h) += dh_next (1 - z) + drh r */
int seq4j_cuda_gru_gates_backward(float *dA, float *dh_prev, const float *gates, const float *h_prev,
                                  const float *dh_next, const float *drh, int n, int h, void *stream);

/* ---- embedding (ids outside [0, v) are skipped: their output row is 0 / nothing is added; with d == 0
 * the ids are still checked) --------------------------------------------------------------------------- */

/* out (m, d) = W[ids]; W (v, d); ids (m); errors (SEQ4J_CUDA_ERROR_INTS), as in every kernel below that takes it */
int seq4j_cuda_embedding_forward(float *out, int32_t *errors, const float *W, const int32_t *ids, int m, int v,
                                 int d, void *stream);
/* dW (v, d) += scatter of dout (m, d) into rows ids (m); each id's rows added one after another in row order
 * from dW's value (a stable sort by id, then one thread per id and column), as the reference does: the same bits
 * on every run and backend. Takes 16 m bytes and CUB's sort storage from CUDA's stream-ordered pool for the call
 * (cudaErrorMemoryAllocation, returned before anything is queued, when there is none to be had). */
int seq4j_cuda_embedding_backward(float *dW, int32_t *errors, const int32_t *ids, const float *dout, int m, int v,
                                  int d, void *stream);

/* ---- losses ------------------------------------------------------------------------------------- */

/* probs (m, v) = softmax(logits (m, v)), one block per row; loss (1) = mean over the rows whose label is
 * in [0, v) of -log p[label]; rows labelled -1 are ignored, other labels outside [0, v) are ignored and
 * flagged in errors. scratch holds m doubles (each row's loss, in double as the CPU's; deterministic second pass).
 * probs may alias logits. */
int seq4j_cuda_softmax_xent_forward(float *probs, float *loss, int32_t *errors, double *scratch, const float *logits,
                                    const int32_t *labels, int m, int v, void *stream);
/* dlogits (m, v) = (probs - onehot) * dloss / count, 0 on ignored rows; may alias probs. count is the number
 * of labels in [0, v), counted by a first one-block pass into scratch (1 int). */
int seq4j_cuda_softmax_xent_backward(float *dlogits, int32_t *errors, int32_t *scratch, const float *probs,
                                     const int32_t *labels, float dloss, int m, int v, void *stream);

/* loss (1) = scale * sum((y - t)^2), summed in double; scratch holds SEQ4J_CUDA_REDUCE_BLOCKS doubles */
int seq4j_cuda_mse_forward(float *loss, double *scratch, const float *y, const float *t, int64_t n, float scale,
                           void *stream);
/* dy (n) = 2 * scale * (y - t) */
int seq4j_cuda_mse_backward(float *dy, const float *y, const float *t, int64_t n, float scale, void *stream);

/* ---- attention (hs time-major (t, n, hd)); one block per batch row n ---------------------------- */

/* a (n, t) = softmax_t(hs[t, n, :] . h[n, :]); h (n, hd) */
int seq4j_cuda_attention_weight_forward(float *a, const float *hs, const float *h, int t, int n, int hd,
                                        void *stream);
/* dhs (t, n, hd) +=; dh (n, hd) = ; from a (n, t), hs, h and da (n, t) */
int seq4j_cuda_attention_weight_backward(float *dhs, float *dh, const float *a, const float *hs, const float *h,
                                         const float *da, int t, int n, int hd, void *stream);
/* c (n, hd) = sum_t a[n, t] * hs[t, n, :] */
int seq4j_cuda_weight_sum_forward(float *c, const float *hs, const float *a, int t, int n, int hd, void *stream);
/* dhs (t, n, hd) +=; da (n, t) = hs[t, n, :] . dc[n, :]; from hs, a (n, t) and dc (n, hd) */
int seq4j_cuda_weight_sum_backward(float *dhs, float *da, const float *hs, const float *a, const float *dc,
                                   int t, int n, int hd, void *stream);

/* ---- dropout ------------------------------------------------------------------------------------ */

/* mask (n) = u(seed, i) >= ratio ? 1 / (1 - ratio) : 0, with u the SplitMix64 counter uniform of
 * org.seq4j.backend.CounterRandom (bit-identical on every backend). */
int seq4j_cuda_dropout_mask(float *mask, int64_t n, float ratio, uint64_t seed, void *stream);

/* ---- optimizers (one kernel per flat parameter buffer) ----------------------------------------- */

int seq4j_cuda_sgd_update(float *param, const float *grad, int64_t n, float lr, void *stream);
int seq4j_cuda_momentum_update(float *param, float *v, const float *grad, int64_t n, float lr, float momentum,
                               void *stream);
int seq4j_cuda_adagrad_update(float *param, float *h, const float *grad, int64_t n, float lr, float eps,
                              void *stream);
int seq4j_cuda_rmsprop_update(float *param, float *h, const float *grad, int64_t n, float lr, float decay, float eps,
                              void *stream);
/* The book's Adam with its bias correction in lr_t; with zero_grad != 0, grad = 0 in the same pass (grad must not
 * overlap param, m or v: checked in Java) */
int seq4j_cuda_adam_update(float *param, float *m, float *v, float *grad, int64_t n, float lr_t, float beta1,
                           float beta2, float eps, int zero_grad, void *stream);

/* ---- reductions --------------------------------------------------------------------------------- */

/* out (1) = sum of x^2, in double, deterministic; scratch holds SEQ4J_CUDA_REDUCE_BLOCKS doubles */
int seq4j_cuda_sum_of_squares(float *out, double *scratch, const float *x, int64_t n, void *stream);
/* ids (m) = argmax of each row of x (m, v); first on ties; one block per row */
int seq4j_cuda_argmax_rows(int32_t *ids, const float *x, int m, int v, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* SEQ4J_CUDA_H */
