/*
 * recurrent.cu - the LSTM cell, fused (one kernel per step each way), and the embedding gather and
 * scatter-add that feed it.
 *
 * An LSTM step on the GPU is one cuBLAS GEMM for h_prev Wh (the x Wx projection of all T steps is one big
 * GEMM before the loop, done by the Java layer) plus one of these kernels: one thread per (row, unit)
 * reads its four gate pre-activations and c_prev and writes everything backward needs, so the step costs
 * one pass over (N, 4H) instead of the eight elementwise passes of an unfused implementation.
 */
#include <cub/device/device_radix_sort.cuh>

#include "common.cuh"

using namespace seq4j;

namespace {

/* ---- LSTM cell ---------------------------------------------------------------------------------- */

/* Thread k = (r, j) of (n, h). Gates row r is [f | g | i | o], each h wide: f at r*4h + j, g at + h,
 * i at + 2h, o at + 3h, so neighbouring threads touch neighbouring addresses in all four slices. */
__global__ void lstm_forward_kernel(float *__restrict__ h_next, float *__restrict__ c_next, float *__restrict__ gates,
                                    const float *__restrict__ c_prev, int n, int h) {
    int64_t total = static_cast<int64_t>(n) * h;
    for (int64_t k = global_index(); k < total; k += grid_stride()) {
        int64_t r = k / h, j = k % h;
        float *g0 = gates + r * 4 * h + j;
        float f = sigmoidf(g0[0]);
        float g = tanhf(g0[h]);
        float i = sigmoidf(g0[2 * h]);
        float o = sigmoidf(g0[3 * h]);
        g0[0] = f;
        g0[h] = g;
        g0[2 * h] = i;
        g0[3 * h] = o;
        float c = f * c_prev[k] + g * i;
        c_next[k] = c;
        h_next[k] = o * tanhf(c);
    }
}

/* forward: c = f c_prev + g i, h = o tanh(c). So with dh = dh_next (+ dh_carry) and ds = dL/dc through both paths:
 *   ds = dc_next + dh o (1 - tanh(c)^2),  dc_prev = ds f,
 *   df = ds c_prev,  dg = ds i,  di = ds g,  do = dh tanh(c),
 * each then through its activation's derivative: sigmoid' = y (1 - y), tanh' = 1 - y^2. */
__global__ void lstm_backward_kernel(float *__restrict__ dA, float *__restrict__ dc_prev,
                                     const float *__restrict__ gates, const float *__restrict__ c_next,
                                     const float *__restrict__ c_prev, const float *__restrict__ dh_next,
                                     const float *__restrict__ dh_carry, const float *__restrict__ dc_next, int n,
                                     int h) {
    int64_t total = static_cast<int64_t>(n) * h;
    for (int64_t k = global_index(); k < total; k += grid_stride()) {
        int64_t r = k / h, j = k % h;
        const float *g0 = gates + r * 4 * h + j;
        float *d0 = dA + r * 4 * h + j;
        float f = g0[0], g = g0[h], i = g0[2 * h], o = g0[3 * h];
        float tc = tanhf(c_next[k]);
        float dh = dh_carry != nullptr ? dh_next[k] + dh_carry[k] : dh_next[k];
        float ds = dc_next[k] + dh * o * (1.0f - tc * tc);
        d0[0] = ds * c_prev[k] * f * (1.0f - f);
        d0[h] = ds * i * (1.0f - g * g);
        d0[2 * h] = ds * g * i * (1.0f - i);
        d0[3 * h] = dh * tc * o * (1.0f - o);
        dc_prev[k] = ds * f;
    }
}

/* ---- embedding ---------------------------------------------------------------------------------- */

/* Thread e = (r, j) of out (m, d). An id outside [0, v) gives a zero row and sets the error bit (one
 * thread per row sets it, j == 0) instead of reading outside W. */
__global__ void embedding_forward_kernel(float *__restrict__ out, int32_t *__restrict__ errors,
                                         const float *__restrict__ W, const int32_t *__restrict__ ids, int m, int v,
                                         int d) {
    int64_t total = static_cast<int64_t>(m) * d;
    for (int64_t e = global_index(); e < total; e += grid_stride()) {
        int64_t r = e / d, j = e % d;
        int32_t id = ids[r];
        if (id >= 0 && id < v) {
            out[e] = W[static_cast<int64_t>(id) * d + j];
        } else {
            out[e] = 0.0f;
            if (j == 0) report_bad_id(errors, SEQ4J_CUDA_ERR_EMBEDDING_FORWARD, id, r, v);
        }
    }
}

/* The scatter-add dW[ids[r]] += dout[r] is deterministic, and sums each id's rows in row order as the CPU
 * backends and the Java reference do (the same bits): the rows are sorted by id with CUB's stable radix sort, and
 * one thread per (run of equal ids, column) adds that run's rows one after another. (atomicAdd, the one-kernel
 * way, added them in whatever order the threads came, so that two identical training runs differed.)
 *
 * First the keys: an id in [0, v) is its own key; any other is reported (once per row, as the gather does) and
 * becomes v, whose run is skipped, so that the sort needs only the bits of [0, v] and no bad id splits a run. */
__global__ void embedding_keys_kernel(int32_t *__restrict__ keys, int32_t *__restrict__ rows, int32_t *__restrict__ errors,
                                      const int32_t *__restrict__ ids, int m, int v) {
    for (int64_t r = global_index(); r < m; r += grid_stride()) {
        int32_t id = ids[r];
        if (id < 0 || id >= v) {
            report_bad_id(errors, SEQ4J_CUDA_ERR_EMBEDDING_BACKWARD, id, r, v);
            id = v;
        }
        keys[r] = id;
        rows[r] = static_cast<int32_t>(r);
    }
}

/* Thread e = (p, j) of (m, d) over the sorted keys: the thread at the start of a run of equal keys adds the run's
 * rows of dout, in row order (the sort is stable), to its column j of dW[key]; the others return. Neighbouring
 * threads take neighbouring columns, so each row of dout is read in whole lines. The run's end is found first (a
 * binary search of the sorted keys: keys[q] == id exactly for q in [p, end)), so that the adding loop has a known
 * trip count and its loads of rows and dout go out several at a time ahead of the adds, which stay one after
 * another in row order: the same bits as a loop that tests keys[q] before each add, which waited for one load
 * after another (a run of m rows, every id equal, took m memory latencies per column). */
__global__ void embedding_runs_kernel(float *__restrict__ dW, const int32_t *__restrict__ keys,
                                      const int32_t *__restrict__ rows, const float *__restrict__ dout, int m, int v,
                                      int d) {
    int64_t total = static_cast<int64_t>(m) * d;
    for (int64_t e = global_index(); e < total; e += grid_stride()) {
        int64_t p = e / d, j = e % d;
        int32_t id = keys[p];
        if (id == v || (p > 0 && keys[p - 1] == id)) continue;
        int64_t lo = p + 1, hi = m;  // the end of the run is in [p + 1, m]
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (keys[mid] == id) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        float *out = dW + static_cast<int64_t>(id) * d + j;
        float acc = *out;
#pragma unroll 8
        for (int64_t q = p; q < lo; q++) acc += dout[static_cast<int64_t>(rows[q]) * d + j];
        *out = acc;
    }
}

/* d == 0: nothing to gather or add, but an id outside [0, v) is still misuse, reported as for d > 0 */
__global__ void check_ids_kernel(int32_t *__restrict__ errors, const int32_t *__restrict__ ids, int m, int v,
                                 int bit) {
    for (int64_t r = global_index(); r < m; r += grid_stride()) {
        int32_t id = ids[r];
        if (id < 0 || id >= v) report_bad_id(errors, bit, id, r, v);
    }
}

int check_ids_only(int32_t *errors, const int32_t *ids, int m, int v, int bit, cudaStream_t stream) {
    clear_stale_error();
    check_ids_kernel<<<blocks_for(m), kThreads, 0, stream>>>(errors, ids, m, v, bit);
    return launch_status();
}

}  // namespace

