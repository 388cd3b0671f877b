// The order a layer's calls must come in, kept by the layer and checked at every call: a backward follows a forward
// that returned, once (a second one would add the parameter gradients again: silently doubled); what a forward or a
// backward hands out besides its result (an LSTM cell's c_next, the gradient w.r.t. an input other than the first)
// is read only while it is that call's: after the call returned and before a later forward started. Booleans only,
// and a message built only when refusing: the hot path allocates nothing.
package org.seq4j.layers;

final class CallOrder {
    private final String layer;     // the layer's name in messages, "TimeLSTM"
    private boolean forwardDone;    // the last forward returned
    private boolean backwardOpen;   // ... and no backward of it has started
    private boolean backwardDone;   // a backward of the last forward returned

    CallOrder(String layer) {
        this.layer = layer;
    }

    /** A forward starts: nothing of the last one may be followed or read until this one returns. */
    void forwardStarts() {
        forwardDone = false;
        backwardOpen = false;
        backwardDone = false;
    }

    /** The forward returned: its outputs may be read, and one backward may follow. */
    void forwardReturned() {
        forwardDone = true;
        backwardOpen = true;
    }

    /**
     * A backward starts: refused before a forward returned or after a backward of it started (even one that threw,
     * which may have added part of its gradients); otherwise it uses the forward up.
     */
    void backwardStarts() {
        if (!forwardDone) {
            throw new IllegalStateException(layer + ".backward before forward");
        }
        if (!backwardOpen) {
            throw new IllegalStateException(layer + ".backward: already ran for this forward; run forward again");
        }
        backwardOpen = false;
    }

    /** The backward returned: its outputs may be read until the next forward starts. */
    void backwardReturned() {
        backwardDone = true;
    }

    /** Whether the last forward returned (its outputs are the layer's to hand out). */
    boolean forwardDone() {
        return forwardDone;
    }

    /** Whether the last forward returned and no backward of it has started. */
    boolean backwardOpen() {
        return backwardOpen;
    }

    /** Refuses {@code accessor}, an output of the forward, unless the last forward returned. */
    void requireForward(String accessor) {
        if (!forwardDone) {
            throw new IllegalStateException(layer + "." + accessor + " before forward (or after one that threw): it is"
                    + " an output of the last forward, so one must have returned");
        }
    }

    /** Refuses {@code accessor}, an output of the backward, unless a backward of the last forward returned. */
    void requireBackward(String accessor) {
        if (!backwardDone) {
            throw new IllegalStateException(layer + "." + accessor + " before backward: it is an output of a backward"
                    + " of the last forward, and none has returned since that forward started");
        }
    }
}
