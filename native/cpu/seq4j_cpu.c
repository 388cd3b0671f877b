/*
 * seq4j_cpu.c - the C kernels of seq4j_cpu.h: fused, single-pass, auto-vectorised loops, run on all cores.
 *
 * What this is: the CPU half of the kernel set that BLAS does not cover, one function per Backend
 * method, called from Java through FFM, plus the threading of all CPU work, GEMM included. What it is
 * not: shape checking (Java did that); ids and labels are checked here too, at use (see "ids"). The
 * maths of every kernel is stated in seq4j_cpu.h and in JavaBackend, the reference these loops are
 * tested against.
 *
 * Speed comes from (1) one pass per kernel (e.g. the four LSTM gates, the cell and the hidden state
 * in one loop), (2) a branch-free exp that the compiler vectorises (libm's expf does not vectorise
 * without -ffast-math), (3) each hot loop compiled three times, for x86-64-v4 (AVX-512), x86-64-v3
 * (AVX2 + FMA) and the x86-64 baseline, one of them chosen once at load (see "clones"), and (4) one
 * thread pool for all parallel work, described under "threads".
 */
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
static enum isa cpu_isa;       /* the clone that runs: set once, at load */
static const char *isa_note;   /* why it is not the best this CPU runs, or NULL */
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

/* SEQ4J_CPU_ISA, read once at load; the CPU is asked what it runs (cpuid, and whether the OS saves the
 * AVX-512 registers: libgcc's __builtin_cpu_supports checks both) */
__attribute__((constructor)) static void choose_isa(void) {
#ifdef SEQ4J_X86_CLONES
    __builtin_cpu_init();
    enum isa best = ISA_BASELINE;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")) {
        best = ISA_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
            best = ISA_AVX512;
        }
    }
    cpu_isa = best;
    const char *want = getenv("SEQ4J_CPU_ISA");
    if (want == NULL || want[0] == 0) return;
    enum isa asked;
    if (strcmp(want, "avx512") == 0) asked = ISA_AVX512;
    else if (strcmp(want, "avx2") == 0) asked = ISA_AVX2;
    else if (strcmp(want, "baseline") == 0) asked = ISA_BASELINE;
    else {
        isa_note = "; SEQ4J_CPU_ISA ignored: expected avx512, avx2 or baseline";
        return;
    }
    if (asked > best) {
        isa_note = "; SEQ4J_CPU_ISA asked for a clone this CPU cannot run";
        return;
    }
    cpu_isa = asked;
    if (asked < best) isa_note = " (forced by SEQ4J_CPU_ISA)";
#endif
}

/* ---- vectorisable transcendental functions ------------------------------------------------------ */

INLINE float bits_to_float(int32_t i) {
    union { int32_t i; float f; } u = { .i = i };
    return u.f;
}

/* exp(x) with about 1 ulp of error (Cephes' expf polynomial, Cody-Waite range reduction), branch-free.
 * x is clamped to [-87.3, 88.3] so that 2^n stays a normal float; NaN passes through as NaN. */
INLINE float s4_expf(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    /* n = round(x / ln 2) by the 1.5 * 2^23 trick, which needs no SSE4.1 round instruction */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return p * bits_to_float(((int32_t) n + 127) << 23);
}

INLINE float s4_sigmoid(float x) {
    return 1.0f / (1.0f + s4_expf(-x));
}

/* tanh(x): an odd polynomial for |x| < 0.625 (Cephes' tanhf), 1 - 2 / (exp(2|x|) + 1) beyond, with
 * the sign put back. Both sides are computed and one is selected, so the loop stays branch-free. */
INLINE float s4_tanhf(float x) {
    float ax = fabsf(x);
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                    + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float large = 1.0f - 2.0f / (s4_expf(2.0f * ax) + 1.0f);
    large = x < 0.0f ? -large : large;
    return ax < 0.625f ? small : large;
}


/* ---- threads ------------------------------------------------------------------------------------- */
/*
 * One pool of workers runs all parallel CPU work of seq4j, GEMM included. OpenBLAS is set to one thread:
 * two pools spinning on the same cores slow each other down by orders of magnitude (measured on 2 cores),
 * and a training step calls dozens of kernels back to back, so the workers must spin between calls to
 * answer in well under a microsecond. Workers spin for SPIN_NS after their last part, then sleep on a
 * futex until a job for them comes (see worker_main).
 *
 * The pool is process-wide and sized once, at its first job: one worker per CPU this process may run on,
 * less one (the caller works too), at most SEQ4J_MAX_THREADS - 1. It is never resized or stopped, so no
 * backend can change work that is already running.
 *
 * The split belongs to the call, not to the pool: every kernel takes the calling backend's thread count and
 * cuts its output into parts = f(shape, threads) contiguous parts whose boundaries depend on nothing else.
 * Each thread of the job (the caller is thread 0, worker i thread i) runs its own share of the parts first, the same
 * share of every job split the same way, then takes what is left of the others' from their ends (see run_parts); a
 * part's result depends only on its boundaries, never on the thread that ran it. One job runs at a time: a caller that
 * finds the pool busy (another Java thread, or a kernel calling a kernel) runs every part of its own split
 * itself, in order. So results are bit-identical alone or concurrent, with 1 worker or 63; only the speed
 * changes. (Reductions go further: fixed blocks summed in block order, independent of the split too.)
 */
typedef void (*part_fn)(const void *args, int64_t begin, int64_t end);

#define SPIN_NS 200000

/* The job word: generation (32 bits) | team (8) | parts (12). The team is the number of threads the job is for, its
 * caller included: workers 1 .. team - 1 help, the others leave it alone. Each part has a claim word, set to the
 * job's generation times two (unclaimed) before the job word is published, and claimed by a CAS to that plus one:
 * a worker that lags behind with an older job's word expects an older generation, which no claim word holds once
 * that job finished (all its parts were claimed), so it can never claim a part of a newer job with the older job's
 * arguments; and while a thread holds a part the job cannot finish, so the arguments it reads stay put.
 * (cpu/test/pool_lag.c holds a worker on a finished job's word on purpose and checks exactly that.) */
#define JOB_MAX_PARTS 4095
_Static_assert(SEQ4J_MAX_THREADS <= 0xff, "the job word's team holds a thread count");
#define JOB(gen, team, parts) (((uint64_t) (gen) << 32) | ((uint64_t) (team) << 24) | (uint64_t) (parts))
#define JOB_GEN(w) ((uint32_t) ((w) >> 32))
#define JOB_TEAM(w) ((int) (((w) >> 24) & 0xff))
#define JOB_PARTS(w) ((int) ((w) & 0xfff))

/* a worker's sleeping flag and futex word, one cache line each */
struct sleeper {
    _Atomic int asleep;
    _Atomic uint32_t wake; /* bumped to wake the worker */
    char pad[56];
};

static struct {
    int workers;          /* set once by start_pool, as is cpus: the CPUs this process may run on */
    int cpus;
    _Atomic uint64_t job; /* the current job's word; generation 0 = none yet */
    _Atomic int done;     /* parts of the current job finished */
    atomic_flag busy;     /* held by the caller whose job is in the pool */
    struct sleeper sleepers[SEQ4J_MAX_THREADS];
    _Atomic uint64_t claims[JOB_MAX_PARTS]; /* each part's claim word (see JOB) */
    /* the current job, written by its caller before the job word is published */
    part_fn fn;
    const void *args;
    int64_t total, align;
} pool = {.busy = ATOMIC_FLAG_INIT};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* part p of `parts` of [0, total), boundaries on multiples of align; where the blocks do not divide evenly the first
 * parts take one more, so that parts are claimed largest first and a balanced job ends on its smallest */
static void part_range(int64_t total, int64_t align, int parts, int p, int64_t *begin, int64_t *end) {
    int64_t blocks = (total + align - 1) / align, q = blocks / parts, extra = blocks % parts;
    *begin = (q * p + (p < extra ? p : extra)) * align;
    *end = p == parts - 1 ? total : (q * (p + 1) + (p + 1 < extra ? p + 1 : extra)) * align;
    if (*begin > total) *begin = total;
    if (*end > total) *end = total;
}

/* Claims part p of the job of generation gen: once, by one thread */
static int claim_part(int p, uint32_t gen) {
    uint64_t unclaimed = (uint64_t) gen << 1;
    return atomic_compare_exchange_strong_explicit(&pool.claims[p], &unclaimed, unclaimed | 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

/*
 * Thread `me` of the job whose word was `w` (the caller is 0, worker i is i): runs what it can claim of its own share
 * of the parts, [me parts / team, (me + 1) parts / team), in order, then of the other threads' shares, each from its
 * end. Where the threads keep up with each other each runs its own share, so the rows (or columns) a thread wrote in
 * one job are the ones it reads in the next job split the same way: on a CPU whose cores do not share a last-level
 * cache (a Zen 4/5 EPYC's CCDs, the two vCPUs of a VM placed on two of them) a line the other core wrote costs several
 * times a line of its own. A thread that falls behind leaves the end of its share to the others. Measured on the 2-vCPU
 * Zen 5 VM in a phase where its vCPUs sat on different CCDs (one-way core-to-core latency ~230 ns, a 0.75 MB read of
 * the other core's lines 31-47 us against 7-9 us of its own), bench/c/build_ab.c w1: 0.939-0.963x and 0.943-0.955x the
 * time (either order, seven runs) against parts claimed first come, first served from the job's word, JMH's W1 step
 * 0.85x and 0.96x; with both vCPUs on one CCD (~60 ns) 0.99x / 1.01x. The same parts, so the same bits. (A word a share
 * on a cache line of its own, the owner claiming from its front and thieves from its back, measured the same: build_ab
 * w1 0.999x / 1.010x, W1 step 1.016x / 1.006x.)
 */
static void run_parts(uint64_t w, int me) {
    uint32_t gen = JOB_GEN(w);
    int parts = JOB_PARTS(w), team = JOB_TEAM(w);
    for (int o = 0; o < team; o++) {
        int t = (me + o) % team;
        int lo = (int) ((int64_t) t * parts / team), hi = (int) ((int64_t) (t + 1) * parts / team);
        for (int i = 0; i < hi - lo; i++) {
            int p = o == 0 ? lo + i : hi - 1 - i; /* its own share from the start, the others' from their ends */
            if (!claim_part(p, gen)) continue;
            int64_t begin, end;
            part_range(pool.total, pool.align, parts, p, &begin, &end);
            if (begin < end) pool.fn(pool.args, begin, end);
            atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
        }
    }
}

/*
 * Worker i (1, 2, ...) helps only with jobs whose team is more than i threads, so a process whose backends split in
 * two keeps one worker busy however many cores it has; the rest sleep instead of spinning against the callers. After its
 * last part a worker spins for SPIN_NS, then sleeps on its own futex word until a caller wakes it by name.
 */
#ifdef SEQ4J_POOL_HOOKS
/* For cpu/test/pool_lag.c only (the library is built without it): called by worker `id` between reading a new job's
 * word w and running its parts, where a worker preempted at that point would lag behind the caller. */
static void (*pool_hook_lag)(int id, uint64_t w);
#define POOL_HOOK_LAG(id, w) (pool_hook_lag != NULL ? pool_hook_lag(id, w) : (void) 0)
#else
#define POOL_HOOK_LAG(id, w) ((void) 0)
#endif

static void *worker_main(void *arg) {
    int id = (int) (intptr_t) arg;
    struct sleeper *me = &pool.sleepers[id];
    uint32_t seen = 0;
    int64_t spin_start = now_ns();
    for (;;) {
        uint64_t w = atomic_load_explicit(&pool.job, memory_order_acquire);
        if (JOB_GEN(w) != seen) {
            seen = JOB_GEN(w);
            if (JOB_TEAM(w) > id) {
                POOL_HOOK_LAG(id, w);
                run_parts(w, id);
                spin_start = now_ns();
            }
            continue;
        }
        int checks = 0;
        while (JOB_GEN(atomic_load_explicit(&pool.job, memory_order_relaxed)) == seen) {
            cpu_relax();
            if ((++checks & 255) == 0 && now_ns() - spin_start > SPIN_NS) {
                atomic_store(&me->asleep, 1);
                uint32_t wake = atomic_load(&me->wake);
                /* a caller publishes its job, then reads asleep and, if set, bumps wake and wakes: either this load
                 * sees the new job, or futex_wait finds wake changed, or it is woken. No wake-up is lost. */
                if (JOB_GEN(atomic_load(&pool.job)) == seen) {
                    syscall(SYS_futex, &me->wake, FUTEX_WAIT_PRIVATE, wake, NULL, NULL, 0);
                }
                atomic_store(&me->asleep, 0);
                spin_start = now_ns(); /* woken for a job, or spuriously: spin a little before sleeping again */
            }
        }
    }
    return NULL;
}

static void start_pool(void) {
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int) sysconf(_SC_NPROCESSORS_ONLN);
    int want = cpus - 1;
    const char *env = getenv("SEQ4J_POOL_WORKERS"); /* for tests of many workers on few cores, or fewer spinners */
    if (env && *env) want = atoi(env);
    if (want < 0) want = 0;
    if (want > SEQ4J_MAX_THREADS - 1) want = SEQ4J_MAX_THREADS - 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int started = 0;
    for (int i = 1; i <= want; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, (void *) (intptr_t) i) != 0) break;
        started++;
    }
    pthread_attr_destroy(&attr);
    pool.workers = started;
    pool.cpus = cpus;
}

API int seq4j_pool_workers(void) {
    pthread_once(&pool_once, start_pool);
    return pool.workers;
}

/* parts per thread of a balanced job (parallel_for_balanced) */
#define BALANCE 4
_Static_assert(SEQ4J_MAX_THREADS * BALANCE <= JOB_MAX_PARTS, "the job word's part fields hold a balanced job");

/*
 * Runs fn over [0, total) in parts = min(threads x per_thread, total / grain, blocks of align) contiguous parts (a
 * part should be worth waking a thread for), boundaries on multiples of `align`, on at most `threads` threads;
 * returns when all are done. The split is a function of (total, grain, align, threads, per_thread) only.
 */
static void run_in_pool(int team, int parts, int64_t total, int64_t align, part_fn fn, const void *args);

static void run_job(int threads, int per_thread, int64_t total, int64_t grain, int64_t align, part_fn fn,
                    const void *args) {
    if (total <= 0) return;
    if (align < 1) align = 1;
    int64_t limit = grain > 0 ? total / grain : total;
    int64_t blocks = (total + align - 1) / align;
    if (limit > blocks) limit = blocks;
    int team = threads < 1 ? 1 : threads > SEQ4J_MAX_THREADS ? SEQ4J_MAX_THREADS : threads;
    int64_t want = (int64_t) team * per_thread; /* <= 64 x BALANCE <= JOB_MAX_PARTS */
    int parts = want > limit ? (limit > 1 ? (int) limit : 1) : (int) want;
    if (team > parts) team = parts;
    if (parts > team) parts -= parts % team; /* whole rounds: 3 parts on 2 threads would leave one thread 2 */
    if (parts == 1) {
        fn(args, 0, total);
        return;
    }
    pthread_once(&pool_once, start_pool);
    if (pool.workers == 0 || atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) {
        for (int p = 0; p < parts; p++) { /* the same parts, on this thread, in order */
            int64_t begin, end;
            part_range(total, align, parts, p, &begin, &end);
            if (begin < end) fn(args, begin, end);
        }
        return;
    }
    run_in_pool(team, parts, total, align, fn, args);
}

