// The book's Affine layer: out = x W + b.
package org.seq4j.layers;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

/**
 * The book's Affine layer: out (N, H) = x (N, D) W (D, H) + b (H,). Outputs live in the layer's workspace
 * until {@link #close()}.
 */
public final class Affine implements AutoCloseable {
    private final Projection product;   // out = x W + b, its backward and buffers

    /**
     * A layer over the given parameters (held, not copied).
     *
     * @param backend runs the kernels; the parameters must live on its device
     * @param W       (D, H)
     * @param b       (H,)
     * @throws IllegalArgumentException if the shapes do not fit
     */
    public Affine(Backend backend, Parameter W, Parameter b) {
        Shapes.arguments("Affine", backend, "W b", W, b);
        if (W.value().rank() != 2 || b.value().rank() != 1 || b.dim(0) != W.dim(1)) {
            throw new IllegalArgumentException("Affine needs W (D, H) and b (H,), got " + W + " and " + b);
        }
        this.product = new Projection(backend, "Affine", W, b);
    }

    /**
     * out (N, H) = x (N, D) W + b.
     *
     * @param x (N, D), kept for backward
     * @return out (N, H), the layer's buffer, valid until its next forward
     * @throws IllegalArgumentException if x is not (N, D), or x lies in this layer's own buffers
     */
    public Tensor forward(Tensor x) {
        return product.forward(x);
    }

    /**
     * dx (N, D) = dout W^T; dW += x^T dout; db += sum of dout's rows.
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
