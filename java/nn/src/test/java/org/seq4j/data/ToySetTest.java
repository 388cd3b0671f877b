// The addition and date generators: the book's line format, determinism, correct answers, and
// distributions close to the book's files (figures measured on those files with python, stated below).
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToySetTest {
    @TempDir
    Path dir;

    private static final int LINES = ToySet.DEFAULT_LINES;

    /**
     * Counts out of 50,000 must be within 500 of the book's. The binomial standard deviation at these
     * sizes is at most about 112, so 500 is ~4.5 sd; a generator drawing differently (say operands uniform
     * over 0..999, or one date format in three) is off by thousands.
     */
    private static void assertClose(Map<String, Integer> book, Map<String, Integer> ours, String what) {
        for (var e : book.entrySet()) {
            int got = ours.getOrDefault(e.getKey(), 0);
            assertTrue(Math.abs(got - e.getValue()) <= 500, what + " '" + e.getKey() + "': book " + e.getValue()
                    + ", ours " + got + " (all: book " + book + ", ours " + ours + ")");
        }
    }

    static Map<String, Integer> additionDigitCounts(List<String> lines) {
        Map<String, Integer> m = new TreeMap<>();
        for (String line : lines) {
            String[] ab = line.substring(0, 7).strip().split("\\+");
            m.merge("a" + ab[0].length(), 1, Integer::sum);
            m.merge("b" + ab[1].length(), 1, Integer::sum);
            m.merge("sum" + line.substring(8).strip().length(), 1, Integer::sum);
        }
        return m;
    }

    // the book's addition.txt, counted with python: digits of a, of b, and of the answer
    static final Map<String, Integer> BOOK_ADDITION = Map.of(
            "a1", 4862, "a2", 16249, "a3", 28889,
            "b1", 4872, "b2", 16376, "b3", 28752,
            "sum1", 30, "sum2", 2478, "sum3", 38415, "sum4", 9077);
    // ours, 50,000 lines with seed 1984: a1 4,895 a2 16,434 a3 28,671; b1 4,852 b2 16,331 b3 28,817;
    // sum1 30 sum2 2,484 sum3 38,483 sum4 9,003 (largest gap: a3, 218 below the book)

    @Test
    void additionLinesMatchTheBookFormatAndDistribution() {
        List<String> lines = ToySet.ADDITION.generate(LINES, 1984);
        assertEquals(LINES, lines.size());
        Set<Integer> pairs = new HashSet<>();
        for (String line : lines) {
            assertEquals(12, line.length(), "line \"" + line + "\"");
            assertEquals('_', line.charAt(7), "line \"" + line + "\"");
            String[] ab = line.substring(0, 7).strip().split("\\+");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            assertEquals(Integer.toString(a), ab[0], "no leading zeros: " + line);
            assertEquals(a + b, Integer.parseInt(line.substring(8).strip()), "answer of \"" + line + "\"");
            assertEquals(line.substring(0, 7).strip(), line.substring(0, 7).stripTrailing(), "left-aligned");
            assertTrue(pairs.add(Math.min(a, b) * 1000 + Math.max(a, b)), "unordered pair repeated: " + line);
        }
        assertClose(BOOK_ADDITION, additionDigitCounts(lines), "addition digit counts");
        // every pair of single digits is drawn, as in the book's file (55 = 10 * 11 / 2 unordered pairs)
        long singleDigitPairs = lines.stream().filter(l -> l.substring(0, 7).strip().length() == 3).count();
        assertEquals(55, singleDigitPairs);
    }

    // the book's date.txt, counted with python: the pattern of each question and the case of its first word
    static final Map<String, Integer> BOOK_DATE = Map.of(
            "MMMM-or-MMM", 25_232, "EEEE", 12_334, "M/d/yy", 12_434,
            "Title", 18_865, "lower", 9_474, "UPPER", 9_227);
    // ours, 50,000 lines with seed 1984: MMMM-or-MMM 25,049 EEEE 12,418 M/d/yy 12,533; Title 18,887
    // lower 9,214 UPPER 9,366 (largest gap: lower, 260 below the book)

    static Map<String, Integer> dateCounts(List<String> lines) {
        Map<String, Integer> m = new TreeMap<>();
        for (String line : lines) {
            String q = line.substring(0, 29).strip();
            String family = q.contains("/") ? "M/d/yy" : q.contains(", ") && q.indexOf(',') < q.lastIndexOf(',')
                    ? "EEEE" : "MMMM-or-MMM";
            m.merge(family, 1, Integer::sum);
            if (!family.equals("M/d/yy")) {
                String word = q.split("[ ,]")[0];
                String c = word.equals(word.toUpperCase()) ? "UPPER" : word.equals(word.toLowerCase()) ? "lower" : "Title";
                m.merge(c, 1, Integer::sum);
            }
        }
        return m;
    }

    @Test
    void dateLinesMatchTheBookFormatAndDistribution() {
        List<String> lines = ToySet.DATE.generate(LINES, 1984);
        assertEquals(LINES, lines.size());
        LocalDate min = LocalDate.MAX;
        LocalDate max = LocalDate.MIN;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            assertEquals(40, line.length(), "line \"" + line + "\"");
            assertEquals('_', line.charAt(29), "line \"" + line + "\"");
            LocalDate date = LocalDate.parse(line.substring(30));
            min = date.isBefore(min) ? date : min;
            max = date.isAfter(max) ? date : max;
            if (i >= 5_000) {
                continue; // rendering 12 ways per line is the slow part: the first 5,000 lines show it
            }
            // the question is one of the four patterns, in one of the three cases, of the answer's date
            String q = line.substring(0, 29).stripTrailing();
            boolean found = false;
            for (DateSet.Format f : DateSet.Format.values()) {
                for (DateSet.Case c : DateSet.Case.values()) {
                    found |= c.apply(f.formatter.format(date)).equals(q);
                }
            }
            assertTrue(found, "question \"" + q + "\" is not a known rendering of " + date);
        }
        assertTrue(!min.isBefore(DateSet.FIRST) && !max.isAfter(DateSet.LAST), "dates in range: " + min + ".." + max);
        assertEquals(1970, min.getYear());
        assertEquals(2017, max.getYear());
        assertClose(BOOK_DATE, dateCounts(lines), "date pattern and case counts");
    }

    @Test
    void dateFormatsRenderAsInTheBook() {
        LocalDate d = LocalDate.of(1997, 2, 26);
        assertEquals("Wednesday, February 26, 1997", DateSet.Format.WEEKDAY.formatter.format(d));
        assertEquals("February 26, 1997", DateSet.Format.LONG.formatter.format(d));
        assertEquals("Feb 26, 1997", DateSet.Format.SHORT.formatter.format(d));
        assertEquals("2/26/97", DateSet.Format.NUMERIC.formatter.format(d));
        assertEquals("Sep 7, 2003", DateSet.Format.SHORT.formatter.format(LocalDate.of(2003, 9, 7)));
        assertEquals("1/1/70", DateSet.Format.NUMERIC.formatter.format(LocalDate.of(1970, 1, 1)));
    }

    /** write(null) drew every line, then failed with a bare "Cannot invoke Path.toAbsolutePath()" from inside. */
    @Test
    void writeNamesANullFile() {
        assertEquals("ToySet.ADDITION.write: file is null",
                assertThrows(NullPointerException.class, () -> ToySet.ADDITION.write(null, 5, 1)).getMessage());
        assertEquals("ToySet.DATE.write: file is null",
                assertThrows(NullPointerException.class, () -> ToySet.DATE.write(null, 1)).getMessage());
    }

    @Test
    void generatedSetsLoadWithTheBooksVocabularies() throws IOException {
        Path add = dir.resolve("addition.txt");
        ToySet.ADDITION.write(add, LINES, 1984);
        SequenceDataset a = SequenceLoader.load(add);
        assertEquals(13, a.vocabulary().size(), a.vocabulary().toString());
        assertEquals(45_000, a.train().size());
        assertEquals(5_000, a.test().size());
        assertEquals(7, a.train().questionLength());
        assertEquals(5, a.train().answerLength());

        Path date = dir.resolve("date.txt");
        ToySet.DATE.write(date, LINES, 1984);
        SequenceDataset d = SequenceLoader.load(date);
        // the same 59 characters as the book's date.txt vocabulary (its first-seen order differs)
        assertEquals(sorted("septmbr 27,194_-0Aug38/TUESDYPMBR5JN6ailOcoGFynCWdILjHvhVfw"),
                sorted(d.vocabulary().chars()));
        assertEquals(29, d.train().questionLength());
        assertEquals(11, d.train().answerLength());
    }

    private static String sorted(String s) {
        TreeSet<Integer> set = new TreeSet<>();
        s.codePoints().forEach(set::add);
        StringBuilder sb = new StringBuilder();
        set.forEach(sb::appendCodePoint);
        return sb.toString();
    }

    @Test
    void writeProducesTheGeneratedLinesAndSeedsAreDeterministic() throws IOException {
        Path file = dir.resolve("small.txt");
        ToySet.ADDITION.write(file, 100, 7);
        List<String> lines = ToySet.ADDITION.generate(100, 7);
        assertEquals(String.join("\n", lines) + "\n", Files.readString(file, StandardCharsets.UTF_8));
        assertEquals(lines, ToySet.ADDITION.generate(100, 7));
        assertNotEquals(lines, ToySet.ADDITION.generate(100, 8));
        assertEquals(ToySet.DATE.generate(50, 3), ToySet.DATE.generate(50, 3));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "no temporary file left");
        }
    }

    @Test
    void badLineCounts() {
        assertThrows(IllegalArgumentException.class, () -> ToySet.ADDITION.generate(0, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ToySet.ADDITION.generate(AdditionSet.MAX_LINES + 1, 1));
        assertTrue(e.getMessage().contains("500500"), e.getMessage());
        // more date lines than the heap holds: an OutOfMemoryError ("Requested array size exceeds VM limit") before
        for (int count : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - 8}) {
            e = assertThrows(IllegalArgumentException.class, () -> ToySet.DATE.generate(count, 1));
            assertTrue(e.getMessage().startsWith("ToySet.DATE.generate: " + count + " lines of 40 characters need about ")
                    && e.getMessage().contains("bytes of Java heap"), e.getMessage());
        }
    }
}
