// A seeded mutation fuzzer for the data files seq4j reads: SequenceLoader (addition.txt, date.txt), WordCorpus (a
// ptb.train.txt-like text, with and without a fixed vocabulary) and WordVocabulary (a vocabulary.txt). Valid files from
// the library's own generators are mutated byte- and character-wise (bad UTF-8, byte order marks, CR line ends,
// NULs, tabs, megabyte lines, empty lines, missing or extra '_', lines of another width, other scripts' digits and
// spaces, characters outside the BMP, more distinct characters and words than the generators use, ...), and every
// file is read by every reader. Each outcome is checked against a model of the format written here from its
// documentation, not from the readers: a read must give back exactly the text of the file (ids decode to it, every id
// in the vocabulary, the batches hold the same rows), and a refusal must be one DataFileException (or the
// NoSuchFileException of a missing file) that names the file, the first bad line and, where there is one, the column.
// Any other throwable, a hang, or a message that is not one short line is a finding; all findings are collected and
// listed. -Dseq4j.fuzz.mutations=N (cases) and -Dseq4j.fuzz.seed=S widen or move the run.
package org.seq4j.data;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;
import org.seq4j.train.Batches;

class DataFileFuzzTest {
    private static final long SEED = Long.getLong("seq4j.fuzz.seed", 144);
    private static final int CASES = Integer.getInteger("seq4j.fuzz.mutations", 500);
    /** Far above any case's time (the megabyte ones take tens of milliseconds a read): only a hang gets there. */
    private static final Duration HANG = Duration.ofSeconds(20);
    /** A message is one line, the quoted text cut to about 80 characters: a few hundred at most, whatever the file. */
    private static final int MESSAGE_MAX = 600;
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    /** Characters that a reader might take for something else: spaces, digits and low lines of other scripts. */
    private static final String[] ODD = {"\t", "\u000B", "\u000C", "\u001C", "\u001B", "\u007F", "\u0085", "\u00A0",
        "\u00E9", "\u1680", "\u2003", "\u200B", "\u2028", "\u2029", "\u202E", "\u202F", "\u3000", "\uFEFF", "\u0301",
        "\uFFFD", "\uFFFF", "\u0663", "\u06F3", "\u0969", "\uFF13", "\uFF3F", "\uD83D\uDE00", "\uD835\uDFD8",
        "\uDBFF\uDFFF", "\uD840\uDC00", "_", " ", "\r", "\u0000", "<unk>", "<eos>"};
    /** Bytes that are not UTF-8: a lone continuation, overlong forms, a surrogate, past U+10FFFF, cut short. */
    private static final byte[][] NOT_UTF8 = {{(byte) 0x80}, {(byte) 0xFF}, {(byte) 0xFE}, {(byte) 0xC0, (byte) 0x80},
        {(byte) 0xC1, (byte) 0xBF}, {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        {(byte) 0xED, (byte) 0xB0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xE2, (byte) 0x82},
        {(byte) 0xF0, (byte) 0x9F, (byte) 0x98}, {(byte) 0xC3}};

    @TempDir
    Path dir;

    private final Backend backend = TestBackends.reference();
    /** Finding key (reader, what) -> its count and first example. */
    private final Map<String, int[]> counts = new LinkedHashMap<>();
    private final Map<String, String> examples = new LinkedHashMap<>();
    private final Map<String, int[]> outcomes = new HashMap<>();
    private volatile String reading = "";
    private String caseName = "";
    private byte[] caseBytes = new byte[0];

    /** What the format says of a file: its lines' texts, or the refusal of its first bad line. */
    private record Expect(int line, String... fragments) {
    }

    private record RawLine(byte[] bytes, int number, boolean newlineFollows) {
    }

    @Test
    void mutatedDataFilesReadBackWholeOrAreRefusedByFileAndLine() throws Exception {
        long started = System.nanoTime();
        SplittableRandom root = new SplittableRandom(SEED);
        List<String> baseWords = TinyCorpus.sentences(300, 7).stream().flatMap(s -> WordCorpus.words(s).stream())
                .distinct().toList();
        List<String> withEos = new ArrayList<>(baseWords);
        withEos.add(WordVocabulary.EOS);
        WordVocabulary wordsWithUnk = WordVocabulary.of(withEos);
        WordVocabulary wordsWithoutUnk = WordVocabulary.of(withEos.stream().filter(w -> !w.equals(WordVocabulary.UNK))
                .toList());
        // the addition set's characters, fixed: SequenceLoader.encode reads every other character as unknown
        CharVocabulary chars = CharVocabulary.of("0123456789+ _");
        long bytesRead = 0;
        long slowest = 0;
        int slowestCase = -1;
        for (int i = 0; i < CASES; i++) {
            long caseSeed = root.nextLong();
            SplittableRandom r = new SplittableRandom(caseSeed);
            List<String> steps = new ArrayList<>();
            byte[] bytes = mutatedFile(r, steps);
            Path file = dir.resolve("case " + i + (r.nextInt(4) == 0 ? " \u00E9\uD83D\uDE00" : "") + ".txt");
            Files.write(file, bytes);
            caseName = "case " + i + " (seed " + caseSeed + "): " + String.join(", ", steps);
            caseBytes = bytes;
            bytesRead += bytes.length;
            long t0 = System.nanoTime();
            try {
                assertTimeoutPreemptively(HANG, () -> readAll(file, bytes, chars, wordsWithUnk, wordsWithoutUnk));
            } catch (AssertionFailedError e) {
                finding(reading, "hangs (no outcome in " + HANG.toSeconds() + " s)", e.getMessage());
            }
            if (System.nanoTime() - t0 > slowest) {
                slowest = System.nanoTime() - t0;
                slowestCase = i;
            }
            Files.delete(file);
        }
        fileLevelCases(wordsWithUnk);
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("DataFileFuzzTest: seed %d, %d cases (%.1f MB) through 8 readers in %.1f s (slowest: case "
                + "%d, %.1f s): %s; %d findings%n", SEED, CASES, bytesRead / 1e6, seconds, slowestCase, slowest / 1e9,
                outcomeSummary(), counts.size());
        if (!counts.isEmpty()) {
            StringBuilder sb = new StringBuilder(counts.size() + " findings (seed " + SEED + ", " + CASES + " cases):");
            counts.forEach((k, n) -> sb.append("\n- ").append(k).append(" (x").append(n[0]).append("): ")
                    .append(examples.get(k)));
            throw new AssertionFailedError(sb.toString());
        }
    }

    private String outcomeSummary() {
        StringBuilder sb = new StringBuilder();
        new java.util.TreeMap<>(outcomes).forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append(' ')
                .append(v[0]).append(" read / ").append(v[1]).append(" refused"));
        return sb.toString();
    }

