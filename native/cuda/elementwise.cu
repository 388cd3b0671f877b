/*
 * elementwise.cu - the memory-bound kernels of seq4j_cuda.h: fills, axpy and friends, layout
 * shuffles, bias, row sums, activations, dropout masks and the optimizer updates.
 *
 * One thread per element in a grid-stride loop; every access is coalesced (neighbouring threads touch
 * neighbouring addresses). The optimizers are one fused kernel each, so an Adam step over a flat
 * parameter buffer reads param, m, v, grad once and writes param, m, v once (and grad, zeroed, where asked).
 */
#include "common.cuh"

/* the Makefile passes the -gencode list it compiled for; a bare nvcc call still compiles */
#ifndef SEQ4J_CUDA_ARCHS
#define SEQ4J_CUDA_ARCHS "unknown architectures"
#endif

using namespace seq4j;

namespace {

/* ---- elementwise -------------------------------------------------------------------------------- */

template <typename T>
__global__ void fill_kernel(T *x, int64_t n, T value) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) x[i] = value;
}

__global__ void scale_kernel(float *x, int64_t n, float alpha) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) x[i] *= alpha;
}

__global__ void axpy_kernel(float *__restrict__ y, const float *__restrict__ x, int64_t n, float alpha) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) y[i] += alpha * x[i];
}

/* out may alias a or b: no __restrict__ */
__global__ void mul_kernel(float *out, const float *a, const float *b, int64_t n) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) out[i] = a[i] * b[i];
}

/* one thread per element of out (t, n, f); the source index follows from (ti, ni, fi) */
__global__ void swap_axes01_kernel(int32_t *__restrict__ out, const int32_t *__restrict__ in, int n, int t, int f) {
    int64_t total = static_cast<int64_t>(n) * t * f;
    for (int64_t o = global_index(); o < total; o += grid_stride()) {
        int64_t fi = o % f, rest = o / f;
        int64_t ni = rest % n, ti = rest / n;
        out[o] = in[(ni * t + ti) * f + fi];
    }
}

__global__ void concat_columns_kernel(float *__restrict__ out, const float *__restrict__ a,
                                      const float *__restrict__ b, int m, int f1, int f2) {
    int64_t w = static_cast<int64_t>(f1) + f2, total = w * m;
    for (int64_t o = global_index(); o < total; o += grid_stride()) {
        int64_t r = o / w, j = o % w;
        out[o] = j < f1 ? a[r * f1 + j] : b[r * f2 + (j - f1)];
    }
}

__global__ void split_columns_kernel(float *__restrict__ da, float *__restrict__ db, const float *__restrict__ dout,
                                     int m, int f1, int f2) {
    int64_t w = static_cast<int64_t>(f1) + f2, total = w * m;
    for (int64_t o = global_index(); o < total; o += grid_stride()) {
        int64_t r = o / w, j = o % w;
        if (j < f1) {
            da[r * f1 + j] = dout[o];
        } else {
            db[r * f2 + (j - f1)] = dout[o];
        }
    }
}

/* ---- bias and row sums -------------------------------------------------------------------------- */

__global__ void add_bias_kernel(float *__restrict__ y, const float *__restrict__ b, int m, int n) {
    int64_t total = static_cast<int64_t>(m) * n;
    for (int64_t i = global_index(); i < total; i += grid_stride()) y[i] += b[i % n];
}

/* Block (32, SUM_ROWS_Y): 32 adjacent columns (coalesced reads of each row), SUM_ROWS_Y row-groups that
 * each walk every SUM_ROWS_Y-th row, then a fixed-order sum of the row-groups in shared memory. Double
 * accumulators, like the C kernels: bias gradients sum thousands of rows. Deterministic. */
constexpr int SUM_ROWS_Y = 16;

__global__ void sum_rows_kernel(float *__restrict__ out, const float *__restrict__ x, float beta, int m, int n) {
    __shared__ double partial[SUM_ROWS_Y][33];
    int64_t j = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;  // n near 2^31: no int wrap past the end
    double acc = 0.0;
    if (j < n) {
        for (int64_t r = threadIdx.y; r < m; r += SUM_ROWS_Y) acc += x[r * n + j];  // r + 16 past INT_MAX: 64-bit
    }
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && j < n) {
        double sum = 0.0;
        for (int k = 0; k < SUM_ROWS_Y; k++) sum += partial[k][threadIdx.x];
        double old = beta == 0.0f ? 0.0 : static_cast<double>(beta) * out[j];  // beta 0 never reads out
        out[j] = static_cast<float>(old + sum);
    }
}

/* ---- activations -------------------------------------------------------------------------------- */

/* y may alias x, dx may alias dy: each element is read, then written, by one thread */
__global__ void sigmoid_forward_kernel(float *y, const float *x, int64_t n) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) y[i] = sigmoidf(x[i]);
}

__global__ void sigmoid_backward_kernel(float *dx, const float *y, const float *dy, int64_t n) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        float yi = y[i];
        dx[i] = dy[i] * yi * (1.0f - yi);
    }
}

