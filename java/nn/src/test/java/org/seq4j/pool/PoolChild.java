// The risky halves of PoolTest, run in a child JVM (they hung, spun or crashed the JVM before the native pool
// and the kernels' own id checks were fixed): one mode per test, exit code 0 and a last line "<mode>: ok ..."
// when everything held, otherwise a message and exit code 1 (or the crash or hang the parent reports).
package org.seq4j.pool;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.backend.Transpose;
import org.seq4j.backend.openblas.OpenBlasBackend;
import org.seq4j.layers.LSTM;
import org.seq4j.layers.Parameter;
import org.seq4j.models.Model;
import org.seq4j.models.Rnnlm;
import org.seq4j.optim.Adam;
import org.seq4j.optim.ClipGrads;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

public final class PoolChild {
    // an Rnnlm whose GEMMs, cell and loss all split across 2 threads: N*T = 128 rows, 4H = 512, V = 300
    static final int V = 300, D = 64, H = 128, N = 16, T = 8, STEPS = 6;

    private PoolChild() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        switch (mode) {
            case "churn" -> churn(Long.parseLong(args[1]));
            case "repro" -> repro();
            case "zero" -> zero();
            case "badid" -> badId();
            case "team" -> team();
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        System.exit(0); // the pool's workers are native daemon-like threads; say we are done
    }

    private static void fail(String message) {
        System.out.println("FAIL: " + message);
        System.out.flush();
        System.exit(1);
    }

    /**
     * Seeded training steps of an Rnnlm on b: every loss and, at the end, every parameter, as raw float bits.
     * The batches come from a fixed seed, so two runs on backends with the same thread count must agree bit for bit.
     */
    static int[] train(Backend b) {
        java.util.Random rng = new java.util.Random(7);
        List<Integer> bits = new ArrayList<>();
        try (Arena arena = Arena.ofConfined(); Model model = new Rnnlm(b, V, D, H, 11); Adam adam = new Adam(0.01f)) {
            for (int s = 0; s < STEPS; s++) {
                int[] xs = new int[N * T], ts = new int[N * T];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = rng.nextInt(V);
                    ts[i] = rng.nextInt(V);
                }
                Tensor x = b.allocate(arena, DType.I32, N, T), t = b.allocate(arena, DType.I32, N, T);
                b.copyIn(x, xs);
                b.copyIn(t, ts);
                bits.add(Float.floatToRawIntBits(model.forward(x, t)));
                model.backward();
                ClipGrads.clip(model.store(), 0.5f);
                adam.step(model.store());
            }
            float[] params = new float[(int) model.store().values().size()];
            b.copyOut(params, model.store().values());
            for (float p : params) {
                bits.add(Float.floatToRawIntBits(p));
            }
        }
        return bits.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * One thread trains on 2-thread backends while another creates and closes 1-thread backends, each using its
     * backend at once: every construction is a chance for a pool that is resized to pull workers from under a
     * job that is running or about to start. Both threads check their results.
     */
    static void churn(long seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        AtomicLong trainings = new AtomicLong(), created = new AtomicLong();
        AtomicBoolean failed = new AtomicBoolean();
        int[] first;
        try (OpenBlasBackend b = new OpenBlasBackend(2)) {
            first = train(b);
        }
        Thread trainer = new Thread(() -> user(2, deadline, created, failed, () -> {
            try (OpenBlasBackend b = new OpenBlasBackend(2)) {
                if (!Arrays.equals(first, train(b))) {
                    System.out.println("training gave other results while backends came and went");
                    failed.set(true);
                }
            }
            trainings.incrementAndGet();
        }));
        Thread churner = new Thread(() -> user(1, deadline, created, failed, null));
        trainer.start();
        churner.start();
        trainer.join();
        churner.join();
        if (failed.get()) {
            fail("wrong results while backends were created and closed");
        }
        System.out.println("churn: ok, " + trainings.get() + " trainings while " + created.get()
                + " backends of 1 and 2 threads were created, used and closed");
    }

    /** Until the deadline: a new backend of `threads`, a few split kernels on it, checked; now and then `extra`. */
    private static void user(int threads, long deadline, AtomicLong created, AtomicBoolean failed, Runnable extra) {
        user(threads, deadline, created, failed, extra, new AtomicBoolean());
    }

