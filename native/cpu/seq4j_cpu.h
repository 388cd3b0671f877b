/*
 * seq4j_cpu.h - the contract between seq4j's Java OpenBlasBackend and its C kernels.
 *
 * These are the fused elementwise kernels that BLAS does not provide: LSTM gates forward and
 * backward, activations, embedding gather and scatter-add, softmax with cross-entropy, MSE,
 * attention weights and weighted sums, dropout masks, optimizer updates and reductions. GEMM goes
 * to OpenBLAS directly. Each function here is the C twin of a method of org.seq4j.backend.Backend;
 * read that interface for the maths, and JavaBackend for the reference loops.
 *
 * What this file is not: a checked API for shapes. The Java side (AbstractBackend) validates every
 * shape and pointer extent before calling; these kernels trust them. Ids and labels are the exception:
 * memory (and so ids) can change between the Java check and the kernel, so every kernel that indexes
 * with them reads each id once, checks it, and never reads or writes out of bounds; it returns an
 * int64_t status: 0 when every id was in range, else SEQ4J_BAD_ID(position, id) of the first bad one
 * (lowest position), which it skipped. Every extent may be 0 (nothing is read or written, sums are 0).
 *
 * Grammar (llm.c's): outputs first, then values saved for backward, then inputs, then dimensions and
 * scalars. Every pointer names its shape in the comment. Time-major sequences: (T, N, F).
 * Outputs are written (=) unless marked +=.
 *
 * Build: C11, gcc, portable flags, never -march=native; on x86-64 hot loops are compiled three times
 * (x86-64-v4 with AVX-512, x86-64-v3 with AVX2/FMA, the baseline), one picked when the library loads
 * (SEQ4J_CPU_ISA=avx512|avx2|baseline forces one); linux-aarch64 is cross-compiled (NEON).
 */
#ifndef SEQ4J_CPU_H
#define SEQ4J_CPU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The status of a kernel that found ids[position] = id out of range: (position + 1) << 32 | (uint32) id,
 * so never 0; Java decodes position = (status >>> 32) - 1, id = (int) status. */
#define SEQ4J_BAD_ID(position, id) ((int64_t) (((uint64_t) (position) + 1) << 32 | (uint32_t) (id)))

/* ---- library ------------------------------------------------------------------------------------ */

/* A static string: version, compiler, and which instruction set the kernels dispatch to here. */
const char *seq4j_cpu_info(void);

/* ---- threads and GEMM ---------------------------------------------------------------------------- */
/*
 * Convention: every compute function takes `int threads` as its FIRST argument, like a handle: the calling
 * backend's thread count, 1..SEQ4J_MAX_THREADS (values outside are clamped). A kernel splits its output
 * into parts = f(its shapes, threads) contiguous parts, boundaries fixed by those alone, and runs them on
 * one process-wide pool (sized once at first use: CPUs - 1 workers, plus the caller; never resized).
 * Parts are claimed by whichever threads are free; when the pool is busy with another caller's job, the
 * caller runs all its parts itself, in order. Results therefore depend on the shapes and `threads` only,
 * never on what else runs in the process: bit-identical alone or concurrent. With a different `threads`,
 * only the order of float sums inside a GEMM part may differ; reductions use fixed blocks.
 * OpenBLAS itself is kept single-threaded (two spinning pools on the same cores slow each other down by
 * orders of magnitude). Kernels that read the threads argument but run serially say so.
 */
#define SEQ4J_MAX_THREADS 64

/* The number of pool workers (starting the pool if it has not started); the caller of a job also works.
 * The environment variable SEQ4J_POOL_WORKERS, read once at that start, overrides CPUs - 1. */
int seq4j_pool_workers(void);

/* Registers OpenBLAS's cblas_sgemm and cblas_sgemv, which seq4j_sgemm and seq4j_sgemv call per part. */
void seq4j_set_blas(void *cblas_sgemm, void *cblas_sgemv);

/* Row-major C (m, n) = alpha op(A) op(B) + beta C, cblas_sgemm's arguments without the order (CBLAS
 * transpose codes: 111 no, 112 yes), split by rows or columns of C across the pool. */
