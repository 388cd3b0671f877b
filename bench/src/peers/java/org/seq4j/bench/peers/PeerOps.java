// The pieces the PyTorch-through-DJL peers share: the engine's manager, the book's initial weights (seeded),
// embedding, affine and softmax cross-entropy on NDArrays, the book's clip_grads (global norm) and its Adam.
// This is the comparison's other side, not seq4j: it calls DJL 0.35.1 / PyTorch 2.7.1 CPU and nothing else.
// Every peer benchmark forks with the same JVM options: -Dai.djl.offline=true (the native library comes from
// the pytorch-native-cpu jar, nothing is downloaded), -DPYTORCH_FLAVOR=cpu (DJL reads PYTORCH_FLAVOR from the
// environment or, failing that, a system property of that name; JMH's @Fork cannot set the environment),
// and num_interop_threads=1. PyTorch's intra-op threads are seq4j's own count (one per core, or SEQ4J_THREADS /
// -Dseq4j.threads) unless -Dai.djl.pytorch.num_threads is given, set by newManager: the @Fork said 2, so that on any
// machine but a 2-core one, or with SEQ4J_THREADS=1, the two sides ran on different thread counts.
package org.seq4j.bench.peers;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.optimizer.Adam;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.List;
import java.util.SplittableRandom;

final class PeerOps {
    /** DJL's name for the PyTorch engine; the only engine on the -Ppeers class path. */
    static final String ENGINE = "PyTorch";

    /** The seed seq4j's workload benchmarks use (Workloads.SEED); the values differ, the shapes are the same. */
    static final long SEED = 1984;

    /** PyTorch's intra-op threads: -Dai.djl.pytorch.num_threads where given, else seq4j's count. */
    static final int THREADS = Integer.getInteger("ai.djl.pytorch.num_threads",
            org.seq4j.backend.BackendConfig.fromEnvironment().effectiveThreads());

    private PeerOps() {}

    /** The peers' backend parameter: pytorch only (another value was accepted and the PyTorch figure labelled so). */
    static void requirePyTorch(String backend) {
        if (!"pytorch".equals(backend)) {
            throw new IllegalArgumentException("backend = '" + backend + "': a peer benchmark runs PyTorch only; "
                    + "expected pytorch (seq4j's backends are in the W1..W4 benchmarks)");
        }
    }

    /** A named trainable array: its gradient is PyTorch's .grad, filled by backward. */
    record Param(String name, NDArray value) {}

    /** A manager of the PyTorch engine (loaded by the first), which then runs on THREADS intra-op threads. */
    static NDManager newManager() {
        NDManager manager = NDManager.newBaseManager(Device.cpu(), ENGINE);
        if (JniUtils.getNumThreads() != THREADS) {
            JniUtils.setNumThreads(THREADS);
        }
        return manager;
    }

    /** The book's initial weights: randn(shape) * scale, seeded, with a gradient attached. */
    static NDArray gaussian(NDManager manager, SplittableRandom random, double scale, long... shape) {
        NDArray a = manager.create(gaussianValues(random, scale, Math.toIntExact(new Shape(shape).size())), new Shape(shape));
        a.setRequiresGradient(true);
        return a;
    }

    static NDArray zeros(NDManager manager, long... shape) {
        NDArray a = manager.zeros(new Shape(shape), DataType.FLOAT32);
        a.setRequiresGradient(true);
        return a;
    }

    /** Uniform ids in [0, bound), int64 as torch.embedding and torch.gather want them. */
    static NDArray ids(NDManager manager, SplittableRandom random, int bound, long... shape) {
        long[] v = new long[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextInt(bound);
        }
        return manager.create(v, new Shape(shape));
    }

