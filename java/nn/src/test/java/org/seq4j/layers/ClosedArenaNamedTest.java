// A layer given a tensor of a closed arena refuses it naming the layer's call and the argument: a backward's gradient
// was refused in the words of the kernel that reads it first ("sumRows: dout ... belongs to an arena that is already
// closed" out of Affine.backward, "lstmSequenceBackward: dhs ..." out of TimeLSTM.backward), TimeDropout's forward in its
// product's ("mul: a ..."), and in evaluation mode TimeDropout handed such a tensor back as it was, to fail in another
// call's words further on. (Forward inputs, and the inputs a layer keeps for its backward, were named already.)
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class ClosedArenaNamedTest {
    static Stream<Named<String>> backends() {
        return TestBackends.all();
    }

    private static void refused(String expected, Executable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertEquals(expected, e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void aClosedArenasTensorIsRefusedInTheLayersWords(String backendName) {
        Backend b = TestBackends.get(backendName);
        int n = 2, t = 3, d = 4, h = 4;
        Tensor dNH, dTNH, x3;
        try (Arena dead = Arena.ofConfined()) {
            dNH = b.allocate(dead, DType.F32, n, h);
            dTNH = b.allocate(dead, DType.F32, t, n, h);
            x3 = b.allocate(dead, DType.F32, t, n, d);
        }
        String dead2 = " F32 on " + b.device() + " belongs to an arena that is already closed";
        try (ParameterStore s = ParameterStore.builder(b).declare("W", Init.zeros(), d, h).declare("b", Init.zeros(), h)
                .declare("Wx", Init.zeros(), d, 4 * h).declare("Wh", Init.zeros(), h, 4 * h)
                .declare("b4", Init.zeros(), 4 * h).build(1);
             Arena arena = Arena.ofConfined();
             Affine affine = new Affine(b, s.get("W"), s.get("b"));
             TimeLSTM lstm = new TimeLSTM(b, s.get("Wx"), s.get("Wh"), s.get("b4"), true);
             TimeDropout dropout = new TimeDropout(b, 0.5f, 1)) {
            affine.forward(b.allocate(arena, DType.F32, n, d));
            refused("Affine.backward: dout Tensor(2, 4)" + dead2, () -> affine.backward(dNH));
            lstm.forward(b.allocate(arena, DType.F32, t, n, d));
            refused("TimeLSTM.backward: dhs Tensor(3, 2, 4)" + dead2, () -> lstm.backward(dTNH));
            refused("TimeDropout.forward: xs Tensor(3, 2, 4)" + dead2, () -> dropout.forward(x3));
            dropout.setTraining(false);
            refused("TimeDropout.forward: xs Tensor(3, 2, 4)" + dead2, () -> dropout.forward(x3));
            dropout.forward(b.allocate(arena, DType.F32, t, n, h));
            refused("TimeDropout.backward: dout Tensor(3, 2, 4)" + dead2, () -> dropout.backward(dTNH));
            // each backward still runs once given a usable gradient: the refusals used nothing up
            affine.backward(b.allocate(arena, DType.F32, n, h));
            lstm.backward(b.allocate(arena, DType.F32, t, n, h));
            dropout.backward(b.allocate(arena, DType.F32, t, n, h));
        }
    }
}
