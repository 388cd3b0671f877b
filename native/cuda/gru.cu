/*
 * gru.cu - the GRU cell of the book's appendix (gates sliced z, r, h), fused into two kernels each way.
 *
 *   z = sigmoid(x Wxz + h Whz + bz),  r = sigmoid(x Wxr + h Whr + br),
 *   hhat = tanh(x Wxh + (r h) Whh + bh),  h_next = (1 - z) h + z hhat.
 * The reset gate multiplies h before Whh, so a step needs r before the candidate's GEMM: cuBLAS GEMM
 * h Wh[:, :2h]; gates kernel (z, r, r h); cuBLAS GEMM (r h) Whh; cell kernel (hhat, h_next). Backward: cell
 * backward (dA_z, dA_h); GEMM drh = dA_h Whh^T; gates backward (dA_r, dh_prev +=); GEMM dh_prev += dA_zr Wh_zr^T.
 * One thread per (row, unit) of (n, h); rows of gates are [z | r | hhat], each h wide. The maths matches
 * native/cpu/gru.c and JavaBackend, the reference.
 */
#include "common.cuh"

using namespace seq4j;

namespace {

__global__ void gru_gates_forward_kernel(float *__restrict__ rh, float *__restrict__ gates,
                                         const float *__restrict__ h_prev, int n, int h) {
    int64_t total = static_cast<int64_t>(n) * h;
    for (int64_t k = global_index(); k < total; k += grid_stride()) {
        int64_t r = k / h, j = k % h;
        float *g0 = gates + r * 3 * h + j;
        float z = sigmoidf(g0[0]);
        float rg = sigmoidf(g0[h]);
        g0[0] = z;
        g0[h] = rg;
        rh[k] = rg * h_prev[k];
    }
}

__global__ void gru_cell_forward_kernel(float *__restrict__ h_next, float *__restrict__ gates,
                                        const float *__restrict__ h_prev, int n, int h) {
    int64_t total = static_cast<int64_t>(n) * h;
    for (int64_t k = global_index(); k < total; k += grid_stride()) {
        int64_t r = k / h, j = k % h;
        float *g0 = gates + r * 3 * h + j;
        float z = g0[0];
        float hh = tanhf(g0[2 * h]);
        g0[2 * h] = hh;
        h_next[k] = (1.0f - z) * h_prev[k] + z * hh;
    }
}

/* forward: h_next = (1 - z) h_prev + z hhat, so dz = dh (hhat - h_prev), dhhat = dh z; then the activations */
__global__ void gru_cell_backward_kernel(float *__restrict__ dA, const float *__restrict__ gates,
                                         const float *__restrict__ h_prev, const float *__restrict__ dh_next, int n,
                                         int h) {
    int64_t total = static_cast<int64_t>(n) * h;
    for (int64_t k = global_index(); k < total; k += grid_stride()) {
        int64_t r = k / h, j = k % h;
        const float *g0 = gates + r * 3 * h + j;
        float *d0 = dA + r * 3 * h + j;
        float z = g0[0], hh = g0[2 * h], dh = dh_next[k];
        d0[0] = dh * (hh - h_prev[k]) * z * (1.0f - z);
        d0[2 * h] = dh * z * (1.0f - hh * hh);
    }
}

/* forward: rh = r h_prev, so dr = drh h_prev and h_prev gets drh r, plus dh (1 - z) from h_next's blend */
__global__ void gru_gates_backward_kernel(float *__restrict__ dA, float *__restrict__ dh_prev,
                                          const float *__restrict__ gates, const float *__restrict__ h_prev,
                                          const float *__restrict__ dh_next, const float *__restrict__ drh, int n,
                                          int h) {
    int64_t total = static_cast<int64_t>(n) * h;
    for (int64_t k = global_index(); k < total; k += grid_stride()) {
        int64_t r = k / h, j = k % h;
        const float *g0 = gates + r * 3 * h + j;
        float z = g0[0], rg = g0[h], d = drh[k];
        dA[r * 3 * h + h + j] = d * h_prev[k] * rg * (1.0f - rg);
        dh_prev[k] = dh_prev[k] + (dh_next[k] * (1.0f - z) + d * rg);
    }
}

}  // namespace

/* ---- entry points ------------------------------------------------------------------------------- */

API int seq4j_cuda_gru_gates_forward(float *rh, float *gates, const float *h_prev, int n, int h, void *stream) {
    int64_t total = static_cast<int64_t>(n) * h;
    if (total <= 0) return 0;
    clear_stale_error();
    gru_gates_forward_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(rh, gates, h_prev, n, h);
    return launch_status();
}

API int seq4j_cuda_gru_cell_forward(float *h_next, float *gates, const float *h_prev, int n, int h, void *stream) {
    int64_t total = static_cast<int64_t>(n) * h;
    if (total <= 0) return 0;
    clear_stale_error();
    gru_cell_forward_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(h_next, gates, h_prev, n, h);
    return launch_status();
}

API int seq4j_cuda_gru_cell_backward(float *dA, const float *gates, const float *h_prev, const float *dh_next, int n,
                                     int h, void *stream) {
    int64_t total = static_cast<int64_t>(n) * h;
    if (total <= 0) return 0;
    clear_stale_error();
    gru_cell_backward_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(dA, gates, h_prev, dh_next, n, h);
    return launch_status();
}

API int seq4j_cuda_gru_gates_backward(float *dA, float *dh_prev, const float *gates, const float *h_prev,
                                      const float *dh_next, const float *drh, int n, int h, void *stream) {
    int64_t total = static_cast<int64_t>(n) * h;
    if (total <= 0) return 0;
    clear_stale_error();
    gru_gates_backward_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(dA, dh_prev, gates, h_prev,
                                                                                    dh_next, drh, n, h);
    return launch_status();
}
