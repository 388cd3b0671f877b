// A mutation fuzzer for the weight files seq4j reads: valid .npz files written by NpzWriter (stored and deflated) and a
// small model's checkpoint written by Checkpoint.write, mutated with a seeded SplittableRandom (bit flips, bytes
// overwritten, inserted and deleted, truncation at every structure boundary, the zip directory's and local headers'
// fields set to boundary values, the archive in ZIP64's form with its 8-byte fields set so, .npy header dicts rewritten,
// entries renamed, duplicated, deflate bombs, entries that list more than they hold, data flipped with the checksum
// made to match, the checkpoint's description edited or stored as numpy saves it back) and
// loaded through the public API: Npz.load, Npz.shapes and NpzFile.requireAllFinite; Checkpoint.meta, ModelSpec.load
// and ModelSpec.restore.
//
// Every case must end in one of two ways: a load whose arrays are what the bytes say (the original's where the mutation
// changed nothing an archive reader may believe, the mutated values where the checksum was made to match), or an
// NpzFormatException or CheckpointException whose one-line message names the file. Anything else is a finding: any
// other Throwable (a raw ZipException, an NPE, an OutOfMemoryError...), a message without the file, a load giving
// other arrays, a case running past its time limit, or an allocation far beyond what the file can hold (a header may
// declare 2^29 floats in a file of 1 KiB: that must be refused before the 2 GiB are allocated). Findings are collected,
// counted by kind, and listed together.
//
// Default: 2,000 random mutations of the .npz files and 1,000 of the checkpoint, and each file cut at every boundary of
// its structures (about 3,500 cases, a few seconds). -Dseq4j.fuzz.mutations=N sets the .npz count (the checkpoint gets
// half), -Dseq4j.fuzz.seed=S the seed; each part prints a line of its outcomes by kind.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SequencedMap;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.models.Model;
import org.seq4j.models.Seq2seq;
import org.seq4j.testing.TestBackends;
import org.seq4j.testing.ZipBomb;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.CheckpointException;
import org.seq4j.train.ModelSpec;

class NpzMutationFuzzTest {
    private static final int MUTATIONS = Integer.getInteger("seq4j.fuzz.mutations", 2000);
    private static final long SEED = Long.getLong("seq4j.fuzz.seed", 143);
    /** One load of a file of a few KiB takes milliseconds; this is a hang. */
    private static final long CASE_SECONDS = 10;
    /** Bytes a load may allocate beyond what its file could inflate to (deflate's best ratio is 1032:1). */
    private static final long ALLOCATION_SLACK = 32L << 20;

    @TempDir
    Path dir;

    private ExecutorService worker = newWorker();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    /** A finding's kind and site, with its first example and its count. */
    private final Map<String, String> findings = new TreeMap<>();
    private final Map<String, Integer> findingCounts = new TreeMap<>();
    private int cases;

