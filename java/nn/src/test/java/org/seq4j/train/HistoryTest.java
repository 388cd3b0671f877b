// metrics.csv: one line end throughout. Its header ended in "\n" and its rows in the platform's separator (%n), so on
// Windows the file mixed LF and CRLF. Run in a child JVM whose line.separator is CRLF, which is what %n followed.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.testing.ChildJvm;

class HistoryTest {

    /** Child: writes a two-epoch history to args[0]. */
    public static void main(String[] args) throws Exception {
        History h = new History("t", "test accuracy");
        h.add(new History.Epoch(1, 1.5, 0.25, 2.0));
        h.add(new History.Epoch(2, 0.75, 0.5, 2.5));
        h.writeCsv(Path.of(args[0]));
    }

    @Test
    void theCsvEndsEveryLineWithLfWhateverThePlatformSeparator(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("metrics.csv");
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(60), List.of("-Dline.separator=\r\n"),
                HistoryTest.class.getName(), csv.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("epoch,train_loss,test_accuracy,seconds\n1,1.500000,0.250000,2.000\n2,0.750000,0.500000,2.500\n",
                Files.readString(csv));
    }
}
