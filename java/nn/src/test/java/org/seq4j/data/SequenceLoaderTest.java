// SequenceLoader and CharVocabulary on small files written here: the book's semantics (first-seen
// vocabulary, numpy-identical shuffle, 10% test split, reversal) and a clear DataFileException, naming
// file and line, for each kind of bad input.
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SequenceLoaderTest {
    @TempDir
    Path dir;

    // ten lines of the addition format, in file order
    private static final List<String> TEN = List.of(
            "16+75  _91  ", "52+607 _659 ", "75+22  _97  ", "63+22  _85  ", "795+3  _798 ",
            "706+796_1502", "8+4    _12  ", "84+317 _401 ", "9+3    _12  ", "6+5    _11  ");

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }

    private Path writeLines(String name, List<String> lines) throws IOException {
        return write(name, String.join("\n", lines) + "\n");
    }

    private static String text(CharVocabulary v, int[] ids) {
        return v.decode(ids);
    }

    /**
     * slice outside [0, size] is refused by its bounds, naming the call (\"1 > 0\", null rows refused later as \"no
     * array\", then the JDK's \"Range [1, 0) out of bounds for length 1\").
     */
    @Test
    void aSliceOutsideThePairsIsRefusedByItsBounds() {
        SequencePairs one = new SequencePairs(new int[][] {{1, 2}}, new int[][] {{0, 3}});
        assertEquals(1, one.slice(0, 1).size());
        assertEquals(0, one.slice(1, 1).size());
        for (int[] bad : new int[][] {{0, 5}, {1, 0}, {-1, 1}}) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> one.slice(bad[0], bad[1]));
            assertEquals("SequencePairs.slice: rows [" + bad[0] + ", " + bad[1] + ") are not inside the 1 pairs; "
                    + "expected 0 <= from <= to <= 1", e.getMessage());
        }
    }

    /** A null x, t or row array was a bare NullPointerException from inside (\"Cannot read the array length\"). */
    @Test
    void pairsNameANullArgumentOrRow() {
        assertEquals("SequencePairs: x is null", assertThrows(NullPointerException.class,
                () -> new SequencePairs(null, new int[0][])).getMessage());
        assertEquals("SequencePairs: t is null", assertThrows(NullPointerException.class,
                () -> new SequencePairs(new int[0][], null)).getMessage());
        assertEquals("SequencePairs.flatten: rows is null", assertThrows(NullPointerException.class,
                () -> SequencePairs.flatten(null)).getMessage());
        for (int[][] rows : new int[][][] {{null}, {{1}, null}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SequencePairs.flatten(rows));
            assertEquals("SequencePairs.flatten: row " + (rows.length - 1) + " of " + rows.length
                    + " is null; expected rows of equal length", e.getMessage());
        }
    }

    @Test
    void optionsRefuseASeedNumpyRefusesWhenMade() {
        // accepted, and refused only by the load that shuffled, naming NumpyRandom
        for (long bad : new long[] {-1, 1L << 32}) {
            var e = assertThrows(IllegalArgumentException.class, () -> SequenceLoader.Options.book().withSeed(bad));
            assertEquals("SequenceLoader.Options: seed must be between 0 and 2^32 - 1, as numpy requires; got " + bad,
                    e.getMessage());
        }
        assertEquals(0xFFFFFFFFL, SequenceLoader.Options.book().withSeed(0xFFFFFFFFL).seed());
    }

    @Test
    void vocabularyIsFirstSeenOverQuestionThenAnswer() throws IOException {
        SequenceDataset d = SequenceLoader.load(writeLines("add.txt", TEN));
        // line 1 "16+75  " then "_91  ", then line 2 adds '2', '6', '0', and so on
        assertEquals("16+75 _920384", d.vocabulary().chars());
        assertEquals(0, d.vocabulary().idOf('1'));
        assertEquals(5, d.vocabulary().idOf(' '));
        assertEquals(6, d.vocabulary().idOf('_'));
    }

    @Test
    void shuffleAndSplitFollowNumpy() throws IOException {
        SequenceDataset d = SequenceLoader.load(writeLines("add.txt", TEN));
        // idx = np.arange(10); np.random.seed(1984); np.random.shuffle(idx) -> [9 7 4 1 5 2 0 6 8 3];
        // split_at = 10 - 10 // 10 = 9
        int[] order = {9, 7, 4, 1, 5, 2, 0, 6, 8, 3};
        assertEquals(9, d.train().size());
        assertEquals(1, d.test().size());
        for (int i = 0; i < 10; i++) {
            SequencePairs part = i < 9 ? d.train() : d.test();
            int row = i < 9 ? i : i - 9;
            String line = TEN.get(order[i]);
            assertEquals(line.substring(0, 7), text(d.vocabulary(), part.x()[row]), "question of shuffled row " + i);
            assertEquals(line.substring(7), text(d.vocabulary(), part.t()[row]), "answer of shuffled row " + i);
        }
        assertEquals(7, d.train().questionLength());
        assertEquals(5, d.train().answerLength());
    }

    @Test
    void unshuffledKeepsFileOrderAndReversalReversesWholePaddedQuestion() throws IOException {
        Path file = writeLines("add.txt", TEN);
        SequenceDataset d = SequenceLoader.load(file, SequenceLoader.Options.book().unshuffled().withReversedQuestions());
        assertEquals("  57+61", text(d.vocabulary(), d.train().x()[0]));
        assertEquals("_91  ", text(d.vocabulary(), d.train().t()[0]), "answers are not reversed");
        assertEquals("    5+6", text(d.vocabulary(), d.test().x()[0]));
        SequenceDataset plain = SequenceLoader.load(file, SequenceLoader.Options.book().unshuffled());
        assertEquals("16+75  ", text(plain.vocabulary(), plain.train().x()[0]));
        assertArrayEquals(plain.train().flatT(), d.train().flatT());
    }

    @Test
    void otherSeedsGiveOtherOrders() throws IOException {
        Path file = writeLines("add.txt", TEN);
        SequenceDataset a = SequenceLoader.load(file, SequenceLoader.Options.book().withSeed(0));
        // np.random.seed(0); np.random.permutation(10)[0] == 2
        assertEquals(TEN.get(2).substring(0, 7), text(a.vocabulary(), a.train().x()[0]));
    }

    @Test
    void withSeedChangesTheSeedAlone() throws IOException {
        // it set shuffle to true: options made unshuffled loaded shuffled rows once given a seed, in either order
        Path file = writeLines("add.txt", TEN);
        SequenceLoader.Options o = SequenceLoader.Options.book().unshuffled().withSeed(0);
        assertFalse(o.shuffle());
        assertEquals(0, o.seed());
        SequenceDataset d = SequenceLoader.load(file, o);
        assertEquals(TEN.get(0).substring(0, 7), text(d.vocabulary(), d.train().x()[0]), "file order");
        assertTrue(SequenceLoader.Options.book().withSeed(0).shuffle());
    }

    /** Windows line ends, no final newline, and a UTF-8 byte order mark (which used to become the first question's first character). */
    @Test
    void crlfMissingFinalNewlineAndByteOrderMarkAreAccepted() throws IOException {
        Path crlf = write("crlf.txt", String.join("\r\n", TEN) + "\r\n");
        Path noEnd = write("noend.txt", String.join("\n", TEN));
        Path bom = write("bom.txt", "\uFEFF" + String.join("\n", TEN) + "\n");
        Path lf = writeLines("lf.txt", TEN);
        SequencePairs want = SequenceLoader.load(lf).train();
        assertEquals(SequenceLoader.load(lf).vocabulary().chars(), SequenceLoader.load(bom).vocabulary().chars());
        for (Path f : List.of(crlf, noEnd, bom)) {
            SequencePairs got = SequenceLoader.load(f).train();
            assertArrayEquals(want.flatX(), got.flatX(), f.toString());
            assertArrayEquals(want.flatT(), got.flatT(), f.toString());
        }
    }

    @Test
    void flatArraysAreRowMajor() throws IOException {
        SequencePairs p = SequenceLoader.load(writeLines("add.txt", TEN)).train();
        int[] flat = p.flatX();
        assertEquals(p.size() * 7, flat.length);
        for (int i = 0; i < p.size(); i++) {
            for (int j = 0; j < 7; j++) {
                assertEquals(p.x()[i][j], flat[i * 7 + j], "x[" + i + "][" + j + "]");
            }
        }
    }

    /**
     * Rows whose total is beyond an int: one row of 65,536 ids held 65,536 times costs 256 KiB, and 2^32 ids wrapped
     * to 0, so flatten allocated nothing and escaped with an ArrayIndexOutOfBoundsException from arraycopy.
     */
    @Test
    void flatteningMoreIdsThanAnArrayHoldsIsRefused() {
        int[][] rows = new int[1 << 16][];
        Arrays.fill(rows, new int[1 << 16]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SequencePairs.flatten(rows));
        assertEquals("65536 rows of 65536 ids are 4294967296 ids; at most 2147483639 fit a Java array", e.getMessage());
        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                () -> SequencePairs.flatten(new int[][] {{1, 2}, {3}}));
        assertEquals("row 1 has 1 ids, row 0 has 2", ragged.getMessage());
    }

    // ---- bad input -------------------------------------------------------------------------------------

    private static DataFileException assertBad(Path file, int line, String... fragments) {
        DataFileException e = assertThrows(DataFileException.class, () -> SequenceLoader.load(file));
        assertBad(e, file, line, fragments);
        return e;
    }

    private static void assertBad(DataFileException e, Path file, int line, String... fragments) {
        assertEquals(file, e.file());
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        if (line > 0) {
            assertTrue(e.getMessage().contains("line " + line), "names the line: " + e.getMessage());
        }
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should contain '" + f + "': " + e.getMessage());
        }
    }

    /**
     * A range that is no range of the ids threw a bare NegativeArraySizeException (reversed), then the JDK's "Range [2,
     * 1) out of bounds for length 3", which named no call.
     */
    @Test
    void decodeNamesARangeThatIsNoRangeOfTheIds() {
        CharVocabulary v = CharVocabulary.of("ab");
        assertEquals("ba", v.decode(new int[] {0, 1, 0}, 1, 3));
        assertEquals("", v.decode(new int[] {0, 1, 0}, 3, 3));
        for (int[] range : new int[][] {{2, 1}, {0, 4}, {-1, 1}}) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                    () -> v.decode(new int[] {0, 1, 0}, range[0], range[1]));
            assertEquals("CharVocabulary.decode: range [" + range[0] + ", " + range[1] + ") is not inside the 3 ids; "
                    + "expected 0 <= from <= to <= 3", e.getMessage());
        }
    }

    /** Each of CharVocabulary's calls names a null argument (bare "Cannot invoke String.codePoints()" from inside). */
    @Test
    void vocabularyCallsNameANullArgument() {
        CharVocabulary v = CharVocabulary.of("ab");
        List<java.util.Map.Entry<String, org.junit.jupiter.api.function.Executable>> calls = List.of(
                java.util.Map.entry("CharVocabulary.of: chars is null", () -> CharVocabulary.of(null)),
                java.util.Map.entry("CharVocabulary.encode: text is null", () -> v.encode(null)),
                java.util.Map.entry("CharVocabulary.decode: ids is null", () -> v.decode(null)),
                java.util.Map.entry("CharVocabulary.decode: ids is null", () -> v.decode(null, 0, 0)),
                java.util.Map.entry("CharVocabulary.Builder.add: text is null", () -> CharVocabulary.builder().add(null)));
        for (var call : calls) {
            assertEquals(call.getKey(), assertThrows(NullPointerException.class, call.getValue()).getMessage());
        }
    }

    /**
     * The loader's calls name a null argument: load(file, null) read the file and then failed with a bare "Cannot invoke
     * Options.vocabulary()", encode(file, null) with "Cannot invoke CharVocabulary.idOf(int)", and a null file named
     * RegularFile.refusal, a call of the loader's insides.
     */
    @Test
    void loaderCallsNameANullArgument() throws IOException {
        Path file = writeLines("add.txt", TEN);
        List<java.util.Map.Entry<String, org.junit.jupiter.api.function.Executable>> calls = List.of(
                java.util.Map.entry("SequenceLoader.load: file is null", () -> SequenceLoader.load(null)),
                java.util.Map.entry("SequenceLoader.load: options is null", () -> SequenceLoader.load(file, null)),
                java.util.Map.entry("SequenceLoader.encode: file is null",
                        () -> SequenceLoader.encode(null, CharVocabulary.of("1"))),
                java.util.Map.entry("SequenceLoader.encode: vocabulary is null", () -> SequenceLoader.encode(file, null)),
                java.util.Map.entry("SequenceLoader.readLines: file is null", () -> SequenceLoader.readLines(null)));
        for (var call : calls) {
            assertEquals(call.getKey(), assertThrows(NullPointerException.class, call.getValue()).getMessage());
        }
    }

    @Test
    void emptyFile() throws IOException {
        assertBad(write("empty.txt", ""), 0, "empty");
        // only a byte order mark: it loaded as a data set of no questions and a vocabulary of none
        assertBad(write("bom.txt", "\uFEFF"), 0, "empty (or holds only a byte order mark)");
    }

    @Test
    void lineWithoutUnderscore() throws IOException {
        List<String> lines = new ArrayList<>(TEN);
        lines.set(3, "63+22   85  ");
        assertBad(writeLines("nounder.txt", lines), 4, "no '_'");
        // said "no '_' between question and answer in \"\"": a blank line is named as one
        assertBad(write("blank.txt", TEN.get(0) + "\n\n" + TEN.get(1) + "\n"), 2, "an empty line; expected lines like");
    }

    @Test
    void raggedQuestionsAndAnswers() throws IOException {
        List<String> q = new ArrayList<>(TEN);
        q.set(5, "706+796 _1502");
        assertBad(writeLines("ragq.txt", q), 6, "question", "8 characters", "7");
        List<String> a = new ArrayList<>(TEN);
        a.set(7, "84+317 _401");
        assertBad(writeLines("raga.txt", a), 8, "answer", "4 characters", "5");
    }

    /**
     * Old Mac line ends (a carriage return alone): before, the whole file was one line, so the loader returned one
     * pair with a 2,600-character answer and '\r' as a vocabulary character (and the command line blamed the batch
     * size). A carriage return inside a line, or last in the file, is refused the same way.
     */
    @Test
    void aCarriageReturnNotBeforeALineFeedIsRefused() throws IOException {
        String expected = " not followed by a line feed (old Mac line ends?); expected \\n or \\r\\n line ends";
        Path mac = write("mac.txt", (TEN.get(0) + "\r").repeat(200));
        DataFileException e = assertBad(mac, 1);
        assertEquals(mac + ", line 1: a carriage return at column 13" + expected, e.getMessage());
        e = assertBad(write("inside.txt", TEN.get(0) + "\n16+75\r _91  \n"), 2);
        assertEquals(dir.resolve("inside.txt") + ", line 2: a carriage return at column 6" + expected, e.getMessage());
        assertBad(write("last.txt", String.join("\n", TEN) + "\r"), 10, "column 13" + expected);
        // the columns count characters, not bytes or UTF-16 units
        assertBad(write("wide.txt", "\u00e9\uD83D\uDE00+1\r_2\n"), 1, "column 5" + expected);
    }

    /**
     * NUL bytes: before, '\0' was a vocabulary character, so UTF-16 without a byte order mark (every other byte NUL)
     * loaded. UTF-16 with its mark stays bad UTF-8 (0xFF first); of a NUL and bad UTF-8 the first is named.
     */
    @Test
    void aNulByteIsRefused() throws IOException {
        String expected = " (UTF-16 or a binary file?); expected UTF-8 text";
        Path nul = write("nul.txt", TEN.get(0) + "\n16+75\0 _91  \n");
        assertEquals(nul + ", line 2: a NUL byte at column 6" + expected, assertBad(nul, 2).getMessage());
        String text = String.join("\n", TEN) + "\n";
        Path le = dir.resolve("utf16le.txt");
        Files.write(le, text.getBytes(StandardCharsets.UTF_16LE));
        assertEquals(le + ", line 1: a NUL byte at column 2" + expected, assertBad(le, 1).getMessage());
        Path be = dir.resolve("utf16be.txt");
        Files.write(be, text.getBytes(StandardCharsets.UTF_16BE));
        assertBad(be, 1, "a NUL byte at column 1" + expected);
        Path marked = dir.resolve("utf16.txt");
        Files.write(marked, ("\uFEFF" + text).getBytes(StandardCharsets.UTF_16LE));
        assertBad(marked, 1, "not valid UTF-8: byte 0xFF at byte 1 of the line");
        // after other characters (columns count characters), and before or after bad UTF-8
        assertBad(write("wide.txt", "\u00e9\uD83D\uDE00+1\0_2\n"), 1, "a NUL byte at column 5" + expected);
        Path nulFirst = dir.resolve("nulfirst.txt");
        Files.write(nulFirst, new byte[] {(byte) 0xC3, (byte) 0xA9, 0, (byte) 0xFF, '_', '\n'});
        assertBad(nulFirst, 1, "a NUL byte at column 2" + expected);
        Path badFirst = dir.resolve("badfirst.txt");
        Files.write(badFirst, new byte[] {'1', (byte) 0xFF, 0, '_', '\n'});
        assertBad(badFirst, 1, "not valid UTF-8: byte 0xFF at byte 2 of the line");
    }

    @Test
    void nonUtf8Bytes() throws IOException {
        Path file = dir.resolve("latin1.txt");
        byte[] good = (TEN.get(0) + "\n" + TEN.get(1) + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] bad = "caf\u00e9+1 _1   \n".getBytes(StandardCharsets.ISO_8859_1); // 0xE9 alone is not UTF-8
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Files.write(file, all);
        assertBad(file, 3, "not valid UTF-8", "0xE9", "byte 4");
    }

    @Test
    void charactersOutsideAGivenVocabulary() throws IOException {
        Path train = writeLines("train.txt", TEN);
        CharVocabulary v = SequenceLoader.load(train).vocabulary();
        Path test = writeLines("test.txt", List.of("16+75  _91  ", "5-3    _2   "));
        DataFileException e = assertThrows(DataFileException.class, () -> SequenceLoader.encode(test, v));
        assertBad(e, test, 2, "'-'", "column 2", "not in the vocabulary");
        DataFileException e2 = assertThrows(DataFileException.class,
                () -> SequenceLoader.load(test, SequenceLoader.Options.book().withVocabulary(v)));
        assertBad(e2, test, 2, "'-'");
        // the same file with only known characters encodes in file order with the given ids
        SequencePairs ok = SequenceLoader.encode(writeLines("ok.txt", List.of("9+3    _12  ")), v);
        assertEquals("9+3    ", v.decode(ok.x()[0]));
        assertArrayEquals(v.encode("_12  "), ok.t()[0]);
    }

    // ---- CharVocabulary --------------------------------------------------------------------------------

    @Test
    void aHugeBadLineIsQuotedInAtMostAboutEightyCharacters() throws IOException {
        // a 200 MB line without '_' once put 200 MB on stderr; here 1 MB, and the message stays short
        Path huge = write("huge.txt", TEN.get(0) + "\n" + "7".repeat(1_000_000) + "\n");
        DataFileException e = assertThrows(DataFileException.class, () -> SequenceLoader.load(huge));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("no '_'") && e.getMessage().contains("1000000 characters")
                && e.getMessage().length() < huge.toString().length() + 200, e.getMessage());
        // the same for a question or an answer of the wrong length
        Path longQuestion = write("longq.txt", TEN.get(0) + "\n" + "8".repeat(5_000) + "_1  \n");
        e = assertThrows(DataFileException.class, () -> SequenceLoader.load(longQuestion));
        assertTrue(e.getMessage().contains("5000 characters") && e.getMessage().length() < longQuestion.toString().length()
                + 250, e.getMessage());
        IllegalArgumentException v = assertThrows(IllegalArgumentException.class,
                () -> CharVocabulary.of("ab").encode("a".repeat(10_000) + "z"));
        assertTrue(v.getMessage().length() < 250, v.getMessage());
    }

    @Test
    void aFolderIsNamed() {
        // Files.readAllBytes of a folder says only "Is a directory"
        DataFileException e = assertThrows(DataFileException.class, () -> SequenceLoader.load(dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("folder"), e.getMessage());
    }

    @Test
    void vocabularyEncodeDecodeAndErrors() {
        CharVocabulary v = CharVocabulary.builder().add("ab").add("cab").add("d").build();
        assertEquals("abcd", v.chars());
        assertArrayEquals(new int[] {3, 0, 2}, v.encode("dac"));
        assertEquals("dac", v.decode(new int[] {3, 0, 2}));
        assertEquals("ac", v.decode(new int[] {3, 0, 2}, 1, 3));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> v.encode("abz"));
        assertTrue(unknown.getMessage().contains("'z'") && unknown.getMessage().contains("position 2"),
                unknown.getMessage());
        IllegalArgumentException badId = assertThrows(IllegalArgumentException.class, () -> v.decode(new int[] {4}));
        assertTrue(badId.getMessage().contains("id 4"), badId.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CharVocabulary.of("abca"));
        assertEquals(v, CharVocabulary.of("abcd"));
        assertEquals(-1, v.idOf('z'));
    }
}
