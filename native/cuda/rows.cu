/*
 * rows.cu - the kernels that reduce: row-wise softmax, softmax + cross-entropy, argmax (one block per
 * row, block-level max and sum), and the whole-tensor sums of squares behind MSE and gradient clipping.
 *
 * Every reduction here is deterministic: a fixed tree for a fixed launch shape, and the launch shape
 * depends only on the sizes. Scalars that average over rows (the cross-entropy loss) or over all elements
 * (sum of squares) take a second one-block pass over per-row or per-block partials instead of atomics,
 * so the same inputs give the same bits on every run.
 */
#include "common.cuh"

using namespace seq4j;

namespace {

/* ---- softmax ------------------------------------------------------------------------------------ */

/* y (m, v) = softmax of each row of x; y may alias x (each element is read for the last time by the
 * thread that then writes it, after the block has agreed on max and sum). */
__global__ void softmax_forward_kernel(float *y, const float *x, int v) {
    __shared__ float shared[32];
    int64_t row = static_cast<int64_t>(blockIdx.x) * v;
    const float *xr = x + row;
    float *yr = y + row;
    float max = -INFINITY;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) max = fmaxf(max, xr[j]);
    max = block_max(max, shared);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) sum += expf(xr[j] - max);
    float inv = 1.0f / block_sum(sum, shared);
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) yr[j] = expf(xr[j] - max) * inv;
}

/* dx (m, v) = y * (dy - sum(y * dy)); dx may alias dy */
__global__ void softmax_backward_kernel(float *dx, const float *y, const float *dy, int v) {
    __shared__ float shared[32];
    int64_t row = static_cast<int64_t>(blockIdx.x) * v;
    float dot = 0.0f;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) dot += y[row + j] * dy[row + j];
    dot = block_sum(dot, shared);
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) dx[row + j] = y[row + j] * (dy[row + j] - dot);
}

/* ---- softmax + cross-entropy -------------------------------------------------------------------- */

__device__ __forceinline__ bool label_in_range(int32_t label, int v) { return label >= 0 && label < v; }

/* First pass, one block per row: probs = softmax(logits) and row_loss[r] = -log probs[label] computed as
 * log(sum exp(x - max)) - (x[label] - max), exact even where probs[label] underflows to 0. Ignored rows
 * (label -1, or out of range: flagged) get row_loss 0. x[label] is read before the barrier that precedes
 * any write, because probs may alias logits. The row loss is the difference of the float log and the float
 * x[label] - max taken in double and kept in double, as the CPU kernel and the Java reference do: rounding it to
 * float first (8 bytes a row saved on a scratch of m rows) made the mean differ from theirs in its last bits. */
__global__ void xent_rows_kernel(float *probs, double *__restrict__ row_loss, int32_t *__restrict__ errors,
                                 const float *logits, const int32_t *__restrict__ labels, int v) {
    __shared__ float shared[32];
    int r = blockIdx.x;
    int64_t row = static_cast<int64_t>(r) * v;
    const float *xr = logits + row;
    int32_t label = labels[r];
    bool valid = label_in_range(label, v);
    float x_label = valid ? xr[label] : 0.0f;  // every thread reads it: one cached load, no broadcast needed

    float max = -INFINITY;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) max = fmaxf(max, xr[j]);
    max = block_max(max, shared);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) sum += expf(xr[j] - max);
    sum = block_sum(sum, shared);  // ends with a barrier: every thread has read x_label and max
    float inv = 1.0f / sum;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) probs[row + j] = expf(xr[j] - max) * inv;

    if (threadIdx.x == 0) {
        row_loss[r] = valid ? static_cast<double>(logf(sum)) - static_cast<double>(x_label - max) : 0.0;
        if (!valid && label != -1) report_bad_id(errors, SEQ4J_CUDA_ERR_XENT_FORWARD, label, r, v);
    }
}

/* Second pass, one block: loss = sum(row_loss) / max(count, 1), summed in double in a fixed order. */
__global__ void __launch_bounds__(1024) xent_finish_kernel(float *__restrict__ loss, const double *__restrict__ row_loss,
                                                         const int32_t *__restrict__ labels, int m, int v) {
    __shared__ double shared_sum[32];
    __shared__ int shared_count[32];
    double total = 0.0;
    int count = 0;
    for (int64_t r = threadIdx.x; r < m; r += blockDim.x) {
        total += row_loss[r];
        count += label_in_range(labels[r], v);
    }
    total = block_sum(total, shared_sum);
    count = block_sum(count, shared_count);
    if (threadIdx.x == 0) loss[0] = static_cast<float>(total / (count > 0 ? count : 1));
}

