// Parameters and inputs for tests that run every kind of layer: one store of every layer's weights, and inputs of
// two sizes A and B (T, N and T*N all differ, T*N > V so that forward(embed, ids) folds at both), on the plain
// reference backend. Random but seeded: the same fixture gives the same numbers.
package org.seq4j.layers;

import java.util.Random;
import java.util.function.IntFunction;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

final class LayerFixture implements AutoCloseable {
    static final int V = 7, V2 = 5, D = 3, H = 4;
    static final int[] T = {3, 4}, N = {3, 2};

    final Backend backend;
    final Workspace ws;
    final Random rng;
    final ParameterStore store;
    final Tensor[] x2;   // (N, D)
    final Tensor[] h2;   // (N, H)
    final Tensor[] c2;
    final Tensor[] dH2;
    final Tensor[] dD2;
    final Tensor[] dV2;
    final Tensor[] a2;   // (N, T) attention weights
    final Tensor[] xs3;   // (T, N, D)
    final Tensor[] ts3;
    final Tensor[] hs3;
    final Tensor[] dH3;
    final Tensor[] dD3;
    final Tensor[] dV3;
    final Tensor[] d2H3;
    final Tensor[] dec3;   // decoder states, T_dec = T_enc + 1
    final Tensor[] dDec3;
    final Tensor[] ids1;
    final Tensor[] ids2;   // in [0, V2): valid in both vocabularies
    final Tensor[] labels1;   // the first one ignored (-1)
    final Tensor[] labels2;

    LayerFixture() {
        this(TestBackends.reference());
    }

    /** The fixture on {@code backend} (a wrapper of the reference that a test watches, say). */
    LayerFixture(Backend backend) {
        this.backend = backend;
        ws = new Workspace(backend);
        rng = new Random(17);
        store = ParameterStore.builder(backend)
                .declare("embed.W", Init.normal(1), V, D).declare("embed2.W", Init.normal(1), V2, D)
                .declare("affine.W", Init.scaledNormal(D), D, V).declare("affine.b", Init.normal(0.3), V)
                .declare("rnn.Wx", Init.scaledNormal(D), D, H).declare("rnn.Wh", Init.scaledNormal(H), H, H)
                .declare("rnn.b", Init.normal(0.3), H)
                .declare("lstm.Wx", Init.scaledNormal(D), D, 4 * H).declare("lstm.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstm.b", Init.normal(0.3), 4 * H)
                .declare("lstmB.Wx", Init.scaledNormal(D), D, 4 * H).declare("lstmB.Wh", Init.scaledNormal(H), H, 4 * H)
                .declare("lstmB.b", Init.normal(0.3), 4 * H)
                .declare("gru.Wx", Init.scaledNormal(D), D, 3 * H).declare("gru.Wh", Init.scaledNormal(H), H, 3 * H)
                .declare("gru.b", Init.normal(0.3), 3 * H)
                .declare("gruB.Wx", Init.scaledNormal(D), D, 3 * H).declare("gruB.Wh", Init.scaledNormal(H), H, 3 * H)
                .declare("gruB.b", Init.normal(0.3), 3 * H)
                .build(23);
        x2 = floats(s -> new int[] {N[s], D});
        h2 = floats(s -> new int[] {N[s], H});
        c2 = floats(s -> new int[] {N[s], H});
        dH2 = floats(s -> new int[] {N[s], H});
        dD2 = floats(s -> new int[] {N[s], D});
        dV2 = floats(s -> new int[] {N[s], V});
        a2 = floats(s -> new int[] {N[s], T[s]});
        xs3 = floats(s -> new int[] {T[s], N[s], D});
        ts3 = floats(s -> new int[] {T[s], N[s], D});
        hs3 = floats(s -> new int[] {T[s], N[s], H});
        dH3 = floats(s -> new int[] {T[s], N[s], H});
        dD3 = floats(s -> new int[] {T[s], N[s], D});
        dV3 = floats(s -> new int[] {T[s], N[s], V});
        d2H3 = floats(s -> new int[] {T[s], N[s], 2 * H});
        dec3 = floats(s -> new int[] {T[s] + 1, N[s], H});
        dDec3 = floats(s -> new int[] {T[s] + 1, N[s], H});
        ids1 = ids(s -> new int[] {N[s]}, -1);
        ids2 = ids(s -> new int[] {T[s], N[s]}, -1);
        labels1 = ids(s -> new int[] {N[s]}, 0);
        labels2 = ids(s -> new int[] {T[s], N[s]}, 0);
    }

    Parameter p(String name) {
        return store.get(name);
    }

    private Tensor[] floats(IntFunction<int[]> shape) {
        Tensor[] t = new Tensor[2];
        for (int s = 0; s < 2; s++) {
            t[s] = GradientCheck.tensor(backend, ws, GradientCheck.randn(rng, 1, size(shape.apply(s))), shape.apply(s));
        }
        return t;
    }

    private Tensor[] ids(IntFunction<int[]> shape, int ignored) {
        Tensor[] t = new Tensor[2];
        for (int s = 0; s < 2; s++) {
            int[] v = new int[size(shape.apply(s))];
            for (int i = 0; i < v.length; i++) {
                v[i] = i == ignored ? -1 : rng.nextInt(V2);
            }
            t[s] = GradientCheck.ints(backend, ws, v, shape.apply(s));
        }
        return t;
    }

    private static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public void close() {
        store.close();
        ws.close();
    }
}
