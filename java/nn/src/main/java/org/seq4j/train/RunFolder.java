// The folder a training run writes into. open() creates it and writes a probe file before any training,
// so an unwritable place fails at once with the reason, and deletes the temporary files that a killed earlier
// run left behind: those of the run's own files, in the very form its writers give them
// (AtomicOutput.temporaryName). The run writes its files through write(). Until keep() is called (after
// the first checkpoint), close() undoes the run: it deletes the files this run added, puts back the files it
// replaced (kept aside on their first write), and removes the folder itself if this run created it, so a
// command that fails early leaves the folder as it found it; nor does one interrupted early (Ctrl-C,
// SIGTERM): until then a shutdown hook undoes it as close() would. One run at a time: open() locks the folder
// (.seq4j-run.lock, deleted again at close) before it touches anything, so a second run into it is refused with one
// line instead of mixing its files with the first one's (two runs into one folder both said they had finished, the
// best.npz one of them named being the other's, and the second's open() deleted the first's temporary files).
package org.seq4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.seq4j.io.AtomicOutput;

/**
 * The folder a training run writes into. open() creates it, writes a probe file and deletes stale temporary
 * files; the run writes its files with {@link #write}. Until keep() is called, close() undoes the run (deletes the
 * files it added: in a folder that existed, those its writes added, not what another program put there meanwhile;
 * puts back those it replaced; removes the folder if it created it), and so does the JVM's shutdown (an interrupted
 * run) until keep() or close().
 */
public final class RunFolder implements AutoCloseable {
    /** Writes one file of the run folder. */
    @FunctionalInterface
    public interface Write {
        /**
         * Writes {@code file}, replacing it by a rename (AtomicOutput) where it exists: a file rewritten in place
         * would change the copy kept aside to put back (see {@link RunFolder#write}).
         *
         * @param file the file
         * @throws IOException if it cannot be written
         */
        void to(Path file) throws IOException;
    }

    // A killed run's leftovers, and nothing else: AtomicOutput's ".<name>.<random>.tmp" and a file kept aside's
    // ".<name>.<random>.kept.tmp" (AtomicOutput.temporaryName: <random> an unsigned long in base 36) of a file the run
    // writes (open's files) or of the probe; and where the run writes chart.png, the chart temporary files of older
    // versions, which drew through Files.createTempFile (".chart.<random>.tmp(.png)", before that
    // ".chart<random>(.png)", <random> an unsigned long in decimal). A wider pattern
    // ("\\..+\\.[0-9a-z]{1,20}(\\.kept)?\\.tmp(\\.png)?") deleted a user's ".notes.old.tmp", ".draft.v2.tmp" or
    // ".emacs.d.tmp", links too, in any folder given as the run's.
    private static final Pattern OLD_CHART =
            Pattern.compile("\\.chart(?:\\.([0-9]{1,20})\\.tmp|([0-9]{1,20}))(?:\\.png)?");
    /** The file open() writes to see that the folder can be written (".seq4j-probe.<random>.tmp"). */
    private static final String PROBE = "seq4j-probe";
    /** AtomicOutput's tag of a file kept aside (".<name>.<random>.kept.tmp"). */
    private static final String KEPT = ".kept";
    /** The file whose lock a run holds while the folder is open. */
    public static final String LOCK = ".seq4j-run.lock";

    private final Path dir;
    private final boolean created;
    private final Path existing; // the deepest folder on the way to dir that existed before open()
    private final Set<Path> before;
    private final List<Path> removed;
    // a file of the run folder that this run replaced -> its earlier content, kept aside until keep() or undo()
    private final Map<Path, Path> keptAside = new LinkedHashMap<>();
    // a symbolic link of the run folder that this run replaced by a file -> the link's target, made again by undo()
    private final Map<Path, Path> linksReplaced = new LinkedHashMap<>();
    // the files this run's write() created (not in the folder at open()): what undo() deletes, and nothing else (the
    // files another program put into the folder meanwhile were deleted too)
    private final Set<Path> added = new java.util.LinkedHashSet<>();
    private FileChannel lock;   // holds the folder's lock until close() (null after)
    private final Thread undoAtExit = new Thread(this::undoAtExit, "seq4j run folder cleanup");
    private boolean kept;
    private boolean undone;
    private boolean closed;    // close() ran: writes refused (a write after keep() and close() landed past the lock)

