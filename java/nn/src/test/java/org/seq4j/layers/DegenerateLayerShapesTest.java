// TimeLSTM, TimeGRU (stateful, from a given state, with dh and dc out; fed by a folded embedding with V = 1 and 2,
// backwardLast), the one-step LSTM and GRU, TimeBiRecurrent of either cell and TimeAttention at degenerate and
// awkward shapes (T, N, D, H of 1; N and H of 3, 15, 17, 33: the tails of the AVX-512 and AVX2 kernels; T_enc = 1,
// T_dec = 1) on every backend against the java reference, and central differences on the reference at the smallest.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class DegenerateLayerShapesTest {
    // float32 sums of up to ~100 terms in another order (blocked GEMM, vector tails) move an element by about
    // k * 6e-8 of the terms' magnitude, which an element that cancels (attention's dhsDec: 3e-4 out of terms of
    // order 1) shows as a large relative error: so 1e-5 of the output's largest |element| plus 1e-3 relative
    static final double ATOL = 1e-5, RTOL = 1e-3;

    /** Sequence T (T_dec for attention), batch N, input D, hidden H, vocabulary V, encoder length TE. */
    record Shape(int T, int N, int D, int H, int V, int TE) {
        @Override
        public String toString() {
            return "T=" + T + " N=" + N + " D=" + D + " H=" + H + " V=" + V + " Tenc=" + TE;
        }
    }

    static final List<Shape> SHAPES = List.of(
            new Shape(1, 1, 1, 1, 1, 1),
            new Shape(1, 3, 1, 1, 2, 2),
            new Shape(3, 1, 1, 3, 1, 1),
            new Shape(2, 3, 2, 15, 2, 3),
            new Shape(2, 17, 3, 17, 1, 1),
            new Shape(3, 33, 2, 33, 2, 2),
            new Shape(1, 33, 5, 17, 3, 4),
            new Shape(2, 17, 1, 1, 2, 1),
            new Shape(9, 1, 2, 17, 2, 9),    // N = 1 over 8 or more products: the packed backward (KeptPack.packs)
            new Shape(8, 1, 1, 1, 1, 3));

    static Stream<Arguments> everyBackend() {
        return TestBackends.all().flatMap(b -> Stream.of(Cell.values()).flatMap(c -> SHAPES.stream()
                .map(s -> Arguments.of(b, Named.of(c.lower(), c), s))));
    }

    /** What one backend computes: every output and gradient, named, in one order. */
    private static List<Named<float[]>> run(Backend b, Cell cell, Shape s) {
        List<Named<float[]>> out = new ArrayList<>();
        Random rng = new Random(57);
        int g = cell.columns(s.H);
        String c = cell.lower();
        try (Workspace ws = new Workspace(b);
             ParameterStore store = ParameterStore.builder(b).declare("embed.W", Init.normal(1), s.V, s.D)
                     .declare(c + ".Wx", Init.normal(0.8), s.D, g).declare(c + ".Wh", Init.normal(0.8), s.H, g)
                     .declare(c + ".b", Init.normal(0.5), g)
                     .declare("f.Wx", Init.normal(0.8), s.D, g).declare("f.Wh", Init.normal(0.8), s.H, g)
                     .declare("f.b", Init.normal(0.5), g)
                     .declare("r.Wx", Init.normal(0.8), s.D, g).declare("r.Wh", Init.normal(0.8), s.H, g)
                     .declare("r.b", Init.normal(0.5), g).build(5);
             TimeEmbedding embed = new TimeEmbedding(b, store.get("embed.W"));
             TimeRecurrent layer = cell.time(b, store.get(c + ".Wx"), store.get(c + ".Wh"), store.get(c + ".b"), true);
             TimeBiRecurrent bi = new TimeBiRecurrent(b, cell, store.get("f.Wx"), store.get("f.Wh"), store.get("f.b"),
                     store.get("r.Wx"), store.get("r.Wh"), store.get("r.b"));
             TimeAttention attention = new TimeAttention(b)) {
            int T = s.T, N = s.N, D = s.D, H = s.H;
            Tensor xs = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            Tensor h0 = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            Tensor c0 = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            Tensor dhs = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, T * N * H), T, N, H);
            Tensor dcLast = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, N * H), N, H);
            int[] idv = new int[T * N];
            for (int i = 0; i < idv.length; i++) {
                idv[i] = rng.nextInt(s.V);
            }
            Tensor ids = GradientCheck.ints(b, ws, idv, T, N);

            // from (h0, c0): hs, dxs, dh0, dc0 (LSTM with a gradient into the last c too)
            if (layer instanceof TimeLSTM lstm) {
                lstm.setState(h0, c0);
            } else {
                layer.setState(h0);
            }
            out.add(Named.of("hs", TestBackends.values(b, layer.forward(xs))));
            Tensor dxs = layer instanceof TimeLSTM lstm ? lstm.backward(dhs, dcLast) : layer.backward(dhs);
            out.add(Named.of("dxs", TestBackends.values(b, dxs)));
            out.add(Named.of("dh0", TestBackends.values(b, layer.dh())));
            if (layer instanceof TimeLSTM lstm) {
                out.add(Named.of("dc0", TestBackends.values(b, lstm.dc())));
            }
            // fed by the embedding (folded where V < T*N), only the last h's gradient back (an encoder's use)
            layer.resetState();
            out.add(Named.of("hs over ids", TestBackends.values(b, layer.forward(embed, ids))));
            layer.backwardLast(embed, dhs.get(T - 1));
            out.add(Named.of("dh0 over ids", TestBackends.values(b, layer.dh())));

            Tensor hsBi = bi.forward(xs);
            out.add(Named.of("bi hs", TestBackends.values(b, hsBi)));
            Tensor dhsBi = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, T * N * 2 * H), T, N, 2 * H);
            out.add(Named.of("bi dxs", TestBackends.values(b, bi.backward(dhsBi))));

            Tensor hsEnc = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, s.TE * N * H), s.TE, N, H);
            out.add(Named.of("contexts", TestBackends.values(b, attention.forward(hsEnc, dhs))));
            Tensor dout = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, T * N * H), T, N, H);
            out.add(Named.of("dhsEnc", TestBackends.values(b, attention.backward(dout))));
            out.add(Named.of("dhsDec", TestBackends.values(b, attention.dhsDec())));

            // the one-step cell over the same weights, from (h0, c0), on x_0
            if (cell == Cell.LSTM) {
                try (LSTM step = new LSTM(b, store.get(c + ".Wx"), store.get(c + ".Wh"), store.get(c + ".b"))) {
                    out.add(Named.of("cell h", TestBackends.values(b, step.forward(xs.get(0), h0, c0))));
                    out.add(Named.of("cell c", TestBackends.values(b, step.cNext())));
                    out.add(Named.of("cell dx", TestBackends.values(b, step.backward(dhs.get(0), dcLast))));
                    out.add(Named.of("cell dh", TestBackends.values(b, step.dhPrev())));
                    out.add(Named.of("cell dc", TestBackends.values(b, step.dcPrev())));
                }
            } else {
                try (GRU step = new GRU(b, store.get(c + ".Wx"), store.get(c + ".Wh"), store.get(c + ".b"))) {
                    out.add(Named.of("cell h", TestBackends.values(b, step.forward(xs.get(0), h0))));
                    out.add(Named.of("cell dx", TestBackends.values(b, step.backward(dhs.get(0)))));
                    out.add(Named.of("cell dh", TestBackends.values(b, step.dhPrev())));
                }
            }

            for (Parameter p : store.parameters()) {
                out.add(Named.of(p.name() + " grad", TestBackends.values(b, p.grad())));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyBackend")
    void everyBackendComputesAsTheReference(String backendName, Cell cell, Shape s) {
        Backend backend = TestBackends.get(backendName);
        List<Named<float[]>> ref = run(TestBackends.reference(), cell, s);
        List<Named<float[]>> got = run(backend, cell, s);
        assertEquals(ref.size(), got.size());
        for (int i = 0; i < ref.size(); i++) {
            float[] r = ref.get(i).getPayload(), d = got.get(i).getPayload();
            assertEquals(r.length, d.length, ref.get(i).getName());
            float max = 0;
            for (float x : r) {
                max = Math.max(max, Math.abs(x));
            }
            double atol = ATOL * max;
            for (int j = 0; j < r.length; j++) {
                assertTrue(Math.abs(d[j] - r[j]) <= atol + RTOL * Math.abs(r[j]), ref.get(i).getName() + " ["
                        + j + "] on " + backendName + " is " + d[j] + ", reference " + r[j] + " (atol " + atol
                        + " = " + ATOL + " max |ref|, rtol " + RTOL + ")");
            }
        }
    }

    static Stream<Arguments> smallest() {
        return Stream.of(Cell.values()).flatMap(c -> SHAPES.stream().filter(s -> s.H <= 3 && s.N <= 3)
                .map(s -> Arguments.of(Named.of(c.lower(), c), s)));
    }

    /** Losses sum(out * R) of order 1 in float32 at eps 1e-2, as TimeLayersGradientTest's tolerance. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("smallest")
    void gradientsAreTheCentralDifferences(Cell cell, Shape s) {
        Backend b = TestBackends.reference();
        Random rng = new Random(61);
        int g = cell.columns(s.H);
        String c = cell.lower();
        int T = s.T, N = s.N, D = s.D, H = s.H;
        try (Workspace ws = new Workspace(b);
             ParameterStore store = ParameterStore.builder(b)
                     .declare(c + ".Wx", Init.normal(0.8), D, g).declare(c + ".Wh", Init.normal(0.8), H, g)
                     .declare(c + ".b", Init.normal(0.5), g)
                     .declare("f.Wx", Init.normal(0.8), D, g).declare("f.Wh", Init.normal(0.8), H, g)
                     .declare("f.b", Init.normal(0.5), g)
                     .declare("r.Wx", Init.normal(0.8), D, g).declare("r.Wh", Init.normal(0.8), H, g)
                     .declare("r.b", Init.normal(0.5), g).build(9);
             TimeRecurrent layer = cell.time(b, store.get(c + ".Wx"), store.get(c + ".Wh"), store.get(c + ".b"), true);
             TimeBiRecurrent bi = new TimeBiRecurrent(b, cell, store.get("f.Wx"), store.get("f.Wh"), store.get("f.b"),
                     store.get("r.Wx"), store.get("r.Wh"), store.get("r.b"));
             TimeAttention attention = new TimeAttention(b)) {
            Tensor xs = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, T * N * D), T, N, D);
            Tensor h0 = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            Tensor c0 = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            Tensor hsEnc = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, s.TE * N * H), s.TE, N, H);
            float[] r = GradientCheck.randn(rng, 1, T * N * H), rc = GradientCheck.randn(rng, 1, N * H);
            float[] rb = GradientCheck.randn(rng, 1, T * N * 2 * H), ra = GradientCheck.randn(rng, 1, T * N * H);
            // one loss over the three layers: the recurrent layer from (h0, c0), its hs the attention's decoder
            // states, and the bidirectional layer over the same xs
            DoubleSupplier loss = () -> {
                if (layer instanceof TimeLSTM lstm) {
                    lstm.setState(h0, c0);
                } else {
                    layer.setState(h0);
                }
                Tensor hs = layer.forward(xs);
                double l = GradientCheck.dot(hs, r) + GradientCheck.dot(attention.forward(hsEnc, hs), ra)
                        + GradientCheck.dot(bi.forward(xs), rb);
                return layer instanceof TimeLSTM lstm ? l + GradientCheck.dot(lstm.c(), rc) : l;
            };
            loss.getAsDouble();
            float[] dxBi = bi.backward(GradientCheck.tensor(b, ws, rb, T, N, 2 * H)).toFloatArray();
            float[] dhsEnc = attention.backward(GradientCheck.tensor(b, ws, ra, T, N, H)).toFloatArray();
            float[] dhs = attention.dhsDec().toFloatArray();
            for (int i = 0; i < dhs.length; i++) {
                dhs[i] += r[i];
            }
            Tensor dhsT = GradientCheck.tensor(b, ws, dhs, T, N, H);
            float[] dx = (layer instanceof TimeLSTM lstm ? lstm.backward(dhsT, GradientCheck.tensor(b, ws, rc, N, H))
                    : layer.backward(dhsT)).toFloatArray();
            for (int i = 0; i < dx.length; i++) {
                dx[i] += dxBi[i];
            }
            float[] dh0 = layer.dh().toFloatArray();
            float[] dc0 = layer instanceof TimeLSTM lstm ? lstm.dc().toFloatArray() : null;
            GradientCheck gc = new GradientCheck(TimeLayersGradientTest.TOL);
            gc.check("xs", xs, dx, loss);
            gc.check("h0", h0, dh0, loss);
            if (dc0 != null) {
                gc.check("c0", c0, dc0, loss);
            }
            gc.check("hsEnc", hsEnc, dhsEnc, loss);
            for (Parameter p : store.parameters()) {
                gc.check(p, loss);
            }
            for (GradientCheck.Result res : gc.results()) {
                assertTrue(res.ok(), res.toString());
                // with T = 1 the stateless bidirectional layer starts from zeros: its Wh has nothing to multiply
                boolean unused = T == 1 && (res.name().equals("f.Wh") || res.name().equals("r.Wh"));
                assertTrue(unused ? res.maxAbsAnalytic() == 0 : res.maxAbsAnalytic() > 0, res.toString());
            }
        }
    }

    /** The one-step LSTM and GRU: loss sum(h' * R) (+ sum(c' * Rc)), gradients w.r.t. x, h, c and the weights. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("smallest")
    void oneStepCellGradientsAreTheCentralDifferences(Cell cell, Shape s) {
        Backend b = TestBackends.reference();
        Random rng = new Random(67);
        int N = s.N, D = s.D, H = s.H, g = cell.columns(H);
        try (Workspace ws = new Workspace(b);
             ParameterStore store = ParameterStore.builder(b).declare("Wx", Init.normal(0.8), D, g)
                     .declare("Wh", Init.normal(0.8), H, g).declare("b", Init.normal(0.5), g).build(13)) {
            Tensor x = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 1, N * D), N, D);
            Tensor h = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            Tensor c = GradientCheck.tensor(b, ws, GradientCheck.randn(rng, 0.5, N * H), N, H);
            float[] r = GradientCheck.randn(rng, 1, N * H), rc = GradientCheck.randn(rng, 1, N * H);
            GradientCheck gc = new GradientCheck(TimeLayersGradientTest.TOL);
            if (cell == Cell.LSTM) {
                try (LSTM step = new LSTM(b, store.get("Wx"), store.get("Wh"), store.get("b"))) {
                    DoubleSupplier loss = () -> GradientCheck.dot(step.forward(x, h, c), r)
                            + GradientCheck.dot(step.cNext(), rc);
                    loss.getAsDouble();
                    float[] dx = step.backward(GradientCheck.tensor(b, ws, r, N, H), GradientCheck.tensor(b, ws, rc, N,
                            H)).toFloatArray();
                    float[] dh = step.dhPrev().toFloatArray(), dc = step.dcPrev().toFloatArray();
                    gc.check("x", x, dx, loss);
                    gc.check("h_prev", h, dh, loss);
                    gc.check("c_prev", c, dc, loss);
                    for (Parameter p : store.parameters()) {
                        gc.check(p, loss);
                    }
                }
            } else {
                try (GRU step = new GRU(b, store.get("Wx"), store.get("Wh"), store.get("b"))) {
                    DoubleSupplier loss = () -> GradientCheck.dot(step.forward(x, h), r);
                    loss.getAsDouble();
                    float[] dx = step.backward(GradientCheck.tensor(b, ws, r, N, H)).toFloatArray();
                    float[] dh = step.dhPrev().toFloatArray();
                    gc.check("x", x, dx, loss);
                    gc.check("h_prev", h, dh, loss);
                    for (Parameter p : store.parameters()) {
                        gc.check(p, loss);
                    }
                }
            }
            gc.assertAllOk();
        }
    }
}
