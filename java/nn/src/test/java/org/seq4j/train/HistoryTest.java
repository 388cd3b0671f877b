// metrics.csv: one line end throughout. Its header ended in "\n" and its rows in the platform's separator (%n), so on
// Windows the file mixed LF and CRLF. Run in a child JVM whose line.separator is CRLF, which is what %n followed.
package org.seq4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    /**
     * What would break the history or its CSV later is refused when given (a red-team find: a null epoch made epochs()
     * and writeCsv throw from then on; a metric name with a comma wrote a header of another column count).
     */
    @Test
    void whatWouldBreakTheCsvIsRefusedWhenGiven(@TempDir Path dir) throws Exception {
        History h = new History("t", "eval loss (0.5 SSE/N)");
        assertEquals("History.add: the epoch is null", assertThrows(NullPointerException.class, () -> h.add(null))
                .getMessage());
        for (String name : new String[] {"acc,uracy", "a\"b", "two\nlines", "cr\r", ""}) {
            assertThrows(IllegalArgumentException.class, () -> new History("t", name), name);
        }
        assertThrows(NullPointerException.class, () -> new History("t", null));
        assertThrows(NullPointerException.class, () -> new History(null, "loss"));
        assertThrows(IllegalArgumentException.class, () -> new History.Epoch(0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new History.Epoch(1, 1, 1, -1));
        assertThrows(IllegalArgumentException.class, () -> new History.Epoch(1, 1, 1, Double.NaN));
        h.add(new History.Epoch(1, 0.5, Double.POSITIVE_INFINITY, 0));   // an overflowed perplexity is a value
        // a bare "Cannot invoke Path.toAbsolutePath()" from inside AtomicOutput
        assertEquals("History.writeCsv: file is null",
                assertThrows(NullPointerException.class, () -> h.writeCsv(null)).getMessage());
        h.writeCsv(dir.resolve("m.csv"));
        assertEquals("epoch,train_loss,eval_loss_(0.5_SSE/N),seconds\n1,0.500000,Infinity,0.000\n",
                Files.readString(dir.resolve("m.csv")));
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
