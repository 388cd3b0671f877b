// Writes a NumPy .npz file (a zip of .npy arrays, one entry "<name>.npy" per array) atomically: arrays
// are added one at a time, commit() makes the file appear, and closing without commit() leaves any
// previous file at that path untouched and no temporary file behind.
//
//   try (NpzWriter w = NpzWriter.create(path)) {
//       for (Parameter p : params) w.add(p.name(), NpyArray.of(p.value()));
//       w.commit();
//   }
package org.seq4j.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.seq4j.internal.Names;

/**
 * Writes a NumPy .npz file (a zip of .npy arrays, one entry "NAME.npy" per array) atomically: add arrays, then
 * {@link #commit()}; closing without commit leaves any previous file at that path untouched.
 */
public final class NpzWriter implements AutoCloseable {
    /** How entries are stored: as np.savez does (STORED) or as np.savez_compressed does (DEFLATED). */
    public enum Compression {
        /** Entries stored uncompressed, as np.savez. */
        STORED,
        /** Entries deflated, as np.savez_compressed. */
        DEFLATED
    }

    // a fixed entry time makes the same arrays give the same bytes (numpy stores the wall-clock time)
    private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

    private final Path file;
    private final Compression compression;
    private final AtomicOutput out;
    private final Zip zip;
    private final Set<String> names = new HashSet<>();
    private boolean committed;   // commit() returned: the file is written, nothing more goes in
    private boolean closed;

    /**
     * The archive's stream, whose Deflater (zlib's state: about 80 KB of native memory, made even for STORED
     * entries) release() frees at once. ZipOutputStream frees it only in close(), which would also finish the
     * archive of an abandoned write; otherwise it waits for the garbage collector, and a server that saves
     * checkpoints while its heap stays quiet grew by those 80 KB a save.
     */
    private static final class Zip extends ZipOutputStream {
        Zip(OutputStream out) {
            super(out);
        }

        void release() {
            def.end();
        }
    }

    private NpzWriter(Path file, Compression compression, AtomicOutput out) {
        this.file = file;
        this.compression = compression;
        this.out = out;
        this.zip = new Zip(out.stream());
        zip.setMethod(compression == Compression.STORED ? ZipOutputStream.STORED : ZipOutputStream.DEFLATED);
    }

    /**
     * A writer of stored (uncompressed) entries, as np.savez.
     *
     * @param file the .npz file; its folder must exist
     * @return the writer; close it
     * @throws IOException if the temporary file cannot be created
     * @throws NullPointerException if file is null
     */
    public static NpzWriter create(Path file) throws IOException {
        return create(file, Compression.STORED);
    }

    /**
     * A writer.
     *
     * @param file        the .npz file; its folder must exist
     * @param compression STORED or DEFLATED
     * @return the writer; close it
     * @throws IOException if the temporary file cannot be created
     * @throws NullPointerException if file or compression is null
     */
    public static NpzWriter create(Path file, Compression compression) throws IOException {
        if (file == null) {   // a bare "Cannot invoke Path.toAbsolutePath()" from AtomicOutput's insides
            throw new NullPointerException("NpzWriter.create: file is null");
        }
        if (compression == null) {   // was taken for DEFLATED without a word
            throw new NullPointerException("NpzWriter.create: compression is null; expected STORED or DEFLATED");
        }
        return new NpzWriter(file, compression, AtomicOutput.open(file));
    }

    /**
     * Adds array {@code name} (entry {@code name.npy}); names must be non-empty and distinct.
     *
     * @param name  the array's name
     * @param array the array
     * @return this
     * @throws IllegalArgumentException if the name is empty, holds '/', '\', ".." or NUL, is not valid Unicode, or is
     *                                  already added
     * @throws IllegalStateException if the writer is closed or already committed
     * @throws NullPointerException if name or array is null
     * @throws IOException if writing fails
     */
    public NpzWriter add(String name, NpyArray array) throws IOException {
        if (name == null) {
            throw new NullPointerException("NpzWriter.add: name is null; expected the array's name (writing " + file
                    + ")");
        }
        if (array == null) {
            throw new NullPointerException("NpzWriter.add: array " + name + " is null (writing " + file + ")");
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("NpzWriter.add: array name is empty; expected a non-empty name (writing "
                    + file + ")");
        }
        requireFileName("NpzWriter.add", "array name", name);
        if (!names.add(name)) {
            throw new IllegalArgumentException("array '" + name + "' is added twice to " + file);
        }
        put(name + ".npy", Npy.encode(array));
        return this;
    }

