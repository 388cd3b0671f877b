// What a JVM that denies seq4j native access gets: a BackendUnavailableException naming the flag to add, where it got
// an ExceptionInInitializerError with no message from a generated binding's static initialiser (its first restricted
// call, refused under --illegal-native-access=deny, the JDK's announced future default), then NoClassDefFoundError
// from every later call for the life of the JVM. The binding classes are initialised here, once, before any other use,
// and a refusal is remembered: the class cannot be initialised again, so a later call gets the same message.
package org.seq4j.backend.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.seq4j.backend.BackendUnavailableException;

/** Initialises seq4j's generated bindings and names the missing {@code --enable-native-access} when that is refused. */
public final class NativeAccess {
    /** The modules that make the CPU backend's downcalls, as {@code --enable-native-access} takes them. */
    public static final String CORE_MODULES = "org.seq4j.bindings,org.seq4j.core";

    /** Binding classes whose initialiser native access was denied to, and the message each call gets since. */
    private static final Map<String, String> DENIED = new ConcurrentHashMap<>();

    private NativeAccess() {
    }

    /**
     * Initialises the given generated binding classes, if that was not done before.
     *
     * @param modules  the modules a module-path user must enable, e.g. {@link #CORE_MODULES}
     * @param bindings the jextract header classes, e.g. {@code cblas_h.class}
     * @throws BackendUnavailableException naming the {@code --enable-native-access} to add, if the JVM denies their
     *                                     module native access (now, or at an earlier call)
     */
    public static void initialise(String modules, Class<?>... bindings) {
        for (Class<?> c : bindings) {
            String denied = DENIED.get(c.getName());
            if (denied != null) {
                throw new BackendUnavailableException(denied);
            }
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(c + " was loaded, so it is found", e);
            } catch (ExceptionInInitializerError e) {
                if (!(e.getCause() instanceof IllegalCallerException refused)) {
                    throw e;
                }
                String message = denied(c.getModule(), modules);
                DENIED.putIfAbsent(c.getName(), message);
                throw new BackendUnavailableException(message, refused);
            }
        }
    }

    /**
     * The one-line message for a restricted call that the JVM refused to {@code module}.
     *
     * @param module  the module the refused call came from (the class path's unnamed module, or one of seq4j's)
     * @param modules the modules a module-path user must enable, e.g. {@link #CORE_MODULES}
     * @return what was refused and the flag to add
     */
    public static String denied(Module module, String modules) {
        return "native access is denied to " + (module.isNamed() ? "module " + module.getName() : "the class path")
                + " (--illegal-native-access=deny): start java with " + flag(module, modules);
    }

    /**
     * The {@code --enable-native-access} that grants {@code module} native access.
     *
     * @param module  a module of seq4j's, or the class path's unnamed module
     * @param modules the modules to name on the module path
     * @return {@code --enable-native-access=MODULES}, or {@code --enable-native-access=ALL-UNNAMED} on the class path
     */
    public static String flag(Module module, String modules) {
        return "--enable-native-access=" + (module.isNamed() ? modules : "ALL-UNNAMED");
    }
}