/* Runs the job in the pool, whose busy flag the caller holds (and this releases); returns when all parts are done */
static void run_in_pool(int team, int parts, int64_t total, int64_t align, part_fn fn, const void *args) {
    pool.fn = fn;
    pool.args = args;
    pool.total = total;
    pool.align = align;
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    uint32_t gen = JOB_GEN(atomic_load_explicit(&pool.job, memory_order_relaxed)) + 1;
    if (gen == 0) gen = 1; /* 0 means no job: workers start from it */
    for (int p = 0; p < parts; p++) atomic_store_explicit(&pool.claims[p], (uint64_t) gen << 1, memory_order_relaxed);
    uint64_t w = JOB(gen, team, parts);
    atomic_store_explicit(&pool.job, w, memory_order_seq_cst); /* publishes the claim words and the arguments too */
    int helpers = team - 1 < pool.workers ? team - 1 : pool.workers;
    for (int i = 1; i <= helpers; i++) { /* the workers this job is for: wake those asleep */
        struct sleeper *s = &pool.sleepers[i];
        if (atomic_load(&s->asleep)) {
            atomic_fetch_add(&s->wake, 1);
            syscall(SYS_futex, &s->wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
    }
    run_parts(w, 0);
    while (atomic_load_explicit(&pool.done, memory_order_acquire) < parts) cpu_relax();
    atomic_flag_clear_explicit(&pool.busy, memory_order_release);
}

/* one part per thread: the usual split */
static void parallel_for(int threads, int64_t total, int64_t grain, int64_t align, part_fn fn, const void *args) {
    run_job(threads, 1, total, grain, align, fn, args);
}

/*
 * BALANCE parts per thread, claimed as threads come free: for long jobs whose parts a core may run late (the other
 * core's hyperthread busy, an interrupt, its caches cold), so the other does not wait out the whole difference. Only
 * for kernels whose every output element comes out the same whatever part it falls in (row or column splits of
 * products and cells, elementwise updates): the split changes the speed, not the bits.
 */
static void parallel_for_balanced(int threads, int64_t total, int64_t grain, int64_t align, part_fn fn,
                                  const void *args) {
    run_job(threads, BALANCE, total, grain, align, fn, args);
}

/*
 * Runs fn(args, p, p + 1) for the parts p = 0 .. team - 1 on team threads at once and returns 1, or returns 0 having
 * run nothing when it cannot have them (the pool busy with another caller's job, fewer than team - 1 workers, or fewer
 * CPUs than team): for jobs whose parts wait for each other (team_barrier), which one thread running the parts in turn
 * would never finish. Each thread runs one part at a time, and a part waiting at a barrier holds its thread, so every
 * part is claimed by a thread of its own before any can finish: the team cannot deadlock, only wait for a worker the
 * system has not run yet (a CPU for each of them, so only for what preempts one).
 */
static int run_team(int team, part_fn fn, const void *args) {
    if (team < 2 || team > SEQ4J_MAX_THREADS) return 0;
    pthread_once(&pool_once, start_pool);
    if (pool.workers < team - 1 || team > pool.cpus) return 0;
    if (atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) return 0;
    run_in_pool(team, team, team, 1, fn, args);
    return 1;
}

/* Waits until every part of a team has arrived `round` times (counting from 1), having arrived itself: the parts'
 * writes before their arrival are visible after it (release, acquire) */
static void team_barrier(_Atomic int64_t *arrived, int team, int64_t round) {
    atomic_fetch_add_explicit(arrived, 1, memory_order_release);
    /* a part late by more than ~100 us (its thread preempted: more threads than cores) gets the core back */
    for (int spins = 0; atomic_load_explicit(arrived, memory_order_acquire) < team * round;) {
        if (spins < 4096) {
            cpu_relax();
            spins++;
        } else {
            sched_yield();
        }
    }
}

/* rows of w items each: a part should hold at least ~32K items (about 10 us of simple work) */
static int64_t row_grain(int64_t w) {
    int64_t g = 32768 / (w > 0 ? w : 1);
    return g > 1 ? g : 1;
}

#define ELEMENT_GRAIN 32768
#define ELEMENT_ALIGN 16 /* 64 bytes of floats: parts never share a cache line */

/* ---- library ------------------------------------------------------------------------------------ */

/* the version, the compiler, and the clone of the hot loops that runs here (see "clones") */
API const char *seq4j_cpu_info(void) {
    static char info[256];
    static _Atomic int done = 0; /* any thread may write it: all write the same text */
    if (!done) {
#ifdef SEQ4J_X86_CLONES
        static const char *names[] = {"x86-64 baseline (SSE2)", "x86-64-v3 (AVX2+FMA)", "x86-64-v4 (AVX-512)"};
        const char *kernels = names[cpu_isa];
#elif defined(__aarch64__)
        const char *kernels = "aarch64 (NEON)";
#else
        const char *kernels = "generic";
#endif
        snprintf(info, sizeof info, "seq4j_cpu 0.1 (gcc " __VERSION__ "), kernels: %s%s", kernels,
                 isa_note != NULL ? isa_note : "");
        done = 1;
    }
    return info;
}

/* ---- GEMM through the pool ---------------------------------------------------------------------- */

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static sgemm_fn blas_sgemm;
static sgemv_fn blas_sgemv;

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

API void seq4j_set_blas(void *cblas_sgemm, void *cblas_sgemv) {
    blas_sgemm = (sgemm_fn) cblas_sgemm;
    blas_sgemv = (sgemv_fn) cblas_sgemv;
}

struct gemm_args {
    int ta, tb, m, n, k, lda, ldb, ldc, split_rows;
    float alpha, beta;
    const float *a, *b;
    float *c;
};

/* rows [begin, end) of C (split_rows), or its columns [begin, end): the matching rows of op(A) or columns of op(B) */
static void gemm_part(const void *p, int64_t begin, int64_t end) {
    const struct gemm_args *g = p;
    int w = (int) (end - begin);
    if (g->split_rows) {
        const float *a = g->ta == TRANS ? g->a + begin : g->a + begin * g->lda;
        blas_sgemm(ROW_MAJOR, g->ta, g->tb, w, g->n, g->k, g->alpha, a, g->lda, g->b, g->ldb, g->beta,
                   g->c + begin * g->ldc, g->ldc);
    } else {
        const float *b = g->tb == TRANS ? g->b + begin * g->ldb : g->b + begin;
        blas_sgemm(ROW_MAJOR, g->ta, g->tb, g->m, w, g->k, g->alpha, g->a, g->lda, b, g->ldb, g->beta, g->c + begin,
                   g->ldc);
    }
}

API void seq4j_sgemm(int threads, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    struct gemm_args g = {trans_a, trans_b, m, n, k, lda, ldb, ldc, m >= n, alpha, beta, a, b, c};
    /* a part should be at least ~0.25 MFLOP: about 8 us at the 30 GFLOP/s OpenBLAS reaches on skinny products, where a
     * spinning worker takes a part up in well under one. At 1 MFLOP W1's three output-layer products (512 x 13 x 128,
     * 128 x 13 x 512 TN, 512 x 128 x 13 NT: 1.7 MFLOP each, ~50 us on one core) ran on one thread while the other
     * waited; split, each took 0.52-0.56x the time (this AVX2 VM, C harness, medians of 400 calls) */
    double other = g.split_rows ? n : m;
    int64_t grain = (int64_t) (2.5e5 / (2.0 * other * (k > 0 ? k : 1))) + 1;
    parallel_for(threads, g.split_rows ? m : n, grain, g.split_rows ? 4 : 16, gemm_part, &g);
}

struct gemv_args {
    int trans, rows, cols, lda, incx;
    float alpha, beta;
    const float *a, *x;
    float *y;
};

/* outputs [begin, end) of y = op(A) x: rows of A as stored (no transpose) or its columns (transposed) */
static void gemv_part(const void *p, int64_t begin, int64_t end) {
    const struct gemv_args *g = p;
    int w = (int) (end - begin);
    if (g->trans == TRANS) {
        blas_sgemv(ROW_MAJOR, TRANS, g->rows, w, g->alpha, g->a + begin, g->lda, g->x, g->incx, g->beta, g->y + begin, 1);
    } else {
        blas_sgemv(ROW_MAJOR, NO_TRANS, w, g->cols, g->alpha, g->a + begin * g->lda, g->lda, g->x, g->incx, g->beta,
                   g->y + begin, 1);
    }
}

API void seq4j_sgemv(int threads, int trans, int rows, int cols, float alpha, const float *a, int lda,
                     const float *x, int incx,
                     float beta, float *y) {
    struct gemv_args g = {trans, rows, cols, lda, incx, alpha, beta, a, x, y};
    int64_t outputs = trans == TRANS ? cols : rows, inner = trans == TRANS ? rows : cols;
    if (outputs <= 0) return;
    parallel_for(threads, outputs, 65536 / (inner > 0 ? inner : 1) + 1, 16, gemv_part, &g);
}

/* ---- packed weights ------------------------------------------------------------------------------ */
/*
 * B (k, n) packed into panels of PANEL columns, k-major (layout in seq4j_cpu.h), so that the product needs no
 * packing per call: OpenBLAS's sgemm re-packs B on every call, which for the recurrent product of a step
 * (128 x 512 x 128) is a third of its time, though Wh is the same at every step.
 *
 * The product is register-blocked: a block of MR rows of c times NP panels keeps MR x NP vectors of PANEL floats
 * as accumulators, and each k adds a[r][k] times row k of the panels (one load per panel, one broadcast per row).
 * Written once with GCC's vector extensions (PK_BLOCK, for each clone's native vector width); MR and NP are chosen
 * per clone to fit its register file (PK_PART). With one or two rows (inference, N = 1) blocks of more panels give
 * the FMA chains more independence (the product is then bound by reading B). Only the v4 clone beats OpenBLAS at
 * the recurrent shapes on an AVX-512 CPU, and the v3 clone's blocks (by hand, v3_block) on an AVX2 one
 * (seq4j_packed_preferred); the baseline and aarch64 blocks are correct, and kept simple. Panels are the outer loop and row blocks
 * the inner one, so a block of panels (k x 32 floats: 16 KiB for k = 128) stays in L1 while all rows pass over
 * it; parts of the pool are ranges of panels, fixed by the shapes and the thread count, so each thread reads
 * the same columns of B at every call. Each element of c sums its k products in order, one FMA each (fused
 * where the clone has FMA): the split and the blocking never change a result, only the clone may.
 * Measured (bench/c/packed_bench.c, 2 threads, Zen 4, a shared machine: rough): 128 x 512 x 128 in 80 us against
 * seq4j_sgemm's 115 us (OpenBLAS's Haswell kernels) or 186 us (Cooperlake); 128 x 128 x 512 from Wh^T 75 against 113 /
 * 120 us; one row, 1 x 2600 x 650: 45 us F32 and 24 us BF16 against seq4j_sgemv's 50-54 us. Packing Wh (128 x 512)
 * takes 9-14 us, Wh^T 30-40 us (6 us on Zen 5 since pack_tiles_trans_avx512). The baseline clone took 250-340 us at 128
 * x 512 x 128, slower than sgemm: hence seq4j_packed_preferred. On an AVX2-only Zen 3 (2 threads, rough), the v3 blocks
 * against OpenBLAS's Zen (Haswell) sgemm: 128 x 512 x 128 146 / 231 us, 128 x 128 x 512 from Wh^T 127 / 174, 64 x 2600
 * x 650 1.28 / 2.30 ms, 1 x 1024 x 256 10 / 14 us (BF16 7.7), 1 x 2600 x 650 55 / 66 us (BF16 40); seq4j_gemm_tn there
 * lost (128 x 512 x 896 1.74 / 1.17 ms: dA's rows 2 KiB apart keep a block's slice of B out of L1), so only the v4
 * clone uses it.
 * What is packed: Wh for a forward's h_{t-1} Wh, Wh^T for a backward's dA_t Wh^T (both reused T times). The weight
 * gradients dWh = Hprev^T dA and dWx = x^T dA (dA (T*N, 4H) used once or twice) run the same blocks without a pack
 * (seq4j_gemm_tn): a's strides swapped, and each row of a block's panels loaded from dA as stored, PANEL floats a
 * panel as from a pack. Packing dA first (1.8 MB just written by the cell backward) cost W1's step 0.19-0.45 ms, a
 * third to half of what the blocks gain over OpenBLAS's sgemm TN. Measured (packed_bench, 2 threads, Zen 4, a
 * loaded shared machine: rough), sgemm TN / pack + packed / packed alone / seq4j_gemm_tn, us: 128 x 512 x 896
 * 1800 / 1470 / 1315 / 1400; 128 x 512 x 512 1090 / 900 / 755 / 730; 16 x 512 x 896 476 / 359 / 206 / 218; but W2's
 * 650 x 2600 x 2240 89 / 209 / 205 / 344 ms (rows of 10 KB: a page per row of b and of a), so the backend calls it
 * only at the shapes of OpenBlasBackend.gemmK's rule.
 */
#define PANEL SEQ4J_PANEL

INLINE uint16_t to_bf16(float x) { /* PackedMatrix.roundToBf16, bit for bit */
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t) ((bits | 0x00400000u) >> 16); /* NaN stays NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t) (bits >> 16);
}

API int64_t seq4j_packed_floats(int k, int n, int precision) {
    if (k < 0 || n < 0 || (precision != SEQ4J_PACKED_F32 && precision != SEQ4J_PACKED_BF16)) return -1;
    int64_t panels = ((int64_t) n + PANEL - 1) / PANEL; /* panels x k x PANEL < 2^27 x 2^31 x 2^4: no overflow */
    return panels * (precision == SEQ4J_PACKED_BF16 ? ((int64_t) k + 1) / 2 : k) * PANEL;
}

struct pack_args {
    void *dst;
    const float *w;
    int64_t k, n, ldw; /* row stride of w as stored: (k, n), or (n, k) when transposed */
    int trans, bf16;
};

/* op(w)[kk][col], 0 beyond column n or row k (the padding) */
INLINE float pack_value(const struct pack_args *g, int64_t kk, int64_t col) {
    if (col >= g->n || kk >= g->k) return 0.0f;
    return g->trans ? g->w[col * g->ldw + kk] : g->w[kk * g->ldw + col];
}

/* The padded last F32 panel q (k x PANEL floats at dst), element by element */
INLINE void pack_panel_f32_padded(const struct pack_args *g, float *dst, int64_t q) {
    for (int64_t kk = 0; kk < g->k; kk++) {
        for (int64_t j = 0; j < PANEL; j++) dst[kk * PANEL + j] = pack_value(g, kk, q * PANEL + j);
    }
}

#ifdef SEQ4J_X86_CLONES
/*
 * Rows [k0, k1) of the transposed F32 panel q, k1 - k0 a multiple of 16: each 16 x 16 tile (16 runs of 16 floats, one
 * from each of the panel's 16 rows of w) transposed in registers and stored as 16 whole panel rows (1 KiB in a row).
 * Element by element, each float went to its own place 64 bytes from the last: W1's Wh^T took 3x the time of Wh as
 * stored. The standard three rounds of shuffles: within 128-bit lanes by pairs and quads, then across lanes.
 */
static __attribute__((target("avx512f"))) void pack_tiles_trans_avx512(float *panel, const float *w, int64_t ldw,
                                                                        int64_t k0, int64_t k1) {
    for (int64_t kk = k0; kk < k1; kk += 16) {
        __m512 r[16], t[16];
        for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(w + j * ldw + kk);
        for (int j = 0; j < 16; j += 2) { /* pairs: (a0 b0 a1 b1 | ...), (a2 b2 a3 b3 | ...) */
            t[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
            t[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
        }
        for (int j = 0; j < 16; j += 4) { /* quads: column c of rows j .. j + 3 in one 128-bit lane */
            r[j] = _mm512_shuffle_ps(t[j], t[j + 2], 0x44);
            r[j + 1] = _mm512_shuffle_ps(t[j], t[j + 2], 0xEE);
            r[j + 2] = _mm512_shuffle_ps(t[j + 1], t[j + 3], 0x44);
            r[j + 3] = _mm512_shuffle_ps(t[j + 1], t[j + 3], 0xEE);
        }
        for (int j = 0; j < 4; j++) { /* lanes: quads of rows 0-3 and 4-7, 8-11 and 12-15, per column */
            t[j] = _mm512_shuffle_f32x4(r[j], r[j + 4], 0x88);
            t[j + 4] = _mm512_shuffle_f32x4(r[j], r[j + 4], 0xDD);
            t[j + 8] = _mm512_shuffle_f32x4(r[j + 8], r[j + 12], 0x88);
            t[j + 12] = _mm512_shuffle_f32x4(r[j + 8], r[j + 12], 0xDD);
        }
        for (int j = 0; j < 4; j++) {
            r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
            r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
            r[j + 4] = _mm512_shuffle_f32x4(t[j + 4], t[j + 12], 0x88);
            r[j + 12] = _mm512_shuffle_f32x4(t[j + 4], t[j + 12], 0xDD);
        }
        /* after the quads r[4 g + m] held, in lane L, column 4 L + m of rows 4 g .. 4 g + 3: now r[c] is column c */
        for (int j = 0; j < 16; j++) _mm512_storeu_ps(panel + (kk + j) * PANEL, r[j]);
    }
}
#endif

#define PACK_ROWS 64   /* rows of a transposed panel copied per tile: source and panel rows stay in L1 */
#define PACK_PANELS 8  /* panels filled per pass over w's rows: 512 contiguous bytes read from each row */

/*
 * Full F32 panels [b, e), in an order that reads w in long runs and keeps what it writes in L1:
 * - w as stored: rows outer, PACK_PANELS panels inner, so each row of w is read as 8 lines in a row (panel by panel
 *   it was one line a row, a new page every row for W2's 10 KB rows: 4.4 ms for W2's pack);
 * - w transposed (each column of op(w) a row of w): tiles of PACK_ROWS rows of op(w), so the 16 source runs and the
 *   PACK_ROWS panel rows stay in L1 (writing a whole panel column by column touched k lines 16 times).
 * Only the order of the copies changes: the panels are the same bytes.
 */
INLINE void pack_panels_f32(const struct pack_args *g, int64_t b, int64_t e) {
    int64_t k = g->k, ldw = g->ldw;
    float *dst = g->dst;
    for (int64_t q0 = b; q0 < e; q0 += PACK_PANELS) {
        int64_t q1 = e - q0 < PACK_PANELS ? e : q0 + PACK_PANELS;
        if (g->trans) {
            for (int64_t q = q0; q < q1; q++) {
                float *panel = dst + q * k * PANEL;
                int64_t from = 0;
#ifdef SEQ4J_X86_CLONES
                if (cpu_isa == ISA_AVX512 && PANEL == 16) {
                    from = k / 16 * 16;
                    pack_tiles_trans_avx512(panel, g->w + q * PANEL * ldw, ldw, 0, from);
                }
#endif
                for (int64_t k0 = from; k0 < k; k0 += PACK_ROWS) {
                    int64_t k1 = k - k0 < PACK_ROWS ? k : k0 + PACK_ROWS;
                    for (int64_t j = 0; j < PANEL; j++) {
                        const float *src = g->w + (q * PANEL + j) * ldw;
                        for (int64_t kk = k0; kk < k1; kk++) panel[kk * PANEL + j] = src[kk];
                    }
                }
            }
        } else {
            for (int64_t kk = 0; kk < k; kk++) {
                const float *row = g->w + kk * ldw;
                for (int64_t q = q0; q < q1; q++) {
                    memcpy(dst + (q * k + kk) * PANEL, row + q * PANEL, PANEL * sizeof(float));
                }
            }
        }
    }
}

/* panels [b, e) */
static void pack_part(const void *p, int64_t b, int64_t e) {
    const struct pack_args *g = p;
    int64_t k = g->k;
    if (!g->bf16) {
        int64_t full = g->n / PANEL; /* panels [0, full) hold PANEL columns of w; the last may be padded */
        pack_panels_f32(g, b, e < full ? e : full);
        for (int64_t q = b > full ? b : full; q < e; q++) pack_panel_f32_padded(g, (float *) g->dst + q * k * PANEL, q);
        return;
    }
    uint32_t *dst = g->dst; /* word (q, i, j): bf16 of rows 2i (low half) and 2i + 1 (high half), column q PANEL + j */
    int64_t pairs = (k + 1) / 2;
    for (int64_t q = b; q < e; q++) {
        for (int64_t i = 0; i < pairs; i++) {
            for (int64_t j = 0; j < PANEL; j++) {
                int64_t col = q * PANEL + j;
                uint32_t lo = to_bf16(pack_value(g, 2 * i, col)), hi = to_bf16(pack_value(g, 2 * i + 1, col));
                dst[(q * pairs + i) * PANEL + j] = lo | hi << 16;
            }
        }
    }
}

API void seq4j_pack(int threads, void *dst, const float *w, int trans, int k, int n, int ldw, int precision) {
    if (k <= 0 || n <= 0 || seq4j_packed_floats(k, n, precision) < 0) return;
    if (ldw < (trans == TRANS ? k : n)) return; /* rows would overlap: the Java side refused it */
    struct pack_args g = {dst, w, k, n, ldw, trans == TRANS, precision == SEQ4J_PACKED_BF16};
    int64_t panels = ((int64_t) n + PANEL - 1) / PANEL;
    /* parts from 64 KiB: W1's 256 KiB Wh is packed by both threads. In a training step Wh was just written by the
     * optimizer on both cores, and one thread alone packed it at 3-8x its isolated time (Profile w1: 70-88 us a pack
     * against 9-25 us in bench/c/pack_ab.c), waiting on the other core's lines; two take about a fifth less. */
    parallel_for(threads, panels, 1 + 16384 / ((int64_t) k * PANEL), 1, pack_part, &g);
}

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

/*
 * The block of the product, written once (PK_BLOCK) for vectors of L floats, L = 16, 8 and 4: each clone uses its
 * native width (a 64-byte vector type in the baseline clone is lowered through memory, ten times slower); v3 has
 * blocks of its own (v3_block).
 * c rows [0, mr), panels [q, q + np) (row stride ldc) = a rows [0, mr) (row stride lda) times those panels + beta c; mr and np are
 * constants after inlining, so the accumulators (mr x np x PANEL / L vectors) live in registers. Only columns < n
 * are written; with beta = 0, c is not read. BF16: one load of L words gives L columns of two rows, row 2i = word <<
 * 16 and row 2i + 1 = word & 0xffff0000 (a bfloat16 is the high half of its float): no widening shuffle.
 * ta: a stored (k, m), read transposed; sb: B not packed but (k, n) row-major with row stride ldb (F32: seq4j_gemm_tn),
 * the same vectors loaded from row kk, masked to the columns below n in the last, partial panel.
 * (Pointers, not vector values, cross function boundaries: a vector argument would change the ABI by clone.)
 */
#define PK_TYPES(L)                                                                                                  \
    typedef float pk_f##L __attribute__((vector_size((L) * 4)));                                                    \
    typedef uint32_t pk_u##L __attribute__((vector_size((L) * 4)));
/* the F32 product's loop over k: LOAD sets bv[s], vector s of row kk of the panels (s < np PANEL / L) */
#define PK_F32_LOOP(L, MAXS, LOAD)                                                                                       \
    for (int64_t kk = k0; kk < k1; kk++) {                                                                            \
        pk_f##L bv[MAXS];                                                                                           \
        _Pragma("GCC unroll 32")                                                                                    \
        for (int s = 0; s < np * V; s++) {                                                                          \
            LOAD;                                                                                                   \
        }                                                                                                           \
        _Pragma("GCC unroll 32")                                                                                    \
        for (int r = 0; r < mr; r++) {                                                                              \
            float ar = a[r * sr + kk * sk];                                                                         \
            _Pragma("GCC unroll 32")                                                                                \
            for (int s = 0; s < np * V; s++) acc[r][s] += ar * bv[s];                                               \
        }                                                                                                           \
    }
#define PK_BLOCK(NAME, L, MAXR, MAXS)                                                                                         \
    INLINE void packed_block_##NAME(float *c, const float *a, const void *b, int64_t q, int64_t n, int64_t k,          \
                                 int64_t lda, int64_t ldb, int64_t ldc, float beta, const int bf16, const int ta,      \
                                 const int sb, const int mr, const int np, int64_t k0, int64_t k1, float *sums,       \
                                 int64_t lds) {                                                                       \
        enum { V = PANEL / (L) }; /* vectors per panel row */                                                       \
        const int64_t sr = ta ? 1 : lda, sk = ta ? lda : 1; /* a (r, kk): a as stored, or transposed */             \
        pk_f##L acc[MAXR][MAXS]; /* as small as the clone's blocks: a larger array is kept in memory (GCC's SRA) */\
        _Pragma("GCC unroll 32")                                                                                    \
        for (int r = 0; r < mr; r++) {                                                                              \
            _Pragma("GCC unroll 32")                                                                                \
            for (int s = 0; s < np * V; s++) {                                                                      \
                acc[r][s] = (pk_f##L) {0};                                                                          \
                if (sums != NULL && k0 > 0) memcpy(&acc[r][s], sums + r * lds + s * (L), sizeof acc[r][s]);         \
            }                                                                                                       \
        }                                                                                                           \
        if (bf16) {                                                                                                 \
            int64_t pairs = (k1 + 1) / 2; /* k0 is even: slices are KC rows */                                     \
            const uint32_t *bw = (const uint32_t *) b + q * ((k + 1) / 2) * PANEL;                                  \
            for (int64_t i = k0 / 2; i < pairs; i++) {                                                                   \
                pk_f##L b0[MAXS], b1[MAXS];                                                                         \
                _Pragma("GCC unroll 32")                                                                            \
                for (int s = 0; s < np * V; s++) {                                                                  \
                    pk_u##L u;                                                                                      \
                    memcpy(&u, bw + ((s / V) * ((k + 1) / 2) + i) * PANEL + (s % V) * (L), sizeof u);               \
                    b0[s] = (pk_f##L) (u << 16);                                                                    \
                    b1[s] = (pk_f##L) (u & 0xffff0000u);                                                            \
                }                                                                                                   \
                int64_t kk = 2 * i;                                                                                 \
                if (kk + 1 < k) {                                                                                   \
                    _Pragma("GCC unroll 32")                                                                        \
                    for (int r = 0; r < mr; r++) {                                                                  \
                        float a0 = a[r * sr + kk * sk], a1 = a[r * sr + (kk + 1) * sk];                                         \
                        _Pragma("GCC unroll 32")                                                                    \
                        for (int s = 0; s < np * V; s++) {                                                          \
                            acc[r][s] += a0 * b0[s];                                                                \
                            acc[r][s] += a1 * b1[s];                                                                \
                        }                                                                                           \
                    }                                                                                               \
                } else { /* k odd: the last row has no partner (its high halves are padding, never multiplied) */   \
                    _Pragma("GCC unroll 32")                                                                        \
                    for (int r = 0; r < mr; r++) {                                                                  \
                        float a0 = a[r * sr + kk * sk];                                                                \
                        _Pragma("GCC unroll 32")                                                                    \
                        for (int s = 0; s < np * V; s++) acc[r][s] += a0 * b0[s];                                   \
                    }                                                                                               \
                }                                                                                                   \
            }                                                                                                       \
        } else if (!sb) {                                                                                           \
            const float *bf = (const float *) b + q * k * PANEL;                                                    \
            PK_F32_LOOP(L, MAXS, memcpy(&bv[s], bf + ((s / V) * k + kk) * PANEL + (s % V) * (L), sizeof bv[s]))           \
        } else if ((q + np) * PANEL <= n) { /* B row-major: vector s of row kk at column q PANEL + s L */            \
            const float *bf = (const float *) b + q * PANEL;                                                        \
            PK_F32_LOOP(L, MAXS, memcpy(&bv[s], bf + kk * ldb + s * (L), sizeof bv[s]))                                   \
        } else { /* the last panel is partial: columns >= n are zeros, never read (as the pack's padding) */       \
            const float *bf = (const float *) b + q * PANEL;                                                        \
            int64_t have[MAXS]; /* columns of vector s below n: 0 to L */                                           \
            for (int s = 0; s < np * V; s++) {                                                                      \
                int64_t left = n - q * PANEL - s * (L);                                                             \
                have[s] = left < 0 ? 0 : left < (L) ? left : (L);                                                   \
            }                                                                                                       \
            PK_F32_LOOP(L, MAXS, bv[s] = (pk_f##L) {0}; memcpy(&bv[s], bf + kk * ldb + s * (L), have[s] * sizeof(float))) \
        }                                                                                                           \
        if (sums != NULL && k1 < k) { /* more slices to come: keep the sums so far, whole vectors */               \
            _Pragma("GCC unroll 32")                                                                                \
            for (int r = 0; r < mr; r++) {                                                                          \
                _Pragma("GCC unroll 32")                                                                            \
                for (int s = 0; s < np * V; s++) memcpy(sums + r * lds + s * (L), &acc[r][s], sizeof acc[r][s]);    \
            }                                                                                                       \
            return;                                                                                                 \
        }                                                                                                           \
        _Pragma("GCC unroll 32")                                                                                    \
        for (int s = 0; s < np * V; s++) {                                                                          \
            int64_t col = (q + s / V) * PANEL + (s % V) * (L), cols = n - col < (L) ? n - col : (L);                \
            _Pragma("GCC unroll 32")                                                                                \
            for (int r = 0; r < mr; r++) {                                                                          \
                float *cr = c + r * ldc + col;                                                                     \
                pk_f##L v = acc[r][s];                                                                              \
                if (cols == (L)) {                                                                                  \
                    if (beta != 0.0f) {                                                                             \
                        pk_f##L old;                                                                                \
                        memcpy(&old, cr, sizeof old);                                                               \
                        v += beta * old;                                                                            \
                    }                                                                                               \
                    memcpy(cr, &v, sizeof v);                                                                       \
                } else {                                                                                            \
                    float t[L];                                                                                     \
                    memcpy(t, &v, sizeof v);                                                                        \
                    for (int64_t j = 0; j < cols; j++) cr[j] = beta != 0.0f ? t[j] + beta * cr[j] : t[j];           \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
    }

/* (name, lanes, most rows, most vectors a row): v4 8 rows x 2 panels and 2 rows x 4, and one row x 8 in a block of
 * its own (16w: its accumulators are 8 registers; in the 8 x 8 array of the other block they would stay in
 * memory); baseline and aarch64 up to 6 x 1 and 2 x 2 (v3 has its own blocks, v3_block) */
PK_TYPES(16)
PK_TYPES(4)
PK_BLOCK(16, 16, 8, 4)
PK_BLOCK(16w, 16, 1, 8)
PK_BLOCK(4, 4, 6, 8)

/* one (rows, np) instance per case, rows <= mr_max and np <= np_max (constants: the rest is never compiled) */
#define PK_CASE(L, R, S)                                                                                     \
    case R * 16 + S:                                                                                         \
        if (R <= mr_max && S <= np_max)                                                                      \
            packed_block_##L(c, a, b, q, n, k, lda, ldb, ldc, beta, bf16, ta, sb, R, S, k0, k1, sums, lds);   \
        break;
#define PK_ROWS(L, R) PK_CASE(L, R, 1) PK_CASE(L, R, 2) PK_CASE(L, R, 3) PK_CASE(L, R, 4)

INLINE void packed_dispatch(float *c, const float *a, const void *b, int64_t q, int rows, int np, int64_t n,
                            int64_t k, int64_t lda, int64_t ldb, int64_t ldc, float beta, const int lanes, const int bf16,
                            const int ta, const int sb, const int mr_max, const int np_max, int64_t k0, int64_t k1,
                            float *sums, int64_t lds) {
    if (lanes == 16) {
        switch (rows * 16 + np) {
            PK_CASE(16w, 1, 1) PK_CASE(16w, 1, 2) PK_CASE(16w, 1, 3) PK_CASE(16w, 1, 4)
            PK_CASE(16w, 1, 5) PK_CASE(16w, 1, 6) PK_CASE(16w, 1, 7) PK_CASE(16w, 1, 8)
            PK_ROWS(16, 2) PK_ROWS(16, 3) PK_ROWS(16, 4) PK_ROWS(16, 6) PK_ROWS(16, 8)
            default: break;
        }
    } else {
        switch (rows * 16 + np) {
            PK_CASE(4, 1, 1) PK_CASE(4, 1, 2) PK_CASE(4, 2, 1) PK_CASE(4, 2, 2) PK_CASE(4, 4, 1) PK_CASE(4, 6, 1)
            default: break;
        }
    }
}

#ifdef SEQ4J_X86_CLONES
/*
 * The v3 clone's blocks, by hand in AVX2 + FMA. Compiled from PK_BLOCK, GCC kept the v3 accumulators on the stack
 * (16 ymm registers; the FMAs of a row of k waited on stores and loads): 2.4x OpenBLAS's time at W1's recurrent
 * shape. It still kept 7 of the 6 x 1 block's 12 there with PK_BLOCK instantiated as a function of its own per case
 * (tried), so the block is written again here with intrinsics, one function per (rows, panels) case, and its
 * accumulators stay in registers. The same vectors in the same order as PK_BLOCK, each accumulator one FMA chain
 * over kk from zero (or from its slice's saved sums), the same epilogue: the same bits as every other clone.
 */
#define V3_BLOCK_ARGS                                                                                        \
    float *c, const float *a, const void *b, int64_t q, int64_t n, int64_t k, int64_t lda, int64_t ldb,     \
        int64_t ldc, float beta, int bf16, int ta, int sb, int64_t k0, int64_t k1, float *sums, int64_t lds
#define V3_BLOCK_PASS c, a, b, q, n, k, lda, ldb, ldc, beta, bf16, ta, sb, k0, k1, sums, lds

AVX2_INLINE void v3_block(V3_BLOCK_ARGS, const int mr, const int np) {
    enum { V = PANEL / 8, MAXS = 4 };
    const int ns = np * V;                                      /* vectors of 8 columns in a row of the block */
    const int64_t sr = ta ? 1 : lda, sk = ta ? lda : 1;         /* a (r, kk): a as stored, or transposed */
    __m256 acc[6][MAXS];
    _Pragma("GCC unroll 8")
    for (int r = 0; r < mr; r++) {
        _Pragma("GCC unroll 8")
        for (int s = 0; s < ns; s++) {
            acc[r][s] = sums != NULL && k0 > 0 ? _mm256_loadu_ps(sums + r * lds + s * 8) : _mm256_setzero_ps();
        }
    }
    if (bf16) { /* a word holds rows 2i (low half) and 2i + 1 (high half) of its column */
        const int64_t half = (k + 1) / 2;
        const uint32_t *bw = (const uint32_t *) b + q * half * PANEL;
        const __m256i high = _mm256_set1_epi32((int) 0xffff0000u);
        for (int64_t i = k0 / 2; i < (k1 + 1) / 2; i++) {
            __m256 b0[MAXS], b1[MAXS];
            _Pragma("GCC unroll 8")
            for (int s = 0; s < ns; s++) {
                __m256i u = _mm256_loadu_si256((const __m256i *) (bw + ((s / V) * half + i) * PANEL + (s % V) * 8));
                b0[s] = _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
                b1[s] = _mm256_castsi256_ps(_mm256_and_si256(u, high));
            }
            int64_t kk = 2 * i;
            _Pragma("GCC unroll 8")
            for (int r = 0; r < mr; r++) {
                __m256 a0 = _mm256_broadcast_ss(a + r * sr + kk * sk);
                _Pragma("GCC unroll 8")
                for (int s = 0; s < ns; s++) acc[r][s] = _mm256_fmadd_ps(a0, b0[s], acc[r][s]);
                if (kk + 1 < k) { /* k odd: the last row has no partner (padding, never multiplied) */
                    __m256 a1 = _mm256_broadcast_ss(a + r * sr + (kk + 1) * sk);
                    _Pragma("GCC unroll 8")
                    for (int s = 0; s < ns; s++) acc[r][s] = _mm256_fmadd_ps(a1, b1[s], acc[r][s]);
                }
            }
        }
    } else {
        /* vector s of row kk at bf + kk bs + (s / V) ps + (s % V) 8: packed panels (bs = PANEL, ps = k PANEL) or
         * B row-major (bs = ldb, ps = PANEL); the last panel of a row-major B loads only its columns below n */
        const float *bf = (const float *) b + q * (sb ? PANEL : k * PANEL);
        const int64_t bs = sb ? ldb : PANEL, ps = sb ? PANEL : k * PANEL;
        int partial = sb && (q + np) * PANEL > n;
        __m256i mask[MAXS];
        _Pragma("GCC unroll 8")
        for (int s = 0; s < ns; s++) {
            int64_t left = n - q * PANEL - s * 8;
            int have = left < 0 ? 0 : left < 8 ? (int) left : 8;
            mask[s] = _mm256_cmpgt_epi32(_mm256_set1_epi32(have), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        }
        for (int64_t kk = k0; kk < k1; kk++) {
            __m256 bv[MAXS];
            _Pragma("GCC unroll 8")
            for (int s = 0; s < ns; s++) {
                const float *src = bf + kk * bs + (s / V) * ps + (s % V) * 8;
                bv[s] = partial ? _mm256_maskload_ps(src, mask[s]) : _mm256_loadu_ps(src);
            }
            _Pragma("GCC unroll 8")
            for (int r = 0; r < mr; r++) {
                __m256 ar = _mm256_broadcast_ss(a + r * sr + kk * sk);
                _Pragma("GCC unroll 8")
                for (int s = 0; s < ns; s++) acc[r][s] = _mm256_fmadd_ps(ar, bv[s], acc[r][s]);
            }
        }
    }
    if (sums != NULL && k1 < k) { /* more slices to come: keep the sums so far */
        _Pragma("GCC unroll 8")
        for (int r = 0; r < mr; r++) {
            _Pragma("GCC unroll 8")
            for (int s = 0; s < ns; s++) _mm256_storeu_ps(sums + r * lds + s * 8, acc[r][s]);
        }
        return;
    }
    _Pragma("GCC unroll 8")
    for (int s = 0; s < ns; s++) {
        int64_t col = (q + s / V) * PANEL + (s % V) * 8, cols = n - col < 8 ? n - col : 8;
        _Pragma("GCC unroll 8")
        for (int r = 0; r < mr; r++) {
            float *cr = c + r * ldc + col;
            __m256 v = acc[r][s];
            if (cols == 8) {
                if (beta != 0.0f) v += beta * _mm256_loadu_ps(cr);
                _mm256_storeu_ps(cr, v);
            } else {
                float t[8];
                _mm256_storeu_ps(t, v);
                for (int64_t j = 0; j < cols; j++) cr[j] = beta != 0.0f ? t[j] + beta * cr[j] : t[j];
            }
        }
    }
}

/* one function per case: rows x panels of 6 x 1, 4 x 1, 2 x 1, 1 x 1 (many rows) and 2 x 2, 1 x 2 (few) */
#define V3_CASE(R, P)                                                                                        \
    static AVX2 FMA_OPT __attribute__((noinline)) void v3_block_##R##x##P(V3_BLOCK_ARGS) {                   \
        v3_block(V3_BLOCK_PASS, R, P);                                                                   \
    }
V3_CASE(6, 1) V3_CASE(4, 1) V3_CASE(2, 1) V3_CASE(1, 1) V3_CASE(2, 2) V3_CASE(1, 2)

/* rows and np as gemm_packed_panels with v3's PK_PART asks for them: 6, 4, 2 or 1 rows of one panel, or up to 2 rows
 * of 2 panels (m <= 2); no other case reaches here */
static void v3_dispatch(V3_BLOCK_ARGS, int rows, int np) {
    switch (rows * 16 + np) {
        case 6 * 16 + 1: v3_block_6x1(V3_BLOCK_PASS); break;
        case 4 * 16 + 1: v3_block_4x1(V3_BLOCK_PASS); break;
        case 2 * 16 + 1: v3_block_2x1(V3_BLOCK_PASS); break;
        case 1 * 16 + 1: v3_block_1x1(V3_BLOCK_PASS); break;
        case 2 * 16 + 2: v3_block_2x2(V3_BLOCK_PASS); break;
        case 1 * 16 + 2: v3_block_1x2(V3_BLOCK_PASS); break;
        default: break;
    }
}
#endif

/* seq4j_gemm_tn with more than SLICE_FROM rows of k sums them in slices of KC over chunks of c of at most MC rows and NC
 * columns (NC a multiple of every clone's panel block), see gemm_packed_panels. From 512 rows (was 1024): W1's encoder
 * dWh, 128 x 512 x 768 (dA 1.5 MB, past a Zen 5 core's 1 MiB L2), took 0.88x the time in its step (Profile w1, three
 * alternating runs, 0.35-0.37 against 0.40-0.44 ms) and build_ab w1 0.980x / 0.96x (either order); at k = 512 (1 MB)
 * slicing gained nothing (0.99-1.06x), so it stays one pass */
#define SLICE_FROM 512
#define KC 256
#define MC 256
#define NC 512

/* The calling thread's scratch for a chunk's partial sums (MC x NC floats), kept for its next product and freed when
 * the thread ends; NULL if memory is short (the product then sums k in one pass, to the same bits). The embedding
 * scatter-add sums its block of dW there too (a thread runs one part at a time, so the two never overlap). */
struct sums_buffer {
    float p[MC * NC];
};
static pthread_key_t sums_key;
static int sums_key_ok;
static pthread_once_t sums_once = PTHREAD_ONCE_INIT;

static void sums_key_create(void) {
    sums_key_ok = pthread_key_create(&sums_key, free) == 0;
}

static float *thread_sums(void) {
    pthread_once(&sums_once, sums_key_create);
    if (!sums_key_ok) return NULL;
    struct sums_buffer *s = pthread_getspecific(sums_key);
    if (s == NULL) {
        s = aligned_alloc(64, sizeof *s);
        if (s == NULL) return NULL;
        if (pthread_setspecific(sums_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    return s->p;
}

/*
 * panels [b, e) of c: panel blocks outer, row blocks inner; mr rows x np panels, or 2 rows x wide_np panels, or
 * one row x wide1_np panels. In seq4j_gemm_tn's mode (sb) a long k (more than SLICE_FROM rows) is summed in slices of
 * KC rows, chunk of c by chunk (MC x NC), so that a slice's rows of a and b are read from L1 and L2 by every block:
 * summed in one pass, the weight gradient of W4 (k = T N = 3712) streamed all of a (3.8 MB) from L3 again for every
 * panel block, at half the speed. Between slices a block's sums wait in the thread's scratch and its accumulators
 * resume from them: the same FMA chains in the same order as one pass, so the same bits (a row's sums never depend
 * on its block either). Over a packed b with a as stored it did not pay (W2's backward product, k = 2600, 1.05-1.08x
 * the time in bench/c/build_ab.c; W1's 128 x 128 x 512 from Wh^T 1.2x in packed_bench), so there k is summed in one
 * pass; over seq4j_gemm_tn's own pack (ta, a read transposed) it is sliced as over b as stored.
 */
INLINE void gemm_packed_panels(const struct gemm_packed_args *g, int64_t b, int64_t e, const int lanes,
                               const int bf16, const int ta, const int sb, const int mr, const int np,
                               const int wide_np, const int wide1_np) {
    int64_t m = g->m, n = g->n, k = g->k, lda = g->lda, ldb = g->ldb, ldc = g->ldc, row = ta ? 1 : lda;
    float *sums = (sb || ta) && k > SLICE_FROM ? thread_sums() : NULL; /* seq4j_gemm_tn, b as stored or its own pack */
    int64_t kc = sums != NULL ? KC : k, mc = sums != NULL ? MC : m, nc = sums != NULL ? NC / PANEL : e - b;
    int wide = m <= 2; /* few rows: more panels at once, for independent FMA chains */
    int step = m == 1 ? wide1_np : wide ? wide_np : np;
    for (int64_t q0 = b; q0 < e; q0 += nc) {
        int64_t q1 = e - q0 < nc ? e : q0 + nc;
        for (int64_t r0 = 0; r0 < m; r0 += mc) {
            int64_t r1 = m - r0 < mc ? m : r0 + mc;
            for (int64_t k0 = 0; k0 < k; k0 += kc) {
                int64_t k1 = k - k0 < kc ? k : k0 + kc;
                for (int64_t q = q0; q < q1; q += step) {
                    int panels = (int) (q1 - q < step ? q1 - q : step);
                    for (int64_t r = r0, rows = 0; r < r1; r += rows) {
                        /* mr rows, then what is left in blocks of 4, 2, 1 (fewer instances of packed_block) */
                        int64_t left = r1 - r;
                        rows = left >= mr ? mr : left >= 4 ? 4 : left >= 2 ? 2 : 1;
                        float *tile = sums != NULL ? sums + (r - r0) * NC + (q - q0) * PANEL : NULL;
#ifdef SEQ4J_X86_CLONES
                        if (lanes == 8) {
                            v3_dispatch(g->c + r * ldc, g->a + r * row, g->b, q, n, k, lda, ldb, ldc, g->beta, bf16,
                                        ta, sb, k0, k1, tile, NC, (int) rows, panels);
                            continue;
                        }
#endif
                        packed_dispatch(g->c + r * ldc, g->a + r * row, g->b, q, (int) rows, panels, n, k, lda, ldb,
                                        ldc, g->beta, lanes, bf16, ta, sb, wide ? 2 : mr,
                                        m == 1 ? wide1_np : wide ? wide_np : np, k0, k1, tile, NC);
                    }
                }
            }
        }
    }
}

/* (lanes, rows, panels, wide panels, BF16's wide panels for one row) per clone: accumulators = rows x panels x 16 /
 * lanes registers, plus the row of B in registers and a broadcast: v4 16 + 2 + 1 of 32 zmm; v3 (v3_block) 12 + 2 +
 * 1 of 16 ymm (1 x 4 panels for one row was no faster than 1 x 2: 1 x 1024 x 256 and 1 x 2600 x 650 within the
 * noise, either precision); baseline (no FMA: a product needs a temporary) 8 + 4 + 2 of 16 xmm; aarch64 24 + 4 + 1 of 32 q.
 * v4's BF16 product of one row (N = 1 inference) takes 8 panels: 8 independent FMA chains, where 4 (at a latency of 4)
 * allowed at most one FMA a cycle, and a load of 16 words feeds 2 FMAs. Measured (packed_bench one row, pool_ab W3;
 * Zen 4, a shared machine: rough): BF16 1 x 1024 x 256 5.8-6.2 us against 6.3 (1 thread), 1 x 2600 x 650 41-42
 * against 45, W3's BF16 sequence 0.91-0.98x; F32 with 8 panels was no faster (1 x 2600 x 650 the same, 1 x 1024 x 256
 * and W3's sequence 1.01-1.08x: it reads twice the bytes per FMA and is bound by them), so it keeps 4 */
/* rows of a block for many rows, per clone: also what the sequence kernels align their parts to (seq_align) */
#define PK_MR_V4 8
#define PK_MR_V3 6
#define PK_MR_AARCH64 6
#define PK_PART(lanes, mr, np, wide_np, wide1_bf16)                                                          \
    {                                                                                                        \
        const struct gemm_packed_args *g = p;                                                                \
        if (g->bf16) gemm_packed_panels(g, b, e, lanes, 1, 0, 0, mr, np, wide_np, wide1_bf16);               \
        else if (g->ldb) gemm_packed_panels(g, b, e, lanes, 0, 1, 1, mr, np, wide_np, wide_np);              \
        else if (g->ta) gemm_packed_panels(g, b, e, lanes, 0, 1, 0, mr, np, wide_np, wide_np);               \
        else gemm_packed_panels(g, b, e, lanes, 0, 0, 0, mr, np, wide_np, wide_np);                          \
    }
#ifdef SEQ4J_X86_CLONES
static TARGET_V4 FMA_OPT void gemm_packed_part_v4(const void *p, int64_t b, int64_t e) PK_PART(16, PK_MR_V4, 2, 4, 8)
static TARGET_V3 FMA_OPT void gemm_packed_part_v3(const void *p, int64_t b, int64_t e) PK_PART(8, PK_MR_V3, 1, 2, 2)
static FMA_OPT void gemm_packed_part_v1(const void *p, int64_t b, int64_t e) PK_PART(4, 2, 1, 1, 1)
static void gemm_packed_part(const void *p, int64_t b, int64_t e) {
    if (cpu_isa == ISA_AVX512) gemm_packed_part_v4(p, b, e);
    else if (cpu_isa == ISA_AVX2) gemm_packed_part_v3(p, b, e);
    else gemm_packed_part_v1(p, b, e);
}
#elif defined(__aarch64__)
static FMA_OPT void gemm_packed_part(const void *p, int64_t b, int64_t e) PK_PART(4, PK_MR_AARCH64, 1, 2, 2)
#else
static FMA_OPT void gemm_packed_part(const void *p, int64_t b, int64_t e) PK_PART(4, 2, 1, 1, 1)
#endif

API int seq4j_packed_preferred(void) {
#ifdef SEQ4J_X86_CLONES
    return cpu_isa == ISA_AVX512 ? 2 : cpu_isa == ISA_AVX2 ? 1 : 0;
#else
    return 0;
#endif
}

/* c (m, n) = beta c, an empty sum (k = 0), without reading c when beta = 0 */
static void scale_rows(float *c, int m, int n, int ldc, float beta) {
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * (int64_t) ldc;
        for (int64_t j = 0; j < n; j++) ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
    }
}

static int64_t seq_align(void);

/* rows [b, e) of a product, all its panels (a read transposed, as seq4j_gemm_tn's, starts at column b) */
static void gemm_packed_rows_part(const void *p, int64_t b, int64_t e) {
    const struct gemm_packed_args *g = p;
    struct gemm_packed_args rows = *g;
    rows.c = g->c + b * g->ldc, rows.a = g->a + (g->ldb || g->ta ? b : b * g->lda), rows.m = e - b;
    gemm_packed_part(&rows, 0, (g->n + PANEL - 1) / PANEL);
}

/* rows [b, e) of c (row stride ldc) = a (row stride lda) times the packed (k, cols) + beta c, all its panels */
INLINE void packed_rows(float *c, int64_t ldc, const float *a, int64_t lda, const void *w, int64_t b, int64_t e,
                        int64_t cols, int64_t k, float beta, int bf16) {
    struct gemm_packed_args g = {c, a, w, e, cols, k, lda, ldc, beta, bf16, 0, 0};
    gemm_packed_rows_part(&g, b, e);
}

/*
 * The product's parts: runs of panels, a part at least ~64K multiply-adds (a few microseconds; waking a thread costs
 * more); or where c has too few panels for two such parts (a narrow c: W1's output layer, 512 x 13 x 128, and its
 * weight gradient 128 x 13 x 512, one panel on one thread), runs of rows on the row blocks' boundaries. A row's sums
 * are the same FMA chains whatever rows or panels share its part, so the split changes the speed, not the bits.
 */
static void run_product(int threads, const struct gemm_packed_args *g) {
    int64_t panels = (g->n + PANEL - 1) / PANEL, grain = 1 + 65536 / (g->m * g->k * PANEL);
    if (panels < 2 * grain && threads > 1 && g->m >= 2 * seq_align()) {
        parallel_for(threads, g->m, 1 + 65536 / (g->k * panels * PANEL), seq_align(), gemm_packed_rows_part, g);
    } else {
        parallel_for(threads, panels, grain, 2, gemm_packed_part, g);
    }
}

API void seq4j_gemm_packed(int threads, float *c, const float *a, const void *b, int m, int n, int k, int lda,
                           int ldc, float beta, int precision) {
    if (m <= 0 || n <= 0 || k < 0 || seq4j_packed_floats(k, n, precision) < 0) return;
    if (lda < (k > 1 ? k : 1) || ldc < n) return; /* rows would overlap: the Java side refused it */
    if (k == 0) {
        scale_rows(c, m, n, ldc, beta);
        return;
    }
    struct gemm_packed_args g = {c, a, b, m, n, k, lda, ldc, beta, precision == SEQ4J_PACKED_BF16, 0, 0};
    run_product(threads, &g);
}

/*
 * seq4j_gemm_tn with a partial last panel (n not a multiple of 16), or with at least TN_PACK_ROWS rows of c and more
 * than SLICE_FROM rows of k, first packs b into panels (in
 * a buffer kept for the process, TN_PACK_MAX floats at most; see tn_packed), then runs the same sliced blocks over the
 * panels: read where the cell backward wrote it, each row of a block's panels is a new page of b (W2's dA rows are
 * 10 KB apart), from the pack one run of lines. The blocks' loads are the same vectors, so the same bits.
 * bench/c/packed_bench.c, 2 threads, Zen 5, pack included: W2's 650 x 2600 x 2240 22.4-22.6 against 29.7-33.3 ms,
 * W4's 256 x 1024 x 3712 6.1-6.8 against 7.9-8.6 and 256 x 1024 x 1280 1.86-2.16 against 2.65-2.86 ms; build_ab w4
 * 0.93x either order. For W1's 128 rows it gained nothing (128 x 512 x 768 and 896 within noise, build_ab w1 1.02x),
 * hence the 256. A partial panel read from b as stored loads a row's last columns with a copy of variable length (no
 * vector reads past column n), which made W1's output-layer gradient 128 x 13 x 512 67 us on one thread; from the
 * pack (its padding zeros) 14 us, the pack's 3 us included (Zen 5). A c of one panel is split by rows (run_product):
 * for W1's 128 rows that gained nothing (15.1 against 14.8 us), but 1024 x 13 x 512 took 97 against 172 us and 4096 x
 * 13 x 256 179 against 348 (packed_bench, 2 threads; sgemm 183 and 374).
 */
#define TN_PACK_ROWS 256
#define TN_PACK_MAX (INT64_C(1) << 24) /* 64 MiB */

/* The buffer for seq4j_gemm_tn's packs: one for the process, grown to the largest pack and kept, used by one call at a
 * time; a call that finds it in use packs into a buffer of its own, freed on return. So the memory kept for packs is
 * one buffer however many threads call (a buffer a thread would keep up to 64 MiB for each thread of a server). */
static pthread_mutex_t tn_pack_lock = PTHREAD_MUTEX_INITIALIZER;
static float *tn_pack_buffer;
static int64_t tn_pack_floats;

/* seq4j_gemm_tn's product over its own pack of b (pack floats); 0 if no memory for it (nothing written) */
static int tn_packed(int threads, const struct gemm_packed_args *g, const float *b, int64_t ldb, int64_t pack,
                     int64_t panels) {
    float *own = NULL, *packed;
    int shared = pthread_mutex_trylock(&tn_pack_lock) == 0;
    if (shared) {
        if (tn_pack_floats < pack) {
            free(tn_pack_buffer);
            tn_pack_floats = 0;
            tn_pack_buffer = aligned_alloc(64, (size_t) pack * sizeof(float)); /* pack: whole panels of 16 floats */
            if (tn_pack_buffer != NULL) tn_pack_floats = pack;
        }
        packed = tn_pack_buffer;
    } else {
        packed = own = aligned_alloc(64, (size_t) pack * sizeof(float));
    }
    if (packed != NULL) {
        struct pack_args pa = {packed, b, g->k, g->n, ldb, 0, 0};
        parallel_for(threads, panels, 1 + 16384 / (g->k * PANEL), 1, pack_part, &pa);
        struct gemm_packed_args over = *g;
        over.b = packed;
        run_product(threads, &over);
    }
    if (shared) pthread_mutex_unlock(&tn_pack_lock);
    free(own);
    return packed != NULL;
}

/* c (m, n) = a^T b + beta c with a stored (k, m) and b (k, n), both row-major as stored (row strides lda >= m, ldb
 * >= n): a weight gradient h^T dA read where the cell backward wrote dA, without a pack (but for many rows of c and a
 * long k, TN_PACK_ROWS: then b is packed first, to the same bits). The blocks of
 * seq4j_gemm_packed with a's strides swapped (the broadcasts read a's column r at row kk), loading each row of a
 * block's panels from b's row kk instead of from packed panels: the same vectors, so the same sums in the same
 * order, bit for bit seq4j_gemm_packed over b packed and a transposed. The last, partial panel loads only the
 * columns below n. */
API void seq4j_gemm_tn(int threads, float *c, const float *a, const float *b, int m, int n, int k, int lda, int ldb,
                       int ldc, float beta) {
    if (m <= 0 || n <= 0 || k < 0) return;
    if (lda < m || ldb < n || ldc < n) return; /* rows would overlap: the Java side refused it */
    if (k == 0) {
        scale_rows(c, m, n, ldc, beta);
        return;
    }
    int64_t panels = ((int64_t) n + PANEL - 1) / PANEL;
    int64_t pack = seq4j_packed_floats(k, n, SEQ4J_PACKED_F32);
    /* b packed, a read transposed over the panels: for many rows and a long k, or where the last panel is partial */
    if (((m >= TN_PACK_ROWS && k > SLICE_FROM) || n % PANEL != 0) && pack <= TN_PACK_MAX) {
        struct gemm_packed_args over = {c, a, NULL, m, n, k, lda, ldc, beta, 0, 0, 1};
        if (tn_packed(threads, &over, b, ldb, pack, panels)) return;
    }
    struct gemm_packed_args g = {c, a, b, m, n, k, lda, ldc, beta, 0, ldb, 0};
    run_product(threads, &g);
}

/* ---- elementwise -------------------------------------------------------------------------------- */

/* Arguments of the flat kernels: outputs y*, inputs x*, scalars s*; each kernel's comment says which. */
struct ew_args {
    float *y, *y2, *y3, *y4;
    const float *x, *x2;
    int32_t *iy;
    float s0, s1, s2, s3;
    int32_t i0;
    uint64_t u0;
};

HOT_PART(fill_f32_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->s0;
}

API void seq4j_fill_f32(int threads, float *x, int64_t n, float value) {
    struct ew_args a = {.y = x, .s0 = value};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, fill_f32_part, &a);
}

HOT_PART(fill_i32_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->iy[i] = a->i0;
}

API void seq4j_fill_i32(int threads, int32_t *x, int64_t n, int32_t value) {
    struct ew_args a = {.iy = x, .i0 = value};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, fill_i32_part, &a);
}

HOT_PART(scale_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] *= a->s0;
}

API void seq4j_scale(int threads, float *x, int64_t n, float alpha) {
    struct ew_args a = {.y = x, .s0 = alpha};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, scale_part, &a);
}

HOT_PART(axpy_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] += a->s0 * a->x[i];
}

API void seq4j_axpy(int threads, float *y, const float *x, int64_t n, float alpha) {
    struct ew_args a = {.y = y, .x = x, .s0 = alpha};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, axpy_part, &a);
}

HOT_PART(mul_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->x[i] * a->x2[i];
}

API void seq4j_mul(int threads, float *out, const float *a, const float *b, int64_t n) {
    struct ew_args args = {.y = out, .x = a, .x2 = b};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, mul_part, &args);
}

API void seq4j_swap_axes01(int threads, int32_t *out, const int32_t *in, int n, int t, int f) {
    (void) threads; /* serial */
    for (int ni = 0; ni < n; ni++) {
        for (int ti = 0; ti < t; ti++) {
            memcpy(out + ((size_t) ti * n + ni) * f, in + ((size_t) ni * t + ti) * f, (size_t) f * sizeof *in);
        }
    }
}

API void seq4j_concat_columns(int threads, float *out, const float *a, const float *b, int m, int f1, int f2) {
    (void) threads; /* serial */
    size_t w = (size_t) f1 + f2;
    for (int r = 0; r < m; r++) {
        memcpy(out + r * w, a + (size_t) r * f1, (size_t) f1 * sizeof *a);
        memcpy(out + r * w + f1, b + (size_t) r * f2, (size_t) f2 * sizeof *b);
    }
}

API void seq4j_split_columns(int threads, float *da, float *db, const float *dout, int m, int f1, int f2) {
    (void) threads; /* serial */
    size_t w = (size_t) f1 + f2;
    for (int r = 0; r < m; r++) {
        memcpy(da + (size_t) r * f1, dout + r * w, (size_t) f1 * sizeof *da);
        memcpy(db + (size_t) r * f2, dout + r * w + f1, (size_t) f2 * sizeof *db);
    }
}

/* ---- bias and row sums -------------------------------------------------------------------------- */

/* Arguments of the row-wise kernels: outputs y*, inputs x*, ids, scalar s0, dimensions; each says which. */
struct rows_args {
    float *y, *y2;
    const float *x, *x2, *x3, *x4, *x5, *x6;
    const int32_t *ids;
    _Atomic int64_t *bad; /* where kernels that index with ids report the first bad one */
    float s0;
    int m, n, t, h, v;
};

/* rows [b, e) of y (m, n) += x (n) */
HOT_PART(add_bias_part) {
    const struct rows_args *a = p;
    for (int64_t r = b; r < e; r++) {
        float *row = a->y + r * a->n;
        for (int j = 0; j < a->n; j++) row[j] += a->x[j];
    }
}

API void seq4j_add_bias(int threads, float *y, const float *b, int m, int n) {
    struct rows_args a = {.y = y, .x = b, .n = n};
    parallel_for(threads, m, row_grain(n), 1, add_bias_part, &a);
}

/* columns [b, e): y[j] = s0 y[j] + sum over the m rows of x[:, j], in column blocks with double accumulators */
HOT_PART(sum_rows_part) {
    const struct rows_args *a = p;
    enum { BLOCK = 512 };
    double acc[BLOCK];
    for (int64_t j0 = b; j0 < e; j0 += BLOCK) {
        int w = e - j0 < BLOCK ? (int) (e - j0) : BLOCK;
        for (int j = 0; j < w; j++) acc[j] = 0.0;
        for (int r = 0; r < a->m; r++) {
            const float *row = a->x + (size_t) r * a->n + j0;
            for (int j = 0; j < w; j++) acc[j] += row[j];
        }
        for (int j = 0; j < w; j++) {
            double old = a->s0 == 0.0f ? 0.0 : (double) a->s0 * a->y[j0 + j];
            a->y[j0 + j] = (float) (old + acc[j]);
        }
    }
}

API void seq4j_sum_rows(int threads, float *out, const float *x, float beta, int m, int n) {
    struct rows_args a = {.y = out, .x = x, .s0 = beta, .m = m, .n = n};
    parallel_for(threads, n, row_grain(m), ELEMENT_ALIGN, sum_rows_part, &a);
}

/* ---- activations -------------------------------------------------------------------------------- */

HOT_FMA_PART(sigmoid_forward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = s4_sigmoid(a->x[i]);
}

API void seq4j_sigmoid_forward(int threads, float *y, const float *x, int64_t n) {
    struct ew_args a = {.y = y, .x = x};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, sigmoid_forward_part, &a);
}

/* y = dx, x = y (the activations), x2 = dy */
HOT_PART_256(sigmoid_backward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->x2[i] * a->x[i] * (1.0f - a->x[i]);
}

API void seq4j_sigmoid_backward(int threads, float *dx, const float *y, const float *dy, int64_t n) {
    struct ew_args a = {.y = dx, .x = y, .x2 = dy};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, sigmoid_backward_part, &a);
}

HOT_FMA_PART(tanh_forward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = s4_tanhf(a->x[i]);
}

API void seq4j_tanh_forward(int threads, float *y, const float *x, int64_t n) {
    struct ew_args a = {.y = y, .x = x};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, tanh_forward_part, &a);
}

/* y = dx, x = y (the activations), x2 = dy */
HOT_PART(tanh_backward_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] = a->x2[i] * (1.0f - a->x[i] * a->x[i]);
}

API void seq4j_tanh_backward(int threads, float *dx, const float *y, const float *dy, int64_t n) {
    struct ew_args a = {.y = dx, .x = y, .x2 = dy};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, tanh_backward_part, &a);
}

