/**
 * seq4j core: {@link org.seq4j.tensor.Tensor}, the {@link org.seq4j.backend.Backend} kernel set and its SPI
 * ({@link org.seq4j.backend.BackendProvider}, found with ServiceLoader), the pure-Java reference backend and
 * the OpenBLAS backend with seq4j's C kernels. Needs {@code --enable-native-access=org.seq4j.bindings,org.seq4j.core}
 * (the generated bindings make the downcalls).
 */
@SuppressWarnings("module") // the modules named in the qualified export are built after this one
module org.seq4j.core {
    requires org.seq4j.bindings;

    exports org.seq4j.tensor;
    exports org.seq4j.backend;
    exports org.seq4j.backend.openblas;
    // the native library loaders: public for seq4j's own modules only. Exported to all, any module would load any
    // shared library under the native access granted to org.seq4j.core, and could change OpenBLAS's thread count
    // under every backend.
    exports org.seq4j.backend.internal to org.seq4j.cuda, org.seq4j.nn;

    uses org.seq4j.backend.BackendProvider;

    provides org.seq4j.backend.BackendProvider with
            org.seq4j.backend.JavaBackendProvider,
            org.seq4j.backend.openblas.OpenBlasBackendProvider;
}
