// Finds and loads Open MPI's libmpi.so for the jextract bindings (org.seq4j.bindings.mpi), and takes the
// predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_ERRORS_RETURN, ...) from its symbol table:
// in Open MPI each handle is the address of an exported global (mpi.h: #define MPI_COMM_WORLD
// ((MPI_Comm) &ompi_mpi_comm_world)), whose opaque struct type jextract cannot bind.
//
// Why dlopen first: MPI_Init dlopens Open MPI's plugins (mca_*.so); in builds whose plugins are not linked
// against libmpi / libopen-pal they resolve those symbols through the global namespace, and System.load opens
// a library RTLD_LOCAL, so they would fail ("undefined symbol: ompi_..."), the problem mpi4py meets the same
// way. So libmpi is dlopen'ed RTLD_NOW | RTLD_GLOBAL through FFM first; the System.load that follows finds it
// loaded (and global) and lets the bindings' loader lookup see its symbols. (Debian's Open MPI 4.1.4 links its
// plugins and also starts after a plain System.load; the global open costs nothing there.)
//
// Where from, in order: -Dseq4j.mpi / SEQ4J_MPI (a path to libmpi.so*, an error if it does not load), then
// libmpi.so.40 / libmpi.so in $LD_LIBRARY_PATH, $OPAL_PREFIX/lib, and the usual system folders (Debian's
// /usr/lib/x86_64-linux-gnu, Fedora's /usr/lib64/openmpi/lib, /usr/local/lib, /opt/openmpi/lib).
//
// A JVM that denies native access (--illegal-native-access=deny without --enable-native-access for org.seq4j.nn
// and the bindings) refuses the first restricted call: made before the search, so that the reason is the same
// whether or not a libmpi is installed, and remembered, as the bindings' class cannot be initialised twice.
package org.seq4j.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.internal.NativeAccess;
import org.seq4j.bindings.mpi.mpi_h;

/**
 * Open MPI's libmpi.so, found and loaded (RTLD_GLOBAL, so its plugins resolve) for the jextract bindings,
 * with the predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) taken from its symbol table. Searched
 * in -Dseq4j.mpi / SEQ4J_MPI, then $LD_LIBRARY_PATH, $OPAL_PREFIX/lib and the usual system folders.
 */