void seq4j_sgemm(int threads, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);

/* Row-major y = alpha op(A) x + beta y for A stored (rows, cols), split by outputs across the pool. */
void seq4j_sgemv(int threads, int trans, int rows, int cols, float alpha, const float *a, int lda,
                 const float *x, int incx,
                 float beta, float *y);

/* ---- packed weights (org.seq4j.backend.PackedMatrix) --------------------------------------------- */
/*
 * A weight matrix B (k, n) that many products x B read (the recurrent Wh of every time step) is packed once into
 * column panels of SEQ4J_PANEL columns: panel p holds columns [p SEQ4J_PANEL, (p + 1) SEQ4J_PANEL) of B, k-major,
 * element (kk, j) of the panel at p k SEQ4J_PANEL + kk SEQ4J_PANEL + j; the last panel is zero-padded. The
 * product then streams each panel straight into its registers, with no packing per call. F32 stores floats.
 * BF16 stores bfloat16 values (round to nearest even, NaN kept a quiet NaN: bit for bit PackedMatrix.roundToBf16)
 * in pairs of rows: panel p holds ceil(k / 2) rows of SEQ4J_PANEL 32-bit words, word (i, j) at
 * (p ceil(k / 2) + i) SEQ4J_PANEL + j holding row 2i of column j in its low half and row 2i + 1 in its high half
 * (0 past row k); the product turns a word into two floats with a shift and a mask (the layout vdpbf16ps reads,
 * too). Products take float32 a and accumulate in float32. Every extent may be 0; k, n >= 0 (the Java side
 * checked them and the storage's size).
 */
#define SEQ4J_PANEL 16
#define SEQ4J_PACKED_F32 0
#define SEQ4J_PACKED_BF16 1

/* The float32 elements (4-byte words) of storage a packed (k, n) matrix of this precision takes:
 * ceil(n / SEQ4J_PANEL) k SEQ4J_PANEL for F32, ceil(n / SEQ4J_PANEL) ceil(k / 2) SEQ4J_PANEL for BF16; -1 for a
 * negative extent or an unknown precision. */
int64_t seq4j_packed_floats(int k, int n, int precision);

/* dst (seq4j_packed_floats(k, n, precision) floats) = op(w) packed; w (k, n), or (n, k) when trans is 112
 * (CBLAS's transposed), row-major with row stride ldw (>= n, or >= k when transposed; a smaller one packs nothing:
 * the Java side refuses it). Split by panels across the pool. */
void seq4j_pack(int threads, void *dst, const float *w, int trans, int k, int n, int ldw, int precision);

/* c (m, n) = a^T b + beta c, a stored (k, m) with row stride lda (>= m), b (k, n) row-major with row stride ldb (>= n)
 * (sgemm's TN): seq4j_gemm_packed's blocks, bit for bit its result for a^T and b packed F32 (k = 0 gives c = beta c,
 * not read when beta = 0; m or n = 0 computes nothing; smaller strides compute nothing: the Java side refuses them).
 * Split by panels across the pool, or by rows where c has too few panels. b is read as stored, or first packed (to the
 * same bits) where n is not a multiple of 16, c has 256 rows or more and k more than 512, or (the v3 clone) c has 32
 * rows or more: into a buffer the process keeps, grown to the largest such pack up to 64 MiB (a call that finds it in
 * use packs into its own). A k of more than 512 rows is summed in slices that stay in cache, to the same bits as one
 * pass; each thread that runs a part of such a product keeps 512 KiB of scratch for the partial sums until it ends. */
void seq4j_gemm_tn(int threads, float *c, const float *a, const float *b, int m, int n, int k, int lda, int ldb,
                   int ldc, float beta);

/* Which of the packed kernels beat OpenBLAS on this CPU, so that a backend uses them: 3 for the x86-64-v4 clone
 * (seq4j_gemm_packed at a recurrent layer's shapes, seq4j_gemm_tn for the weight gradients, and both on any product
 * where OpenBLAS runs 256-bit kernels beside them), 2 for v3 (AVX2 + FMA: seq4j_gemm_packed, and seq4j_gemm_tn where
 * c is narrow or has few rows: OpenBlasBackend.gemmTnPays gives the figures), 0 for baseline x86-64 and aarch64 (not
 * measured): a backend then keeps B row-major and calls seq4j_sgemm. Figures in bench/RESULTS.md
 * (bench/c/packed_bench.c). The kernels are correct on every clone either way. */
