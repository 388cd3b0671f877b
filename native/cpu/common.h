/*
 * common.h - what the C files of libseq4j_cpu share: the system headers, the clone machinery, the pool's entry points,
 * the kernels' argument records, the checked reading of ids, and the packed product's blocks that the sequence kernels
 * run. Internal: the library's contract is seq4j_cpu.h. Functions declared here are defined in the file each section
 * names; they are hidden from the library's users (-fvisibility=hidden), only the API functions are exported.
 */
#ifndef SEQ4J_CPU_COMMON_H
#define SEQ4J_CPU_COMMON_H

#define _GNU_SOURCE
#include "seq4j_cpu.h"

#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define API __attribute__((visibility("default")))
#define INLINE static inline __attribute__((always_inline))

/*
 * ---- clones -------------------------------------------------------------------------------------------
 * Each hot loop is written once, as the body of HOT_PART / HOT_FMA_PART / HOT_FN (an always-inline function),
 * and compiled three times on x86-64: for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the x86-64
 * baseline (SSE2). The clone is chosen once, when the library is loaded (choose_isa): the best this CPU runs,
 * or the one named by the environment variable SEQ4J_CPU_ISA=avx512|avx2|baseline (for tests, which run the
 * conformance suite on more than one clone; a clone the CPU cannot run is never chosen). Every call of a hot
 * function tests that choice once (a branch that is always taken the same way), then runs its clone.
 * GCC's own target_clones would pick the clone by itself, which cannot be overridden, hence this table.
 * On other architectures each function is compiled once, for the target's baseline.
 *
 * The v4 clone prefers 512-bit vectors (GCC's default tuning keeps 256-bit vectors even where AVX-512 is on),
 * except where 256-bit vectors measured faster (HOT_PART_256).
 * HOT_FMA_FN / HOT_FMA_PART: a*b + c contracted into one FMA where the clone has it (ISO C mode turns that off): for the
 * transcendental-heavy loops only (exp, sigmoid, tanh polynomials), which it makes about 1.4x faster while
 * rounding once instead of twice. Elsewhere every kernel rounds as the Java reference does, to the bit, in
 * every clone (no reassociation: sums run in the same order at every vector width).
 */
enum isa { ISA_BASELINE, ISA_AVX2, ISA_AVX512 };
extern enum isa cpu_isa; /* the clone that runs: set once, at load (choose_isa, library.c) */
#define FMA_OPT __attribute__((optimize("fp-contract=fast")))
#if defined(__x86_64__) && !defined(SEQ4J_NO_CLONES)
#define SEQ4J_X86_CLONES 1
#ifndef SEQ4J_V4_WIDTH
#define SEQ4J_V4_WIDTH "512"
#endif
#define TARGET_V4 __attribute__((target("arch=x86-64-v4,prefer-vector-width=" SEQ4J_V4_WIDTH)))
#define TARGET_V3 __attribute__((target("arch=x86-64-v3")))
#define TARGET_V4_256 __attribute__((target("arch=x86-64-v4,prefer-vector-width=256")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#define AVX2 __attribute__((target("avx2,fma")))
#define HOT_FN_(name, params, args, extra) HOT_FN_W(name, params, args, extra, TARGET_V4)
#define HOT_FN_W(name, params, args, extra, target_v4)                                                       \
    INLINE void name##_body params;                                                                         \
    static target_v4 extra void name##_v4 params { name##_body args; }                                      \
    static TARGET_V3 extra void name##_v3 params { name##_body args; }                                      \
    static extra void name##_v1 params { name##_body args; }                                                \
    static void name params {                                                                               \
        if (cpu_isa == ISA_AVX512) name##_v4 args;                                                          \
        else if (cpu_isa == ISA_AVX2) name##_v3 args;                                                       \
        else name##_v1 args;                                                                                \
    }                                                                                                       \
    INLINE void name##_body params
#else
#define HOT_FN_(name, params, args, extra) static extra void name params
#define HOT_FN_W(name, params, args, extra, target_v4) static extra void name params
#endif
/* HOT_FN(name, (parameters), (arguments)) { body } defines a void function `name` with its clones */
#define HOT_FN(name, params, args) HOT_FN_(name, params, args, )
#define HOT_FMA_FN(name, params, args) HOT_FN_(name, params, args, FMA_OPT)
/* the same for a part of a parallel_for: void name(const void *p, int64_t b, int64_t e) */
#define HOT_PART(name) HOT_FN(name, (const void *p, int64_t b, int64_t e), (p, b, e))
#define HOT_FMA_PART(name) HOT_FMA_FN(name, (const void *p, int64_t b, int64_t e), (p, b, e))
/* 256-bit vectors in the v4 clone as well, for the parts measured faster so on Zen 4 (one thread, bench/c/clones.sh):
 * those bound by vdivps and vsqrtps (Adam over 1M parameters: 1.3 ms against 1.9 ms with 512-bit vectors, on a
 * loaded machine) and memory-bound ones (embedding scatter-add 512x512 rows: 31.8 against 34.9 us; sigmoid
 * backward 1M: 185 against 201 us; softmax-xent backward 64x10000: 63 against 65 us; the two GRU backward kernels
 * 64x512: 9.7 against 12.5 us and 10.8 against 11.5 us) */