    // ---- the files

    /** A valid file from a generator, then one to three mutations (or, now and then, a file that is almost nothing). */
    private static byte[] mutatedFile(SplittableRandom r, List<String> steps) {
        if (r.nextInt(25) == 0) {
            String[] tiny = {"", "\uFEFF", "\n", "\r\n", "\r", "\uFEFF\n", " ", "_", "\t\n", "a_b", "\n\n", " \n \n"};
            String t = tiny[r.nextInt(tiny.length)];
            steps.add("the whole file " + DataFileException.quote(t));
            return t.getBytes(StandardCharsets.UTF_8);
        }
        String text;
        switch (r.nextInt(4)) {
            case 0 -> {
                // now and then as many lines as the book's files
                int n = r.nextInt(200) == 0 ? 10_000 + r.nextInt(40_001) : 1 + r.nextInt(30);
                text = String.join("\n", ToySet.ADDITION.generate(n, r.nextLong())) + "\n";
                steps.add(n + " addition lines");
            }
            case 1 -> {
                int n = 1 + r.nextInt(30);
                text = String.join("\n", ToySet.DATE.generate(n, r.nextLong())) + "\n";
                steps.add(n + " date lines");
            }
            case 2 -> {
                int n = 1 + r.nextInt(30);
                text = TinyCorpus.text(n, r.nextLong());
                steps.add(n + " corpus sentences");
            }
            default -> {
                List<String> words = TinyCorpus.sentences(1 + r.nextInt(30), r.nextLong()).stream()
                        .flatMap(s -> WordCorpus.words(s).stream()).distinct().toList();
                text = String.join("\n", words) + "\n";
                steps.add("a vocabulary of " + words.size() + " words");
            }
        }
        int textMutations = r.nextInt(3);
        for (int m = 0; m < textMutations; m++) {
            text = mutateText(r, text, steps);
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        // a file changed in its text gets a byte changed one time in three: a good share stays valid, and is read
        int byteMutations = textMutations == 0 ? 1 + r.nextInt(2) : r.nextInt(3) == 0 ? 1 : 0;
        for (int m = 0; m < byteMutations; m++) {
            bytes = mutateBytes(r, bytes, steps);
        }
        return bytes;
    }

    private static String mutateText(SplittableRandom r, String text, List<String> steps) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1))); // the last is "" after a final \n
        int body = Math.max(1, lines.size() - (lines.get(lines.size() - 1).isEmpty() ? 1 : 0));
        int li = r.nextInt(body);
        String odd = ODD[r.nextInt(ODD.length)];
        int kind = r.nextInt(18);
        // a column of odd characters through every line (a file still valid) more often, megabyte lines less
        if (kind >= 15 || (kind == 8 || kind == 9) && r.nextInt(8) != 0) {
            kind = 0;
        }
        switch (kind) {
            case 0 -> { // the same column of every line: widths stay equal
                int column = r.nextInt(Math.max(1, cps(lines.get(0))));
                for (int i = 0; i < body; i++) {
                    lines.set(i, replaceAt(lines.get(i), column, odd));
                }
                steps.add("column " + (column + 1) + " of every line -> " + show(odd));
            }
            case 1 -> {
                int column = r.nextInt(Math.max(1, cps(lines.get(li))));
                lines.set(li, replaceAt(lines.get(li), column, odd));
                steps.add("line " + (li + 1) + " column " + (column + 1) + " -> " + show(odd));
            }
            case 2 -> {
                int column = r.nextInt(cps(lines.get(li)) + 1);
                lines.set(li, insertAt(lines.get(li), column, odd));
                steps.add("line " + (li + 1) + ": " + show(odd) + " inserted at column " + (column + 1));
            }
            case 3 -> {
                if (cps(lines.get(li)) > 0) {
                    int column = r.nextInt(cps(lines.get(li)));
                    lines.set(li, replaceAt(lines.get(li), column, ""));
                    steps.add("line " + (li + 1) + ": column " + (column + 1) + " deleted");
                }
            }
            case 4 -> {
                lines.set(li, lines.get(li).replaceFirst("_", ""));
                steps.add("line " + (li + 1) + ": its first '_' deleted");
            }
            case 5 -> {
                lines.add(li + r.nextInt(2), "");
                steps.add("an empty line at line " + (li + 1));
            }
            case 6 -> {
                if (lines.get(lines.size() - 1).isEmpty()) {
                    lines.remove(lines.size() - 1);
                    steps.add("no final line end");
                } else {
                    lines.add("");
                    steps.add("a final line end");
                }
            }
            case 7 -> {
                lines.add(li, lines.get(li));
                steps.add("line " + (li + 1) + " twice");
            }
            case 8 -> { // every line as long: a valid file of megabyte lines
                int width = 50_000 + r.nextInt(1_000_000);
                int n = 1 + r.nextInt(2);
                String fill = r.nextBoolean() ? "7" : odd.equals("\r") || odd.equals("\u0000") ? "x" : odd;
                String q = fill.repeat(width / Math.max(1, fill.length()));
                for (int i = 0; i < body && i < n; i++) {
                    lines.set(i, q + "_" + i);
                }
                lines.subList(Math.min(n, body), body).clear();
                steps.add(Math.min(n, body) + " line(s) of " + width + " " + show(fill) + " characters");
            }
            case 9 -> {
                int width = 100_000 + r.nextInt(2_000_000);
                lines.set(li, r.nextBoolean() ? "a".repeat(width) : "ab ".repeat(width / 3));
                steps.add("line " + (li + 1) + " of " + width + " characters");
            }
            case 10 -> { // many distinct characters and words, from and beyond the BMP, in lines of one width
                int n = 100 + r.nextInt(3000);
                int first = r.nextBoolean() ? 0x4E00 : 0x20000;
                for (int i = 0; i < n; i++) {
                    StringBuilder q = new StringBuilder();
                    for (int j = 0; j < 6; j++) {
                        q.appendCodePoint(first + i * 6 + j);
                    }
                    String line = q + "_" + (r.nextBoolean() ? "1" : "2");
                    lines.add(i, r.nextBoolean() ? line : q.toString());
                }
                lines.subList(n, n + body).clear();
                steps.add(n + " lines of distinct characters from U+" + Integer.toHexString(first).toUpperCase());
            }
            case 11 -> {
                lines.set(li, lines.get(li).replace(" ", r.nextBoolean() ? "\t" : odd));
                steps.add("line " + (li + 1) + ": its spaces -> " + show(odd));
            }
            case 12 -> {
                steps.add("CRLF line ends");
                return String.join("\r\n", lines);
            }
            case 13 -> {
                steps.add("lone CR line ends");
                return String.join("\r", lines);
            }
            default -> {
                int column = r.nextInt(cps(lines.get(li)) + 1);
                lines.set(li, insertAt(lines.get(li), column, "_"));
                steps.add("line " + (li + 1) + ": an extra '_' at column " + (column + 1));
            }
        }
        return String.join("\n", lines);
    }

    private static byte[] mutateBytes(SplittableRandom r, byte[] bytes, List<String> steps) {
        int at = r.nextInt(bytes.length + 1);
        switch (r.nextInt(9)) {
            case 0 -> {
                if (bytes.length > 0) {
                    int i = r.nextInt(bytes.length);
                    int bit = r.nextInt(8);
                    bytes = bytes.clone();
                    bytes[i] ^= (byte) (1 << bit);
                    steps.add("byte " + i + " bit " + bit + " flipped");
                }
            }
            case 1 -> {
                byte[] bad = NOT_UTF8[r.nextInt(NOT_UTF8.length)];
                bytes = insert(bytes, at, bad);
                steps.add("bytes " + hex(bad) + " at byte " + at);
            }
            case 2 -> {
                bytes = insert(bytes, at, new byte[] {0});
                steps.add("a NUL at byte " + at);
            }
            case 3 -> {
                int n = 1 + r.nextInt(2);
                for (int i = 0; i < n; i++) {
                    bytes = insert(bytes, 0, BOM);
                }
                steps.add(n + " byte order mark(s) first");
            }
            case 4 -> {
                bytes = Arrays.copyOf(bytes, at);
                steps.add("cut at byte " + at);
            }
            case 5 -> {
                boolean le = r.nextBoolean(), mark = r.nextBoolean();
                String text = (mark ? "\uFEFF" : "") + new String(bytes, StandardCharsets.UTF_8);
                bytes = text.getBytes(le ? StandardCharsets.UTF_16LE : StandardCharsets.UTF_16BE);
                steps.add("as UTF-16" + (le ? "LE" : "BE") + (mark ? " with its mark" : ""));
            }
            case 6 -> {
                byte[] noise = new byte[1 + r.nextInt(8)];
                for (int i = 0; i < noise.length; i++) {
                    noise[i] = (byte) r.nextInt(256);
                }
                bytes = insert(bytes, at, noise);
                steps.add("bytes " + hex(noise) + " at byte " + at);
            }
            case 7 -> {
                bytes = insert(bytes, at, new byte[] {'\r'});
                steps.add("a CR at byte " + at);
            }
            default -> {
                bytes = insert(bytes, bytes.length, new byte[] {'\r'});
                steps.add("a CR at the end");
            }
        }
        return bytes;
    }

    // ---- the model of the format: lines of strict UTF-8, \n or \r\n line ends, a UTF-8 byte order mark skipped

    private static List<RawLine> lines(byte[] bytes) {
        List<RawLine> out = new ArrayList<>();
        int start = startsWith(bytes, BOM) ? 3 : 0;
        for (int number = 1; start < bytes.length; number++) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            boolean lf = end < bytes.length;
            int to = lf && end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            out.add(new RawLine(Arrays.copyOfRange(bytes, start, to), number, lf));
            start = end + 1;
        }
        return out;
    }

    /** The text of a line, or the Expect of its refusal: bad UTF-8 or a NUL (the first of them), a lone CR. */
    private static Object text(RawLine line) {
        byte[] b = line.bytes();
        int bad = firstNotUtf8(b);
        int nul = 0;
        while (nul < b.length && b[nul] != 0) {
            nul++;
        }
        if (nul < b.length && (bad < 0 || nul < bad)) {
            return new Expect(line.number(), "a NUL byte at column " + (cps(utf8(b, nul)) + 1));
        }
        if (bad >= 0) {
            return new Expect(line.number(), "not valid UTF-8", String.format("byte 0x%02X at byte %d of the line",
                    b[bad] & 0xFF, bad + 1));
        }
        String text = utf8(b, b.length);
        int cr = text.indexOf('\r');
        if (cr >= 0) {
            return new Expect(line.number(), "a carriage return at column " + (cps(text.substring(0, cr)) + 1));
        }
        return text;
    }

    /** The first byte that starts no well-formed UTF-8 sequence (Unicode's table 3-7), or -1. */
    private static int firstNotUtf8(byte[] b) {
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xFF;
            int n;
            int lo = 0x80, hi = 0xBF; // the second byte's range
            if (c < 0x80) {
                n = 0;
            } else if (c >= 0xC2 && c <= 0xDF) {
                n = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                n = 2;
                lo = c == 0xE0 ? 0xA0 : 0x80;
                hi = c == 0xED ? 0x9F : 0xBF;
            } else if (c >= 0xF0 && c <= 0xF4) {
                n = 3;
                lo = c == 0xF0 ? 0x90 : 0x80;
                hi = c == 0xF4 ? 0x8F : 0xBF;
            } else {
                return i;
            }
            for (int k = 1; k <= n; k++) {
                int d = i + k < b.length ? b[i + k] & 0xFF : -1;
                if (k == 1 ? d < lo || d > hi : d < 0x80 || d > 0xBF) {
                    return i;
                }
            }
            i += n + 1;
        }
        return -1;
    }

    /** Python's str.isspace, listed: what str.split() splits on. */
    private static boolean pythonSpace(int c) {
        return c >= 0x09 && c <= 0x0D || c >= 0x1C && c <= 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || c >= 0x2000 && c <= 0x200A || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    private static List<String> pythonSplit(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (pythonSpace(c)) {
                if (!word.isEmpty()) {
                    out.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.appendCodePoint(c);
            }
        });
        if (!word.isEmpty()) {
            out.add(word.toString());
        }
        return out;
    }

    private static boolean holdsNothing(byte[] bytes) {
        return bytes.length == 0 || Arrays.equals(bytes, BOM);
    }

    /** The toy sequence format: {question, answer, line} of each line, or the Expect of the first bad one. */
    private static Object sequenceModel(byte[] bytes, CharVocabulary fixed) {
        if (holdsNothing(bytes)) {
            return new Expect(0, "the file is empty");
        }
        List<String[]> pairs = new ArrayList<>();
        int q0 = -1, a0 = -1;
        for (RawLine l : lines(bytes)) {
            Object t = text(l);
            if (t instanceof Expect e) {
                return e;
            }
            String s = (String) t;
            int us = s.indexOf('_');
            if (s.isEmpty()) {
                return new Expect(l.number(), "an empty line");
            }
            if (us < 0) {
                return new Expect(l.number(), "no '_' between question and answer");
            }
            if (us == 0) {
                return new Expect(l.number(), "the question before '_' is empty");
            }
            String q = s.substring(0, us), a = s.substring(us);
            if (q0 < 0) {
                q0 = cps(q);
                a0 = cps(a);
            } else if (cps(q) != q0) {
                return new Expect(l.number(), "has " + cps(q) + " characters but line 1's has " + q0,
                        "every question must be padded");
            } else if (cps(a) != a0) {
                return new Expect(l.number(), "has " + cps(a) + " characters but line 1's has " + a0,
                        "every answer must be padded");
            }
            pairs.add(new String[] {q, a, Integer.toString(l.number())});
        }
        if (fixed != null) {
            for (String[] p : pairs) {
                int[] line = (p[0] + p[1]).codePoints().toArray();
                for (int j = 0; j < line.length; j++) {
                    if (!fixed.contains(line[j])) {
                        return new Expect(Integer.parseInt(p[2]), "at column " + (j + 1) + " is not in the vocabulary");
                    }
                }
            }
        }
        return pairs;
    }

    /** The corpus: its words with "<eos>" after each line end (unknown words as <unk>), or the first bad line. */
    private static Object corpusModel(byte[] bytes, WordVocabulary fixed) {
        List<String> tokens = new ArrayList<>();
        int words = 0;
        for (RawLine l : lines(bytes)) {
            Object t = text(l);
            if (t instanceof Expect e) {
                return e;
            }
            List<String> line = new ArrayList<>(pythonSplit((String) t));
            words += line.size();
            if (l.newlineFollows()) {
                line.add(WordVocabulary.EOS);
            }
            for (String w : line) {
                if (fixed != null && !fixed.contains(w)) {
                    if (!fixed.contains(WordVocabulary.UNK)) {
                        return new Expect(l.number(), "is not in the vocabulary of " + fixed.size() + " words");
                    }
                    w = WordVocabulary.UNK;
                }
                tokens.add(w);
            }
        }
        if (words == 0) {
            return new Expect(0, "the file holds no words");
        }
        return tokens;
    }

    /** A vocabulary file: one word a line, or the first bad line. */
    private static Object vocabularyModel(byte[] bytes) {
        if (holdsNothing(bytes)) {
            return new Expect(0, "the file is empty");
        }
        List<String> words = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (RawLine l : lines(bytes)) {
            Object t = text(l);
            if (t instanceof Expect e) {
                return e;
            }
            String w = (String) t;
            if (w.isEmpty()) {
                return new Expect(l.number(), "an empty line");
            }
            if (w.codePoints().anyMatch(DataFileFuzzTest::pythonSpace)) {
                return new Expect(l.number(), "holds a space");
            }
            Integer first = seen.putIfAbsent(w, l.number());
            if (first != null) {
                return new Expect(l.number(), "is listed twice (line " + first + ")");
            }
            words.add(w);
        }
        return words;
    }

    // ---- the readers

    @FunctionalInterface
    private interface Read {
        Object read() throws Exception;
    }

    @FunctionalInterface
    private interface Check {
        void check(Object got) throws Exception;
    }

    private void readAll(Path file, byte[] bytes, CharVocabulary chars, WordVocabulary withUnk, WordVocabulary noUnk) {
        Object lines = sequenceModel(bytes, null);
        read("SequenceLoader.readLines", file, lines, () -> SequenceLoader.readLines(file), got -> {
            List<String> want = new ArrayList<>(), have = new ArrayList<>();
            for (Object p : (List<?>) lines) {
                want.add(String.join("|", (String[]) p));
            }
            for (Object o : (List<?>) got) {
                SequenceLoader.Line l = (SequenceLoader.Line) o;
                have.add(l.question() + "|" + l.answer() + "|" + l.number());
            }
            same("lines", want, have);
        });
        read("SequenceLoader.load(unshuffled)", file, lines,
                () -> SequenceLoader.load(file, SequenceLoader.Options.book().unshuffled()),
                got -> checkDataset((SequenceDataset) got, (List<?>) lines, false, false));
        read("SequenceLoader.load(book, reversed)", file, lines,
                () -> SequenceLoader.load(file, SequenceLoader.Options.book().withReversedQuestions()),
                got -> checkDataset((SequenceDataset) got, (List<?>) lines, true, true));
        read("SequenceLoader.encode(fixed vocabulary)", file, sequenceModel(bytes, chars),
                () -> SequenceLoader.encode(file, chars), got -> {
                    SequencePairs p = (SequencePairs) got;
                    List<String> want = new ArrayList<>();
                    for (Object l : (List<?>) lines) {
                        want.add(((String[]) l)[0] + "|" + ((String[]) l)[1]);
                    }
                    same("rows", want, rows(p, chars, false));
                });
        read("WordCorpus.load", file, corpusModel(bytes, null), () -> WordCorpus.load(file), got -> {
            WordCorpus c = (WordCorpus) got;
            List<?> want = (List<?>) corpusModel(bytes, null);
            checkCorpus(c, want);
            same("first-seen vocabulary", new ArrayList<>(new LinkedHashSet<>(want)), c.vocabulary().words());
            writtenAndReadAgain(c.vocabulary(), file); // as train writes vocabulary.txt, and eval and generate read it
        });
        for (WordVocabulary v : new WordVocabulary[] {withUnk, noUnk}) {
            Object model = corpusModel(bytes, v);
            read("WordCorpus.load(vocabulary " + (v == withUnk ? "with" : "without") + " <unk>)", file, model,
                    () -> WordCorpus.load(file, v), got -> {
                        checkCorpus((WordCorpus) got, (List<?>) model);
                        same("vocabulary", v, ((WordCorpus) got).vocabulary());
                    });
        }
        Object vocabulary = vocabularyModel(bytes);
        read("WordVocabulary.read", file, vocabulary, () -> WordVocabulary.read(file), got -> {
            WordVocabulary v = (WordVocabulary) got;
            same("words", vocabulary, v.words());
            writtenAndReadAgain(v, file);
        });
    }

    /** The vocabulary written reads back the same, and the folder holds the file alone (no temporary one left). */
    private void writtenAndReadAgain(WordVocabulary v, Path file) throws IOException {
        Path copy = dir.resolve("written").resolve(file.getFileName());
        Files.createDirectories(copy.getParent());
        String was = reading;
        reading = "WordVocabulary.write";
        v.write(copy);
        same("written and read again", v, WordVocabulary.read(copy));
        try (Stream<Path> left = Files.list(copy.getParent())) {
            same("files in the folder written to", List.of(copy), left.toList());
        }
        Files.delete(copy);
        reading = was;
    }

    /**
     * One reader on one file: the outcome against the model's. A finding for anything else than the model's
     * success (checked by {@code check}) or refusal (the file, its line, the fragments, in one short line).
     */
    private void read(String reader, Path file, Object model, Read call, Check check) {
        reading = reader;
        Object got;
        try {
            got = call.read();
        } catch (DataFileException e) {
            outcome(reader, 1);
            String m = e.getMessage();
            if (!(model instanceof Expect want)) {
                finding(reader, "refuses a valid file", e.toString());
                return;
            }
            if (!file.equals(e.file()) || !m.contains(file.toString())) {
                finding(reader, "refusal does not name the file", m);
            }
            if (e.line() != want.line() || want.line() > 0 && !m.contains(", line " + want.line() + ": ")) {
                finding(reader, "refusal names line " + e.line() + ", not the first bad line", "expected line "
                        + want.line() + ": " + m);
            }
            for (String f : want.fragments()) {
                if (!m.contains(f)) {
                    finding(reader, "refusal does not say what the format says", "expected \"" + f + "\" in: " + m);
                }
            }
            if (m.length() > MESSAGE_MAX || m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
                finding(reader, "message is not one short line", m.length() + " characters: "
                        + DataFileException.quote(m));
            }
            return;
        } catch (Throwable e) {
            outcome(reader, 1);
            finding(reader, "throws " + e.getClass().getName(), String.valueOf(e.getMessage()));
            return;
        }
        outcome(reader, 0);
        if (model instanceof Expect want) {
            finding(reader, "reads a file the format refuses", "expected a refusal at line " + want.line() + " saying "
                    + String.join(", ", want.fragments()));
            return;
        }
        try {
            check.check(got);
        } catch (AssertionFailedError e) {
            finding(reader, "reads the file wrong", e.getMessage());
        } catch (Throwable e) {
            finding(reading, "throws " + e.getClass().getName() + " on what was read", String.valueOf(e.getMessage()));
        }
    }

    private void checkDataset(SequenceDataset d, List<?> lines, boolean shuffled, boolean reversed) {
        int n = lines.size();
        same("train and test sizes", List.of(n - n / 10, n / 10), List.of(d.train().size(), d.test().size()));
        LinkedHashSet<Integer> firstSeen = new LinkedHashSet<>();
        for (Object p : lines) {
            String[] qa = (String[]) p;
            (qa[0] + qa[1]).codePoints().forEach(firstSeen::add);
        }
        same("first-seen characters", firstSeen.stream().map(Character::toString).collect(Collectors.joining()),
                d.vocabulary().chars());
        List<String> rows = new ArrayList<>();
        for (SequencePairs p : new SequencePairs[] {d.train(), d.test()}) {
            rows.addAll(rows(p, d.vocabulary(), reversed));
        }
        List<String> want = new ArrayList<>();
        for (Object p : lines) {
            want.add(((String[]) p)[0] + "|" + ((String[]) p)[1]);
        }
        if (shuffled) {
            want.sort(null);
            rows.sort(null);
        }
        same("rows", want, rows);
        checkBatches(d.train());
    }

    /** The rows as "question|answer" through the vocabulary, each id checked to be one of it first. */
    private static List<String> rows(SequencePairs p, CharVocabulary v, boolean reversed) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < p.size(); i++) {
            int[] q = p.x()[i].clone();
            inVocabulary(q, v.size());
            inVocabulary(p.t()[i], v.size());
            if (reversed) {
                for (int a = 0, b = q.length - 1; a < b; a++, b--) {
                    int t = q[a];
                    q[a] = q[b];
                    q[b] = t;
                }
            }
            out.add(v.decode(q) + "|" + v.decode(p.t()[i]));
        }
        return out;
    }

    private static void inVocabulary(int[] ids, int size) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= size) {
                throw new AssertionFailedError("id " + ids[i] + " at " + i + " is outside the vocabulary of " + size);
            }
        }
    }

    /** One batch of the first examples, last first: the tensors hold the rows as they were read. */
    private void checkBatches(SequencePairs train) {
        int n = Math.min(3, train.size());
        if (n == 0) {
            return;
        }
        reading = "Batches.of(train)";
        Batches b = Batches.of(train);
        try (Arena arena = Arena.ofConfined()) {
            Tensor[] xt = b.allocate(backend, arena, n);
            int[] order = new int[train.size()];
            for (int i = 0; i < n; i++) {
                order[i] = n - 1 - i;
            }
            b.fill(backend, order, 0, xt[0], xt[1]);
            int[] x = new int[n * train.questionLength()], t = new int[n * train.answerLength()];
            backend.copyOut(x, xt[0]);
            backend.copyOut(t, xt[1]);
            for (int i = 0; i < n; i++) {
                int e = order[i];
                same("batch row " + i, Arrays.toString(train.x()[e]) + Arrays.toString(train.t()[e]),
                        Arrays.toString(Arrays.copyOfRange(x, i * train.questionLength(), (i + 1)
                                * train.questionLength())) + Arrays.toString(Arrays.copyOfRange(t, i
                                * train.answerLength(), (i + 1) * train.answerLength())));
            }
        }
    }

    private static void checkCorpus(WordCorpus c, List<?> want) {
        inVocabulary(c.ids(), c.vocabulary().size());
        List<String> have = new ArrayList<>(c.size());
        for (int id : c.ids()) {
            have.add(c.vocabulary().word(id));
        }
        same("words", want, have);
    }

    private static void same(String what, Object want, Object have) {
        if (!want.equals(have)) {
            throw new AssertionFailedError(what + " differ: expected " + cut(String.valueOf(want)) + ", read "
                    + cut(String.valueOf(have)));
        }
    }

    /**
     * The file-level cases through every reader: a folder, a missing file, and, where there is one, a regular file
     * whose read fails (Linux's /proc/self/mem: EIO at offset 0, as a bad disk block or a dropped network mount would).
     */
    private void fileLevelCases(WordVocabulary words) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("a folder.txt"));
        Path missing = dir.resolve("missing.txt");
        Path failing = Path.of("/proc/self/mem");
        Path[] paths = Files.isRegularFile(failing) ? new Path[] {folder, missing, failing}
                : new Path[] {folder, missing};
        for (Path p : paths) {
            caseName = p == folder ? "a folder" : p == missing ? "a missing file" : p + " (a read that fails: EIO)";
            caseBytes = new byte[0];
            Map<String, Read> readers = new LinkedHashMap<>();
            readers.put("SequenceLoader.load", () -> SequenceLoader.load(p));
            readers.put("SequenceLoader.readLines", () -> SequenceLoader.readLines(p));
            readers.put("SequenceLoader.encode", () -> SequenceLoader.encode(p, CharVocabulary.of("0")));
            readers.put("WordCorpus.load", () -> WordCorpus.load(p));
            readers.put("WordCorpus.load(vocabulary)", () -> WordCorpus.load(p, words));
            readers.put("WordVocabulary.read", () -> WordVocabulary.read(p));
            readers.forEach((name, call) -> {
                try {
                    call.read();
                    finding(name, "reads " + caseName, "");
                } catch (DataFileException | NoSuchFileException e) {
                    String m = e.getMessage();
                    boolean right = p == folder ? e instanceof DataFileException && m.contains("is a folder")
                            : p == missing ? e instanceof NoSuchFileException && m.contains("no such data file")
                            : e instanceof DataFileException && m.contains("cannot read it");
                    if (!right || !m.contains(p.toString())) {
                        finding(name, "refuses " + caseName + " without naming it and why", e.toString());
                    }
                } catch (Throwable e) {   // any other, a bare IOException too: it names no file
                    finding(name, "throws " + e.getClass().getName() + " on " + caseName, String.valueOf(e));
                }
            });
        }
    }

    private void outcome(String reader, int refused) {
        outcomes.computeIfAbsent(reader, k -> new int[2])[refused]++;
    }

    private void finding(String reader, String what, String detail) {
        String key = reader + ": " + what;
        if (counts.computeIfAbsent(key, k -> new int[1])[0]++ == 0) {
            examples.put(key, caseName + "; file " + DataFileException.quote(new String(caseBytes,
                    StandardCharsets.UTF_8)) + "; " + cut(detail));
        }
    }

    // ---- text helpers

    private static int cps(String s) {
        return s.codePointCount(0, s.length());
    }

    private static String utf8(byte[] b, int length) {
        return new String(b, 0, length, StandardCharsets.UTF_8);
    }

    private static String replaceAt(String s, int column, String with) {
        if (column >= cps(s)) {
            return s;
        }
        int i = s.offsetByCodePoints(0, column);
        return s.substring(0, i) + with + s.substring(s.offsetByCodePoints(i, 1));
    }

    private static String insertAt(String s, int column, String what) {
        int i = s.offsetByCodePoints(0, Math.min(column, cps(s)));
        return s.substring(0, i) + what + s.substring(i);
    }

    private static byte[] insert(byte[] b, int at, byte[] what) {
        byte[] out = new byte[b.length + what.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(b, at, out, at + what.length, b.length - at);
        return out;
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        return b.length >= prefix.length && Arrays.equals(b, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static String show(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(c -> sb.append(sb.isEmpty() ? "" : " ").append(String.format("U+%04X", c)));
        return sb.isEmpty() ? "nothing" : sb.toString();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02X", x & 0xFF));
        }
        return sb.toString();
    }

    private static String cut(String s) {
        return DataFileException.printable(s.length() > 300 ? s.substring(0, 300) + "... (" + s.length() + " chars)"
                : s);
    }
}
