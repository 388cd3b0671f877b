// ParameterStore.Builder.declare refuses what cannot become a parameter with one line naming the parameter, before
// anything is allocated: a missing name or Init (a null Init used to surface later as a NullPointerException with no
// message), a name declared twice, an empty shape or a dimension below 1. A build that fails (with an Error too, as an
// allocation's OutOfMemoryError) closes the memory it had allocated. shapes() tells what a build would allocate, in
// order, with nothing allocated and nothing it hands out able to change the declarations. Later: a name a checkpoint
// refuses (NpzWriter.pathPart) is refused when declared, and an Init.normal whose draws overflow float32 when made.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.testing.TestBackends;

class ParameterStoreBuilderTest {
    private static String refused(Runnable declare) {
        return assertThrows(IllegalArgumentException.class, declare::run).getMessage();
    }

    @Test
    void whatCannotBecomeAParameterIsRefusedByName() {
        ParameterStore.Builder b = ParameterStore.builder(TestBackends.reference()).declare("w", Init.zeros(), 2);
        assertEquals("a parameter needs a name", refused(() -> b.declare(" ", Init.zeros(), 2)));
        assertEquals("parameter v needs an Init (Init.zeros(), Init.normal(...), ...), got null",
                refused(() -> b.declare("v", null, 2)));
        assertEquals("parameter w is declared twice", refused(() -> b.declare("w", Init.zeros(), 2)));
        assertEquals("parameter v needs a shape", refused(() -> b.declare("v", Init.zeros())));
        assertEquals("parameter v has shape (2, 0); every dimension must be >= 1",
                refused(() -> b.declare("v", Init.zeros(), 2, 0)));
        // names a checkpoint refuses, refused when declared rather than at the first save after training
        for (String[] bad : new String[][] {{"enc/W", "'/'"}, {"enc\\W", "'\\'"}, {"..", "\"..\""},
                {"W\0", "NUL"}}) {
            String m = refused(() -> b.declare(bad[0], Init.zeros(), 2));
            assertTrue(m.startsWith("parameter \"" + bad[0].replace("\0", "\\0") + "\" holds " + bad[1] + ", which a "
                    + "checkpoint (.npz"), m);
        }
        // a std whose float32 draws overflow (1e39: every value infinite), refused by the Init
        assertEquals("Normal init needs a std from 0 to 1.0E30 (its draws are float32 values), got 1.0E39",
                assertThrows(IllegalArgumentException.class, () -> Init.normal(1e39)).getMessage());
        try (ParameterStore store = b.build(1)) {   // the refusals left the builder as it was
            assertEquals(2, store.get("w").value().size());
        }
    }

    /** part gives each parameter's piece of a buffer laid out like values() (an optimizer's state), as its own view. */
    @Test
    void partIsTheParametersPieceOfABufferLaidOutLikeTheValues() {
        Backend b = TestBackends.reference();
        try (ParameterStore store = ParameterStore.builder(b).declare("z", Init.normal(1), 3, 5)
                .declare("a", Init.normal(1), 7).build(3)) {
            // the values themselves are such a buffer: each part is the parameter, padding skipped
            for (Parameter p : store.parameters()) {
                assertArrayEquals(p.shape(), store.part(store.values(), p.name()).shape());
                assertArrayEquals(store.copyOut(p.name()), store.part(store.values(), p.name()).toFloatArray());
            }
            assertEquals("no parameter named 'q'; this model has [z, a]",
                    refused(() -> store.part(store.values(), "q")));
            assertEquals("part: the buffer must be float32 of " + store.values().size() + " elements, laid out like"
                    + " values(); got F32 (7,)", refused(() -> store.part(store.get("a").value(), "a")));
        }
    }

    @Test
    void shapesAreTheDeclarationsInOrderAndCopies() {
        List<String> calls = new ArrayList<>();
        Backend real = TestBackends.reference();
        Backend watched = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    calls.add(method.getName());
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ParameterStore.Builder b = ParameterStore.builder(watched)
                .declare("z", Init.zeros(), 3, 4).declare("a", Init.zeros(), 5);
        SequencedMap<String, int[]> shapes = b.shapes();
        assertEquals(List.of("z", "a"), List.copyOf(shapes.keySet()), "declaration order, not the names' order");
        assertArrayEquals(new int[] {3, 4}, shapes.get("z"));
        assertArrayEquals(new int[] {5}, shapes.get("a"));
        assertEquals(List.of(), calls, "nothing asked of the backend");
        shapes.get("z")[0] = 99;
        shapes.remove("a");
        try (ParameterStore store = b.build(1)) {
            assertArrayEquals(new int[] {3, 4}, store.get("z").value().shape(), "a changed copy changes nothing");
            assertEquals(List.of("z", "a"), store.parameters().stream().map(Parameter::name).toList());
        }
    }

    @Test
    void aBuildThatFailsWithAnErrorClosesWhatItAllocated() {
        // build caught only RuntimeException: an OutOfMemoryError allocating the gradients left the values' arena open
        List<Arena> arenas = new ArrayList<>();
        int[] allocations = {0};
        Backend real = TestBackends.reference();
        Backend failing = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("allocate")) {
                        arenas.add((Arena) args[0]);
                        if (allocations[0]++ == 1) {   // the second: the gradients
                            throw new OutOfMemoryError("refused by the test");
                        }
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ParameterStore.Builder b = ParameterStore.builder(failing).declare("w", Init.zeros(), 2);
        assertThrows(OutOfMemoryError.class, () -> b.build(1));
        assertFalse(arenas.isEmpty());
        for (Arena a : arenas) {
            assertFalse(a.scope().isAlive(), "the store's arena is closed after the failed build");
        }
    }
}
