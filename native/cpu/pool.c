/*
 * pool.c - the one thread pool that runs all parallel CPU work of the library, GEMM included (see "threads" below).
 */
#include "common.h"

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
void part_range(int64_t total, int64_t align, int parts, int p, int64_t *begin, int64_t *end) {
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

int pool_cpus(void) {
    pthread_once(&pool_once, start_pool);
    return pool.cpus;
}

/* glibc reads it from CPUID on x86 (a VM's is the host core's); where it says nothing (0, or no such query: some
 * AArch64 systems), 1 MiB: the L2 of a Zen 4 or Zen 5 core and of most Arm server cores */
int64_t l2_bytes(void) {
    static _Atomic int64_t bytes; /* 0 until the first call: a race computes the same value twice */
    int64_t b = atomic_load_explicit(&bytes, memory_order_relaxed);
    if (b == 0) {
        long reported = 0;
#ifdef _SC_LEVEL2_CACHE_SIZE
        reported = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
        b = reported > 0 ? reported : INT64_C(1) << 20;
        atomic_store_explicit(&bytes, b, memory_order_relaxed);
    }
    return b;
}

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
void parallel_for(int threads, int64_t total, int64_t grain, int64_t align, part_fn fn, const void *args) {
    run_job(threads, 1, total, grain, align, fn, args);
}

/*
 * BALANCE parts per thread, claimed as threads come free: for long jobs whose parts a core may run late (the other
 * core's hyperthread busy, an interrupt, its caches cold), so the other does not wait out the whole difference. Only
 * for kernels whose every output element comes out the same whatever part it falls in (row or column splits of
 * products and cells, elementwise updates): the split changes the speed, not the bits.
 */
void parallel_for_balanced(int threads, int64_t total, int64_t grain, int64_t align, part_fn fn,
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
int run_team(int team, part_fn fn, const void *args) {
    if (team < 2 || team > SEQ4J_MAX_THREADS) return 0;
    pthread_once(&pool_once, start_pool);
    if (pool.workers < team - 1 || team > pool.cpus) return 0;
    if (atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) return 0;
    run_in_pool(team, team, team, 1, fn, args);
    return 1;
}

/* Waits until every part of a team has arrived `round` times (counting from 1), having arrived itself: the parts'
 * writes before their arrival are visible after it (release, acquire) */
void team_barrier(_Atomic int64_t *arrived, int team, int64_t round) {
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

