// Who hears of a bad id found on the GPU when several threads share one CudaBackend (PendingIdChecks, no GPU
// needed): the thread whose synchronising call found it, and every other thread that queued the kernel that met it,
// at its own next synchronising call. Before, the first thread to synchronise took the error and the thread whose
// call had the bad id read its wrong loss without a word.
package org.seq4j.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class PendingIdChecksTest {
    static final int EMBED_FORWARD = 0, XENT_FORWARD = 2;
    final PendingIdChecks checks = new PendingIdChecks(4,
            Set.of("embeddingForward", "lstmSequenceForward", "embeddingBackward", "softmaxCrossEntropyForward"));
    final List<List<Set<String>>> asked = new ArrayList<>();
    /** Stands for CudaBackend.idErrorMessage: names the callers it is given, and records them. */
    final Function<List<Set<String>>, String> message = callers -> {
        asked.add(callers);
        return "bad id in " + callers;
    };

    private static Thread named(String name) {
        return new Thread(() -> { }, name);   // never started: only its identity and name are used
    }

    private static Thread alive(String name) {   // a started thread that stays alive for the test
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void oneThreadGetsItsOwnErrorNamedAfterItsOperation() {
        Thread main = Thread.currentThread();
        assertFalse(checks.anyQueued(), "nothing queued: a synchronising call need not read the record");
        checks.queued(main, EMBED_FORWARD, "lstmSequenceForward");
        assertTrue(checks.anyQueued());
        String m = checks.settle(main, 1 << EMBED_FORWARD, message);
        assertEquals("bad id in [[lstmSequenceForward], [], [], []]", m);
        assertFalse(checks.anyQueued(), "the record was read: nothing pending");
        assertNull(checks.settle(main, 0, null), "reported once");
    }

    @Test
    void anErrorFoundByAnotherThreadIsOwedToTheThreadThatQueuedTheKernel() {
        Thread a = alive("trainer-a"), b = Thread.currentThread();
        try {
            checks.queued(a, EMBED_FORWARD, "embeddingForward");       // a's bad id
            checks.queued(b, XENT_FORWARD, "softmaxCrossEntropyForward");
            String toB = checks.settle(b, 1 << EMBED_FORWARD, message); // b synchronises first and finds it
            assertTrue(toB.startsWith("bad id in [[embeddingForward (thread \"trainer-a\")], [], "
                    + "[softmaxCrossEntropyForward (thread \"" + b.getName() + "\")], []]"), toB);
            assertEquals(1, asked.size(), "the message is made once");
            assertFalse(checks.anyQueued());
            // a's next synchronising call throws it, though a queued nothing since and the record is clean
            String toA = checks.settle(a, 0, null);
            assertTrue(toA != null && toA.startsWith(toB) && toA.contains("Found by a synchronising call of thread \""
                    + b.getName() + "\""), String.valueOf(toA));
            assertNull(checks.settle(a, 0, null), "owed once");
            assertNull(checks.settle(b, 0, null));
        } finally {
            a.interrupt();
        }
    }

    @Test
    void aThreadThatQueuedOnlyOtherKernelsIsNotOwedIt() {
        Thread a = alive("a"), b = alive("b"), c = Thread.currentThread();
        try {
            checks.queued(a, EMBED_FORWARD, "embeddingForward");
            checks.queued(b, XENT_FORWARD, "softmaxCrossEntropyForward");
            assertTrue(checks.settle(c, 1 << XENT_FORWARD, message).contains("thread \"b\""),
                    "the finder hears of it, with the thread that queued the kernel");
            assertNull(checks.settle(a, 0, null), "a's embedding kernel met no bad id");
            assertTrue(checks.settle(b, 0, null).contains("Found by"), "b queued the kernel that did");
        } finally {
            a.interrupt();
            b.interrupt();
        }
    }

    @Test
    void anOwedErrorAndANewOneAreThrownTogether() {
        Thread a = alive("a"), b = Thread.currentThread();
        try {
            checks.queued(a, EMBED_FORWARD, "embeddingForward");
            checks.settle(b, 1 << EMBED_FORWARD, message);
            checks.queued(a, XENT_FORWARD, "softmaxCrossEntropyForward");
            String toA = checks.settle(a, 1 << XENT_FORWARD, message);
            assertTrue(toA.startsWith("bad id in [[], [], [softmaxCrossEntropyForward], []] Also: bad id in "
                    + "[[embeddingForward (thread \"a\")]"), toA);
        } finally {
            a.interrupt();
        }
    }

    /**
     * AbstractBackend checks the ids (announce) and calls the kernel (launching) in two holds of the backend's lock. A
     * synchronising call of another thread in between reads the record before the kernel has run: the kernel must
     * still count as queued afterwards, or its bad id is never read. It used to be marked queued at the check, and
     * that settle forgot it.
     */
    @Test
    void aSynchronisationBetweenTheCheckAndTheLaunchDoesNotForgetTheKernel() {
        Thread a = alive("trainer-a"), b = Thread.currentThread();
        try {
            checks.announce(a, "lstmSequenceForward");
            assertFalse(checks.anyQueued(), "announced, not yet queued: nothing on the device to read");
            assertNull(checks.settle(b, 0, null), "b synchronises before a's kernel is queued");
            checks.launching(a, EMBED_FORWARD, "embeddingForward");   // under the lock that queues it
            assertTrue(checks.anyQueued(), "a's kernel is queued: the next synchronising call must read the record");
            String toA = checks.settle(a, 1 << EMBED_FORWARD, message);
            assertEquals("bad id in [[lstmSequenceForward], [], [], []]", toA, "named after the announced call");
            checks.launching(a, EMBED_FORWARD, "embeddingForward");   // nothing announced: the kernel's own operation
            assertEquals("bad id in [[embeddingForward], [], [], []]", checks.settle(a, 1 << EMBED_FORWARD, message));
            assertThrows(IllegalArgumentException.class, () -> checks.announce(a, "gemm"));
        } finally {
            a.interrupt();
        }
    }

    @Test
    void threadsThatEndedAreForgotten() throws InterruptedException {
        Thread done = new Thread(() -> checks.queued(Thread.currentThread(), EMBED_FORWARD, "embeddingForward"), "done");
        done.start();
        done.join();
        assertEquals(1, checks.threadsTracked());
        checks.settle(Thread.currentThread(), 1 << EMBED_FORWARD, message);
        assertEquals(0, checks.threadsTracked(), "an ended thread owed an error cannot be told: its entry goes");
        Thread idle = named("never-ran");
        checks.queued(idle, EMBED_FORWARD, "embeddingForward");   // not alive either: dropped at the next look
        checks.settle(Thread.currentThread(), 0, null);
        assertEquals(0, checks.threadsTracked());
    }

    @Test
    void unknownKernelsAndOperationsAreRefused() {
        Thread main = Thread.currentThread();
        var e = assertThrows(IllegalArgumentException.class, () -> checks.queued(main, 4, "embeddingForward"));
        assertEquals("no id check of kernel 4 by embeddingForward is known", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> checks.queued(main, 0, "gemm"));
        assertFalse(checks.anyQueued());
    }
}
