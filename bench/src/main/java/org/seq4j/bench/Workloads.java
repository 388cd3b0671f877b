// The performance issue's workloads, built once per benchmark trial: models of the book's sizes on a given
// backend, with seeded batches. The peer benchmarks (-Ppeers, PyTorch through DJL) build the same shapes.
//   W1 addition seq2seq training step: V=13, T=7 in / 4 out, D=16, H=128, N=128, clip 5.0, Adam
//   W2 one LSTM layer forward + backward: N=64, T=35, D=H=650 (and the scaling sweep over H and T)
//   W3 LSTM inference: embedding (V=59, D=16) + LSTM (H=256) over T=29 steps for N=1
//   W4 attention seq2seq training step, date-set sizes: V=59, T=29 in / 10 out, D=16, H=256, N=128
// The training workloads (W1, W1 GRU, W4) start every JMH iteration from the same state: snapshot() keeps the model's
// initial parameter values, restore() puts them back (see W1Seq2seqStepBench.restore).
package org.seq4j.bench;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.seq4j.backend.Backend;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.models.Seq2seqModel;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

final class Workloads {
    static final long SEED = 1984;
    /** The book's learning rate, the workloads' Adam's (the peers' PeerOps.bookAdam too). */
    static final float LR = 0.001f;

    private Workloads() {
    }

    /** Uniform ids in [0, v) as a batch-major (n, t) int32 tensor on the backend. */
    static Tensor ids(Backend b, Arena arena, SplittableRandom r, int v, int n, int t) {
        Tensor x = b.allocate(arena, DType.I32, n, t);
        int[] h = new int[n * t];
        for (int i = 0; i < h.length; i++) {
            h[i] = r.nextInt(v);
        }
        b.copyIn(x, h);
        return x;
    }

    /** One seq2seq training step, the book's: forward, backward, clip by global norm, Adam. */
    static float trainStep(Seq2seqModel model, Adam adam, Tensor xs, Tensor ts, float maxGrad) {
        float loss = model.forward(xs, ts);
        model.backward();
        adam.clipAndStep(model.store(), maxGrad);   // one reduction over the gradients: the clip's and the check's
        return loss;
    }

    /** A copy of {@code store}'s flat parameter values, on its backend in {@code arena}: what restore puts back. */
    static Tensor snapshot(Backend b, Arena arena, ParameterStore store) {
        Tensor initial = b.allocate(arena, DType.F32, Math.toIntExact(store.values().size()));
        b.copy(initial, store.values());
        b.synchronize();
        return initial;
    }

    /**
     * Puts {@code initial} (from {@link #snapshot}) back into {@code store}'s values, in place: the model keeps its
     * tensors, buffers and packs, so its next step does no first-step work. The gradients are zeroed (Adam's update
     * left them zero already; this makes it so whatever ran last), and valuesWritten marks copies made from the old
     * values stale, as the store asks of a write that does not go through it.
     */
    static void restore(Backend b, ParameterStore store, Tensor initial) {
        b.copy(store.values(), initial);
        store.valuesWritten();
        store.zeroGrads();
        b.synchronize();
    }

    /**
     * restore, and a new Adam for the old (closed; null before the first iteration): Adam has no reset, and a new
     * one starts at t = 0 with m and v zero, made by its first step.
     */
    static Adam restore(Backend b, ParameterStore store, Tensor initial, Adam old) {
        restore(b, store, initial);
        if (old != null) {
            old.close();
        }
        return new Adam(LR);
    }

    /**
     * A model and its Adam, closed together (Adam first): the twin whose second step GemmReplay records (two-phase)
     * and whose tensors, the model's and Adam's m and v, the recording replays until it is closed.
     */
    record Twin<M extends Seq2seqModel>(M model, Adam adam) implements AutoCloseable {
        @Override
        public void close() {
            try {
                adam.close();
            } finally {
                model.close();
            }
        }
    }

    /** Wx (D, 4H), Wh (H, 4H), b (4H,) named lstm.*, initialised like the book. */
    static ParameterStore lstmParameters(Backend b, int d, int h) {
        return ParameterStore.builder(b)
                .declare("lstm.Wx", Init.scaledNormal(d), d, 4 * h)
                .declare("lstm.Wh", Init.scaledNormal(h), h, 4 * h)
                .declare("lstm.b", Init.zeros(), 4 * h)
                .build(SEED);
    }

    static TimeLSTM lstm(Backend b, ParameterStore p, boolean stateful) {
        return new TimeLSTM(b, p.get("lstm.Wx"), p.get("lstm.Wh"), p.get("lstm.b"), stateful);
    }

    /**
     * FLOPs of one W2 step (GEMMs only): forward x Wx and h Wh, backward dWx, dWh, dx, dh, the recurrent products
     * from the second step (h_0 = 0: TimeLSTM skips the first, and its dWh and dh terms are zero): 3 x 2 N 4H (T D +
     * (T - 1) H), Limits.lstmForwardFlops three times. Until 2026-12-03 this counted T recurrent products, which
     * put every W2 GFLOP/s (and W2 / sgemm) 1.45% high at T = 35.
     */
    static double lstmStepFlops(int t, int n, int d, int h) {
        return 3.0 * Limits.lstmForwardFlops(n, t, d, h, true);
    }
}