    private RunFolder(Path dir, boolean created, Path existing, Set<Path> before, List<Path> removed,
                      FileChannel lock) {
        this.dir = dir;
        this.lock = lock;
        this.created = created;
        this.existing = existing;
        this.before = before;
        this.removed = removed;
        Runtime.getRuntime().addShutdownHook(undoAtExit);
    }

    /** The JVM is shutting down before keep() or close(): undo the run as close() would. */
    private void undoAtExit() {
        try {
            undo();
        } catch (IOException | RuntimeException e) {
            // the JVM is exiting: nothing to report to
        } finally {
            unlock();
        }
    }

    /**
     * Locks {@code dir} for one run: its lock file, made if need be, locked without waiting.
     *
     * @throws IOException naming the folder if another run holds it
     */
    private static FileChannel lock(Path dir) throws IOException {
        Path file = dir.resolve(LOCK);
        while (true) {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock held;
            try {
                held = ch.tryLock();
            } catch (OverlappingFileLockException e) {   // this JVM holds it: another RunFolder of the same folder
                held = null;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            if (held == null) {
                ch.close();
                throw new IOException("run folder " + dir + " is in use by another training run (it holds " + file
                        + "); wait for that run to end, or write this one to another folder");
            }
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return ch;
            }
            ch.close();   // the run that held it deleted it before letting go: lock the folder's new one
        }
    }

    /** Lets go of the folder's lock, once. */
    private synchronized void unlock() {
        if (lock != null) {
            release(dir, lock);
            lock = null;
        }
    }

    /** Deletes the lock file, then lets go of its lock (in that order: a run waiting on it then finds it gone). */
    private static void release(Path dir, FileChannel lock) {
        try {
            Files.deleteIfExists(dir.resolve(LOCK));
        } catch (IOException e) {
            // left behind unlocked: the next run locks it
        }
        try {
            lock.close();
        } catch (IOException e) {
            // the process's end lets go of it
        }
    }