/* y (v) = softmax(x (v)) for one row; returns log(sum(exp(x - max))) and the max, for cross-entropy */
INLINE void softmax_row(float *y, const float *x, int v, float *max_out, float *logsum_out) {
    float max = x[0];
    for (int j = 1; j < v; j++) max = x[j] > max ? x[j] : max;
    float sum = 0.0f;
    for (int j = 0; j < v; j++) {
        float e = s4_expf(x[j] - max);
        y[j] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < v; j++) y[j] *= inv;
    *max_out = max;
    *logsum_out = logf(sum);
}

/* rows [b, e): y = softmax(x), n = v */
HOT_PART(softmax_forward_part) {
    const struct rows_args *a = p;
    float max, logsum;
    for (int64_t r = b; r < e; r++) softmax_row(a->y + r * a->n, a->x + r * a->n, a->n, &max, &logsum);
}

API void seq4j_softmax_forward(int threads, float *y, const float *x, int m, int v) {
    if (v <= 0) return; /* rows of nothing */
    struct rows_args a = {.y = y, .x = x, .n = v};
    parallel_for(threads, m, row_grain(4 * (int64_t) v), 1, softmax_forward_part, &a);
}

/* rows [b, e): y = dx, x = y (the probabilities), x2 = dy, n = v */
HOT_PART(softmax_backward_part) {
    const struct rows_args *a = p;
    int v = a->n;
    for (int64_t r = b; r < e; r++) {
        const float *yr = a->x + r * v, *dyr = a->x2 + r * v;
        float *dxr = a->y + r * v;
        float dot = 0.0f;
        for (int j = 0; j < v; j++) dot += yr[j] * dyr[j];
        for (int j = 0; j < v; j++) dxr[j] = yr[j] * (dyr[j] - dot);
    }
}

