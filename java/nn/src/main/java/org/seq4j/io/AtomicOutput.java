// A file written atomically: bytes go to a temporary file in the target's folder, which is flushed to
// disk (fsync) and renamed over the target on commit(), so a reader sees the old file or the new one,
// never half of one. close() without commit() deletes the temporary file and leaves the target as it was.
package org.seq4j.io;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A file written atomically: bytes go to a temporary file in the target's folder, which is synced to disk and
 * renamed over the target on {@link #commit()}; {@link #close()} without commit deletes it and leaves the target
 * as it was.
 */
public final class AtomicOutput implements AutoCloseable {
    /** Writes the whole content of a file; may throw to abandon the write. */
    @FunctionalInterface
    public interface Content {
        /**
         * Writes the content.
         *
         * @param out where the bytes go
         * @throws IOException to abandon the write
         */
        void writeTo(OutputStream out) throws IOException;
    }

    private final Path target;
    private final Path temp;
    private final FileOutputStream file;
    private final OutputStream buffered;
    private final OutputStream stream;
    private boolean done;

    private AtomicOutput(Path target, Path temp, FileOutputStream file) {
        this.target = target;
        this.temp = temp;
        this.file = file;
        this.buffered = new BufferedOutputStream(file, 1 << 16);
        // callers may close what they wrap around stream() (a ZipOutputStream closes its sink): that must
        // not close the channel before commit() has flushed and synced it
        this.stream = new FilterOutputStream(buffered) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
    }

    /**
     * Starts writing {@code target}; its folder must exist. Nothing is visible at {@code target} until commit().
     *
     * @param target the file to replace or create
     * @return the open output; close it (after commit, or to abandon)
     * @throws IOException if the temporary file cannot be created
     * @throws NullPointerException if target is null
     */
    public static AtomicOutput open(Path target) throws IOException {
        // a bare "Cannot invoke Path.toAbsolutePath()" from inside
        java.util.Objects.requireNonNull(target, "AtomicOutput.open: target is null");
        Path absolute = target.toAbsolutePath();
        Path folder = absolute.getParent();
        if (folder == null) {   // "/" ("folder null does not exist", before)
            throw new IOException("cannot write " + target + ": it is the root folder, not a file");
        }
        if (!Files.isDirectory(folder)) {
            throw new IOException("cannot write " + target + ": folder " + folder + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw new IOException("cannot write " + target + ": it is a folder");
        }
        // not Files.createTempFile: its files are owner-only (0600), and the rename would carry that over to
        // the checkpoint; Files.createFile applies the usual umask, as writing the file directly would. Written
        // through a FileOutputStream and synced with its FileDescriptor, not a FileChannel: a FileChannel is
        // interruptible, so a thread with an interrupt pending (a cancelled task saving its model on the way out)
        // got ClosedByInterruptException and could save nothing
        for (int attempt = 0;; attempt++) {
            Path temp = folder.resolve(temporaryName(absolute.getFileName().toString(), ""));
            try {
                Files.createFile(temp);
            } catch (FileAlreadyExistsException e) {
                if (attempt < 10) {
                    continue;
                }
                throw e;
            } catch (FileSystemException e) {   // named only the temporary file, which the caller never asked for
                throw about(e, absolute, temp);
            }
            try {
                return new AtomicOutput(absolute, temp, new FileOutputStream(temp.toFile()));
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
        }
    }

    /**
     * A new name for a temporary file of the file {@code name} in the same folder, as {@link #open} makes them:
     * {@code ".<name>.<random><tag>.tmp"}, where {@code <random>} is a random unsigned long in base 36, zero-padded to
     * its 13 digits (0-9a-z; 2^64 - 1 is "3w5e11264sgsf"), and {@code <name>} is the name cut to 200 bytes of UTF-8.
     * The one definition of these names: {@link #temporaryOf} reads them back, so a clean-up of a killed writer's
     * leftovers (RunFolder) removes these and nothing else. Of fixed width, so that a user's ".model.npz.old.tmp" or
     * ".metrics.csv.backup.tmp" is not taken for one (unpadded, 1 to 13 digits, "old" was a random part).
     *
     * @param name the file's name, without a folder
     * @param tag  "" for open()'s files; another writer's mark, such as ".kept" (a dot and lower-case letters)
     * @return the temporary file's name
     */
    public static String temporaryName(String name, String tag) {
        // "tag 't' is not ...": blamed the other argument
        java.util.Objects.requireNonNull(name, "AtomicOutput.temporaryName: name is null");
        java.util.Objects.requireNonNull(tag, "AtomicOutput.temporaryName: tag is null");
        checkTag(tag);
        return "." + prefix(name) + "." + random(ThreadLocalRandom.current().nextLong()) + tag + ".tmp";
    }

    /**
     * The name of the file whose temporary file {@code fileName} is, where {@code fileName} has exactly the form
     * {@link #temporaryName} gives with {@code tag}, else null. The name returned is cut as temporaryName cuts it (the
     * names of up to 200 bytes of UTF-8 come back whole). A user's ".notes.old.tmp" is the temporary file of "notes"
     * here: a caller removes only those of names it writes.
     *
     * @param fileName a file name, without a folder
     * @param tag      as given to temporaryName
     * @return the file's name (cut to 200 bytes), or null
     */
    public static String temporaryOf(String fileName, String tag) {
        java.util.Objects.requireNonNull(fileName, "AtomicOutput.temporaryOf: fileName is null");
        java.util.Objects.requireNonNull(tag, "AtomicOutput.temporaryOf: tag is null");
        checkTag(tag);
        String end = tag + ".tmp";
        if (!fileName.startsWith(".") || !fileName.endsWith(end) || fileName.length() <= 1 + end.length()) {
            return null;
        }
        String body = fileName.substring(1, fileName.length() - end.length());
        int dot = body.lastIndexOf('.');
        if (dot <= 0) {
            return null;
        }
        String random = body.substring(dot + 1);
        if (random.length() != RANDOM_DIGITS || !random.chars().allMatch(c -> c >= '0' && c <= '9'
                || c >= 'a' && c <= 'z')) {
            return null;
        }
        try {   // at most 2^64 - 1, as random() writes it
            if (!random(Long.parseUnsignedLong(random, 36)).equals(random)) {
                return null;
            }
        } catch (NumberFormatException e) {
            return null;
        }
        String name = body.substring(0, dot);
        return prefix(name).equals(name) ? name : null;
    }

    /** The digits of 2^64 - 1 in base 36. */
    private static final int RANDOM_DIGITS = 13;

    /** {@code r}, unsigned, in base 36, zero-padded to RANDOM_DIGITS. */
    private static String random(long r) {
        String digits = Long.toUnsignedString(r, 36);
        return "0".repeat(RANDOM_DIGITS - digits.length()) + digits;
    }

    private static void checkTag(String tag) {
        if (!tag.matches("(\\.[a-z]+)?")) {
            throw new IllegalArgumentException("AtomicOutput: tag '" + tag + "' is not \"\" or a dot and lower-case "
                    + "letters (such as \".kept\")");
        }
    }

    /**
     * The target's name as the temporary file's starts with it: whole, or its first code points up to 200 bytes of
     * UTF-8, so that the temporary name (19 more) stays within the 255 bytes a file name may have wherever the
     * target's does. A target of 240 characters was refused as "File name too long", naming the temporary file.
     */
    private static String prefix(String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= 200) {
            return name;
        }
        int end = 0;
        for (int bytes = 0; end < name.length(); ) {
            int cp = name.codePointAt(end);
            bytes += new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes > 200) {
                break;
            }
            end += Character.charCount(cp);
        }
        return name.substring(0, end);
    }

    /** The failure to create the temporary file, of the same kind, naming the target and the folder. */
    private static FileSystemException about(FileSystemException e, Path target, Path temp) {
        String reason = "cannot create a file in " + temp.getParent() + " to write it through"
                + (e.getReason() == null ? "" : " (" + e.getReason() + ")");
        FileSystemException named = switch (e) {
            case AccessDeniedException a -> new AccessDeniedException(target.toString(), null, reason);
            case NoSuchFileException n -> new NoSuchFileException(target.toString(), null, reason);
            default -> new FileSystemException(target.toString(), null, reason);
        };
        named.initCause(e);
        return named;
    }

    /**
     * Writes {@code target} atomically with {@code content}; if content throws, the old file stays.
     *
     * @param target  the file to replace or create
     * @param content what to write
     * @throws IOException if the file cannot be written (the previous file at that path stays as it was)
     * @throws NullPointerException if target or content is null
     */
    public static void write(Path target, Content content) throws IOException {
        java.util.Objects.requireNonNull(target, "AtomicOutput.write: target is null");
        // checked before a temporary file is made
        java.util.Objects.requireNonNull(content, "AtomicOutput.write: content is null");
        try (AtomicOutput out = open(target)) {
            content.writeTo(out.stream());
            out.commit();
        }
    }

    /**
     * The stream to write the file's bytes to. Closing it only flushes it.
     *
     * @return the stream
     */
    public OutputStream stream() {
        return stream;
    }

    /**
     * The temporary file being written (deleted or renamed once this output is closed or committed).
     *
     * @return its path
     */
    public Path tempFile() {
        return temp;
    }

    /**
     * Flushes, syncs the bytes to disk, and renames the temporary file over the target.
     *
     * @throws IOException if writing, syncing or renaming fails (the target then stays as it was)
     */
    public void commit() throws IOException {
        if (done) {
            throw new IllegalStateException("output for " + target + " is already committed or closed");
        }
        buffered.flush();
        file.getFD().sync();
        buffered.close();
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + target + " atomically on this file system: " + e.getMessage(), e);
        }
        done = true;
        syncFolder(target.getParent());
    }

    /**
     * Abandons the write unless committed: the temporary file is deleted, the target is untouched.
     *
     * @throws IOException if the temporary file cannot be deleted
     */
    @Override
    public void close() throws IOException {
        if (done) {
            return;
        }
        done = true;
        try {
            buffered.close();
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    // The rename itself is only durable once the folder's entry is on disk. Linux lets a folder be opened
    // and synced; where the platform refuses, the rename has still happened and only durability across a
    // power cut is weaker, so that refusal is not an error.
    private static void syncFolder(Path folder) {
        // a FileChannel is the only way to sync a folder, and it is interruptible: with an interrupt pending it
        // would close at once and the sync be skipped. The interrupt is set aside for this short call, and kept.
        boolean interrupted = Thread.interrupted();
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not supported for folders on this platform
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
