/*
 * team_late.c - a few-row sequence forward whose team has a late part, made to happen rather than hoped for: the
 * library's sources are built into this program with SEQ4J_POOL_HOOKS, whose barrier hook holds one part for 20 ms at
 * a chosen barrier, as a preemption there would (another process on the core): just before it arrives (a late
 * arrival: the part that waits for it must go on alone with every unit once it has arrived, and it must leave), or
 * just after (a late waiter, which the other part passes, to end the team at the next barrier: the held part must still
 * do its units of the step it was released into, then leave; an earlier version of the barrier let it leave at once,
 * and the other part waited for it forever). A first long wait in a while is waited out (the team goes on); one that
 * follows it soon ends the team (the first one's 20 ms are a debt of long waits the rule does not forgive so soon). The
 * result must be bit for bit the per-step loop's on one thread. Teams ended in a row bring a back-off, during which the
 * same call must form no team (no barrier reached) and give the same bits; once it is over, a team forms again. Cases:
 * the LSTM (one barrier a step) F32 and BF16, the GRU (two: held at the step's middle one and at its last one) F32;
 * the held part being the worker, then the caller. The rule itself is checked on a made-up clock (back_off_rule).
 *
 * Build and run: make -C native check
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common.h"

enum { N = 1, H = 256, T = 9 };

static pthread_t caller;
static _Atomic int64_t late_round; /* the barrier round at which the late part is held (0: none) */
static _Atomic int late_is_caller; /* which part is held: the caller's (1) or the worker's (0) */
static _Atomic int late_after;     /* held after its arrival (1) or before (0) */
static _Atomic int64_t barriers;   /* arrivals at barriers seen by the hook */
static int failures;

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long) (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

static void hold_late_part(int64_t round, int after) {
    if (!after) atomic_fetch_add(&barriers, 1);
    if (round == atomic_load(&late_round) && after == atomic_load(&late_after)
        && !!pthread_equal(pthread_self(), caller) == atomic_load(&late_is_caller)) {
        sleep_ms(20); /* 40 times TEAM_LATE_NS: the waiting part notes it long before, even on a busy machine */
    }
}

static float *values(size_t n, float lo, float hi, unsigned *seed) {
    float *x = malloc(n * sizeof(float) + 1);
    if (!x) exit(2);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float) rand_r(seed) / (float) RAND_MAX;
    return x;
}

static void check(int ok, const char *what) {
    if (!ok && failures++ < 20) fprintf(stderr, "team_late: %s\n", what);
}

/* one forward of the LSTM (gru = 0) or the GRU from h_0 = 0 into hs (and cs, rh), gates from pre */
struct run {
    int gru, precision;
    const float *pre;
    const void *w, *zr, *hh;
    float *gates, *hs, *cs, *rh;
};

static void forward(const struct run *r, int threads) {
    int g = r->gru ? 3 : 4;
    memcpy(r->gates, r->pre, (size_t) T * N * g * H * sizeof(float));
    memset(r->hs, 0, (size_t) N * H * sizeof(float));
    if (r->gru) {
        seq4j_gru_forward_seq(threads, r->hs, r->gates, r->rh, r->zr, r->hh, T, N, H, 1, r->precision);
    } else {
        memset(r->cs, 0, (size_t) N * H * sizeof(float));
        seq4j_lstm_forward_seq(threads, r->hs, r->cs, r->gates, r->w, T, N, H, 1, r->precision, NULL, NULL, 0);
    }
}

