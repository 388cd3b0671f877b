// BackendConfig.fromEnvironment: a bad setting is an error that names the property it came from.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BackendConfigTest {

    private static BackendConfig from(Map<String, String> properties) {
        return BackendConfig.fromEnvironment(properties::get, name -> null);
    }

    @Test
    void readsTheDocumentedProperties() {
        BackendConfig c = from(Map.of("seq4j.threads", " 3 ", "seq4j.cuda.device", "1"));
        assertEquals(3, c.threads());
        assertEquals(1, c.device());
        assertEquals(BackendConfig.defaults(), from(Map.of()));
    }

    @Test
    void aNegativeDeviceNamesItsProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> from(Map.of("seq4j.cuda.device", "-1")));
        assertTrue(e.getMessage().contains("-Dseq4j.cuda.device") && e.getMessage().contains("got -1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> from(Map.of("seq4j.threads", "-2")));
        assertTrue(e.getMessage().contains("-Dseq4j.threads"), e.getMessage());
    }
}
