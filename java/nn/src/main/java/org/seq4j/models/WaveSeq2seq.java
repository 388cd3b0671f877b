// A regression seq2seq (seed 002: sine in, cosine out): an LSTM encoder reads xs (N, T_in, F_in); its final
// (h, c) starts an LSTM decoder that reads the targets shifted right by one step (teacher forcing, the first
// input 0), and an affine maps each decoder state to F_out outputs; loss TimeMSE over every step
// (0.5 * sum((y - t)^2) / N). Inference runs the decoder step by step on its own outputs.
// Parameters: encoder.lstm.Wx (F_in, 4H), encoder.lstm.Wh (H, 4H), encoder.lstm.b (4H,),
// decoder.lstm.Wx (F_out, 4H), decoder.lstm.Wh (H, 4H), decoder.lstm.b (4H,), decoder.affine.W (H, F_out),
// decoder.affine.b (F_out,).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.TimeMSE;
import org.seq4j.tensor.Tensor;

/**
 * A regression seq2seq (sine in, cosine out): an LSTM encoder reads xs (N, T_in, F_in); its final (h, c) starts
 * an LSTM decoder that reads the targets shifted right by one step (teacher forcing, first input 0), and an affine
 * maps each decoder state to F_out values; loss TimeMSE over every step. Inference feeds the decoder its own
 * outputs.
 */
public final class WaveSeq2seq extends AbstractModel implements RegressionModel {
    private final int fin, fout;
    private final Layers train;
    private Layers gen;
    private final TimeMSE mse;

    private int sizedN = -1, sizedTin = -1, sizedTout = -1;
    private Tensor xsT;              // (T_in, N, F_in)
    private Tensor tsT;              // (T_out, N, F_out)
    private Tensor decIn;            // (T_out, N, F_out): 0, t_0, .., t_{T_out - 2}
    private Tensor decIn0, decInRest, tsHead;   // decIn[0], decIn[1 ..], tsT[0 .. T_out - 1)

    /** The encoder LSTM, the decoder LSTM and the affine over one set of parameters. */
    private record Layers(TimeLSTM encoder, TimeLSTM decoder, TimeAffine affine) implements AutoCloseable {
        Layers(Backend backend, ParameterStore s) {
            this(new TimeLSTM(backend, s.get("encoder.lstm.Wx"), s.get("encoder.lstm.Wh"), s.get("encoder.lstm.b"), false),
                    new TimeLSTM(backend, s.get("decoder.lstm.Wx"), s.get("decoder.lstm.Wh"), s.get("decoder.lstm.b"),
                            true),
                    new TimeAffine(backend, s.get("decoder.affine.W"), s.get("decoder.affine.b")));
        }

        @Override
        public void close() {
            encoder.close();
            decoder.close();
            affine.close();
        }
    }

    /**
     * A model with new weights.
     *
     * @param backend    where the parameters and activations live
     * @param inputSize  F_in (1 for a sine)
     * @param outputSize F_out (1 for a cosine)
     * @param H          hidden size
     * @param seed       the initial weights' seed
     * @throws IllegalArgumentException if a size is below 1, or 4H does not fit an int
     */
    public WaveSeq2seq(Backend backend, int inputSize, int outputSize, int H, long seed) {
        super(backend, declare(Inputs.storeBuilder("WaveSeq2seq", backend), inputSize, outputSize, H).build(seed));
        this.fin = inputSize;
        this.fout = outputSize;
        this.train = new Layers(backend, store);
        this.mse = new TimeMSE(backend, TimeMSE.Steps.ALL);
    }

    /**
     * Declares this model's parameters on {@code b}, named, shaped and initialised as the constructor's:
     * {@code b.build(seed)} makes the store {@code new WaveSeq2seq(...)} holds with the same seed, and
     * {@link ParameterStore.Builder#shapes()} gives their names and shapes with nothing allocated (what a
     * checkpoint's arrays are compared with before a model is built).
     *
     * @param b the store's builder
     * @param inputSize F_in
     * @param outputSize F_out
     * @param H hidden size
     * @return b
     * @throws IllegalArgumentException if a size is below 1, or 4H does not fit an int
     * @throws NullPointerException if b is null
     */
    public static ParameterStore.Builder declare(ParameterStore.Builder b, int inputSize, int outputSize, int H) {
        Inputs.declaring("WaveSeq2seq.declare", b);
        if (inputSize < 1 || outputSize < 1 || H < 1) {
            throw new IllegalArgumentException("WaveSeq2seq needs inputSize, outputSize and H >= 1, got " + inputSize
                    + ", " + outputSize + ", " + H);
        }
        int g = Cell.LSTM.columns(H);   // 4H, refused where it overflows an int (it wrapped into a wrong shape)
        return b.declare("encoder.lstm.Wx", Init.scaledNormal(inputSize), inputSize, g)
                .declare("encoder.lstm.Wh", Init.scaledNormal(H), H, g)
                .declare("encoder.lstm.b", Init.zeros(), g)
                .declare("decoder.lstm.Wx", Init.scaledNormal(outputSize), outputSize, g)
                .declare("decoder.lstm.Wh", Init.scaledNormal(H), H, g)
                .declare("decoder.lstm.b", Init.zeros(), g)
                .declare("decoder.affine.W", Init.scaledNormal(H), H, outputSize)
                .declare("decoder.affine.b", Init.zeros(), outputSize);
    }

