// A many-to-one LSTM wave predictor (seed 004, the book's TimeLSTM on a sine wave): a stateless TimeLSTM reads
// a window xs (N, T, F), TimeAffine maps every state to F values, and the loss is TimeMSE on the last step
// only, 0.5 * sum((y_T - t)^2) / N, against ts (N, F), the value that follows each window. Prediction slides
// the window forward over its own outputs (autoregressive).
// Parameters: lstm.Wx (F, 4H), lstm.Wh (H, 4H), lstm.b (4H,), affine.W (H, F), affine.b (F,).
package org.seq4j.models;

import org.seq4j.backend.Backend;
import org.seq4j.layers.Cell;
import org.seq4j.layers.Init;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeAffine;
import org.seq4j.layers.TimeLSTM;
import org.seq4j.layers.TimeMSE;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

/**
 * A many-to-one LSTM wave predictor: a stateless TimeLSTM reads a window xs (N, T, F), TimeAffine maps the
 * states to F values, and the loss is TimeMSE on the last step against ts (N, F), the value after each window.
 * Prediction slides the window over its own outputs. Parameters: lstm.Wx (F, 4H), lstm.Wh (H, 4H),
 * lstm.b (4H,), affine.W (H, F), affine.b (F,).
 */
public final class WavePredictor extends AbstractModel implements RegressionModel {
    private final int F;
    private final TimeLSTM lstm;
    private final TimeAffine affine;
    private final TimeMSE mse;
    private TimeLSTM genLstm;
    private TimeAffine genAffine;
    private int sizedN = -1, sizedT = -1;
    private Tensor xsT;     // (T, N, F)
    private Tensor tsCopy;  // (N, F) the targets, copied: the loss reads them

    /**
     * A model with new weights.
     *
     * @param backend where the parameters and activations live
     * @param F       values per step (1 for a wave)
     * @param H       hidden size
     * @param seed    the initial weights' seed
     * @throws IllegalArgumentException if a size is below 1, or 4H does not fit an int
     */
    public WavePredictor(Backend backend, int F, int H, long seed) {
        super(backend, declare(Inputs.storeBuilder("WavePredictor", backend), F, H).build(seed));
        this.F = F;
        this.lstm = newLstm();
        this.affine = newAffine();
        this.mse = new TimeMSE(backend, TimeMSE.Steps.LAST);
    }

    private TimeLSTM newLstm() {
        return new TimeLSTM(backend, store.get("lstm.Wx"), store.get("lstm.Wh"), store.get("lstm.b"), false);
    }

    private TimeAffine newAffine() {
        return new TimeAffine(backend, store.get("affine.W"), store.get("affine.b"));
    }

    /**
     * Declares this model's parameters on {@code b}, named, shaped and initialised as the constructor's:
     * {@code b.build(seed)} makes the store {@code new WavePredictor(...)} holds with the same seed, and
     * {@link ParameterStore.Builder#shapes()} gives their names and shapes with nothing allocated (what a
     * checkpoint's arrays are compared with before a model is built).
     *
     * @param b the store's builder
     * @param F values per step
     * @param H hidden size
     * @return b
     * @throws IllegalArgumentException if a size is below 1, or 4H does not fit an int
     * @throws NullPointerException if b is null
     */
    public static ParameterStore.Builder declare(ParameterStore.Builder b, int F, int H) {
        Inputs.declaring("WavePredictor.declare", b);
        if (F < 1 || H < 1) {
            throw new IllegalArgumentException("WavePredictor needs F and H >= 1, got F=" + F + ", H=" + H);
        }
        int g = Cell.LSTM.columns(H);   // 4H, refused where it overflows an int (it wrapped into a wrong shape)
        return b.declare("lstm.Wx", Init.scaledNormal(F), F, g)
                .declare("lstm.Wh", Init.scaledNormal(H), H, g)
                .declare("lstm.b", Init.zeros(), g)
                .declare("affine.W", Init.scaledNormal(H), H, F)
                .declare("affine.b", Init.zeros(), F);
    }

    @Override
    public int inputSize() {
        return F;
    }

    @Override
    public int outputSize() {
        return F;
    }

    /** Loss for windows xs (N, T, F) and ts (N, F), the value after each window. */
    @Override
    protected float forwardHeld(String op, Tensor xs, Tensor ts) {
        Inputs.values(op, "xs", xs, -1, -1, F);
        int n = xs.dim(0), t = xs.dim(1);
        if (ts == null || ts.rank() != 2 || ts.dtype() != DType.F32 || ts.dim(0) != n || ts.dim(1) != F) {
            throw new IllegalArgumentException(op + ": ts must be (N=" + n + ", F=" + F
                    + ") float32, the value after each window, got " + ts);
        }
        if (n != sizedN || t != sizedT) {
            sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            ws.reset();
            xsT = ws.floats(t, n, F);
            tsCopy = ws.floats(n, F);
            sizedN = n;
            sizedT = t;
        }
        Inputs.timeMajor(op, "xs", backend, xsT, xs);
        Inputs.copy(backend, tsCopy, ts);   // the loss reads it: from any host memory, as xs
        Tensor ys = affine.forward(lstm.forward(xsT));
        return backend.item(mse.forward(ys, tsCopy), 0);
    }

    @Override
    protected void backwardHeld() {
        lstm.backward(affine.backward(mse.backward(1f)));
    }

    /** The next {@code length} values after each window xs (N, T, F), each predicted from the window so far. */
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
        Inputs.values("WavePredictor.predict", "xs", xs, -1, -1, F);
        if (length < 1) {
            throw new IllegalArgumentException("WavePredictor.predict needs length >= 1, got " + length);
        }
        if (genLstm == null) {
            genLstm = newLstm();
            genAffine = newAffine();
        }
        int n = xs.dim(0), t = xs.dim(1);
        Regression.check("WavePredictor.predict", length, n, F); // before the device does the work
        genWs.reset();
        Tensor cur = genWs.floats(t, n, F);     // two windows, (T, N, F) each: the next one is built from the
        Tensor next = genWs.floats(t, n, F);    // current one shifted by a step, never copied onto itself
        Tensor out = genWs.floats(length, n, F);
        Inputs.timeMajor("WavePredictor.predict", "xs", backend, cur, xs);
        for (int s = 0; s < length; s++) {
            Interrupts.check("WavePredictor.predict", "step", s, length);   // as generate: a cancelled task stops here
            Tensor ys = genAffine.forward(genLstm.forward(cur));
            Tensor y = ys.get(t - 1);                                  // (N, F)
            backend.copy(out.get(s), y);
            if (t > 1) {
                backend.copy(next.slice(0, t - 1), cur.slice(1, t));
            }
            backend.copy(next.get(t - 1), y);
            Tensor swap = cur;
            cur = next;
            next = swap;
        }
        return Regression.toBatchMajor(backend, out);
    }

    @Override
    protected void closeLayers() {
        lstm.close();
        affine.close();
        mse.close();
        if (genLstm != null) {
            genLstm.close();
            genAffine.close();
        }
    }
}