public final class MpiLibrary {
    private static final int RTLD_NOW = 0x2, RTLD_GLOBAL = 0x100; // <dlfcn.h> on Linux (glibc and musl)
    private static final List<String> NAMES = List.of("libmpi.so.40", "libmpi.so");
    private static final List<String> FOLDERS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64/openmpi/lib",
            "/usr/lib64", "/usr/lib", "/usr/local/lib", "/opt/openmpi/lib");

    /** The modules that make MPI's downcalls, as --enable-native-access takes them. */
    private static final String MODULES = NativeAccess.CORE_MODULES + ",org.seq4j.nn";

    private static MpiLibrary loaded;
    /** Why this JVM cannot call MPI, once it refused native access; every later load() says the same. */
    private static String denied;

    private final Path path;
    private final String source;
    private final String version;
    final MemorySegment commWorld, floatType, doubleType, longType, opSum, opMin, errorsReturn;

    /**
     * Where a library was found and which candidates were passed over, for `seq4j info`.
     *
     * @param available whether libmpi loads
     * @param detail its path, where it was found and its version; or why none loads
     */
    public record Status(boolean available, String detail) {
    }

    private MpiLibrary(Path path, String source) {
        this.path = path;
        this.source = source;
        SymbolLookup lookup = SymbolLookup.loaderLookup();
        this.commWorld = handle(lookup, "ompi_mpi_comm_world");
        this.floatType = handle(lookup, "ompi_mpi_float");
        this.doubleType = handle(lookup, "ompi_mpi_double");
        this.longType = handle(lookup, "ompi_mpi_long");
        this.opSum = handle(lookup, "ompi_mpi_op_sum");
        this.opMin = handle(lookup, "ompi_mpi_op_min");
        this.errorsReturn = handle(lookup, "ompi_mpi_errors_return");
        this.version = libraryVersion();
    }

    /**
     * The loaded library, loading it on first use.
     *
     * @return the one library of this process
     * @throws DistributedException naming each candidate tried, when none loads, or the {@code --enable-native-access}
     *                              to add, when the JVM denies native access
     */
    public static synchronized MpiLibrary load() {
        if (loaded == null) {
            if (denied != null) {
                throw new DistributedException(denied);
            }
            try {
                NativeAccess.initialise(MODULES, mpi_h.class);
                loaded = find(configured(System.getProperty("seq4j.mpi"), System.getenv("SEQ4J_MPI")));
            } catch (BackendUnavailableException e) { // the bindings' module was refused
                denied = "cannot call Open MPI: " + e.getMessage();
                throw new DistributedException(denied, e);
            } catch (IllegalCallerException e) { // this module was refused (dlopen's downcall handle, System.load)
                denied = "cannot call Open MPI: " + NativeAccess.denied(MpiLibrary.class.getModule(), MODULES);
                throw new DistributedException(denied, e);
            }
        }
        return loaded;
    }

    /**
     * Whether libmpi loads here and which, or why not; loads it but never calls MPI_Init.
     *
     * @return the status; never throws
     */
    public static Status probe() {
        try {
            MpiLibrary m = load();
            return new Status(true, m.path + " (" + m.source + "), " + m.version);
        } catch (DistributedException e) {
            return new Status(false, e.getMessage());
        }
    }

    /**
     * The file that was loaded.
     *
     * @return the path of libmpi.so*
     */
    public Path path() {
        return path;
    }

    /**
     * The library's version.
     *
     * @return MPI_Get_library_version's first line, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ..."
     */
    public String version() {
        return version;
    }

    /**
     * The library configured: -Dseq4j.mpi unless blank, else SEQ4J_MPI (as -Dseq4j.backend and SEQ4J_BACKEND). A blank
     * property (-Dseq4j.mpi= from an empty shell variable) hid SEQ4J_MPI, and the search loaded another libmpi.
     *
     * @return the path as given, or null (or blank) where neither is set: search
     */
    static String configured(String property, String variable) {
        return property != null && !property.isBlank() ? property : variable;
    }

    /** {@code explicit}: the configured path, or null to search. */
    static MpiLibrary find(String explicit) {
        Dl dl = Dl.create(); // the first restricted call of this module: before the search, whatever it finds
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit.trim());
            String why = open(dl, p);
            if (why != null) {
                throw new DistributedException("the MPI library named by -Dseq4j.mpi / SEQ4J_MPI does not load: " + why);
            }
            return new MpiLibrary(p, "-Dseq4j.mpi / SEQ4J_MPI");
        }
        Set<Path> folders = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String f : ld.split(":")) {
                if (!f.isBlank()) {
                    folders.add(Path.of(f));
                }
            }
        }
        String prefix = System.getenv("OPAL_PREFIX");
        if (prefix != null && !prefix.isBlank()) {
            folders.add(Path.of(prefix, "lib"));
        }
        for (String f : FOLDERS) {
            folders.add(Path.of(f));
        }
        List<String> skipped = new ArrayList<>();
        for (Path folder : folders) {
            for (String name : NAMES) {
                Path p = folder.resolve(name);
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                String why = open(dl, p);
                if (why == null) {
                    return new MpiLibrary(p, "found in " + folder);
                }
                skipped.add(p + ": " + why);
            }
        }
        throw new DistributedException("no Open MPI library (" + String.join(" or ", NAMES) + ") in $LD_LIBRARY_PATH, "
                + "$OPAL_PREFIX/lib or " + FOLDERS + (skipped.isEmpty() ? "" : "; passed over " + skipped)
                + "; install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) or set SEQ4J_MPI");
    }

    /** libc's dlopen and dlerror. */
    private record Dl(MethodHandle dlopen, MethodHandle dlerror) {
        static Dl create() {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            return new Dl(linker.downcallHandle(libc.findOrThrow("dlopen"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(libc.findOrThrow("dlerror"), FunctionDescriptor.of(ValueLayout.ADDRESS)));
        }
    }

    /** dlopen(path, RTLD_NOW | RTLD_GLOBAL), then System.load; null when it loaded, else the reason. */
    private static String open(Dl dl, Path p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) dl.dlopen().invokeExact(arena.allocateFrom(p.toAbsolutePath().toString()),
                    RTLD_NOW | RTLD_GLOBAL);
            if (handle.equals(MemorySegment.NULL)) {
                MemorySegment err = (MemorySegment) dl.dlerror().invokeExact();
                return err.equals(MemorySegment.NULL) ? "dlopen failed" : err.reinterpret(4096).getString(0);
            }
        } catch (Throwable t) {
            return "dlopen threw " + t;
        }
        try {
            System.load(p.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            return e.getMessage();
        }
        if (SymbolLookup.loaderLookup().find("ompi_mpi_comm_world").isEmpty()) {
            return "not Open MPI (no symbol ompi_mpi_comm_world; seq4j binds Open MPI's ABI, in which handles are pointers)";
        }
        return null;
    }

    private static MemorySegment handle(SymbolLookup lookup, String symbol) {
        return lookup.find(symbol).orElseThrow(() -> new DistributedException("the Open MPI library has no symbol "
                + symbol + "; seq4j needs Open MPI 4.x or 5.x"));
    }

    private static String libraryVersion() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(mpi_h.MPI_MAX_LIBRARY_VERSION_STRING() + 1L);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            if (mpi_h.MPI_Get_library_version(text, length) != mpi_h.MPI_SUCCESS()) {
                return "version unknown";
            }
            String v = text.getString(0).strip();
            int nl = v.indexOf('\n');
            return nl < 0 ? v : v.substring(0, nl).strip();
        }
    }
}