API void seq4j_softmax_backward(int threads, float *dx, const float *y, const float *dy, int m, int v) {
    struct rows_args a = {.y = dx, .x = y, .x2 = dy, .n = v};
    parallel_for(threads, m, row_grain(v), 1, softmax_backward_part, &a);
}

/* ---- LSTM cell ---------------------------------------------------------------------------------- */

/* One row of the cell. restrict lets GCC vectorise without runtime alias checks (there are too many
 * pointers for its limit of 10 checks); the caller's buffers never overlap (checked in Java). */
INLINE void lstm_row_forward(float *restrict f, float *restrict g, float *restrict i, float *restrict o,
                             float *restrict hn, float *restrict cn, const float *restrict cp, int h) {
    for (int j = 0; j < h; j++) {
        float fj = s4_sigmoid(f[j]), gj = s4_tanhf(g[j]), ij = s4_sigmoid(i[j]), oj = s4_sigmoid(o[j]);
        f[j] = fj;
        g[j] = gj;
        i[j] = ij;
        o[j] = oj;
        float c = fj * cp[j] + gj * ij;
        cn[j] = c;
        hn[j] = oj * s4_tanhf(c);
    }
}

/* forward: c = f c_prev + g i, h = o tanh(c). With dh = dh_next (+ dh_carry) and ds = dL/dc through both paths:
 *   ds = dc_next + dh_next o (1 - tanh(c)^2),  dc_prev = ds f,
 *   df = ds c_prev f (1 - f),  dg = ds i (1 - g^2),  di = ds g i (1 - i),  do = dh_next tanh(c) o (1 - o). */
INLINE void lstm_row_backward(float *restrict df, float *restrict dg, float *restrict di, float *restrict dO,
                              float *restrict dc_prev, const float *restrict f, const float *restrict g,
                              const float *restrict i, const float *restrict o, const float *restrict c_next,
                              const float *restrict c_prev, const float *restrict dh_next,
                              const float *restrict dh_carry, const float *restrict dc_next, int h, int carry) {
    for (int j = 0; j < h; j++) {
        float tc = s4_tanhf(c_next[j]);
        float dh = carry ? dh_next[j] + dh_carry[j] : dh_next[j]; /* carry: a constant where this is inlined */
        float ds = dc_next[j] + dh * o[j] * (1.0f - tc * tc);
        df[j] = ds * c_prev[j] * f[j] * (1.0f - f[j]);
        dg[j] = ds * i[j] * (1.0f - g[j] * g[j]);
        di[j] = ds * g[j] * i[j] * (1.0f - i[j]);
        dO[j] = dh * tc * o[j] * (1.0f - o[j]);
        dc_prev[j] = ds * f[j];
    }
}

