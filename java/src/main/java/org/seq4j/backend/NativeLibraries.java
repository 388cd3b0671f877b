// Loads native libraries for the FFM bindings: System.load of an absolute path (so that the
// generated bindings, which look symbols up through the class loader, find them), and extraction of
// libraries packed in jars into a per-user cache folder, once per content.
package org.seq4j.backend;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;

public final class NativeLibraries {
    private NativeLibraries() {
    }

    /** ~/.cache/seq4j, or $XDG_CACHE_HOME/seq4j, or -Dseq4j.cache. */
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
     */
    public static Path extract(ClassLoader loader, String folder, List<String> names, String key) {
        StringBuilder identity = new StringBuilder(key);
        for (String name : names) {
            URL url = loader.getResource(folder + name);
            if (url == null) {
                throw new BackendUnavailableException("resource " + folder + name + " is not on the class path");
            }
            identity.append('|').append(name).append('=').append(contentId(loader, url, folder + name));
        }
        Path target = cacheRoot().resolve(key + "-" + shortHash(identity.toString()));
        if (Files.isDirectory(target)) {
            return target;
        }
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempDirectory(target.getParent(), key + "-tmp-");
            try {
                for (String name : names) {
                    try (InputStream in = loader.getResourceAsStream(folder + name)) {
                        Files.copy(in, tmp.resolve(name), StandardCopyOption.REPLACE_EXISTING);
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
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract native libraries into " + target, e);
        }
    }

    /** System.load with the reason turned into a BackendUnavailableException. */
    public static void load(Path library, String what) {
        try {
            System.load(library.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            // the JDK's message and dlerror's both start with the path: name it once
            String path = library.toAbsolutePath().toString();
            String why = String.valueOf(e.getMessage());
            while (why.startsWith(path + ": ")) {
                why = why.substring(path.length() + 2);
            }
            why = why.replace("Can't load library: " + path, "cannot open it");
            throw new BackendUnavailableException("cannot load " + what + " from " + library + ": " + why, e);
        }
    }

    private static String contentId(ClassLoader loader, URL url, String resource) {
        try {
            if (url.openConnection() instanceof JarURLConnection jar) {
                jar.setUseCaches(false);
                JarEntry entry = jar.getJarEntry();
                return Long.toHexString(entry.getCrc()) + ":" + entry.getSize();
            }
            try (InputStream in = loader.getResourceAsStream(resource)) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
                return HexFormat.of().formatHex(md.digest());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
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
