// The child process of DataParallelTest, started as one rank of `mpirun -np 2`: K steps of data-parallel
// training of a small Seq2seq or AttentionSeq2seq on seeded random token pairs (or of an Rnnlm by truncated
// BPTT on a random corpus, 7 streams split 3 + 4), then each rank writes its parameters, the epoch loss and
// the split evaluation. Also the failure drills: a rank that is killed, a
// rank that stalls (the watchdog must end the other), a rank built with another model (configuration check),
// a second start of MPI in one process (refused with one line, not Open MPI's abort), a second thread calling
// while the first is inside a collective (refused, not two collectives in flight), a rank that evaluates on
// another number of questions or words (configuration check, not a wrong total), ranks that pass the same data
// in other Batches objects (the same collectives all the same), a tensor of more floats than an MPI count holds,
// a rank whose batch cannot be split (configuration check, not a rank that throws alone), a rank whose thread is
// interrupted (every rank stops at the same step), a host tensor a layer keeps rewritten by a collective (its write
// counted, the layer's backward refused).
//   DataParallelMain MODE KIND OPTIMIZER OUT_PREFIX [TIMEOUT_SECONDS]
//   MODE: train | kill | stall | mismatch | drift | interrupt | reopen | threads | evalmismatch | rewrap | bigcount | badbatch | writes;  KIND: seq2seq | attention | rnnlm;  OPTIMIZER: adam | sgd
package org.seq4j.dist;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.data.CharVocabulary;
import org.seq4j.data.SequencePairs;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.models.Rnnlm;
import org.seq4j.models.Seq2seq;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.optim.Adam;
import org.seq4j.optim.Optimizer;
import org.seq4j.optim.SGD;
import org.seq4j.tensor.Tensor;
import org.seq4j.train.Batches;
import org.seq4j.train.RnnlmTrainer;
import org.seq4j.train.Seq2seqEval;
import org.seq4j.train.Trainer;

public final class DataParallelMain {
    // the experiment, shared with DataParallelTest's one-process reference
    static final int V = 13, D = 8, H = 16, T_IN = 7, T_OUT = 5, BATCH = 30, STEPS = 4, TEST = 45;
    static final long SEED = 1984;
    static final float LR = 0.01f, SGD_LR = 0.5f, CLIP = 1f;
    static final int LM_V = 20, LM_BATCH = 7, LM_TIME = 5;

