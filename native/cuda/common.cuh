/*
 * common.cuh - what every seq4j .cu file shares: launch shapes, the return-the-launch-status
 * convention, and warp/block reductions. Not a public header: only the .cu files include it.
 */
#ifndef SEQ4J_CUDA_COMMON_CUH
#define SEQ4J_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "seq4j_cuda.h"

#define API extern "C" __attribute__((visibility("default")))

namespace seq4j {

/* Elementwise kernels: 256 threads, a grid-stride loop, and at most this many blocks (enough to fill
 * an H100 many times over; larger tensors loop). */
constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1 << 16;

inline cudaStream_t as_stream(void *s) { return static_cast<cudaStream_t>(s); }

inline unsigned blocks_for(int64_t n, int threads = kThreads) {
    int64_t b = (n + threads - 1) / threads;
    return static_cast<unsigned>(b < kMaxBlocks ? b : kMaxBlocks);
}

/* Threads per block for the one-block-per-row kernels: a power of two from 32 to 1024, about one
 * thread per element for short rows (the addition task's V = 13 gets one warp), 512 for long ones
 * (V = 10000: each thread walks about 20 elements, reads stay coalesced). */
inline int row_threads(int v) {
    int t = 32;
    while (t < v && t < 512) t <<= 1;
    return t;
}

/* Launch statuses. cudaGetLastError returns, and resets, the last error of any runtime call on this thread,
 * so every entry point first clears what an earlier call left there (that call reported it through its own
 * status), launches, and reads the status right after each launch, returning the first failure: a bad
 * configuration or a missing kernel image is then blamed on the kernel that caused it. A kernel that faulted
 * while running (an illegal address, say) leaves a sticky error that nothing clears: every later status
 * returns it, so the Java side words those codes as an earlier kernel's fault, and -Dseq4j.cuda.sync=true
 * synchronises after each launch to pin such a fault to its operation. */
inline void clear_stale_error() { (void)cudaGetLastError(); }
inline int launch_status() { return static_cast<int>(cudaGetLastError()); }

/* Returns from the entry point with the status of the launch just made, if it failed. */
#define SEQ4J_RETURN_IF_FAILED()                 \
    do {                                         \
        int launch_status_ = launch_status();    \
        if (launch_status_ != 0) return launch_status_; \
    } while (0)

__device__ __forceinline__ int64_t global_index() {
    return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ int64_t grid_stride() {
    return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

/* ---- reductions ---------------------------------------------------------------------------------- */

template <typename T>
__device__ __forceinline__ T warp_sum(T x) {
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

__device__ __forceinline__ float warp_max(float x) {
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}

/* Sum over the block, returned to every thread. Deterministic: a fixed tree for a fixed blockDim.
 * blockDim.x must be a multiple of 32; shared holds 32 values. Ends with a barrier, so it can be
 * called again straight away with the same shared array. */
template <typename T>
__device__ T block_sum(T x, T *shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_sum(x);
    if (lane == 0) shared[warp] = x;
    __syncthreads();
    T y = lane < warps ? shared[lane] : T(0);
    y = warp_sum(y);
    __syncthreads();
    return y;
}

__device__ inline float block_max(float x, float *shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_max(x);
    if (lane == 0) shared[warp] = x;
    __syncthreads();
    float y = lane < warps ? shared[lane] : -INFINITY;
    y = warp_max(y);
    __syncthreads();
    return y;
}

__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Records an out-of-range id or label in the error record of seq4j_cuda.h: the kernel's bit, and of all the offenders
 * met since the record was zeroed, the one at the lowest position (on a tie, between two launches, the earlier one),
 * with its value and bound, as the CPU's report_bad_id keeps the lowest position: the same report on every run. (The
 * first thread to claim the slot used to write it, so that which of several bad ids was named depended on the order
 * the threads ran in.)
 *
 * The slot's first int is a claim word, (key << 1) | busy with key = INT_MAX - position (>= 1: a smaller position
 * has a larger key; 0, the zeroed record, is below every key). An offender with a larger key than the word's takes
 * the word with busy set, writes value, position and bound, and clears busy; one that finds the word busy with a
 * smaller key waits for it (sm_70 and later schedule the threads of a warp independently, so the holder runs on). So
 * the three fields are always one offender's, the best one's once the kernel ends. Only offenders come here. */
__device__ inline void report_bad_id(int32_t *errors, int bit, int32_t value, int64_t position, int bound) {
    atomicOr(errors, bit);
    int k = __ffs(bit) - 1;  // bit 1 << k
    int32_t *slot = errors + 1 + 4 * k;
    unsigned *claim = reinterpret_cast<unsigned *>(slot);
    unsigned key = 0x7FFFFFFFu - static_cast<unsigned>(position);  // position < m <= INT_MAX
    for (;;) {
        unsigned seen = atomicAdd(claim, 0u);
        if ((seen >> 1) >= key) return;  // a lower (or the same, earlier) position holds the slot
        if ((seen & 1u) != 0) continue; // a higher position is writing its fields: wait, then take over
        if (atomicCAS(claim, seen, (key << 1) | 1u) == seen) break;
    }
    atomicExch(slot + 1, value);
    atomicExch(slot + 2, static_cast<int32_t>(position));
    atomicExch(slot + 3, bound);
    __threadfence();
    atomicExch(claim, key << 1);
}

}  // namespace seq4j

#endif /* SEQ4J_CUDA_COMMON_CUH */