int seq4j_packed_preferred(void);

/* c (m, n) = a (m, k) B + beta c, B packed by seq4j_pack with the same (k, n, precision); a and c row-major with
 * row strides lda (>= max(1, k)) and ldc (>= n; smaller ones compute nothing: the Java side refuses them); with
 * beta = 0, c is not read. Split by panels across the pool (parts fixed by m, n, k and threads), so each thread reads the same
 * columns of B at every call; by rows where c has too few panels for two parts. */
void seq4j_gemm_packed(int threads, float *c, const float *a, const void *b, int m, int n, int k, int lda, int ldc,
                       float beta, int precision);

/* ---- elementwise -------------------------------------------------------------------------------- */

void seq4j_fill_f32(int threads, float *x /* (n) */, int64_t n, float value);
void seq4j_fill_i32(int threads, int32_t *x /* (n) */, int64_t n, int32_t value);
void seq4j_scale(int threads, float *x /* (n) */, int64_t n, float alpha);                     /* x *= alpha */
void seq4j_axpy(int threads, float *y /* (n) += */, const float *x /* (n) */, int64_t n, float alpha);
void seq4j_mul(int threads, float *out /* (n), may alias a or b */, const float *a, const float *b, int64_t n);

/* out (t, n, f) = in (n, t, f); 4-byte elements of any type. Serial, like the two below. */
void seq4j_swap_axes01(int threads, int32_t *out, const int32_t *in, int n, int t, int f);

/* out (m, f1+f2) = [a (m, f1) | b (m, f2)] */
void seq4j_concat_columns(int threads, float *out, const float *a, const float *b, int m, int f1, int f2);
/* da (m, f1) = dout[:, :f1], db (m, f2) = dout[:, f1:], dout (m, f1+f2) */
void seq4j_split_columns(int threads, float *da, float *db, const float *dout, int m, int f1, int f2);

/* ---- bias and row sums -------------------------------------------------------------------------- */

void seq4j_add_bias(int threads, float *y /* (m, n) += */, const float *b /* (n) */, int m, int n);
/* out (n) = beta * out + sum over rows of x (m, n) */
void seq4j_sum_rows(int threads, float *out, const float *x, float beta, int m, int n);

/* ---- activations (y may alias x, dx may alias dy) ---------------------------------------------- */

void seq4j_sigmoid_forward(int threads, float *y, const float *x, int64_t n);
void seq4j_sigmoid_backward(int threads, float *dx, const float *y, const float *dy, int64_t n);
void seq4j_tanh_forward(int threads, float *y, const float *x, int64_t n);
void seq4j_tanh_backward(int threads, float *dx, const float *y, const float *dy, int64_t n);
void seq4j_softmax_forward(int threads, float *y /* (m, v) */, const float *x /* (m, v) */, int m, int v);
void seq4j_softmax_backward(int threads, float *dx /* (m, v) */, const float *y, const float *dy, int m, int v);

/* ---- LSTM cell (gates sliced f, g, i, o as in the book) ---------------------------------------- */

/* gates (n, 4h): in, pre-activation A = x Wx + h_prev Wh + b; out, activated sigmoid(f), tanh(g),
 * sigmoid(i), sigmoid(o). c_next (n, h) = f * c_prev + g * i; h_next (n, h) = o * tanh(c_next). */
void seq4j_lstm_cell_forward(int threads, float *h_next, float *c_next, float *gates, const float *c_prev,
                             int n, int h);

/* dA (n, 4h) and dc_prev (n, h; a separate buffer from dc_next) from the saved gates (n, 4h), c_next and c_prev
 * (n, h), and the incoming dh_next + dh_carry and dc_next (n, h). dh_carry may be NULL (then dh = dh_next): a
 * time loop passes the step's output gradient and the one carried back from the next step separately. */