    public static void main(String[] args) throws IOException {
        String mode = args[0], kind = args[1], optimizer = args[2];
        Path out = Path.of(args[3]);
        Duration timeout = Duration.ofSeconds(args.length > 4 ? Long.parseLong(args[4]) : 60);
        if (mode.equals("reopen")) {
            reopen(timeout);
            return;
        }
        if (mode.equals("bigcount")) {
            bigCount(timeout);
            return;
        }
        if (mode.equals("writes")) {
            collectiveWrites(timeout);
            return;
        }
        if (mode.equals("threads")) {
            twoThreads(timeout, Path.of(out + ".go"));
            return;
        }
        boolean mismatch = false;
        try (Communicator comm = Distributed.open(Distributed.Mode.MPI, timeout);
             Backend backend = Backends.create("openblas")) {
            try {
                int rank = comm.rank();
                int hidden = mode.equals("mismatch") && rank == 1 ? H + 1 : H;
                boolean otherEval = mode.equals("evalmismatch") && rank == 1;
                boolean badBatch = mode.equals("badbatch") && rank == 1;
                if (kind.equals("rnnlm")) {
                    try (Rnnlm model = new Rnnlm(backend, LM_V, D, hidden, SEED + rank); Optimizer opt = optimizer(optimizer);
                         RnnlmTrainer trainer = new RnnlmTrainer(model, opt, CLIP).distribute(comm)) {
                        float ppl = (float) trainer.fitEpoch(1, corpus(STEPS * LM_BATCH * LM_TIME + 1, 1), badBatch ? 1 : LM_BATCH, LM_TIME,
                                new Trainer.Listener() {
                                });
                        float valid = (float) trainer.evalPerplexity(corpus((otherEval ? 4 : 3) * LM_BATCH * LM_TIME + 1, 2),
                                LM_BATCH, LM_TIME);
                        write(out, rank, ppl, valid, model.store().values().toFloatArray());
                    }
                    return;
                }
                // every rank but 0 starts from other weights: the broadcast must replace them
                try (Seq2seqModel model = model(kind, backend, hidden, SEED + rank);
                     Optimizer opt = optimizer(optimizer); Trainer trainer = new Trainer(model, opt, CLIP, SEED)) {
                    trainer.distribute(comm);
                    Batches first = Batches.of(pairs(STEPS * BATCH, 1));
                    Trainer.Listener listener = new Trainer.Listener() {
                        @Override
                        public void onStep(int epoch, int step, float l) {
                            if (step == 2 && rank == 1) {
                                if (mode.equals("kill")) {
                                    kill9(ProcessHandle.current().pid());
                                } else if (mode.equals("drift")) { // what a rank whose updates round otherwise would do
                                    String name = model.store().parameters().get(0).name();
                                    float[] w = model.store().copyOut(name);
                                    w[0] = Math.nextUp(w[0]);
                                    model.store().copyIn(name, w);
                                } else if (mode.equals("stall")) {
                                    sleepForever();
                                } else if (mode.equals("interrupt")) { // a cancelled task on this rank alone
                                    Thread.currentThread().interrupt();
                                } else if (mode.equals("throw")) { // a listener that fails on this rank alone
                                    throw new IllegalStateException("the listener of rank 1 failed");
                                }
                            }
                        }
                    };
                    float loss;
                    try {
                        loss = trainer.fitEpoch(1, first, badBatch ? 1 : BATCH, listener);
                    } catch (java.util.concurrent.CancellationException e) {
                        System.out.println("rank " + rank + " stopped: " + e.getMessage() + "; interrupted: "
                                + Thread.interrupted());
                        write(out, rank, Float.NaN, trainer.steps(), model.store().values().toFloatArray());
                        return;
                    } catch (IllegalStateException | DistributedException e) {
                        if (!mode.equals("throw")) {
                            throw e;
                        }
                        System.out.println("rank " + rank + " failed: " + e.getMessage());
                        write(out, rank, Float.NaN, trainer.steps(), model.store().values().toFloatArray());
                        return;
                    }
                    if (mode.equals("rewrap")) { // a second epoch: rank 0 passes the same Batches again, rank 1 a new one
                        Batches again = rank == 0 ? first : Batches.of(pairs(STEPS * BATCH, 1));
                        loss = trainer.fitEpoch(2, again, BATCH, new Trainer.Listener() {
                        });
                    }
                    Seq2seqEval.Result r = Seq2seqEval.evaluate(model, pairs(TEST, 2), vocabulary(), false,
                            otherEval ? TEST - 15 : 0, 7, 0, 0, comm);
                    write(out, rank, loss, r.correct(), model.store().values().toFloatArray());
                }
            } catch (ConfigurationMismatchException e) {
                // said before the communicator closes, whose barrier then holds every rank until all have said it:
                // said after MPI_Finalize, a rank that exited first (code 2) had mpirun end the others before they did
                System.err.println("seq4j: " + e.getMessage());
                System.err.flush();
                mismatch = true;
            }
        }
        if (mismatch) {
            System.exit(2);
        }
    }

    /**
     * MPI started while it is open, aborted and started (five times) after it was closed: each refused with one line, the
     * process alive, and no watchdog thread left running by the refused starts.
     */
    private static void reopen(Duration timeout) {
        Communicator comm = Distributed.open(Distributed.Mode.MPI, timeout);
        try (comm) {
            try {
                Distributed.open(Distributed.Mode.MPI, timeout).close();
            } catch (IllegalStateException e) {
                System.out.println("while open: " + e.getMessage());
            }
            comm.barrier(); // the first one still works
        }
        try {
            comm.abort(5);
        } catch (IllegalStateException e) {
            System.out.println("abort after close: " + e.getMessage());
        }
        for (int i = 0; i < 5; i++) { // as a server that retries would
            try {
                Distributed.open(Distributed.Mode.MPI, timeout).close();
            } catch (DistributedException e) {
                if (i == 0) {
                    System.out.println("after close: " + e.getMessage());
                }
            }
        }
        System.out.println("watchdogs running: " + watchdogsRunning());
        System.out.println("alive");
    }

