// A layer used after close() at a new size is refused with one line naming it: its workspace opened a new arena that
// nothing would close, and the forward ran and returned live tensors. At the size it last ran at, its cached buffers are
// those of the closed arena, which the first kernel refuses ("gemm: c Tensor(3, 2, 16) ... belongs to an arena that is
// already closed"): refused too, though in the kernel's words.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class ClosedLayerTest {
    static final int T = 3, N = 2, H = 4;
    final Backend backend = TestBackends.reference();
    final Workspace inputs = new Workspace(backend);
    final ParameterStore store = ParameterStore.builder(backend)
            .declare("lstm.Wx", Init.scaledNormal(H), H, 4 * H).declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
            .declare("lstm.b", Init.zeros(), 4 * H)
            .declare("affine.W", Init.scaledNormal(H), H, H).declare("affine.b", Init.zeros(), H)
            .build(5);

    @AfterEach
    void tearDown() {
        store.close();
        inputs.close();
    }

    /** The layer's forward after close: at another size refused naming the layer; at the size it ran at, refused. */
    private void refusedAfterClose(String name, AutoCloseable layer, Function<Tensor, Tensor> forward) throws Exception {
        Tensor xs = inputs.floats(T, N, H), other = inputs.floats(T + 2, N + 1, H);
        forward.apply(xs);
        layer.close();
        Executable atAnotherSize = () -> forward.apply(other);
        IllegalStateException e = assertThrows(IllegalStateException.class, atAnotherSize, name);
        assertEquals(name + ": this " + name + " is already closed", e.getMessage());
        Executable atItsSize = () -> forward.apply(xs);
        e = assertThrows(IllegalStateException.class, atItsSize, name);
        assertTrue(e.getMessage().contains("already closed"), e.getMessage());
        layer.close(); // closing again does nothing
    }

    @Test
    void layersRefuseAForwardAfterClose() throws Exception {
        TimeLSTM lstm = new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), false);
        refusedAfterClose("TimeLSTM", lstm, lstm::forward);
        TimeDropout dropout = new TimeDropout(backend, 0.5f, 1);
        refusedAfterClose("TimeDropout", dropout, dropout::forward);
        TimeAffine affine = new TimeAffine(backend, store.get("affine.W"), store.get("affine.b"));
        refusedAfterClose("TimeAffine", affine, affine::forward);
    }

    @Test
    void aWorkspaceOfNoNamedOwnerNamesItself() {
        Workspace ws = new Workspace(backend);
        ws.floats(2);
        ws.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ws.floats(2));
        assertEquals("Workspace: this Workspace is already closed", e.getMessage());
    }
}
