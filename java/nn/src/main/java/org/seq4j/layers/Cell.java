// Which recurrent cell a model is built with: the book's LSTM (chapter 6) or its appendix GRU. Decides the
// gate count of the weights (4H or 3H columns), the parameter names ("encoder.lstm.Wx" or "encoder.gru.Wx")
// and the Time layer.
package org.seq4j.layers;

import java.util.Locale;
import org.seq4j.backend.Backend;

public enum Cell {
    /** Gates f, g, i, o: Wx (D, 4H), Wh (H, 4H), b (4H,). */
    LSTM(4),
    /** Gates z, r, h (the book's appendix): Wx (D, 3H), Wh (H, 3H), b (3H,). */
    GRU(3);

    private final int gates;

    Cell(int gates) {
        this.gates = gates;
    }

    /** The number of gate blocks of H columns in Wx, Wh and b: 4 for the LSTM, 3 for the GRU. */
    public int gates() {
        return gates;
    }

    /** The columns of Wx, Wh and b for hidden size H: gates() * H, exactly. */
    public int columns(int h) {
        if (h < 0 || (long) gates * h > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(lower() + ": hidden size H = " + h + " gives " + (long) gates * h
                    + " gate columns; expected 0 <= " + gates + "H <= " + Integer.MAX_VALUE);
        }
        return gates * h;
    }

    /** The name in parameter paths and on the command line: "lstm" or "gru". */
    public String lower() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The cell named {@code name} ("lstm" or "gru", any case).
     *
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

    /** The Time layer of this cell on the given weights (shapes as above). */
    public TimeRecurrent time(Backend backend, Parameter Wx, Parameter Wh, Parameter b, boolean stateful) {
        return switch (this) {
            case LSTM -> new TimeLSTM(backend, Wx, Wh, b, stateful);
            case GRU -> new TimeGRU(backend, Wx, Wh, b, stateful);
        };
    }
}
