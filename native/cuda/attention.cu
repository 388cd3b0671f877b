/*
 * attention.cu - the book's AttentionWeight and WeightSum, forward and backward, over time-major encoder
 * states hs (t, n, hd) and one decoder state per batch row: one block per batch row n.
 *
 * Work splits by what is contiguous: hs[s, r, :] is a contiguous run of hd floats, so dot products over
 * hd go to one warp each (lanes stride over hd, coalesced, then a warp shuffle sum), and outputs indexed
 * by hd go to threads striding over hd with a loop over s.
 */
#include "common.cuh"

using namespace seq4j;

namespace {

constexpr int kAttentionThreads = 256;  // 8 warps per batch row

__device__ __forceinline__ int64_t hs_row(int64_t s, int r, int n, int hd) {
    return (static_cast<int64_t>(s) * n + r) * hd;
}

/* The dot in double, for a warp's float sum that is not finite: products or partial sums past float's range (states
 * above ~1e19) can make +Inf + -Inf = NaN of a finite score, as the reference (summing in double) finds it. */
__device__ __noinline__ float dot_wide(const float *a, const float *b, int64_t n) {
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) sum += static_cast<double>(a[j]) * b[j];
    return static_cast<float>(sum);
}

/* a[r, :] = softmax over s of hs[s, r, :] . h[r, :]. The scores go straight into a (global memory: no
 * limit on t); the barrier inside block_max makes them visible to the whole block before the softmax. */
__global__ void attention_weight_forward_kernel(float *__restrict__ a, const float *__restrict__ hs,
                                                const float *__restrict__ h, int t, int n, int hd) {
    __shared__ float shared[32];
    int r = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    const float *hr = h + static_cast<int64_t>(r) * hd;
    float *ar = a + static_cast<int64_t>(r) * t;
    for (int64_t s = warp; s < t; s += warps) {
        const float *hss = hs + hs_row(s, r, n, hd);
        float dot = 0.0f;
        for (int64_t j = lane; j < hd; j += 32) dot += hss[j] * hr[j];
        dot = warp_sum(dot);
        if (lane == 0) ar[s] = isfinite(dot) ? dot : dot_wide(hss, hr, hd);
    }
    __syncthreads();
    float max = -INFINITY;
    for (int64_t s = threadIdx.x; s < t; s += blockDim.x) max = fmaxf(max, ar[s]);
    max = block_max(max, shared);
    float sum = 0.0f;
    for (int64_t s = threadIdx.x; s < t; s += blockDim.x) sum += expf(ar[s] - max);
    float inv = 1.0f / block_sum(sum, shared);
    for (int64_t s = threadIdx.x; s < t; s += blockDim.x) ar[s] = expf(ar[s] - max) * inv;
}

/* forward: score[s] = hs[s] . h, a = softmax(score). Backward through the softmax:
 *   ds[s] = a[s] (da[s] - sum_u a[u] da[u]);
 * and through the dot products: dhs[s, r, :] += ds[s] h[r, :], dh[r, :] = sum_s ds[s] hs[s, r, :].
 * Thread j of the block owns column j of both: no two threads write the same address. */
__global__ void attention_weight_backward_kernel(float *__restrict__ dhs, float *__restrict__ dh,
                                                 const float *__restrict__ a, const float *__restrict__ hs,
                                                 const float *__restrict__ h, const float *__restrict__ da, int t,
                                                 int n, int hd) {
    __shared__ float shared[32];
    int r = blockIdx.x;
    const float *ar = a + static_cast<int64_t>(r) * t, *dar = da + static_cast<int64_t>(r) * t;
    float dot = 0.0f;
    for (int64_t s = threadIdx.x; s < t; s += blockDim.x) dot += ar[s] * dar[s];
    dot = block_sum(dot, shared);
    const float *hr = h + static_cast<int64_t>(r) * hd;
    float *dhr = dh + static_cast<int64_t>(r) * hd;
    for (int64_t j = threadIdx.x; j < hd; j += blockDim.x) {
        float hj = hr[j], acc = 0.0f;
        for (int s = 0; s < t; s++) {
            float ds = ar[s] * (dar[s] - dot);  // a and da are t floats per row: cached after the first column
            int64_t k = hs_row(s, r, n, hd) + j;
            dhs[k] += ds * hj;
            acc += ds * hs[k];
        }
        dhr[j] = acc;
    }
}

