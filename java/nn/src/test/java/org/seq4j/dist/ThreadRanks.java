// Ranks as threads of one JVM, for tests of what DataParallel does on every rank at once without mpirun: each
// collective is a rendezvous of all ranks on a barrier (a rank that never arrives leaves the others waiting, as
// with MPI; the barrier's timeout turns that into a TimeoutException instead of a hung test). Sums run in rank
// order in float, so a test can compute the same bits.
package org.seq4j.dist;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

final class ThreadRanks {
    private final int size;
    private final CyclicBarrier barrier;
    private final long timeoutMs;
    private final Object[] slots;

    ThreadRanks(int size, long timeoutMs) {
        this.size = size;
        this.barrier = new CyclicBarrier(size);
        this.timeoutMs = timeoutMs;
        this.slots = new Object[size];
    }

    /** Runs body(rank) on a thread for each of n ranks; what each threw (null where it returned), within 30 s. */
    static Throwable[] onEveryRank(int n, IntConsumer body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            Future<?>[] runs = new Future<?>[n];
            for (int r = 0; r < n; r++) {
                int rank = r;
                runs[r] = pool.submit(() -> body.accept(rank));
            }
            Throwable[] thrown = new Throwable[n];
            for (int r = 0; r < n; r++) {
                try {
                    runs[r].get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    thrown[r] = e.getCause();
                }
            }
            return thrown;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Rank r's communicator; use each from its own thread. */
    Communicator rank(int r) {
        return new Communicator() {
            @Override
            public int rank() {
                return r;
            }

            @Override
            public int size() {
                return size;
            }

            @Override
            public String describe() {
                return "thread rank " + r + " of " + size;
            }

            @Override
            public void allReduceSum(Backend backend, Tensor x) {
                float[] mine = new float[Math.toIntExact(x.size())];
                backend.copyOut(mine, x);
                float[] sum = new float[mine.length];
                for (Object o : exchange(r, mine)) {
                    float[] v = (float[]) o;
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += v[i];
                    }
                }
                backend.copyIn(x, sum);
            }

            @Override
            public void allReduceSum(double[] values) {
                double[] sum = new double[values.length];
                for (Object o : exchange(r, values.clone())) {
                    double[] v = (double[]) o;
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += v[i];
                    }
                }
                System.arraycopy(sum, 0, values, 0, values.length);
            }

            @Override
            public void allReduceMin(long[] values) {
                long[] min = values.clone();
                for (Object o : exchange(r, values.clone())) {
                    long[] v = (long[]) o;
                    for (int i = 0; i < min.length; i++) {
                        min[i] = Math.min(min[i], v[i]);
                    }
                }
                System.arraycopy(min, 0, values, 0, values.length);
            }

            @Override
            public void broadcast(Backend backend, Tensor x) {
                float[] mine = new float[Math.toIntExact(x.size())];
                backend.copyOut(mine, x);
                backend.copyIn(x, (float[]) exchange(r, mine)[0]);
            }

            @Override
            public void broadcast(long[] values) {
                long[] root = (long[]) exchange(r, values.clone())[0];
                System.arraycopy(root, 0, values, 0, values.length);
            }

            @Override
            public void barrier() {
                exchange(r, null);
            }

            @Override
            public void close() {
            }
        };
    }

    /** Every rank's contribution, once all have given theirs; slots are reused only after every rank has read. */
    private Object[] exchange(int r, Object mine) {
        slots[r] = mine;
        await();
        Object[] all = slots.clone();
        await();
        return all;
    }

    /** As MPI's collectives, which do not look at Java's interrupt: one pending as a rank arrives is kept for later. */
    private void await() {
        boolean pending = Thread.interrupted();   // else await throws at once and breaks the barrier for every rank
        try {
            barrier.await(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted in a collective", e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("a collective was not joined by every rank within " + timeoutMs + " ms", e);
        } finally {
            if (pending) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
