// Which recurrent cell a model is built with: the book's LSTM (chapter 6) or its appendix GRU. Decides the
// gate count of the weights (4H or 3H columns), the parameter names ("encoder.lstm.Wx" or "encoder.gru.Wx")
// and the Time layer.
package org.seq4j.layers;

import java.util.Locale;
import org.seq4j.backend.Backend;

/**
 * Which recurrent cell a model is built with: the book's LSTM or its appendix GRU. Decides the gate count of the
 * weights (4H or 3H columns), the parameter names ("encoder.lstm.Wx" or "encoder.gru.Wx") and the Time layer.
 */
public enum Cell {
    /** Gates f, g, i, o: Wx (D, 4H), Wh (H, 4H), b (4H,). */
    LSTM(4),
    /** Gates z, r, h (the book's appendix): Wx (D, 3H), Wh (H, 3H), b (3H,). */
    GRU(3);

    private final int gates;

    Cell(int gates) {
        this.gates = gates;
    }

    /**
     * The number of gate blocks of H columns in Wx, Wh and b.
     *
     * @return 4 for the LSTM, 3 for the GRU
     */
    public int gates() {
        return gates;
    }

    /**
     * The columns of Wx, Wh and b for hidden size H.
     *
     * @param h the hidden size H
     * @return gates() * H, exactly
     * @throws IllegalArgumentException if H is negative or gates() * H overflows an int
     */
    public int columns(int h) {
        if (h < 0 || (long) gates * h > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(lower() + ": hidden size H = " + h + " gives " + (long) gates * h
                    + " gate columns; expected 0 <= " + gates + "H <= " + Integer.MAX_VALUE);
        }
        return gates * h;
    }

    /**
     * The name in parameter paths and on the command line.
     *
     * @return "lstm" or "gru"
     */
    public String lower() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The cell named {@code name} ("lstm" or "gru", any case).
     *
     * @param name "lstm" or "gru", any case, surrounding blanks ignored
     * @return the cell of that name
     * @throws IllegalArgumentException for any other name
     */
    public static Cell of(String name) {
        for (Cell c : values()) {
            if (c.lower().equalsIgnoreCase(name.trim())) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown cell '" + name + "'; expected lstm or gru");
    }

    /**
     * The Time layer of this cell on the given weights (held, not copied).
     *
     * @param backend  runs the kernels; the parameters must live on its device
     * @param Wx       (D, gates() * H)
     * @param Wh       (H, gates() * H)
     * @param b        (gates() * H,)
     * @param stateful whether the hidden state carries over from one forward to the next
     * @return a TimeLSTM or a TimeGRU
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public TimeRecurrent time(Backend backend, Parameter Wx, Parameter Wh, Parameter b, boolean stateful) {
        return switch (this) {
            case LSTM -> new TimeLSTM(backend, Wx, Wh, b, stateful);
            case GRU -> new TimeGRU(backend, Wx, Wh, b, stateful);
        };
    }
}
