// Loads native libraries for the FFM bindings: System.load of an absolute path (so that the
// generated bindings, which look symbols up through the class loader, find them), and extraction of
// libraries packed in jars into a per-user cache folder (or a temporary one), once per content.
// Works in any class loader: a second copy of seq4j in a sibling loader gets its own link to the file.
package org.seq4j.backend.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import org.seq4j.backend.BackendMisconfiguredException;
import org.seq4j.backend.BackendUnavailableException;

/**
 * Loads native libraries for the FFM bindings, extracting those packed in jars into a per-user cache once per
 * content. Used by the native backends; applications do not need it.
 */
public final class NativeLibraries {
    private NativeLibraries() {
    }

    /**
     * This JVM's platform in the names seq4j's jars use for their native folders: {@code linux-x86_64},
     * {@code linux-aarch64}, ... ({@code os.name} lower-cased without spaces, {@code amd64} spelt {@code x86_64}).
     *
     * @return the platform folder name
     */
    public static String platform() {
        String os = System.getProperty("os.name", "unknown").toLowerCase(java.util.Locale.ROOT).replace(" ", "");
        if (os.startsWith("windows")) {
            os = "windows";
        } else if (os.startsWith("macosx") || os.startsWith("darwin")) {
            os = "macosx";
        }
        String arch = System.getProperty("os.arch", "unknown").toLowerCase(java.util.Locale.ROOT);
        arch = switch (arch) {
            case "amd64", "x86-64" -> "x86_64";
            case "arm64" -> "aarch64";
            default -> arch;
        };
        return os + "-" + arch;
    }

    /**
     * Where extracted libraries go: {@code -Dseq4j.cache}, else {@code $XDG_CACHE_HOME/seq4j} (where that is an
     * absolute path), else {@code ~/.cache/seq4j}.
     *
     * @return the folder (not created here)
     */
    public static Path cacheRoot() {
        return cacheRoot(System.getProperty("seq4j.cache"), System.getenv("XDG_CACHE_HOME"),
                System.getProperty("user.home"));
    }

    /**
     * {@link #cacheRoot()} from the given settings. A relative XDG_CACHE_HOME is passed over, as the XDG Base Directory
     * specification asks ("consider the path invalid and ignore it"): it was taken from the working folder, so that
     * each folder a program ran in got its own cache, extracted again.
     */
    static Path cacheRoot(String explicit, String xdg, String home) {
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : Path.of(home, ".cache");
        return base.resolve("seq4j");
    }