void seq4j_lstm_cell_backward(int threads, float *dA, float *dc_prev, const float *gates, const float *c_next,
                              const float *c_prev, const float *dh_next, const float *dh_carry, const float *dc_next,
                              int n, int h);

/* The LSTM recurrence over t steps as one call, bit for bit the loop of seq4j_gemm_packed and the cell kernels above
 * (each part of the split runs whole rows through every step; up to 4 parts a thread, claimed as threads come
 * free, or one a thread where the packed Wh is more than half a core's L2; below 16 rows a team of threads, one part each, splits every step by hidden units and meets at its end, or
 * where it cannot have the pool's threads the per-step calls). Forward: gates (t, n, 4h) holds x Wx + b on entry and
 * the activated gates on return; for each step s, gates_s += hs_s wh (skipped at s = 0 when skip_first: h_0 = 0),
 * then the cell writes hs_{s+1}, cs_{s+1}; hs and cs are (t + 1, n, h) with h_0, c_0 first. wh: Wh (h, 4h) packed
 * by seq4j_pack in `precision`. With a table (v, 4h), gates is only written: each step's rows are first set to rows
 * ids[s, r] of the table (ids (t, n); bit for bit seq4j_embedding_forward over all rows first, as each part gathers
 * its rows just before their product reads them); returns 0, or the first bad id as seq4j_embedding_forward does
 * (its rows zeroed). table NULL: ids and v are not read, returns 0. */
int64_t seq4j_lstm_forward_seq(int threads, float *hs, float *cs, float *gates, const void *wh, int t, int n, int h,
                               int skip_first, int precision, const float *table, const int32_t *ids, int v);

/* Backward of the forward above: dA (t, n, 4h) for every step from the forward's activated gates (t, n, 4h) and cs
 * (t + 1, n, h), the output gradients dhs (t, n, h) or, when dhs is NULL, dh_last (n, h) at the last step and zero
 * before it, and dc_last (n, h) at the last cell state (NULL: zero). Writes dh0 and dc0 (n, h), the gradients of
 * h_0 and c_0; dh0 NULL leaves out step 0's product (seq4j_gemm_packed of dA_0 and wht gives it later, the same
 * bits). wht: Wh^T (4h, h) packed in `precision`; work: 3 n h floats of scratch. No output overlaps another
 * argument (checked in Java). Split by rows from 16 rows on; fewer rows make the per-step calls above. */
void seq4j_lstm_backward_seq(int threads, float *dA, float *dh0, float *dc0, float *work, const float *gates,
                             const float *cs, const float *dhs, const float *dh_last, const float *dc_last,
                             const void *wht, int t, int n, int h, int precision);

/* ---- GRU cell (the book's appendix GRU, gates sliced z, r, h) ---------------------------------- */
/* z = sigmoid(x Wxz + h Whz + bz), r = sigmoid(x Wxr + h Whr + br), hhat = tanh(x Wxh + (r h) Whh + bh),
 * h_next = (1 - z) h + z hhat. A step: GEMM h Wh[:, :2h] into gates[:, :2h]; seq4j_gru_gates_forward; GEMM
 * (r h) Whh into gates[:, 2h:]; seq4j_gru_cell_forward. Backward: seq4j_gru_cell_backward; GEMM
 * drh = dA[:, 2h:] Whh^T; seq4j_gru_gates_backward; GEMM dh_prev += dA[:, :2h] Wh[:, :2h]^T. No output
 * overlaps another argument (checked in Java). */

/* gates (n, 3h): columns [0, 2h) in, pre-activations of z, r; out, sigmoid of them; [2h, 3h) untouched.
 * rh (n, h) = r * h_prev (n, h). */
void seq4j_gru_gates_forward(int threads, float *rh, float *gates, const float *h_prev, int n, int h);

/* gates (n, 3h): columns [2h, 3h) in, the candidate's pre-activation; out, hhat = its tanh. [0, 2h) hold z, r.
 * h_next (n, h) = (1 - z) h_prev + z hhat. */
void seq4j_gru_cell_forward(int threads, float *h_next, float *gates, const float *h_prev, int n, int h);

