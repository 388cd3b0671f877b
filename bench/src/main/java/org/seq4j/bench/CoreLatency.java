// How far apart the cores are: two threads hand a counter back and forth through one cache line, and half a round
// trip is the time a line written by one core takes to reach the other. On the 2-vCPU Zen 5 VM this work was measured
// on it moved between ~60 ns (both vCPUs on one CCD, sharing its L3) and ~230 ns (on two CCDs), and with it every
// multi-threaded figure (bench/RESULTS.md, seventeenth pass: the same W1 kernels 1.5 or 2.5 ms), so scripts/bench
// records it beside each section. The threads are not pinned: on a machine of more than two cores they run where the
// OS puts them. With one CPU, or when the two threads do not both run within two seconds (a loaded machine), there is
// no figure (NaN) rather than a wait.
//   java -cp bench/target/benchmarks.jar org.seq4j.bench.CoreLatency
package org.seq4j.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

public final class CoreLatency {
    private static final int TRIPS = 100_000, BATCHES = 5;
    private static final long BUDGET_NANOS = 2_000_000_000L;
    static final int STOP = -1;

    private CoreLatency() {
    }

    /**
     * The other thread's return of serve v: v + 1, unless the ball is no longer v. Only a STOP can have replaced it (this
     * thread serves next only after seeing the return): a plain set here, after a serve read just before the measuring
     * thread gave up at its deadline and set STOP, overwrote the STOP, and this thread then waited for a serve that never
     * came while the other waited in join() for it, both forever (a fresh clone's CI hung so in ReportTest on a loaded
     * machine, 2026-12-04).
     */
    static boolean returned(AtomicInteger ball, int v) {
        return ball.compareAndSet(v, v + 1);
    }

    /** Half the median round trip of a counter between two threads, in nanoseconds; NaN where it cannot be had. */
    static double oneWayNanos() throws InterruptedException {
        return oneWayNanos(BUDGET_NANOS);
    }

    /** As {@link #oneWayNanos()}, giving up (NaN) once budgetNanos have passed. */
    static double oneWayNanos(long budgetNanos) throws InterruptedException {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            return Double.NaN; // two spinning threads on one CPU would hand over once per time slice
        }
        AtomicInteger ball = new AtomicInteger(); // odd: this thread's serve; even: the other's return; STOP: done
        Thread other = Thread.ofPlatform().daemon().start(() -> {
            for (int seen = 0; ; ) {
                int v;
                while ((v = ball.get()) == seen) {
                    Thread.onSpinWait();
                }
                if (v == STOP || !returned(ball, v)) {
                    return;
                }
                seen = v + 1;
            }
        });
        double[] oneWay = new double[BATCHES];
        long deadline = System.nanoTime() + budgetNanos;
        try {
            for (int b = 0; b < BATCHES; b++) {
                long t0 = System.nanoTime();
                for (int i = b * TRIPS; i < (b + 1) * TRIPS; i++) {
                    ball.set(2 * i + 1);
                    for (int spins = 0; ball.get() != 2 * i + 2; spins++) {
                        Thread.onSpinWait();
                        if ((spins & 1023) == 1023 && System.nanoTime() > deadline) {
                            return Double.NaN;
                        }
                    }
                }
                oneWay[b] = (System.nanoTime() - t0) / (2.0 * TRIPS);
            }
        } finally {
            ball.set(STOP);
            other.join();
        }
        Arrays.sort(oneWay);
        return oneWay[BATCHES / 2];
    }

    public static void main(String[] args) throws InterruptedException {
        double ns = oneWayNanos();
        System.out.println(Double.isNaN(ns) ? "core-to-core: n/a (one CPU, or the two threads did not both run)"
                : String.format(Locale.ROOT, "core-to-core: %.0f ns one way (half the median round trip of %d, two "
                        + "threads)", ns, TRIPS));
    }
}