    /**
     * Copies the class-path resources {@code folder + name} (for each name) into one cache folder whose
     * name is derived from {@code key} and the resources' contents, unless that folder exists already, and
     * returns it. A resource inside a jar is identified by the CRC-32 and size that the jar's directory
     * already records (free, even for a 37 MB OpenBLAS); a loose file on the class path by a SHA-256 of its
     * bytes. So a rebuilt or upgraded library never reuses a stale copy. The folder is filled under a
     * temporary name and renamed into place, so a crash never leaves a half-written library behind; where another
     * process renamed the same folder into place first, theirs is used. Each use refreshes the folder's modification
     * time (at most hourly), and a folder missing a file, or holding one of another size than its resource (cut short:
     * mapped, it would crash the JVM), is extracted again; each file reaches the disk before the folder is published.
     * Creating a new folder prunes the cache: seq4j's own folders ({@code openblas-}, {@code seq4j-cpu-}, {@code seq4j-cuda-} and 16 hex digits) that
     * no load touched for {@code -Dseq4j.cache.keepDays} days (30; 0 keeps all), and temporary ones a day old;
     * nothing else in the cache folder is touched.
     *
     * @param loader the class loader that holds the resources
     * @param folder the resource folder, ending in {@code /}
     * @param names  the library file names in that folder
     * @param key    a short name for the cache folder, e.g. {@code openblas}
     * @return the cache folder holding the files
     * @throws BackendUnavailableException if a resource is missing
     * @throws java.io.UncheckedIOException if the files can be written neither into the cache nor into a temporary
     *         folder (its message names both folders and why)
     */
    public static Path extract(ClassLoader loader, String folder, List<String> names, String key) {
        List<URL> urls = locate(loader, folder, names);
        StringBuilder identity = new StringBuilder(key);
        long[] sizes = new long[names.size()];
        for (int i = 0; i < names.size(); i++) {
            Content c = content(urls.get(i));
            identity.append('|').append(names.get(i)).append('=').append(c.id());
            sizes[i] = c.size();
        }
        String leaf = key + "-" + shortHash(identity.toString());
        Path target = cacheRoot().resolve(leaf);
        try {
            return extractInto(target, urls, names, sizes, key);
        } catch (IOException e) {
            // a read-only or full home folder: a private temporary folder, deleted when the JVM exits
            try {
                // deleteOnExit deletes in the reverse order of the calls: the files, then their folder, then its
                // parent (registered the other way round, both folders were still full when their turn came, and
                // every run left them behind)
                Path tmp = Files.createTempDirectory("seq4j-" + leaf + "-");
                tmp.toFile().deleteOnExit();
                Path inTmp = tmp.resolve(leaf);
                inTmp.toFile().deleteOnExit();
                for (String name : names) {
                    inTmp.resolve(name).toFile().deleteOnExit();
                }
                return extractInto(inTmp, urls, names, sizes, key);
            } catch (IOException e2) {
                e2.addSuppressed(e);
                // both reasons in the message: it said only "... nor into a temporary folder", the reasons sat in its
                // cause and a suppressed exception, which `seq4j info` and Backends.probe did not show
                throw new UncheckedIOException("cannot extract native libraries into " + target + " (" + reason(e)
                        + ") nor into a temporary folder in java.io.tmpdir " + System.getProperty("java.io.tmpdir")
                        + " (" + reason(e2) + "); make one of them writable, or set -Dseq4j.cache to a writable"
                        + " folder", e2);
            }
        }
    }