static int same_bits(const float *a, const float *b, size_t n) {
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* The forward with the caller's or the worker's part held at `round`, before or after arriving: the one-thread loop's
 * gates and hs, checked here; returns how many teams ended meanwhile. Another process may preempt a part too (a busy
 * machine, make -j), which can only add ends: the callers retry what expects none. */
static int64_t held_call(const struct run *r, const float *want_hs, const float *want_gates, int64_t round,
                         int late_caller, int after, const char *name) {
    size_t nh = (size_t) (T + 1) * N * H, ng = (size_t) T * N * (r->gru ? 3 : 4) * H;
    char what[200];
    int64_t solos = pool_team_solos();
    atomic_store(&late_is_caller, late_caller);
    atomic_store(&late_after, after);
    atomic_store(&late_round, round);
    forward(r, 2);
    atomic_store(&late_round, 0);
    snprintf(what, sizeof what, "%s, %s held %s round %lld: not the one-thread loop's bits", name,
             late_caller ? "the caller" : "the worker", after ? "after arriving at" : "before", (long long) round);
    check(same_bits(r->hs, want_hs, nh) && same_bits(r->gates, want_gates, ng), what);
    return pool_team_solos() - solos;
}

enum { TRIES = 5 };
static int disturbed; /* cases whose every try saw waits the test did not cause (a busy machine): counts unchecked */

/* A first long wait in a while (the worker held before round 2) ends nothing; the case's wait right after it ends the
 * team, unless `ends` is 0 (a late waiter at the last barrier: the other part finishes without another barrier, and
 * waits for nothing). Another process preempting a part makes waits of its own, or delays the holds' (a wait noted
 * after the held part arrived ends nothing): so a case passes on any of TRIES tries whose counts are the expected
 * ones, fails if none was and some try saw only the holds' waits, and is left unchecked (said at the end) if every try
 * saw others. The bits are checked on every try. */
static void late_case(const struct run *r, const float *want_hs, const float *want_gates, int64_t round,
                      int late_caller, int after, int ends, const char *name) {
    int64_t first = 0, then = 0;
    int undisturbed = 0;
    for (int i = 0; i < TRIES; i++) {
        pool_hook_forget_contention();
        int64_t w0 = pool_hook_long_waits();
        first = held_call(r, want_hs, want_gates, 2, 0, 0, name);
        int64_t w1 = pool_hook_long_waits();
        then = held_call(r, want_hs, want_gates, round, late_caller, after, name);
        if (first == 0 && then == ends) return;
        undisturbed |= w1 - w0 == 1 && pool_hook_long_waits() - w1 == ends; /* each call's waits its hold's alone */
    }
    if (!undisturbed) {
        disturbed++;
        return;
    }
    char what[200];
    snprintf(what, sizeof what, "%s, %s held %s round %lld after a first long wait: %lld and %lld ends, expected 0 and "
             "%d (%d tries)", name, late_caller ? "the caller" : "the worker", after ? "after arriving at" : "before",
             (long long) round, (long long) first, (long long) then, ends, TRIES);
    check(0, what);
}

/* The rule on a made-up clock (ms), TEAM_DEBT_NS 8 ms and TEAM_DRAIN 4 as built: each long wait, noted at `at` once it
 * is TEAM_LATE_NS long, adds its `length` to a debt that drains at a quarter of the time passing; a wait ends the team
 * when the debt with its first 0.5 ms is over 8 ms. An end brings 20 ms of back-off, doubling while ends follow the
 * last back-off within 100 ms, up to a second; after a longer spell it starts over. Waits of 3 ms every 20 ms (15% of
 * the time) end nothing; 5 ms every 10 ms (half of it) end the team at the fourth; long waits right after each
 * back-off double it up to the cap; the debt drains during a quiet spell. */
static void back_off_rule(void) {
    static const struct {
        int64_t at, length, ends, backoff;
    } waits[] = {{1000, 3, 0, 0},      {1020, 3, 0, 0},     {1040, 3, 0, 0},     {1060, 3, 0, 0},    {1070, 5, 0, 0},
                 {1080, 5, 0, 0},      {1090, 5, 0, 0},     {1100, 5, 1, 20},    {1121, 30, 1, 40},  {1170, 30, 1, 80},
                 {1260, 30, 1, 160},   {1430, 100, 1, 320}, {1760, 200, 1, 640}, {2410, 300, 1, 1000},
                 {3420, 5, 1, 1000},   {4500, 5, 0, 1000},  {6000, 20, 0, 1000}, {6030, 1, 1, 20}};
    pool_hook_forget_contention();
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        int64_t until, t = waits[i].at * 1000000;
        int64_t debt = pool_hook_debt_ns(t);
        int ends = pool_hook_late_at(t, waits[i].length * 1000000, &until);
        char what[200];
        snprintf(what, sizeof what, "the back-off rule: a %lld ms wait at %lld ms (debt %.2f ms): %d ends, back-off "
                 "%lld ms (expected %lld, %lld)", (long long) waits[i].length, (long long) waits[i].at,
                 (double) debt / 1e6, ends, (long long) (pool_hook_backoff_ns() / 1000000), (long long) waits[i].ends,
                 (long long) waits[i].backoff);
        check(ends == waits[i].ends && pool_hook_backoff_ns() == waits[i].backoff * 1000000
              && (!ends || until == t + waits[i].backoff * 1000000), what);
    }
    pool_hook_forget_contention();
}

/* Teams ended in a row, by held calls: during the back-off the call forms no team (no barrier reached) and gives the
 * same bits; once it is over, a team forms again. A try whose held calls did not start a back-off (a busy machine) is
 * tried again, and the case left unchecked if none did. */
