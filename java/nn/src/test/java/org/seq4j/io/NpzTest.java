// Tests for the .npz writer and reader: round trips, numpy's exact header bytes, the atomic write, and
// a clear NpzFormatException (naming file and array) for each kind of corrupt or unexpected input. The writer refuses
// names a tool unzipping the .npz may take as a path ("../x", "a/b"); the reader keys them as numpy does.
package org.seq4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.ZipBomb;

class NpzTest {
    @TempDir
    Path dir;

    private static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static SequencedMap<String, NpyArray> sampleArrays() {
        SequencedMap<String, NpyArray> m = new LinkedHashMap<>();
        m.put("encoder.lstm.Wx", NpyArray.of(randomFloats(16 * 4 * 8, 1), 16, 32));
        m.put("b", NpyArray.of(randomFloats(5, 2), 5));
        m.put("ids", NpyArray.of(new int[] {3, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0, 7}, 2, 3));
        m.put("scalar", NpyArray.of(new float[] {2.5f}));
        m.put("empty", NpyArray.of(new float[0], 0, 4));
        m.put("cube", NpyArray.of(randomFloats(24, 3), 2, 3, 4));
        return m;
    }

    // values must come back bit for bit (no arithmetic happens), so equality is exact
    private static void assertSameArrays(SequencedMap<String, NpyArray> want, NpzFile got) {
        assertEquals(List.copyOf(want.keySet()), got.names(), "names in file order");
        want.forEach((name, a) -> {
            NpyArray b = got.arrays().get(name);
            assertArrayEquals(a.shape(), b.shape(), name + " shape");
            assertEquals(a.dtype(), b.dtype(), name + " dtype");
            switch (a) {
                case NpyArray.F32 f -> assertArrayEquals(f.data(), ((NpyArray.F32) b).data(), name);
                case NpyArray.I32 i -> assertArrayEquals(i.data(), ((NpyArray.I32) b).data(), name);
            }
        });
    }

    @ParameterizedTest
    @EnumSource(NpzWriter.Compression.class)
    void roundTripKeepsNamesOrderShapesAndValues(NpzWriter.Compression compression) throws IOException {
        Path file = dir.resolve("model.npz");
        SequencedMap<String, NpyArray> arrays = sampleArrays();
        Npz.save(file, arrays, compression);
        assertSameArrays(arrays, Npz.load(file));
    }

    /**
     * A thread with an interrupt pending (a cancelled task that saves its model on the way out) can still save, and
     * keeps its interrupt: the file used to be written through an interruptible FileChannel, which closed at the
     * first write with ClosedByInterruptException.
     */
    /**
     * An array of more dimensions than numpy allows (64) was saved, and then refused by load and by numpy alike (a
     * red-team find); refused when it is built now. 64 dimensions save and load.
     */
    @Test
    void moreDimensionsThanNumpyAllowsAreRefusedWhenTheArrayIsBuilt() throws IOException {
        int[] ones65 = new int[65];
        java.util.Arrays.fill(ones65, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> NpyArray.of(new float[1], ones65));
        assertTrue(e.getMessage().endsWith("has 65 dimensions; numpy allows at most 64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NpyArray.of(new int[1], ones65));
        int[] ones64 = java.util.Arrays.copyOf(ones65, 64);
        Path f = dir.resolve("rank64.npz");
        SequencedMap<String, NpyArray> m = new LinkedHashMap<>();
        m.put("a", NpyArray.of(new float[] {1.5f}, ones64));
        Npz.save(f, m);
        assertArrayEquals(ones64, Npz.load(f).get("a").shape());
    }

    /** A null argument of a reader is named with the call (it was the JDK's "Cannot invoke ... because "path" is null"). */
    @Test
    void nullArgumentsOfTheReadersAreNamed() {
        Path p = dir.resolve("x.npz");
        assertEquals("Npz.load: file is null", assertThrows(NullPointerException.class, () -> Npz.load(null)).getMessage());
        assertEquals("Npz.load: except is null",
                assertThrows(NullPointerException.class, () -> Npz.load(p, null)).getMessage());
        assertEquals("Npz.shapes: file is null",
                assertThrows(NullPointerException.class, () -> Npz.shapes(null, java.util.Set.of())).getMessage());
        assertEquals("Npz.shapes: except is null",
                assertThrows(NullPointerException.class, () -> Npz.shapes(p, null)).getMessage());
        assertEquals("Npz.entry: name is null",
                assertThrows(NullPointerException.class, () -> Npz.entry(p, null, 1)).getMessage());
        assertEquals("Npz.text: file is null",
                assertThrows(NullPointerException.class, () -> Npz.text(null, "a", 1)).getMessage());
    }

    @Test
    void aThreadWithAnInterruptPendingCanSaveAndKeepsTheInterrupt() throws IOException {
        Path a = dir.resolve("a.npz");
        Path b = dir.resolve("b.npz");
        Npz.save(a, sampleArrays());
        Thread.currentThread().interrupt();
        try {
            Npz.save(b, sampleArrays());
            AtomicOutput.write(dir.resolve("c.txt"), out -> out.write(new byte[] {'o', 'k'}));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is the caller's to handle");
        } finally {
            Thread.interrupted();
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertEquals("ok", Files.readString(dir.resolve("c.txt")));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList());
        }
    }

    @Test
    void sameArraysGiveSameBytes() throws IOException {
        Path a = dir.resolve("a.npz");
        Path b = dir.resolve("b.npz");
        Npz.save(a, sampleArrays());
        Npz.save(b, sampleArrays());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void headerIsNumpysByteForByte() {
        // from numpy 2.4: b = io.BytesIO(); np.save(b, np.zeros((2, 3), '<f4')); b.getvalue()[:128]
        String want23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " ".repeat(58) + "\n";
        String want3 = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" + " ".repeat(60) + "\n";
        String want0 = "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" + " ".repeat(62) + "\n";
        assertHeader(want23, Npy.header(NpyArray.of(new float[6], 2, 3)));
        assertHeader(want3, Npy.header(NpyArray.of(new int[3], 3)));
        assertHeader(want0, Npy.header(NpyArray.of(new float[1])));
    }

    private static void assertHeader(String dict, byte[] header) {
        assertEquals(128, header.length, "header length (a multiple of 64)");
        assertEquals((byte) 0x93, header[0]);
        assertEquals("NUMPY", new String(header, 1, 5, StandardCharsets.ISO_8859_1));
        assertEquals(1, header[6], "major version");
        assertEquals(0, header[7], "minor version");
        assertEquals(dict.length(), (header[8] & 0xFF) | (header[9] & 0xFF) << 8, "header length field");
        assertEquals(dict, new String(header, 10, header.length - 10, StandardCharsets.ISO_8859_1));
    }

    @Test
    void tensorsRoundTrip() throws IOException {
        Path file = dir.resolve("t.npz");
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.ofFloats(arena, randomFloats(12, 4), 3, 4);
            Tensor ids = Tensor.ofInts(arena, new int[] {1, 2, 3, 4}, 2, 2);
            try (NpzWriter out = NpzWriter.create(file)) {
                out.add("W", NpyArray.of(w)).add("ids", NpyArray.of(ids));
                out.commit();
            }
            NpzFile in = Npz.load(file);
            Tensor w2 = in.requireShape("W", 3, 4).toTensor(arena);
            assertArrayEquals(w.toFloatArray(), w2.toFloatArray());
            assertArrayEquals(new int[] {1, 2, 3, 4}, in.ints("ids", 2, 2));
        }
    }

    // ---- atomic writes -------------------------------------------------------------------------------

    private List<Path> filesIn(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.sorted().toList();
        }
    }

