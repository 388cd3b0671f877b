// The one line a failed command ends with, for failures that came from text the user or a file gave: a path the JVM
// cannot represent was an internal error naming InvalidPathException (and printed its NUL raw); an escape sequence in
// a message reached the terminal.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.InvalidPathException;
import org.junit.jupiter.api.Test;

class MainLineTest {

    @Test
    void aPathTheJvmCannotRepresentIsBadInputInOneLine() {
        var nul = new InvalidPathException("/tmp/a\0b", "Nul character not allowed");
        assertEquals(2, Main.exitCode(nul));
        assertEquals("seq4j: cannot use the path \"/tmp/a\\0b\" here: Nul character not allowed", Main.line(nul));
        var charset = new InvalidPathException("/tmp/d\u00e93", "Malformed input or input contains unmappable characters");
        assertEquals("seq4j: cannot use the path \"/tmp/d\u00e93\" here: Malformed input or input contains unmappable "
                + "characters (a name the locale's character set cannot encode: run with a UTF-8 locale, e.g. "
                + "LC_ALL=C.UTF-8)", Main.line(charset));
    }

    @Test
    void whatDoesNotPrintIsEscapedAndTheLineEndsAtALineBreak() {
        var e = new BadInputException("its model.properties has hidden=256\r9 and \u001b[31mred\u001b[0m");
        assertEquals("seq4j: its model.properties has hidden=256\\r9 and \\u{001B}[31mred\\u{001B}[0m", Main.line(e));
        assertEquals("seq4j: first line ...", Main.line(new BadInputException("first line\nsecond line")));
    }

    /**
     * A path as typed, in the lines of a missing or unreadable file: --data $'\e[2J' cleared the terminal, and a path
     * with a line break in it ended the line early (ArgumentFuzzTest's finds).
     */
    @Test
    void aPathInTheLineOfAMissingOrUnreadableFileIsEscaped() {
        assertEquals("seq4j: no such file: /tmp/new\\nline\\u{001B}[2J (no such data file)",
                Main.line(new java.nio.file.NoSuchFileException("/tmp/new\nline\u001b[2J", null, "no such data file")));
        assertEquals("seq4j: /tmp/a\\rb: permission denied",
                Main.line(new java.nio.file.AccessDeniedException("/tmp/a\rb")));
    }

    /**
     * An argument the line quotes whole is cut as DataFileException.quote cuts quoted text: a value of 5,000 characters
     * ("unknown backend 'xxx...'", picocli's "Invalid value ...") made a line of 5,000 (an ArgumentFuzzTest find).
     */
    @Test
    void aLongArgumentIsCutWhereTheLineQuotesIt() {
        String x = "x".repeat(5000);
        assertEquals("seq4j: unknown backend '" + "x".repeat(60) + "...' (5000 characters); choose java",
                Main.quoted("seq4j: unknown backend '" + x + "'; choose java", new String[] {"--backend", x}));
        String e = "\u001b".repeat(30);   // as long as it shows escaped
        assertEquals("seq4j: unknown backend '" + "\\u{001B}".repeat(7) + "...' (30 characters)",
                Main.quoted("seq4j: unknown backend '" + "\\u{001B}".repeat(30) + "'", new String[] {e}));
        // --option=value: picocli quotes the value alone
        assertEquals("seq4j: Invalid value for option '--epochs': '" + "x".repeat(60) + "...' (5000 characters) is not "
                + "a whole number", Main.quoted("seq4j: Invalid value for option '--epochs': '" + x
                + "' is not a whole number", new String[] {"--epochs=" + x}));
        // short ones, and a path named whole, as they were
        assertEquals("seq4j: unknown backend 'tpu'", Main.quoted("seq4j: unknown backend 'tpu'", new String[] {"tpu"}));
        assertEquals("seq4j: no such file: /" + x, Main.quoted("seq4j: no such file: /" + x, new String[] {"/" + x}));
    }

    /** A float option that rounds to 0 from a number that is not: --clip 1e-46 turned clipping off without a word. */
    @Test
    void aFloatThatRoundsToZeroIsRefused() {
        assertEquals(0.001f, Main.finiteFloat("0.001"));
        assertEquals(0f, Main.finiteFloat("0"));
        assertEquals(-0f, Main.finiteFloat("-0.0"));
        assertEquals(Float.MIN_VALUE, Main.finiteFloat("1.4e-45"));
        for (String zero : new String[] {"+0e5", ".0", "0.", "0f", "0x0p0", "0.000e-1000", " 0 "}) {
            assertEquals(0f, Math.abs(Main.finiteFloat(zero)), zero);
        }
        // 1e-400 and 0x1p-1100 are zero as doubles too: the check that read them as doubles took them as 0
        for (String tiny : new String[] {"1e-46", "1e-50", "-1e-60", "1e-50f", "1e-400", "0x1p-1100", " 1e-400 "}) {
            var e = assertThrows(picocli.CommandLine.TypeConversionException.class,
                    () -> Main.finiteFloat(tiny));
            assertEquals("'" + tiny + "' is below float's smallest positive value (1.4E-45) and would be read as 0",
                    e.getMessage());
        }
    }

    /** The same for doubles (--length-penalty): 1e-400 was read as 0, no penalty, without a word. */
    @Test
    void aDoubleThatRoundsToZeroIsRefused() {
        assertEquals(0.6, Main.finiteDouble("0.6"));
        assertEquals(Double.MIN_VALUE, Main.finiteDouble("4.9e-324"));
        for (String zero : new String[] {"0", "-0.0", "+0e5", ".0", "0.", "0d", "0x0p0", "0x0.0p-3", "0.000e-1000"}) {
            assertEquals(0.0, Math.abs(Main.finiteDouble(zero)), zero);
        }
        assertEquals(Double.POSITIVE_INFINITY, Main.finiteDouble("Infinity")); // refused by the option's own check
        assertEquals(Double.NaN, Main.finiteDouble("NaN"));
        for (String tiny : new String[] {"1e-400", "-1e-330", "0.0001e-1000", "1e-400d", "0x1p-1100"}) {
            var e = assertThrows(picocli.CommandLine.TypeConversionException.class, () -> Main.finiteDouble(tiny));
            assertEquals("'" + tiny + "' is below double's smallest positive value (4.9E-324) and would be read as 0",
                    e.getMessage());
        }
        var e = assertThrows(picocli.CommandLine.TypeConversionException.class, () -> Main.finiteDouble("1e400"));
        assertEquals("'1e400' is past double's range (at most 1.7976931348623157E308 in magnitude)", e.getMessage());
    }
}