/* ---- entry points ------------------------------------------------------------------------------- */

API int seq4j_cuda_lstm_cell_forward(float *h_next, float *c_next, float *gates, const float *c_prev, int n, int h,
                                     void *stream) {
    int64_t total = static_cast<int64_t>(n) * h;
    if (total <= 0) return 0;
    clear_stale_error();
    lstm_forward_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(h_next, c_next, gates, c_prev, n, h);
    return launch_status();
}

API int seq4j_cuda_lstm_cell_backward(float *dA, float *dc_prev, const float *gates, const float *c_next,
                                      const float *c_prev, const float *dh_next, const float *dh_carry,
                                      const float *dc_next, int n, int h, void *stream) {
    int64_t total = static_cast<int64_t>(n) * h;
    if (total <= 0) return 0;
    clear_stale_error();
    lstm_backward_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(dA, dc_prev, gates, c_next, c_prev,
                                                                               dh_next, dh_carry, dc_next, n, h);
    return launch_status();
}

API int seq4j_cuda_embedding_forward(float *out, int32_t *errors, const float *W, const int32_t *ids, int m, int v,
                                     int d, void *stream) {
    int64_t total = static_cast<int64_t>(m) * d;
    if (m <= 0) return 0;
    if (d <= 0) return check_ids_only(errors, ids, m, v, SEQ4J_CUDA_ERR_EMBEDDING_FORWARD, as_stream(stream));
    clear_stale_error();
    embedding_forward_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(out, errors, W, ids, m, v, d);
    return launch_status();
}