#ifdef SEQ4J_X86_CLONES
/*
 * The forward row loop again, by hand in AVX2 + FMA, 8 units a vector (CELL_VECTORS of them a round), used where
 * the CPU has both. It runs the same exp polynomial as s4_expf, but the five divisions of an element (the
 * reciprocals in sigmoid and tanh, which GCC can only compile to vdivps: about half of the loop's time) become
 * vrcpps and one Newton step, r' = r + r (1 - d r): about 2 ulp instead of 0.5, well inside the transcendental
 * tolerance of the conformance tests. Out-of-range inputs behave as in the scalar loop: exp's argument is
 * clamped, NaN stays NaN (vmaxps and vminps return their second operand when either is NaN), and the
 * reciprocal of a value above 2^126 is 0, as the exact one rounds to within 1.2e-38 of it.
 */
#define V1(c) _mm256_set1_ps(c)

/* the end of exp(x) once x is clamped to [-87.3, 88.3] and n = round(x / ln 2) is known: r = x - n ln 2 (the first
 * product n ln2_hi subtracted from x by the caller, which may have x only as -x), then 2^n p(r) */
AVX2_INLINE __m256 v_exp_tail(__m256 n, __m256 r) {
    r = _mm256_fnmadd_ps(n, V1(-2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(V1(1.9875691500e-4f), r, V1(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, V1(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, V1(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, V1(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, V1(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), V1(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* exp(x) for x >= 0 or NaN (tanh's 2|x|): only the upper clamp is needed */
AVX2_INLINE __m256 v_exp_nonneg(__m256 x) {
    x = _mm256_min_ps(V1(88.3f), x);
    __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, V1(1.44269504088896341f), V1(12582912.0f)), V1(12582912.0f));
    return v_exp_tail(n, _mm256_fnmadd_ps(n, V1(0.693359375f), x));
}

/* exp(-x), the negation folded into the range reduction: with x clamped to [-88.3, 87.3], n = round(x (-log2 e))
 * and r = -(n ln2_hi) - x take the values that exp(-x) computes from -x, each rounded once, so the result is the
 * same to the bit without the negation */
AVX2_INLINE __m256 v_exp_neg(__m256 x) {
    x = _mm256_max_ps(V1(-88.3f), _mm256_min_ps(V1(87.3f), x));
    __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, V1(-1.44269504088896341f), V1(12582912.0f)), V1(12582912.0f));
    return v_exp_tail(n, _mm256_fnmsub_ps(n, V1(0.693359375f), x));
}

AVX2_INLINE __m256 v_rcp(__m256 d) {
    __m256 r = _mm256_rcp_ps(d);
    return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, V1(1.0f)), r);
}

AVX2_INLINE __m256 v_sigmoid(__m256 x) {
    return v_rcp(_mm256_add_ps(V1(1.0f), v_exp_neg(x)));
}

/* s4_tanhf's two branches, both computed, one selected per lane */
AVX2_INLINE __m256 v_tanh(__m256 x) {
    const __m256 sign = V1(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign, x), z = _mm256_mul_ps(x, x);
    __m256 small = _mm256_fmadd_ps(V1(-5.70498872745e-3f), z, V1(2.06390887954e-2f));
    small = _mm256_fmadd_ps(small, z, V1(-5.37397155531e-2f));
    small = _mm256_fmadd_ps(small, z, V1(1.33314422036e-1f));
    small = _mm256_fmadd_ps(small, z, V1(-3.33332819422e-1f));
    small = _mm256_fmadd_ps(_mm256_mul_ps(small, z), x, x);
    __m256 large = _mm256_fnmadd_ps(V1(2.0f), v_rcp(_mm256_add_ps(v_exp_nonneg(_mm256_add_ps(ax, ax)), V1(1.0f))), V1(1.0f));
    large = _mm256_or_ps(large, _mm256_and_ps(x, sign));
    return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, V1(0.625f), _CMP_LT_OQ));
}

/* CELL_VECTORS vectors of units a round (the AVX-512 loop's too): each unit's result is the same chain of operations,
 * so the same bits as one vector a round; the rounds' independent chains fill the FP pipes that one vector's exp, wait
 * and reciprocal leave idle. Measured (bench/c/lstm_cell_ab.c, Zen 5, 6 rounds) against one vector a round: AVX-512
 * 128 x 128 0.84x the time on 1 thread and 0.83x on 2, 64 x 650 0.76x and 0.88x, 1 x 256 0.82x; AVX2 (SEQ4J_CPU_ISA)
 * 0.81x, 0.84x, 0.84x, 0.85x, 0.81x. Two vectors gained about half of that, eight (32 registers of gates alone)
 * lost 1.1-1.35x against four */
#define CELL_VECTORS 4

/* n vectors of units from unit j (n a constant where this is inlined) */
AVX2_INLINE void lstm_round_avx2(float *f, float *g, float *i, float *o, float *hn, float *cn, const float *cp, int j,
                                 const int n) {
    __m256 fu[CELL_VECTORS], gu[CELL_VECTORS], iu[CELL_VECTORS], ou[CELL_VECTORS];
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        fu[u] = v_sigmoid(_mm256_loadu_ps(f + j + 8 * u));
        gu[u] = v_tanh(_mm256_loadu_ps(g + j + 8 * u));
        iu[u] = v_sigmoid(_mm256_loadu_ps(i + j + 8 * u));
        ou[u] = v_sigmoid(_mm256_loadu_ps(o + j + 8 * u));
    }
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        int ju = j + 8 * u;
        _mm256_storeu_ps(f + ju, fu[u]);
        _mm256_storeu_ps(g + ju, gu[u]);
        _mm256_storeu_ps(i + ju, iu[u]);
        _mm256_storeu_ps(o + ju, ou[u]);
        __m256 c = _mm256_fmadd_ps(fu[u], _mm256_loadu_ps(cp + ju), _mm256_mul_ps(gu[u], iu[u]));
        _mm256_storeu_ps(cn + ju, c);
        _mm256_storeu_ps(hn + ju, _mm256_mul_ps(ou[u], v_tanh(c)));
    }
}

static AVX2 void lstm_row_forward_avx2(float *f, float *g, float *i, float *o, float *hn, float *cn,
                                       const float *cp, int h) {
    int j = 0;
    for (; j + 8 * CELL_VECTORS <= h; j += 8 * CELL_VECTORS) lstm_round_avx2(f, g, i, o, hn, cn, cp, j, CELL_VECTORS);
    for (; j + 8 <= h; j += 8) lstm_round_avx2(f, g, i, o, hn, cn, cp, j, 1);
    if (j < h) lstm_row_forward(f + j, g + j, i + j, o + j, hn + j, cn + j, cp + j, h - j);
}


/*
 * The same loop in AVX-512, 16 units a vector, the last rounds one vector each, the tail under a mask (no scalar
 * remainder). vrcp14ps is accurate to 2^-14 where vrcpps is to 2^-12, so after the same Newton step the reciprocal is within about
 * 1 ulp. exp takes its table form (w_exp_tail): 4 multiply-adds fewer per exp, five exps an element, which makes
 * the loop about 1.25x faster on Zen 4 (bench/c/lstm_cell_ab.c, N x H = 128 x 128, 64 x 650, 1 x 256). Measured
 * against float64 (bench/c/lstm_cell_ulp.c: 5M units, gates up to +-100, results below 1e-30 left out): sigmoid
 * within 3.1 ulp (mean 0.39) and tanh within 1.4 (mean 0.20), against 2.4 and 1.3 with the AVX2 loop's exp here,
 * and 3.2 and 1.7 for the AVX2 loop; so the clones round differently, by a few ulp, far inside the conformance
 * tests' 1e-5.
 */
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define W1(c) _mm512_set1_ps(c)

/*
 * exp in 16ths of an octave: x = (16 m + k) ln2/16 + r with |r| <= ln2/32, exp(x) = 2^m 2^(k/16) e^r. The rounding
 * constant 1.5 * 2^19 has an ulp of 1/16, so t = x log2 e + 1.5 * 2^19, rounded once, is 1.5 * 2^19 + n/16 (n =
 * 16 m + k): its low four mantissa bits are k, the index vpermps reads into the table of 2^(k/16), and
 * vscalefps multiplies by 2^floor(n/16) = 2^m. e^r to degree 3 (the next term, r^4/24 < 6e-10, is below float's
 * precision) takes three FMAs where the polynomial on [-ln2/2, ln2/2] takes seven.
 */
AVX512_INLINE __m512 w_exp_tail(__m512 t, __m512 r) {
    static const float pow2_16ths[16] = {
        0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fe0p+0f, 0x1.3dea64p+0f,
        0x1.4bfdaep+0f, 0x1.5ab07ep+0f, 0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
        0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};
    __m512 n16 = _mm512_sub_ps(t, W1(786432.0f));
    r = _mm512_fnmadd_ps(n16, W1(-2.12194440e-4f), r);
    __m512 q = _mm512_fmadd_ps(W1(1.0f / 6.0f), r, W1(0.5f));
    q = _mm512_fmadd_ps(q, r, W1(1.0f));
    __m512 tab = _mm512_permutexvar_ps(_mm512_castps_si512(t), _mm512_loadu_ps(pow2_16ths));
    /* 2^(k/16) e^r = 2^(k/16) + (2^(k/16) r) q, rounded once at the end */
    return _mm512_scalef_ps(_mm512_fmadd_ps(_mm512_mul_ps(tab, r), q, tab), n16);
}

AVX512_INLINE __m512 w_exp_nonneg(__m512 x) {
    x = _mm512_min_ps(W1(88.3f), x);
    __m512 t = _mm512_fmadd_ps(x, W1(1.44269504088896341f), W1(786432.0f));
    return w_exp_tail(t, _mm512_fnmadd_ps(_mm512_sub_ps(t, W1(786432.0f)), W1(0.693359375f), x));
}

AVX512_INLINE __m512 w_exp_neg(__m512 x) {
    x = _mm512_max_ps(W1(-88.3f), _mm512_min_ps(W1(87.3f), x));
    __m512 t = _mm512_fmadd_ps(x, W1(-1.44269504088896341f), W1(786432.0f));
    return w_exp_tail(t, _mm512_fnmsub_ps(_mm512_sub_ps(t, W1(786432.0f)), W1(0.693359375f), x));
}

AVX512_INLINE __m512 w_rcp(__m512 d) {
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, W1(1.0f)), r);
}

AVX512_INLINE __m512 w_sigmoid(__m512 x) {
    return w_rcp(_mm512_add_ps(W1(1.0f), w_exp_neg(x)));
}

AVX512_INLINE __m512 w_tanh(__m512 x) {
    __m512 ax = _mm512_abs_ps(x), z = _mm512_mul_ps(x, x);
    __m512 small = _mm512_fmadd_ps(W1(-5.70498872745e-3f), z, W1(2.06390887954e-2f));
    small = _mm512_fmadd_ps(small, z, W1(-5.37397155531e-2f));
    small = _mm512_fmadd_ps(small, z, W1(1.33314422036e-1f));
    small = _mm512_fmadd_ps(small, z, W1(-3.33332819422e-1f));
    small = _mm512_fmadd_ps(_mm512_mul_ps(small, z), x, x);
    __m512 large = _mm512_fnmadd_ps(W1(2.0f), w_rcp(_mm512_add_ps(w_exp_nonneg(_mm512_add_ps(ax, ax)), W1(1.0f))), W1(1.0f));
    /* large | (x & sign) in one vpternlogd (0xF8: a | (b & c)) */
    large = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(large), _mm512_castps_si512(x),
                                                          _mm512_set1_epi32(INT32_MIN), 0xF8));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, W1(0.625f), _CMP_LT_OQ), large, small);
}

/* n vectors of units from unit j (n a constant where this is inlined); a partial last vector (n = 1) under mask m,
 * whole vectors unmasked (masked, the rounds of four took 1.03-1.06x the time) */
#define W_LD(p, d) (n == 1 ? _mm512_maskz_loadu_ps(m, (p) + (d)) : _mm512_loadu_ps((p) + (d)))
#define W_ST(p, d, v) (n == 1 ? _mm512_mask_storeu_ps((p) + (d), m, (v)) : _mm512_storeu_ps((p) + (d), (v)))
AVX512_INLINE void lstm_round_avx512(float *f, float *g, float *i, float *o, float *hn, float *cn, const float *cp,
                                     int j, const int n, __mmask16 m) {
    __m512 fu[CELL_VECTORS], gu[CELL_VECTORS], iu[CELL_VECTORS], ou[CELL_VECTORS];
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        int ju = j + 16 * u;
        fu[u] = w_sigmoid(W_LD(f, ju));
        gu[u] = w_tanh(W_LD(g, ju));
        iu[u] = w_sigmoid(W_LD(i, ju));
        ou[u] = w_sigmoid(W_LD(o, ju));
    }
    _Pragma("GCC unroll 8")
    for (int u = 0; u < n; u++) {
        int ju = j + 16 * u;
        W_ST(f, ju, fu[u]);
        W_ST(g, ju, gu[u]);
        W_ST(i, ju, iu[u]);
        W_ST(o, ju, ou[u]);
        __m512 c = _mm512_fmadd_ps(fu[u], W_LD(cp, ju), _mm512_mul_ps(gu[u], iu[u]));
        W_ST(cn, ju, c);
        W_ST(hn, ju, _mm512_mul_ps(ou[u], w_tanh(c)));
    }
}
#undef W_LD
#undef W_ST

static AVX512 void lstm_row_forward_avx512(float *f, float *g, float *i, float *o, float *hn, float *cn,
                                           const float *cp, int h) {
    int j = 0;
    for (; j + 16 * CELL_VECTORS <= h; j += 16 * CELL_VECTORS) {
        lstm_round_avx512(f, g, i, o, hn, cn, cp, j, CELL_VECTORS, (__mmask16) 0xFFFF);
    }
    for (; j < h; j += 16) {
        __mmask16 m = h - j >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (h - j)) - 1);
        lstm_round_avx512(f, g, i, o, hn, cn, cp, j, 1, m);
    }
}

#else
#define lstm_row_forward_avx512 lstm_row_forward /* never called: cpu_isa is ISA_BASELINE */
#define lstm_row_forward_avx2 lstm_row_forward /* never called: cpu_isa is ISA_BASELINE */
#endif

/* the arguments of both cell kernels, rows_args: y = h_next / dA, y2 = c_next / dc_prev, x = gates, x2 = c_prev /
 * c_next, x3 = c_prev, x4 = dh_next, x5 = dc_next, x6 = dh_carry (or NULL), m = n (rows) */