    /**
     * What went wrong with a file, in words: a FileSystemException's message is its file and the system's reason
     * ("/x/seq4j: Not a directory"), but an AccessDeniedException's or a NoSuchFileException's is the file alone.
     */
    static String reason(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getFile() != null
                && (f.getReason() == null || f.getReason().isBlank())) {
            return f.getFile() + ": " + switch (e) {
                case java.nio.file.AccessDeniedException a -> "permission denied";
                case java.nio.file.NoSuchFileException a -> "no such file or folder";
                case java.nio.file.NotDirectoryException a -> "not a folder";
                case java.nio.file.FileAlreadyExistsException a -> "a file of that name is in the way";
                default -> e.getClass().getSimpleName();
            };
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * The resources {@code folder + name} as URLs: from the class loader, else (for a library jar on the module
     * path that no module requires, such as OpenBLAS's platform jar) from the jars named by jdk.module.path.
     */
    private static List<URL> locate(ClassLoader loader, String folder, List<String> names) {
        List<URL> urls = new ArrayList<>();
        for (String name : names) {
            URL url = loader == null ? null : loader.getResource(folder + name);
            if (url == null) {
                url = onModulePath(folder + name);
            }
            if (url == null) {
                throw new BackendUnavailableException("resource " + folder + name
                        + " is on neither the class path nor the module path");
            }
            urls.add(url);
        }
        return urls;
    }

    private static URL onModulePath(String resource) {
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath == null || modulePath.isBlank()) {
            return null;
        }
        for (String entry : modulePath.split(File.pathSeparator)) {
            Path p = Path.of(entry);
            try {
                if (Files.isDirectory(p)) {
                    if (Files.isRegularFile(p.resolve(resource))) {
                        return p.resolve(resource).toUri().toURL();
                    }
                    try (var jars = Files.list(p)) {
                        for (Path jar : jars.filter(j -> j.toString().endsWith(".jar")).toList()) {
                            URL url = inJar(jar, resource);
                            if (url != null) {
                                return url;
                            }
                        }
                    }
                } else if (p.toString().endsWith(".jar")) {
                    URL url = inJar(p, resource);
                    if (url != null) {
                        return url;
                    }
                }
            } catch (IOException e) {
                // an unreadable entry of the module path cannot hold the library: look at the next one
            }
        }
        return null;
    }

    private static URL inJar(Path jar, String resource) throws IOException {
        try (JarFile f = new JarFile(jar.toFile())) {
            return f.getJarEntry(resource) == null ? null
                    : URI.create("jar:" + jar.toUri() + "!/" + resource).toURL();
        }
    }

    private static Path extractInto(Path target, List<URL> urls, List<String> names, long[] sizes, String key)
            throws IOException {
        if (Files.isDirectory(target)) {
            if (claimExisting(target, names, sizes)) {
                return target;
            }
            // a file is missing (deleted by hand, or by a pruner that crashed) or of the wrong size (cut short: the
            // dynamic linker maps it and the JVM dies of SIGBUS on the missing pages)
            if (Files.isDirectory(target)) {
                Path aside = target.resolveSibling(key + "-tmp-broken" + Long.toUnsignedString(System.nanoTime(), 36));
                try {
                    Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
                    deleteTree(aside);
                } catch (IOException e) {
                    // another process moved it first, or cannot: the move below says which
                }
            }
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), key + "-tmp-");
        boolean created = false;
        try {
            for (int i = 0; i < names.size(); i++) {
                Path file = tmp.resolve(names.get(i));
                try (InputStream in = open(urls.get(i))) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
                // on disk before the rename publishes the folder: after a power loss a published folder holds whole
                // files (a cut one would pass for the library and crash the JVM that maps it)
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                created = true;
            } catch (IOException e) {
                // another process extracted the same libraries first (rename(2) onto their full folder fails with
                // EEXIST or ENOTEMPTY, which Java reports as FileAlreadyExistsException or a plain
                // FileSystemException): use theirs
                if (!claimExisting(target, names, sizes)) {
                    throw e;
                }
            }
        } finally {
            deleteTree(tmp);
        }
        if (created) {
            prune(target.getParent(), target, Instant.now());
        }
        return target;
    }

    // ---- pruning -----------------------------------------------------------------------------------------------

    /** The keys of seq4j's cache folders: only folders named after one of them are ever pruned. */
    static final List<String> KEYS = List.of("openblas", "seq4j-cpu", "seq4j-cuda");

    /** Whether a bad -Dseq4j.cache.keepDays has been warned of: each extraction prunes, the warning comes once. */
    private static final java.util.concurrent.atomic.AtomicBoolean keepDaysWarned =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** An extracted folder: KEY-<16 hex digits> (see extract). */
    private static final Pattern EXTRACTED = Pattern.compile("(" + String.join("|", KEYS) + ")-[0-9a-f]{16}");
    /** A folder being filled, set aside or deleted: KEY-tmp-<anything>. */
    private static final Pattern TEMPORARY = Pattern.compile("(" + String.join("|", KEYS) + ")-tmp-[0-9a-z]+");
    /** A temporary folder this old was left by a process that died (extraction takes seconds). */
    static final Duration TEMPORARY_AGE = Duration.ofDays(1);
    /** Folders are touched at most this often (a load refreshes a folder older than this). */
    static final Duration TOUCH_AGE = Duration.ofHours(1);

    /**
     * How long an extracted folder that no load has touched is kept: {@code -Dseq4j.cache.keepDays} (default 30;
     * 0 or less keeps every folder forever, and so does a count past Duration's range, which is taken as its largest).
     */
    static Duration keepAge() {
        String s = System.getProperty("seq4j.cache.keepDays");
        long days = 30;
        if (s != null && !s.isBlank()) {
            try {
                days = Long.parseLong(s.strip());
            } catch (NumberFormatException e) {
                throw new BackendMisconfiguredException("-Dseq4j.cache.keepDays=" + s
                        + ": expected a whole number of days (0 or less: never prune the cache)");
            }
        }
        // past Duration's range (about 10^14 days) every count means the same: keep what any file's age can reach
        return days <= 0 ? null : Duration.ofDays(Math.min(days, Long.MAX_VALUE / 86_400));
    }