#define HOT_PART_256(name) HOT_FN_W(name, (const void *p, int64_t b, int64_t e), (p, b, e), , TARGET_V4_256)
#define HOT_FN_256(name, params, args) HOT_FN_W(name, params, args, , TARGET_V4_256)

/* ---- subnormals flushed to zero, for one part of a kernel ----------------------------------------------
 * The optimizers' state decays geometrically where a parameter's gradient stays 0 (an embedding row of a word absent
 * from the batches: Adam's m by 0.9 a step, v by 0.999; momentum's v, RMSprop's h) into the subnormal range (below
 * FLT_MIN, 1.18e-38), and rounding to nearest it never leaves it: once what a step takes off is below half the
 * smallest subnormal, the value stops (Adam's m at 4 x 2^-149, its v at 500 x 2^-149, momentum's v at 4 x 2^-149,
 * RMSprop's h at 50 x 2^-149). On Intel cores every operation with a subnormal input or result is a microcode assist
 * of ~100+ cycles: Adam over W1's 150,576 parameters took 1.57-1.60 ms with its state subnormal against 37 us (JMH
 * AdamStateBench, a Xeon with AVX-512, bench/RESULTS.md, twenty-fourth pass), at every step. So the optimizers' parts
 * run with subnormals flushed to zero (MXCSR's FTZ and DAZ bits on x86-64; FPCR.FZ on AArch64, which flushes inputs
 * and results alike), set as a part starts and put back as it ends, on the caller's thread as on the pool's: Java code
 * on the calling thread never runs with them set. The results are the reference's to the bit wherever no value is
 * subnormal; a subnormal input or result becomes 0: a difference below FLT_MIN in m, v or h, and, where a step's
 * numerator (g, lr * g, lr_t * m) is subnormal and the step is dropped, up to max(1, lr) * FLT_MIN / eps in a parameter
 * (Backend.java's optimizers section bounds it; ConformanceTest checks the bound). */
INLINE uint64_t flush_subnormals_begin(void) {
    uint64_t saved = 0;
#if defined(__x86_64__)
    saved = _mm_getcsr();
    _mm_setcsr((unsigned) saved | 0x8040u);  /* FTZ (bit 15) | DAZ (bit 6) */
#elif defined(__aarch64__)
    __asm__ volatile("mrs %0, fpcr" : "=r"(saved));
    __asm__ volatile("msr fpcr, %0" : : "r"(saved | (UINT64_C(1) << 24)));  /* FZ */
#endif
    __asm__ volatile("" : : : "memory");  /* no load of the part's data above this, nor store below the end */
    return saved;
}

INLINE void flush_subnormals_end(uint64_t saved) {
    __asm__ volatile("" : : : "memory");
#if defined(__x86_64__)
    _mm_setcsr((unsigned) saved);
#elif defined(__aarch64__)
    __asm__ volatile("msr fpcr, %0" : : "r"(saved));
#else
    (void) saved;
#endif
}

/* FLUSHED(part) defines part_flushed: part run with subnormals flushed (above), for a parallel_for */
#define FLUSHED(part)                                                                                        \
    static void part##_flushed(const void *p, int64_t b, int64_t e) {                                        \
        uint64_t saved = flush_subnormals_begin();                                                           \
        part(p, b, e);                                                                                       \
        flush_subnormals_end(saved);                                                                         \
    }

/* ---- threads (pool.c) ----------------------------------------------------------------------------- */

typedef void (*part_fn)(const void *args, int64_t begin, int64_t end);

/* part p of `parts` of [0, total), boundaries on multiples of align */
void part_range(int64_t total, int64_t align, int parts, int p, int64_t *begin, int64_t *end);
/* fn over [0, total) in parts, one a thread (parallel_for) or BALANCE a thread (parallel_for_balanced) */
void parallel_for(int threads, int64_t total, int64_t grain, int64_t align, part_fn fn, const void *args);
void parallel_for_balanced(int threads, int64_t total, int64_t grain, int64_t align, part_fn fn, const void *args);
/* fn(args, p, p + 1) for p = 0 .. team - 1 on team threads at once; 0 (nothing run) when the pool cannot */
int run_team(int team, part_fn fn, const void *args);
/* waits until every part of a team has arrived `round` times; says whether the part goes on as before (TEAM_ON),
 * alone with every unit (TEAM_ALONE: it waited too long for a late part) or not at all (TEAM_LEAVE) */
