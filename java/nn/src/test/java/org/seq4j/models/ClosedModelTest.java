// A model used after close() is refused in its own words, at the size it last ran at: every operation of every model
// (SteadyStateAllocationTest's cases) throws IllegalStateException "<Model>.<operation>: this <Model> is already
// closed", naming neither a layer nor a kernel; closing again does nothing. The layers' own refusal (ClosedLayerTest)
// is behind it. A model whose backend was closed under it is refused in its own words too, "<Model>.<operation>: its
// backend java is closed ...", not the words of the first allocation or kernel it reached ("allocate: backend
// openblas is closed"), and the model still closes.
package org.seq4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class ClosedModelTest {

    /** The operation throws IllegalStateException "model.operation: this model is already closed". */
    private static void refused(String model, String operation, Executable run) {
        IllegalStateException e = assertThrows(IllegalStateException.class, run,
                model + "." + operation + " after close");
        assertEquals(model + "." + operation + ": this " + model + " is already closed", e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.models.SteadyStateAllocationTest#cases")
    void everyOperationOfAClosedModelIsRefusedNamingIt(SteadyStateAllocationTest.Case c) {
        Backend backend = TestBackends.reference();
        Random rng = new Random(3);
        try (Arena arena = Arena.ofConfined()) {
            Model model = c.model().apply(backend);
            String name = model.getClass().getSimpleName();
            Tensor xs = SteadyStateAllocationTest.input(backend, arena, rng, c, c.xsShape());
            Tensor ts = SteadyStateAllocationTest.input(backend, arena, rng, c, c.tsShape());
            model.forward(xs, ts);
            model.backward();
            model.forward(xs, ts);   // its backward is open when the model closes
            model.close();
            refused(name, "backward", model::backward);
            refused(name, "forward", () -> model.forward(xs, ts));
            refused(name, "setTraining", () -> model.setTraining(false));
            refused(name, "setInferencePrecision", () -> model.setInferencePrecision(PackedMatrix.Precision.F32));
            switch (model) {
                case LanguageModel lm -> {
                    refused(name, "resetState", lm::resetState);
                    refused(name, "generate",
                            () -> lm.generate(new int[][] {{1}}, 2, LanguageModel.Sampling.ARGMAX, 1));
                    refused(name, "beamSearch", () -> lm.beamSearch(new int[][] {{1}}, 2, 2, 0, -1));
                }
                case Seq2seqModel s2s -> {
                    refused(name, "generate", () -> s2s.generate(xs, 1, 2));
                    refused(name, "beamSearch", () -> s2s.beamSearch(xs, 1, 2, 2));
                    refused(name, "generate", () -> s2s.generate(new int[][] {{1, 2}}, 1, 2));
                    refused(name, "beamSearch", () -> s2s.beamSearch(new int[][] {{1, 2}}, 1, 2, 2));
                }
                case RegressionModel r -> refused(name, "predict", () -> r.predict(xs, 2));
                default -> throw new AssertionError("a model of no known kind: " + name);
            }
            model.close();   // closing again does nothing
            refused(name, "forward", () -> model.forward(xs, ts));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.models.SteadyStateAllocationTest#cases")
    void everyOperationOnAClosedBackendIsRefusedNamingIt(SteadyStateAllocationTest.Case c) {
        Backend backend = Backends.create("java");   // its own, to close: not the tests' shared one
        Random rng = new Random(4);
        try (Arena arena = Arena.ofConfined(); Model model = c.model().apply(backend)) {
            String name = model.getClass().getSimpleName();
            Tensor xs = SteadyStateAllocationTest.input(backend, arena, rng, c, c.xsShape());
            Tensor ts = SteadyStateAllocationTest.input(backend, arena, rng, c, c.tsShape());
            model.forward(xs, ts);
            backend.close();
            java.util.function.BiConsumer<String, Executable> refused = (operation, run) -> {
                String m = assertThrows(IllegalStateException.class, run, name + "." + operation).getMessage();
                assertTrue(m.startsWith(name + "." + operation + ": its backend java is closed"), m);
            };
            refused.accept("backward", model::backward);
            refused.accept("forward", () -> model.forward(xs, ts));
            switch (model) {
                case LanguageModel lm -> {
                    refused.accept("generate",
                            () -> lm.generate(new int[][] {{1}}, 2, LanguageModel.Sampling.ARGMAX, 1));
                    refused.accept("beamSearch", () -> lm.beamSearch(new int[][] {{1}}, 2, 2, 0, -1));
                }
                case Seq2seqModel s2s -> {
                    refused.accept("generate", () -> s2s.generate(xs, 1, 2));
                    refused.accept("beamSearch", () -> s2s.beamSearch(xs, 1, 2, 2));
                    // the host-array forms copy the questions onto the backend first: refused before, in the model's
                    // words (they said "allocate: backend java is closed")
                    refused.accept("generate", () -> s2s.generate(new int[][] {{1, 2}}, 1, 2));
                    refused.accept("beamSearch", () -> s2s.beamSearch(new int[][] {{1, 2}}, 1, 2, 2));
                    refused.accept("beamSearch", () -> s2s.generate(new int[][] {{1, 2}}, 1, 2, 3));
                }
                case RegressionModel r -> {
                    refused.accept("predict", () -> r.predict(xs, 2));
                    // the host-array form, as seq2seq's ("allocate: backend java is closed" before)
                    refused.accept("predict", () -> r.predict(new float[][] {new float[r.inputSize() * 2]}, 2));
                }
                default -> throw new AssertionError("a model of no known kind: " + name);
            }
        }   // the model closes after its backend
    }

    /**
     * The store's operations on a closed backend are refused naming them ("ParameterStore.zeroGrads: the store's
     * backend java is closed ..."), as the model's and the optimizers' are: they said only the kernel's words ("fill:
     * backend java is closed", "copyOut: ...", "sumOfSquares: ..."), naming no call of the caller's.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.models.SteadyStateAllocationTest#cases")
    void theStoresOperationsOnAClosedBackendAreRefusedNamingThem(SteadyStateAllocationTest.Case c) {
        Backend backend = Backends.create("java");   // its own, to close: not the tests' shared one
        try (Model model = c.model().apply(backend)) {
            org.seq4j.layers.ParameterStore store = model.store();
            String first = store.parameters().get(0).name();
            float[] values = store.copyOut(first);
            java.util.Map<String, float[]> all = store.copyOutAll();
            backend.close();
            java.util.function.BiConsumer<String, Executable> refused = (operation, run) -> {
                String m = assertThrows(IllegalStateException.class, run, operation).getMessage();
                assertTrue(m.startsWith("ParameterStore." + operation + ": the store's backend java is closed"), m);
            };
            refused.accept("zeroGrads", store::zeroGrads);
            refused.accept("copyOut", () -> store.copyOut(first));
            refused.accept("copyOutGrad", () -> store.copyOutGrad(first));
            refused.accept("copyIn", () -> store.copyIn(first, values));
            refused.accept("copyOutAll", store::copyOutAll);
            refused.accept("copyInAll", () -> store.copyInAll(all));
            refused.accept("gradNorm", store::gradNorm);
            refused.accept("scaleGrads", () -> store.scaleGrads(0.5f));
        }   // the model, and its store, close after the backend
    }
}