/* count (1) = number of labels in [0, v): the divisor of the backward pass */
__global__ void __launch_bounds__(1024) count_labels_kernel(int32_t *__restrict__ count,
                                                          const int32_t *__restrict__ labels, int m, int v) {
    __shared__ int shared[32];
    int c = 0;
    for (int64_t r = threadIdx.x; r < m; r += blockDim.x) c += label_in_range(labels[r], v);
    c = block_sum(c, shared);
    if (threadIdx.x == 0) count[0] = c;
}

/* dlogits = (probs - onehot(label)) * dloss / count, 0 on ignored rows; may alias probs (each element is
 * read, then written, by one thread). */
__global__ void xent_backward_kernel(float *dlogits, int32_t *__restrict__ errors, const int32_t *__restrict__ count,
                                     const float *probs, const int32_t *__restrict__ labels, float dloss, int v) {
    int r = blockIdx.x;
    int64_t row = static_cast<int64_t>(r) * v;
    int32_t label = labels[r];
    if (!label_in_range(label, v)) {
        for (int64_t j = threadIdx.x; j < v; j += blockDim.x) dlogits[row + j] = 0.0f;
        if (threadIdx.x == 0 && label != -1) report_bad_id(errors, SEQ4J_CUDA_ERR_XENT_BACKWARD, label, r, v);
        return;
    }
    int c = count[0];
    float scale = dloss / static_cast<float>(c > 0 ? c : 1);
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
        dlogits[row + j] = (probs[row + j] - (j == label ? 1.0f : 0.0f)) * scale;
    }
}

/* ---- argmax ------------------------------------------------------------------------------------- */

/* ids[r] = the index of the largest value of row r, the smallest such index on ties. NaN as the reference's scan
 * (best = 0; best = j where x[j] > x[best]) has it: a NaN at 0 is the answer (nothing compares greater), a NaN
 * elsewhere never wins. So a row starting with NaN answers 0, and other rows the first maximum of their non-NaN
 * values. */
__global__ void argmax_rows_kernel(int32_t *__restrict__ ids, const float *__restrict__ x, int v) {
    __shared__ float shared_value[32];
    __shared__ int shared_index[32];
    int64_t row = static_cast<int64_t>(blockIdx.x) * v;
    if (isnan(x[row])) {  // the whole block takes this branch (before any barrier)
        if (threadIdx.x == 0) ids[blockIdx.x] = 0;
        return;
    }
    float best = -INFINITY;
    int best_j = v;  // beyond every real index, so any real element wins over it
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
        float xj = x[row + j];
        if (isnan(xj)) continue;  // never the answer once x[0] is a number
        if (xj > best || best_j == v) {  // ascending j within a thread: strict > keeps the first
            best = xj;
            best_j = static_cast<int>(j);  // j < v: an int
        }
    }
    // combine (value, index) pairs: larger value wins, then the smaller index
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, best, o);
        int oj = __shfl_xor_sync(0xffffffffu, best_j, o);
        if (ov > best || (ov == best && oj < best_j)) {
            best = ov;
            best_j = oj;
        }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) {
        shared_value[warp] = best;
        shared_index[warp] = best_j;
    }
    __syncthreads();
    if (warp == 0) {
        best = lane < warps ? shared_value[lane] : -INFINITY;
        best_j = lane < warps ? shared_index[lane] : v;
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, best, o);
            int oj = __shfl_xor_sync(0xffffffffu, best_j, o);
            if (ov > best || (ov == best && oj < best_j)) {
                best = ov;
                best_j = oj;
            }
        }
        // x[0] is a number, so some element was taken: best_j < v
        if (lane == 0) ids[blockIdx.x] = best_j < v ? best_j : 0;
    }
}

/* ---- whole-tensor sums of squares --------------------------------------------------------------- */

/* Stage 1: block b sums (scale_y * y[i] - t[i])^2 over its grid-stride share into partial[b], in double.
 * t == nullptr means t = 0 (sum of squares of y). */
__global__ void squares_partial_kernel(double *__restrict__ partial, const float *__restrict__ y,
                                       const float *__restrict__ t, int64_t n) {
    __shared__ double shared[32];
    double acc = 0.0;
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        double d = t == nullptr ? static_cast<double>(y[i]) : static_cast<double>(y[i]) - t[i];
        acc += d * d;
    }
    acc = block_sum(acc, shared);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

