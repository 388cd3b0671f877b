// Workspace.holds(null): false before the workspace's first buffer and a bare "Cannot invoke Tensor.segment()" after
// it, before; now one NullPointerException naming the call either way.
package org.seq4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.seq4j.testing.TestBackends;

class WorkspaceHoldsTest {
    @Test
    void aNullTensorIsRefusedByNameBeforeAndAfterTheFirstBuffer() {
        try (Workspace ws = new Workspace(TestBackends.reference(), "test")) {
            assertEquals("Workspace.holds: t is null", assertThrows(NullPointerException.class,
                    () -> ws.holds(null)).getMessage());
            ws.floats(2, 3);
            assertEquals("Workspace.holds: t is null", assertThrows(NullPointerException.class,
                    () -> ws.holds(null)).getMessage());
        }
    }
}