static void back_off(const struct run *r, const float *want_hs, const float *want_gates, const char *name) {
    size_t nh = (size_t) (T + 1) * N * H;
    char what[160];
    for (int i = 0; i < TRIES; i++) {
        pool_hook_forget_contention();
        held_call(r, want_hs, want_gates, 2, 0, 0, name);
        held_call(r, want_hs, want_gates, 2, 0, 0, name);
        if (!pool_contended()) continue;
        atomic_store(&barriers, 0);
        forward(r, 2);
        if (pool_contended()) { /* still: the call ran inside the back-off */
            snprintf(what, sizeof what, "%s: a team formed during the back-off (%lld arrivals)", name,
                     (long long) atomic_load(&barriers));
            check(atomic_load(&barriers) == 0, what);
        }
        check(same_bits(r->hs, want_hs, nh), "in the back-off: not the one-thread loop's bits");
        for (int j = 0; j < 200 && pool_contended(); j++) sleep_ms(10);
        atomic_store(&barriers, 0);
        forward(r, 2);
        snprintf(what, sizeof what, "%s: no team after the back-off", name);
        check(atomic_load(&barriers) > 0, what);
        check(same_bits(r->hs, want_hs, nh), "after the back-off: not the one-thread loop's bits");
        return;
    }
    disturbed++;
}

static void sequence(int gru, int precision, const char *name) {
    unsigned seed = 7;
    int g = gru ? 3 : 4;
    size_t nh = (size_t) (T + 1) * N * H, ng = (size_t) T * N * g * H;
    float *w = values((size_t) H * g * H, -0.1f, 0.1f, &seed);
    struct run r = {.gru = gru, .precision = precision, .pre = values(ng, -2, 2, &seed)};
    void *w_packed = NULL, *zr = NULL, *hh = NULL;
    if (gru) {
        zr = malloc((size_t) seq4j_packed_floats(H, 2 * H, precision) * sizeof(float));
        hh = malloc((size_t) seq4j_packed_floats(H, H, precision) * sizeof(float));
        seq4j_pack(1, zr, w, 111, H, 2 * H, 3 * H, precision);
        seq4j_pack(1, hh, w + 2 * H, 111, H, H, 3 * H, precision);
        r.zr = zr, r.hh = hh;
    } else {
        w_packed = malloc((size_t) seq4j_packed_floats(H, 4 * H, precision) * sizeof(float));
        seq4j_pack(1, w_packed, w, 111, H, 4 * H, 4 * H, precision);
        r.w = w_packed;
    }
    r.gates = malloc(ng * sizeof(float)), r.hs = malloc(nh * sizeof(float));
    r.cs = malloc(nh * sizeof(float)), r.rh = malloc(nh * sizeof(float));
    forward(&r, 1); /* the per-step loop on this thread alone */
    float *want_hs = malloc(nh * sizeof(float)), *want_gates = malloc(ng * sizeof(float));
    memcpy(want_hs, r.hs, nh * sizeof(float)), memcpy(want_gates, r.gates, ng * sizeof(float));

    pool_hook_forget_contention();
    atomic_store(&barriers, 0);
    forward(&r, 2);
    if (atomic_load(&barriers) == 0) {
        printf("team_late: %s: skipped, no team formed here (one CPU, or no worker)\n", name);
    } else {
        check(same_bits(r.hs, want_hs, nh) && same_bits(r.gates, want_gates, ng), "a quiet team: not the loop's bits");
        /* rounds: the LSTM's barrier ends step s (round s + 1); the GRU's step 0 has no product, so only its end
         * (round 1), and from step 1 on the middle of step s is round 2 s, its end 2 s + 1 (the last step has no
         * end barrier: its middle one, 2 (T - 1), is the last). Not round 1, where a
         * late part is waited for (a worker may be waking up). A part held after arriving at the last barrier ends
         * nothing: the other finishes its units without another barrier */
        int64_t last = gru ? 2 * (T - 1) : T - 1, rounds[] = {2, 4, gru ? 5 : 7, last};
        for (int late_caller = 0; late_caller < 2; late_caller++) {
            for (int after = 0; after < 2; after++) {
                for (int i = 0; i < 4; i++) {
                    late_case(&r, want_hs, want_gates, rounds[i], late_caller, after, !(after && rounds[i] == last),
                              name);
                }
            }
        }
        back_off(&r, want_hs, want_gates, name);
        printf("team_late: %s: a late worker or caller, arriving or waiting, ends the team at each barrier kind; the "
               "same bits\n", name);
    }
    free(w), free((void *) r.pre), free(w_packed), free(zr), free(hh), free(r.gates), free(r.hs), free(r.cs), free(r.rh);
    free(want_hs), free(want_gates);
}

int main(void) {
    caller = pthread_self();
    pool_hook_barrier = hold_late_part;
    back_off_rule();
    sequence(0, SEQ4J_PACKED_F32, "LSTM F32");
    sequence(0, SEQ4J_PACKED_BF16, "LSTM BF16");
    sequence(1, SEQ4J_PACKED_F32, "GRU F32");
    if (disturbed) {
        printf("team_late: the counts of %d cases not checked: every try saw long waits this test did not cause (a "
               "busy machine); their bits were\n", disturbed);
    }
    if (failures) {
        fprintf(stderr, "team_late: %d failures\n", failures);
        return 1;
    }
    return 0;
}
