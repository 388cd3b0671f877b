// How far apart the cores are: two threads hand a counter back and forth through one cache line, and half a round
// trip is the time a line written by one core takes to reach the other. On the 2-vCPU Zen 5 VM this work was measured
// on it moved between ~60 ns (both vCPUs on one CCD, sharing its L3) and ~230 ns (on two CCDs), and with it every
// multi-threaded figure (bench/RESULTS.md, seventeenth pass: the same W1 kernels 1.5 or 2.5 ms), so scripts/bench
// records it beside each section. The threads are not pinned: on a machine of more than two cores they run where the
// OS puts them.
//   java -cp bench/target/benchmarks.jar org.seq4j.bench.CoreLatency
package org.seq4j.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

public final class CoreLatency {
    private static final int TRIPS = 100_000, BATCHES = 5;

    private CoreLatency() {
    }

    /** Half the median round trip of a counter between two threads, in nanoseconds. */
    static double oneWayNanos() throws InterruptedException {
        AtomicInteger ball = new AtomicInteger();
        int total = TRIPS * BATCHES;
        Thread other = Thread.ofPlatform().daemon().start(() -> {
            for (int i = 0; i < total; i++) {
                while (ball.get() != 2 * i + 1) {
                    Thread.onSpinWait();
                }
                ball.set(2 * i + 2);
            }
        });
        double[] oneWay = new double[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            long t0 = System.nanoTime();
            for (int i = b * TRIPS; i < (b + 1) * TRIPS; i++) {
                ball.set(2 * i + 1);
                while (ball.get() != 2 * i + 2) {
                    Thread.onSpinWait();
                }
            }
            oneWay[b] = (System.nanoTime() - t0) / (2.0 * TRIPS);
        }
        other.join();
        Arrays.sort(oneWay);
        return oneWay[BATCHES / 2];
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.printf(Locale.ROOT, "core-to-core: %.0f ns one way (half the median round trip of %d, two threads)%n",
                oneWayNanos(), TRIPS);
    }
}
