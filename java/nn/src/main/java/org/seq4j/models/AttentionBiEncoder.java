// A bidirectional AttentionEncoder (the book's ch08 extension): TimeEmbedding then a TimeBiRecurrent (the book's
// TimeBiLSTM, or its GRU equivalent); its encoding is every hidden state hs (T, N, 2H), each step's forward and
// backward states concatenated. Parameters (G = 4 for the LSTM, 3 for the GRU): <prefix>embed.W (V, D),
// <prefix>lstm.forward_lstm.{Wx (D, 4H), Wh (H, 4H), b (4H,)} and <prefix>lstm.backward_lstm.{Wx, Wh, b} (the
// book's TimeBiLSTM attribute paths), or <prefix>gru.forward_gru.{Wx (D, 3H), Wh (H, 3H), b (3H,)} and
// <prefix>gru.backward_gru.{Wx, Wh, b} for the GRU.
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeBiRecurrent;
import org.seq4j.layers.TimeEmbedding;
import org.seq4j.tensor.Tensor;

/**
 * A bidirectional AttentionEncoder (the book's ch08 extension): TimeEmbedding then a {@link TimeBiRecurrent} of
 * the given cell (the book's TimeBiLSTM, or its GRU equivalent); the encoding is every hidden state hs (T, N, 2H),
 * each step's forward and backward states concatenated.
 */
public final class AttentionBiEncoder implements SequenceEncoder {
    private final TimeEmbedding embed;
    private final TimeBiRecurrent rnn;

    /**
     * Declares the parameters of the book's LSTM encoder: prefix + embed.W (V, D), prefix +
     * lstm.forward_lstm.{Wx (D, 4H), Wh (H, 4H), b (4H,)} and prefix + lstm.backward_lstm.{Wx, Wh, b}.
     *
     * @param b      the builder to declare them in
     * @param prefix the parameter name prefix, e.g. "encoder."
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size per direction (the encoding has 2H features)
     */
    public static void declare(ParameterStore.Builder b, String prefix, int V, int D, int H) {
        declare(b, prefix, Cell.LSTM, V, D, H);
    }

    /**
     * Declares the parameters: prefix + embed.W (V, D), and with c = cell.lower() and G = cell.gates(),
     * prefix + c.forward_c.{Wx (D, GH), Wh (H, GH), b (GH,)} and prefix + c.backward_c.{Wx, Wh, b} of the same
     * shapes: lstm.forward_lstm.* / lstm.backward_lstm.* for the LSTM, gru.forward_gru.* / gru.backward_gru.*
     * for the GRU.
     *
     * @param b      the builder to declare them in
     * @param prefix the parameter name prefix, e.g. "encoder."
     * @param cell   the recurrent cell of both directions
     * @param V      vocabulary size
     * @param D      word vector size
     * @param H      hidden size per direction (the encoding has 2H features)
     * @throws IllegalArgumentException if cell.gates() * H overflows an int
     * @throws NullPointerException if b, prefix or cell is null
     */
    public static void declare(ParameterStore.Builder b, String prefix, Cell cell, int V, int D, int H) {
        Inputs.declaring("AttentionBiEncoder.declare", b, prefix, cell);
        int g = cell.columns(H);
        b.declare(prefix + "embed.W", Init.normal(0.01), V, D);
        for (String dir : new String[] {"forward_", "backward_"}) {
            String p = prefix + cell.lower() + "." + dir + cell.lower() + ".";
            b.declare(p + "Wx", Init.scaledNormal(D), D, g)
                    .declare(p + "Wh", Init.scaledNormal(H), H, g)
                    .declare(p + "b", Init.zeros(), g);
        }
    }

    /**
     * An LSTM encoder over parameters declared by {@link #declare(ParameterStore.Builder, String, int, int, int)}
     * (held, not copied).
     *
     * @param backend runs the kernels; the store must live on its device
     * @param store   holds the declared parameters
     * @param prefix  the prefix they were declared with
     */
    public AttentionBiEncoder(Backend backend, ParameterStore store, String prefix) {
        this(backend, store, prefix, Cell.LSTM);
    }

    /**
     * An encoder of the given cell over parameters declared by
     * {@link #declare(ParameterStore.Builder, String, Cell, int, int, int)} with that cell (held, not copied).
     *
     * @param backend runs the kernels; the store must live on its device
     * @param store   holds the declared parameters
     * @param prefix  the prefix they were declared with
     * @param cell    the cell they were declared with
     * @throws IllegalArgumentException if a parameter is missing or its shape is not the one declare gives it
     */
    public AttentionBiEncoder(Backend backend, ParameterStore store, String prefix, Cell cell) {
        Inputs.part("AttentionBiEncoder", backend, store, prefix, cell);
        String c = cell.lower();
        String f = prefix + c + ".forward_" + c + ".", r = prefix + c + ".backward_" + c + ".";
        var s = Inputs.PartShapes.of("AttentionBiEncoder", cell, store.get(prefix + "embed.W"), store.get(f + "Wh"));
        for (String d : new String[] {f, r}) {
            s.require(store.get(d + "Wx"), "(D, GH)", s.D(), s.g());
            s.require(store.get(d + "Wh"), "(H, GH)", s.H(), s.g());
            s.require(store.get(d + "b"), "(GH,)", s.g());
        }
        this.embed = new TimeEmbedding(backend, store.get(prefix + "embed.W"));
        this.rnn = new TimeBiRecurrent(backend, cell, store.get(f + "Wx"), store.get(f + "Wh"), store.get(f + "b"),
                store.get(r + "Wx"), store.get(r + "Wh"), store.get(r + "b"));
    }

    /** hs (T, N, 2H) for xs (T, N) int32. */
    @Override
    public Tensor forward(Tensor xs) {
        return rnn.forward(embed.forward(xs));
    }

    /** dhs (T, N, 2H) w.r.t. every hidden state; flows back through both directions and the embedding. */
    @Override
    public void backward(Tensor dhs) {
        embed.backward(rnn.backward(dhs));
    }

    @Override
    public void setInferencePrecision(org.seq4j.backend.PackedMatrix.Precision precision) {
        // named (the layer's own words, or a bare "precision", before)
        java.util.Objects.requireNonNull(precision, () -> "AttentionBiEncoder" + ".setInferencePrecision: precision is null; "
                + "expected F32 or BF16");
        rnn.setInferencePrecision(precision);
    }

    @Override
    public void close() {
        embed.close();
        rnn.close();
    }
}