/* dA (n, 3h): columns [0, h) = dh_next (hhat - h_prev) z (1 - z), [2h, 3h) = dh_next z (1 - hhat^2); [h, 2h)
 * untouched. gates (n, 3h) activated, h_prev and dh_next (n, h). */
void seq4j_gru_cell_backward(int threads, float *dA, const float *gates, const float *h_prev,
                             const float *dh_next, int n, int h);

/* dA (n, 3h): columns [h, 2h) = drh h_prev r (1 - r), the rest untouched; dh_prev (n, h) += dh_next (1 - z)
 * + drh r. gates (n, 3h) activated; h_prev, dh_next, drh (n, h), drh = dA[:, 2h:] Whh^T. */
void seq4j_gru_gates_backward(int threads, float *dA, float *dh_prev, const float *gates, const float *h_prev,
                              const float *dh_next, const float *drh, int n, int h);

/* The GRU recurrence over t steps as one call, bit for bit the loop of the step above (seq4j_gemm_packed at row stride
 * 3h and the two forward kernels): hs (t + 1, n, h), h_0 in hs[0] (read), h_1 .. h_t written; gates (t, n, 3h), the
 * input projections on entry, the activated gates (z, r, hhat) on return; rhs (t, n, h), r h_prev of every step,
 * written. zr: Wh[:, :2h] (h, 2h), hh: Whh (h, h), both packed by seq4j_pack in `precision`. skip_first: step 0 adds
 * no products (h_0 = 0). With n >= 16 the rows are split in parts, each run through every step by one thread; with
 * fewer a team of threads may split every step by hidden units, meeting after the gates and after the cell. */
void seq4j_gru_forward_seq(int threads, float *hs, float *gates, float *rhs, const void *zr, const void *hh, int t,
                           int n, int h, int skip_first, int precision);

/* The GRU backward over t steps as one call, bit for bit the per-step loop (dh0 = 0; for s = t-1 .. 0:
 * seq4j_gru_cell_backward; drh = dA[:, 2h:] Whh^T; seq4j_gru_gates_backward into dh_prev; dh_prev += dA[:, :2h]
 * Wh[:, :2h]^T, dh_prev being dhs[s-1], or dh0 at s = 0). dA (t, n, 3h) written; dh0 (n, h) written; dhs (t, n, h):
 * each step's output gradient on entry, overwritten (on return dhs[s] holds the whole gradient of h_{s+1}); drh (n, h)
 * work; gates (t, n, 3h) the forward's activated gates; hs (t + 1, n, h) the forward's states (h_0 .. h_t). zrt:
 * Wh[:, :2h]^T (2h, h), hht: Whh^T (h, h), both packed by seq4j_pack in `precision`. */
void seq4j_gru_backward_seq(int threads, float *dA, float *dh0, float *dhs, float *drh, const float *gates,
                            const float *hs, const void *zrt, const void *hht, int t, int n, int h, int precision);

/* ---- embedding ---------------------------------------------------------------------------------- */

/* out (m, d) = W[ids]; W (v, d); ids (m) in [0, v): a row with a bad id is zeroed and reported */
int64_t seq4j_embedding_forward(int threads, float *out, const float *W, const int32_t *ids, int m, int v, int d);
/* dW (v, d) += scatter of dout (m, d) into rows ids (m); duplicates summed in the order of the ids; bad ids skipped and
 * reported. Split by columns; where it is split and m >= v, each thread sums its columns of dW in its scratch (the
 * 512 KiB seq4j_gemm_tn's slices use, kept until the thread ends), to the same bits. */
int64_t seq4j_embedding_backward(int threads, float *dW, const int32_t *ids, const float *dout, int m, int v, int d);

/* ---- losses ------------------------------------------------------------------------------------- */

/* probs (m, v) = softmax(logits (m, v)); loss (1) = mean over rows with label != -1 of -log p[label]
 * (0 when there are none). labels (m) in [0, v) or -1; a bad label counts as ignored and is reported.
 * probs may alias logits. */
int64_t seq4j_softmax_xent_forward(int threads, float *probs, float *loss, const float *logits,
                                   const int32_t *labels, int m, int v);
