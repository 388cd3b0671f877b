// The book's MatMul layer: out = x W, without a bias.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/** The book's MatMul layer: out (N, H) = x (N, D) W (D, H), without a bias. */
public final class MatMul implements AutoCloseable {
    private final Projection product;   // out = x W, its backward and buffers

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param W       (D, H)
     * @throws IllegalArgumentException if W is not 2-D
     */
    public MatMul(Backend backend, Parameter W) {
        Shapes.arguments("MatMul", backend, "W", W);
        if (W.value().rank() != 2) {
            throw new IllegalArgumentException("MatMul needs W (D, H), got " + W);
        }
        this.product = new Projection(backend, "MatMul", W, null);
    }

    /**
     * out (N, H) = x (N, D) W.
     *
     * @param x (N, D), kept for backward
     * @return out (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if x is not (N, D), or x lies in this layer's own buffers
     */
    public Tensor forward(Tensor x) {
        return product.forward(x);
    }

    /**
     * dx (N, D) = dout W^T; dW += x^T dout.
     *
     * @param dout (N, H), the shape of the forward's output
     * @return dx (N, D), the layer's buffer
     * @throws IllegalArgumentException if dout is not the forward output's (N, H)
     * @throws IllegalStateException if no forward returned, a backward of it already ran, or the weights were written
     *         since it
     */
    public Tensor backward(Tensor dout) {
        return product.backward(dout);
    }

    @Override
    public void close() {
        product.close();
    }
}
