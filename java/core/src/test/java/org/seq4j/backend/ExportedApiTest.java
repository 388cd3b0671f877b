// What org.seq4j.core's module descriptor gives every module: NativeLibraries.load(Path, String), public in the
// exported org.seq4j.backend, let a module the application never granted native access load any shared library under
// org.seq4j.core's grant, and OpenBlasLibrary.setThreads changed the OpenBLAS thread count under every backend (a
// 1000^2 matmul 33 times slower on 2 cores). The loaders now live in a package exported to seq4j's own modules only.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.reflect.Executable;
import java.lang.reflect.Modifier;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.internal.CpuKernelsLibrary;
import org.seq4j.backend.internal.NativeLibraries;
import org.seq4j.backend.internal.OpenBlasLibrary;

class ExportedApiTest {
    /** seq4j-core's descriptor, read from where its classes were loaded (the tests run on the class path). */
    private static ModuleDescriptor core() throws Exception {
        Path where = Path.of(Backends.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return ModuleFinder.of(where).find("org.seq4j.core").orElseThrow().descriptor();
    }

    @Test
    void theNativeLoadersAreExportedToSeq4jsOwnModulesOnly() throws Exception {
        ModuleDescriptor core = core();
        for (Class<?> c : List.of(NativeLibraries.class, CpuKernelsLibrary.class, OpenBlasLibrary.class)) {
            String pkg = c.getPackageName();
            for (ModuleDescriptor.Exports e : core.exports()) {
                if (e.source().equals(pkg)) {
                    assertTrue(e.isQualified(), c.getName() + " is in a package exported to every module");
                    assertTrue(Set.of("org.seq4j.cuda", "org.seq4j.nn").containsAll(e.targets()),
                            pkg + " is exported to " + e.targets());
                }
            }
        }
    }

    @Test
    void counterRandomIsNotPublic() {
        assertFalse(Modifier.isPublic(CounterRandom.class.getModifiers()));
    }

    /**
     * No public or protected member of a class in an unqualified export takes or returns a type of a package that is
     * not exported to every module (OpenBlasBackend.location() returned OpenBlasLibrary.Location): such a method names
     * a type its callers cannot use.
     */
    @Test
    void theExportedApiNamesOnlyExportedTypes() throws Exception {
        ModuleDescriptor core = core();
        Set<String> open = new java.util.HashSet<>();
        core.exports().stream().filter(e -> !e.isQualified()).forEach(e -> open.add(e.source()));
        Path where = Path.of(Backends.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        // core's classes folder in its own build; its jar where another module reruns this suite (java/cuda)
        try (FileSystem jar = Files.isDirectory(where) ? null : FileSystems.newFileSystem(where)) {
            assertEquals(List.of(), leaks(open, jar == null ? where : jar.getPath("/")));
        }
    }

    /** Each public or protected member of the public classes of {@code open} that names a type outside them. */
    private static List<String> leaks(Set<String> open, Path root) throws Exception {
        List<String> leaks = new ArrayList<>();
        for (String pkg : open) {
            try (Stream<Path> files = Files.list(root.resolve(pkg.replace('.', '/')))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                    String name = pkg + "." + f.getFileName().toString().replace(".class", "");
                    Class<?> c = Class.forName(name, false, Backends.class.getClassLoader());
                    if (!org.seq4j.testing.PublicClasses.isPublic(c)) {
                        continue;
                    }
                    List<Executable> members = new ArrayList<>(List.of(c.getDeclaredMethods()));
                    members.addAll(List.of(c.getDeclaredConstructors()));
                    for (Executable m : members) {
                        if (!Modifier.isPublic(m.getModifiers()) && !Modifier.isProtected(m.getModifiers())) {
                            continue;
                        }
                        List<Class<?>> types = new ArrayList<>(List.of(m.getParameterTypes()));
                        if (m instanceof java.lang.reflect.Method method) {
                            types.add(method.getReturnType());
                        }
                        for (Class<?> t : types) {
                            while (t.isArray()) {
                                t = t.getComponentType();
                            }
                            if (t.getPackageName().startsWith("org.seq4j.") && !open.contains(t.getPackageName())) {
                                leaks.add(m + " names " + t.getName());
                            }
                        }
                    }
                }
            }
        }
        return leaks;
    }
}
