/**
 * seq4j nn: the book's layers and models (RNN language models, seq2seq, peeky and attention seq2seq, wave
 * regression), optimizers, gradient clipping, trainers, the book's data sets, {@code .npz} I/O and data-parallel
 * training over MPI ({@code org.seq4j.dist}), on any backend. {@code org.seq4j.dist} calls Open MPI from this
 * module, so MPI training also needs {@code --enable-native-access=org.seq4j.nn} (besides core's).
 */
module org.seq4j.nn {
    requires transitive org.seq4j.core;
    requires org.seq4j.bindings;
    requires java.management;   // JavaHeap: the heap's use after its last collection

    // org.seq4j.internal (JavaHeap) is not exported: helpers its packages share, not API
    exports org.seq4j.io;
    exports org.seq4j.data;
    exports org.seq4j.dist;
    exports org.seq4j.layers;
    exports org.seq4j.models;
    exports org.seq4j.optim;
    exports org.seq4j.train;
}