    /**
     * Claims an extracted folder for use: refreshes its modification time (the pruner's clock, at most once per
     * TOUCH_AGE) and checks that every file is there, of the size its resource has (where known: {@code sizes[i] >=
     * 0}). False when it is gone (a pruner took it meanwhile), incomplete or holds a file cut short. A folder that
     * cannot be touched (a read-only cache) is used as it is.
     */
    private static boolean claimExisting(Path folder, List<String> names, long[] sizes) {
        try {
            FileTime now = FileTime.from(Instant.now());
            FileTime last = Files.getLastModifiedTime(folder);
            if (last.toInstant().isBefore(now.toInstant().minus(TOUCH_AGE))) {
                Files.setLastModifiedTime(folder, now);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            // read-only: nobody can prune it either
        }
        for (int i = 0; i < names.size(); i++) {
            Path file = folder.resolve(names.get(i));
            try {
                if (!Files.isRegularFile(file) || (sizes[i] >= 0 && Files.size(file) != sizes[i])) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    /**
     * Deletes the cache folders of seq4j's own naming (see KEYS) next to {@code keep} that no load has touched for
     * keepAge(), and temporary ones older than TEMPORARY_AGE: called after a new folder was extracted, so that every
     * upgrade does not leave its libraries behind forever. Anything else in the cache root is left alone. A folder is
     * first renamed to a temporary name, then its age is read again: a process that touched it meanwhile (it is
     * about to load it) gets it back. A process that has the libraries loaded already keeps them: the files stay
     * mapped until it exits. Never throws: pruning is housekeeping (a bad keepDays is one WARNING).
     *
     * @param root the cache root
     * @param keep the folder just extracted (never pruned)
     * @param now  the time to measure ages from
     */
    static void prune(Path root, Path keep, Instant now) {
        Duration keepAge;
        try {
            keepAge = keepAge();
        } catch (RuntimeException e) { // a bad setting: say so, and prune nothing (housekeeping never fails a load)
            if (!keepDaysWarned.getAndSet(true)) {   // once a JVM, not once for each library extracted
                System.getLogger(NativeLibraries.class.getName()).log(System.Logger.Level.WARNING,
                        "not pruning the native library cache: {0}", e.getMessage());
            }
            return;
        }
        if (keepAge == null) {
            return;
        }
        List<Path> folders;
        try (var list = Files.list(root)) {
            folders = list.toList();
        } catch (IOException | UncheckedIOException e) {
            return;
        }
        for (Path f : folders) {
            String name = f.getFileName().toString();
            try {
                if (f.equals(keep) || Files.isSymbolicLink(f) || !Files.isDirectory(f)) {
                    continue;
                }
                if (TEMPORARY.matcher(name).matches()) {
                    if (olderThan(f, now, TEMPORARY_AGE) && onlyFiles(f)) {
                        deleteTree(f);
                    }
                } else if (EXTRACTED.matcher(name).matches() && olderThan(f, now, keepAge) && onlyFiles(f)) {
                    String key = name.substring(0, name.length() - 17);
                    Path aside = root.resolve(key + "-tmp-prune" + Long.toUnsignedString(System.nanoTime(), 36));
                    Files.move(f, aside, StandardCopyOption.ATOMIC_MOVE);
                    if (olderThan(aside, now, keepAge)) {
                        deleteTree(aside);
                    } else { // touched between the two reads: someone is about to load it
                        try {
                            Files.move(aside, f, StandardCopyOption.ATOMIC_MOVE);
                        } catch (IOException e) {
                            deleteTree(aside); // extracted again meanwhile: that copy serves
                        }
                    }
                }
            } catch (IOException | UncheckedIOException | SecurityException e) {
                // in use elsewhere, not ours to delete, or gone already: leave it
            }
        }
    }

    private static boolean olderThan(Path f, Instant now, Duration age) throws IOException {
        // not now.minus(age): that throws DateTimeException for an age past Instant's range (a huge keepDays)
        Instant modified = Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant();
        return Duration.between(modified, now).compareTo(age) > 0;
    }

    /** Whether a folder holds only regular files, as seq4j's do (a folder with anything else is not ours). */
    private static boolean onlyFiles(Path f) throws IOException {
        try (var list = Files.list(f)) {
            return list.allMatch(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS));
        }
    }

    private static InputStream open(URL url) throws IOException {
        var connection = url.openConnection();
        connection.setUseCaches(false); // a cached jar would stay open (and locked) after extraction
        return connection.getInputStream();
    }

    /**
     * System.load with the reason turned into a BackendUnavailableException. A library that another class loader
     * has loaded already (a second copy of seq4j in a sibling loader) is loaded through a hard link of its own, so
     * that this loader's bindings find its symbols too; the dynamic linker still maps the file once.
     *
     * @param library the library file
     * @param what    what it is, for the message (e.g. "OpenBLAS")
     * @throws BackendUnavailableException with the linker's reason if it does not load, or the flag to add if the JVM
     *                                     denies org.seq4j.core native access
     */
    public static void load(Path library, String what) {
        Path absolute = library.toAbsolutePath();
        try {
            System.load(absolute.toString());
        } catch (IllegalCallerException e) { // System.load is a restricted method since JDK 24
            throw new BackendUnavailableException("cannot load " + what + ": "
                    + NativeAccess.denied(NativeLibraries.class.getModule(), NativeAccess.CORE_MODULES), e);
        } catch (UnsatisfiedLinkError e) {
            if (e.getMessage() == null || !e.getMessage().contains("another classloader")) {
                // the JDK's message and dlerror's both start with the path: name it once
                String path = absolute.toString();
                String why = String.valueOf(e.getMessage());
                while (why.startsWith(path + ": ")) {
                    why = why.substring(path.length() + 2);
                }
                why = why.replace("Can't load library: " + path, "cannot open it");
                throw new BackendUnavailableException("cannot load " + what + " from " + library + ": " + why, e);
            }
            Path own = linkForThisLoader(absolute);
            try {
                System.load(own.toString());
            } catch (UnsatisfiedLinkError e2) {
                throw new BackendUnavailableException("cannot load " + what + " from " + own + " (a link to " + library
                        + ", which another class loader holds): " + e2.getMessage(), e2);
            }
        }
    }

    /**
     * A hard link (or a copy) of library's file under a new temporary folder: a path of its own that the JDK's
     * per-class-loader bookkeeping, which goes by the canonical path, has not seen. The link is made to the file
     * itself, not to a symbolic link to it (Debian's libopenblas.so.0 is one): link(2) does not follow symbolic links,
     * and a link to a link would canonicalise back to the path another loader holds.
     */
    static Path linkForThisLoader(Path library) {
        try {
            Path file = library.toRealPath();
            Path dir = Files.createTempDirectory("seq4j-loader-");
            dir.toFile().deleteOnExit();
            Path link = dir.resolve(library.getFileName());
            try {
                Files.createLink(link, file);
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(file, link); // another file system, or a file we may not link: a copy (same code)
            }
            link.toFile().deleteOnExit();
            return link;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link " + library + " for a second class loader", e);
        }
    }

    /** A resource's identity in the cache folder's name, and its size in bytes (-1 where the jar does not say). */
    private record Content(String id, long size) {
    }

    private static Content content(URL url) {
        try {
            if (url.openConnection() instanceof JarURLConnection jar) {
                jar.setUseCaches(false);
                JarEntry entry = jar.getJarEntry();
                return new Content(Long.toHexString(entry.getCrc()) + ":" + entry.getSize(), entry.getSize());
            }
            try (InputStream in = open(url)) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 16];
                long size = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                    size += n;
                }
                return new Content(HexFormat.of().formatHex(md.digest()), size);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + url, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String shortHash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
