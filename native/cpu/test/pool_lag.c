/*
 * pool_lag.c - the pool's claim words against a worker that lags a whole job behind, made to happen rather than
 * hoped for (pool_stress's 6000 jobs a caller almost never hit the window). The pool's source (pool.c) is compiled in
 * with SEQ4J_POOL_HOOKS, whose hook lets this test hold worker 1 after it read job A's word and before it claimed any of
 * A's parts, as a preemption at that point would. The caller then runs all of A itself, publishes job B (another
 * range, split into more parts) and, from inside B's first part, lets the worker go on with A's stale word. The
 * worker must claim nothing of B under A's split: every element of A and of B is run exactly once, B by its own
 * eight parts. Then ordinary jobs check that the pool's accounting survived.
 *
 * Without the generation in the claim words (a claim that only tests a part's "taken" bit) the held worker claims
 * B's part 1 and runs it with A's two-part boundaries, B's second half a second time: this test fails on that.
 *
 * Build and run: make -C native check
 */
#define _GNU_SOURCE
#include "../pool.c"

enum { A_TOTAL = 1000, B_TOTAL = 4096, B_PARTS = 2 * BALANCE, ROUNDS = 3, X_FLOATS = 1 << 18 };

static _Atomic uint32_t held_gen; /* the generation of the job whose word worker 1 is held on */
static _Atomic int held, released, back; /* worker 1 held; let go; seen again, at the next job's word */
static _Atomic int runs_a[A_TOTAL], runs_b[B_TOTAL];
static _Atomic int parts_b;
static float x[X_FLOATS]; /* for ordinary two-part fills afterwards */

static void fill_x(const void *value, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) x[i] = *(const float *) value;
}

static void fail(const char *what) {
    fprintf(stderr, "pool_lag: %s\n", what);
    exit(1);
}

/* waits for flag, giving the CPU away (the other thread may need this one), at most 10 s */
static void wait_for(_Atomic int *flag, const char *what) {
    char message[160];
    for (int64_t start = now_ns(); !atomic_load(flag);) {
        if (now_ns() - start > 10000000000LL) {
            snprintf(message, sizeof message, "timed out after 10 s waiting for %s", what);
            fail(message);
        }
        sched_yield();
    }
}

static void lag_hook(int id, uint64_t w) {
    if (id != 1) return;
    uint32_t gen = JOB_GEN(w), target = atomic_load(&held_gen);
    if (gen == target) {
        atomic_store(&held, 1);
        wait_for(&released, "the test to let worker 1 go on");
    } else if (gen == target + 1) {
        atomic_store(&back, 1); /* it returned from run_parts on job A's word */
    }
}

static void job_a(const void *args, int64_t begin, int64_t end) {
    (void) args;
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&runs_a[i], 1);
    if (begin == 0) wait_for(&held, "worker 1 to read job A's word"); /* the caller's first part: A stays open till then */
}

static void job_b(const void *args, int64_t begin, int64_t end) {
    (void) args;
    atomic_fetch_add(&parts_b, 1);
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&runs_b[i], 1);
    if (begin == 0) { /* the caller's first part: B's other parts are unclaimed while the worker tries A's word */
        atomic_store(&released, 1);
        wait_for(&back, "worker 1 to come back from job A's word");
    }
}

static void check_once(_Atomic int *runs, int n, const char *job) {
    for (int i = 0; i < n; i++) {
        int r = atomic_load(&runs[i]);
        if (r != 1) {
            char message[160];
            snprintf(message, sizeof message, "job %s: element %d ran %d times, expected once", job, i, r);
            fail(message);
        }
    }
}

int main(void) {
    setenv("SEQ4J_POOL_WORKERS", "1", 1); /* worker 1 exists even on a one-CPU machine */
    pool_hook_lag = lag_hook;
    if (seq4j_pool_workers() != 1) fail("the pool did not start its one worker");
    for (int round = 0; round < ROUNDS; round++) {
        memset(runs_a, 0, sizeof runs_a);
        memset(runs_b, 0, sizeof runs_b);
        atomic_store(&parts_b, 0);
        atomic_store(&held, 0);
        atomic_store(&released, 0);
        atomic_store(&back, 0);
        uint32_t gen = JOB_GEN(atomic_load(&pool.job)) + 1;
        if (gen == 0 || gen + 1 == 0) fail("generation wrap in a test of three rounds");
        atomic_store(&held_gen, gen);
        parallel_for(2, A_TOTAL, 1, 1, job_a, NULL); /* two parts: the caller runs both, worker 1 held */
        check_once(runs_a, A_TOTAL, "A");
        if (JOB_GEN(atomic_load(&pool.job)) != gen) fail("job A did not run in the pool");
        run_job(2, BALANCE, B_TOTAL, 1, 16, job_b, NULL);
        check_once(runs_b, B_TOTAL, "B");
        if (atomic_load(&parts_b) != B_PARTS) fail("job B did not run as its own eight parts");
        atomic_store(&held_gen, 0); /* no more holding: the rest of the round runs as usual */
        for (int it = 0; it < 100; it++) {
            float value = (float) it;
            parallel_for(2, X_FLOATS, 1, 16, fill_x, &value);
            for (int i = 0; i < X_FLOATS; i++) {
                if (x[i] != (float) it) fail("an ordinary job after the lag left an element unwritten");
            }
        }
    }
    printf("pool_lag: a worker held on a finished job's word claimed nothing of the next job (%d rounds)\n", ROUNDS);
    return 0;
}
