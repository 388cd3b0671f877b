// Reorders the carried state of recurrent layers between beam-search steps: row j of h (and an LSTM's c) becomes a copy
// of row parents[j], by the embedding kernel's row gather into scratch and setState from there.
package org.seq4j.models;

import java.util.HashMap;
import java.util.Map;
import org.seq4j.backend.Backend;
import org.seq4j.layers.TimeGRU;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.TimeRNN;
import org.seq4j.layers.TimeRecurrent;
import org.seq4j.layers.Workspace;
import org.seq4j.tensor.Tensor;

/**
 * Reorders the carried state of recurrent layers between beam-search steps (see
 * {@link AbstractRnnlm.Network#reorderState}): row j of h (and an LSTM's c) becomes a copy of row parents[j]. Made
 * by the model; a network calls one of its reorder methods for each stateful layer.
 */
public final class BeamState implements AutoCloseable {
    private final Backend backend;
    private final Workspace ws;
    private final Map<Integer, Tensor[]> scratch = new HashMap<>();   // H -> {(M, H), (M, H)}
    private int sizedM = -1;

    BeamState(Backend backend) {
        this.backend = backend;
        this.ws = new Workspace(backend, getClass().getSimpleName());
    }

    private Tensor[] scratch(int m, int h) {
        if (m != sizedM) {
            ws.reset();
            scratch.clear();
            sizedM = m;
        }
        return scratch.computeIfAbsent(h, k -> new Tensor[] {ws.floats(m, k), ws.floats(m, k)});
    }

    /**
     * The stateful lstm continues from h[parents], c[parents] of its last forward.
     *
     * @param lstm    a stateful TimeLSTM
     * @param parents (M,) int32 row indices
     */
    public void reorder(TimeLSTM lstm, Tensor parents) {
        Tensor[] s = scratch(parents.dim(0), lstm.hiddenSize());
        backend.embeddingForward(s[0], lstm.h(), parents);
        backend.embeddingForward(s[1], lstm.c(), parents);
        lstm.setState(s[0], s[1]);
    }

    /**
     * The stateful recurrent layer (an LSTM: h and c; a GRU: h) continues from its state at rows parents.
     *
     * @param layer   a stateful TimeLSTM or TimeGRU
     * @param parents (M,) int32 row indices
     */
    public void reorder(TimeRecurrent layer, Tensor parents) {
        // named: a switch over null was Objects.requireNonNull's NullPointerException without a message
        java.util.Objects.requireNonNull(layer, "BeamState.reorder: layer is null");
        switch (layer) {
            case TimeLSTM lstm -> reorder(lstm, parents);
            case TimeGRU gru -> {
                Tensor[] s = scratch(parents.dim(0), gru.hiddenSize());
                backend.embeddingForward(s[0], gru.h(), parents);
                gru.setState(s[0]);
            }
        }
    }

    /**
     * The beam steps of a decoder whose hypotheses differ only in the carried state of one stateful recurrent layer
     * (the encoding is constant per question): a step is {@code scores.apply(ids)}, a reorder this layer's
     * reorder(layer, parents).
     *
     * @param layer  the decoder's stateful TimeLSTM or TimeGRU
     * @param scores the decoder's scores (1, M, V) for ids (1, M), carrying the layer's state to the next call
     * @return the steps for Beam.search
     */
    Beam.Steps steps(TimeRecurrent layer, java.util.function.UnaryOperator<Tensor> scores) {
        return new Beam.Steps() {
            @Override
            public Tensor step(Tensor ids) {
                return scores.apply(ids);
            }

            @Override
            public void reorder(Tensor parents) {
                BeamState.this.reorder(layer, parents);
            }
        };
    }

    /**
     * The stateful rnn continues from h[parents] of its last forward.
     *
     * @param rnn     a stateful TimeRNN
     * @param parents (M,) int32 row indices
     */
    public void reorder(TimeRNN rnn, Tensor parents) {
        Tensor h = rnn.h();
        Tensor[] s = scratch(parents.dim(0), h.dim(1));
        backend.embeddingForward(s[0], h, parents);
        rnn.setState(s[0]);
    }

    /** Frees the scratch rows. */
    @Override
    public void close() {
        ws.close();
    }
}
