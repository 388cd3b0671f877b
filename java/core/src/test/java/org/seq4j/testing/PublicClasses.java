// The public classes of some packages of a module, for the reflective fuzzers (seq4j-nn's ApiFuzzTest, seq4j-core's
// CoreApiFuzzTest): read from the module's classes folder, or from its jar where another module's build reruns the
// tests over it (seq4j-cuda's reruns core's).
package org.seq4j.testing;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

public final class PublicClasses {
    private PublicClasses() {
    }

    /**
     * The public classes of {@code packages} (nested ones too, where every enclosing class is public; no anonymous or
     * synthetic ones), from the folder or jar that holds {@code anchor}, sorted by name; loaded, not initialised.
     */
    public static List<Class<?>> of(Class<?> anchor, List<String> packages) throws IOException, URISyntaxException {
        Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> out = new ArrayList<>();
        try (FileSystem jar = Files.isDirectory(location) ? null : FileSystems.newFileSystem(location)) {
            Path root = jar == null ? location : jar.getPath("/");
            for (String pkg : packages) {
                try (Stream<Path> files = Files.list(root.resolve(pkg.replace('.', '/')))) {
                    for (Path f : files.sorted().toList()) {
                        String n = f.getFileName().toString();
                        if (!n.endsWith(".class") || n.equals("package-info.class")) {
                            continue;
                        }
                        Class<?> k;
                        try {
                            k = Class.forName(pkg + "." + n.substring(0, n.length() - 6), false,
                                    anchor.getClassLoader());
                        } catch (ClassNotFoundException e) {
                            throw new AssertionError(e);
                        }
                        if (isPublic(k) && !k.isAnonymousClass() && !k.isSynthetic()) {
                            out.add(k);
                        }
                    }
                }
            }
        }
        out.sort(Comparator.comparing(Class::getName));
        return out;
    }

    /**
     * The public members a fuzzer calls on {@code k}: its public constructors (none for an abstract class or an enum)
     * and its public declared methods, neither synthetic nor bridges; unsorted.
     */
    public static List<Executable> executables(Class<?> k) {
        List<Executable> out = new ArrayList<>();
        if (!Modifier.isAbstract(k.getModifiers()) && !k.isEnum()) {
            for (Constructor<?> c : k.getDeclaredConstructors()) {
                if (Modifier.isPublic(c.getModifiers()) && !c.isSynthetic()) {
                    out.add(c);
                }
            }
        }
        for (Method m : k.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
                out.add(m);
            }
        }
        return out;
    }

    /** Whether k and every class that encloses it are public. */
    public static boolean isPublic(Class<?> k) {
        for (Class<?> c = k; c != null; c = c.getEnclosingClass()) {
            if (!Modifier.isPublic(c.getModifiers())) {
                return false;
            }
        }
        return true;
    }
}
