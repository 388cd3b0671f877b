// Loads native libraries for the FFM bindings: System.load of an absolute path (so that the
// generated bindings, which look symbols up through the class loader, find them), and extraction of
// libraries packed in jars into a per-user cache folder (or a temporary one), once per content.
// Works in any class loader: a second copy of seq4j in a sibling loader gets its own link to the file.
package org.seq4j.backend;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

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
     * Where extracted libraries go: {@code -Dseq4j.cache}, else {@code $XDG_CACHE_HOME/seq4j}, else
     * {@code ~/.cache/seq4j}.
     *
     * @return the folder (not created here)
     */
    public static Path cacheRoot() {
        String explicit = System.getProperty("seq4j.cache");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("seq4j");
    }

    /**
     * Copies the class-path resources {@code folder + name} (for each name) into one cache folder whose
     * name is derived from {@code key} and the resources' contents, unless that folder exists already, and
     * returns it. A resource inside a jar is identified by the CRC-32 and size that the jar's directory
     * already records (free, even for a 37 MB OpenBLAS); a loose file on the class path by a SHA-256 of its
     * bytes. So a rebuilt or upgraded library never reuses a stale copy. The folder is filled under a
     * temporary name and renamed into place, so a crash never leaves a half-written library behind.
     *
     * @param loader the class loader that holds the resources
     * @param folder the resource folder, ending in {@code /}
     * @param names  the library file names in that folder
     * @param key    a short name for the cache folder, e.g. {@code openblas}
     * @return the cache folder holding the files
     * @throws BackendUnavailableException if a resource is missing
     * @throws java.io.UncheckedIOException if the files cannot be written
     */
    public static Path extract(ClassLoader loader, String folder, List<String> names, String key) {
        List<URL> urls = locate(loader, folder, names);
        StringBuilder identity = new StringBuilder(key);
        for (int i = 0; i < names.size(); i++) {
            identity.append('|').append(names.get(i)).append('=').append(contentId(urls.get(i)));
        }
        String leaf = key + "-" + shortHash(identity.toString());
        Path target = cacheRoot().resolve(leaf);
        try {
            return extractInto(target, urls, names, key);
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
                return extractInto(inTmp, urls, names, key);
            } catch (IOException e2) {
                e2.addSuppressed(e);
                throw new UncheckedIOException("cannot extract native libraries into " + target
                        + " nor into a temporary folder", e2);
            }
        }
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

    private static Path extractInto(Path target, List<URL> urls, List<String> names, String key) throws IOException {
        if (Files.isDirectory(target)) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), key + "-tmp-");
        try {
            for (int i = 0; i < names.size(); i++) {
                try (InputStream in = open(urls.get(i))) {
                    Files.copy(in, tmp.resolve(names.get(i)), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                // another process extracted the same libraries first: use theirs
                if (!Files.isDirectory(target)) {
                    throw e;
                }
            }
        } finally {
            deleteTree(tmp);
        }
        return target;
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
     * @throws BackendUnavailableException with the linker's reason if it does not load
     */
    public static void load(Path library, String what) {
        Path absolute = library.toAbsolutePath();
        try {
            System.load(absolute.toString());
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

    private static String contentId(URL url) {
        try {
            if (url.openConnection() instanceof JarURLConnection jar) {
                jar.setUseCaches(false);
                JarEntry entry = jar.getJarEntry();
                return Long.toHexString(entry.getCrc()) + ":" + entry.getSize();
            }
            try (InputStream in = open(url)) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
                return HexFormat.of().formatHex(md.digest());
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