    @Test
    void writeThatFailsHalfWayLeavesOldFileAndNoTempFile() throws IOException {
        Path file = dir.resolve("ckpt.npz");
        Npz.save(file, sampleArrays());
        byte[] before = Files.readAllBytes(file);

        // the second array's supplier fails after the first array has been written to the temp file
        SequencedMap<String, java.util.function.Supplier<NpyArray>> lazy = new LinkedHashMap<>();
        lazy.put("W", () -> NpyArray.of(randomFloats(1000, 9), 10, 100));
        lazy.put("b", () -> {
            throw new IllegalStateException("device copy failed");
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
            try (NpzWriter out = NpzWriter.create(file)) {
                for (var entry : lazy.entrySet()) {
                    out.add(entry.getKey(), entry.getValue().get());
                }
                out.commit();
            }
        });
        assertEquals("device copy failed", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file), "the previous checkpoint is untouched");
        assertEquals(List.of(file), filesIn(dir), "no temporary file is left behind");
        assertSameArrays(sampleArrays(), Npz.load(file));
    }

    @Test
    void atomicOutputContentFailureKeepsOldFile() throws IOException {
        Path file = dir.resolve("data.txt");
        Files.writeString(file, "old");
        assertThrows(IOException.class, () -> AtomicOutput.write(file, out -> {
            out.write("new, half".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(file));
        assertEquals(List.of(file), filesIn(dir));

        AtomicOutput.write(file, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
        assertEquals("new", Files.readString(file));
        assertEquals(List.of(file), filesIn(dir));
    }

    @Test
    void writtenFileHasTheUsualPermissionsNotTempFileOnes() throws IOException {
        // a file written directly gets 0666 minus the umask; ours must get the same, not createTempFile's 0600
        org.junit.jupiter.api.Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"),
                "the file system has no POSIX permissions");
        Path direct = dir.resolve("direct.bin");
        Files.write(direct, new byte[] {1});
        Path ours = dir.resolve("ours.npz");
        Npz.save(ours, sampleArrays());
        assertEquals(Files.getPosixFilePermissions(direct), Files.getPosixFilePermissions(ours));
    }

    @Test
    void writerRejectsDuplicateAndEmptyNamesAndMissingFolder() throws IOException {
        try (NpzWriter out = NpzWriter.create(dir.resolve("x.npz"))) {
            out.add("a", NpyArray.of(new float[1], 1));
            IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                    () -> out.add("a", NpyArray.of(new float[1], 1)));
            assertTrue(dup.getMessage().contains("'a'"), dup.getMessage());
            assertThrows(IllegalArgumentException.class, () -> out.add("", NpyArray.of(new float[1], 1)));
        }
        IOException noFolder = assertThrows(IOException.class, () -> Npz.save(dir.resolve("no/such/x.npz"),
                sampleArrays()));
        assertTrue(noFolder.getMessage().contains("does not exist"), noFolder.getMessage());
        assertEquals(List.of(), filesIn(dir), "nothing committed, nothing left");
    }

    @Test
    void arrayShapeMustMatchData() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NpyArray.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("5"), e.getMessage());
        // a tensor of 2^31 elements (8 GiB) cannot become one Java array; its memory is never read, so a
        // segment that only claims that size stands in for it
        Tensor big = Tensor.wrapHost(java.lang.foreign.MemorySegment.ofAddress(64).reinterpret(8L << 30), 2, 1 << 30);
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> NpyArray.of(big));
        assertTrue(tooBig.getMessage().contains("(2, 1073741824)") && tooBig.getMessage().contains("at most"),
                tooBig.getMessage());
    }

    // ---- reading files numpy may write ----------------------------------------------------------------

    /** A raw .npy entry: magic, version, header (padded to 64 as numpy does), data. */
    static byte[] npy(int major, String dict, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        int total = prefix + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(prefix + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Npy.MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
            b.putShort((short) header.length());
        } else {
            b.putInt(header.length());
        }
        b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        return b.array();
    }

    static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': "
                + shape + ", }";
    }

    static byte[] le(int bytes, java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        fill.accept(b);
        return b.array();
    }

    private Path zipOf(String fileName, SequencedMap<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        Path file = dir.resolve(fileName);
        Files.write(file, bytes.toByteArray());
        return file;
    }

    private Path oneEntry(String fileName, byte[] npy) throws IOException {
        SequencedMap<String, byte[]> m = new LinkedHashMap<>();
        m.put("W.npy", npy);
        return zipOf(fileName, m);
    }

    @Test
    void readsFloat64AndInt64AndVersion2Headers() throws IOException {
        SequencedMap<String, byte[]> m = new LinkedHashMap<>();
        m.put("f8.npy", npy(1, dict("<f8", false, "(3,)"), le(24, b -> b.putDouble(0.1).putDouble(-2).putDouble(1e30))));
        m.put("i8.npy", npy(1, dict("<i8", false, "(2,)"), le(16, b -> b.putLong(-5).putLong(1L << 30))));
        m.put("v2.npy", npy(2, "{'shape': (1, 2), 'fortran_order': False, 'descr': '<i4'}", le(8, b -> b.putInt(7).putInt(8))));
        m.put("readme.txt", "not an array".getBytes(StandardCharsets.UTF_8));
        NpzFile f = Npz.load(zipOf("mixed.npz", m));
        assertEquals(List.of("f8", "i8", "v2"), f.names(), "non-.npy entries are not arrays");
        // float64 -> float32 is a rounding: exact against Java's own (float) cast
        assertArrayEquals(new float[] {(float) 0.1, -2f, (float) 1e30}, f.floats("f8", 3));
        assertArrayEquals(new int[] {-5, 1 << 30}, f.ints("i8", 2));
        assertArrayEquals(new int[] {7, 8}, f.ints("v2", 1, 2));
    }

    private NpzFormatException assertBad(Path file, String array, String... fragments) {
        NpzFormatException e = assertThrows(NpzFormatException.class, () -> Npz.load(file));
        assertMessage(e, file, array, fragments);
        return e;
    }

    private static void assertMessage(NpzFormatException e, Path file, String array, String... fragments) {
        assertEquals(file, e.file());
        assertEquals(array, e.array());
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        if (array != null) {
            assertTrue(e.getMessage().contains("'" + array + "'"), "message names the array: " + e.getMessage());
        }
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should contain '" + f + "': " + e.getMessage());
        }
    }

    @Test
    void notAZip() throws IOException {
        Path file = dir.resolve("notes.npz");
        Files.writeString(file, "these are not weights\n");
        assertBad(file, null, "not a zip archive");
    }

    @Test
    void truncatedFile() throws IOException {
        Path file = dir.resolve("full.npz");
        Npz.save(file, sampleArrays());
        byte[] all = Files.readAllBytes(file);
        for (int keep : new int[] {0, 10, all.length / 2, all.length - 10}) {
            Path cut = dir.resolve("cut" + keep + ".npz");
            Files.write(cut, java.util.Arrays.copyOf(all, keep));
            assertBad(cut, null, "truncated");
        }
    }

    @Test
    void corruptEntryBytes() throws IOException {
        Path file = dir.resolve("flipped.npz");
        SequencedMap<String, NpyArray> one = new LinkedHashMap<>();
        one.put("W", NpyArray.of(new float[64], 8, 8));
        Npz.save(file, one);
        byte[] all = Files.readAllBytes(file);
        // the data of the single stored entry starts after its local header (30 bytes + name) and .npy header
        all[30 + "W.npy".length() + 128 + 5] ^= 0x40;
        Files.write(file, all);
        assertBad(file, "W", "CRC");
    }

    /**
     * Npz.shapes reads the headers and nothing more: the shapes load gives, in file order, from a file whose data
     * fails its checksum too; a header load refuses, shapes refuses in the same words.
     */
    @ParameterizedTest
    @EnumSource(NpzWriter.Compression.class)
    void shapesComeFromTheHeadersAlone(NpzWriter.Compression compression) throws IOException {
        Path file = dir.resolve("shapes.npz");
        Npz.save(file, sampleArrays(), compression);
        SequencedMap<String, int[]> shapes = Npz.shapes(file, java.util.Set.of("b"));
        NpzFile all = Npz.load(file);
        assertEquals(all.names().stream().filter(n -> !n.equals("b")).toList(), List.copyOf(shapes.keySet()));
        shapes.forEach((name, shape) -> assertArrayEquals(all.arrays().get(name).shape(), shape, name));

        Path flipped = dir.resolve("flipped.npz");
        SequencedMap<String, NpyArray> one = new LinkedHashMap<>();
        one.put("W", NpyArray.of(new float[64], 8, 8));
        Npz.save(flipped, one);
        byte[] bytes = Files.readAllBytes(flipped);
        int npy = 0;
        while (bytes[npy] != (byte) 0x93 || bytes[npy + 1] != 'N') {   // the entry's .npy magic (stored: as written)
            npy++;
        }
        int data = npy + 10 + (bytes[npy + 8] & 0xFF | (bytes[npy + 9] & 0xFF) << 8);   // version 1.0 header length
        bytes[data + 5] ^= 0x40;
        Files.write(flipped, bytes);
        assertArrayEquals(new int[] {8, 8}, Npz.shapes(flipped, java.util.Set.of()).get("W"), "no data was read");
        assertBad(flipped, "W", "CRC");
        // a flipped byte in the header: load said the entry is corrupt, shapes that the header lacked 'fortran_order'
        // (a red-team find); both say corrupt now
        bytes[data + 5] ^= 0x40;
        String header = new String(bytes, npy, data - npy, StandardCharsets.ISO_8859_1);
        bytes[npy + header.indexOf("fortran_order") + 2] ^= 0x01;
        Files.write(flipped, bytes);
        assertEquals(assertBad(flipped, "W", "CRC").getMessage(),
                assertThrows(NpzFormatException.class, () -> Npz.shapes(flipped, java.util.Set.of())).getMessage());

        Path bad = oneEntry("h3s.npz", npy(1, "{'descr': '<f4', 'fortran_order': False}", new byte[8]));
        assertEquals(assertBad(bad, "W", "shape").getMessage(),
                assertThrows(NpzFormatException.class, () -> Npz.shapes(bad, java.util.Set.of())).getMessage());
    }

    @Test
    void headerThatDoesNotParse() throws IOException {
        assertBad(oneEntry("h1.npz", npy(1, "{'descr': '<f4', 'fortran_order': Flase, 'shape': (2,), }", new byte[8])),
                "W", "does not parse");
        assertBad(oneEntry("h2.npz", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,", new byte[8])),
                "W", "does not parse");
        assertBad(oneEntry("h3.npz", npy(1, "{'descr': '<f4', 'fortran_order': False}", new byte[8])),
                "W", "shape");
        assertBad(oneEntry("h4.npz", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", new byte[8])),
                "W", "tuple 'shape'");
        assertBad(oneEntry("h5.npz", npy(1, dict("<f4", false, "(2,)").replace("}", "'extra': 1}"), new byte[8])),
                "W", "expected exactly");
        assertBad(oneEntry("magic.npz", "PK not npy at all".getBytes(StandardCharsets.ISO_8859_1)), "W", "magic");
        // a control character in the header quoted as \xHH (a NUL read as a space, which looked like valid text)
        assertBad(oneEntry("nul.npz", npy(1, "{'descr': '<f4',\u0000'fortran_order': False, 'shape': (2,), }",
                new byte[8])), "W", "does not parse", "'<f4',\\x00'fortran_order'");
        // as Python reads them, and numpy with it: "(2)" is the integer 2, no tuple (it was read as (2,)); "02" is no
        // integer (a leading zero); "(2,)", "(0,)", "()" and a 1-tuple of a 1-tuple's parts stay what they were
        assertBad(oneEntry("h6.npz", npy(1, dict("<f4", false, "(2)"), new byte[8])), "W", "tuple 'shape'");
        assertBad(oneEntry("h7.npz", npy(1, dict("<f4", false, "(02,)"), new byte[8])), "W", "does not parse",
                "leading zero");
        assertArrayEquals(new int[] {2}, Npz.load(oneEntry("h8.npz", npy(1, dict("<f4", false, "(2,)"), new byte[8])))
                .get("W").shape());
        assertArrayEquals(new int[] {0}, Npz.load(oneEntry("h9.npz", npy(1, dict("<f4", false, "(0,)"), new byte[0])))
                .get("W").shape());
        assertArrayEquals(new int[] {2, 1}, Npz.load(oneEntry("h10.npz", npy(1, dict("<f4", false, "((2), 1)"),
                new byte[8]))).get("W").shape());
    }

    /**
     * A shape in another script's digits (a version 3 header is UTF-8): Character.isDigit and Long.parseLong took
     * "(\u0663,)" as (3,); numpy writes ASCII digits only, and reads no other.
     */
    @Test
    void aShapeInDigitsOfAnotherScriptDoesNotParse() throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\u0663,), }";
        byte[] header = (dict + " ".repeat(40) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(12 + header.length + 12).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Npy.MAGIC).put((byte) 3).put((byte) 0).putInt(header.length).put(header).put(new byte[12]);
        assertBad(oneEntry("digits.npz", b.array()), "W", "does not parse");
    }

    @Test
    void unsupportedFormatVersion() throws IOException {
        byte[] b = npy(1, dict("<f4", false, "(2,)"), new byte[8]);
        b[6] = 9;
        assertBad(oneEntry("v9.npz", b), "W", "version 9.0");
    }

    @Test
    void dataSizeThatDoesNotMatchShape() throws IOException {
        assertBad(oneEntry("short.npz", npy(1, dict("<f4", false, "(2, 3)"), new byte[20])), "W",
                "data size does not match", "(2, 3)", "24", "20");
        assertBad(oneEntry("long.npz", npy(1, dict("<i4", false, "(2,)"), new byte[12])), "W", "data size");
    }

    @Test
    void unsupportedLayoutsAndTypes() throws IOException {
        assertBad(oneEntry("be.npz", npy(1, dict(">f4", false, "(2,)"), new byte[8])), "W", "big-endian");
        assertBad(oneEntry("fo.npz", npy(1, dict("<f4", true, "(2, 2)"), new byte[16])), "W", "fortran_order");
        assertBad(oneEntry("obj.npz", npy(1, dict("|O", false, "(2,)"), new byte[16])), "W", "object dtype");
        assertBad(oneEntry("u1.npz", npy(1, dict("|u1", false, "(2,)"), new byte[2])), "W", "dtype |u1");
        assertBad(oneEntry("rec.npz", npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                new byte[4])), "W", "structured");
    }

    @Test
    void valuesThatDoNotFit() throws IOException {
        assertBad(oneEntry("i8.npz", npy(1, dict("<i8", false, "(3,)"), le(24, b -> b.putLong(1).putLong(2)
                .putLong(1L << 31)))), "W", "2147483648", "flat index 2", "int32");
        assertBad(oneEntry("f8.npz", npy(1, dict("<f8", false, "(1,)"), le(8, b -> b.putDouble(1e300)))), "W",
                "1.0E300", "float32");
    }

    /**
     * docs/INTEROP.md's float64 and int64 rules, value by value: each float64 rounded as Java's (float) cast rounds it
     * (1e-50 to 0.0, -1e-50 to -0.0 with its sign, the subnormals kept, NaN and the infinities as they are), the error
     * from the first finite value that rounds past float32's range and not before; int64 exact over int32's range.
     */
    @Test
    void float64AndInt64NarrowAsTheGuideSays() throws IOException {
        double edge = Math.nextDown((double) Float.MAX_VALUE + Math.ulp(Float.MAX_VALUE) / 2); // still rounds to MAX
        double[] in = {1e-50, -1e-50, 1e-40, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.1, edge,
                -edge, 3.4028235e38};
        float[] got = Npz.load(oneEntry("f8ok.npz", npy(1, dict("<f8", false, "(" + in.length + ",)"),
                le(8 * in.length, b -> { for (double d : in) { b.putDouble(d); } })))).floats("W", in.length);
        assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(got[0]), "1e-50 reads as 0.0");
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(got[1]), "-1e-50 reads as -0.0");
        assertEquals((float) 1e-40, got[2], "a subnormal");
        assertTrue(got[2] > 0 && got[2] < Float.MIN_NORMAL, "1e-40 is a subnormal float: " + got[2]);
        assertTrue(Float.isNaN(got[3]), "NaN stays NaN");
        assertEquals(Float.POSITIVE_INFINITY, got[4]);
        assertEquals(Float.NEGATIVE_INFINITY, got[5]);
        assertEquals(0.1f, got[6]);
        assertEquals(Float.MAX_VALUE, got[7], "the largest float64 that rounds to float32's largest");
        assertEquals(-Float.MAX_VALUE, got[8]);
        assertEquals(Float.MAX_VALUE, got[9]);
        double past = Math.nextUp(edge);
        assertBad(oneEntry("f8past.npz", npy(1, dict("<f8", false, "(2,)"), le(16, b -> b.putDouble(1).putDouble(-past)))),
                "W", "float64 value " + -past + " at flat index 1 does not fit in float32");
        assertBad(oneEntry("f8big.npz", npy(1, dict("<f8", false, "(1,)"), le(8, b -> b.putDouble(1e300)))), "W",
                "float64 value 1.0E300 at flat index 0 does not fit in float32");

        long[] ints = {Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0};
        assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0},
                Npz.load(oneEntry("i8ok.npz", npy(1, dict("<i8", false, "(4,)"),
                        le(32, b -> { for (long v : ints) { b.putLong(v); } })))).get("W") instanceof NpyArray.I32 i
                        ? i.data() : null);
        assertBad(oneEntry("i8low.npz", npy(1, dict("<i8", false, "(1,)"), le(8, b -> b.putLong(Integer.MIN_VALUE - 1L)))),
                "W", "int64 value -2147483649 at flat index 0 does not fit in int32");
        assertBad(oneEntry("i8high.npz", npy(1, dict("<i8", false, "(1,)"), le(8, b -> b.putLong(1L << 31)))),
                "W", "int64 value 2147483648 at flat index 0 does not fit in int32");
    }

    @Test
    void missingArrayAndShapeMismatchAndWrongType() throws IOException {
        Path file = dir.resolve("model.npz");
        Npz.save(file, sampleArrays());
        NpzFile f = Npz.load(file);
        NpzFormatException missing = assertThrows(NpzFormatException.class, () -> f.get("decoder.lstm.Wx"));
        assertMessage(missing, file, "decoder.lstm.Wx", "no such array", "encoder.lstm.Wx");
        NpzFormatException shape = assertThrows(NpzFormatException.class,
                () -> f.requireShape("encoder.lstm.Wx", 32, 16));
        assertMessage(shape, file, "encoder.lstm.Wx", "(16, 32)", "(32, 16)");
        NpzFormatException type = assertThrows(NpzFormatException.class, () -> f.floats("ids", 2, 3));
        assertMessage(type, file, "ids", "integers");
        assertInstanceOf(NpyArray.F32.class, f.requireShape("b", 5));
    }

    @Test
    void nanRejectedOnlyWhenAsked() throws IOException {
        Path file = dir.resolve("diverged.npz");
        float[] w = randomFloats(6, 5);
        w[4] = Float.NaN;
        SequencedMap<String, NpyArray> m = new LinkedHashMap<>();
        m.put("ok", NpyArray.of(new float[] {1, 2}, 2));
        m.put("Wh", NpyArray.of(w, 2, 3));
        Npz.save(file, m);
        NpzFile f = Npz.load(file);
        assertTrue(Float.isNaN(f.floats("Wh", 2, 3)[4]), "NaN is read as it is");
        f.requireFinite("ok");
        NpzFormatException e = assertThrows(NpzFormatException.class, f::requireAllFinite);
        assertMessage(e, file, "Wh", "NaN", "flat index 4");
    }

    // ---- hostile files: bounded work, a clear error, never an OutOfMemoryError or StackOverflowError ------

    @Test
    void zipBombStopsAtTheSizeItsHeaderDeclares() throws IOException {
        byte[] head = ZipBomb.floatHeader("(2,)");
        // the archive lists the true size (header + 64 MiB of zeros): refused before any data is read
        Path honest = dir.resolve("bomb-honest.npz");
        Files.write(honest, ZipBomb.zip("W.npy", head, 64, -1));
        assertBad(honest, "W", "data size does not match", "needs 8 bytes", "holds " + (64L << 20));
        // the archive lists the size the header implies: reading stops one byte past it
        Path lying = dir.resolve("bomb-lying.npz");
        Files.write(lying, ZipBomb.zip("W.npy", head, 64, head.length + 8));
        assertBad(lying, "W", "data size does not match", "needs 8 bytes", "past the 8 bytes", "zip bomb");
    }

    @Test
    void deeplyNestedHeaderIsAParseErrorNotAStackOverflow() throws IOException {
        assertBad(oneEntry("nested.npz", ZipBomb.nestedHeader(60_000)), "W", "does not parse",
                "nested deeper than " + Npy.MAX_DEPTH);
        // the limit counts the dict: MAX_DEPTH - 1 tuples parse (then fail as a shape), one more does not
        String tuples = "1";
        for (int i = 0; i < Npy.MAX_DEPTH - 1; i++) {
            tuples = "(" + tuples + ",)";
        }
        assertBad(oneEntry("deep-ok.npz", npy(1, dict("<f4", false, tuples), new byte[4])), "W", "not an int32");
        assertBad(oneEntry("deep-bad.npz", npy(1, dict("<f4", false, "(" + tuples + ",)"), new byte[4])), "W",
                "nested deeper than " + Npy.MAX_DEPTH);
    }

    @Test
    void absurdHeadersAreRefusedBeforeAllocating() throws IOException {
        // more elements than a long: the exact product overflows, a clamped or wrapped one would not say so
        String huge = "(2147483647, 2147483647, 2147483647)";
        assertBad(oneEntry("huge.npz", npy(1, dict("<f4", false, huge), new byte[0])), "W", huge,
                "more elements than a Java array can hold");
        // a zero dimension makes any shape empty, however large the others
        NpzFile empty = Npz.load(oneEntry("empty.npz", npy(1, dict("<f4", false, "(2147483647, 2147483647, 0)"),
                new byte[0])));
        assertEquals(0, empty.get("W").size());
        assertBad(oneEntry("rank.npz", npy(1, dict("<f4", false, "(" + "1, ".repeat(65) + ")"), new byte[4])), "W",
                "65 dimensions", "at most 64");
        byte[] longHeader = npy(2, dict("<f4", false, "(1,)"), new byte[4]);
        ByteBuffer.wrap(longHeader).order(ByteOrder.LITTLE_ENDIAN).putInt(8, Integer.MAX_VALUE);
        assertBad(oneEntry("long-header.npz", longHeader), "W", "2147483647 bytes long", "at most");
    }

    /**
     * A header that declares more data than the whole archive can hold, in an entry whose listed size agrees with it
     * (2^27 floats, 512 MiB, deflated in an archive of a few hundred bytes): refused before the values are allocated.
     * Within the heap, the 512 MiB were allocated and only then was the data found to be 8 bytes (NpzMutationFuzzTest
     * measures the allocation, stored entries' too).
     */
    @Test
    void dataTheArchiveCannotHoldIsRefusedBeforeAllocating() throws IOException {
        byte[] head = ZipBomb.floatHeader("(134217728,)");
        Path deflated = dir.resolve("declared-deflated.npz");
        Files.write(deflated, ZipBomb.zip("W.npy", head, 0, head.length + (512L << 20)));
        assertBad(deflated, "W", "needs 536870912 bytes but the entry holds at most", "zip bomb");
    }

    /**
     * The same files in a JVM with a 64 MiB heap, where reading everything they inflate to or declare ends in an
     * OutOfMemoryError: a 1 MiB bomb of 1 GiB of zeros, 60,000 nested '(', and a shape of 2^29 floats (2 GiB)
     * whose archive entry is listed with that size but holds 8 bytes.
     */
    @Test
    void hostileFilesInASmallHeapEndInOneErrorEach() throws Exception {
        byte[] head = ZipBomb.floatHeader("(2,)");
        Path bomb = dir.resolve("bomb.npz");
        Files.write(bomb, ZipBomb.zip("W.npy", head, 1024, head.length + 8));
        assertTrue(Files.size(bomb) < 2 << 20, "a bomb of about 1 MiB: " + Files.size(bomb));
        Path nested = oneEntry("nested.npz", ZipBomb.nestedHeader(60_000));
        byte[] bigHead = ZipBomb.floatHeader("(536870912,)");
        Path big = dir.resolve("big.npz");
        Files.write(big, ZipBomb.zip("W.npy", bigHead, 0, bigHead.length + (2L << 30)));
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-Xmx64m", "-Xss1m"),
                LoadNpz.class.getName(), bomb.toString(), nested.toString(), big.toString());
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.toString());
        assertTrue(lines.get(0).startsWith(bomb + ": NpzFormatException") && lines.get(0).contains("zip bomb"),
                r.toString());
        assertTrue(lines.get(1).startsWith(nested + ": NpzFormatException") && lines.get(1).contains("nested deeper"),
                r.toString());
        assertTrue(lines.get(2).startsWith(big + ": NpzFormatException") && lines.get(2).contains("(536870912,)")
                && lines.get(2).contains("bytes of Java heap"), r.toString());
    }

    /**
     * The same honest file, one float32 array of 40 MiB (zeros, deflated to a few KiB), loaded three times in a JVM with
     * a 64 MiB heap, each result dropped: all three load. The check before allocating counted the garbage of the load
     * before as used, and refused the second and every later one ("raise -Xmx") until something else made a
     * collection come.
     */
    @Test
    void aLargeArrayLoadsAgainOnceTheLastOneIsGarbage() throws Exception {
        Path file = dir.resolve("zeros.npz");
        SequencedMap<String, NpyArray> one = new LinkedHashMap<>();
        one.put("W", NpyArray.of(new float[10 << 20], 10 << 20));
        Npz.save(file, one, NpzWriter.Compression.DEFLATED);
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-Xmx64m"), LoadNpz.class.getName(),
                file.toString(), file.toString(), file.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of(file + ": loaded [W]", file + ": loaded [W]", file + ": loaded [W]"), r.out().lines()
                .toList(), r.toString());
    }

    /**
     * A raw entry (a checkpoint's description) whose bytes changed is corrupt, as an array's are: java.util.zip checks
     * no CRC-32 of a stored entry, and a flipped byte came back as text ("task=Xm"). An archive cut inside its end
     * record's comment, or a raw entry cut short, named no file ("java.io.EOFException: null").
     */
    @Test
    void aDamagedDescriptionOrEndRecordIsOneFormatErrorNamingTheFile() throws IOException {
        Path file = dir.resolve("described.npz");
        try (NpzWriter w = NpzWriter.create(file)) {
            w.add("W", NpyArray.of(new float[4], 4));
            w.addEntry("model.properties", "task=lm\nmodel=rnnlm\n".getBytes(StandardCharsets.ISO_8859_1));
            w.commit();
        }
        assertEquals("task=lm\nmodel=rnnlm\n", Npz.text(file, "model.properties", 1 << 20));
        byte[] all = Files.readAllBytes(file);
        int at = indexOf(all, "task=lm".getBytes(StandardCharsets.ISO_8859_1));
        byte[] flipped = all.clone();
        flipped[at + 5] = 'X';
        Path bad = dir.resolve("flipped.npz");
        Files.write(bad, flipped);
        NpzFormatException e = assertThrows(NpzFormatException.class, () -> Npz.text(bad, "model.properties", 1 << 20));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("model.properties is corrupt: "
                + "its CRC-32"), e.getMessage());
        assertThrows(NpzFormatException.class, () -> Npz.entry(bad, "model.properties", 1 << 20));

        // the end record's comment length made 2 where the file ends: "EOFException: null" from the zip reader
        byte[] commented = all.clone();
        commented[commented.length - 2] = 2;
        Path cut = dir.resolve("comment.npz");
        Files.write(cut, commented);
        for (org.junit.jupiter.api.function.Executable read : List.<org.junit.jupiter.api.function.Executable>of(
                () -> Npz.load(cut), () -> Npz.text(cut, "model.properties", 100), () -> Npz.shapes(cut, java.util.Set.of()))) {
            NpzFormatException t = assertThrows(NpzFormatException.class, read);
            assertTrue(t.getMessage().contains(cut.toString()) && t.getMessage().contains("truncated"), t.getMessage());
        }

        // the limits: negative refused in their own words; the largest int reads the entry (it overflowed to "len < 0")
        assertThrows(IllegalArgumentException.class, () -> Npz.entry(file, "model.properties", -1));
        assertThrows(IllegalArgumentException.class, () -> Npz.text(file, "model.properties", -1));
        assertEquals(20, Npz.entry(file, "model.properties", Integer.MAX_VALUE).length);
        assertEquals("task=lm\nmodel=rnnlm\n", Npz.text(file, "model.properties", Integer.MAX_VALUE));
    }

    private static int indexOf(byte[] all, byte[] part) {
        for (int i = 0; i + part.length <= all.length; i++) {
            if (java.util.Arrays.equals(all, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    /** An array added after commit() went nowhere without a word (a large one: "Stream Closed"). */
    @Test
    void aCommittedWriterRefusesMore() throws IOException {
        Path file = dir.resolve("committed.npz");
        try (NpzWriter w = NpzWriter.create(file)) {
            w.add("a", NpyArray.of(new float[] {1}, 1));
            w.commit();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> w.add("b", NpyArray.of(new float[] {2}, 1)));
            assertEquals("the NpzWriter of " + file + " is already committed; write another file for more arrays",
                    e.getMessage());
            assertThrows(IllegalStateException.class, () -> w.addEntry("meta", new byte[1]));
            assertThrows(IllegalStateException.class, w::commit);
        }
        assertEquals(List.of("a"), Npz.load(file).names());
        // null arguments are named (bare NullPointerExceptions before)
        try (NpzWriter w = NpzWriter.create(dir.resolve("nulls.npz"))) {
            assertEquals("NpzWriter.add: array x is null (writing " + dir.resolve("nulls.npz") + ")",
                    assertThrows(NullPointerException.class, () -> w.add("x", null)).getMessage());
            assertTrue(assertThrows(NullPointerException.class, () -> w.addEntry("m", null)).getMessage()
                    .startsWith("NpzWriter.addEntry: the bytes of m are null"));
            // a null name was "array name must not be empty", an empty one did not name the call
            Path nulls = dir.resolve("nulls.npz");
            assertEquals("NpzWriter.add: name is null; expected the array's name (writing " + nulls + ")",
                    assertThrows(NullPointerException.class, () -> w.add(null, NpyArray.of(new float[] {1}, 1)))
                            .getMessage());
            assertEquals("NpzWriter.add: name is null; expected the array's name (writing " + nulls + ")",
                    assertThrows(NullPointerException.class, () -> w.add(null, null)).getMessage());
            assertEquals("NpzWriter.add: array name is empty; expected a non-empty name (writing " + nulls + ")",
                    assertThrows(IllegalArgumentException.class, () -> w.add("", NpyArray.of(new float[] {1}, 1)))
                            .getMessage());
            assertEquals("NpzWriter.addEntry: entryName is null; expected the entry's name (writing " + nulls + ")",
                    assertThrows(NullPointerException.class, () -> w.addEntry(null, new byte[1])).getMessage());
        }
        java.util.Set<String> withNull = new java.util.HashSet<>(java.util.Arrays.asList("a", null));
        assertEquals("Npz.load: except holds a null name",
                assertThrows(NullPointerException.class, () -> Npz.load(file, withNull)).getMessage());
    }

    /**
     * Targets the temporary file made hard to write: a name of 249 characters (legal; the temporary name, 19 longer,
     * was not: "File name too long", naming the temporary file), "/" ("folder null does not exist"), and a folder
     * where no file can be made (the message named only the temporary file).
     */
    @Test
    void atomicWritesNameTheTargetWhateverItIs() throws IOException {
        Path longName = dir.resolve("m".repeat(245) + ".npz");
        Npz.save(longName, sampleArrays());
        assertEquals(sampleArrays().keySet(), Npz.load(longName).arrays().keySet());
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(longName), left.toList(), "no temporary file left");
        }
        IOException root = assertThrows(IOException.class, () -> Npz.save(Path.of("/"), sampleArrays()));
        assertEquals("cannot write /: it is the root folder, not a file", root.getMessage());
        Path proc = Path.of("/proc/seq4j-test.npz");
        if (Files.isDirectory(proc.getParent())) {
            java.nio.file.FileSystemException e = assertThrows(java.nio.file.FileSystemException.class,
                    () -> Npz.save(proc, sampleArrays()));
            assertEquals(proc.toString(), e.getFile(), e.getMessage());
            assertTrue(e.getMessage().contains("cannot create a file in /proc to write it through"), e.getMessage());
        }
    }

    @Test
    void aClosedWriterRefusesMoreWithOneLine() throws IOException {
        Path file = dir.resolve("closed.npz");
        NpzWriter w = NpzWriter.create(file);
        w.close();
        w.close(); // twice: nothing
        NpyArray a = new NpyArray.F32(new int[] {1}, new float[] {1f});
        // an add used to go to the closed file's buffer without a word
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.add("x", a));
        assertEquals("the NpzWriter of " + file + " is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> w.addEntry("meta", new byte[1]));
        assertThrows(IllegalStateException.class, w::commit);
        assertFalse(Files.exists(file));
    }

    /**
     * Each NpzWriter's ZipOutputStream makes a Deflater (zlib's state, about 80 KB of native memory, even for stored
     * entries) that only ZipOutputStream.close or the garbage collector freed; NpzWriter closed the file under it, not
     * it. A server that saves checkpoints while its heap stays quiet so grew by about 80 KB a save (measured: 1,000
     * saves, 83 MB). Here in a child JVM without a collector (Epsilon, heap touched up front, so the heap's own pages do
     * not count): 500 saves, half committed and half abandoned, after a warm-up. Leaking, they grow the resident memory
     * by about 40 MB; freed, by under 2 MB (measured: 1.7 MB for 1,000, the JIT's code). The bound, 16 MB, sits between.
     */
    @Test
    void savesFreeTheirNativeMemoryWithoutTheGarbageCollector() throws Exception {
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-XX:+UnlockExperimentalVMOptions",
                "-XX:+UseEpsilonGC", "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch"), SaveNpzMany.class.getName(),
                dir.resolve("saved.npz").toString(), "500");
        assertEquals(0, r.exitCode(), r.toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("500 saves: resident memory grew (-?\\d+) KB")
                .matcher(r.out());
        assertTrue(m.find(), r.toString());
        long grewKb = Long.parseLong(m.group(1));
        assertTrue(grewKb < 16 << 10, "500 saves grew the resident memory by " + grewKb + " KB; under 16 MB expected"
                + " (each save's Deflater must be freed by close, not left to the garbage collector)");
    }

    /** {@code zip} with the compression method of its every entry set to {@code method} (local and central headers). */
    private static byte[] withMethod(byte[] zip, int method) {
        ByteBuffer b = ByteBuffer.wrap(zip.clone()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 4 <= zip.length; i++) {
            int sig = b.getInt(i);
            if (sig == 0x04034b50) { // local file header: method at +8
                b.putShort(i + 8, (short) method);
            } else if (sig == 0x02014b50) { // central directory header: method at +10
                b.putShort(i + 10, (short) method);
            }
        }
        return b.array();
    }

    /**
     * Paths that are no .npz seq4j reads, each an NpzFormatException saying what it is: a folder (before, a bare
     * FileNotFoundException "... (Is a directory)"), and an archive whose entries are compressed with bzip2 or
     * LZMA (methods 12 and 14, which Python's zipfile writes and java.util.zip does not read; before, "not a zip
     * archive, or a truncated one").
     */
    @Test
    void aFolderOrAnArchiveOfAnotherCompressionIsNamedAsSuch() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("weights.npz"));
        assertBad(folder, null, "is a folder; expected a .npz file");
        Path stored = dir.resolve("stored.npz");
        Npz.save(stored, sampleArrays());
        for (int method : new int[] {12, 14}) {
            Path other = Files.write(dir.resolve("method" + method + ".npz"), withMethod(Files.readAllBytes(stored), method));
            assertBad(other, null, "compression method " + method,
                    "seq4j reads stored and deflated entries (np.savez, np.savez_compressed)");
        }
    }

    /**
     * Npz.entry reads a non-array entry, such as a checkpoint's description, as bytes: absent is null; two entries
     * of that name (which one numpy or seq4j would read is a matter of zip library) or one over the limit are errors
     * naming the entry.
     */
    @Test
    void aNonArrayEntryIsReadOnceAndBounded() throws IOException {
        SequencedMap<String, byte[]> m = new LinkedHashMap<>();
        m.put("W.npy", npy(1, dict("<f4", false, "(2,)"), new byte[8]));
        m.put("notes.txt", "first".getBytes(StandardCharsets.UTF_8));
        Path one = zipOf("one.npz", m);
        assertArrayEquals("first".getBytes(StandardCharsets.UTF_8), Npz.entry(one, "notes.txt", 5));
        assertEquals(null, Npz.entry(one, "other.txt", 100));
        NpzFormatException big = assertThrows(NpzFormatException.class, () -> Npz.entry(one, "notes.txt", 4));
        assertMessage(big, one, null, "its entry notes.txt holds more than the 4 bytes");   // an entry, no array
        // a second "notes.txt": the same archive with a copy of the entry under a name of the same length, renamed
        byte[] twice = Files.readAllBytes(zipOf("twice.npz", new LinkedHashMap<>(java.util.Map.of(
                "notes.txt", "first".getBytes(StandardCharsets.UTF_8), "notes.txu", "other".getBytes(StandardCharsets.UTF_8)))));
        String text = new String(twice, StandardCharsets.ISO_8859_1).replace("notes.txu", "notes.txt");
        Path dup = Files.write(dir.resolve("dup.npz"), text.getBytes(StandardCharsets.ISO_8859_1));
        NpzFormatException e = assertThrows(NpzFormatException.class, () -> Npz.entry(dup, "notes.txt", 100));
        assertMessage(e, dup, null, "two entries named notes.txt");
    }

    // ---- text: the raw entry, or one string as numpy saves it back --------------------------------------

    /** An archive holding the array W and the entry {@code name} with {@code bytes}. */
    private Path withText(String fileName, String name, byte[] bytes) throws IOException {
        SequencedMap<String, byte[]> m = new LinkedHashMap<>();
        m.put("W.npy", npy(1, dict("<f4", false, "(2,)"), new byte[8]));
        m.put(name, bytes);
        return zipOf(fileName, m);
    }

    /** The item of a {@code <U} array: each code point of {@code s} in 4 little-endian bytes. */
    private static byte[] utf32(String s) {
        int[] points = s.codePoints().toArray();
        return le(4 * points.length, b -> b.asIntBuffer().put(points));
    }

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Npz.text reads a text in either form np.load gives it: the raw entry, or, once numpy has saved the archive
     * again, one string in "name.npy": bytes ({@code |S}: Latin-1, numpy's NUL padding at the end dropped as numpy
     * drops it, a NUL inside kept) or str ({@code <U}: code points, 4 bytes each, the limit counting characters),
     * of shape () or one element. Npz.load still refuses such an array, unless told to leave it out.
     */
    @Test
    void textIsTheRawEntryOrOneStringAsNumpySavesItBack() throws IOException {
        assertEquals("a=\u00e9\n", Npz.text(withText("raw.npz", "notes", latin1("a=\u00e9\n")), "notes", 4));
        assertEquals(null, Npz.text(withText("none.npz", "other", latin1("x")), "notes", 4));
        assertEquals("a=\u00e9\n", Npz.text(withText("s.npz", "notes.npy", npy(1, dict("|S4", false, "()"),
                latin1("a=\u00e9\n"))), "notes", 4));
        for (String shape : List.of("(1,)", "(1, 1)")) {
            assertEquals("abc", Npz.text(withText("one.npz", "notes.npy", npy(1, dict("|S3", false, shape),
                    latin1("abc"))), "notes", 3), shape);
        }
        assertEquals("a\0b", Npz.text(withText("padded.npz", "notes.npy", npy(1, dict("|S6", false, "()"),
                latin1("a\0b\0\0\0"))), "notes", 6));
        assertEquals("", Npz.text(withText("empty.npz", "notes.npy", npy(1, dict("|S1", false, "()"), new byte[1])),
                "notes", 1));
        String wide = "k=\u00e9\u4e2d\ud83d\ude00\n"; // 6 code points, two outside Latin-1, one outside the BMP
        assertEquals(wide, Npz.text(withText("u.npz", "notes.npy", npy(1, dict("<U6", false, "()"), utf32(wide))),
                "notes", 6));
        assertEquals("ab", Npz.text(withText("upadded.npz", "notes.npy", npy(1, dict("<U3", false, "(1,)"),
                utf32("ab\0"))), "notes", 3));
        // ordinary arrays stay strict: a string array is not one, unless left out by name
        Path s = withText("strict.npz", "notes.npy", npy(1, dict("|S3", false, "()"), latin1("abc")));
        assertBad(s, "notes", "dtype |S3 is not supported");
        assertEquals(List.of("W"), Npz.load(s, java.util.Set.of("notes")).names());
    }

    private void assertBadText(Path file, String array, int maxChars, String message) {
        NpzFormatException e = assertThrows(NpzFormatException.class, () -> Npz.text(file, "notes", maxChars));
        assertMessage(e, file, array, message);
        assertEquals(file + (array == null ? "" : ", array '" + array + "'") + ": " + message, e.getMessage());
    }

    /**
     * Any other array under "name.npy" is one error line naming the file and the entry, read no further than its
     * header: another dtype (big-endian str too), no string or more than one, data of another size than the dtype
     * needs, a str item that is no code point, more characters than the limit; and so are both forms in one archive
     * (np.load gives each as "name") and two entries of one name.
     */
    @Test
    void textInAnyOtherFormIsOneErrorNamingIt() throws IOException {
        String forms = " is not text; text is read from a bytes (|S) or str (<U) array of one element, as np.savez "
                + "writes a bytes or str value";
        assertBadText(withText("f4.npz", "notes.npy", npy(1, dict("<f4", false, "()"), new byte[4])), "notes", 9,
                "dtype <f4" + forms);
        assertBadText(withText("bigU.npz", "notes.npy", npy(1, dict(">U1", false, "()"), new byte[4])), "notes", 9,
                "dtype >U1" + forms);
        assertBadText(withText("none.npz", "notes.npy", npy(1, dict("|S1", false, "(0,)"), new byte[0])), "notes", 9,
                "shape (0,) holds 0 strings; text is read from a bytes (|S) or str (<U) array of one element, as "
                        + "np.savez writes a bytes or str value (shape ())");
        assertBadText(withText("two.npz", "notes.npy", npy(1, dict("|S1", false, "(2,)"), latin1("ab"))), "notes", 9,
                "shape (2,) holds 2 strings; text is read from a bytes (|S) or str (<U) array of one element, as "
                        + "np.savez writes a bytes or str value (shape ())");
        assertBadText(withText("short.npz", "notes.npy", npy(1, dict("|S5", false, "()"), latin1("abcd"))), "notes", 9,
                "data size does not match the dtype: one |S5 needs 5 bytes but the entry holds 4");
        assertBadText(withText("long.npz", "notes.npy", npy(1, dict("<U1", false, "()"), new byte[5])), "notes", 9,
                "data size does not match the dtype: one <U1 needs 4 bytes but the entry holds 5");
        assertBadText(withText("point.npz", "notes.npy", npy(1, dict("<U2", false, "()"), le(8, b -> b.putInt(65)
                .putInt(0x110000)))), "notes", 9, "character 1 of the <U2 string is 0x110000, not a Unicode code point");
        assertBadText(withText("over.npz", "notes.npy", npy(1, dict("<U3", false, "()"), utf32("abc"))), "notes", 2,
                "dtype <U3 is a string of 3 characters; seq4j reads at most 2");
        assertBadText(withText("huge.npz", "notes.npy", npy(1, dict("|S99999999999999", false, "()"), new byte[0])),
                "notes", 9, "dtype |S99999999999999 is a string of 99999999999999 characters; seq4j reads at most 9");
        assertBadText(withText("rawover.npz", "notes", latin1("abc")), null, 2,
                "its entry notes holds more than the 2 bytes read of it");
        SequencedMap<String, byte[]> m = new LinkedHashMap<>();
        m.put("notes", latin1("abc"));
        m.put("notes.npy", npy(1, dict("|S3", false, "()"), latin1("abc")));
        assertBadText(zipOf("both.npz", m), null, 9, "the archive holds both notes and notes.npy, which np.load both "
                + "gives as 'notes': which one is meant?");
        // a second "notes.npy": the archive with a copy under a name of the same length, renamed in its bytes
        m.clear();
        m.put("notes.npy", npy(1, dict("|S3", false, "()"), latin1("abc")));
        m.put("notes.npz", npy(1, dict("|S3", false, "()"), latin1("xyz")));
        String twice = new String(Files.readAllBytes(zipOf("twice.npz", m)), StandardCharsets.ISO_8859_1)
                .replace("notes.npz", "notes.npy");
        Path dup = Files.write(dir.resolve("dup.npz"), twice.getBytes(StandardCharsets.ISO_8859_1));
        assertBadText(dup, null, 9, "the archive holds two entries named notes.npy");
    }

    @Test
    void missingFile() {
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Npz.load(dir.resolve("nope.npz")));
        assertFalse(Files.exists(dir.resolve("nope.npz")));
    }

    /**
     * Names with '/', '\\', ".." or NUL became zip entries ("../x.npy") that an extracting tool may write outside the
     * folder it was given; save refuses them in one line naming the name, and writes nothing. The book's names pass.
     */
    @Test
    void namesThatUnzipAsPathsAreRefused() throws IOException {
        Path file = dir.resolve("names.npz");
        for (String name : new String[] {"../x", "a/b", "/etc/x", "a\\b", "..", "a..b", "x\0y"}) {
            SequencedMap<String, NpyArray> arrays = new LinkedHashMap<>();
            arrays.put("encoder.lstm.Wx", NpyArray.of(new float[] {1f}, 1));
            arrays.put(name, NpyArray.of(new float[] {2f}, 1));
            String m = assertThrows(IllegalArgumentException.class, () -> Npz.save(file, arrays), name).getMessage();
            assertTrue(m.startsWith("NpzWriter.add: array name \"" + name.replace("\0", "\\0") + "\" holds ")
                    && m.contains("(writing " + file + ")") && m.lines().count() == 1, m);
            assertFalse(Files.exists(file), name + ": nothing written");
            try (NpzWriter w = NpzWriter.create(file)) {
                assertThrows(IllegalArgumentException.class, () -> w.addEntry(name, new byte[1]), name);
            }
        }
        SequencedMap<String, NpyArray> book = sampleArrays();
        book.put("decoder.affine.b", NpyArray.of(new float[] {3f}, 1));
        Npz.save(file, book);
        assertSameArrays(book, Npz.load(file));
        // numpy writes such names (np.savez(f, **{"a/b": x})); read, they are only keys, never paths
        Path numpy = dir.resolve("numpy.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(numpy))) {
            zip.putNextEntry(new ZipEntry("a/b.npy"));
            zip.write(Npy.encode(NpyArray.of(new float[] {4f}, 1)));
            zip.closeEntry();
        }
        assertEquals(List.of("a/b"), Npz.load(numpy).names());
    }

    /**
     * An archive whose directory names two entries the other way round from their local headers: ZipFile reads the
     * directory alone and loaded each array under the other's name (a date model then answered 1985-00-05 with exit
     * 0), where numpy refuses the file. Refused now, naming both names; the same archive with its names in agreement,
     * and behind 100 bytes of something else (offsets moved, as both readers allow), loads.
     */
    @Test
    void anArchiveWhoseDirectoryAndLocalHeadersNameEntriesDifferentlyIsRefused() throws IOException {
        SequencedMap<String, NpyArray> m = new LinkedHashMap<>();
        m.put("encoder.embed.W", NpyArray.of(randomFloats(12, 1), 3, 4));
        m.put("decoder.embed.W", NpyArray.of(randomFloats(12, 2), 3, 4));
        Path good = dir.resolve("good.npz");
        Npz.save(good, m);
        byte[] d = Files.readAllBytes(good);
        int cd = indexOf(d, new byte[] {0x50, 0x4b, 0x01, 0x02}, 0);   // the first central directory entry
        byte[] a = "encoder.embed.W.npy".getBytes(StandardCharsets.US_ASCII);
        byte[] b = "decoder.embed.W.npy".getBytes(StandardCharsets.US_ASCII);
        int i = indexOf(d, a, cd), j = indexOf(d, b, cd);
        System.arraycopy(b, 0, d, i, b.length);
        System.arraycopy(a, 0, d, j, a.length);
        Path swapped = Files.write(dir.resolve("swapped.npz"), d);
        var e = assertThrows(NpzFormatException.class, () -> Npz.load(swapped));
        assertTrue(e.getMessage().contains("the zip directory names an entry 'decoder.embed.W.npy' whose local header "
                + "names it 'encoder.embed.W.npy'"), e.getMessage());
        assertThrows(NpzFormatException.class, () -> Npz.shapes(swapped, java.util.Set.of()));
        byte[] prefixed = new byte[100 + Files.readAllBytes(good).length];
        System.arraycopy(Files.readAllBytes(good), 0, prefixed, 100, prefixed.length - 100);
        Path behind = Files.write(dir.resolve("behind.npz"), prefixed);
        for (Path p : List.of(good, behind)) {
            NpzFile f = Npz.load(p);
            assertArrayEquals(((NpyArray.F32) m.get("decoder.embed.W")).data(),
                    ((NpyArray.F32) f.arrays().get("decoder.embed.W")).data(), p.toString());
        }
    }

    /**
     * The local-header check reads a ZIP64 archive (more than 65,535 entries: its end records are ZIP64's), also behind
     * bytes of something else, and still refuses one whose names disagree.
     */
    @Test
    void theLocalHeaderCheckReadsZip64Archives() throws IOException {
        Path zip64 = dir.resolve("many.zip");
        try (ZipOutputStream out = new ZipOutputStream(
                new java.io.BufferedOutputStream(Files.newOutputStream(zip64)))) {
            for (int i = 0; i < 65_600; i++) {
                ZipEntry empty = new ZipEntry("e" + i);   // stored, of no bytes: no deflater an entry
                empty.setMethod(ZipEntry.STORED);
                empty.setSize(0);
                empty.setCompressedSize(0);
                empty.setCrc(0);
                out.putNextEntry(empty);
                out.closeEntry();
            }
        }
        byte[] d = Files.readAllBytes(zip64);
        assertTrue(indexOf(d, new byte[] {0x50, 0x4b, 0x06, 0x06}, 0) > 0, "a ZIP64 end record");
        LocalHeaders.check(zip64);
        byte[] prefixed = new byte[100 + d.length];
        System.arraycopy(d, 0, prefixed, 100, d.length);
        LocalHeaders.check(Files.write(dir.resolve("behind.zip"), prefixed));
        int cd = indexOf(d, new byte[] {0x50, 0x4b, 0x01, 0x02}, 0);
        int name = indexOf(d, "e7".getBytes(StandardCharsets.US_ASCII), cd);
        d[name + 1] = '8';   // the directory's "e7" now says "e8"
        Path renamed = Files.write(dir.resolve("renamed.zip"), d);
        var e = assertThrows(NpzFormatException.class, () -> LocalHeaders.check(renamed));
        assertTrue(e.getMessage().contains("names an entry 'e8' whose local header names it 'e7'"), e.getMessage());
    }

    /**
     * A ZIP64 archive whose local-header offset (in the entry's ZIP64 extra field, which java.util.zip takes as it is)
     * lies past the archive's end is one format error naming the file, however large: an offset near 2^63 made the
     * local-header check's read fail with the system's bare "Invalid argument", naming nothing.
     */
    @Test
    void aZip64OffsetPastTheEndIsAMalformedArchive() throws IOException {
        byte[] npy = npy(1, dict("<f4", false, "(1,)"), le(4, b -> b.putFloat(1.5f)));
        assertArrayEquals(new float[] {1.5f}, Npz.load(Files.write(dir.resolve("zip64.npz"), zip64("W.npy", npy, 0)))
                .floats("W", 1));
        for (long offset : new long[] {1L << 40, 1L << 62, Long.MAX_VALUE - 8}) {
            Path file = Files.write(dir.resolve("zip64-" + offset + ".npz"), zip64("W.npy", npy, offset));
            assertBad(file, null, "a malformed zip archive (an offset past its end");
        }
    }

    /**
     * A ZIP64 archive of one stored entry, as Python's zipfile writes a large one: the directory's sizes and offset in
     * the entry's ZIP64 extra field (the offset there given as {@code localOffset}), then a ZIP64 end record and its
     * locator before the end record.
     */
    private static byte[] zip64(String name, byte[] content, long localOffset) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(content);
        int cd = 30 + n.length + content.length, cdSize = 46 + n.length + 28;
        ByteBuffer b = ByteBuffer.allocate(cd + cdSize + 56 + 20 + 22).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0x210000)
                .putInt((int) crc.getValue()).putInt(content.length).putInt(content.length).putShort((short) n.length)
                .putShort((short) 0).put(n).put(content);
        b.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                .putInt(0x210000).putInt((int) crc.getValue()).putInt(-1).putInt(-1).putShort((short) n.length)
                .putShort((short) 28).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0).putInt(-1)
                .put(n).putShort((short) 1).putShort((short) 24).putLong(content.length).putLong(content.length)
                .putLong(localOffset);
        b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0).putLong(1)
                .putLong(1).putLong(cdSize).putLong(cd);
        b.putInt(0x07064b50).putInt(0).putLong(cd + cdSize).putInt(1);
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1)
                .putInt(-1).putInt(-1).putShort((short) 0);
        return b.array();
    }

    /** A message lists at most ten names: 300,000 extra arrays made a one-line message of 2.5 MB. */
    @Test
    void messagesShowTenNamesAndHowManyMore() throws IOException {
        assertEquals("[a, b, c]", NpzFormatException.names(List.of("a", "b", "c")));
        List<String> many = java.util.stream.IntStream.range(0, 300_000).mapToObj(i -> "a" + i).toList();
        assertEquals("[a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, ... and 299,990 more]", NpzFormatException.names(many));
        SequencedMap<String, NpyArray> m = new LinkedHashMap<>();
        for (int i = 0; i < 50; i++) {
            m.put("x" + i, NpyArray.of(new float[] {i}));
        }
        Path f = dir.resolve("fifty.npz");
        Npz.save(f, m);
        var e = assertThrows(NpzFormatException.class, () -> Npz.load(f).get("y"));
        assertTrue(e.getMessage().endsWith("no such array; the file holds [x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, ... "
                + "and 40 more]"), e.getMessage());
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        for (int i = from; i + needle.length <= hay.length; i++) {
            if (java.util.Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }
}
