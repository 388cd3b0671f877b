// The inference loops' answer to an interrupt (a cancelled task, a shutdown of its executor): they look at the
// thread's interrupt once a step and stop there, as Trainer does between two training steps, rather than running to
// the requested length (a generate of 10,000,000 steps ran to its end).
package org.seq4j.models;

import java.util.concurrent.CancellationException;

final class Interrupts {
    private Interrupts() {
    }

    /**
     * Throws when the calling thread has an interrupt pending, keeping it (the caller's code up the stack sees it
     * too). One read of the thread's flag: nothing allocated unless it throws. The generation paths keep no state
     * between calls (each starts from a reset network, an empty workspace), so the model stays usable.
     *
     * @param op   the public call, for the message ("Rnnlm.generate")
     * @param what what the loop counts ("step", "prompt id")
     * @param done how many it has done
     * @param of   how many it would do
     * @throws CancellationException if the thread is interrupted
     */
    static void check(String op, String what, int done, int of) {
        if (Thread.currentThread().isInterrupted()) {
            throw new CancellationException(op + ": interrupted at " + what + " " + (done + 1) + " of " + of
                    + " (the thread's interrupt is kept); nothing is returned, and the model stays usable: its next"
                    + " generate, beam search or predict starts afresh");
        }
    }

    /**
     * A part's interrupt ({@link #check} in a decoder's loop) named first by the public call that ran it:
     * "Seq2seq.generate: Decoder.generate: interrupted at step 3 of ...".
     *
     * @param op   the public call
     * @param part what the part threw
     * @return a CancellationException whose message is op, then part's, and whose cause is part
     */
    static CancellationException within(String op, CancellationException part) {
        CancellationException e = new CancellationException(op + ": " + part.getMessage());
        e.initCause(part);
        return e;
    }
}
