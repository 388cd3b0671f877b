// A device backend without a device: the Java reference's kernels over memory that is labelled Device.CUDA, so that
// host code cannot read it (Tensor.toFloatArray, getFloat ... refuse it, as they refuse a GPU's) and every argument
// of the host's is refused as it is on cuda (another device). Runs the backend-parameterised suites with the device
// semantics a GPU run checks, on any machine: -Dseq4j.test.backends=javadevice (TestBackends). On the H200
// (2026-12-04) two tests failed (29 cases) for reading a device tensor on the host or for a host backend's wording,
// mistakes this backend shows without a GPU; it found three more that had not reached the GPU. What it cannot show:
// a real device's asynchrony (its ids are checked at the call, where cuda reports a bad id at the next synchronising
// call) and device memory's addresses (its segments are host memory, so copyIn of a device tensor's segment is not
// refused here).
package org.seq4j.backend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;

public final class DeviceLabelledBackend extends AbstractBackend {
    /** Its name in TestBackends and in messages. */
    public static final String NAME = "javadevice";

    private final JavaBackend host = new JavaBackend();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String description() {
        return "the Java reference's kernels over memory labelled CUDA (tests only)";
    }

    @Override
    public void synchronize() {
        if (!isOpen()) {
            throw new IllegalStateException("synchronize: backend " + NAME + " is closed");
        }
    }

    @Override
    protected void closeK() {
        host.close();
    }

    /** Ids are host memory after all: checked at the call, in the host check's words. */
    @Override
    protected void checkDeviceIds(String op, String name, Tensor ids, int bound, boolean allowIgnore) {
        hostIdsInRange(op, name, h(ids), bound, allowIgnore);
    }

    /** The same memory as a host tensor, for the Java kernels (null, an absent optional argument, stays null). */
    private static Tensor h(Tensor t) {
        return t == null ? null : Tensor.wrap(t.segment(), t.dtype(), Device.CPU, t.shape());
    }

    /** A host kernel's new tensor, labelled as this device's. */
    private Tensor device(Tensor t) {
        return Tensor.wrap(t.segment(), t.dtype(), Device.CUDA, t.shape()).ownedBy(this);
    }

    @Override
    protected Tensor allocateK(Arena arena, DType dtype, int[] shape) {
        return device(host.allocateK(arena, dtype, shape));
    }

    @Override
    protected void copyK(Tensor dst, Tensor src) {
        host.copyK(h(dst), h(src));
    }

    @Override
    protected void copyInK(Tensor dst, MemorySegment src) {
        host.copyInK(h(dst), src);
    }

    @Override
    protected void copyOutK(MemorySegment dst, Tensor src) {
        host.copyOutK(dst, h(src));
    }

    @Override
    protected float itemK(Tensor x, long index) {
        return host.itemK(h(x), index);
    }

    @Override
    protected void fillK(Tensor x, float value) {
        host.fillK(h(x), value);
    }

    @Override
    protected void scaleK(Tensor x, float alpha) {
        host.scaleK(h(x), alpha);
    }

    @Override
    protected void addScaledK(Tensor y, Tensor x, float alpha) {
        host.addScaledK(h(y), h(x), alpha);
    }

    @Override
    protected void mulK(Tensor out, Tensor a, Tensor b) {
        host.mulK(h(out), h(a), h(b));
    }

    @Override
    protected void swapAxes01K(Tensor out, Tensor in, int n, int t, int f) {
        host.swapAxes01K(h(out), h(in), n, t, f);
    }

    @Override
    protected void concatColumnsK(Tensor out, Tensor a, Tensor b, int m, int f1, int f2) {
        host.concatColumnsK(h(out), h(a), h(b), m, f1, f2);
    }

    @Override
    protected void splitColumnsK(Tensor da, Tensor db, Tensor dout, int m, int f1, int f2) {
        host.splitColumnsK(h(da), h(db), h(dout), m, f1, f2);
    }

    @Override
    protected void gemmK(Transpose transA, Transpose transB, int m, int n, int k, float alpha, Tensor a, int lda,
            Tensor b, int ldb, float beta, Tensor c, int ldc) {
        host.gemmK(transA, transB, m, n, k, alpha, h(a), lda, h(b), ldb, beta, h(c), ldc);
    }

    @Override
    protected void gemmStridedBatchedK(Transpose transA, Transpose transB, int m, int n, int k, float alpha, Tensor a,
            int lda, long strideA, Tensor b, int ldb, long strideB, float beta, Tensor c, int ldc, long strideC,
            int batch) {
        host.gemmStridedBatchedK(transA, transB, m, n, k, alpha, h(a), lda, strideA, h(b), ldb, strideB, beta, h(c),
                ldc, strideC, batch);
    }

    @Override
    protected void addBiasK(Tensor y, Tensor b, int m, int n) {
        host.addBiasK(h(y), h(b), m, n);
    }

    @Override
    protected void sumRowsK(Tensor out, Tensor x, float beta, int m, int n) {
        host.sumRowsK(h(out), h(x), beta, m, n);
    }

    @Override
    protected void sigmoidForwardK(Tensor y, Tensor x) {
        host.sigmoidForwardK(h(y), h(x));
    }

    @Override
    protected void sigmoidBackwardK(Tensor dx, Tensor y, Tensor dy) {
        host.sigmoidBackwardK(h(dx), h(y), h(dy));
    }

    @Override
    protected void tanhForwardK(Tensor y, Tensor x) {
        host.tanhForwardK(h(y), h(x));
    }

    @Override
    protected void tanhBackwardK(Tensor dx, Tensor y, Tensor dy) {
        host.tanhBackwardK(h(dx), h(y), h(dy));
    }

