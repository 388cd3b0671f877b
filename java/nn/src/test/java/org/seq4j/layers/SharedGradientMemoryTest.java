// A parameter's gradient in memory of its own. A Parameter whose grad was its value (or a view into it) was taken, and
// every backward added the gradient into the weights with no word (TimeAffine's W went from 0.5 to 4.5); a layer whose
// Wx gradient was its Wh's value changed Wh during backward, behind the write counter, so its kept packs went stale as
// well. Now Parameter refuses the first and each layer (CallOrder) the second, naming both.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class SharedGradientMemoryTest {
    static final int D = 4, H = 4;

    @Test
    void aGradThatSharesItsValuesMemoryIsRefused() {
        Backend backend = TestBackends.get("java");
        try (Workspace ws = new Workspace(backend)) {
            Tensor w = ws.floats(D, H);
            var e = assertThrows(IllegalArgumentException.class, () -> new Parameter("W", w, w));
            assertTrue(e.getMessage().startsWith("parameter W: grad ") && e.getMessage().contains("shares memory with "
                    + "value"), e.getMessage());
            Tensor flat = ws.floats(2 * D * H);   // the value's second half is the grad's first
            assertThrows(IllegalArgumentException.class, () -> new Parameter("W",
                    flat.flatSlice(0, D * H).view(D, H), flat.flatSlice(D * H / 2, D * H).view(D, H)));
            // side by side in one buffer: apart, taken
            new Parameter("W", flat.flatSlice(0, D * H).view(D, H), flat.flatSlice(D * H, D * H).view(D, H));
        }
    }

    @Test
    void aGradThatSharesAnotherParametersMemoryIsRefusedByTheLayer() {
        Backend backend = TestBackends.get("java");
        try (Workspace ws = new Workspace(backend)) {
            Parameter wh = new Parameter("Wh", ws.floats(H, 4 * H), ws.floats(H, 4 * H));
            Parameter b = new Parameter("b", ws.floats(4 * H), ws.floats(4 * H));
            Parameter wxOnWh = new Parameter("Wx", ws.floats(D, 4 * H), wh.value());
            var e = assertThrows(IllegalArgumentException.class, () -> new TimeLSTM(backend, wxOnWh, wh, b, false));
            assertTrue(e.getMessage().equals("TimeLSTM: the grad of Wx shares memory with the value of Wh; each "
                    + "gradient needs a buffer of its own"), e.getMessage());
            Parameter wxOnB = new Parameter("Wx", ws.floats(D, 4 * H), ws.floats(D, 4 * H));
            Parameter bOnWx = new Parameter("b", ws.floats(4 * H), wxOnB.grad().flatSlice(0, 4 * H));
            e = assertThrows(IllegalArgumentException.class, () -> new TimeLSTM(backend, wxOnB, wh, bOnWx, false));
            assertTrue(e.getMessage().contains("the grad of Wx shares memory with the grad of b"), e.getMessage());
            // values may share memory (tied weights); so may a parameter with itself, given twice
            Parameter w = new Parameter("W", ws.floats(D, 4 * H), ws.floats(D, 4 * H));
            Parameter onW = new Parameter("Wh", w.value().flatSlice(0, H * 4 * H).view(H, 4 * H), ws.floats(H, 4 * H));
            new TimeLSTM(backend, w, onW, b, false).close();
            new CallOrder("Twice", w, w, b);
        }
    }
}
