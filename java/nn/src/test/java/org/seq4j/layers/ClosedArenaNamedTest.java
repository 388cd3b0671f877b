// A layer given a tensor of a closed arena refuses it naming the layer's call and the argument: a backward's gradient
// was refused in the words of the kernel that reads it first ("sumRows: dout ... belongs to an arena that is already
// closed" out of Affine.backward, "lstmSequenceBackward: dhs ..." out of TimeLSTM.backward), TimeDropout's forward in
// its product's ("mul: a ..."), and in evaluation mode TimeDropout handed such a tensor back as it was, to fail in
// another call's words further on. A forward's input was refused in the kernel's words too where the layer checked
// nothing of its memory first ("sigmoidForward: x ... belongs to an arena that is already closed" out of
// Sigmoid.forward): Sigmoid, Softmax, SoftmaxWithLoss, Embedding, TimeEmbedding, TimeSoftmaxWithLoss and TimeMSE now
// name their call and argument (Shapes.requireInput).
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

    @ParameterizedTest
    @MethodSource("backends")
    void aClosedArenasInputToAForwardIsRefusedInTheLayersWords(String backendName) {
        Backend b = TestBackends.get(backendName);
        int n = 2, t = 3, v = 4, d = 4;
        Tensor x2, x3, ids1, ids2;
        try (Arena dead = Arena.ofConfined()) {
            x2 = b.allocate(dead, DType.F32, n, v);
            x3 = b.allocate(dead, DType.F32, t, n, v);
            ids1 = b.allocate(dead, DType.I32, n);
            ids2 = b.allocate(dead, DType.I32, t, n);
        }
        String f32 = " F32 on " + b.device() + " belongs to an arena that is already closed";
        String i32 = " I32 on " + b.device() + " belongs to an arena that is already closed";
        try (ParameterStore s = ParameterStore.builder(b).declare("W", Init.zeros(), v, d)
                .declare("E", Init.zeros(), v, d).build(1);
             Arena arena = Arena.ofConfined();
             Sigmoid sigmoid = new Sigmoid(b);
             Softmax softmax = new Softmax(b);
             SoftmaxWithLoss swl = new SoftmaxWithLoss(b);
             Embedding embedding = new Embedding(b, s.get("W"));
             TimeEmbedding timeEmbedding = new TimeEmbedding(b, s.get("E"));
             TimeSoftmaxWithLoss tswl = new TimeSoftmaxWithLoss(b);
             TimeMSE mseAll = new TimeMSE(b, TimeMSE.Steps.ALL);
             TimeMSE mseLast = new TimeMSE(b, TimeMSE.Steps.LAST)) {
            Tensor liveX2 = b.allocate(arena, DType.F32, n, v), liveX3 = b.allocate(arena, DType.F32, t, n, v);
            Tensor liveIds1 = b.allocate(arena, DType.I32, n), liveIds2 = b.allocate(arena, DType.I32, t, n);
            refused("Sigmoid.forward: x Tensor(2, 4)" + f32, () -> sigmoid.forward(x2));
            refused("Softmax.forward: x Tensor(2, 4)" + f32, () -> softmax.forward(x2));
            refused("SoftmaxWithLoss.forward: x Tensor(2, 4)" + f32, () -> swl.forward(x2, liveIds1));
            refused("SoftmaxWithLoss.forward: t Tensor(2,)" + i32, () -> swl.forward(liveX2, ids1));
            refused("Embedding.forward: ids Tensor(2,)" + i32, () -> embedding.forward(ids1));
            refused("TimeEmbedding.forward: ids Tensor(3, 2)" + i32, () -> timeEmbedding.forward(ids2));
            refused("TimeSoftmaxWithLoss.forward: xs Tensor(3, 2, 4)" + f32, () -> tswl.forward(x3, liveIds2));
            refused("TimeSoftmaxWithLoss.forward: ts Tensor(3, 2)" + i32, () -> tswl.forward(liveX3, ids2));
            refused("TimeMSE.forward: ys Tensor(3, 2, 4)" + f32, () -> mseAll.forward(x3, liveX3));
            refused("TimeMSE.forward: ts Tensor(3, 2, 4)" + f32, () -> mseAll.forward(liveX3, x3));
            refused("TimeMSE.forward: ys Tensor(3, 2, 4)" + f32, () -> mseLast.forward(x3, liveX2));
            refused("TimeMSE.forward: ts Tensor(2, 4)" + f32, () -> mseLast.forward(liveX3, x2));
            // each still runs given usable inputs: the refusals left nothing half done
            sigmoid.forward(liveX2);
            softmax.forward(liveX2);
            swl.forward(liveX2, liveIds1);
            embedding.forward(liveIds1);
            timeEmbedding.forward(liveIds2);
            tswl.forward(liveX3, liveIds2);
            mseAll.forward(liveX3, liveX3);
            mseLast.forward(liveX3, liveX2);
        }
    }
}