enum { TEAM_ON, TEAM_ALONE, TEAM_LEAVE };
struct team_sync {
    _Atomic int64_t arrived;     /* arrivals at barriers so far, and TEAM_SOLO once a late part ended the team */
    _Atomic int64_t alone_round; /* the highest round at which a part tried to end it (before setting TEAM_SOLO) */
};
int team_barrier(struct team_sync *sync, int team, int64_t round);
/* team_barrier for a part owning units [u0, u1) of h: 1 to leave; on TEAM_ALONE [u0, u1) becomes [0, h) */
int team_wait(struct team_sync *sync, int team, int64_t round, int64_t h, int64_t *u0, int64_t *u1);
/* whether a team ended by a late part lately (see team_barrier): few-row kernels then run on one thread */
int pool_contended(void);
/* how many teams a late part ended since the process started (for tests) */
int64_t pool_team_solos(void);
#ifdef SEQ4J_POOL_HOOKS
extern void (*pool_hook_barrier)(int64_t round, int after);
void pool_hook_forget_contention(void);
int64_t pool_hook_backoff_ns(void);
int64_t pool_hook_long_waits(void);
int pool_hook_late_at(int64_t t, int64_t length, int64_t *until);
int64_t pool_hook_debt_ns(int64_t t);
#endif
/* the CPUs this process may run on, as the pool counted them when it started (this starts it) */
int pool_cpus(void);
/* a core's L2 cache in bytes, as the C library reports it; 1 MiB where it cannot tell */
int64_t l2_bytes(void);

/* parts per thread of a balanced job (parallel_for_balanced) */
#define BALANCE 4
/* rows of w items each: a part should hold at least ~32K items (about 10 us of simple work) */
static inline int64_t row_grain(int64_t w) {
    int64_t g = 32768 / (w > 0 ? w : 1);
    return g > 1 ? g : 1;
}

#define ELEMENT_GRAIN 32768
#define ELEMENT_ALIGN 16 /* 64 bytes of floats: parts never share a cache line */

/* ---- the kernels' arguments ------------------------------------------------------------------------ */

/* Arguments of the flat kernels: outputs y*, inputs x*, scalars s*; each kernel's comment says which. */
struct ew_args {
    float *y, *y2, *y3, *y4;
    const float *x, *x2;
    int32_t *iy;
    float s0, s1, s2, s3;
    int32_t i0;
    uint64_t u0;
};

/* Arguments of the row-wise kernels: outputs y*, inputs x*, ids, scalar s0, dimensions; each says which. */
struct rows_args {
    float *y, *y2;
    const float *x, *x2, *x3, *x4, *x5;
    const int32_t *ids;
    _Atomic int64_t *bad; /* where kernels that index with ids report the first bad one */
    float s0;
    int m, n, t, h, v;
};

/* ---- ids (embedding.c) --------------------------------------------------------------------------- */
/*
 * Ids and labels live in memory that Java code may change between AbstractBackend's check and the kernel,
 * so every use of an id reads it once (an atomic load: the compiler may not read it again after the check),
 * checks that value, and skips the use if it is out of range. A kernel may use an id more than once (the
 * embedding scatter-add once per block of columns, the LSTM team once per part): each use reads, checks and
 * reports on its own, so a bad value is never skipped without a report. The first bad one (lowest position) is
 * kept in the call's status, SEQ4J_BAD_ID(position, id), whichever part found it.
 */
INLINE int32_t load_id(const int32_t *ids, int64_t i) {
    return __atomic_load_n(ids + i, __ATOMIC_RELAXED);
}

/* the first bad id, at its position, kept in *bad */
void report_bad_id(_Atomic int64_t *bad, int64_t position, int32_t id);
/* columns [c0, c0 + w) of rows [b, e) of y (row stride d) = those of rows ids[first + r] of x (v, d) */
void gather_columns(float *y, const float *x, const int32_t *ids, int64_t first, int64_t b, int64_t e, int64_t v,
                    size_t d, size_t c0, size_t w, _Atomic int64_t *bad);
/* rows [b, e) of y (row stride d) = rows ids[first + r] of x (v, d), whole */
void gather_rows(float *y, const float *x, const int32_t *ids, int64_t first, int64_t b, int64_t e, int64_t v, size_t d,
                 _Atomic int64_t *bad);

/* ---- packed weights (gemm.c) ----------------------------------------------------------------------- */

#define PANEL SEQ4J_PANEL

struct gemm_packed_args {
    float *c;
    const float *a;
    const void *b;
    int64_t m, n, k, lda, ldc;
    float beta;
    int bf16;
    int64_t ldb; /* 0: b packed, a as stored; > 0 (seq4j_gemm_tn, F32): b (k, n) row-major with this row stride, a
                  * stored (k, m) and read transposed */
    int ta;      /* with ldb 0 (seq4j_gemm_tn over its own pack of b, F32): a stored (k, m) and read transposed */
};