/* rows [r0, r1), hidden units [j0, j1) of the forward; the gates are written over with the activations */
HOT_FMA_FN(lstm_forward_block, (const struct rows_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    int w = (int) (j1 - j0);
    enum isa isa = cpu_isa;
    for (int64_t r = r0; r < r1; r++) {
        float *f = (float *) a->x + r * 4 * h + j0;
        size_t k = r * h + j0;
        if (isa == ISA_AVX512) {
            lstm_row_forward_avx512(f, f + h, f + 2 * h, f + 3 * h, a->y + k, a->y2 + k, a->x2 + k, w);
        } else if (isa == ISA_AVX2) {
            lstm_row_forward_avx2(f, f + h, f + 2 * h, f + 3 * h, a->y + k, a->y2 + k, a->x2 + k, w);
        } else {
            lstm_row_forward(f, f + h, f + 2 * h, f + 3 * h, a->y + k, a->y2 + k, a->x2 + k, w);
        }
    }
}

/* the backward is bound by memory, not by its one tanh: GCC's loop is enough. Measured on Zen 4, one thread, 128 x 128:
 * 15.5 us with everything in L1/L2, about the same with the 12 time steps' buffers cycling through L3, 35 us and
 * 86-100 us after 16 MB and 64 MB of other traffic (the ~900 KB it touches then comes partly or wholly from DRAM);
 * a hand AVX-512 loop (masked tail, the forward's tanh) measured 0.96-1.0x, and prefetching the next rows 1, 2
 * or 4 ahead no gain, so neither is here */
HOT_FMA_FN(lstm_backward_block, (const struct rows_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    for (int64_t r = r0; r < r1; r++) {
        const float *f = a->x + r * 4 * h + j0;
        float *d = a->y + r * 4 * h + j0;
        size_t k = r * h + j0;
        if (a->x6 != NULL) { /* two loops, each vectorised: without and with a carried dh */
            lstm_row_backward(d, d + h, d + 2 * h, d + 3 * h, a->y2 + k, f, f + h, f + 2 * h, f + 3 * h, a->x2 + k,
                              a->x3 + k, a->x4 + k, a->x6 + k, a->x5 + k, (int) (j1 - j0), 1);
        } else {
            lstm_row_backward(d, d + h, d + 2 * h, d + 3 * h, a->y2 + k, f, f + h, f + 2 * h, f + 3 * h, a->x2 + k,
                              a->x3 + k, a->x4 + k, NULL, a->x5 + k, (int) (j1 - j0), 0);
        }
    }
}

static void lstm_forward_rows(const void *p, int64_t b, int64_t e) {
    lstm_forward_block(p, b, e, 0, ((const struct rows_args *) p)->h);
}

static void lstm_forward_units(const void *p, int64_t b, int64_t e) {
    lstm_forward_block(p, 0, ((const struct rows_args *) p)->m, b, e);
}

static void lstm_backward_rows(const void *p, int64_t b, int64_t e) {
    lstm_backward_block(p, b, e, 0, ((const struct rows_args *) p)->h);
}

static void lstm_backward_units(const void *p, int64_t b, int64_t e) {
    lstm_backward_block(p, 0, ((const struct rows_args *) p)->m, b, e);
}

/*
 * Parts of at least `grain` elements, about half a microsecond of work, which a spinning thread takes up in
 * less (measured: the forward, five exps an element, takes about 3.5 ns an element on one core, 2.8 ns since
 * the AVX-512 table exp; the backward, bound by memory, about 1 to 2 ns from cache). Rows are split where there are enough of them; a few rows
 * (inference with N = 1, where the cell is a tenth of a step) are split by hidden units.
 */
static void lstm_parallel(int threads, const struct rows_args *a, int64_t grain, part_fn rows, part_fn units) {
    int64_t n = a->m, h = a->h;
    if (n <= 0 || h <= 0) return; /* nothing to compute (and no division by zero below) */
    if (n >= 2 * (int64_t) threads) {
        parallel_for(threads, n, 1 + grain / h, 1, rows, a);
    } else {
        parallel_for(threads, h, grain / n, ELEMENT_ALIGN, units, a);
    }
}

API void seq4j_lstm_cell_forward(int threads, float *h_next, float *c_next, float *gates, const float *c_prev,
                                 int n, int h) {
    struct rows_args a = {.y = h_next, .y2 = c_next, .x = gates, .x2 = c_prev, .m = n, .h = h};
    /* 1024, not 128: split over threads, 1 x 256 took 2.1 us against 0.8 us on one thread (bench/c/cell_grain_bench.c,
     * 2 cores); parts now hold >= 1024 elements (~3.5 us), so N = 1 inference (H < 2048) stays on one thread */
    lstm_parallel(threads, &a, 1024, lstm_forward_rows, lstm_forward_units);
}

API void seq4j_lstm_cell_backward(int threads, float *dA, float *dc_prev, const float *gates, const float *c_next,
                                  const float *c_prev, const float *dh_next, const float *dh_carry,
                                  const float *dc_next, int n, int h) {
    struct rows_args a = {.y = dA, .y2 = dc_prev, .x = gates, .x2 = c_next, .x3 = c_prev, .x4 = dh_next,
                          .x5 = dc_next, .x6 = dh_carry, .m = n, .h = h};
    lstm_parallel(threads, &a, 256, lstm_backward_rows, lstm_backward_units);
}

/* ---- ids ----------------------------------------------------------------------------------------- */
/*
 * Ids and labels live in memory that Java code may change between AbstractBackend's check and the kernel,
 * so every kernel reads each id exactly once (an atomic load: the compiler may not read it again after the
 * check), checks it, and skips it if it is out of range; the first bad one (lowest position) is kept in the
 * call's status, SEQ4J_BAD_ID(position, id), whichever part found it.
 */
INLINE int32_t load_id(const int32_t *ids, int64_t i) {
    return __atomic_load_n(ids + i, __ATOMIC_RELAXED);
}

static void report_bad_id(_Atomic int64_t *bad, int64_t position, int32_t id) {
    int64_t status = SEQ4J_BAD_ID(position, id);
    int64_t seen = atomic_load_explicit(bad, memory_order_relaxed);
    while ((seen == 0 || status < seen)
           && !atomic_compare_exchange_weak_explicit(bad, &seen, status, memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* columns [c0, c0 + w) of rows [b, e) of y (row stride d) = those of rows ids[first + r] of x (v, d); a row whose id
 * is bad is zeroed there and reported at its position first + r */
static void gather_columns(float *y, const float *x, const int32_t *ids, int64_t first, int64_t b, int64_t e,
                           int64_t v, size_t d, size_t c0, size_t w, _Atomic int64_t *bad) {
    for (int64_t r = b; r < e; r++) {
        int32_t id = load_id(ids, first + r);
        if ((uint32_t) id >= (uint32_t) v) {
            report_bad_id(bad, first + r, id);
            memset(y + r * d + c0, 0, w * sizeof(float));
        } else {
            memcpy(y + r * d + c0, x + (size_t) id * d + c0, w * sizeof(float));
        }
    }
}

/* rows [b, e) of y (row stride d) = rows ids[first + r] of x (v, d), whole (gather_columns) */
static void gather_rows(float *y, const float *x, const int32_t *ids, int64_t first, int64_t b, int64_t e, int64_t v,
                        size_t d, _Atomic int64_t *bad) {
    gather_columns(y, x, ids, first, b, e, v, d, 0, d, bad);
}

/* ---- the LSTM recurrence, whole sequences ------------------------------------------------------- */
/*
 * A step's rows depend only on the same rows of the step before (h_t = cell(A_t + h_{t-1} Wh) row by row; dA_t and
 * dh_{t-1} from dh_t, dc_t row by row), so a sequence splits by rows into parts that run all T steps on their own:
 * one job for the whole recurrence instead of two a step, no barrier between steps, and each step's gates, h and
 * dA still in the core's cache when the next call reads them. Each part runs the same blocks (gemm_packed_part over
 * its rows, lstm_forward_block / lstm_backward_block) as the per-step calls: every row's sums are the same FMA
 * chains in the same order whatever rows share a part, so the result is bit for bit the per-step loop's.
 * Each core reads the whole packed Wh at every step (the per-step split reads half by columns): it pays while the
 * packed Wh stays in a core's L2, which is for the Java side to decide (OpenBlasBackend.sequencePays).
 */
struct lstm_seq_args {
    float *hs_out, *cs_out, *gates; /* forward: hs, cs (t + 1, n, h), gates (t, n, 4h); backward: dA (t, n, 4h) in gates */
    float *dh0, *dc0, *work; /* backward: (n, h) each; work (3, n, h): the carried dh, two cell gradients */
    const float *saved, *cs, *dhs, *dh_last, *dc_last; /* backward: the forward's gates and cs; dhs or dh_last */
    const void *w;         /* Wh (h, 4h) packed, or Wh^T (4h, h) packed */
    int64_t t, n, hid;
    int skip_first;        /* forward: step 0 has no product (h_0 = 0) */
    int bf16;
    const float *table;    /* forward: NULL, or each step's rows of gates are first rows ids[s, r] of table (v, 4h) */
    const int32_t *ids;    /* (t, n) */
    int64_t v;
    _Atomic int64_t *bad;  /* the first bad id, as seq4j_embedding_forward reports it */
    int team;              /* forward by units (lstm_forward_team_part): the parts, */
    _Atomic int64_t *arrived; /* and their arrivals at the ends of steps */
};

static void lstm_forward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct lstm_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 4 * h;
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hs = a->hs_out + s * n * h, *cs = a->cs_out + s * n * h;
        if (a->table != NULL) gather_rows(gs, a->table, a->ids, s * n, b, e, a->v, (size_t) g, a->bad);
        if (s > 0 || !a->skip_first) packed_rows(gs, g, hs, h, a->w, b, e, g, h, 1.0f, a->bf16);
        struct rows_args r = {.y = hs + n * h, .y2 = cs + n * h, .x = gs, .x2 = cs, .m = (int) n, .h = (int) h};
        lstm_forward_block(&r, b, e, 0, h);
    }
}

/*
 * Too few rows for parts of rows (N = 1 inference): a team of threads splits every step by hidden units instead. Part p
 * owns units [u0, u1) (on panel boundaries): it computes their gates, the four runs of columns g H + [u0, u1) of the
 * step's product, and their cell, writing h and c of its units, then waits at the step's barrier for the other parts'
 * units of h, which the next step's product reads whole. One job for the sequence and the cell on every thread, where
 * the per-step loop ran two jobs a step, the cell on one thread; and each core reads the same panels of Wh at every
 * step, kept in its own L2. Each column's sum is the same FMA chain whatever part computes it, so the result is bit for
 * bit the per-step loop's. Ids are read (and checked) once by each part, for its own columns.
 */
static void lstm_forward_team_part(const void *p, int64_t part, int64_t end) {
    (void) end;
    const struct lstm_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 4 * h, u0, u1;
    part_range(h, PANEL, a->team, (int) part, &u0, &u1);
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hs = a->hs_out + s * n * h, *cs = a->cs_out + s * n * h;
        for (int64_t gate = 0; gate < 4; gate++) {
            int64_t c0 = gate * h + u0, c1 = gate * h + u1;
            if (a->table != NULL) {
                gather_columns(gs, a->table, a->ids, s * n, 0, n, a->v, (size_t) g, (size_t) c0, (size_t) (c1 - c0),
                               a->bad);
            }
            if (s > 0 || !a->skip_first) {
                struct gemm_packed_args pr = {gs, hs, a->w, n, g, h, h, g, 1.0f, a->bf16, 0, 0};
                gemm_packed_part(&pr, c0 / PANEL, c1 / PANEL);
            }
        }
        struct rows_args r = {.y = hs + n * h, .y2 = cs + n * h, .x = gs, .x2 = cs, .m = (int) n, .h = (int) h};
        lstm_forward_block(&r, 0, n, u0, u1);
        if (s < a->t - 1) team_barrier(a->arrived, a->team, s + 1);
    }
}

/* The team for a few-row forward split by units (lstm_forward_team_part, gru_forward_team_part), or 0 for the per-step
 * loop: at least two threads, units on panel boundaries and at least a panel a part, a step's products (`gates` H
 * columns of n x H sums) worth splitting (seq4j_gemm_packed's grain: ~64K multiply-adds a part), and at least 128 KiB
 * of weights read by a part between two of the step's `barriers`. Measured on Zen 5, 1 x 256, 29 steps (2 threads
 * against the per-step loop): the LSTM (one barrier a step) F32 0.76-0.81x the time, BF16 0.77-0.82x; the GRU (two)
 * F32 0.83x, but BF16 1.16x (96 KiB a part between barriers), which the last condition leaves to the loop */
static int forward_team(int threads, int64_t n, int64_t h, int gates, int barriers, int bf16) {
    if (threads < 2 || h % PANEL != 0) return 0;
    int64_t team = threads, panels = h / PANEL;
    int helpers = seq4j_pool_workers(); /* starts the pool: pool.cpus is set after it */
    if (team > panels) team = panels;
    if (team > helpers + 1) team = helpers + 1;
    if (team > pool.cpus) team = pool.cpus; /* parts that wait for each other need a core each */
    double step = (double) gates * (double) n * (double) h * (double) h; /* multiply-adds (in double: no overflow) */
    double bytes = bf16 ? 2.0 : 4.0;
    while (team >= 2 && (step / team < 65536.0 || step / team / barriers * bytes < 131072.0)) team--;
    return team >= 2 ? (int) team : 0;
}

static void lstm_backward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct lstm_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 4 * h, nh = n * h;
    float *carry = a->work, *ping = a->work + nh, *pong = a->work + 2 * nh;
    /* the last step's dc_next: dc_last, or zeros, in this part's rows of ping (dc_last may be any caller's buffer) */
    for (int64_t r = b; r < e; r++) {
        if (a->dc_last != NULL) memcpy(ping + r * h, a->dc_last + r * h, (size_t) h * sizeof(float));
        else memset(ping + r * h, 0, (size_t) h * sizeof(float));
    }
    float *dc_next = ping, *dc_prev = pong;
    for (int64_t s = a->t - 1; s >= 0; s--) {
        /* dh = dhs_t + the dh carried from step s + 1; at the last step dhs_t (or dh_last) alone, and without dhs
         * the carried one alone */
        const float *dh_next = a->dhs != NULL ? a->dhs + s * nh : s == a->t - 1 ? a->dh_last : carry;
        const float *dh_carry = s < a->t - 1 && a->dhs != NULL ? carry : NULL;
        float *dA = a->gates + s * g * n;
        struct rows_args r = {.y = dA, .y2 = dc_prev, .x = a->saved + s * g * n, .x2 = a->cs + (s + 1) * nh,
                              .x3 = a->cs + s * nh, .x4 = dh_next, .x5 = dc_next, .x6 = dh_carry, .m = (int) n,
                              .h = (int) h};
        lstm_backward_block(&r, b, e, 0, h);
        /* dh_{t-1} = dA_t Wh^T: carried into step s - 1 (its rows of carry were read just above), or out as dh0
         * (none when dh0 is NULL) */
        if (s > 0 || a->dh0 != NULL) packed_rows(s > 0 ? carry : a->dh0, h, dA, g, a->w, b, e, h, g, 0.0f, a->bf16);
        float *t = dc_next;
        dc_next = dc_prev;
        dc_prev = t;
    }
    for (int64_t r = b; r < e; r++) memcpy(a->dc0 + r * h, dc_next + r * h, (size_t) h * sizeof(float));
}

/* rows per part: at least SEQ_ROWS, and on multiples of the clone's block of rows (seq_align), so that no part ends
 * in a partial block: on multiples of 8 the v3 clone (6-row blocks) ran every 16-row part as 6 + 6 + 4, a quarter of
 * W1's recurrent rows in 4 x 1 blocks (8 accumulators for 12: 18% slower a row, perf). Up to BALANCE parts a thread
 * (parallel_for_balanced): a core that runs late leaves its last parts to the other, where one part a thread made
 * the other wait out the whole difference (bench/c/build_ab.c: W2's sequence calls 0.97-0.99x the time, W1's
 * pool-job kernels 0.98x, in either order of the two builds; the same bits) */
#define SEQ_ROWS 8

static int64_t seq_align(void) {
#ifdef SEQ4J_X86_CLONES
    return cpu_isa == ISA_AVX2 ? PK_MR_V3 : PK_MR_V4; /* the baseline's blocks of 2 rows divide 8 */
#elif defined(__aarch64__)
    return PK_MR_AARCH64;
#else
    return SEQ_ROWS; /* the generic PK_PART's blocks of 2 rows divide it */
#endif
}

API int64_t seq4j_lstm_forward_seq(int threads, float *hs, float *cs, float *gates, const void *wh, int t, int n,
                                   int h, int skip_first, int precision, const float *table, const int32_t *ids, int v) {
    if (t <= 0 || n <= 0 || h <= 0 || seq4j_packed_floats(h, 4 * h, precision) < 0) return 0;
    if (table != NULL && (ids == NULL || v < 0)) return 0; /* the Java side refused it */
    _Atomic int64_t bad = 0, arrived = 0;
    struct lstm_seq_args a = {.hs_out = hs, .cs_out = cs, .gates = gates, .w = wh, .t = t, .n = n, .hid = h,
                              .skip_first = skip_first != 0, .bf16 = precision == SEQ4J_PACKED_BF16, .table = table,
                              .ids = ids, .v = v, .bad = &bad, .arrived = &arrived};
    if (n < 2 * SEQ_ROWS) { /* too few rows for two parts: a team split by units, or the per-step calls */
        a.team = forward_team(threads, n, h, 4, 1, a.bf16);
        if (run_team(a.team, lstm_forward_team_part, &a)) return atomic_load(&bad);
        int64_t nh = (int64_t) n * h, ng = 4 * nh;
        for (int64_t s = 0; s < t; s++) {
            if (table != NULL) gather_rows(gates + s * ng, table, ids, s * n, 0, n, v, (size_t) (4 * h), &bad);
            if (s > 0 || !skip_first) {
                seq4j_gemm_packed(threads, gates + s * ng, hs + s * nh, wh, n, 4 * h, h, h, 4 * h, 1.0f, precision);
            }
            seq4j_lstm_cell_forward(threads, hs + (s + 1) * nh, cs + (s + 1) * nh, gates + s * ng, cs + s * nh, n, h);
        }
        return atomic_load(&bad);
    }
    parallel_for_balanced(threads, n, SEQ_ROWS, seq_align(), lstm_forward_seq_part, &a);
    return atomic_load(&bad);
}

API void seq4j_lstm_backward_seq(int threads, float *dA, float *dh0, float *dc0, float *work, const float *gates,
                                 const float *cs, const float *dhs, const float *dh_last, const float *dc_last,
                                 const void *wht, int t, int n, int h, int precision) {
    if (t <= 0 || n <= 0 || h <= 0 || (dhs == NULL && dh_last == NULL)) return;
    if (seq4j_packed_floats(4 * h, h, precision) < 0) return;
    struct lstm_seq_args a = {.gates = dA, .dh0 = dh0, .dc0 = dc0, .work = work, .saved = gates, .cs = cs,
                              .dhs = dhs, .dh_last = dh_last, .dc_last = dc_last, .w = wht, .t = t, .n = n, .hid = h,
                              .bf16 = precision == SEQ4J_PACKED_BF16};
    if (n < 2 * SEQ_ROWS) { /* as the forward: the per-step calls */
        int64_t nh = (int64_t) n * h, ng = 4 * nh;
        float *carry = work, *next = work + nh, *prev = work + 2 * nh;
        if (dc_last != NULL) memcpy(next, dc_last, (size_t) nh * sizeof(float));
        else memset(next, 0, (size_t) nh * sizeof(float));
        for (int64_t s = t - 1; s >= 0; s--) {
            const float *dh_next = dhs != NULL ? dhs + s * nh : s == t - 1 ? dh_last : carry;
            seq4j_lstm_cell_backward(threads, dA + s * ng, prev, gates + s * ng, cs + (s + 1) * nh, cs + s * nh, dh_next,
                                     s < t - 1 && dhs != NULL ? carry : NULL, next, n, h);
            if (s > 0 || dh0 != NULL) {
                seq4j_gemm_packed(threads, s > 0 ? carry : dh0, dA + s * ng, wht, n, h, 4 * h, 4 * h, h, 0.0f, precision);
            }
            float *swap = next;
            next = prev;
            prev = swap;
        }
        memcpy(dc0, next, (size_t) nh * sizeof(float));
        return;
    }
    parallel_for_balanced(threads, n, SEQ_ROWS, seq_align(), lstm_backward_seq_part, &a);
}

/* ---- embedding ---------------------------------------------------------------------------------- */

/* rows [b, e): y = out (m, d), x = W (v, d), n = d; a row whose id is bad is zeroed */
static void embedding_forward_part(const void *p, int64_t b, int64_t e) {
    const struct rows_args *a = p;
    gather_rows(a->y, a->x, a->ids, 0, b, e, a->v, (size_t) a->n, a->bad);
}

API int64_t seq4j_embedding_forward(int threads, float *out, const float *W, const int32_t *ids, int m, int v,
                                    int d) {
    _Atomic int64_t bad = 0;
    struct rows_args a = {.y = out, .x = W, .ids = ids, .bad = &bad, .n = d, .v = v};
    parallel_for(threads, m, row_grain(d) * 4, 1, embedding_forward_part, &a);
    return atomic_load(&bad);
}

/* columns [b, e) of every row: y = dW (v, d), x = dout (m, d), n = d. Threads own disjoint columns of
 * dW, so duplicate ids never race and rows are summed in the order of the ids, as in the reference.
 * The columns go in blocks of EMBED_BLOCK, and while one row's slice is added, the slices of the rows
 * EMBED_AHEAD further on are prefetched: dout streams from L3 or memory (W4's encoder scatter reads
 * 15 MB into 59 rows), and the prefetch hides that latency. Each element is still summed in row order,
 * so the bits do not change. In a C harness (3712 rows of 1024 into 59, two threads), blocks with the
 * prefetch took 0.71x the time of whole rows without it; the prefetch alone 0.80-0.83x.
 *
 * Where the job has parts of columns, the block of every row of dW fits in EMBED_OWN floats and there are at least
 * as many rows of dout as of dW, the block is summed in the thread's scratch: copied there, summed row by row, copied back (the same
 * additions in the same order, so the same bits). Summed in place, the two threads' writes to neighbouring lines
 * of the same few rows of dW cost each 6x its time alone (W1: 896 rows of 512 into 13, 94 us on two threads
 * against 32 us on one, on Zen 5; a pthreads harness showed the same, so it is the cores' prefetchers and caches,
 * not the pool); in scratch, 13.6 us a thread. */
#define EMBED_BLOCK 256
#define EMBED_AHEAD 2
#define EMBED_OWN 16384
_Static_assert(EMBED_OWN <= MC * NC, "the block fits the thread's scratch");
HOT_PART_256(embedding_backward_part) {
    const struct rows_args *a = p;
    size_t d = (size_t) a->n;
    /* a part that holds every column has dW to itself: in place, and no scratch kept by a thread that never shares */
    int shared = b > 0 || e < a->n;
    float *own = shared && a->v > 0 && a->m >= a->v ? thread_sums() : NULL;
    int64_t width = own != NULL ? EMBED_OWN / a->v / ELEMENT_ALIGN * ELEMENT_ALIGN : 0;
    if (width > EMBED_BLOCK) width = EMBED_BLOCK;
    if (width < ELEMENT_ALIGN) own = NULL, width = EMBED_BLOCK;
    for (int64_t jb = b; jb < e; jb += width) {
        int64_t je = jb + width < e ? jb + width : e;
        size_t w = (size_t) (je - jb), ld = own != NULL ? w : d;
        float *y = own != NULL ? own : a->y + jb;
        if (own != NULL) {
            for (int i = 0; i < a->v; i++) memcpy(own + (size_t) i * w, a->y + (size_t) i * d + jb, w * sizeof(float));
        }
        for (int r = 0; r < a->m; r++) {
            if (r + EMBED_AHEAD < a->m) {
                const char *next = (const char *) (a->x + (size_t) (r + EMBED_AHEAD) * d + jb);
                for (size_t k = 0; k < w * sizeof(float); k += 64) __builtin_prefetch(next + k);
            }
            int32_t id = load_id(a->ids, r);
            if ((uint32_t) id >= (uint32_t) a->v) {
                if (jb == b) report_bad_id(a->bad, r, id);
                continue;
            }
            float *row = y + (size_t) id * ld;
            const float *src = a->x + (size_t) r * d + jb;
            for (size_t j = 0; j < w; j++) row[j] += src[j];
        }
        if (own != NULL) {
            for (int i = 0; i < a->v; i++) memcpy(a->y + (size_t) i * d + jb, own + (size_t) i * w, w * sizeof(float));
        }
    }
}

API int64_t seq4j_embedding_backward(int threads, float *dW, const int32_t *ids, const float *dout, int m, int v,
                                     int d) {
    _Atomic int64_t bad = 0;
    struct rows_args a = {.y = dW, .ids = ids, .x = dout, .bad = &bad, .m = m, .n = d, .v = v};
    int64_t grain = row_grain(m);
    parallel_for(threads, d, grain < 64 ? 64 : grain, ELEMENT_ALIGN, embedding_backward_part, &a);
    return atomic_load(&bad);
}

/* ---- losses and reductions ---------------------------------------------------------------------- */
/*
 * Reductions give the same result whatever the number of threads: the data is cut into at most
 * REDUCE_BLOCKS fixed blocks, each block's partial sum (in double) lands in its own slot, and the slots
 * are added in block order at the end. Part boundaries fall on block boundaries (align = block size).
 */
#define REDUCE_BLOCKS 64

struct reduce_args {
    const float *x, *x2;
    float *y;
    const int32_t *labels;
    _Atomic int64_t *bad;
    int v;
    int64_t block;
    double sum[REDUCE_BLOCKS];
    int count[REDUCE_BLOCKS];
};

static int64_t reduce_block(int64_t total) {
    int64_t b = (total + REDUCE_BLOCKS - 1) / REDUCE_BLOCKS;
    return b > 0 ? b : 1;
}

static double reduce_total(const struct reduce_args *a, int *count) {
    double total = 0.0;
    int c = 0;
    for (int i = 0; i < REDUCE_BLOCKS; i++) {
        total += a->sum[i];
        c += a->count[i];
    }
    if (count) *count = c;
    return total;
}

/* rows [b, e): y = probs, x = logits, labels; per block: the sum of -log p[label] and the number of valid rows */
HOT_PART(xent_forward_part) {
    struct reduce_args *a = (struct reduce_args *) p;
    for (int64_t b0 = b; b0 < e; b0 += a->block) {
        int64_t b1 = b0 + a->block < e ? b0 + a->block : e;
        double total = 0.0;
        int count = 0;
        for (int64_t r = b0; r < b1; r++) {
            const float *x = a->x + r * a->v;
            int32_t label = load_id(a->labels, r);
            if (label != -1 && (uint32_t) label >= (uint32_t) a->v) {
                report_bad_id(a->bad, r, label);
                label = -1;
            }
            if (a->v == 0) continue; /* an empty row: its label is -1 */
            float x_label = label >= 0 ? x[label] : 0.0f; /* read before probs may overwrite logits */
            float max, logsum;
            softmax_row(a->y + r * a->v, x, a->v, &max, &logsum);
            if (label != -1) {
                total += (double) logsum - (double) (x_label - max);
                count++;
            }
        }
        a->sum[b0 / a->block] = total;
        a->count[b0 / a->block] = count;
    }
}

API int64_t seq4j_softmax_xent_forward(int threads, float *probs, float *loss, const float *logits,
                                       const int32_t *labels, int m, int v) {
    _Atomic int64_t bad = 0;
    struct reduce_args a = {.x = logits, .y = probs, .labels = labels, .bad = &bad, .v = v, .block = reduce_block(m)};
    /* an exp and a log per element: W1's 512 rows of 13 took 20.0 us on one thread, 11.8 on two (grain 4 v: one) */
    int64_t grain = row_grain(32 * (int64_t) v);
    parallel_for(threads, m, grain > a.block ? grain : a.block, a.block, xent_forward_part, &a);
    int count;
    double total = reduce_total(&a, &count);
    loss[0] = (float) (total / (count > 0 ? count : 1));
    return atomic_load(&bad);
}

struct xent_backward_args {
    float *dlogits;
    const float *probs;
    const int32_t *labels;
    _Atomic int64_t *bad;
    float scale;
    int v;
};

HOT_PART_256(xent_backward_part) {
    const struct xent_backward_args *a = p;
    int v = a->v;
    for (int64_t r = b; r < e; r++) {
        const float *pr = a->probs + r * v;
        float *d = a->dlogits + r * v;
        int32_t label = load_id(a->labels, r);
        if (label != -1 && (uint32_t) label >= (uint32_t) v) {
            report_bad_id(a->bad, r, label);
            label = -1;
        }
        if (label == -1) {
            for (int j = 0; j < v; j++) d[j] = 0.0f;
            continue;
        }
        for (int j = 0; j < v; j++) d[j] = pr[j] * a->scale;
        d[label] -= a->scale;
    }
}

API int64_t seq4j_softmax_xent_backward(int threads, float *dlogits, const float *probs, const int32_t *labels,
                                        float dloss, int m, int v) {
    int count = 0;
    for (int r = 0; r < m; r++) count += load_id(labels, r) != -1; /* a bad label here only changes the scale */
    _Atomic int64_t bad = 0;
    struct xent_backward_args a = {dlogits, probs, labels, &bad, dloss / (float) (count > 0 ? count : 1), v};
    parallel_for(threads, m, row_grain(v), 1, xent_backward_part, &a);
    return atomic_load(&bad);
}

/* elements [b, e) by block: the sum of (x - x2)^2 (x2 = NULL: of x^2), in double with 8 lanes */
HOT_PART(squares_part) {
    struct reduce_args *a = (struct reduce_args *) p;
    for (int64_t b0 = b; b0 < e; b0 += a->block) {
        int64_t b1 = b0 + a->block < e ? b0 + a->block : e;
        double lanes[8] = {0};
        int64_t i = b0;
        if (a->x2) {
            for (; i + 8 <= b1; i += 8) {
                for (int k = 0; k < 8; k++) {
                    double d = (double) a->x[i + k] - a->x2[i + k];
                    lanes[k] += d * d;
                }
            }
        } else {
            for (; i + 8 <= b1; i += 8) {
                for (int k = 0; k < 8; k++) lanes[k] += (double) a->x[i + k] * a->x[i + k];
            }
        }
        double sum = 0.0;
        for (; i < b1; i++) {
            double d = (double) a->x[i] - (a->x2 ? a->x2[i] : 0.0f);
            sum += d * d;
        }
        for (int k = 0; k < 8; k++) sum += lanes[k];
        a->sum[b0 / a->block] = sum;
    }
}

static double sum_of_squared(int threads, const float *x, const float *minus, int64_t n) {
    struct reduce_args a = {.x = x, .x2 = minus, .block = reduce_block(n)};
    /* in double, so compute-bound: the clip's sum over W1's 150,576 gradients 14.4 us on one thread, 8.4 on two */
    int64_t grain = ELEMENT_GRAIN > a.block ? ELEMENT_GRAIN : a.block;
    parallel_for(threads, n, grain, a.block, squares_part, &a);
    return reduce_total(&a, NULL);
}

API void seq4j_mse_forward(int threads, float *loss, const float *y, const float *t, int64_t n, float scale) {
    loss[0] = (float) (scale * sum_of_squared(threads, y, t, n));
}

HOT_PART(mse_backward_part) {
    const struct ew_args *a = p;
    float s = 2.0f * a->s0;
    for (int64_t i = b; i < e; i++) a->y[i] = s * (a->x[i] - a->x2[i]);
}

API void seq4j_mse_backward(int threads, float *dy, const float *y, const float *t, int64_t n, float scale) {
    struct ew_args a = {.y = dy, .x = y, .x2 = t, .s0 = scale};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, mse_backward_part, &a);
}