    @Override
    protected void softmaxForwardK(Tensor y, Tensor x, int m, int v) {
        host.softmaxForwardK(h(y), h(x), m, v);
    }

    @Override
    protected void softmaxBackwardK(Tensor dx, Tensor y, Tensor dy, int m, int v) {
        host.softmaxBackwardK(h(dx), h(y), h(dy), m, v);
    }

    @Override
    protected void lstmCellForwardK(Tensor hNext, Tensor cNext, Tensor gates, Tensor cPrev, int n, int h) {
        host.lstmCellForwardK(h(hNext), h(cNext), h(gates), h(cPrev), n, h);
    }

    @Override
    protected void lstmCellBackwardK(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev, Tensor dhNext,
            Tensor dhCarry, Tensor dcNext, int n, int h) {
        host.lstmCellBackwardK(h(dA), h(dcPrev), h(gates), h(cNext), h(cPrev), h(dhNext), h(dhCarry), h(dcNext), n, h);
    }

    @Override
    protected void gruGatesForwardK(Tensor rh, Tensor gates, Tensor hPrev, int n, int h) {
        host.gruGatesForwardK(h(rh), h(gates), h(hPrev), n, h);
    }

    @Override
    protected void gruCellForwardK(Tensor hNext, Tensor gates, Tensor hPrev, int n, int h) {
        host.gruCellForwardK(h(hNext), h(gates), h(hPrev), n, h);
    }

    @Override
    protected void gruCellBackwardK(Tensor dA, Tensor gates, Tensor hPrev, Tensor dhNext, int n, int h) {
        host.gruCellBackwardK(h(dA), h(gates), h(hPrev), h(dhNext), n, h);
    }

    @Override
    protected void gruGatesBackwardK(Tensor dA, Tensor dhPrev, Tensor gates, Tensor hPrev, Tensor dhNext, Tensor drh,
            int n, int h) {
        host.gruGatesBackwardK(h(dA), h(dhPrev), h(gates), h(hPrev), h(dhNext), h(drh), n, h);
    }

    @Override
    protected void embeddingForwardK(Tensor out, Tensor W, Tensor ids, int m, int v, int d) {
        host.embeddingForwardK(h(out), h(W), h(ids), m, v, d);
    }

    @Override
    protected void embeddingBackwardK(Tensor dW, Tensor ids, Tensor dout, int m, int v, int d) {
        host.embeddingBackwardK(h(dW), h(ids), h(dout), m, v, d);
    }

    @Override
    protected void softmaxCrossEntropyForwardK(Tensor probs, Tensor loss, Tensor logits, Tensor labels, int m, int v) {
        host.softmaxCrossEntropyForwardK(h(probs), h(loss), h(logits), h(labels), m, v);
    }

    @Override
    protected void softmaxCrossEntropyBackwardK(Tensor dlogits, Tensor probs, Tensor labels, float dloss, int m,
            int v) {
        host.softmaxCrossEntropyBackwardK(h(dlogits), h(probs), h(labels), dloss, m, v);
    }

    @Override
    protected void mseForwardK(Tensor loss, Tensor y, Tensor t, float scale) {
        host.mseForwardK(h(loss), h(y), h(t), scale);
    }

    @Override
    protected void mseBackwardK(Tensor dy, Tensor y, Tensor t, float scale) {
        host.mseBackwardK(h(dy), h(y), h(t), scale);
    }

    @Override
    protected void attentionWeightForwardK(Tensor a, Tensor hs, Tensor h, int t, int n, int hd) {
        host.attentionWeightForwardK(h(a), h(hs), h(h), t, n, hd);
    }

    @Override
    protected void attentionWeightBackwardK(Tensor dhs, Tensor dh, Tensor a, Tensor hs, Tensor h, Tensor da, int t,
            int n, int hd) {
        host.attentionWeightBackwardK(h(dhs), h(dh), h(a), h(hs), h(h), h(da), t, n, hd);
    }

    @Override
    protected void weightSumForwardK(Tensor c, Tensor hs, Tensor a, int t, int n, int hd) {
        host.weightSumForwardK(h(c), h(hs), h(a), t, n, hd);
    }

    @Override
    protected void weightSumBackwardK(Tensor dhs, Tensor da, Tensor hs, Tensor a, Tensor dc, int t, int n, int hd) {
        host.weightSumBackwardK(h(dhs), h(da), h(hs), h(a), h(dc), t, n, hd);
    }

    @Override
    protected void dropoutMaskK(Tensor mask, float ratio, long seed) {
        host.dropoutMaskK(h(mask), ratio, seed);
    }

    @Override
    protected void sgdUpdateK(Tensor param, Tensor grad, float lr) {
        host.sgdUpdateK(h(param), h(grad), lr);
    }

    @Override
    protected void momentumUpdateK(Tensor param, Tensor v, Tensor grad, float lr, float momentum) {
        host.momentumUpdateK(h(param), h(v), h(grad), lr, momentum);
    }

    @Override
    protected void adagradUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float eps) {
        host.adagradUpdateK(h(param), h(h), h(grad), lr, eps);
    }

    @Override
    protected void rmspropUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float decay, float eps) {
        host.rmspropUpdateK(h(param), h(h), h(grad), lr, decay, eps);
    }

    @Override
    protected void adamUpdateK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
            float eps) {
        host.adamUpdateK(h(param), h(m), h(v), h(grad), lrT, beta1, beta2, eps);
    }

    @Override
    protected void sumOfSquaresK(Tensor out, Tensor x) {
        host.sumOfSquaresK(h(out), h(x));
    }

    @Override
    protected void argmaxRowsK(Tensor ids, Tensor x, int m, int v) {
        host.argmaxRowsK(h(ids), h(x), m, v);
    }
}
