/**
 * seq4j's CUDA backend (cuBLAS and seq4j's CUDA kernels), an optional add-on: with this module present,
 * {@code Backends.select()} tries cuda first. Needs
 * {@code --enable-native-access=org.seq4j.bindings,org.seq4j.core,org.seq4j.cuda}.
 */
module org.seq4j.cuda {
    requires org.seq4j.core;
    requires org.seq4j.bindings;

    exports org.seq4j.backend.cuda;

    provides org.seq4j.backend.BackendProvider with org.seq4j.backend.cuda.CudaBackendProvider;
}