/* Stage 2, one block: out = scale * sum of the partials, in a fixed order. */
__global__ void __launch_bounds__(1024) squares_finish_kernel(float *__restrict__ out,
                                                            const double *__restrict__ partial, int blocks,
                                                            float scale) {
    __shared__ double shared[32];
    double acc = 0.0;
    for (int b = threadIdx.x; b < blocks; b += blockDim.x) acc += partial[b];
    acc = block_sum(acc, shared);
    if (threadIdx.x == 0) out[0] = static_cast<float>(static_cast<double>(scale) * acc);
}

/* Both stages; n == 0 still writes out = 0. */
int sum_squares(float *out, double *scratch, const float *y, const float *t, int64_t n, float scale,
                cudaStream_t stream) {
    int blocks = 0;
    clear_stale_error();
    if (n > 0) {
        int64_t b = (n + 4 * kThreads - 1) / (4 * kThreads);  // at least 4 elements per thread
        blocks = static_cast<int>(b < SEQ4J_CUDA_REDUCE_BLOCKS ? b : SEQ4J_CUDA_REDUCE_BLOCKS);
        squares_partial_kernel<<<blocks, kThreads, 0, stream>>>(scratch, y, t, n);
        SEQ4J_RETURN_IF_FAILED();
    }
    squares_finish_kernel<<<1, 1024, 0, stream>>>(out, scratch, blocks, scale);
    return launch_status();
}

}  // namespace

/* ---- entry points ------------------------------------------------------------------------------- */

API int seq4j_cuda_softmax_forward(float *y, const float *x, int m, int v, void *stream) {
    if (m <= 0 || v <= 0) return 0;
    clear_stale_error();
    softmax_forward_kernel<<<m, row_threads(v), 0, as_stream(stream)>>>(y, x, v);
    return launch_status();
}

API int seq4j_cuda_softmax_backward(float *dx, const float *y, const float *dy, int m, int v, void *stream) {
    if (m <= 0 || v <= 0) return 0;
    clear_stale_error();
    softmax_backward_kernel<<<m, row_threads(v), 0, as_stream(stream)>>>(dx, y, dy, v);
    return launch_status();
}

API int seq4j_cuda_softmax_xent_forward(float *probs, float *loss, int32_t *errors, double *scratch,
                                        const float *logits, const int32_t *labels, int m, int v, void *stream) {
    cudaStream_t s = as_stream(stream);
    // v == 0 still runs the row pass: every label is then out of range, so every row is ignored (and flagged)
    clear_stale_error();
    if (m > 0) {
        xent_rows_kernel<<<m, row_threads(v), 0, s>>>(probs, scratch, errors, logits, labels, v);
        SEQ4J_RETURN_IF_FAILED();
    }
    // m == 0 still runs the finish: loss = 0
    xent_finish_kernel<<<1, 1024, 0, s>>>(loss, scratch, labels, m, v);
    return launch_status();
}

API int seq4j_cuda_softmax_xent_backward(float *dlogits, int32_t *errors, int32_t *scratch, const float *probs,
                                         const int32_t *labels, float dloss, int m, int v, void *stream) {
    if (m <= 0) return 0;
    cudaStream_t s = as_stream(stream);
    clear_stale_error();
    count_labels_kernel<<<1, 1024, 0, s>>>(scratch, labels, m, v);
    SEQ4J_RETURN_IF_FAILED();
    xent_backward_kernel<<<m, row_threads(v), 0, s>>>(dlogits, errors, scratch, probs, labels, dloss, v);
    return launch_status();
}

API int seq4j_cuda_mse_forward(float *loss, double *scratch, const float *y, const float *t, int64_t n, float scale,
                               void *stream) {
    return sum_squares(loss, scratch, y, t, n, scale, as_stream(stream));
}

API int seq4j_cuda_sum_of_squares(float *out, double *scratch, const float *x, int64_t n, void *stream) {
    return sum_squares(out, scratch, x, nullptr, n, 1.0f, as_stream(stream));
}

API int seq4j_cuda_argmax_rows(int32_t *ids, const float *x, int m, int v, void *stream) {
    if (m <= 0 || v <= 0) return 0;
    clear_stale_error();
    argmax_rows_kernel<<<m, row_threads(v), 0, as_stream(stream)>>>(ids, x, v);
    return launch_status();
}