    /** The same, until the deadline or until `stop` is set. */
    private static void user(int threads, long deadline, AtomicLong created, AtomicBoolean failed, Runnable extra,
                             AtomicBoolean stop) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor big = Tensor.allocateHost(arena, DType.F32, 300_000); // 2+ parts of elementwise work
            for (int i = 0; System.nanoTime() < deadline && !stop.get(); i++) { // on after a failure: a hang may follow
                try (OpenBlasBackend b = new OpenBlasBackend(threads)) {
                    for (int k = 0; k < 5; k++) {
                        b.fill(big, k);
                        b.scale(big, 2f);
                        if (b.item(big, 0) != 2f * k || b.item(big, 299_999) != 2f * k) {
                            System.out.println("fill and scale on " + threads + " threads gave " + b.item(big, 0));
                            failed.set(true);
                        }
                    }
                }
                created.incrementAndGet();
                if (extra != null && i % 200 == 0) {
                    extra.run();
                }
            }
        }
    }

    /** Training alone, then four trainings at once on backends of their own: bit-identical every time. */
    static void repro() throws Exception {
        int[] alone;
        try (OpenBlasBackend b = new OpenBlasBackend(2)) {
            alone = train(b);
        }
        int callers = 4, rounds = 3;
        for (int round = 0; round < rounds; round++) {
            CyclicBarrier start = new CyclicBarrier(callers);
            int[][] got = new int[callers][];
            Thread[] threads = new Thread[callers];
            for (int c = 0; c < callers; c++) {
                int id = c;
                threads[c] = new Thread(() -> {
                    try (OpenBlasBackend b = new OpenBlasBackend(2)) {
                        start.await();
                        got[id] = train(b);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                threads[c].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            for (int c = 0; c < callers; c++) {
                if (got[c] == null) {
                    fail("caller " + c + " of round " + round + " did not finish");
                }
                int i = Arrays.mismatch(alone, got[c]);
                if (i >= 0) {
                    fail("round " + round + ", caller " + c + ": " + (i < STEPS ? "loss of step " + i
                            : "parameter element " + (i - STEPS)) + " is " + Float.intBitsToFloat(got[c][i])
                            + " concurrently but " + Float.intBitsToFloat(alone[i]) + " alone");
                }
            }
        }
        System.out.println("repro: ok, " + callers + " concurrent trainings x " + rounds
                + " rounds bit-identical to training alone (" + alone.length + " values each)");
    }

    /**
     * One LSTM forward of a single row (N = 1 inference, H = 256, 12 steps, its input from a table by ids) on b, which
     * the C kernel runs as a team of threads meeting at every step where it can have the pool: hs and cs as raw bits.
     */
    static int[] fewRowForward(Backend b) {
        int t = 12, n = 1, h = 256, g = 4 * h, v = 11;
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        try (Arena arena = Arena.ofConfined()) {
            float[] wv = new float[h * g], tv = new float[v * g];
            for (int i = 0; i < wv.length; i++) {
                wv[i] = (float) r.nextDouble(-0.06, 0.06);
            }
            for (int i = 0; i < tv.length; i++) {
                tv[i] = (float) r.nextDouble(-1, 1);
            }
            int[] idv = new int[t * n];
            for (int i = 0; i < idv.length; i++) {
                idv[i] = r.nextInt(v);
            }
            Tensor w = b.allocate(arena, DType.F32, h, g), table = b.allocate(arena, DType.F32, v, g);
            Tensor ids = b.allocate(arena, DType.I32, t, n);
            b.copyIn(w, wv);
            b.copyIn(table, tv);
            b.copyIn(ids, idv);
            PackedMatrix wh = b.packedMatrix(arena, h, g, PackedMatrix.Precision.F32);
            b.pack(wh, Transpose.NO, w);
            Tensor hs = b.allocate(arena, DType.F32, t + 1, n, h), cs = b.allocate(arena, DType.F32, t + 1, n, h);
            Tensor gates = b.allocate(arena, DType.F32, t, n, g);
            b.fill(hs, 0f);
            b.fill(cs, 0f);
            b.lstmSequenceForward(hs, cs, gates, wh, true, table, ids);
            float[] out = new float[(int) (hs.size() + cs.size())];
            float[] part = new float[(int) hs.size()];
            b.copyOut(part, hs);
            System.arraycopy(part, 0, out, 0, part.length);
            b.copyOut(part, cs);
            System.arraycopy(part, 0, out, part.length, part.length);
            int[] bits = new int[out.length];
            for (int i = 0; i < out.length; i++) {
                bits[i] = Float.floatToRawIntBits(out[i]);
            }
            return bits;
        }
    }

    /**
     * The few-row forward's team (parts that wait for each other at every step) under contention: four Java threads
     * calling it on 2-thread backends of their own, 150 times each, while a fifth creates, uses and closes backends;
     * every result bit-identical to a lone call. A team that waited on a part no thread runs would hang here (the
     * parent's timeout); one that raced a step would change bits.
     */
    static void team() throws Exception {
        int[] alone;
        try (OpenBlasBackend b = new OpenBlasBackend(2)) {
            alone = fewRowForward(b);
        }
        int callers = 4, calls = 150;
        AtomicBoolean failed = new AtomicBoolean(), done = new AtomicBoolean();
        AtomicLong created = new AtomicLong();
        Thread[] threads = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            int id = c;
            threads[c] = new Thread(() -> {
                try (OpenBlasBackend b = new OpenBlasBackend(2)) {
                    for (int k = 0; k < calls && !failed.get(); k++) {
                        int i = Arrays.mismatch(alone, fewRowForward(b));
                        if (i >= 0) {
                            System.out.println("caller " + id + ", call " + k + ": element " + i + " differs");
                            failed.set(true);
                        }
                    }
                }
            });
            threads[c].start();
        }
        Thread churner = new Thread(() -> user(2, Long.MAX_VALUE, created, failed, null, done));
        churner.start();
        for (Thread t : threads) {
            t.join();
        }
        done.set(true);
        churner.join();
        if (failed.get()) {
            fail("the few-row forward gave other bits under contention");
        }
        System.out.println("team: ok, " + callers + " x " + calls + " few-row forwards bit-identical to a lone one while "
                + created.get() + " backends came and went");
    }

    /** LSTM steps with N = 0 and H = 0 through the public layer and the kernels. */
    static void zero() {
        try (OpenBlasBackend b = new OpenBlasBackend(2); Arena arena = Arena.ofConfined()) {
            int d = 3;
            for (int[] nh : new int[][] {{0, 5}, {2, 0}, {0, 0}}) {
                int n = nh[0], h = nh[1];
                Parameter wx = param(b, arena, "Wx", d, 4 * h), wh = param(b, arena, "Wh", h, 4 * h);
                Parameter bias = param(b, arena, "b", 4 * h);
                try (LSTM lstm = new LSTM(b, wx, wh, bias)) {
                    Tensor x = b.allocate(arena, DType.F32, n, d), hp = b.allocate(arena, DType.F32, n, h);
                    Tensor cp = b.allocate(arena, DType.F32, n, h);
                    b.fill(x, 1f);
                    Tensor hn = lstm.forward(x, hp, cp);
                    Tensor dx = lstm.backward(b.allocate(arena, DType.F32, n, h), b.allocate(arena, DType.F32, n, h));
                    if (hn.dim(0) != n || hn.dim(1) != h || dx.dim(0) != n || dx.dim(1) != d) {
                        fail("LSTM N=" + n + " H=" + h + " gave h_next " + hn + " and dx " + dx);
                    }
                    for (int i = 0; i < dx.size(); i++) { // H = 0: dx = dA Wx^T is a sum over no gates: 0
                        if (b.item(dx, i) != 0f) {
                            fail("LSTM N=" + n + " H=" + h + ": dx[" + i + "] = " + b.item(dx, i) + ", expected 0");
                        }
                    }
                }
                Tensor gates = b.allocate(arena, DType.F32, n, 4 * h), c = b.allocate(arena, DType.F32, n, h);
                b.lstmCellForward(b.allocate(arena, DType.F32, n, h), b.allocate(arena, DType.F32, n, h), gates, c);
                b.lstmCellBackward(b.allocate(arena, DType.F32, n, 4 * h), b.allocate(arena, DType.F32, n, h), gates, c,
                        c, c, b.allocate(arena, DType.F32, n, h));
                // and the kernel itself, past the Java early return: it must not divide by N or H either
                kernel(b, "lstmCellForwardK", b.allocate(arena, DType.F32, n, h), b.allocate(arena, DType.F32, n, h),
                        gates, c, n, h);
            }
        }
        System.out.println("zero: ok, LSTM with N=0 and H=0 did nothing and did not crash");
    }

    private static Parameter param(Backend b, Arena arena, String name, int... shape) {
        return new Parameter(name, b.allocate(arena, DType.F32, shape), b.allocate(arena, DType.F32, shape));
    }

    /** Bad ids past the Java check: the kernels report them as exceptions and touch nothing out of bounds. */
    static void badId() throws Exception {
        try (OpenBlasBackend b = new OpenBlasBackend(2); Arena arena = Arena.ofShared()) {
            int v = 50, d = 64, m = 1000;
            Tensor w = b.allocate(arena, DType.F32, v, d), out = b.allocate(arena, DType.F32, m, d);
            Tensor dout = b.allocate(arena, DType.F32, m, d), ids = b.allocate(arena, DType.I32, m);
            int[] idv = new int[m];
            for (int i = 0; i < m; i++) {
                idv[i] = i % v;
            }
            idv[123] = 1_000_000_000; // followed, a read or write ~200 GB past the table
            b.copyIn(ids, idv);
            expectBadId(() -> kernel(b, "embeddingForwardK", out, w, ids, m, v, d), "embeddingForward: ids[123] = 1000000000");
            expectBadId(() -> kernel(b, "embeddingBackwardK", w, ids, dout, m, v, d), "embeddingBackward: ids[123] = 1000000000");
            Tensor logits = b.allocate(arena, DType.F32, m, v), loss = b.allocate(arena, DType.F32, 1);
            idv[123] = -2;
            b.copyIn(ids, idv);
            expectBadId(() -> kernel(b, "softmaxCrossEntropyForwardK", logits, loss, logits, ids, m, v),
                    "softmaxCrossEntropyForward: labels[123] = -2");
            expectBadId(() -> kernel(b, "softmaxCrossEntropyBackwardK", logits, logits, ids, 1f, m, v),
                    "softmaxCrossEntropyBackward: labels[123] = -2");
            // a writer flips an id while the public call checks and runs: each call succeeds or throws, never crashes
            idv[123] = 0;
            b.copyIn(ids, idv);
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                for (int k = 0; !stop.get(); k++) {
                    int id = (k & 1) == 0 ? 7 : -1_000_000;
                    ids.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 500, id);
                }
            });
            writer.start();
            long deadline = System.nanoTime() + 2_000_000_000L;
            int ok = 0, caught = 0;
            while (System.nanoTime() < deadline) {
                try {
                    b.embeddingBackward(w, ids, dout);
                    b.embeddingForward(out, w, ids);
                    ok++;
                } catch (IndexOutOfBoundsException e) {
                    caught++;
                }
            }
            stop.set(true);
            writer.join();
            System.out.println("badid: ok, 4 bad ids past the Java check reported by the kernels; racing writer: "
                    + ok + " clean calls, " + caught + " exceptions, no crash");
        }
    }

    /**
     * Calls a backend's protected kernel (the K method that AbstractBackend calls after its checks) by name, to
     * reach the native code past the Java checks. Tests run on the class path, so reflection may open it.
     */
    static void kernel(OpenBlasBackend b, String name, Object... args) {
        for (java.lang.reflect.Method m : OpenBlasBackend.class.getDeclaredMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                try {
                    m.setAccessible(true);
                    m.invoke(b, args);
                    return;
                } catch (java.lang.reflect.InvocationTargetException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new IllegalStateException(e.getCause());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        throw new IllegalStateException("OpenBlasBackend has no kernel " + name + " with " + args.length + " arguments");
    }

    private static void expectBadId(Runnable call, String expected) {
        try {
            call.run();
        } catch (IndexOutOfBoundsException e) {
            if (!e.getMessage().startsWith(expected)) {
                fail("message '" + e.getMessage() + "' does not start with '" + expected + "'");
            }
            return;
        }
        fail("no exception for " + expected);
    }
}