/* c[r, j] = sum_s a[r, s] hs[s, r, j]: thread j of block r, a loop over s */
__global__ void weight_sum_forward_kernel(float *__restrict__ c, const float *__restrict__ hs,
                                          const float *__restrict__ a, int t, int n, int hd) {
    int r = blockIdx.x;
    const float *ar = a + static_cast<int64_t>(r) * t;
    for (int64_t j = threadIdx.x; j < hd; j += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < t; s++) acc += ar[s] * hs[hs_row(s, r, n, hd) + j];
        c[static_cast<int64_t>(r) * hd + j] = acc;
    }
}

/* forward: c = sum_s a[s] hs[s]. So dhs[s, r, :] += a[r, s] dc[r, :] and da[r, s] = hs[s, r, :] . dc[r, :]:
 * warp w takes s = w, w + warps, ...; its lanes stride over hd doing both, and the warp sums the dot. */
__global__ void weight_sum_backward_kernel(float *__restrict__ dhs, float *__restrict__ da,
                                           const float *__restrict__ hs, const float *__restrict__ a,
                                           const float *__restrict__ dc, int t, int n, int hd) {
    int r = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    const float *dcr = dc + static_cast<int64_t>(r) * hd;
    for (int64_t s = warp; s < t; s += warps) {
        int64_t base = hs_row(s, r, n, hd);
        float w = a[static_cast<int64_t>(r) * t + s];
        float dot = 0.0f;
        for (int64_t j = lane; j < hd; j += 32) {
            float dcj = dcr[j];
            dhs[base + j] += w * dcj;
            dot += hs[base + j] * dcj;
        }
        dot = warp_sum(dot);
        if (lane == 0) da[static_cast<int64_t>(r) * t + s] = isfinite(dot) ? dot : dot_wide(hs + base, dcr, hd);
    }
}

}  // namespace

/* ---- entry points ------------------------------------------------------------------------------- */

API int seq4j_cuda_attention_weight_forward(float *a, const float *hs, const float *h, int t, int n, int hd,
                                            void *stream) {
    if (n <= 0 || t <= 0) return 0;
    clear_stale_error();
    attention_weight_forward_kernel<<<n, kAttentionThreads, 0, as_stream(stream)>>>(a, hs, h, t, n, hd);
    return launch_status();
}

API int seq4j_cuda_attention_weight_backward(float *dhs, float *dh, const float *a, const float *hs, const float *h,
                                             const float *da, int t, int n, int hd, void *stream) {
    if (n <= 0 || hd <= 0) return 0;  // t == 0 still runs: dh = 0
    clear_stale_error();
    attention_weight_backward_kernel<<<n, kAttentionThreads, 0, as_stream(stream)>>>(dhs, dh, a, hs, h, da, t, n, hd);
    return launch_status();
}

API int seq4j_cuda_weight_sum_forward(float *c, const float *hs, const float *a, int t, int n, int hd, void *stream) {
    if (n <= 0 || hd <= 0) return 0;  // t == 0 still runs: c = 0
    clear_stale_error();
    weight_sum_forward_kernel<<<n, kAttentionThreads, 0, as_stream(stream)>>>(c, hs, a, t, n, hd);
    return launch_status();
}

API int seq4j_cuda_weight_sum_backward(float *dhs, float *da, const float *hs, const float *a, const float *dc, int t,
                                       int n, int hd, void *stream) {
    if (n <= 0 || t <= 0) return 0;
    clear_stale_error();
    weight_sum_backward_kernel<<<n, kAttentionThreads, 0, as_stream(stream)>>>(dhs, da, hs, a, dc, t, n, hd);
    return launch_status();
}