    /** Removes the shutdown hook unless the JVM is already running it. */
    private void dropHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(undoAtExit);
        } catch (IllegalStateException e) {
            // shutdown under way: the hook runs (or ran) undo, which is synchronized with keep() and close()
        }
    }

    /**
     * Whether {@code name} is a temporary file that a killed run writing {@code files} into a folder leaves there, which
     * {@link #open} deletes (a regular file of that name, not a link): the temporary file of one of {@code files}, or of
     * a copy of one kept aside, or of open's probe, exactly as seq4j's writers name them (see
     * AtomicOutput.temporaryName), or where {@code files} holds chart.png the chart temporary file of an older version.
     *
     * @param name  a file name
     * @param files the names of the files the run writes (model.npz, metrics.csv...)
     * @return true if open() deletes it
     * @throws NullPointerException naming the argument if name or files is null
     */
    public static boolean isStale(String name, Set<String> files) {
        java.util.Objects.requireNonNull(name, "RunFolder.isStale: name is null; expected a file name");
        java.util.Objects.requireNonNull(files, "RunFolder.isStale: files is null; expected the names of the files "
                + "the run writes");
        String of = AtomicOutput.temporaryOf(name, "");
        if (of != null && (files.contains(of) || of.equals(PROBE))) {
            return true;
        }
        of = AtomicOutput.temporaryOf(name, KEPT);
        if (of != null && files.contains(of)) {
            return true;
        }
        Matcher m = OLD_CHART.matcher(name);
        if (!files.contains("chart.png") || !m.matches()) {
            return false;
        }
        String random = m.group(1) != null ? m.group(1) : m.group(2);
        try {   // Long.toUnsignedString's: no leading 0, at most 2^64 - 1
            return Long.toUnsignedString(Long.parseUnsignedLong(random)).equals(random);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * The temporary files of a killed run writing {@code files} that {@code dir} holds (see {@link #isStale}): regular
     * files, not links.
     *
     * @param dir   the folder
     * @param files the names of the files the run writes
     * @return their paths; none if dir is no folder
     * @throws IOException if the folder cannot be listed
     * @throws NullPointerException naming the argument if dir or files (or a name in it) is null
     * @throws IllegalArgumentException if a name in files is not a plain file name
     */
    public static List<Path> staleFiles(Path dir, Set<String> files) throws IOException {
        java.util.Objects.requireNonNull(dir, "RunFolder.staleFiles: dir is null; expected a folder");
        checkNames("RunFolder.staleFiles", dir, files);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(f -> isStale(f.getFileName().toString(), files)
                    && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList();
        }
    }

    /**
     * Creates {@code dir} if needed, checks that a file can be written in it, and removes the temporary files a killed
     * run writing {@code files} left there (see {@link #isStale}; nothing else).
     *
     * @param dir   the run folder
     * @param files the names of the files a run writes into it (model.npz, metrics.csv...): their temporary files are
     *              a killed run's leftovers
     * @return the open folder; close it
     * @throws IOException with the operating system's reason if it cannot be created or written
     * @throws NullPointerException naming the argument if dir or files (or a name in it) is null
     * @throws IllegalArgumentException if a name in files is not a plain file name (a folder in it, "..", an
     *         absolute path, empty)
     */
    public static RunFolder open(Path dir, Set<String> files) throws IOException {
        java.util.Objects.requireNonNull(dir, "RunFolder.open: dir is null; expected the run folder");
        checkNames("RunFolder.open", dir, files);
        Set<String> names = Set.copyOf(files);
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        boolean created = !Files.isDirectory(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("cannot create run folder " + dir + ": " + reason(e), e);
        }
        try {
            Path probe = dir.resolve(AtomicOutput.temporaryName(PROBE, ""));
            try {
                Files.write(probe, new byte[] {'o', 'k'});
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException e) {
            if (created) {
                deleteCreated(dir.toAbsolutePath(), existing);
            }
            throw new IOException("cannot write run folder " + dir + ": " + reason(e), e);
        }
        FileChannel lock = lock(dir);   // before the stale files go: another run's temporary files are not stale
        List<Path> removed;
        Set<Path> before = new HashSet<>();
        try {
            removed = staleFiles(dir, names);   // regular files only: a link of that name is not the run's
            for (Path f : removed) {
                Files.deleteIfExists(f);
            }
            try (Stream<Path> list = Files.list(dir)) {
                list.forEach(before::add);
            }
        } catch (IOException | RuntimeException e) {
            release(dir, lock);
            throw e;
        }
        return new RunFolder(dir, created, existing, before, removed, lock);
    }

    /**
     * The folder.
     *
     * @return its path
     */
    public Path path() {
        return dir;
    }

    /**
     * A file in the folder.
     *
     * @param name the file name: a plain one, without a folder
     * @return its path
     * @throws NullPointerException if name is null
     * @throws IllegalArgumentException if name is not a plain file name (a folder in it, "..", an absolute path, empty)
     */
    public Path resolve(String name) {
        return fileOf("RunFolder.resolve", dir, name);
    }

    /** Checks the names of {@code files} as {@link #fileOf} does, for {@code call}. */
    private static void checkNames(String call, Path dir, Set<String> files) {
        java.util.Objects.requireNonNull(files, call + ": files is null; expected the names of the files the run "
                + "writes (such as model.npz)");
        for (Object name : files.toArray()) {   // toArray: Set.of's contains(null) throws a bare NPE
            if (name == null) {
                throw new NullPointerException(call + ": files holds null; expected the names of the files the run "
                        + "writes (such as model.npz)");
            }
            fileOf(call, dir, (String) name);
        }
    }

    /**
     * The file {@code name} names in the folder: a plain file name, refused otherwise. "../x" or an absolute path wrote
     * outside the folder, where close() before keep() did not take it back; "" and "." named the folder itself; "a/"
     * the file a.
     */
    private static Path fileOf(String call, Path dir, String name) {
        java.util.Objects.requireNonNull(name, call + ": name is null; expected a name of a file in " + dir);
        Path file = null;
        try {
            file = name.isEmpty() || name.indexOf('/') >= 0 || name.indexOf(java.io.File.separatorChar) >= 0
                    || name.equals(".") || name.equals("..") ? null : dir.resolve(name);
        } catch (java.nio.file.InvalidPathException e) {   // a NUL: the JDK's message carried the raw character
            file = null;
        }
        if (file == null || !dir.equals(file.getParent()) || !file.getFileName().toString().equals(name)) {
            throw new IllegalArgumentException(call + ": " + org.seq4j.data.DataFileException.quote(name, '\'')
                    + " is not a file name; expected a name of a file in " + dir + " (such as model.npz), without a "
                    + "folder");
        }
        return file;
    }

    /**
     * The temporary files of an earlier, killed run that open() deleted.
     *
     * @return their paths
     */
    public List<Path> removedStaleFiles() {
        return removed;
    }

    /**
     * Writes the file {@code name} of the folder. Until keep(), a file of that name that was there before open() is
     * first kept aside (a hard link; a copy where the file system has none), once, for undo to put back: a run that
     * failed or was interrupted before its first checkpoint left its own vocabulary.txt (or data, or a model.npz
     * newer than best.npz) beside the checkpoints of the run that was there, and generate read them together. Writes
     * and undo take turns: a write that comes after the JVM's shutdown undid the run is refused, so none lands on
     * what undo put back.
     *
     * @param name  the file name
     * @param write writes it, replacing an existing file by a rename (as AtomicOutput does)
     * @throws IOException if the file cannot be kept aside or written, or the run was undone already
     * @throws IllegalArgumentException if name is not a plain file name (a folder in it, "..", an absolute path)
     * @throws IllegalStateException if the folder was closed, or {@code write} rewrote a file kept aside in place (the
     *         copy to put back changed with it)
     */
    public synchronized void write(String name, Write write) throws IOException {
        Path file = fileOf("RunFolder.write", dir, name);
        // before anything is kept aside or counted as added
        java.util.Objects.requireNonNull(write, "RunFolder.write: write is null; expected what writes the file");
        if (closed) {
            throw new IllegalStateException("RunFolder.write: cannot write " + file + ": the run folder was closed (its "
                    + "lock let go)");
        }
        if (undone) {
            throw new IOException("cannot write " + file + ": the run was undone (closed before its first "
                    + "checkpoint, or the JVM is shutting down)");
        }
        if (!kept && !before.contains(file)) {
            added.add(file);   // before the write: one that fails partway leaves what undo() deletes
        }
        if (!kept && before.contains(file) && !keptAside.containsKey(file) && !linksReplaced.containsKey(file)) {
            if (Files.isSymbolicLink(file)) {   // the write replaces the link, not its target: undo makes it again
                linksReplaced.put(file, Files.readSymbolicLink(file));
            } else if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                keptAside.put(file, keepAside(file));
            }
        }
        write.to(file);
        Path aside = keptAside.get(file);
        if (aside != null && Files.exists(file) && Files.isSameFile(aside, file)) {
            throw new IllegalStateException(file + " was rewritten in place, so the copy of it kept aside ("
                    + aside + ") changed too; write it to a temporary file and rename it (AtomicOutput)");
        }
    }

    /** A hard link to {@code file} (a copy where the file system has no links) under a name open() removes. */
    private static Path keepAside(Path file) throws IOException {
        Path aside = file.resolveSibling(AtomicOutput.temporaryName(file.getFileName().toString(), KEPT));
        try {
            return Files.createLink(aside, file);
        } catch (UnsupportedOperationException | IOException e) {
            try {
                return Files.copy(file, aside, StandardCopyOption.COPY_ATTRIBUTES);
            } catch (IOException copy) {
                throw new IOException("cannot keep " + file + " aside before replacing it (to put it back if this run "
                        + "fails): " + reason(copy), copy);
            }
        }
    }

    /**
     * At a JVM shutdown: undoes the run unless it is kept, as the folder's own shutdown hook does (the hooks run in no
     * order), and says which it was, so that a notice of what the folder keeps is true whichever hook runs first and
     * whatever the training thread does meanwhile (a keep() after this finds the run undone: its writes are refused).
     *
     * @return true if the run was kept (its files stay), false if it is undone
     */
    public synchronized boolean settleAtExit() {
        try {
            undo();
        } catch (IOException | RuntimeException e) {
            // the JVM is exiting: what could not be put back stays as it is (see undo)
        }
        return !undone;
    }

    /**
     * The run has written something worth keeping (its first checkpoint): close() no longer deletes or puts back
     * anything, and the files kept aside are deleted.
     */
    public synchronized void keep() {
        kept = true;   // the shutdown hook stays, to let go of the lock: its undo does nothing now
        for (Path aside : keptAside.values()) {
            try {
                Files.deleteIfExists(aside);
            } catch (IOException e) {
                // a ".tmp" name: the next open() of the folder removes it
            }
        }
        keptAside.clear();
        linksReplaced.clear();
    }

    /**
     * Unless kept: puts back the files this run replaced, deletes those it added, and the folder (with its new parents)
     * if this run created it.
     */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            closed = true;   // before the undo and the unlock: no write lands after either
        }
        dropHook();
        try {
            undo();
        } finally {
            unlock();
        }
    }

    private synchronized void undo() throws IOException {
        if (kept) {
            return;
        }
        kept = true;
        undone = true;
        IOException failed = null;
        for (var it = keptAside.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            try {
                Files.move(e.getValue(), e.getKey(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                it.remove();
            } catch (IOException x) { // put back the others; this one's copy stays, for the user (or the next open())
                if (failed == null) {
                    failed = new IOException("cannot put back " + e.getKey() + " as it was before this run (it is "
                            + "kept in " + e.getValue() + "): " + reason(x), x);
                }
            }
        }
        for (var e : linksReplaced.entrySet()) {
            try {
                Files.deleteIfExists(e.getKey());
                Files.createSymbolicLink(e.getKey(), e.getValue());
            } catch (IOException x) {
                if (failed == null) {
                    failed = new IOException("cannot put back the link " + e.getKey() + " -> " + e.getValue() + " as it"
                            + " was before this run: " + reason(x), x);
                }
            }
        }
        // a folder this run created holds nothing but the run's: every file new since open() goes; in one that was
        // there, only those the run's writes added (a file another program put there meanwhile was deleted too)
        List<Path> toDelete;
        try (Stream<Path> files = Files.list(dir)) {
            toDelete = files.filter(f -> created ? !before.contains(f) && !keptAside.containsValue(f) : added.contains(f))
                    .filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList();
        } catch (NoSuchFileException e) {
            return;
        }
        for (Path f : toDelete) {
            Files.deleteIfExists(f);
        }
        if (failed != null) {
            throw failed;
        }
        if (created) {
            unlock();   // its lock file goes with the folder
            try (Stream<Path> left = Files.list(dir)) {
                if (left.findAny().isPresent()) {
                    return; // someone else put something there
                }
            }
            deleteCreated(dir.toAbsolutePath(), existing);
        }
    }

    // createDirectories made the folders between the deepest one that existed and dir: remove them again,
    // stopping at the first that is not empty
    private static void deleteCreated(Path dir, Path existing) {
        for (Path p = dir; p != null && !p.equals(existing); p = p.getParent()) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException | UncheckedIOException e) {
                return;
            }
        }
    }

    /**
     * The operating system's reason for a file error, or a plain-words one where Java gives none.
     *
     * @param e the error
     * @return the reason, one line
     * @throws NullPointerException if e is null
     */
    public static String reason(IOException e) {
        java.util.Objects.requireNonNull(e, "RunFolder.reason: e is null; expected the file error to explain");
        if (e instanceof FileSystemException f && f.getReason() != null && !f.getReason().isBlank()) {
            return f.getReason();
        }
        return switch (e) {
            case AccessDeniedException a -> "permission denied";
            case FileAlreadyExistsException a -> "a file of that name is in the way";
            case NoSuchFileException a -> "no such file or folder: " + a.getFile();
            case NotDirectoryException a -> a.getFile() + " is not a folder";
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }
}