/* dlogits (m, v) = (probs - onehot) * dloss / count, 0 on ignored rows and on rows with a bad label
 * (reported); may alias probs. */
int64_t seq4j_softmax_xent_backward(int threads, float *dlogits, const float *probs, const int32_t *labels,
                                    float dloss, int m, int v);

/* loss (1) = scale * sum((y - t)^2) */
void seq4j_mse_forward(int threads, float *loss, const float *y, const float *t, int64_t n, float scale);
/* dy (n) = 2 * scale * (y - t) */
void seq4j_mse_backward(int threads, float *dy, const float *y, const float *t, int64_t n, float scale);

/* ---- attention (hs time-major (t, n, hd)) ------------------------------------------------------- */

/* a (n, t) = softmax_t(hs[t, n, :] . h[n, :]); h (n, hd) */
void seq4j_attention_weight_forward(int threads, float *a, const float *hs, const float *h, int t, int n, int hd);
/* dhs (t, n, hd) +=; dh (n, hd) = */
void seq4j_attention_weight_backward(int threads, float *dhs, float *dh, const float *a, const float *hs,
                                     const float *h,
                                     const float *da, int t, int n, int hd);
/* c (n, hd) = sum_t a[n, t] * hs[t, n, :] */
void seq4j_weight_sum_forward(int threads, float *c, const float *hs, const float *a, int t, int n, int hd);
/* dhs (t, n, hd) +=; da (n, t) = */
void seq4j_weight_sum_backward(int threads, float *dhs, float *da, const float *hs, const float *a, const float *dc,
                               int t, int n, int hd);
/* TimeAttention over td decoder steps in one call, the same bits as the per-step loop of attention weight and
 * weighted sum: a (td, n, t) and c (td, n, hd) =, hs (t, n, hd) the encoder states, hdec (td, n, hd) */
void seq4j_time_attention_forward(int threads, float *a, float *c, const float *hs, const float *hdec, int t, int td,
                                  int n, int hd);
/* its backward, the same bits as the per-step loop from zero: dhs (t, n, hd) = (written, not accumulated),
 * ddec (td, n, hd) =, work (n, t) scratch; dc (td, n, hd) the contexts' gradients */
void seq4j_time_attention_backward(int threads, float *dhs, float *ddec, float *work, const float *a, const float *hs,
                                   const float *hdec, const float *dc, int t, int td, int n, int hd);

/* ---- dropout ------------------------------------------------------------------------------------ */

/* mask (n) = u(seed, i) >= ratio ? 1 / (1 - ratio) : 0, with u the SplitMix64 counter uniform of
 * org.seq4j.backend.CounterRandom (bit-identical on every backend). */
void seq4j_dropout_mask(int threads, float *mask, int64_t n, float ratio, uint64_t seed);

/* ---- optimizers (one call per flat parameter buffer) ------------------------------------------- */

void seq4j_sgd_update(int threads, float *param, const float *grad, int64_t n, float lr);
void seq4j_momentum_update(int threads, float *param, float *v, const float *grad, int64_t n, float lr, float momentum);
void seq4j_adagrad_update(int threads, float *param, float *h, const float *grad, int64_t n, float lr, float eps);
void seq4j_rmsprop_update(int threads, float *param, float *h, const float *grad, int64_t n, float lr,
                          float decay, float eps);
/* The book's Adam with its bias correction in lr_t; with zero_grad != 0, grad = 0 in the same pass (grad must not
 * overlap param, m or v: checked in Java) */
void seq4j_adam_update(int threads, float *param, float *m, float *v, float *grad, int64_t n, float lr_t, float beta1,
                       float beta2, float eps, int zero_grad);

/* ---- reductions --------------------------------------------------------------------------------- */

/* out (1) = sum of x^2, accumulated in double */
void seq4j_sum_of_squares(int threads, float *out, const float *x, int64_t n);
/* ids (m) = argmax of each row of x (m, v); first on ties; 0 when v = 0. Serial. */
void seq4j_argmax_rows(int threads, int32_t *ids, const float *x, int m, int v);

#ifdef __cplusplus
}
#endif

#endif /* SEQ4J_CPU_H */