API void seq4j_sum_of_squares(int threads, float *out, const float *x, int64_t n) {
    out[0] = (float) sum_of_squared(threads, x, NULL, n);
}

API void seq4j_argmax_rows(int threads, int32_t *ids, const float *x, int m, int v) {
    (void) threads; /* serial */
    for (int r = 0; r < m; r++) {
        const float *row = x + (size_t) r * v;
        int best = 0;
        for (int j = 1; j < v; j++) {
            if (row[j] > row[best]) best = j;
        }
        ids[r] = best;
    }
}

/* ---- attention (hs time-major (t, n, hd); parts are ranges of the batch index n) ------------------ */

INLINE float dot(const float *a, const float *b, int n) {
    float lanes[8] = {0};
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        for (int k = 0; k < 8; k++) lanes[k] += a[j + k] * b[j + k];
    }
    float sum = 0.0f;
    for (; j < n; j++) sum += a[j] * b[j];
    for (int k = 0; k < 8; k++) sum += lanes[k];
    return sum;
}

/* out[i] = dot(a + i * stride, b, n) for i < 4, bit for bit: the four sums' chains interleaved, each in dot's order
 * (one dot waits on the latency of its adds; four at once made the attention forward about 2x faster at W4's shape).
 * Written with 8-float vectors, lane k being dot's lanes[k] (an array of 4 x 8 lanes GCC kept partly on the stack). */
typedef float dot_f8 __attribute__((vector_size(32)));
/* an unaligned load that may alias floats (no vector crosses a call: a vector argument's ABI differs by clone) */
typedef float dot_f8u __attribute__((vector_size(32), aligned(4), may_alias));
#define dot_load8(p) (*(const dot_f8u *) (p))

INLINE void dot4(float *out, const float *a, size_t stride, const float *b, int n) {
    dot_f8 l0 = {0}, l1 = {0}, l2 = {0}, l3 = {0};
    const float *a0 = a, *a1 = a + stride, *a2 = a + 2 * stride, *a3 = a + 3 * stride;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        dot_f8 bj = dot_load8(b + j);
        l0 += dot_load8(a0 + j) * bj;
        l1 += dot_load8(a1 + j) * bj;
        l2 += dot_load8(a2 + j) * bj;
        l3 += dot_load8(a3 + j) * bj;
    }
    dot_f8 lanes[4] = {l0, l1, l2, l3};
    for (int i = 0; i < 4; i++) {
        float sum = 0.0f;
        for (int r = j; r < n; r++) sum += a[i * stride + r] * b[r];
        for (int k = 0; k < 8; k++) sum += lanes[i][k];
        out[i] = sum;
    }
}

/* out[s] = hs_s . v for s < t, hs_s = hs + s * stride: four at a time, then one by one (the same bits either way) */
INLINE void dots(float *out, const float *hs, size_t stride, const float *v, int t, int hd) {
    int s = 0;
    for (; s + 4 <= t; s += 4) dot4(out + s, hs + s * stride, stride, v, hd);
    for (; s < t; s++) out[s] = dot(hs + s * stride, v, hd);
}

/*
 * One sequence (row r of the batch) of each attention kernel. The per-step kernels below loop these over their
 * rows; the TimeAttention calls (seq4j_time_attention_*) loop them over a row's decoder steps, so both give the
 * same bits. hs + r * hd is the row's first encoder state, the next one stride = n * hd floats further on.
 */

/* ar (t) = softmax_s(hs_s . hr) */
INLINE void attention_weight_row(float *ar, const float *hs, size_t stride, const float *hr, int t, int hd) {
    dots(ar, hs, stride, hr, t, hd);
    float max = -INFINITY;
    for (int s = 0; s < t; s++) max = ar[s] > max ? ar[s] : max;
    float sum = 0.0f;
    for (int s = 0; s < t; s++) {
        ar[s] = s4_expf(ar[s] - max);
        sum += ar[s];
    }
    float inv = 1.0f / sum;
    for (int s = 0; s < t; s++) ar[s] *= inv;
}

/* ds = a (da - sum(a da)); dhs_s += ds_s hr; dhr = sum_s ds_s hs_s */
INLINE void attention_weight_backward_row(float *dhs, float *dhr, const float *ar, const float *dar,
                                          const float *hs, size_t stride, const float *hr, int t, int hd) {
    float sum = 0.0f;
    for (int s = 0; s < t; s++) sum += ar[s] * dar[s];
    for (int j = 0; j < hd; j++) dhr[j] = 0.0f;
    for (int s = 0; s < t; s++) {
        float ds = ar[s] * (dar[s] - sum);
        const float *hss = hs + s * stride;
        float *dhss = dhs + s * stride;
        for (int j = 0; j < hd; j++) {
            dhss[j] += ds * hr[j];
            dhr[j] += ds * hss[j];
        }
    }
}

/* cr = sum_s ar_s hs_s */
INLINE void weight_sum_row(float *cr, const float *hs, size_t stride, const float *ar, int t, int hd) {
    for (int j = 0; j < hd; j++) cr[j] = 0.0f;
    for (int s = 0; s < t; s++) {
        const float *hss = hs + s * stride;
        float w = ar[s];
        for (int j = 0; j < hd; j++) cr[j] += w * hss[j];
    }
}

/* dhs_s += ar_s dcr; dar_s = hs_s . dcr */
INLINE void weight_sum_backward_row(float *dhs, float *dar, const float *hs, size_t stride, const float *ar,
                                    const float *dcr, int t, int hd) {
    for (int s = 0; s < t; s++) {
        float *dhss = dhs + s * stride;
        float w = ar[s];
        for (int j = 0; j < hd; j++) dhss[j] += w * dcr[j];
    }
    dots(dar, hs, stride, dcr, t, hd);
}

/* weight_sum_backward_row then attention_weight_backward_row for one decoder step, with dhs read and written once a
 * step instead of twice. Each dhs element gets the same two additions in the same order, and hs is not written (the
 * callers check that no output overlaps an input), so the dots of da may all come first: the same bits. */
INLINE void attention_backward_row(float *dhs, float *dhr, float *dar, const float *hs, size_t stride,
                                   const float *ar, const float *dcr, const float *hr, int t, int hd) {
    dots(dar, hs, stride, dcr, t, hd);
    float sum = 0.0f;
    for (int s = 0; s < t; s++) sum += ar[s] * dar[s];
    for (int j = 0; j < hd; j++) dhr[j] = 0.0f;
    for (int s = 0; s < t; s++) {
        float w = ar[s], ds = ar[s] * (dar[s] - sum);
        const float *hss = hs + s * stride;
        float *dhss = dhs + s * stride;
        for (int j = 0; j < hd; j++) {
            dhss[j] = (dhss[j] + w * dcr[j]) + ds * hr[j];
            dhr[j] += ds * hss[j];
        }
    }
}

/* sequences [b, e): y = a (n, t), x = hs, x2 = h */
HOT_PART(attention_weight_forward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        attention_weight_row(a->y + r * t, a->x + r * hd, stride, a->x2 + r * hd, t, hd);
    }
}

API void seq4j_attention_weight_forward(int threads, float *a, const float *hs, const float *h, int t, int n, int hd) {
    struct rows_args args = {.y = a, .x = hs, .x2 = h, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, attention_weight_forward_part, &args);
}

/* sequences [b, e): y = dhs (+=), y2 = dh, x = a, x2 = hs, x3 = h, x4 = da */
HOT_PART(attention_weight_backward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        attention_weight_backward_row(a->y + r * hd, a->y2 + r * hd, a->x + r * t, a->x4 + r * t, a->x2 + r * hd,
                                      stride, a->x3 + r * hd, t, hd);
    }
}

API void seq4j_attention_weight_backward(int threads, float *dhs, float *dh, const float *a, const float *hs,
                                         const float *h,
                                         const float *da, int t, int n, int hd) {
    struct rows_args args = {.y = dhs, .y2 = dh, .x = a, .x2 = hs, .x3 = h, .x4 = da, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, attention_weight_backward_part, &args);
}

/* sequences [b, e): y = c (n, hd), x = hs, x2 = a */
HOT_PART(weight_sum_forward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        weight_sum_row(a->y + r * hd, a->x + r * hd, stride, a->x2 + r * t, t, hd);
    }
}

API void seq4j_weight_sum_forward(int threads, float *c, const float *hs, const float *a, int t, int n, int hd) {
    struct rows_args args = {.y = c, .x = hs, .x2 = a, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, weight_sum_forward_part, &args);
}

/* sequences [b, e): y = dhs (+=), y2 = da, x = hs, x2 = a, x3 = dc */
HOT_PART(weight_sum_backward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        weight_sum_backward_row(a->y + r * hd, a->y2 + r * t, a->x + r * hd, stride, a->x2 + r * t, a->x3 + r * hd,
                                t, hd);
    }
}

API void seq4j_weight_sum_backward(int threads, float *dhs, float *da, const float *hs, const float *a,
                                   const float *dc, int t,
                                   int n, int hd) {
    struct rows_args args = {.y = dhs, .y2 = da, .x = hs, .x2 = a, .x3 = dc, .t = t, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) t * hd), 1, weight_sum_backward_part, &args);
}

/*
 * TimeAttention: the attention of every decoder step over the same encoder states, in one call. The per-step
 * kernels read all of hs (T_enc x N x H) from memory twice a step forward and twice backward, where dhs is also read
 * and written twice (W4: 3.8 MB each, 10 steps). Here a part takes each of its rows through every decoder step, so
 * the row's encoder states (and gradients: T_enc x H floats each, 29 KB in W4) stay in L1/L2 from one step to the
 * next. Each row is computed by the same row functions, step after step in the same order, as the per-step loop:
 * the same bits.
 */

/* sequences [b, e): y = a (td, n, t), y2 = c (td, n, hd), x = hs (t, n, hd), x2 = hdec (td, n, hd), m = td */
HOT_PART(time_attention_forward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h, td = a->m;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        for (int s = 0; s < td; s++) {
            float *ar = a->y + ((size_t) s * a->n + r) * t;
            attention_weight_row(ar, a->x + r * hd, stride, a->x2 + s * stride + r * hd, t, hd);
            weight_sum_row(a->y2 + s * stride + r * hd, a->x + r * hd, stride, ar, t, hd);
        }
    }
}

API void seq4j_time_attention_forward(int threads, float *a, float *c, const float *hs, const float *hdec, int t,
                                      int td, int n, int hd) {
    struct rows_args args = {.y = a, .y2 = c, .x = hs, .x2 = hdec, .t = t, .m = td, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) td * t * hd), 1, time_attention_forward_part, &args);
}

/* sequences [b, e): y = dhs (t, n, hd, written), y2 = ddec (td, n, hd), x = a (td, n, t), x2 = hs, x3 = hdec,
 * x4 = dc (td, n, hd), x5 = work (n, t): the row's da; m = td */
HOT_PART(time_attention_backward_part) {
    const struct rows_args *a = p;
    int t = a->t, hd = a->h, td = a->m;
    size_t stride = (size_t) a->n * hd;
    for (int64_t r = b; r < e; r++) {
        float *dhs = a->y + r * hd, *dar = (float *) a->x5 + r * t;
        const float *hs = a->x2 + r * hd;
        for (int s = 0; s < t; s++) {
            for (int j = 0; j < hd; j++) dhs[s * stride + j] = 0.0f;
        }
        for (int s = 0; s < td; s++) {
            const float *ar = a->x + ((size_t) s * a->n + r) * t;
            size_t k = s * stride + r * hd;
            attention_backward_row(dhs, a->y2 + k, dar, hs, stride, ar, a->x4 + k, a->x3 + k, t, hd);
        }
    }
}

API void seq4j_time_attention_backward(int threads, float *dhs, float *ddec, float *work, const float *a,
                                       const float *hs, const float *hdec, const float *dc, int t, int td, int n,
                                       int hd) {
    struct rows_args args = {.y = dhs, .y2 = ddec, .x = a, .x2 = hs, .x3 = hdec, .x4 = dc, .x5 = work, .t = t,
                             .m = td, .n = n, .h = hd};
    parallel_for(threads, n, row_grain((int64_t) td * t * hd), 1, time_attention_backward_part, &args);
}

/* ---- dropout ------------------------------------------------------------------------------------ */

INLINE float counter_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    return (float) (z >> 40) * 0x1.0p-24f;
}

/* y = mask, s0 = ratio, u0 = seed */
HOT_PART(dropout_mask_part) {
    const struct ew_args *a = p;
    float keep = 1.0f / (1.0f - a->s0);
    for (int64_t i = b; i < e; i++) a->y[i] = counter_uniform(a->u0, (uint64_t) i) > a->s0 ? keep : 0.0f;
}

API void seq4j_dropout_mask(int threads, float *mask, int64_t n, float ratio, uint64_t seed) {
    struct ew_args a = {.y = mask, .s0 = ratio, .u0 = seed};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, dropout_mask_part, &a);
}

/* ---- optimizers (y = param, y2 / y3 = state, x = grad, s0 = lr) --------------------------------- */

HOT_PART(sgd_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) a->y[i] -= a->s0 * a->x[i];
}

API void seq4j_sgd_update(int threads, float *param, const float *grad, int64_t n, float lr) {
    struct ew_args a = {.y = param, .x = grad, .s0 = lr};
    parallel_for(threads, n, ELEMENT_GRAIN * 4, ELEMENT_ALIGN, sgd_part, &a);
}

/* s1 = momentum */
HOT_PART(momentum_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) {
        a->y2[i] = a->s1 * a->y2[i] - a->s0 * a->x[i];
        a->y[i] += a->y2[i];
    }
}

API void seq4j_momentum_update(int threads, float *param, float *v, const float *grad, int64_t n, float lr,
                               float momentum) {
    struct ew_args a = {.y = param, .y2 = v, .x = grad, .s0 = lr, .s1 = momentum};
    parallel_for(threads, n, ELEMENT_GRAIN * 2, ELEMENT_ALIGN, momentum_part, &a);
}

/* s1 = eps */
HOT_PART_256(adagrad_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) {
        a->y2[i] += a->x[i] * a->x[i];
        a->y[i] -= a->s0 * a->x[i] / (sqrtf(a->y2[i]) + a->s1);
    }
}

API void seq4j_adagrad_update(int threads, float *param, float *h, const float *grad, int64_t n, float lr, float eps) {
    struct ew_args a = {.y = param, .y2 = h, .x = grad, .s0 = lr, .s1 = eps};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, adagrad_part, &a);
}

/* s1 = decay, s2 = eps */
HOT_PART_256(rmsprop_part) {
    const struct ew_args *a = p;
    for (int64_t i = b; i < e; i++) {
        a->y2[i] = a->s1 * a->y2[i] + (1.0f - a->s1) * a->x[i] * a->x[i];
        a->y[i] -= a->s0 * a->x[i] / (sqrtf(a->y2[i]) + a->s2);
    }
}

API void seq4j_rmsprop_update(int threads, float *param, float *h, const float *grad, int64_t n, float lr, float decay,
                              float eps) {
    struct ew_args a = {.y = param, .y2 = h, .x = grad, .s0 = lr, .s1 = decay, .s2 = eps};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, rmsprop_part, &a);
}

/* y = param, y2 = m, y3 = v, y4 = grad, s0 = lr_t, s1 = beta1, s2 = beta2, s3 = eps; i0: grad zeroed as it is read
 * (zero: a constant after inlining, so each loop has no branch) */
INLINE void adam_range(const struct ew_args *a, int64_t b, int64_t e, const int zero) {
    float lr_t = a->s0, beta1 = a->s1, beta2 = a->s2, eps = a->s3;
    for (int64_t i = b; i < e; i++) {
        float g = a->y4[i];
        a->y2[i] += (1.0f - beta1) * (g - a->y2[i]);
        a->y3[i] += (1.0f - beta2) * (g * g - a->y3[i]);
        a->y[i] -= lr_t * a->y2[i] / (sqrtf(a->y3[i]) + eps);
        if (zero) a->y4[i] = 0.0f;
    }
}

HOT_PART_256(adam_part) {
    const struct ew_args *a = p;
    if (a->i0) adam_range(a, b, e, 1);
    else adam_range(a, b, e, 0);
}

/* Zeroing the gradients in the same pass saves the optimizer's fill after it: that fill found the 600 KB of W1's
 * gradients gone from L2 (Adam streams 2.4 MB) and half of them in the other core's caches (Profile w1: 46-54 us a
 * step, against 2.8 us over a cached buffer); here each line is written while Adam has it in L1. */
API void seq4j_adam_update(int threads, float *param, float *m, float *v, float *grad, int64_t n, float lr_t,
                           float beta1, float beta2, float eps, int zero_grad) {
    struct ew_args a = {.y = param, .y2 = m, .y3 = v, .y4 = grad, .s0 = lr_t, .s1 = beta1, .s2 = beta2, .s3 = eps,
                        .i0 = zero_grad != 0};
    parallel_for(threads, n, ELEMENT_GRAIN, ELEMENT_ALIGN, adam_part, &a);
}