__global__ void tanh_forward_kernel(float *y, const float *x, int64_t n) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) y[i] = tanhf(x[i]);
}

__global__ void tanh_backward_kernel(float *dx, const float *y, const float *dy, int64_t n) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        float yi = y[i];
        dx[i] = dy[i] * (1.0f - yi * yi);
    }
}

/* ---- MSE backward ------------------------------------------------------------------------------ */

__global__ void mse_backward_kernel(float *dy, const float *y, const float *t, int64_t n, float scale) {
    float s = 2.0f * scale;
    for (int64_t i = global_index(); i < n; i += grid_stride()) dy[i] = s * (y[i] - t[i]);
}

/* ---- dropout ------------------------------------------------------------------------------------ */

/* org.seq4j.backend.CounterRandom, line for line: SplitMix64 of seed + (i + 1) * golden gamma, top 24 bits.
 * Integer arithmetic wraps mod 2^64 as Java's long does; (z >> 40) < 2^24 converts to float exactly and the
 * scaling by 2^-24 is exact, so the value is bit-identical to Java's and C's. */
__device__ __forceinline__ float counter_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    return static_cast<float>(z >> 40) * 0x1.0p-24f;
}

__global__ void dropout_mask_kernel(float *mask, int64_t n, float ratio, uint64_t seed) {
    // 1 / (1 - ratio) rounded as Java's float division rounds it (IEEE round-to-nearest)
    float keep = __fdiv_rn(1.0f, 1.0f - ratio);
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        mask[i] = counter_uniform(seed, static_cast<uint64_t>(i)) >= ratio ? keep : 0.0f;
    }
}

/* ---- optimizers --------------------------------------------------------------------------------- */

__global__ void sgd_kernel(float *__restrict__ param, const float *__restrict__ grad, int64_t n, float lr) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) param[i] -= lr * grad[i];
}

__global__ void momentum_kernel(float *__restrict__ param, float *__restrict__ v, const float *__restrict__ grad,
                                int64_t n, float lr, float momentum) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        float vi = momentum * v[i] - lr * grad[i];
        v[i] = vi;
        param[i] += vi;
    }
}

__global__ void adagrad_kernel(float *__restrict__ param, float *__restrict__ h, const float *__restrict__ grad,
                               int64_t n, float lr, float eps) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        float g = grad[i];
        float hi = h[i] + g * g;
        h[i] = hi;
        param[i] -= lr * g / (sqrtf(hi) + eps);
    }
}

__global__ void rmsprop_kernel(float *__restrict__ param, float *__restrict__ h, const float *__restrict__ grad,
                               int64_t n, float lr, float decay, float eps) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        float g = grad[i];
        float hi = decay * h[i] + (1.0f - decay) * g * g;
        h[i] = hi;
        param[i] -= lr * g / (sqrtf(hi) + eps);
    }
}

/* the book's Adam, bias correction folded into lr_t by the caller; with zero_grad, each gradient is zeroed once read
 * (one pass over grad instead of the update's and a fill's) */
__global__ void adam_kernel(float *__restrict__ param, float *__restrict__ m, float *__restrict__ v,
                            float *__restrict__ grad, int64_t n, float lr_t, float beta1, float beta2, float eps,
                            int zero_grad) {
    for (int64_t i = global_index(); i < n; i += grid_stride()) {
        float g = grad[i];
        if (zero_grad) grad[i] = 0.0f;
        float mi = m[i] + (1.0f - beta1) * (g - m[i]);
        float vi = v[i] + (1.0f - beta2) * (g * g - v[i]);
        m[i] = mi;
        v[i] = vi;
        param[i] -= lr_t * mi / (sqrtf(vi) + eps);
    }
}

}  // namespace

/* ---- entry points: launch on the caller's stream, return the launch status -------------------- */

#define SEQ4J_STR2(x) #x
#define SEQ4J_STR(x) SEQ4J_STR2(x)

API const char *seq4j_cuda_info(void) {
    return "seq4j_cuda 0.1 (nvcc " SEQ4J_STR(__CUDACC_VER_MAJOR__) "." SEQ4J_STR(__CUDACC_VER_MINOR__)
           ", kernels for " SEQ4J_CUDA_ARCHS ")";
}

#define LAUNCH_1D(n, kernel, stream, ...)                                                   \
    do {                                                                                    \
        if ((n) <= 0) return 0; /* a grid of 0 blocks is a launch error: nothing to do */  \
        clear_stale_error();                                                                \
        kernel<<<blocks_for(n), kThreads, 0, as_stream(stream)>>>(__VA_ARGS__);             \
        return launch_status();                                                             \
    } while (0)

API int seq4j_cuda_fill_f32(float *x, int64_t n, float value, void *stream) {
    LAUNCH_1D(n, fill_kernel<float>, stream, x, n, value);
}

