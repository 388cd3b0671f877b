// Checkpoint.require and requireInt refuse a null argument, and requireInt a range with min above max, in their
// own words: bare NPEs from Properties' insides before, and min above max refused every value as the file's fault.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class CheckpointRequireArgumentsTest {
    @Test
    void badArgumentsAreNamed() throws CheckpointException {
        Path f = Path.of("model.npz");
        Properties p = new Properties();
        p.setProperty("k", "5");
        assertEquals(5, Checkpoint.requireInt(p, "k", 1, 9, f));
        assertEquals("Checkpoint.require: p is null",
                assertThrows(NullPointerException.class, () -> Checkpoint.require(null, "k", f)).getMessage());
        assertEquals("Checkpoint.require: key is null",
                assertThrows(NullPointerException.class, () -> Checkpoint.require(p, null, f)).getMessage());
        assertEquals("Checkpoint.requireInt: p is null",
                assertThrows(NullPointerException.class, () -> Checkpoint.requireInt(null, "k", 0, f)).getMessage());
        assertEquals("Checkpoint.requireInt: key is null",
                assertThrows(NullPointerException.class, () -> Checkpoint.requireInt(p, null, 0, 9, f)).getMessage());
        assertEquals("Checkpoint.requireInt: min 10 is above max 1",
                assertThrows(IllegalArgumentException.class, () -> Checkpoint.requireInt(p, "k", 10, 1, f)).getMessage());
    }
}
