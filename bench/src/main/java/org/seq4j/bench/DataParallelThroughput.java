// Throughput of data-parallel training over MPI, not a JMH benchmark: JMH's time-based iterations would let
// ranks run different numbers of steps, and a collective needs every rank. Each rank runs the same fixed
// number of steps of W1 (the addition seq2seq training step, global batch 128) or W2 (one LSTM layer at the
// BetterRnnlm size, forward + backward, global batch 64), its shard of each global batch, and one all-reduce
// of the flat gradient buffer per step. Rank 0 prints examples/s (of the global batch) and the all-reduce's
// share of the step, per round and the median of the rounds. The all-reduce's time includes waiting for the
// slower rank. Run by `scripts/bench mpi`:
//   mpirun -np R java -Dseq4j.threads=T -cp benchmarks.jar org.seq4j.bench.DataParallelThroughput w1|w2 [steps] [rounds]
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.data.SequencePairs;
import org.seq4j.dist.Communicator;
import org.seq4j.dist.DataParallel;
import org.seq4j.dist.Distributed;
import org.seq4j.dist.Shard;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.models.Seq2seq;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.Tensor;
import org.seq4j.train.Batches;
import org.seq4j.train.Trainer;

public final class DataParallelThroughput {

    /** Adds up the time spent in the gradient all-reduce (the float-tensor one). */
    private static final class Timed implements Communicator {
        final Communicator c;
        long nanos;

        Timed(Communicator c) {
            this.c = c;
        }

        public int rank() { return c.rank(); }
        public int size() { return c.size(); }
        public String describe() { return c.describe(); }
        public void allReduceSum(double[] v) { c.allReduceSum(v); }
        public void allReduceMin(long[] v) { c.allReduceMin(v); }
        public void broadcast(Backend b, Tensor x) { c.broadcast(b, x); }
        public void broadcast(long[] v) { c.broadcast(v); }
        public void barrier() { c.barrier(); }
        public void close() { c.close(); }

        public void allReduceSum(Backend b, Tensor x) {
            long t0 = System.nanoTime();
            c.allReduceSum(b, x);
            nanos += System.nanoTime() - t0;
        }
    }

    interface Step {
        void run(int steps);
    }

    public static void main(String[] args) throws Exception {
        String workload = args[0];
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : workload.equals("w1") ? 200 : 6;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        try (Communicator mpi = Distributed.open(Distributed.Mode.AUTO, Distributed.DEFAULT_TIMEOUT);
             Backend b = Backends.create("openblas"); Arena arena = Arena.ofShared()) {
            Timed comm = new Timed(mpi);
            int batch;
            Step step;
            AutoCloseable owned;
            if (workload.equals("w1")) { // V=13, T=7 in / 4 out, D=16, H=128, N=128, clip 5, Adam
                batch = 128;
                Seq2seq model = new Seq2seq(b, 13, 16, 128, Workloads.SEED);
                Trainer trainer = new Trainer(model, new Adam(0.001f), 5f, Workloads.SEED).distribute(comm);
                Random r = new Random(1);
                int[][] x = new int[batch * steps][7], t = new int[batch * steps][5];
                for (int i = 0; i < x.length; i++) {
                    for (int j = 0; j < 7; j++) {
                        x[i][j] = r.nextInt(13);
                    }
                    for (int j = 0; j < 5; j++) {
                        t[i][j] = r.nextInt(13);
                    }
                }
                Batches data = Batches.of(new SequencePairs(x, t));
                int[] epoch = {0};
                step = n -> trainer.fitEpoch(++epoch[0], data, batch, new Trainer.Listener() {
                });
                owned = () -> {
                    trainer.close();
                    model.close();
                };
            } else if (workload.equals("w2")) { // N=64, T=35, D=H=650: forward, backward, all-reduce, zero
                batch = 64;
                int t = 35, h = 650;
                Shard shard = Shard.of(batch, comm.rank(), comm.size());
                ParameterStore params = Workloads.lstmParameters(b, h, h);
                TimeLSTM lstm = Workloads.lstm(b, params, false);
                Fixtures f = new Fixtures(b, arena, Workloads.SEED + comm.rank());
                Tensor xs = f.uniform(-1, 1, t, shard.rows(), h), dhs = f.uniform(-1, 1, t, shard.rows(), h);
                step = n -> {
                    for (int i = 0; i < n; i++) {
                        lstm.forward(xs);
                        lstm.backward(dhs);
                        DataParallel.reduce(comm, params, shard, 0f);
                        params.zeroGrads();
                    }
                };
                owned = () -> {
                    lstm.close();
                    params.close();
                };
            } else {
                throw new IllegalArgumentException("workload w1 or w2, got " + workload);
            }
            step.run(Math.max(1, steps / 5)); // warm-up
            double[] perSecond = new double[rounds], share = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                comm.barrier();
                comm.nanos = 0;
                long t0 = System.nanoTime();
                step.run(steps);
                comm.barrier();
                double seconds = (System.nanoTime() - t0) / 1e9;
                perSecond[round] = (double) steps * batch / seconds;
                share[round] = comm.nanos / 1e9 / seconds;
                if (comm.isRoot()) {
                    System.out.printf("%s ranks=%d threads=%s round %d: %.0f examples/s, %.2f ms/step, all-reduce %.1f%% "
                                    + "of the step%n", workload, comm.size(), System.getProperty("seq4j.threads", "default"),
                            round + 1, perSecond[round], 1e3 * seconds / steps, 100 * share[round]);
                }
            }
            if (comm.isRoot()) {
                System.out.printf("RESULT %s ranks=%d threads=%s: %.0f examples/s, all-reduce %.1f%% of the step "
                                + "(medians of %d rounds of %d steps)%n", workload, comm.size(),
                        System.getProperty("seq4j.threads", "default"), median(perSecond), 100 * median(share), rounds, steps);
            }
            owned.close();
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
