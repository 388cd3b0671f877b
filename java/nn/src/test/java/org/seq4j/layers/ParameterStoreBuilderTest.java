// ParameterStore.Builder.declare refuses what cannot become a parameter with one line naming the parameter, before
// anything is allocated: a missing name or Init (a null Init used to surface later as a NullPointerException with no
// message), a name declared twice, an empty shape or a dimension below 1.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
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
        try (ParameterStore store = b.build(1)) {   // the refusals left the builder as it was
            assertEquals(2, store.get("w").value().size());
        }
    }
}
