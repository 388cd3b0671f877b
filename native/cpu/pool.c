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

/* The wait of a spinning loop's spins-th turn: a pause, and past 4096 turns the core given away, which
 * the thread waited for may need (more threads than cores: another process, a preempted worker) */
static void spin_or_yield(int64_t spins) {
    if (spins < 4096) cpu_relax();
    else sched_yield();
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
    /* a part still held by a preempted worker: after a while give the core away, which it may be waiting for */
    for (int64_t spins = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < parts; spins++) spin_or_yield(spins);
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

/*
 * A team's parts wait for each other at every step, so a team is only as fast as its slowest thread: where the system
 * runs something else on the team's cores (another process, the JVM's garbage collector or compiler threads, a busy
 * neighbour VM), each thread it preempts holds the others at the next barrier until it runs again, milliseconds at a
 * time. Measured (2-vCPU Intel VM, one busy-looping process beside it, Profile w3, 3000 encodes): W3's encode took
 * 0.44-2.1 ms a call with its team of two against 0.23-0.46 ms on one thread, and 0.14 ms with the team on a quiet
 * machine. With the rule below, JMH's W3 beside that process: 235-241 us (error 15-17) against 461-462 us (error
 * 420-546); bench/c/team_contention.c there: mean 430-499 us against 647-741, p90 450-480 against 2100-2150 (the median
 * 422-446 against 234-240: the calls that a team would have run unhindered now run on one thread); quiet, JMH 137-140
 * against 134 us, team_contention the same within noise. So a part that has waited TEAM_LATE_NS at a barrier after
 * the first (where a worker may still be waking up: 100-200 us on that VM, with nothing else running), when such waits
 * have lately cost the team more than a quarter of its time (late_again), ends the team: it goes on alone with every
 * unit once the late part has arrived (its step is needed), the late part leaves on arrival, and for a back-off
 * (team_ended) the few-row kernels run on their caller's thread alone (pool_contended) instead of forming teams. A
 * step of a team takes a few microseconds; the first team after the back-off forms again, so a machine that has gone
 * quiet gets its teams back. The same units, kernels and sums either way: the same bits.
 */
#ifndef TEAM_LATE_NS /* bench/c/team_contention.c may be built with others */
#define TEAM_LATE_NS 500000
#endif
#ifndef TEAM_DEBT_NS
#define TEAM_DEBT_NS 8000000
#endif
#ifndef TEAM_DRAIN
#define TEAM_DRAIN 4
#endif
#define TEAM_DEBT_MAX_NS 1000000000
#define TEAM_QUIET_NS 100000000
#define TEAM_BACKOFF_MIN_NS 20000000
#define TEAM_BACKOFF_MAX_NS 1000000000
#define TEAM_SOLO ((int64_t) 1 << 62) /* in the arrivals word: the team has ended, one part goes on alone */

static _Atomic int64_t contended_until; /* now_ns() before which few-row kernels do not form teams */
static _Atomic int64_t team_solos;      /* teams ended by a late part, since the process started */
static _Atomic int64_t last_end_ns, backoff_ns;
static _Atomic int64_t debt_ns, debt_at_ns; /* the long waits' debt (see late_again), as it stood at debt_at_ns */
static _Atomic int64_t long_waits; /* waits of TEAM_LATE_NS at a barrier after the first, since the process started */

/* The debt at time t: what it was at debt_at_ns, less a TEAM_DRAIN-th of the time since */
static int64_t debt_at(int64_t t) {
    int64_t d = atomic_load_explicit(&debt_ns, memory_order_relaxed);
    int64_t at = atomic_load_explicit(&debt_at_ns, memory_order_relaxed);
    if (t > at) d -= (t - at) / TEAM_DRAIN;
    return d > 0 ? d : 0;
}

/* A part's long wait of `length` is over at time t: its length goes into the debt, which holds at most a second
 * (drained in four). Racing updates may lose one: a wait the rule does not count. */
static void waited(int64_t t, int64_t length) {
    int64_t d = debt_at(t) + length;
    atomic_store_explicit(&debt_ns, d < TEAM_DEBT_MAX_NS ? d : TEAM_DEBT_MAX_NS, memory_order_relaxed);
    atomic_store_explicit(&debt_at_ns, t, memory_order_relaxed);
}

/* A part has waited TEAM_LATE_NS at time t: whether to end the team. Long waits come even on a quiet machine: the JVM's
 * own threads (JIT compiler, collector, JMH's) preempt a part for 0.6-4 ms one to two times a second, and a VM's host
 * deschedules its vCPUs (on the Zen 5 VM a C loop alone saw ~5 waits of 0.5 ms or more a second, a JVM running W3 ~12,
 * ~3 of them 2-8 ms). Such waits are best waited out with the team; ending it, and backing off, costs more (JMH's W3
 * 0.215-0.223 ms against 0.126-0.127 when every such wait ended the team for 20 ms or more; on the Zen 5 VM, W3 in
 * float 1.64x the time when it never forms a team, its 1 MiB Wh then read from L3). So does other work that takes the
 * cores now and then: beside two threads each busy 3 ms in ~30, a team that never ends ran W3's C loop at a mean
 * 242-262 us, one on a single thread at 321-365. Beside a busy process the waits come ~75 times a second, 2-8 ms each
 * (the scheduler's slices), a third of the time, and there a team that never ends takes twice the time of one that
 * backs off (W3 on an Intel VM; the C loop's mean here). So the rule weighs the time the team loses: every long wait
 * adds its whole length to a debt that drains at a TEAM_DRAIN-th of the time passing (a team may lose that share of its
 * time to long waits and go on), and a wait ends the team once the debt with the wait so far is over TEAM_DEBT_NS. A
 * quiet machine's waits (~2.5% of the time) and intermittent work leave the debt near zero; a busy core's fill it
 * within a few waits. Measured on the Zen 5 VM (bench/RESULTS.md, "Thirty-fourth session"): the rule before, two waits
 * within 100 ms ending the team, ended 18-42 teams in every ~9 s JMH run of W3 with nothing else running, this one
 * 1-13, and W3 in float took 0.51-0.98x the time (median 0.65x, six alternating runs, with a tenth's drain; a quarter's
 * then ran as fast, 0.79-1.19x); beside the intermittent threads above a quarter's drain took 0.52-0.65x the time of a
 * tenth's (BF16 0.76-0.86x), which ended 32-54 teams a run; beside a busy process JMH's W3 ran alike with all three
 * (the C loop's mean 1.08-1.12x a tenth's with a quarter's). */
static int late_again(int64_t t) {
    return debt_at(t) + TEAM_LATE_NS > TEAM_DEBT_NS;
}

/* This part ended the team at time t: no teams for TEAM_BACKOFF_MIN_NS, doubled at each end that follows the last one's
 * back-off within TEAM_QUIET_NS, up to a second; after a longer spell it starts over. Racing ends may lose an update:
 * only the length of a back-off changes. */
static void team_ended(int64_t t) {
    int64_t last = atomic_exchange(&last_end_ns, t), b = atomic_load(&backoff_ns);
    if (last == 0 || t - last > b + TEAM_QUIET_NS) b = 0;
    b = b == 0 ? TEAM_BACKOFF_MIN_NS : 2 * b < TEAM_BACKOFF_MAX_NS ? 2 * b : TEAM_BACKOFF_MAX_NS;
    atomic_store(&backoff_ns, b);
    atomic_fetch_add(&team_solos, 1);
    atomic_store_explicit(&contended_until, t + b, memory_order_relaxed);
}

int pool_contended(void) {
    return now_ns() < atomic_load_explicit(&contended_until, memory_order_relaxed);
}

int64_t pool_team_solos(void) {
    return atomic_load(&team_solos);
}

#ifdef SEQ4J_POOL_HOOKS
/* For cpu/test/team_late.c only: forgets the back-off and its history, as after a long quiet spell */
void pool_hook_forget_contention(void) {
    atomic_store(&contended_until, 0), atomic_store(&last_end_ns, 0), atomic_store(&backoff_ns, 0);
    atomic_store(&debt_ns, 0), atomic_store(&debt_at_ns, 0);
}

/* For cpu/test/team_late.c only: the waits of TEAM_LATE_NS so far (another process preempting a part adds to them) */
int64_t pool_hook_long_waits(void) {
    return atomic_load(&long_waits);
}

/* For cpu/test/team_late.c only: the length of the last back-off */
int64_t pool_hook_backoff_ns(void) {
    return atomic_load(&backoff_ns);
}

/* For cpu/test/team_late.c only: a wait of `length` that reached TEAM_LATE_NS at time t (any clock), as team_barrier
 * notes one: whether it ended the team, and the end of the back-off it set; its length goes into the debt when it is
 * over, at t + length - TEAM_LATE_NS */
int pool_hook_late_at(int64_t t, int64_t length, int64_t *until) {
    int ends = late_again(t);
    if (ends) team_ended(t);
    waited(t + length - TEAM_LATE_NS, length);
    *until = atomic_load(&contended_until);
    return ends;
}

/* For cpu/test/team_late.c only: the debt at time t */
int64_t pool_hook_debt_ns(int64_t t) {
    return debt_at(t);
}

/* For cpu/test/team_late.c only: called by a part at a barrier of round `round` just before it arrives (after = 0)
 * and just after (after = 1), where a preemption would make it a late arrival or a late waiter */
void (*pool_hook_barrier)(int64_t round, int after);
#define POOL_HOOK_BARRIER(round, after) (pool_hook_barrier != NULL ? pool_hook_barrier(round, after) : (void) 0)
#else
#define POOL_HOOK_BARRIER(round, after) ((void) 0)
#endif

/* A team part's barrier at round `round`, for a kernel whose part owns units [u0, u1) of h: 1 when the part is to leave;
 * after a late part ended the team, [u0, u1) becomes every unit, and the caller calls no more barriers (u1 - u0 = h) */
int team_wait(struct team_sync *sync, int team, int64_t round, int64_t h, int64_t *u0, int64_t *u1) {
    int go = team_barrier(sync, team, round);
    if (go == TEAM_ALONE) *u0 = 0, *u1 = h;
    return go == TEAM_LEAVE;
}

/* Arrives at round `round` (counting from 1) and waits until every part of the team has: the parts' writes before
 * their arrival are visible after it (release, acquire). TEAM_ON: go on with your units. TEAM_ALONE: the team ended
 * (this part waited TEAM_LATE_NS for another): go on with every unit, without barriers. TEAM_LEAVE: the team ended and
 * another part goes on alone: return without writing anything more. A waiting part ends the team by setting TEAM_SOLO
 * in the arrivals word with a compare-and-swap against the count it saw, which fails if anyone arrived meanwhile; every
 * part that arrives later finds it in its own arrival. It ends the team at its round, which the others may not have
 * seen complete yet (a part preempted while waiting at the round before): alone_round tells them apart, so such a part
 * still does its units of that step and leaves at its next arrival, which the part going on alone waits for. */
int team_barrier(struct team_sync *sync, int team, int64_t round) {
    POOL_HOOK_BARRIER(round, 0);
    int64_t target = (int64_t) team * round;
    int64_t w = atomic_fetch_add_explicit(&sync->arrived, 1, memory_order_acq_rel) + 1;
    if (w & TEAM_SOLO) return TEAM_LEAVE; /* ended at this round: no part passes it before all have arrived */
    POOL_HOOK_BARRIER(round, 1);
    int mine = 0, noted = 0;
    int64_t since = 0;
    for (int64_t spins = 0;; spins++) {
        w = atomic_load_explicit(&sync->arrived, memory_order_acquire);
        if ((w & TEAM_SOLO) && !mine && atomic_load_explicit(&sync->alone_round, memory_order_relaxed) == round) {
            return TEAM_LEAVE; /* another part waiting at this round ended the team */
        }
        if ((w & ~TEAM_SOLO) >= target) {
            if (noted) {
                int64_t t = now_ns();
                waited(t, t - since);
            }
            return mine ? TEAM_ALONE : TEAM_ON;
        }
        if (spins < 256) {
            cpu_relax();
            continue;
        }
        int64_t t = now_ns();
        if (since == 0) since = t;
        if (!noted && !(w & TEAM_SOLO) && t - since > TEAM_LATE_NS && round > 1) {
            noted = 1; /* a wait counts once */
            atomic_fetch_add_explicit(&long_waits, 1, memory_order_relaxed);
            if (late_again(t)) {
                /* alone_round only grows: a part still waiting at the round before (whose round has completed, unseen)
                 * may try too, and must not overwrite this round; published by the CAS below */
                int64_t r = atomic_load_explicit(&sync->alone_round, memory_order_relaxed);
                while (r < round && !atomic_compare_exchange_weak_explicit(&sync->alone_round, &r, round,
                                                                           memory_order_relaxed, memory_order_relaxed)) {
                }
                if (atomic_compare_exchange_strong_explicit(&sync->arrived, &w, w | TEAM_SOLO, memory_order_acq_rel,
                                                            memory_order_acquire)) {
                    mine = 1;
                    team_ended(t);
                }
            }
        }
        spin_or_yield(spins); /* the late part may need this core */
    }
}