    /** The MPI watchdog threads still running once those that were stopped have ended (waiting at most 2 s for each). */
    private static long watchdogsRunning() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("seq4j-mpi-watchdog")) {
                try {
                    t.join(2_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("seq4j-mpi-watchdog")).count();
    }

    /** 2^32 floats (never touched: the count is refused first) all-reduced and broadcast. */
    private static void bigCount(Duration timeout) {
        Tensor huge = Tensor.wrapHost(MemorySegment.ofAddress(64).reinterpret(4L << 32), 65536, 65536);
        try (Communicator comm = Distributed.open(Distributed.Mode.MPI, timeout)) {
            try {
                comm.allReduceSum(null, huge);
            } catch (IllegalArgumentException e) {
                System.out.println("refused: " + e.getMessage());
            }
            try {
                comm.broadcast(null, huge);
            } catch (IllegalArgumentException e) {
                System.out.println("refused: " + e.getMessage());
            }
            // a heap tensor, one of a closed arena, null arrays: refused naming the call (they were the FFM linker's
            // "Heap segment not allowed: ...", "Already closed", and a NullPointerException without a message)
            Tensor heap = Tensor.wrap(new float[] {1, 2, 3}, 3), closed;
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                closed = Tensor.wrapHost(arena.allocate(12), 3);
            }
            for (Runnable call : new Runnable[] {() -> comm.allReduceSum(null, heap), () -> comm.broadcast(null, heap),
                    () -> comm.allReduceSum(null, closed), () -> comm.allReduceSum((double[]) null),
                    () -> comm.allReduceMin(null), () -> comm.broadcast((long[]) null)}) {
                try {
                    call.run();
                    System.out.println("not refused");
                } catch (RuntimeException e) {
                    System.out.println("refused: " + e.getMessage());
                }
            }
        }
    }

    /**
     * Each rank feeds its own values x to a TimeAffine, then an all-reduce (and a broadcast) of x rewrites them in place:
     * the layer's backward must be refused as after any other write through seq4j. Host memory went to MPI through
     * x.segment() uncounted, so the backward computed W's gradient from values the forward never saw.
     */
    private static void collectiveWrites(Duration timeout) {
        try (Communicator comm = Distributed.open(Distributed.Mode.MPI, timeout)) {
            for (String name : new String[] {"openblas", "javadevice"}) {   // host memory, and memory labelled a device
                try (Backend backend = org.seq4j.testing.TestBackends.fresh(name)) {
                    collectiveWrites(comm, backend, name);
                }
            }
        }
    }

    private static void collectiveWrites(Communicator comm, Backend backend, String name) {
        try (org.seq4j.layers.ParameterStore store = org.seq4j.layers.ParameterStore.builder(backend)
                     .declare("W", org.seq4j.layers.Init.zeros(), 2, 3).declare("b", org.seq4j.layers.Init.zeros(), 3)
                     .build(1);
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor x = backend.allocate(arena, org.seq4j.tensor.DType.F32, 1, 2, 2);
            Tensor dout = backend.allocate(arena, org.seq4j.tensor.DType.F32, 1, 2, 3);
            backend.fill(dout, 1f);
            String[] calls = {"allReduceSum", "broadcast"};
            for (String call : calls) {
                try (org.seq4j.layers.TimeAffine affine = new org.seq4j.layers.TimeAffine(backend, store.get("W"),
                        store.get("b"))) {
                    backend.fill(x, comm.rank() + 1f);
                    affine.forward(x);
                    long before = x.writes();
                    if (call.equals("allReduceSum")) {
                        comm.allReduceSum(backend, x);
                    } else {
                        comm.broadcast(backend, x);
                    }
                    String counted = x.writes() != before ? "counted" : "not counted";
                    try {
                        affine.backward(dout);
                        System.out.println(name + " rank " + comm.rank() + " " + call + ": " + counted + ", backward ran");
                    } catch (IllegalStateException e) {
                        System.out.println(name + " rank " + comm.rank() + " " + call + ": " + counted + ", backward refused");
                    }
                }
            }
        }
    }

    /**
     * Rank 0: thread "first" enters a barrier, which cannot return before rank 1 joins; meanwhile the main thread
     * calls an all-reduce and close, both of which must be refused. Only then does rank 0 create {@code go}, and
     * rank 1 join.
     */
    private static void twoThreads(Duration timeout, Path go) throws IOException {
        try (Communicator comm = Distributed.open(Distributed.Mode.MPI, timeout)) {
            if (comm.rank() == 0) {
                Thread first = Thread.ofPlatform().name("first").start(comm::barrier);
                while (((MpiCommunicator) comm).inside() == null) {
                    Thread.onSpinWait();
                }
                try {
                    comm.allReduceSum(new double[] {1});
                    System.out.println("a second thread entered MPI");
                } catch (IllegalStateException e) {
                    System.out.println("refused: " + e.getMessage());
                }
                try {
                    comm.close();
                    System.out.println("a second thread closed it");
                } catch (IllegalStateException e) {
                    System.out.println("close refused: " + e.getMessage());
                }
                Files.createFile(go);
                join(first);
            } else {
                while (!Files.exists(go)) {
                    sleep(10);
                }
                comm.barrier();
            }
            double[] one = {1};
            comm.allReduceSum(one); // the communicator still works, from either thread
            System.out.println("rank " + comm.rank() + " sum " + one[0]);
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** OUT.rankR: the epoch's loss (perplexity for rnnlm), the evaluation (correct answers, or perplexity), parameters. */
    private static void write(Path out, int rank, float loss, float eval, float[] values) throws IOException {
        try (OutputStream o = Files.newOutputStream(Path.of(out + ".rank" + rank)); DataOutputStream d = new DataOutputStream(o)) {
            d.writeFloat(loss);
            d.writeFloat(eval);
            d.writeInt(values.length);
            for (float v : values) {
                d.writeFloat(v);
            }
        }
    }

    /** n seeded random word ids in [0, LM_V). */
    static int[] corpus(int n, long seed) {
        return new Random(seed).ints(n, 0, LM_V).toArray();
    }

    static Seq2seqModel model(String kind, Backend backend, int hidden, long seed) {
        return switch (kind) {
            case "seq2seq" -> new Seq2seq(backend, V, D, hidden, seed);
            case "attention" -> new AttentionSeq2seq(backend, V, D, hidden, seed);
            default -> throw new IllegalArgumentException("unknown model " + kind);
        };
    }

    /** Adam, or plain SGD, whose step is proportional to the gradient (Adam's hardly sees a wrongly scaled one). */
    static Optimizer optimizer(String name) {
        return switch (name) {
            case "adam" -> new Adam(LR);
            case "sgd" -> new SGD(SGD_LR);
            default -> throw new IllegalArgumentException("unknown optimizer " + name);
        };
    }

    /** n seeded random question/answer pairs; the answers start with the start id 0. */
    static SequencePairs pairs(int n, long seed) {
        Random rng = new Random(seed);
        int[][] x = new int[n][T_IN], t = new int[n][T_OUT];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < T_IN; j++) {
                x[i][j] = 1 + rng.nextInt(V - 1);
            }
            for (int j = 1; j < T_OUT; j++) {
                t[i][j] = 1 + rng.nextInt(V - 1);
            }
        }
        return new SequencePairs(x, t);
    }

    static CharVocabulary vocabulary() {
        return CharVocabulary.of("_0123456789+ ");
    }

    private static void kill9(long pid) {
        try {
            new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        } catch (IOException e) {
            Runtime.getRuntime().halt(137);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sleepForever();
    }

    private static void sleepForever() {
        try {
            Thread.sleep(Duration.ofMinutes(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
