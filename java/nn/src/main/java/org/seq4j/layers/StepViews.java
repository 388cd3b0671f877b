// The per-step views x[0], x[1], ... of a time-major tensor that a layer does not own, made once and reused
// while the same tensor object keeps coming back, so steady-state steps create no views.
package org.seq4j.layers;

import org.seq4j.tensor.Tensor;

/**
 * The per-step views x[0], x[1], ... of a time-major tensor that a layer does not own, made once and reused while
 * the same tensor object keeps coming back, so steady-state steps create no views.
 */
public final class StepViews {
    private Tensor source;
    private Tensor[] steps;

    /** An empty cache. */
    public StepViews() {
    }

    /**
     * t.get(0) .. t.get(T-1), cached for this t.
     *
     * @param t a tensor of rank {@code >= 1}
     * @return its steps along the first dimension
     */
    public Tensor[] of(Tensor t) {
        if (t != source || steps.length == 0 || !steps[0].isAlive()) {
            Tensor[] s = new Tensor[t.dim(0)];
            for (int i = 0; i < s.length; i++) {
                s[i] = t.get(i);
            }
            steps = s;
            source = t;
        }
        return steps;
    }
}