    /**
     * Adds a zip entry that is not an array, e.g. a text description next to the arrays: np.load lists it
     * under its full name and returns its bytes, and NpzFile skips it. The name must not end in ".npy".
     *
     * @param entryName the entry's name
     * @param bytes     its content
     * @return this
     * @throws IllegalArgumentException if the name ends in ".npy", is empty, holds '/', '\', ".." or NUL, or is
     *                                  already added
     * @throws IllegalStateException if the writer is closed or already committed
     * @throws NullPointerException if entryName or bytes is null
     * @throws IOException if writing fails
     */
    public NpzWriter addEntry(String entryName, byte[] bytes) throws IOException {
        if (entryName == null) {
            throw new NullPointerException("NpzWriter.addEntry: entryName is null; expected the entry's name (writing "
                    + file + ")");
        }
        if (bytes == null) {
            throw new NullPointerException("NpzWriter.addEntry: the bytes of " + entryName + " are null (writing " + file
                    + ")");
        }
        if (entryName.isEmpty() || entryName.endsWith(".npy")) {
            throw new IllegalArgumentException("NpzWriter.addEntry: entry name must be non-empty and not end in .npy, got '"
                    + entryName
                    + "' (writing " + file + ")");
        }
        requireFileName("NpzWriter.addEntry", "entry name", entryName);
        if (!names.add(entryName)) {
            throw new IllegalArgumentException("entry '" + entryName + "' is added twice to " + file);
        }
        put(entryName, bytes);
        return this;
    }

    /**
     * Refuses a name that a tool extracting the .npz may take as a path: '/' or '\' (a folder, or an absolute path),
     * ".." (a folder above), NUL (a name cut short). np.load keys such names as they are, so the .npz itself would be
     * valid, but a user who unzips a checkpoint to look at it could have files written outside the folder they chose
     * (careful extractors strip ".." and leading slashes; not all do). The book's names ("encoder.lstm.Wx") and
     * seq4j's own pass.
     */
    private void requireFileName(String op, String what, String name) {
        String bad = pathPart(name);
        if (bad != null) {
            throw new IllegalArgumentException(op + ": " + what + " \"" + Names.shown(name) + "\" holds "
                    + bad + ", which a tool unzipping the .npz may take as a path; expected a name without '/', '\\',"
                    + " \"..\" or NUL (writing " + file + ")");
        }
        if (!java.nio.charset.StandardCharsets.UTF_8.newEncoder().canEncode(name)) {
            // the zip stream's own "malformed input off : 0, length : 1", from inside, naming neither call nor name
            StringBuilder shown = new StringBuilder();   // surrogates as hex escapes; printed raw, '?'
            name.chars().forEach(c -> shown.append(Character.isSurrogate((char) c) ? String.format("\\u%04X", c)
                    : String.valueOf((char) c)));
            throw new IllegalArgumentException(op + ": " + what + " \"" + shown + "\" is not valid Unicode (a lone "
                    + "surrogate), which a zip entry's UTF-8 name cannot hold (writing " + file + ")");
        }
    }

    /**
     * What in an array's name a tool unzipping the .npz may take as a path (see add): {@code '/'}, {@code '\'},
     * {@code ".."} or NUL, as a message would quote it; null if none. ParameterStore.Builder refuses the same names
     * when a parameter is declared, long before a checkpoint is written.
     *
     * @param name the name
     * @return the first such part as a message quotes it, or null
     */
    public static String pathPart(String name) {
        return name.indexOf('/') >= 0 ? "'/'" : name.indexOf('\\') >= 0 ? "'\\'"
                : name.contains("..") ? "\"..\"" : name.indexOf('\0') >= 0 ? "NUL" : null;
    }

    // np.load keys "x.npy" as "x" and any other entry by its name, so one name set covers both kinds
    private void put(String entryName, byte[] bytes) throws IOException {
        open();
        ZipEntry entry = new ZipEntry(entryName);
        entry.setTimeLocal(ENTRY_TIME);
        if (compression == Compression.STORED) {
            // a stored entry's sizes and checksum go in its local header, before the data
            CRC32 crc = new CRC32();
            crc.update(bytes);
            entry.setSize(bytes.length);
            entry.setCompressedSize(bytes.length);
            entry.setCrc(crc.getValue());
        }
        zip.putNextEntry(entry);
        zip.write(bytes);
        zip.closeEntry();
    }

    /**
     * Finishes the archive, syncs it to disk and renames it over the target path.
     *
     * @throws IllegalStateException if the writer is closed or already committed
     * @throws IOException if writing, syncing or renaming fails
     */
    public void commit() throws IOException {
        open();
        zip.finish();
        out.commit();
        committed = true;
        zip.release();
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("the NpzWriter of " + file + " is closed");
        }
        if (committed) {   // an array added after it was returned as written and went nowhere
            throw new IllegalStateException("the NpzWriter of " + file + " is already committed; write another file "
                    + "for more arrays");
        }
    }

    /**
     * Abandons the file unless commit() ran: the temporary file is deleted, the target is untouched.
     *
     * @throws IOException if the temporary file cannot be deleted
     */
    @Override
    public void close() throws IOException {
        closed = true;
        zip.release();
        out.close();
    }
}