/* rows of a block for many rows, per clone: also what the sequence kernels align their parts to (seq_align), but for
 * v4. v4's blocks are 12 rows x 2 panels (24 accumulators of its 32 registers), then 8, 4, 2, 1 for what is left: each
 * row of a panel block read from L1 or L2 feeds 12 rows' FMAs instead of 8. Measured on the Intel Xeon (SPR-class)
 * VM, bench/c/build_ab.c against 8-row blocks (both with one sequence part a thread, seq_parallel), the same bits:
 * W1's pool-job kernels 0.959x the time, W2's sequence calls 0.894x, W4's weight gradients 0.949x, W4's encoder
 * sequence (seq:128:256:29) 0.975x; packed_bench 128 x 512 x 512 through seq4j_gemm_tn 226-262 against 259-305 us */
#define PK_MR_V4 12
#define PK_ALIGN_V4 8 /* v4's part alignment: a multiple of 8 rows ends in a block of 12, 8 or 4 rows (never 2 or 1) */
#define PK_MR_V3 6
#define PK_MR_AARCH64 6

/* the calling thread's scratch buffers (gemm.c): one per use, kept for the thread's next call and freed when it ends;
 * at least `bytes`, 64-byte aligned, contents not kept when it grows; NULL if memory is short */
enum scratch { SCRATCH_SUMS, SCRATCH_AMX_TILES, SCRATCHES };
void *thread_scratch(enum scratch which, size_t bytes);
/* the calling thread's scratch of MC x NC floats for partial sums, or NULL if memory is short */
#define MC 256
#define NC 512
INLINE float *thread_sums(void) {
    return thread_scratch(SCRATCH_SUMS, (size_t) MC * NC * sizeof(float));
}

/* panels [b, e) of a product (struct gemm_packed_args), in the clone that runs */
void gemm_packed_part(const void *p, int64_t b, int64_t e);
/* runs of panels [ranges[i][0], ranges[i][1]) of one product: gemm_packed_part on each, or on AMX at once */
void gemm_packed_ranges(const struct gemm_packed_args *g, const int64_t (*ranges)[2], int count);
#ifdef SEQ4J_X86_CLONES
/* amx.c: whether BF16 products run on AMX here (asked once), runs of panels of a BF16 product there, and what
 * seq4j_cpu_info says of it (NULL: nothing) */
int amx_bf16_ready(void);
int amx_bf16_ranges(const struct gemm_packed_args *g, const int64_t (*ranges)[2], int count); /* 0: not run */
const char *amx_note(void);
#endif
/* rows [b, e) of a product, all its panels */
void gemm_packed_rows_part(const void *p, int64_t b, int64_t e);

/* rows [b, e) of c (row stride ldc) = a (row stride lda) times the packed (k, cols) + beta c, all its panels */
INLINE void packed_rows(float *c, int64_t ldc, const float *a, int64_t lda, const void *w, int64_t b, int64_t e,
                        int64_t cols, int64_t k, float beta, int bf16) {
    struct gemm_packed_args g = {c, a, w, e, cols, k, lda, ldc, beta, bf16, 0, 0};
    gemm_packed_rows_part(&g, b, e);
}

/* ---- whole sequences (lstm.c, gru.c) -------------------------------------------------------------- */

/* rows per part: at least SEQ_ROWS, and on multiples of the clone's block of rows (seq_align), so that no part ends
 * in a partial block: on multiples of 8 the v3 clone (6-row blocks) ran every 16-row part as 6 + 6 + 4, a quarter of
 * W1's recurrent rows in 4 x 1 blocks (8 accumulators for 12: 18% slower a row, perf). v4 aligns to 8 (PK_ALIGN_V4):
 * aligned to its 12-row blocks, W1's 128 rows split unevenly (1.02x the time, build_ab w1). Parts a thread: see
 * seq_parallel */
#define SEQ_ROWS 8
int64_t seq_align(void);
/* Runs a sequence call's part function over its n rows (lstm.c): BALANCE parts a thread, or one where the packed
 * weights that every part reads whole at every step (weight_bytes) are more than half a core's L2 */
void seq_parallel(int threads, int64_t n, int64_t weight_bytes, part_fn fn, const void *args);

/* a cell kernel over n rows of h units (lstm.c): in parts of rows, or of units when there are few rows */
void cell_parallel(int threads, int64_t n, int64_t h, int64_t grain, part_fn rows, part_fn units, const void *args);
/* the team for a few-row forward split by units, or 0 for the per-step loop (lstm.c) */
int forward_team(int threads, int64_t n, int64_t h, int gates, int barriers, int bf16);

#endif