    @Override
    public int inputSize() {
        return fin;
    }

    @Override
    public int outputSize() {
        return fout;
    }

    /** Loss for xs (N, T_in, F_in) and targets ts (N, T_out, F_out), teacher-forced. */
    @Override
    protected float forwardHeld(String op, Tensor xs, Tensor ts) {
        Inputs.values(op, "xs", xs, -1, -1, fin);
        Inputs.values(op, "ts", ts, xs.dim(0), -1, fout);
        int n = xs.dim(0), tin = xs.dim(1), tout = ts.dim(1);
        if (n != sizedN || tin != sizedTin || tout != sizedTout) {
            sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            ws.reset();
            xsT = ws.floats(tin, n, fin);
            tsT = ws.floats(tout, n, fout);
            decIn = ws.floats(tout, n, fout);
            decIn0 = decIn.get(0);
            decInRest = tout > 1 ? decIn.slice(1, tout) : null;
            tsHead = tout > 1 ? tsT.slice(0, tout - 1) : null;
            sizedN = n;
            sizedTin = tin;
            sizedTout = tout;
        }
        Inputs.timeMajor(op, "xs", backend, xsT, xs);
        Inputs.timeMajor(op, "ts", backend, tsT, ts);
        backend.fill(decIn0, 0f);
        if (decInRest != null) {
            backend.copy(decInRest, tsHead);
        }
        train.encoder().forward(xsT);
        train.decoder().setState(train.encoder().h(), train.encoder().c());
        Tensor ys = train.affine().forward(train.decoder().forward(decIn));
        return backend.item(mse.forward(ys, tsT), 0);
    }

    @Override
    protected void backwardHeld() {
        Tensor dhs = train.affine().backward(mse.backward(1f));
        train.decoder().backward(dhs);
        // the decoder started from the encoder's (h_T, c_T): both gradients flow into the encoder's last step,
        // the only one whose output has a gradient
        train.encoder().backwardLast(train.decoder().dh(), train.decoder().dc());
    }

    @Override
    public float[][] predict(Tensor xs, int length) {
        return held("predict", () -> predictHeld(xs, length));
    }

    /** As RegressionModel's, which copies xs onto the backend first: a closed backend is refused in the model's words. */
    @Override
    public float[][] predict(float[][] xs, int length) {
        requireOpenBackend("predict");
        return RegressionModel.super.predict(xs, length);
    }

    private float[][] predictHeld(Tensor xs, int length) {
        Inputs.values("WaveSeq2seq.predict", "xs", xs, -1, -1, fin);
        if (length < 1) {
            throw new IllegalArgumentException("WaveSeq2seq.predict needs length >= 1, got " + length);
        }
        if (gen == null) {
            gen = new Layers(backend, store);
        }
        int n = xs.dim(0), tin = xs.dim(1);
        Regression.check("WaveSeq2seq.predict", length, n, fout); // before the device does the work
        genWs.reset();
        Tensor x = genWs.floats(tin, n, fin);
        Tensor in = genWs.floats(1, n, fout);            // the decoder's input: 0, then its own last output
        Tensor out = genWs.floats(length, n, fout);
        Inputs.timeMajor("WaveSeq2seq.predict", "xs", backend, x, xs);
        gen.encoder().forward(x);
        gen.decoder().setState(gen.encoder().h(), gen.encoder().c());
        for (int s = 0; s < length; s++) {
            Interrupts.check("WaveSeq2seq.predict", "step", s, length);   // as generate: a cancelled task stops here
            Tensor y = gen.affine().forward(gen.decoder().forward(in));   // (1, N, F_out)
            backend.copy(out.get(s), y);
            backend.copy(in, y);
        }
        return Regression.toBatchMajor(backend, out);
    }

    @Override
    protected void closeLayers() {
        train.close();
        if (gen != null) {
            gen.close();
        }
        mse.close();
    }
}
