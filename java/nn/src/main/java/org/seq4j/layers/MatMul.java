// The book's MatMul layer: out = x W, without a bias.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.backend.Transpose;
import org.seq4j.tensor.Tensor;

public final class MatMul implements AutoCloseable {
    private final Backend backend;
    private final Parameter W;   // (D, H)
    private final Workspace ws;
    private int sizedN = -1;
    private Tensor out, dx;      // (N, H), (N, D)
    private Tensor x;            // (N, D) the last forward's input

    public MatMul(Backend backend, Parameter W) {
        if (W.value().rank() != 2) {
            throw new IllegalArgumentException("MatMul needs W (D, H), got " + W);
        }
        this.backend = backend;
        this.W = W;
        this.ws = new Workspace(backend);
    }

    /** out (N, H) = x (N, D) W. */
    public Tensor forward(Tensor x) {
        int d = W.dim(0), h = W.dim(1);
        if (x.rank() != 2 || x.dim(1) != d) {
            throw new IllegalArgumentException("MatMul.forward needs x (N, D=" + d + "), got " + x);
        }
        int n = x.dim(0);
        if (n != sizedN) {
            ws.reset();
            out = ws.floats(n, h);
            dx = ws.floats(n, d);
            sizedN = n;
        }
        backend.matmul(Transpose.NO, Transpose.NO, 1f, x, W.value(), 0f, out);
        this.x = x;
        return out;
    }

    /** dx (N, D) = dout W^T; dW += x^T dout. */
    public Tensor backward(Tensor dout) {
        if (x == null) {
            throw new IllegalStateException("MatMul.backward before forward");
        }
        backend.matmul(Transpose.NO, Transpose.YES, 1f, dout, W.value(), 0f, dx);
        backend.matmul(Transpose.YES, Transpose.NO, 1f, x, dout, 1f, W.grad());
        return dx;
    }

    @Override
    public void close() {
        ws.close();
    }
}