API int seq4j_cuda_fill_i32(int32_t *x, int64_t n, int32_t value, void *stream) {
    LAUNCH_1D(n, fill_kernel<int32_t>, stream, x, n, value);
}

API int seq4j_cuda_scale(float *x, int64_t n, float alpha, void *stream) {
    LAUNCH_1D(n, scale_kernel, stream, x, n, alpha);
}

API int seq4j_cuda_axpy(float *y, const float *x, int64_t n, float alpha, void *stream) {
    LAUNCH_1D(n, axpy_kernel, stream, y, x, n, alpha);
}

API int seq4j_cuda_mul(float *out, const float *a, const float *b, int64_t n, void *stream) {
    LAUNCH_1D(n, mul_kernel, stream, out, a, b, n);
}

API int seq4j_cuda_swap_axes01(int32_t *out, const int32_t *in, int n, int t, int f, void *stream) {
    LAUNCH_1D(static_cast<int64_t>(n) * t * f, swap_axes01_kernel, stream, out, in, n, t, f);
}

API int seq4j_cuda_concat_columns(float *out, const float *a, const float *b, int m, int f1, int f2, void *stream) {
    LAUNCH_1D(static_cast<int64_t>(m) * (static_cast<int64_t>(f1) + f2), concat_columns_kernel, stream, out, a, b, m, f1, f2);
}

API int seq4j_cuda_split_columns(float *da, float *db, const float *dout, int m, int f1, int f2, void *stream) {
    LAUNCH_1D(static_cast<int64_t>(m) * (static_cast<int64_t>(f1) + f2), split_columns_kernel, stream, da, db, dout, m, f1, f2);
}

API int seq4j_cuda_add_bias(float *y, const float *b, int m, int n, void *stream) {
    LAUNCH_1D(static_cast<int64_t>(m) * n, add_bias_kernel, stream, y, b, m, n);
}

API int seq4j_cuda_sum_rows(float *out, const float *x, float beta, int m, int n, void *stream) {
    if (n <= 0) return 0;
    // m == 0 still runs: out = beta * out
    dim3 block(32, SUM_ROWS_Y), grid(static_cast<unsigned>((static_cast<int64_t>(n) + 31) / 32));
    clear_stale_error();
    sum_rows_kernel<<<grid, block, 0, as_stream(stream)>>>(out, x, beta, m, n);
    return launch_status();
}

API int seq4j_cuda_sigmoid_forward(float *y, const float *x, int64_t n, void *stream) {
    LAUNCH_1D(n, sigmoid_forward_kernel, stream, y, x, n);
}

API int seq4j_cuda_sigmoid_backward(float *dx, const float *y, const float *dy, int64_t n, void *stream) {
    LAUNCH_1D(n, sigmoid_backward_kernel, stream, dx, y, dy, n);
}

API int seq4j_cuda_tanh_forward(float *y, const float *x, int64_t n, void *stream) {
    LAUNCH_1D(n, tanh_forward_kernel, stream, y, x, n);
}

API int seq4j_cuda_tanh_backward(float *dx, const float *y, const float *dy, int64_t n, void *stream) {
    LAUNCH_1D(n, tanh_backward_kernel, stream, dx, y, dy, n);
}

API int seq4j_cuda_mse_backward(float *dy, const float *y, const float *t, int64_t n, float scale, void *stream) {
    LAUNCH_1D(n, mse_backward_kernel, stream, dy, y, t, n, scale);
}

API int seq4j_cuda_dropout_mask(float *mask, int64_t n, float ratio, uint64_t seed, void *stream) {
    LAUNCH_1D(n, dropout_mask_kernel, stream, mask, n, ratio, seed);
}

API int seq4j_cuda_sgd_update(float *param, const float *grad, int64_t n, float lr, void *stream) {
    LAUNCH_1D(n, sgd_kernel, stream, param, grad, n, lr);
}

API int seq4j_cuda_momentum_update(float *param, float *v, const float *grad, int64_t n, float lr, float momentum,
                                   void *stream) {
    LAUNCH_1D(n, momentum_kernel, stream, param, v, grad, n, lr, momentum);
}

API int seq4j_cuda_adagrad_update(float *param, float *h, const float *grad, int64_t n, float lr, float eps,
                                  void *stream) {
    LAUNCH_1D(n, adagrad_kernel, stream, param, h, grad, n, lr, eps);
}

API int seq4j_cuda_rmsprop_update(float *param, float *h, const float *grad, int64_t n, float lr, float decay,
                                  float eps, void *stream) {
    LAUNCH_1D(n, rmsprop_kernel, stream, param, h, grad, n, lr, decay, eps);
}

API int seq4j_cuda_adam_update(float *param, float *m, float *v, float *grad, int64_t n, float lr_t, float beta1,
                               float beta2, float eps, int zero_grad, void *stream) {
    LAUNCH_1D(n, adam_kernel, stream, param, m, v, grad, n, lr_t, beta1, beta2, eps, zero_grad);
}