    @AfterEach
    void stopWorker() {
        worker.shutdownNow();
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "npz-fuzz");
            t.setDaemon(true);   // a hung case must not keep the JVM alive
            return t;
        });
    }

    // ---- what a case expects, and how a load is judged ---------------------------------------------------

    /**
     * What a mutated file may give: {@code want} the arrays a successful load must give (null: it must fail);
     * {@code mayFail} whether a refusal is also right (a raw mutation: anything an archive reader believes is
     * checked by its CRC-32 or its structure, so a load either refuses or gives the original).
     */
    private record Expect(SequencedMap<String, NpyArray> want, boolean mayFail) {
        static Expect same(SequencedMap<String, NpyArray> original) {
            return new Expect(original, true);
        }

        static Expect exactly(SequencedMap<String, NpyArray> want) {
            return new Expect(want, false);
        }

        static Expect refused() {
            return new Expect(null, true);
        }
    }

    private record Mutant(String kind, byte[] bytes, Expect expect) {
    }

    /** Loads a file through the public API; adds to {@code problems} what a second call of the API disagrees on. */
    private interface Loader {
        SequencedMap<String, NpyArray> load(Path file, List<String> problems) throws Exception;
    }

    /** One valid file, its arrays, its entries' contents and where its zip structures lie. */
    private record Base(String name, byte[] bytes, SequencedMap<String, NpyArray> arrays, List<Entry> entries,
                        Layout layout) {
    }

    private void fuzz(Base base, Loader loader, int mutations, SplittableRandom r) throws IOException {
        truncations(base, loader);
        for (int i = 0; i < mutations; i++) {
            Mutant m = mutate(base, r);
            run(base.name() + "-" + i, m, loader);
        }
    }

    /** The file cut at every boundary of its structures and a byte either side: each cut loses the end record. */
    private void truncations(Base base, Loader loader) throws IOException {
        Set<Integer> cuts = new java.util.TreeSet<>();
        for (int at : base.layout().boundaries()) {
            for (int d = -1; d <= 1; d++) {
                if (at + d >= 0 && at + d < base.bytes().length) {
                    cuts.add(at + d);
                }
            }
        }
        for (int at : cuts) {
            run(base.name() + "-cut" + at, new Mutant("truncated in " + base.layout().region(at),
                    Arrays.copyOf(base.bytes(), at), Expect.refused()), loader);
        }
    }

    private void run(String name, Mutant m, Loader loader) throws IOException {
        Path file = dir.resolve(name + ".npz");
        Files.write(file, m.bytes());
        cases++;
        List<String> problems = new ArrayList<>();
        Future<Object> f = worker.submit(() -> {
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = mx.getCurrentThreadAllocatedBytes();
            Object result;
            try {
                result = loader.load(file, problems);
            } catch (Throwable t) {
                result = t;
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            long bound = ALLOCATION_SLACK + 1032L * m.bytes().length;
            if (allocated > bound) {
                problems.add("allocated " + allocated + " bytes for a file of " + m.bytes().length);
            }
            return result;
        });
        Object result;
        try {
            result = f.get(CASE_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            worker.shutdownNow();
            worker = newWorker();
            finding(m.kind(), "took longer than " + CASE_SECONDS + " s", file);
            return;
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
        for (String p : problems) {
            finding(m.kind(), p, file);
        }
        judge(m, result, file);
        Files.deleteIfExists(file);
    }

    @SuppressWarnings("unchecked")
    private void judge(Mutant m, Object result, Path file) {
        if (result instanceof Throwable t) {
            String bad = refusalProblem(t, file);
            if (bad != null) {
                finding(m.kind(), bad, file);
            } else if (m.expect().want() != null && !m.expect().mayFail()) {
                finding(m.kind(), "refused a file it should read: " + t.getMessage(), file);
            } else {
                count("refused: " + t.getClass().getSimpleName());
            }
            return;
        }
        SequencedMap<String, NpyArray> got = (SequencedMap<String, NpyArray>) result;
        if (m.expect().want() == null) {
            finding(m.kind(), "loaded a file it must refuse: " + got.keySet(), file);
            return;
        }
        String diff = difference(m.expect().want(), got);
        if (diff != null) {
            finding(m.kind(), "loaded other arrays than the bytes say: " + diff, file);
            return;
        }
        count(m.expect().mayFail() ? "loaded unchanged" : "loaded as mutated");
    }

    /** Null where {@code t} is a refusal the javadoc documents, in one line naming the file; else what is wrong. */
    private static String refusalProblem(Throwable t, Path file) {
        if (!(t instanceof NpzFormatException) && !(t instanceof CheckpointException)) {
            return "threw " + t.getClass().getName() + " (" + t.getMessage() + ")" + where(t);
        }
        String msg = t.getMessage();
        if (msg == null || msg.isBlank()) {
            return t.getClass().getSimpleName() + " without a message";
        }
        if (!msg.contains(file.toString())) {
            return t.getClass().getSimpleName() + " not naming the file: " + msg;
        }
        if (msg.contains("\n")) {
            return t.getClass().getSimpleName() + " of several lines: " + msg;
        }
        return null;
    }

    /** The first stack frame of seq4j's, for a finding's site. */
    private static String where(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("org.seq4j.") && !e.getClassName().contains("FuzzTest")) {
                return " at " + e.getClassName().substring("org.seq4j.".length()) + "." + e.getMethodName() + ":"
                        + e.getLineNumber();
            }
        }
        return "";
    }

    private void count(String outcome) {
        outcomes.merge(outcome, 1, Integer::sum);
    }

    private void finding(String kind, String what, Path file) {
        count("finding");
        // one line a kind of mutation and kind of problem: the first example in full, then how many more
        String key = kind + ": " + what.replace(file.toString(), "FILE").replaceAll("[0-9]+", "N");
        String site = key.length() > 160 ? key.substring(0, 160) : key;
        findings.putIfAbsent(site, kind + ": " + what);
        findingCounts.merge(site, 1, Integer::sum);
    }

    private void report(String what) {
        System.out.println("NpzMutationFuzzTest " + what + ": " + cases + " cases (seed " + SEED + "), " + outcomes);
        if (!findings.isEmpty()) {
            StringBuilder b = new StringBuilder(findings.size() + " kinds of finding:");
            findings.forEach((k, v) -> b.append("\n  [").append(findingCounts.get(k)).append("x] ").append(v));
            fail(b.toString());
        }
    }

    /** Null where the arrays are the same (names in order, shapes, dtypes, every value's bits); else the difference. */
    static String difference(SequencedMap<String, NpyArray> want, SequencedMap<String, NpyArray> got) {
        if (!List.copyOf(want.keySet()).equals(List.copyOf(got.keySet()))) {
            return "names " + got.keySet() + ", expected " + want.keySet();
        }
        for (var e : want.entrySet()) {
            NpyArray a = e.getValue(), b = got.get(e.getKey());
            if (!Arrays.equals(a.shape(), b.shape()) || a.dtype() != b.dtype()) {
                return e.getKey() + " is " + b.dtype() + Arrays.toString(b.shape()) + ", expected " + a.dtype()
                        + Arrays.toString(a.shape());
            }
            if (!Arrays.equals(bits(a), bits(b))) {
                return e.getKey() + " holds other values";
            }
        }
        return null;
    }

    /** Whether the two hold the same names in the same order, each of one shape and dtype. */
    private static boolean sameStructure(SequencedMap<String, NpyArray> a, SequencedMap<String, NpyArray> b) {
        String diff = difference(a, b);
        return diff == null || diff.endsWith("holds other values");
    }

    private static int[] bits(NpyArray a) {
        return switch (a) {
            case NpyArray.F32 f -> {
                int[] v = new int[f.data().length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = Float.floatToRawIntBits(f.data()[i]);
                }
                yield v;
            }
            case NpyArray.I32 i -> i.data();
        };
    }

    // ---- the loaders -------------------------------------------------------------------------------------

    /**
     * Npz.load; and Npz.shapes, which must give the loaded shapes; and requireAllFinite, which must refuse exactly
     * where a value is NaN or infinite.
     */
    private static SequencedMap<String, NpyArray> loadNpz(Path file, List<String> problems) throws IOException {
        SequencedMap<String, int[]> shapes = null;
        try {
            shapes = Npz.shapes(file, Set.of());
        } catch (Throwable t) {
            String bad = refusalProblem(t, file);
            if (bad != null) {
                problems.add("Npz.shapes " + bad);
            }
        }
        NpzFile z = Npz.load(file);
        if (shapes == null) {
            problems.add("Npz.shapes refused a file Npz.load reads");
        } else {
            for (var e : z.arrays().entrySet()) {
                if (!Arrays.equals(e.getValue().shape(), shapes.get(e.getKey()))) {
                    problems.add("Npz.shapes disagrees with Npz.load on " + e.getKey());
                }
            }
            if (!shapes.keySet().equals(z.arrays().keySet())) {
                problems.add("Npz.shapes names other arrays than Npz.load");
            }
        }
        boolean finite = z.arrays().values().stream().allMatch(a -> NpzFile.nonFinite(a) == null);
        try {
            z.requireAllFinite();
            if (!finite) {
                problems.add("requireAllFinite took a non-finite value");
            }
        } catch (NpzFormatException e) {
            if (finite || refusalProblem(e, file) != null || e.array() == null) {
                problems.add("requireAllFinite: " + e.getMessage());
            }
        }
        return z.arrays();
    }

    // ---- the .npz files ------------------------------------------------------------------------------------

    private static SequencedMap<String, NpyArray> sampleArrays(SplittableRandom r) {
        SequencedMap<String, NpyArray> m = new LinkedHashMap<>();
        m.put("encoder.lstm.Wx", NpyArray.of(gaussian(r, 4 * 16), 4, 16));
        m.put("b", NpyArray.of(gaussian(r, 5), 5));
        m.put("ids", NpyArray.of(new int[] {3, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0, 7}, 2, 3));
        m.put("scalar", NpyArray.of(new float[] {2.5f}));
        m.put("empty", NpyArray.of(new float[0], 0, 4));
        m.put("cube", NpyArray.of(gaussian(r, 24), 2, 3, 4));
        return m;
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private Base npzBase(String name, SequencedMap<String, NpyArray> arrays, NpzWriter.Compression c)
            throws IOException {
        Path file = dir.resolve(name + ".npz");
        Npz.save(file, arrays, c);
        return base(name, file, arrays);
    }

    private static Base base(String name, Path file, SequencedMap<String, NpyArray> arrays) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        List<Entry> entries = new ArrayList<>();
        try (ZipFile z = new ZipFile(file.toFile())) {
            for (var e = z.entries(); e.hasMoreElements(); ) {
                ZipEntry ze = e.nextElement();
                entries.add(new Entry(ze.getName(), z.getInputStream(ze).readAllBytes(),
                        ze.getMethod() == ZipEntry.DEFLATED));
            }
        }
        return new Base(name, bytes, arrays, entries, Layout.of(bytes));
    }

    @Test
    void mutatedNpzFilesLoadAsTheirBytesSayOrAreRefusedInOneLine() throws IOException {
        SplittableRandom r = new SplittableRandom(SEED);
        SequencedMap<String, NpyArray> arrays = sampleArrays(r);
        Base stored = npzBase("stored", arrays, NpzWriter.Compression.STORED);
        Base deflated = npzBase("deflated", arrays, NpzWriter.Compression.DEFLATED);
        fuzz(stored, NpzMutationFuzzTest::loadNpz, MUTATIONS / 2, r);
        fuzz(deflated, NpzMutationFuzzTest::loadNpz, MUTATIONS - MUTATIONS / 2, r);
        bombs();
        report(".npz");
    }

    /** Deflate bombs: 256 MiB of zeros behind a header of two floats, listed honestly and as the header says. */
    private void bombs() throws IOException {
        byte[] head = ZipBomb.floatHeader("(2,)");
        run("bomb-honest", new Mutant("deflate bomb", ZipBomb.zip("W.npy", head, 256, -1), Expect.refused()),
                NpzMutationFuzzTest::loadNpz);
        run("bomb-lying", new Mutant("deflate bomb", ZipBomb.zip("W.npy", head, 256, head.length + 8),
                Expect.refused()), NpzMutationFuzzTest::loadNpz);
        // a header that declares 2^27 floats (512 MiB), listed as such, in a file of a kilobyte
        byte[] big = ZipBomb.floatHeader("(134217728,)");
        run("bomb-declared", new Mutant("declared size past the file", ZipBomb.zip("W.npy", big, 0,
                big.length + (512L << 20)), Expect.refused()), NpzMutationFuzzTest::loadNpz);
    }

    // ---- the checkpoint ------------------------------------------------------------------------------------

    @Test
    void mutatedCheckpointsRestoreAsSavedOrAreRefusedInOneLine() throws IOException {
        Backend b = TestBackends.reference();
        SplittableRandom r = new SplittableRandom(SEED + 1);
        Path file = dir.resolve("checkpoint.npz");
        SequencedMap<String, NpyArray> saved = new LinkedHashMap<>();
        try (Seq2seq m = new Seq2seq(b, 13, 4, 8, 1)) {
            Properties p = new Properties();
            new ModelSpec(ModelSpec.Task.ADDITION, "baseline", 13, 4, 8, 0f, false, 1).store(p);
            p.setProperty("vocabulary", "0123456789+ _");
            Checkpoint.write(file, m, p);
            Map<String, float[]> values = m.store().copyOutAll();
            m.parameters().forEach(q -> saved.put(q.name(), NpyArray.of(values.get(q.name()), q.value().shape())));
        }
        Base base = base("checkpoint", file, saved);
        Loader restore = (f, problems) -> {
            ModelSpec spec = ModelSpec.load(Checkpoint.meta(f), f);
            try (Model m = spec.restore(b, f)) {
                Map<String, float[]> values = m.store().copyOutAll();
                SequencedMap<String, NpyArray> got = new LinkedHashMap<>();
                m.parameters().forEach(q -> got.put(q.name(), NpyArray.of(values.get(q.name()), q.value().shape())));
                return got;
            }
        };
        truncations(base, restore);
        int n = Math.max(1, MUTATIONS / 2);
        for (int i = 0; i < n; i++) {
            // a quarter of the cases edit the description, a quarter store it as numpy saves it back; the rest
            // mutate the file as the .npz cases do
            Mutant m = switch (r.nextInt(4)) {
                case 0 -> editDescription(base, r);
                case 1 -> descriptionAsArray(base, r);
                default -> mutate(base, r);
            };
            // the model takes its own arrays, float32 and finite, or none: another array the .npz holds, an array
            // missing, reshaped, of integers or with a NaN flipped in, must be refused
            SequencedMap<String, NpyArray> want = m.expect().want();
            if (want != null && !m.expect().mayFail() && (!sameStructure(base.arrays(), want) || want.values()
                    .stream().anyMatch(a -> NpzFile.nonFinite(a) != null))) {
                m = new Mutant(m.kind(), m.bytes(), Expect.refused());
            }
            run("checkpoint-" + i, m, restore);
        }
        report("checkpoint");
    }

    private static final String[] DESCRIPTION_KEYS = {"task", "model", "vocab", "wordvec", "hidden", "cell",
        "bidirectional", "reverse", "dropout", "seed", "vocabulary", "epoch", Checkpoint.DIGEST,
        Checkpoint.DIGEST_BY_KEY};
    private static final String[] DESCRIPTION_VALUES = {"", " ", "0", "1", "-1", "7", "9", "13", "16000", "65536",
        "2147483647", "2147483648", "-2147483648", "99999999999999999999", "1e9", "0.5", "NaN", "Infinity", " 8 ",
        "\u0663", "abc", "true", "false", "yes", "attention", "peeky", "reverse", "rnnlm", "better", "lm", "date",
        "waves", "gru", "lstm", "\\uZZZZ", "\\", "a\\u0000b", "=", "x".repeat(5000)};

    /**
     * The checkpoint with its description edited: a key set to a boundary value (the digest kept, or removed as in a
     * description written before seq4j had one), a key given twice, a line dropped, bytes of garbage, or a description
     * over the 1 MiB read. The arrays are untouched: a restore either refuses or gives the saved weights.
     */
    private static Mutant editDescription(Base base, SplittableRandom r) {
        Entry meta = base.entries().stream().filter(e -> e.name().equals(Checkpoint.META)).findFirst().orElseThrow();
        List<String> lines = new ArrayList<>(new String(meta.content(), StandardCharsets.ISO_8859_1).lines().toList());
        String kind;
        switch (r.nextInt(6)) {
            case 0, 1, 2 -> {
                String key = DESCRIPTION_KEYS[r.nextInt(DESCRIPTION_KEYS.length)];
                String value = DESCRIPTION_VALUES[r.nextInt(DESCRIPTION_VALUES.length)];
                lines.removeIf(l -> l.startsWith(key + "="));
                lines.add(key + "=" + value);
                kind = "description " + key + " edited";
                if (r.nextBoolean()) {
                    lines.removeIf(l -> l.startsWith(Checkpoint.DIGEST));
                    kind += ", digest removed";
                }
            }
            case 3 -> {
                String line = lines.get(r.nextInt(lines.size()));
                lines.add(r.nextBoolean() ? line : line.replaceFirst("=.*", "=1"));
                kind = "description key twice";
            }
            case 4 -> {
                lines.remove(r.nextInt(lines.size()));
                kind = "description line dropped";
            }
            default -> {
                if (r.nextInt(8) == 0) {
                    lines.add("pad=" + "x".repeat(1 << 20));
                    kind = "description over 1 MiB";
                } else {
                    byte[] junk = new byte[1 + r.nextInt(40)];
                    r.nextBytes(junk);
                    lines.add(r.nextInt(lines.size()), new String(junk, StandardCharsets.ISO_8859_1));
                    kind = "description garbage";
                }
            }
        }
        byte[] text = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        List<Entry> entries = new ArrayList<>(base.entries());
        entries.replaceAll(e -> e.name().equals(Checkpoint.META) ? new Entry(e.name(), text, e.deflate()) : e);
        return new Mutant(kind, zip(entries), Expect.same(base.arrays()));
    }

    /**
     * The checkpoint with its description stored as np.savez(f, **dict(np.load(g))) stores it back,
     * model.properties.npy holding one string, in a form Npz.text reads (|S or <U, NUL padding, shape () or of one
     * element, either order) or not (another dtype, a string too short or of 10^14 characters, two strings, a code
     * point past Unicode, the raw entry kept beside it); the text is the one written, so a restore gives the saved
     * weights or refuses.
     */
    private static Mutant descriptionAsArray(Base base, SplittableRandom r) {
        Entry meta = base.entries().stream().filter(e -> e.name().equals(Checkpoint.META)).findFirst().orElseThrow();
        byte[] text = meta.content();
        int n = text.length;
        boolean unicode = r.nextBoolean();
        int pad = r.nextInt(4) == 0 ? r.nextInt(8) : 0;
        String descr = (unicode ? "<U" : "|S") + (n + pad);
        String shape = "()";
        String fortran = "False";
        String kind = "description as " + (unicode ? "<U" : "|S");
        ByteBuffer data = ByteBuffer.allocate((n + pad) * (unicode ? 4 : 1)).order(ByteOrder.LITTLE_ENDIAN);
        for (byte c : text) {
            if (unicode) {
                data.putInt(c & 0xFF);
            } else {
                data.put(c);
            }
        }
        byte[] bytes = data.array();
        switch (r.nextInt(10)) {
            case 0 -> {
                shape = new String[] {"(1,)", "(1, 1)", "(2,)", "(0,)", "(1, 2)"}[r.nextInt(5)];
                kind += " of shape " + shape;
            }
            case 1 -> {
                fortran = "True";
                kind += ", fortran_order True";
            }
            case 2 -> {
                descr = new String[] {"|S" + (n - 1), "|S" + (n + pad + 1), "<U99999999999999", "|S99999999999999",
                    "|S0", "<f4", "|V" + n, ">U" + n, "|U" + n}[r.nextInt(9)];
                kind += " as " + descr.replaceAll("[0-9]+", "N");
            }
            case 3 -> {
                if (unicode) {
                    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(4 * r.nextInt(n), r.nextBoolean()
                            ? 0x110000 : -1);
                    kind += " with no code point";
                } else {
                    bytes = Arrays.copyOf(bytes, bytes.length + 1);
                    kind += " with a byte past its item";
                }
            }
            default -> {
            }
        }
        byte[] npy = concat(ZipBomb.npyHeader("{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': "
                + shape + ", }"), bytes);
        List<Entry> entries = new ArrayList<>(base.entries());
        if (r.nextInt(10) == 0) {
            kind += ", raw entry kept";
        } else {
            entries.removeIf(e -> e.name().equals(Checkpoint.META));
        }
        entries.add(r.nextInt(entries.size() + 1), new Entry(Checkpoint.META + ".npy", npy, r.nextBoolean()));
        return new Mutant(kind, zip(entries), Expect.same(base.arrays()));
    }

    // ---- mutations -----------------------------------------------------------------------------------------

    private static Mutant mutate(Base base, SplittableRandom r) {
        byte[] b = base.bytes();
        Layout l = base.layout();
        Expect same = Expect.same(base.arrays());
        return switch (r.nextInt(17)) {
            case 0, 1 -> { // one bit anywhere
                byte[] m = b.clone();
                int at = r.nextInt(m.length);
                m[at] ^= (byte) (1 << r.nextInt(8));
                yield new Mutant("bit flip in " + l.region(at), m, same);
            }
            case 2 -> { // a few bytes set to random values
                byte[] m = b.clone();
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < n; i++) {
                    m[r.nextInt(m.length)] = (byte) r.nextInt(256);
                }
                yield new Mutant("bytes overwritten", m, same);
            }
            case 3, 4 -> { // a field of a zip structure set to a boundary value
                Layout.Field f = l.fields().get(r.nextInt(l.fields().size()));
                byte[] m = b.clone();
                ByteBuffer bb = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
                long old = f.size() == 2 ? Short.toUnsignedLong(bb.getShort(f.at())) : Integer.toUnsignedLong(
                        bb.getInt(f.at()));
                long[] values = {0, 1, old - 1, old + 1, old * 2, old + 64, 0xFFFF, 0x7FFF, 0x8000, 0xFFFFFFFFL,
                    0x7FFFFFFFL, 0x80000000L, m.length, m.length + 1, r.nextLong()};
                long v = values[r.nextInt(values.length)];
                if (f.size() == 2) {
                    bb.putShort(f.at(), (short) v);
                } else {
                    bb.putInt(f.at(), (int) v);
                }
                yield new Mutant("zip field " + f.name() + " set", m, same);
            }
            case 5, 6 -> { // cut at a structure boundary (+-1) or anywhere: the end record goes, always
                int at = r.nextInt(4) == 0 ? r.nextInt(b.length) : Math.clamp(
                        l.boundaries().get(r.nextInt(l.boundaries().size())) + r.nextInt(3) - 1, 0, b.length - 1);
                yield new Mutant("truncated in " + l.region(at), Arrays.copyOf(b, at), Expect.refused());
            }
            case 7 -> { // bytes inserted
                int at = r.nextBoolean() ? r.nextInt(b.length + 1)
                        : l.boundaries().get(r.nextInt(l.boundaries().size()));
                byte[] ins = new byte[1 + r.nextInt(r.nextBoolean() ? 4 : 100)];
                r.nextBytes(ins);
                byte[] m = new byte[b.length + ins.length];
                System.arraycopy(b, 0, m, 0, at);
                System.arraycopy(ins, 0, m, at, ins.length);
                System.arraycopy(b, at, m, at + ins.length, b.length - at);
                yield new Mutant("bytes inserted in " + l.region(Math.min(at, b.length - 1)), m, same);
            }
            case 8 -> { // bytes deleted
                int at = r.nextInt(b.length);
                int n = Math.min(1 + r.nextInt(r.nextBoolean() ? 4 : 100), b.length - at);
                byte[] m = new byte[b.length - n];
                System.arraycopy(b, 0, m, 0, at);
                System.arraycopy(b, at + n, m, at, b.length - at - n);
                yield new Mutant("bytes deleted in " + l.region(at), m, same);
            }
            case 9, 10 -> headerEdit(base, r);
            case 11, 12 -> dataFlip(base, r);
            case 13 -> entryEdit(base, r);
            case 14 -> listedSizeLie(base, r);
            case 15 -> zip64(base, r);
            default -> declaredButAbsent(base, r);
        };
    }

    /** The .npy entries of a base, by index into its entries. */
    private static List<Integer> arrayEntries(Base base) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < base.entries().size(); i++) {
            if (base.entries().get(i).name().endsWith(".npy")) {
                at.add(i);
            }
        }
        return at;
    }

    private static final String[] DESCRS = {"<f4", "<i4", "<f8", "<i8", ">f4", "|b1", "<c8", "O", "<f2", "<u4",
        "|u1", "<U3", "|S4", "", "f4", "<f4 "};

    /**
     * One entry's .npy header rewritten (its data kept, the checksum made to match): another dtype, fortran_order
     * True, another shape (huge, negative, 65 dimensions, a reshape of the same count), a key missing or added. The
     * reader must load exactly what the new header says of the old data, or refuse.
     */
    private static Mutant headerEdit(Base base, SplittableRandom r) {
        List<Integer> npys = arrayEntries(base);
        int index = npys.get(r.nextInt(npys.size()));
        Entry e = base.entries().get(index);
        String name = e.name().substring(0, e.name().length() - 4);
        NpyArray a = base.arrays().get(name);
        byte[] data = Arrays.copyOfRange(e.content(), Npy.header(a).length, e.content().length);
        int n = a.size();
        String descr = a.dtype() == org.seq4j.tensor.DType.F32 ? "<f4" : "<i4";
        String fortran = "False";
        long[] shape = Arrays.stream(a.shape()).asLongStream().toArray();
        String shapeText = null;
        String extra = "";
        String kind;
        switch (r.nextInt(7)) {
            case 0 -> {
                descr = DESCRS[r.nextInt(DESCRS.length)];
                kind = "header descr " + descr;
            }
            case 1 -> {
                fortran = r.nextBoolean() ? "True" : r.nextBoolean() ? "0" : "None";
                kind = "header fortran_order " + fortran;
            }
            case 2 -> {
                long[] huge = {1L << 31, (1L << 31) - 1, (1L << 31) - 9, 1L << 32, 1L << 40, 1L << 62, Long.MAX_VALUE,
                    -1, -(1L << 31), 1L << 26, 1L << 29, 0};
                shape = shape.length == 0 ? new long[] {1} : shape.clone();
                shape[r.nextInt(shape.length)] = huge[r.nextInt(huge.length)];
                kind = "header huge dimension";
            }
            case 3 -> {
                int rank = r.nextBoolean() ? 65 : 64;
                shape = new long[rank];
                Arrays.fill(shape, 1);
                shape[0] = n;
                kind = "header of " + rank + " dimensions";
            }
            case 4 -> { // the same count in another shape: a valid file of another array
                shape = switch (r.nextInt(4)) {
                    case 0 -> new long[] {n};
                    case 1 -> new long[] {1, n};
                    case 2 -> new long[] {n, 1, 1};
                    default -> n == 1 ? new long[0] : new long[] {n + 1};
                };
                kind = "header reshaped";
            }
            case 5 -> { // shapes in other spellings: what each means to Python, or null where it is no tuple of ints
                String[] texts = {"(" + n + ")", "[" + n + "]", "(" + n + ",,)", "(99999999999999999999,)",
                    "(" + n + "L,)", "(0" + n + ",)", "(-0,)", "()"};
                long[][] means = {null, null, null, null, {n}, n == 0 ? new long[] {0} : null, {0}, {}};
                int k = r.nextInt(texts.length);
                shapeText = texts[k];
                shape = means[k];
                kind = "header shape text " + shapeText.replaceAll("[0-9]+", "N");
            }
            default -> {
                extra = r.nextBoolean() ? "'x': 1, " : "'descr': '" + descr + "', ";
                kind = "header extra key";
            }
        }
        if (shapeText == null) {
            StringBuilder s = new StringBuilder("(");
            for (int i = 0; i < shape.length; i++) {
                s.append(i > 0 ? ", " : "").append(shape[i]);
            }
            shapeText = s.append(shape.length == 1 ? ",)" : ")").toString();
        }
        byte[] header = ZipBomb.npyHeader("{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': "
                + shapeText + ", " + extra + "}");
        NpyArray as = shape != null && extra.isEmpty() && fortran.equals("False") ? reinterpret(data, descr, shape)
                : null;
        Expect expect = Expect.refused();
        if (as != null) {
            SequencedMap<String, NpyArray> want = new LinkedHashMap<>(base.arrays());
            want.put(name, as);
            expect = Expect.exactly(want);
        }
        return new Mutant(kind, withEntry(base, index, concat(header, data)), expect);
    }

    /** {@code data} read as {@code descr} of {@code shape}, or null where it is not exactly that array. */
    private static NpyArray reinterpret(byte[] data, String descr, long[] shape) {
        if (shape.length > 64) {
            return null;
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0 || d > Integer.MAX_VALUE) {
                return null;
            }
            count = d == 0 || count == 0 ? 0 : count > Long.MAX_VALUE / d ? Long.MAX_VALUE : count * d;
        }
        if (count > Integer.MAX_VALUE - 8) {
            return null;
        }
        int itemSize = descr.equals("<f4") || descr.equals("<i4") ? 4 : descr.equals("<f8") || descr.equals("<i8")
                ? 8 : 0;
        if (itemSize == 0 || count * itemSize != data.length) {
            return null;
        }
        int[] s = Arrays.stream(shape).mapToInt(d -> (int) d).toArray();
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) count;
        switch (descr) {
            case "<f4" -> {
                float[] v = new float[n];
                b.asFloatBuffer().get(v);
                return NpyArray.of(v, s);
            }
            case "<i4" -> {
                int[] v = new int[n];
                b.asIntBuffer().get(v);
                return NpyArray.of(v, s);
            }
            case "<f8" -> { // narrowed as Npz says: rounded, a finite value past float32's range refused
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    double d = b.getDouble();
                    v[i] = (float) d;
                    if (Float.isInfinite(v[i]) && !Double.isInfinite(d)) {
                        return null;
                    }
                }
                return NpyArray.of(v, s);
            }
            default -> { // <i8: a value outside int32 refused
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    long x = b.getLong();
                    if (x != (int) x) {
                        return null;
                    }
                    v[i] = (int) x;
                }
                return NpyArray.of(v, s);
            }
        }
    }

    /**
     * Bits of an array's data flipped, the checksum made to match: the load must give those values (a NaN or
     * infinity among them is refused by requireAllFinite, and by a checkpoint's restore).
     */
    private static Mutant dataFlip(Base base, SplittableRandom r) {
        List<Integer> npys = arrayEntries(base);
        int index = npys.get(r.nextInt(npys.size()));
        Entry e = base.entries().get(index);
        String name = e.name().substring(0, e.name().length() - 4);
        NpyArray a = base.arrays().get(name);
        int start = Npy.header(a).length;
        if (a.size() == 0) {
            return new Mutant("data flip (empty)", base.bytes(), Expect.same(base.arrays()));
        }
        byte[] content = e.content().clone();
        int flips = 1 + r.nextInt(3);
        for (int i = 0; i < flips; i++) {
            int at = start + r.nextInt(content.length - start);
            // the exponent's bits too, where a float becomes NaN or infinite
            content[at] ^= (byte) (r.nextInt(4) == 0 ? 0x7F : 1 << r.nextInt(8));
        }
        NpyArray flipped = reinterpret(Arrays.copyOfRange(content, start, content.length), a.dtype()
                == org.seq4j.tensor.DType.F32 ? "<f4" : "<i4", Arrays.stream(a.shape()).asLongStream().toArray());
        SequencedMap<String, NpyArray> want = new LinkedHashMap<>(base.arrays());
        want.put(name, flipped);
        return new Mutant("data flip, checksum matched", withEntry(base, index, content), Expect.exactly(want));
    }

    /** An entry renamed, duplicated, dropped or moved, or one not an array added. */
    private static Mutant entryEdit(Base base, SplittableRandom r) {
        List<Entry> entries = new ArrayList<>(base.entries());
        List<Integer> npys = arrayEntries(base);
        int index = npys.get(r.nextInt(npys.size()));
        Entry e = entries.get(index);
        String name = e.name().substring(0, e.name().length() - 4);
        SequencedMap<String, NpyArray> want = new LinkedHashMap<>(base.arrays());
        String kind;
        Expect expect;
        switch (r.nextInt(5)) {
            case 0 -> { // a second entry of the same name: which one is meant cannot be told
                Entry other = entries.get(npys.get(r.nextInt(npys.size())));
                entries.add(r.nextInt(entries.size() + 1), new Entry(e.name(), other.content(), r.nextBoolean()));
                kind = "duplicate entry name";
                expect = Expect.refused();
            }
            case 1 -> { // not an array any more: left out, as np.load keys it by its full name
                String to = r.nextBoolean() ? name : name + ".NPY";
                entries.set(index, new Entry(to, e.content(), e.deflate()));
                want.remove(name);
                kind = "entry renamed to no .npy";
                expect = Expect.exactly(want);
            }
            case 2 -> {
                entries.remove(index);
                want.remove(name);
                kind = "entry dropped";
                expect = Expect.exactly(want);
            }
            case 3 -> {
                entries.add(new Entry("notes.txt", "not an array".getBytes(StandardCharsets.US_ASCII),
                        r.nextBoolean()));
                kind = "entry not an array added";
                expect = Expect.exactly(want);
            }
            default -> { // the same arrays stored one way or the other
                entries.replaceAll(x -> new Entry(x.name(), x.content(), !x.deflate()));
                kind = "entries recompressed";
                expect = Expect.exactly(want);
            }
        }
        return new Mutant(kind, zip(entries), expect);
    }

    /** An entry whose directory lists another size or checksum than it holds (the local header the same). */
    private static Mutant listedSizeLie(Base base, SplittableRandom r) {
        List<Entry> entries = new ArrayList<>(base.entries());
        int index = r.nextInt(entries.size());
        Entry e = entries.get(index);
        long size = e.content().length;
        long[] sizes = {size - 1, size + 1, 0, size * 2, size + (1 << 20), 0xFFFFFFFFL, 0x7FFFFFFFL};
        boolean crc = r.nextInt(4) == 0;
        entries.set(index, new Entry(e.name(), e.content(), e.deflate(), crc ? -1 : sizes[r.nextInt(sizes.length)],
                crc));
        return new Mutant(crc ? "listed checksum wrong" : "listed size wrong", zip(entries),
                e.name().endsWith(".npy") || e.name().equals(Checkpoint.META) ? Expect.refused()
                        : Expect.same(base.arrays()));
    }

    /**
     * A header that declares a large array (2^20 to 2^27 elements) whose entry the directory lists at the size the
     * header implies, but whose data is what it was, a few bytes: the reader has no cause to allocate what the file
     * cannot hold.
     */
    private static Mutant declaredButAbsent(Base base, SplittableRandom r) {
        List<Integer> npys = arrayEntries(base);
        int index = npys.get(r.nextInt(npys.size()));
        Entry e = base.entries().get(index);
        NpyArray a = base.arrays().get(e.name().substring(0, e.name().length() - 4));
        byte[] data = Arrays.copyOfRange(e.content(), Npy.header(a).length, e.content().length);
        long count = 1L << (20 + r.nextInt(8));
        String descr = r.nextBoolean() ? "<f4" : "<i8";
        byte[] header = ZipBomb.npyHeader("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + count
                + ",), }");
        long listed = header.length + count * (descr.equals("<f4") ? 4 : 8);
        List<Entry> entries = new ArrayList<>(base.entries());
        boolean deflate = r.nextBoolean();
        entries.set(index, new Entry(e.name(), concat(header, data), deflate, listed, false));
        return new Mutant("declared " + descr + " (2^N,) absent, " + (deflate ? "deflated" : "stored"), zip(entries),
                Expect.refused());
    }

    private static byte[] withEntry(Base base, int index, byte[] content) {
        List<Entry> entries = new ArrayList<>(base.entries());
        Entry e = entries.get(index);
        entries.set(index, new Entry(e.name(), content, e.deflate()));
        return zip(entries);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    // ---- a zip writer that lies where asked ----------------------------------------------------------------

    /**
     * One entry: its name, its content, whether it is deflated; {@code listedSize} the uncompressed size the headers
     * list (-1: the true one; a stored entry lists it as its compressed size too), {@code wrongCrc} whether the
     * listed CRC-32 is off by one bit.
     */
    private record Entry(String name, byte[] content, boolean deflate, long listedSize, boolean wrongCrc) {
        Entry(String name, byte[] content, boolean deflate) {
            this(name, content, deflate, -1, false);
        }
    }

    /** A zip archive of {@code entries} in their order, duplicates and lies included (ZipOutputStream refuses both). */
    private static byte[] zip(List<Entry> entries) {
        return zip(entries, false, new ArrayList<>());
    }

    /**
     * A zip archive of {@code entries}; {@code zip64}: in ZIP64's form, as Python's zipfile writes a large archive
     * (each directory entry's sizes and offset in its ZIP64 extra field, the end record's counts in a ZIP64 end record
     * found through its locator), with the offsets of those 8-byte fields added to {@code fields64}.
     */
    private static byte[] zip(List<Entry> entries, boolean zip64, List<Layout.Field> fields64) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream central = new ByteArrayOutputStream();
        List<Integer> extraAt = new ArrayList<>();   // the ZIP64 extra fields' offsets within the directory
        for (Entry e : entries) {
            byte[] data = e.content();
            if (e.deflate()) {
                Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
                d.setInput(data);
                d.finish();
                ByteArrayOutputStream c = new ByteArrayOutputStream();
                byte[] buf = new byte[8192];
                while (!d.finished()) {
                    c.write(buf, 0, d.deflate(buf));
                }
                d.end();
                data = c.toByteArray();
            }
            CRC32 crc = new CRC32();
            crc.update(e.content());
            int crcValue = (int) crc.getValue() ^ (e.wrongCrc() ? 1 : 0);
            long size = e.listedSize() >= 0 ? e.listedSize() : e.content().length;
            long csize = e.deflate() || e.listedSize() < 0 ? data.length : size;
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            int offset = out.size();
            ByteBuffer loc = ByteBuffer.allocate(30 + name.length).order(ByteOrder.LITTLE_ENDIAN);
            loc.putInt(0x04034b50).putShort((short) 20).putShort((short) 0x800).putShort((short) (e.deflate() ? 8 : 0))
                    .putShort((short) 0).putShort((short) 0x21).putInt(crcValue).putInt((int) csize).putInt((int) size)
                    .putShort((short) name.length).putShort((short) 0).put(name);
            out.writeBytes(loc.array());
            out.writeBytes(data);
            int extra = zip64 ? 4 + 24 : 0;
            ByteBuffer cen = ByteBuffer.allocate(46 + name.length + extra).order(ByteOrder.LITTLE_ENDIAN);
            cen.putInt(0x02014b50).putShort((short) (zip64 ? 45 : 20)).putShort((short) (zip64 ? 45 : 20))
                    .putShort((short) 0x800).putShort((short) (e.deflate() ? 8 : 0)).putShort((short) 0)
                    .putShort((short) 0x21).putInt(crcValue).putInt(zip64 ? -1 : (int) csize)
                    .putInt(zip64 ? -1 : (int) size).putShort((short) name.length).putShort((short) extra)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt(zip64 ? -1 : offset).put(name);
            if (zip64) {
                extraAt.add(central.size() + 46 + name.length);
                cen.putShort((short) 1).putShort((short) 24).putLong(size).putLong(csize).putLong(offset);
            }
            central.writeBytes(cen.array());
        }
        int cdOffset = out.size();
        for (int at : extraAt) {
            for (String f : new String[] {"size", "csize", "local offset"}) {
                at += f.equals("size") ? 4 : 8;
                fields64.add(new Layout.Field("ZIP64 extra " + f, cdOffset + at, 8));
            }
        }
        out.writeBytes(central.toByteArray());
        if (zip64) {
            int end64 = out.size();
            ByteBuffer z = ByteBuffer.allocate(56 + 20).order(ByteOrder.LITTLE_ENDIAN);
            z.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(entries.size()).putLong(entries.size()).putLong(central.size()).putLong(cdOffset);
            z.putInt(0x07064b50).putInt(0).putLong(end64).putInt(1);
            String[] names = {"record size", "disk entries", "total entries", "directory size", "directory offset"};
            int[] at = {4, 24, 32, 40, 48};
            for (int k = 0; k < at.length; k++) {
                fields64.add(new Layout.Field("ZIP64 end " + names[k], end64 + at[k], 8));
            }
            fields64.add(new Layout.Field("ZIP64 locator offset", end64 + 56 + 8, 8));
            out.writeBytes(z.array());
        }
        ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (zip64 ? 0xFFFF : entries.size())).putShort((short) (zip64 ? 0xFFFF : entries.size()))
                .putInt(zip64 ? -1 : central.size()).putInt(zip64 ? -1 : cdOffset).putShort((short) 0);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    /** The archive rewritten in ZIP64's form, as it is or with one of its 8-byte fields set to a boundary value. */
    private static Mutant zip64(Base base, SplittableRandom r) {
        List<Layout.Field> fields = new ArrayList<>();
        byte[] m = zip(base.entries(), true, fields);
        if (r.nextInt(4) == 0) {
            return new Mutant("ZIP64 form", m, Expect.exactly(base.arrays()));
        }
        Layout.Field f = fields.get(r.nextInt(fields.size()));
        ByteBuffer bb = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        long old = bb.getLong(f.at());
        long[] values = {0, 1, -1, old - 1, old + 1, old * 2, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 31, 1L << 32,
            (1L << 31) - 1, -(1L << 31), 1L << 62, m.length, m.length + 1, r.nextLong()};
        bb.putLong(f.at(), values[r.nextInt(values.length)]);
        return new Mutant(f.name() + " set", m, Expect.same(base.arrays()));
    }

    // ---- where a valid archive's structures lie --------------------------------------------------------------

    /** The fields of an archive's headers that a reader believes, and the offsets where one structure ends. */
    private record Layout(List<Field> fields, List<Integer> boundaries, List<int[]> regions, List<String> regionNames) {
        record Field(String name, int at, int size) {
        }

        static Layout of(byte[] zip) {
            ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
            int eocd = zip.length - 22;
            if (b.getInt(eocd) != 0x06054b50) {
                throw new IllegalArgumentException("expected an archive without a comment");
            }
            List<Field> fields = new ArrayList<>();
            List<Integer> bounds = new ArrayList<>();
            List<int[]> regions = new ArrayList<>();
            List<String> names = new ArrayList<>();
            int count = Short.toUnsignedInt(b.getShort(eocd + 10));
            int cd = b.getInt(eocd + 16);
            for (int i = 0, pos = cd; i < count; i++) {
                int nameLen = Short.toUnsignedInt(b.getShort(pos + 28));
                int extraLen = Short.toUnsignedInt(b.getShort(pos + 30));
                int commentLen = Short.toUnsignedInt(b.getShort(pos + 32));
                int local = b.getInt(pos + 42);
                int csize = b.getInt(pos + 20);
                String[] cenNames = {"flags", "method", "crc", "csize", "size", "name length", "extra length",
                    "comment length", "disk", "local offset"};
                int[] cenAt = {8, 10, 16, 20, 24, 28, 30, 32, 34, 42};
                int[] cenSize = {2, 2, 4, 4, 4, 2, 2, 2, 2, 4};
                for (int k = 0; k < cenAt.length; k++) {
                    fields.add(new Field("directory " + cenNames[k], pos + cenAt[k], cenSize[k]));
                }
                int locName = Short.toUnsignedInt(b.getShort(local + 26));
                int locExtra = Short.toUnsignedInt(b.getShort(local + 28));
                String[] locNames = {"flags", "method", "crc", "csize", "size", "name length", "extra length"};
                int[] locAt = {6, 8, 14, 18, 22, 26, 28};
                int[] locSize = {2, 2, 4, 4, 4, 2, 2};
                for (int k = 0; k < locAt.length; k++) {
                    fields.add(new Field("local " + locNames[k], local + locAt[k], locSize[k]));
                }
                int data = local + 30 + locName + locExtra;
                // the .npy header's version and length, where the entry is stored
                if (b.getShort(pos + 10) == 0 && csize >= 10) {
                    fields.add(new Field(".npy version", data + 6, 2));
                    fields.add(new Field(".npy header length", data + 8, 2));
                    int header = 10 + Short.toUnsignedInt(b.getShort(data + 8));
                    bounds.add(data + Math.min(header, csize));
                }
                bounds.addAll(List.of(local, local + 30, data, data + csize, pos, pos + 46, pos + 46 + nameLen));
                regions.add(new int[] {local, data});
                names.add("a local header");
                regions.add(new int[] {data, data + csize});
                names.add("entry data");
                regions.add(new int[] {pos, pos + 46 + nameLen + extraLen + commentLen});
                names.add("the directory");
                pos += 46 + nameLen + extraLen + commentLen;
            }
            String[] endNames = {"disk entries", "total entries", "directory size", "directory offset",
                "comment length"};
            int[] endAt = {8, 10, 12, 16, 20};
            int[] endSize = {2, 2, 4, 4, 2};
            for (int k = 0; k < endAt.length; k++) {
                fields.add(new Field("end record " + endNames[k], eocd + endAt[k], endSize[k]));
            }
            bounds.addAll(List.of(0, eocd, eocd + 4, zip.length - 1));
            regions.add(new int[] {eocd, zip.length});
            names.add("the end record");
            return new Layout(fields, bounds, regions, names);
        }

        String region(int at) {
            for (int i = 0; i < regions.size(); i++) {
                if (at >= regions.get(i)[0] && at < regions.get(i)[1]) {
                    return regionNames.get(i);
                }
            }
            return "the archive";
        }
    }

    @Test
    void theOracleItselfSeesADifference() {
        SequencedMap<String, NpyArray> a = new LinkedHashMap<>();
        a.put("W", NpyArray.of(new float[] {1, 2}, 2));
        SequencedMap<String, NpyArray> b = new LinkedHashMap<>();
        b.put("W", NpyArray.of(new float[] {1, Float.NaN}, 2));
        assertTrue(difference(a, b) != null && difference(a, a) == null);
    }
}