/* ==== GRU cell ==================================================================================== */
/*
 * The book's appendix GRU, gates sliced z, r, h in each row of gates (n, 3h) = [z | r | hhat]:
 *   z = sigmoid(x Wxz + h Whz + bz),  r = sigmoid(x Wxr + h Whr + br),
 *   hhat = tanh(x Wxh + (r h) Whh + bh),  h_next = (1 - z) h + z hhat.
 * The reset gate multiplies h before Whh, so the candidate's GEMM can only start once r is known: a step is
 * GEMM h Wh[:, :2h] (beta 1, into the x Wx + b computed for all steps before the loop), gates kernel (z, r and
 * r h in one pass), GEMM (r h) Whh, cell kernel (hhat and h_next in one pass). Two GEMMs of (n, h) x (h, 2h)
 * and (h, h) do the same work as one of (h, 3h); the price of the split is one more pass over (n, h).
 * Backward, with drh = dL/d(r h):
 *   dhhat = dh z, dz = dh (hhat - h_prev)       -> dA_h = dhhat (1 - hhat^2), dA_z = dz z (1 - z)
 *   drh = dA_h Whh^T (a GEMM between the two kernels)
 *   dr = drh h_prev                             -> dA_r = dr r (1 - r)
 *   dh_prev += dh (1 - z) + drh r, then += dA[:, :2h] Wh[:, :2h]^T (a GEMM).
 * Rows split over threads as for the LSTM cell (lstm_parallel: rows, or units when there are few rows).
 * Arguments in rows_args: y = rh / h_next / dA, y2 = dh_prev, x = gates, x2 = h_prev, x3 = dh_next, x4 = drh.
 * Every loop is auto-vectorised (restrict, no branches) in each clone; the transcendental ones are HOT_FMA_FN, and
 * the two forward loops also have hand-written AVX2 and AVX-512 versions (below), as the LSTM cell forward does.
 */

/* One row of each kernel. restrict on the parameters (as in lstm_row_forward) lets GCC vectorise without
 * runtime alias checks; the caller's buffers never overlap (checked in Java). */
INLINE void gru_row_gates_forward(float *restrict z, float *restrict rg, float *restrict rh,
                                  const float *restrict hp, int w) {
    for (int j = 0; j < w; j++) {
        float rj = s4_sigmoid(rg[j]);
        z[j] = s4_sigmoid(z[j]);
        rg[j] = rj;
        rh[j] = rj * hp[j];
    }
}

INLINE void gru_row_cell_forward(float *restrict hh, float *restrict hn, const float *restrict z,
                                 const float *restrict hp, int w) {
    for (int j = 0; j < w; j++) {
        float c = s4_tanhf(hh[j]);
        hh[j] = c;
        hn[j] = (1.0f - z[j]) * hp[j] + z[j] * c;
    }
}

INLINE void gru_row_cell_backward(float *restrict dz, float *restrict dhh, const float *restrict z,
                                  const float *restrict hh, const float *restrict hp, const float *restrict dh,
                                  int w) {
    for (int j = 0; j < w; j++) {
        dz[j] = dh[j] * (hh[j] - hp[j]) * z[j] * (1.0f - z[j]);
        dhh[j] = dh[j] * z[j] * (1.0f - hh[j] * hh[j]);
    }
}

INLINE void gru_row_gates_backward(float *restrict dr, float *restrict dhp, const float *restrict z,
                                   const float *restrict rg, const float *restrict hp, const float *restrict dh,
                                   const float *restrict drh, int w) {
    for (int j = 0; j < w; j++) {
        dr[j] = drh[j] * hp[j] * rg[j] * (1.0f - rg[j]);
        dhp[j] = dhp[j] + (dh[j] * (1.0f - z[j]) + drh[j] * rg[j]);
    }
}

#ifdef SEQ4J_X86_CLONES
/* The two forward row loops again by hand in AVX2 + FMA, 8 units at a time, for the AVX2 clone: the same
 * v_sigmoid / v_tanh as the LSTM cell's hand loop (reciprocals by vrcpps and one Newton step instead of vdivps,
 * about 2 ulp; NaN stays NaN, out-of-range inputs clamp as in the scalar loop). The AVX-512 clone runs GCC's
 * 512-bit vectorisation of the scalar loop instead, with exact divisions: in bench/c/clones.sh (one thread,
 * 64x512, a fresh copy of the gates counted in each call, median of 3 rounds) it took 30.3 us (gates) and 27.8
 * us (cell), against 31.1 and 27.3 us for a hand loop in AVX-512 like lstm_row_forward_avx512, and 41.2 and
 * 35.3 us for this AVX2 loop run on the same Zen 4 CPU. The backward loops have no division or exp: GCC's
 * vectorised loops (the clones) are enough there. */
#define GRU_LD(p) _mm256_loadu_ps((p) + j)
#define GRU_ST(p, v) _mm256_storeu_ps((p) + j, (v))

static AVX2 void gru_row_gates_forward_avx2(float *z, float *rg, float *rh, const float *hp, int w) {
    int j = 0;
    for (; j + 8 <= w; j += 8) {
        __m256 zj = v_sigmoid(GRU_LD(z)), rj = v_sigmoid(GRU_LD(rg));
        GRU_ST(z, zj);
        GRU_ST(rg, rj);
        GRU_ST(rh, _mm256_mul_ps(rj, GRU_LD(hp)));
    }
    if (j < w) gru_row_gates_forward(z + j, rg + j, rh + j, hp + j, w - j);
}

static AVX2 void gru_row_cell_forward_avx2(float *hh, float *hn, const float *z, const float *hp, int w) {
    int j = 0;
    for (; j + 8 <= w; j += 8) {
        __m256 c = v_tanh(GRU_LD(hh)), zj = GRU_LD(z);
        GRU_ST(hh, c);
        GRU_ST(hn, _mm256_fmadd_ps(zj, c, _mm256_mul_ps(_mm256_sub_ps(V1(1.0f), zj), GRU_LD(hp))));
    }
    if (j < w) gru_row_cell_forward(hh + j, hn + j, z + j, hp + j, w - j);
}

#undef GRU_LD
#undef GRU_ST
#else
#define gru_row_gates_forward_avx2 gru_row_gates_forward /* never called: cpu_isa is ISA_BASELINE */
#define gru_row_cell_forward_avx2 gru_row_cell_forward
#endif

/* rows [r0, r1), units [j0, j1) of each kernel; the forward's hand loop only in the AVX2 clone (see above) */
HOT_FMA_FN(gru_gates_forward_block, (const struct rows_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    int w = (int) (j1 - j0);
    enum isa isa = cpu_isa;
    for (int64_t r = r0; r < r1; r++) {
        float *g = (float *) a->x + r * 3 * h + j0;
        size_t k = r * h + j0;
        if (isa == ISA_AVX2) {
            gru_row_gates_forward_avx2(g, g + h, a->y + k, a->x2 + k, w);
        } else {
            gru_row_gates_forward(g, g + h, a->y + k, a->x2 + k, w);
        }
    }
}

HOT_FMA_FN(gru_cell_forward_block, (const struct rows_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    int w = (int) (j1 - j0);
    enum isa isa = cpu_isa;
    for (int64_t r = r0; r < r1; r++) {
        float *g = (float *) a->x + r * 3 * h + j0;
        size_t k = r * h + j0;
        if (isa == ISA_AVX2) {
            gru_row_cell_forward_avx2(g + 2 * h, a->y + k, g, a->x2 + k, w);
        } else {
            gru_row_cell_forward(g + 2 * h, a->y + k, g, a->x2 + k, w);
        }
    }
}

/* no transcendental function in the backward: no FMA, rounding as the Java reference does; bound by its loads and
 * stores, so 256-bit vectors in the v4 clone as well (HOT_FN_256: measured faster, see there) */
HOT_FN_256(gru_cell_backward_block, (const struct rows_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    for (int64_t r = r0; r < r1; r++) {
        const float *g = a->x + r * 3 * h + j0;
        float *d = a->y + r * 3 * h + j0;
        size_t k = r * h + j0;
        gru_row_cell_backward(d, d + 2 * h, g, g + 2 * h, a->x2 + k, a->x3 + k, (int) (j1 - j0));
    }
}

HOT_FN_256(gru_gates_backward_block, (const struct rows_args *a, int64_t r0, int64_t r1, int64_t j0, int64_t j1), (a, r0, r1, j0, j1)) {
    size_t h = (size_t) a->h;
    for (int64_t r = r0; r < r1; r++) {
        const float *g = a->x + r * 3 * h + j0;
        float *d = a->y + r * 3 * h + j0;
        size_t k = r * h + j0;
        gru_row_gates_backward(d + h, a->y2 + k, g, g + h, a->x2 + k, a->x3 + k, a->x4 + k, (int) (j1 - j0));
    }
}

static void gru_gates_forward_rows(const void *p, int64_t b, int64_t e) {
    gru_gates_forward_block(p, b, e, 0, ((const struct rows_args *) p)->h);
}

static void gru_gates_forward_units(const void *p, int64_t b, int64_t e) {
    gru_gates_forward_block(p, 0, ((const struct rows_args *) p)->m, b, e);
}

static void gru_cell_forward_rows(const void *p, int64_t b, int64_t e) {
    gru_cell_forward_block(p, b, e, 0, ((const struct rows_args *) p)->h);
}

static void gru_cell_forward_units(const void *p, int64_t b, int64_t e) {
    gru_cell_forward_block(p, 0, ((const struct rows_args *) p)->m, b, e);
}

static void gru_cell_backward_rows(const void *p, int64_t b, int64_t e) {
    gru_cell_backward_block(p, b, e, 0, ((const struct rows_args *) p)->h);
}

static void gru_cell_backward_units(const void *p, int64_t b, int64_t e) {
    gru_cell_backward_block(p, 0, ((const struct rows_args *) p)->m, b, e);
}

static void gru_gates_backward_rows(const void *p, int64_t b, int64_t e) {
    gru_gates_backward_block(p, b, e, 0, ((const struct rows_args *) p)->h);
}

static void gru_gates_backward_units(const void *p, int64_t b, int64_t e) {
    gru_gates_backward_block(p, 0, ((const struct rows_args *) p)->m, b, e);
}

/* grains as for the LSTM cell, scaled by the work an element: two exps (gates), one (cell), none (backward) */
API void seq4j_gru_gates_forward(int threads, float *rh, float *gates, const float *h_prev, int n, int h) {
    struct rows_args a = {.y = rh, .x = gates, .x2 = h_prev, .m = n, .h = h};
    lstm_parallel(threads, &a, 256, gru_gates_forward_rows, gru_gates_forward_units);
}

API void seq4j_gru_cell_forward(int threads, float *h_next, float *gates, const float *h_prev, int n, int h) {
    struct rows_args a = {.y = h_next, .x = gates, .x2 = h_prev, .m = n, .h = h};
    lstm_parallel(threads, &a, 512, gru_cell_forward_rows, gru_cell_forward_units);
}

API void seq4j_gru_cell_backward(int threads, float *dA, const float *gates, const float *h_prev,
                                 const float *dh_next, int n, int h) {
    struct rows_args a = {.y = dA, .x = gates, .x2 = h_prev, .x3 = dh_next, .m = n, .h = h};
    lstm_parallel(threads, &a, 512, gru_cell_backward_rows, gru_cell_backward_units);
}

API void seq4j_gru_gates_backward(int threads, float *dA, float *dh_prev, const float *gates, const float *h_prev,
                                  const float *dh_next, const float *drh, int n, int h) {
    struct rows_args a = {.y = dA, .y2 = dh_prev, .x = gates, .x2 = h_prev, .x3 = dh_next, .x4 = drh, .m = n,
                          .h = h};
    lstm_parallel(threads, &a, 512, gru_gates_backward_rows, gru_gates_backward_units);
}

/* ---- the GRU recurrence as one call (as seq4j_lstm_forward_seq: rows split in parts, each part's rows through every
 * step, no hand-off a step) ---- */

struct gru_seq_args {
    float *hs, *gates, *rhs; /* hs (t + 1, n, h), gates (t, n, 3h), rhs (t, n, h); the backward only reads hs, gates */
    float *dA, *dh0, *dhs, *drh; /* backward: dA (t, n, 3h), dh0 (n, h), dhs (t, n, h) in and out, drh (n, h) work */
    const void *zr, *hh;     /* forward: Wh[:, :2h] (h, 2h) and Whh (h, h); backward: their transposes (2h, h), (h, h) */
    int64_t t, n, hid;
    int skip_first, bf16;
    int team;                /* forward by units (gru_forward_team_part): the parts, */
    _Atomic int64_t *arrived; /* and their arrivals at each barrier */
};

static void gru_forward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct gru_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 3 * h, nh = n * h;
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hp = a->hs + s * nh, *rh = a->rhs + s * nh;
        int recurrent = s > 0 || !a->skip_first;
        if (recurrent) packed_rows(gs, g, hp, h, a->zr, b, e, 2 * h, h, 1.0f, a->bf16);
        struct rows_args zr = {.y = rh, .x = gs, .x2 = hp, .m = (int) n, .h = (int) h};
        gru_gates_forward_block(&zr, b, e, 0, h);
        if (recurrent) packed_rows(gs + 2 * h, g, rh, h, a->hh, b, e, h, h, 1.0f, a->bf16);
        struct rows_args cell = {.y = hp + nh, .x = gs, .x2 = hp, .m = (int) n, .h = (int) h};
        gru_cell_forward_block(&cell, b, e, 0, h);
    }
}

/*
 * The GRU forward of too few rows for parts of rows, as lstm_forward_team_part: part p owns units [u0, u1) of
 * every step. Its z and r columns of h Wh[:, :2h] and their gates kernel (r h of its units), a barrier (the next
 * product reads all of r h), its columns of (r h) Whh and its cell (h of its units), a barrier (the next step reads
 * all of h). The same FMA chains and kernels per element as the per-step loop: the same bits.
 */
static void gru_forward_team_part(const void *p, int64_t part, int64_t end) {
    (void) end;
    const struct gru_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 3 * h, nh = n * h, u0, u1, round = 0;
    part_range(h, PANEL, a->team, (int) part, &u0, &u1);
    for (int64_t s = 0; s < a->t; s++) {
        float *gs = a->gates + s * n * g, *hp = a->hs + s * nh, *rh = a->rhs + s * nh;
        int recurrent = s > 0 || !a->skip_first;
        if (recurrent) {
            struct gemm_packed_args zr = {gs, hp, a->zr, n, 2 * h, h, h, g, 1.0f, a->bf16, 0, 0};
            gemm_packed_part(&zr, u0 / PANEL, u1 / PANEL);
            gemm_packed_part(&zr, (h + u0) / PANEL, (h + u1) / PANEL);
        }
        struct rows_args gates = {.y = rh, .x = gs, .x2 = hp, .m = (int) n, .h = (int) h};
        gru_gates_forward_block(&gates, 0, n, u0, u1);
        if (recurrent) {
            team_barrier(a->arrived, a->team, ++round);
            struct gemm_packed_args hh = {gs + 2 * h, rh, a->hh, n, h, h, h, g, 1.0f, a->bf16, 0, 0};
            gemm_packed_part(&hh, u0 / PANEL, u1 / PANEL);
        }
        struct rows_args cell = {.y = hp + nh, .x = gs, .x2 = hp, .m = (int) n, .h = (int) h};
        gru_cell_forward_block(&cell, 0, n, u0, u1);
        if (s < a->t - 1) team_barrier(a->arrived, a->team, ++round);
    }
}

/* rows [b, e) of a step of the backward: dA of z and hhat, drh = dA_hhat Whh^T, dA of r and dh_prev += ..., then
 * dh_prev += dA[:, :2h] Wh[:, :2h]^T; dh_prev is the step before's row of dhs (which holds its own dhs on entry) or dh0 */
static void gru_backward_seq_part(const void *p, int64_t b, int64_t e) {
    const struct gru_seq_args *a = p;
    int64_t n = a->n, h = a->hid, g = 3 * h, nh = n * h;
    for (int64_t r = b; r < e; r++) memset(a->dh0 + r * h, 0, (size_t) h * sizeof(float));
    for (int64_t s = a->t - 1; s >= 0; s--) {
        float *dA = a->dA + s * n * g, *dh_next = a->dhs + s * nh, *dh_prev = s > 0 ? dh_next - nh : a->dh0;
        const float *gs = a->gates + s * n * g, *hp = a->hs + s * nh;
        struct rows_args cell = {.y = dA, .x = gs, .x2 = hp, .x3 = dh_next, .m = (int) n, .h = (int) h};
        gru_cell_backward_block(&cell, b, e, 0, h);
        packed_rows(a->drh, h, dA + 2 * h, g, a->hh, b, e, h, h, 0.0f, a->bf16);
        struct rows_args zr = {.y = dA, .y2 = dh_prev, .x = gs, .x2 = hp, .x3 = dh_next, .x4 = a->drh, .m = (int) n,
                               .h = (int) h};
        gru_gates_backward_block(&zr, b, e, 0, h);
        packed_rows(dh_prev, h, dA, g, a->zr, b, e, h, 2 * h, 1.0f, a->bf16);
    }
}

API void seq4j_gru_backward_seq(int threads, float *dA, float *dh0, float *dhs, float *drh, const float *gates,
                                const float *hs, const void *zrt, const void *hht, int t, int n, int h, int precision) {
    if (t <= 0 || n <= 0 || h <= 0) return;
    if (seq4j_packed_floats(2 * h, h, precision) < 0 || seq4j_packed_floats(h, h, precision) < 0) return;
    if (n < 2 * SEQ_ROWS) { /* as the forward: the per-step calls */
        int64_t nh = (int64_t) n * h, ng = 3 * nh;
        memset(dh0, 0, (size_t) nh * sizeof(float));
        for (int64_t s = t - 1; s >= 0; s--) {
            float *d = dA + s * ng, *dh_next = dhs + s * nh, *dh_prev = s > 0 ? dh_next - nh : dh0;
            const float *gs = gates + s * ng, *hp = hs + s * nh;
            seq4j_gru_cell_backward(threads, d, gs, hp, dh_next, n, h);
            seq4j_gemm_packed(threads, drh, d + 2 * h, hht, n, h, h, 3 * h, h, 0.0f, precision);
            seq4j_gru_gates_backward(threads, d, dh_prev, gs, hp, dh_next, drh, n, h);
            seq4j_gemm_packed(threads, dh_prev, d, zrt, n, h, 2 * h, 3 * h, h, 1.0f, precision);
        }
        return;
    }
    struct gru_seq_args a = {.hs = (float *) hs, .gates = (float *) gates, .dA = dA, .dh0 = dh0, .dhs = dhs, .drh = drh,
                             .zr = zrt, .hh = hht, .t = t, .n = n, .hid = h,
                             .bf16 = precision == SEQ4J_PACKED_BF16};
    parallel_for_balanced(threads, n, SEQ_ROWS, seq_align(), gru_backward_seq_part, &a);
}

API void seq4j_gru_forward_seq(int threads, float *hs, float *gates, float *rhs, const void *zr, const void *hh, int t,
                               int n, int h, int skip_first, int precision) {
    if (t <= 0 || n <= 0 || h <= 0) return;
    if (seq4j_packed_floats(h, 2 * h, precision) < 0 || seq4j_packed_floats(h, h, precision) < 0) return;
    _Atomic int64_t arrived = 0;
    struct gru_seq_args a = {.hs = hs, .gates = gates, .rhs = rhs, .zr = zr, .hh = hh, .t = t, .n = n, .hid = h,
                             .skip_first = skip_first != 0, .bf16 = precision == SEQ4J_PACKED_BF16,
                             .arrived = &arrived};
    if (n < 2 * SEQ_ROWS) { /* too few rows for two parts: a team split by units, or the per-step calls */
        a.team = forward_team(threads, n, h, 3, 2, a.bf16);
        if (run_team(a.team, gru_forward_team_part, &a)) return;
        int64_t nh = (int64_t) n * h, ng = 3 * nh;
        for (int64_t s = 0; s < t; s++) {
            float *gs = gates + s * ng, *hp = hs + s * nh, *rh = rhs + s * nh;
            int recurrent = s > 0 || !skip_first;
            if (recurrent) seq4j_gemm_packed(threads, gs, hp, zr, n, 2 * h, h, h, 3 * h, 1.0f, precision);
            seq4j_gru_gates_forward(threads, rh, gs, hp, n, h);
            if (recurrent) seq4j_gemm_packed(threads, gs + 2 * h, rh, hh, n, h, h, h, 3 * h, 1.0f, precision);
            seq4j_gru_cell_forward(threads, hp + nh, gs, hp, n, h);
        }
        return;
    }
    parallel_for_balanced(threads, n, SEQ_ROWS, seq_align(), gru_forward_seq_part, &a);
}
/* ==== end of GRU cell ============================================================================= */