    static NDArray uniform(NDManager manager, SplittableRandom random, double lo, double hi, long... shape) {
        float[] v = new float[Math.toIntExact(new Shape(shape).size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble(lo, hi);
        }
        return manager.create(v, new Shape(shape));
    }

    private static float[] gaussianValues(SplittableRandom random, double scale, int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    /**
     * One LSTM layer over a batch-first (N, T, D) input: DJL's LSTM block, which calls PyTorch's fused
     * at::lstm. Weights are the book's initialisation, randn / sqrt(fan-in) (PyTorch keeps them transposed,
     * (4H, D) and (4H, H), so fan-in is the second dimension); biases are zero. PyTorch has two bias vectors,
     * b_ih and b_hh, where the book has one b: b_hh is frozen at zero (no gradient, not in the optimizer), so
     * b_ih is the book's b and Adam sees the book's parameters (two trained biases would each move by about
     * lr per Adam step, their sum twice as fast as the book's b). PyTorch's gate order is i, f, g, o (the
     * book's is f, g, i, o): the same cost, and these weights never meet the book's. forward(x) starts from
     * h = c = 0; forward(x, h0) with h0 (1, N, H) starts from (h0, 0), which is how the book's decoder is
     * seeded (set_state(h) leaves c at 0).
     */
    static LSTM lstm(NDManager manager, SplittableRandom random, int d, int h, boolean returnState) {
        LSTM lstm = LSTM.builder().setStateSize(h).setNumLayers(1).optBatchFirst(true).optReturnState(returnState).build();
        Initializer bookInit = (m, shape, type) -> m.create(
                gaussianValues(random, 1 / Math.sqrt(shape.get(1)), Math.toIntExact(shape.size())), shape);
        lstm.setInitializer(bookInit, Parameter.Type.WEIGHT);
        lstm.setInitializer(Initializer.ZEROS, Parameter.Type.BIAS);
        lstm.initialize(manager, DataType.FLOAT32, new Shape(1, 1, d));
        lstm.getParameters().get(FROZEN_BIAS).getArray().setRequiresGradient(false);
        requireBookLstm(manager, lstm, d, h);
        return lstm;
    }

    /** The largest |difference| a correct float32 LSTM step shows against {@link #lstmFormula} (double): ~1e-7. */
    static final double LSTM_TOLERANCE = 1e-4;

    /**
     * Runs {@code lstm} for two steps of two rows (its own weights, inputs of a fixed seed, zero state) and compares
     * the hidden states with {@link #lstmFormula}: a peer that computes another function is no peer. PyTorch 2.7.1's
     * CPU LSTM runs oneDNN's kernels, whose AVX-512 ones gave hidden states off by up to 0.3 on a Zen 5 EPYC wherever
     * H is not a multiple of 32 (W2's 650 among them; an input feature's column of W_ih ignored), and right ones
     * with ONEDNN_MAX_CPU_ISA=AVX2 (2026-12-04, bench/RESULTS.md). Draws nothing from the caller's random.
     *
     * @throws IllegalStateException naming H, the difference and the setting that avoids those kernels
     */
    static void requireBookLstm(NDManager manager, LSTM lstm, int d, int h) {
        int n = 2, t = 2;
        try (NDManager check = manager.newSubManager()) {
            NDArray x = uniform(check, new SplittableRandom(SEED), -1, 1, n, t, d);
            float[] got = lstm.forward(new ParameterStore(check, false), new NDList(x), false).head().toFloatArray();
            var p = lstm.getParameters();
            float[] b = p.get("l_0_i2h_BIAS").getArray().toFloatArray();
            float[] bhh = p.get(FROZEN_BIAS).getArray().toFloatArray();
            for (int i = 0; i < b.length; i++) {   // summed here: an NDArray sum would live in the caller's manager
                b[i] += bhh[i];
            }
            double diff = maxDifference(got, lstmFormula(x.toFloatArray(), p.get("l_0_i2h_WEIGHT").getArray()
                    .toFloatArray(), p.get("l_0_h2h_WEIGHT").getArray().toFloatArray(), b, n, t, d, h));
            if (!(diff <= LSTM_TOLERANCE)) {
                throw new IllegalStateException("PyTorch's LSTM computes something else here: at D=" + d + ", H=" + h
                        + " its hidden states differ from the LSTM's formula by up to " + (float) diff + " (a right "
                        + "one: about 1e-7); PyTorch 2.7.1's oneDNN AVX-512 kernels do so on AMD Zen 5 where H is no "
                        + "multiple of 32: run the peers with ONEDNN_MAX_CPU_ISA=AVX2 in the environment (scripts/bench "
                        + "sets it when its check finds this)");
            }
        }
    }

    /**
     * An LSTM over x (N, T, D), from zero state, in double: PyTorch's layout (W_ih (4H, D), W_hh (4H, H), gate
     * blocks i, f, g, o; b the sum of both biases). Returns the hidden states (N, T, H), flat.
     */
    static double[] lstmFormula(float[] x, float[] wih, float[] whh, float[] b, int n, int t, int d, int h) {
        double[] out = new double[n * t * h];
        for (int r = 0; r < n; r++) {
            double[] hPrev = new double[h], c = new double[h];
            for (int s = 0; s < t; s++) {
                double[] hNext = new double[h];
                for (int j = 0; j < h; j++) {
                    double[] a = new double[4];
                    for (int q = 0; q < 4; q++) {
                        int row = q * h + j;
                        double sum = b[row];
                        for (int k = 0; k < d; k++) {
                            sum += (double) x[(r * t + s) * d + k] * wih[row * d + k];
                        }
                        for (int k = 0; k < h; k++) {
                            sum += hPrev[k] * whh[row * h + k];
                        }
                        a[q] = sum;
                    }
                    c[j] = sigmoid(a[1]) * c[j] + sigmoid(a[0]) * Math.tanh(a[2]);
                    hNext[j] = sigmoid(a[3]) * Math.tanh(c[j]);
                    out[(r * t + s) * h + j] = hNext[j];
                }
                hPrev = hNext;
            }
        }
        return out;
    }

    /** max |got - want|; NaN where a value is NaN (so that a NaN fails every bound). */
    static double maxDifference(float[] got, double[] want) {
        if (got.length != want.length) {
            throw new IllegalArgumentException("lengths " + got.length + " and " + want.length);
        }
        double max = 0;
        for (int i = 0; i < got.length; i++) {
            double diff = Math.abs(got[i] - want[i]);
            if (Double.isNaN(diff)) {
                return diff;
            }
            max = Math.max(max, diff);
        }
        return max;
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** DJL's name for the one-layer LSTM's b_hh, which {@link #lstm} freezes at zero. */
    static final String FROZEN_BIAS = "l_0_h2h_BIAS";

    /**
     * The LSTM block's trainable parameters, prefix + DJL's name: l_0_i2h_WEIGHT (the book's Wx, transposed),
     * l_0_h2h_WEIGHT (Wh, transposed), l_0_i2h_BIAS (b).
     */
    static List<Param> params(String prefix, LSTM lstm) {
        return lstm.getParameters().stream().filter(p -> !p.getKey().equals(FROZEN_BIAS))
                .map(p -> new Param(prefix + p.getKey(), p.getValue().getArray())).toList();
    }

    /** out (N, T, D) = W[ids]: torch.embedding, whose backward scatter-adds rows (the book's np.add.at). */
    static NDArray embed(NDArray ids, NDArray W) { // ids (N, T), W (V, D)
        // called through the ids' NDArrayEx so that the result lives in the ids' (per-step) manager
        return ids.getNDArrayInternal().embedding(ids, W, SparseFormat.DENSE).singletonOrThrow();
    }

    /** score (N, T, V) = x . W + b, the book's TimeAffine (x first, so the result lives in x's manager). */
    static NDArray affine(NDArray x, NDArray W, NDArray b) { // x (N, T, H), W (H, V), b (V)
        return x.matMul(W).add(b);
    }

    /** The book's TimeSoftmaxWithLoss without ignore label: mean over N*T of -log softmax(score)[target]. */
    static NDArray softmaxCrossEntropy(NDArray score, NDArray ts) { // score (N, T, V), ts (N, T) int64
        return score.logSoftmax(-1).gather(ts.expandDims(-1), -1).mean().neg();
    }

    /**
     * The book's clip_grads: norm = sqrt(sum over every gradient of sum(g^2)); if max / (norm + 1e-6) < 1, scale
     * every gradient by that rate, in place. (DJL's optClipGrad clamps element-wise, a different thing.)
     * Returns the global norm before clipping.
     */
    static float clipGrads(List<NDArray> grads, float maxNorm) {
        NDArray total = null;
        for (NDArray g : grads) {
            NDArray s = g.square().sum();
            total = total == null ? s : total.addi(s);
        }
        float norm = (float) Math.sqrt(total.getFloat());
        float rate = maxNorm / (norm + 1e-6f);
        if (rate < 1) {
            for (NDArray g : grads) {
                g.muli(rate);
            }
        }
        return norm;
    }

    /**
     * The book's Adam: lr 0.001, beta1 0.9, beta2 0.999, and its eps 1e-7 (DJL's default is 1e-8). DJL's
     * update is the same formula, w -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps), and
     * zeroes the gradient afterwards.
     */
    static Adam bookAdam() {
        return Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.001f)).optBeta1(0.9f).optBeta2(0.999f)
                .optEpsilon(1e-7f).build();
    }

    /**
     * Backward has filled every parameter's .grad: clip by global norm, then one Adam update per parameter.
     * The gradient handles are attached to {@code step} so they are freed with it. Returns the norm.
     */
    static float clipAndUpdate(List<Param> params, Adam adam, float maxNorm, NDManager step) {
        List<NDArray> grads = params.stream().map(p -> {
            NDArray g = p.value().getGradient();
            g.attach(step);
            return g;
        }).toList();
        float norm = clipGrads(grads, maxNorm);
        for (int i = 0; i < params.size(); i++) {
            adam.update(params.get(i).name(), params.get(i).value(), grads.get(i));
        }
        return norm;
    }
}