API int seq4j_cuda_embedding_backward(float *dW, int32_t *errors, const int32_t *ids, const float *dout, int m, int v,
                                      int d, void *stream) {
    if (m <= 0) return 0;
    cudaStream_t s = as_stream(stream);
    if (d <= 0) return check_ids_only(errors, ids, m, v, SEQ4J_CUDA_ERR_EMBEDDING_BACKWARD, s);
    clear_stale_error();  // before CUB's size query too: nothing an earlier call left may be taken for its status
    int bits = 1;  // the keys run over [0, v]
    while (bits < 31 && (int64_t{1} << bits) <= v) bits++;
    // keys, sorted keys, rows, sorted rows (m int32 each, 256-byte aligned), then CUB's temporary storage: one
    // stream-ordered allocation from the device's default pool, freed in stream order after the last kernel (on a
    // device without stream-ordered pools, cudaMalloc, and cudaFree, which waits for the device, at the end). No
    // early return between the allocation and its free. Out of memory here is cudaErrorMemoryAllocation before
    // anything is queued: the Java side frees its own pool's cache and calls again.
    size_t part = (static_cast<size_t>(m) * sizeof(int32_t) + 255) & ~static_cast<size_t>(255);
    size_t sortBytes = 0;
    cudaError_t st = cub::DeviceRadixSort::SortPairs(nullptr, sortBytes, static_cast<const int32_t *>(nullptr),
                                                     static_cast<int32_t *>(nullptr), static_cast<const int32_t *>(nullptr),
                                                     static_cast<int32_t *>(nullptr), m, 0, bits, s);
    if (st != cudaSuccess) return static_cast<int>(st);
    char *buf = nullptr;
    bool pooled = true;
    st = cudaMallocAsync(reinterpret_cast<void **>(&buf), 4 * part + sortBytes, s);
    if (st == cudaErrorNotSupported) {
        clear_stale_error();
        pooled = false;
        st = cudaMalloc(reinterpret_cast<void **>(&buf), 4 * part + sortBytes);
    }
    if (st != cudaSuccess) return static_cast<int>(st);
    int32_t *keys = reinterpret_cast<int32_t *>(buf), *sortedKeys = reinterpret_cast<int32_t *>(buf + part);
    int32_t *rows = reinterpret_cast<int32_t *>(buf + 2 * part), *sortedRows = reinterpret_cast<int32_t *>(buf + 3 * part);
    int status = 0;
    embedding_keys_kernel<<<blocks_for(m), kThreads, 0, s>>>(keys, rows, errors, ids, m, v);
    status = launch_status();
    if (status == 0) {
        status = static_cast<int>(cub::DeviceRadixSort::SortPairs(buf + 4 * part, sortBytes, keys, sortedKeys, rows,
                                                                   sortedRows, m, 0, bits, s));
    }
    if (status == 0) {
        int64_t total = static_cast<int64_t>(m) * d;
        embedding_runs_kernel<<<blocks_for(total), kThreads, 0, s>>>(dW, sortedKeys, sortedRows, dout, m, v, d);
        status = launch_status();
    }
    cudaError_t freed = pooled ? cudaFreeAsync(buf, s) : cudaFree(buf);
    return status != 0 ? status : static_cast<int>(freed);
}
