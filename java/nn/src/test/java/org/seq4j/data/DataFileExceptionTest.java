// DataFileException.quote and CharVocabulary.describe: text from a data file or a command line, quoted in a
// one-line message, shows no character that moves the terminal's cursor or does not print.
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DataFileExceptionTest {
    /**
     * Before, quote put the characters in as they were: a carriage return in a quoted question sent the cursor back
     * and the rest of the message overwrote its start, and a zero-width space or a right-to-left override hid.
     */
    /** A null text was a bare "Cannot invoke String.length() because text is null". */
    @Test
    void quoteAndPrintableNameANullText() {
        assertEquals("DataFileException.quote: text is null",
                assertThrows(NullPointerException.class, () -> DataFileException.quote(null)).getMessage());
        assertEquals("DataFileException.quote: text is null",
                assertThrows(NullPointerException.class, () -> DataFileException.quote(null, '\'')).getMessage());
        assertEquals("DataFileException.printable: text is null",
                assertThrows(NullPointerException.class, () -> DataFileException.printable(null)).getMessage());
    }

    /** new DataFileException(null, 0, null) made an exception whose message was "null: null". */
    @Test
    void theConstructorRefusesANullFileOrProblemAndANegativeLine() {
        java.nio.file.Path f = java.nio.file.Path.of("data.txt");
        assertEquals("DataFileException: file is null; expected the data file's path",
                assertThrows(NullPointerException.class, () -> new DataFileException(null, 0, null)).getMessage());
        assertEquals("DataFileException: problem is null; expected what is wrong",
                assertThrows(NullPointerException.class, () -> new DataFileException(f, 3, null)).getMessage());
        assertEquals("DataFileException: line must be >= 0 (1-based, or 0 for the whole file), got -1",
                assertThrows(IllegalArgumentException.class,
                        () -> new DataFileException(f, -1, "bad", null)).getMessage());
        assertEquals("data.txt, line 3: bad", new DataFileException(f, 3, "bad").getMessage());
        assertEquals("data.txt: bad", new DataFileException(f, 0, "bad", null).getMessage());
    }

    /**
     * CharVocabulary.of("\uD800") made a vocabulary of one "character" that is half a UTF-16 pair (written to a
     * UTF-8 vocabulary file as '?'); NpzWriter and WordVocabulary refuse such names already.
     */
    @Test
    void aCharVocabularyRefusesALoneSurrogate() {
        assertEquals("CharVocabulary.of: chars holds a lone surrogate (U+D800) at position 0, which is not a"
                + " character; expected valid Unicode (surrogates only in high-low pairs)",
                assertThrows(IllegalArgumentException.class, () -> CharVocabulary.of("\uD800")).getMessage());
        assertEquals("CharVocabulary.of: chars holds a lone surrogate (U+DC00) at position 2, which is not a"
                + " character; expected valid Unicode (surrogates only in high-low pairs)",
                assertThrows(IllegalArgumentException.class,
                        () -> CharVocabulary.of("a\uD83D\uDE00\uDC00")).getMessage());
        CharVocabulary.Builder b = CharVocabulary.builder().add("ab");
        assertEquals("CharVocabulary.Builder.add: text holds a lone surrogate (U+D83D) at position 1, which is not"
                + " a character; expected valid Unicode (surrogates only in high-low pairs)",
                assertThrows(IllegalArgumentException.class, () -> b.add("c\uD83D")).getMessage());
        assertEquals("ab", b.build().chars()); // nothing of the refused text was added
        assertEquals(2, CharVocabulary.of("a\uD83D\uDE00").size()); // a pair is one character
    }

    @Test
    void quoteEscapesWhatDoesNotPrint() {
        assertEquals("\"2+3\\r    _5\"", DataFileException.quote("2+3\r    _5"));
        assertEquals("\"a\\nb\\tc\\0d\"", DataFileException.quote("a\nb\tc\0d"));
        // C0 and DEL, C1 (NEL, CSI), format (zero-width space, right-to-left override, byte order mark), a line
        // separator, a lone surrogate
        assertEquals("'bell\\u{0007} del\\u{007F}'", DataFileException.quote("bell\u0007 del\u007F", '\''));
        assertEquals("\"nel\\u{0085} csi\\u{009B}\"", DataFileException.quote("nel\u0085 csi\u009B"));
        assertEquals("\"zw\\u{200B}sp rlo\\u{202E} bom\\u{FEFF}\"",
                DataFileException.quote("zw\u200Bsp rlo\u202E bom\uFEFF"));
        assertEquals("\"ls\\u{2028} lone \\u{D800}\"", DataFileException.quote("ls\u2028 lone \uD800"));
        // a backslash is doubled, so that the two characters \r in the text do not read as a carriage return
        assertEquals("\"back\\\\r\"", DataFileException.quote("back\\r"));
        // what prints is as it was
        assertEquals("\"caf\u00E9 \u6F22 \uD83D\uDE00 _91 \"",
                DataFileException.quote("caf\u00E9 \u6F22 \uD83D\uDE00 _91 "));
    }

    @Test
    void aQuoteOfManyEscapesIsCutToAboutEightyCharactersBetweenEscapes() {
        String cr = "\r".repeat(1_000);
        // 30 escapes of 2 characters fill the 60 kept
        assertEquals('"' + "\\r".repeat(30) + "...\" (1000 characters)", DataFileException.quote(cr));
        // an 8-character escape is never cut in half: 7 of them (56) are kept, the 8th would pass 60
        String zw = "\u200B".repeat(100);
        assertEquals('"' + "\\u{200B}".repeat(7) + "...\" (100 characters)", DataFileException.quote(zw));
        // 10 of them are 80 characters: short enough to be quoted whole
        assertEquals('"' + "\\u{200B}".repeat(10) + '"', DataFileException.quote("\u200B".repeat(10)));
        // plain text as before: whole up to 80 characters, else 60 of them, never half a surrogate pair
        assertEquals('"' + "7".repeat(80) + '"', DataFileException.quote("7".repeat(80)));
        assertEquals('"' + "7".repeat(60) + "...\" (81 characters)", DataFileException.quote("7".repeat(81)));
        assertEquals('"' + "7".repeat(59) + "...\" (81 characters)",
                DataFileException.quote("7".repeat(59) + "\uD83D\uDE00".repeat(22)));
    }

    @Test
    void describeAndQuoteShareOneRule() {
        assertEquals("'x' (U+0078)", CharVocabulary.describe('x'));
        assertEquals("(U+000D)", CharVocabulary.describe('\r'));
        // format characters were described with the character itself, which does not show (or reverses the line)
        assertEquals("(U+200B)", CharVocabulary.describe(0x200B));
        assertEquals("(U+202E)", CharVocabulary.describe(0x202E));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CharVocabulary.of("ab\r").encode("a\rz"));
        assertEquals("character 'z' (U+007A) at position 2 of \"a\\rz\" is not in the vocabulary of 3 characters",
                e.getMessage());
        assertTrue(e.getMessage().chars().allMatch(c -> c >= ' ' && c < 0x7F), e.getMessage());
    }

    /**
     * Text from a file shown inside a longer message: what does not print escaped, everything else (a backslash
     * included) as it is, and nothing cut. A description edited to task=ESC[31mRED reached the terminal raw, and
     * hidden=256 CR 9 overprinted the line.
     */
    @Test
    void printableEscapesWhatDoesNotPrintAndKeepsTheRest() {
        assertEquals("plain C:\\path ünïcode", DataFileException.printable("plain C:\\path ünïcode"));
        assertEquals("\\u{001B}[31mRED\\u{001B}[0m 256\\r9 a\\nb", DataFileException.printable(
                "\u001b[31mRED\u001b[0m 256\r9 a\nb"));
        String longText = "x".repeat(500) + "\u0007";
        assertEquals("x".repeat(500) + "\\u{0007}", DataFileException.printable(longText), "nothing cut");
        var p = new java.util.Properties();
        p.setProperty("task", "\u001b[31mRED");
        var e = assertThrows(org.seq4j.train.CheckpointException.class,
                () -> org.seq4j.train.ModelSpec.load(p, java.nio.file.Path.of("model.npz")));
        assertEquals("model.npz: its model.properties has task=\"\\u{001B}[31mRED\"; expected addition, date, waves "
                + "or lm", e.getMessage());
    }
}
