// Misuse of public methods that BadInputTest does not reach, found by going through every public method of the
// exported packages: each is now a clear exception naming the method and the argument, where it was a silently
// clamped value, a NullPointerException naming a helper's local, an FFM message about byte offsets, a guard that a
// stray exit() opened, or an ExceptionInInitializerError that broke the OpenBLAS backend for the JVM's lifetime.
package org.seq4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.seq4j.backend.internal.CpuKernelsLibrary;
import org.seq4j.backend.internal.OpenBlasLibrary;
import org.seq4j.backend.openblas.OpenBlasBackend;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.TestBackends;

class PublicApiMisuseTest {

    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.seq4j.testing.TestBackends#all")
    @interface EveryBackend {
    }

    @TempDir
    Path dir;

    private static <T extends Throwable> void assertMessage(Class<T> type, Executable call, String... parts) {
        T e = assertThrows(type, call);
        for (String p : parts) {
            assertTrue(String.valueOf(e.getMessage()).contains(p),
                    () -> "message '" + e.getMessage() + "' should mention '" + p + "'");
        }
    }

    /** 2^31 passed the integer check ((int) clamps it to 2^31 - 1, which converts back to 2^31f) and filled 2^31 - 1. */
    @EveryBackend
    void fillOfAnInt32TensorRefusesWhatAnIntCannotHold(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor ids = b.allocate(arena, DType.I32, 3);
            assertMessage(IllegalArgumentException.class, () -> b.fill(ids, 0x1p31f), "fill: value",
                    "not an int32");
            assertMessage(IllegalArgumentException.class, () -> b.fill(ids, Float.POSITIVE_INFINITY), "fill");
            assertMessage(IllegalArgumentException.class, () -> b.fill(ids, Float.NaN), "fill");
            int[] out = new int[3];
            b.copyOut(out, ids);
            assertArrayEquals(new int[3], out, "no value was written");
            b.fill(ids, -0x1p31f);   // Integer.MIN_VALUE is a float exactly
            b.copyOut(out, ids);
            assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE}, out);
            b.fill(ids, 2147483520f); // the largest float below 2^31
            b.copyOut(out, ids);
            assertEquals(2147483520, out[0]);
        }
    }

    /** Each null is named by the method and the argument (rank checks ran before the null check and named "t"). */
    @EveryBackend
    void nullArgumentsAreNamed(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = b.allocate(arena, DType.F32, 2, 3), c = b.allocate(arena, DType.F32, 2, 2);
            Tensor hs = b.allocate(arena, DType.F32, 2, 2, 3);
            assertMessage(NullPointerException.class, () -> b.allocate(null, DType.F32, 2), "allocate: arena is null");
            assertMessage(NullPointerException.class, () -> b.allocate(arena, null, 2), "allocate: dtype is null");
            assertMessage(NullPointerException.class, () -> b.allocate(arena, DType.F32, (int[]) null),
                    "allocate: shape is null");
            assertMessage(NullPointerException.class, () -> b.copyIn(x, (float[]) null), "copyIn: src is null");
            assertMessage(NullPointerException.class, () -> b.copyIn(x, (MemorySegment) null), "copyIn: src is null");
            assertMessage(NullPointerException.class, () -> b.copyOut((int[]) null, b.allocate(arena, DType.I32, 1)),
                    "copyOut: dst is null");
            assertMessage(NullPointerException.class, () -> b.addBias(null, x.get(0)), "addBias: y is null");
            assertMessage(NullPointerException.class, () -> b.softmaxForward(x, null), "softmaxForward: x is null");
            assertMessage(NullPointerException.class, () -> b.weightSumForward(c, null, c), "weightSumForward: hs is null");
            assertMessage(NullPointerException.class, () -> b.timeAttentionForward(hs, hs, null, hs),
                    "timeAttentionForward: hsEnc is null");
            assertMessage(NullPointerException.class, () -> b.gemm(null, Transpose.NO, 2, 2, 3, 1f, x, 3, x, 3, 0f, c, 2),
                    "gemm: transA is null");
            assertMessage(NullPointerException.class, () -> b.gemmStridedBatched(Transpose.NO, null, 2, 2, 3, 1f, x, 3,
                    0, x, 3, 0, 0f, c, 2, 0, 1), "gemmStridedBatched: transB is null");
            assertMessage(NullPointerException.class, () -> b.matmul(Transpose.NO, Transpose.YES, 1f, null, x, 0f, c),
                    "matmul: a is null");
            PackedMatrix p = b.packedMatrix(arena, 2, 3, PackedMatrix.Precision.F32);
            assertMessage(NullPointerException.class, () -> b.pack(p, null, x), "pack: trans is null");
            assertMessage(NullPointerException.class, () -> b.pack(p, null, x, 3), "pack: trans is null");
        }
    }

    /**
     * copyIn's and copyOut's host segments: a closed one (whose address a device backend would hand to its copy
     * engine) and a read-only destination are refused by the check, naming the method, not by whatever the copy hits.
     */
    @EveryBackend
    void hostSegmentsOfCopiesAreChecked(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = b.allocate(arena, DType.F32, 4);
            MemorySegment gone;
            try (Arena other = Arena.ofConfined()) {
                gone = other.allocate(16, 4);
            }
            assertMessage(IllegalStateException.class, () -> b.copyIn(x, gone), "copyIn: src", "already closed");
            assertMessage(IllegalStateException.class, () -> b.copyOut(gone, x), "copyOut: dst", "already closed");
            MemorySegment readOnly = arena.allocate(16, 4).asReadOnly();
            assertMessage(IllegalArgumentException.class, () -> b.copyOut(readOnly, x), "copyOut: dst", "read-only");
            b.copyIn(x, readOnly);   // a read-only source is fine
        }
    }

    /**
     * Memory confined to another thread (a tensor, or a copy's host segment, of that thread's Arena.ofConfined()):
     * refused by the check, naming the method and the argument, before anything is written. It passed the check (which
     * asked only whether the arena was alive) and failed in the kernel with FFM's bare WrongThreadException, after the
     * java backend had already written probs.
     */
    @EveryBackend
    void memoryConfinedToAnotherThreadIsRefusedBeforeAnythingIsWritten(String name) throws Exception {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined(); OtherThreadsArena other = new OtherThreadsArena()) {
            Tensor foreign = other.call(a -> b.allocate(a, DType.F32, 1));
            Tensor foreignIds = other.call(a -> b.allocate(a, DType.I32, 2));
            Tensor foreignPair = other.call(a -> b.allocate(a, DType.F32, 2));
            MemorySegment foreignSegment = other.call(a -> a.allocate(8, 4));
            Tensor logits = b.allocate(arena, DType.F32, 2, 3), probs = b.allocate(arena, DType.F32, 2, 3);
            Tensor loss = b.allocate(arena, DType.F32, 1), labels = b.allocate(arena, DType.I32, 2);
            b.fill(logits, 1f);
            b.fill(probs, 7f);
            b.fill(loss, 7f);
            assertMessage(IllegalStateException.class, () -> b.softmaxCrossEntropyForward(probs, foreign, logits, labels),
                    "softmaxCrossEntropyForward: loss", "confined to another thread");
            assertMessage(IllegalStateException.class, () -> b.softmaxCrossEntropyForward(probs, loss, logits, foreignIds),
                    "softmaxCrossEntropyForward: labels", "confined to another thread");
            assertArrayEquals(new float[] {7, 7, 7, 7, 7, 7}, TestBackends.values(b, probs), "probs untouched");
            assertArrayEquals(new float[] {7}, TestBackends.values(b, loss), "loss untouched");
            Tensor x = b.allocate(arena, DType.F32, 2);
            b.fill(x, 5f);
            assertMessage(IllegalStateException.class, () -> b.copyOut(foreignSegment, x), "copyOut: dst",
                    "confined to another thread");
            assertMessage(IllegalStateException.class, () -> b.copyIn(x, foreignSegment), "copyIn: src",
                    "confined to another thread");
            assertMessage(IllegalStateException.class, () -> b.copy(x, foreignPair), "copy: src",
                    "confined to another thread");
            assertArrayEquals(new float[] {5, 5}, TestBackends.values(b, x), "x untouched");
        }
    }

    /**
     * allocate and packedMatrix into an arena that cannot take the memory (closed, or confined to another thread):
     * one line naming the method and the arena, where FFM's bare "Already closed" or WrongThreadException came out.
     */
    @EveryBackend
    void allocatingInAnArenaThatCannotTakeItIsNamed(String name) throws Exception {
        Backend b = TestBackends.get(name);
        Arena closed = Arena.ofConfined();
        closed.close();
        assertMessage(IllegalStateException.class, () -> b.allocate(closed, DType.F32, 4),
                "allocate: the arena is already closed");
        assertMessage(IllegalStateException.class, () -> b.allocate(closed, DType.F32, 0),
                "allocate: the arena is already closed");
        assertMessage(IllegalStateException.class, () -> b.packedMatrix(closed, 4, 4, PackedMatrix.Precision.F32),
                "packedMatrix: the arena is already closed");
        try (OtherThreadsArena other = new OtherThreadsArena()) {
            assertMessage(IllegalStateException.class, () -> b.allocate(other.arena, DType.F32, 4),
                    "allocate: the arena is confined to another thread");
            assertMessage(IllegalStateException.class, () -> b.allocate(other.arena, DType.I32, 0),
                    "allocate: the arena is confined to another thread");
            assertMessage(IllegalStateException.class, () -> b.packedMatrix(other.arena, 4, 4,
                    PackedMatrix.Precision.BF16), "packedMatrix: the arena is confined to another thread");
            assertEquals(4, other.call(a -> b.allocate(a, DType.F32, 4)).size(), "its own thread still allocates");
        }
    }

    /** Nulls given to the factories: named, the same whichever backend is asked for (create("java", null) was taken). */
    @Test
    void nullNamesAndConfigsOfTheFactoriesAreNamed() {
        assertMessage(NullPointerException.class, () -> Backends.create(null), "Backends.create: name is null");
        assertMessage(NullPointerException.class, () -> Backends.create(null, BackendConfig.defaults()),
                "Backends.create: name is null");
        assertMessage(NullPointerException.class, () -> Backends.provider(null), "Backends.provider: name is null");
        assertMessage(NullPointerException.class, () -> Backends.select(null), "Backends.select: config is null");
        assertMessage(NullPointerException.class, () -> Backends.requireNative(null),
                "Backends.requireNative: config is null");
        for (String backend : List.of("java", "openblas", "cuda", "no-such-backend")) {
            assertMessage(NullPointerException.class, () -> Backends.create(backend, null),
                    "Backends.create: config is null");
        }
        for (BackendProvider p : Backends.providers()) {
            assertMessage(NullPointerException.class, () -> p.create(null), "BackendProvider.create: config is null");
        }
    }

    /** A confined arena made, and closed, by a thread of its own; call runs a function of it on that thread. */
    private static final class OtherThreadsArena implements AutoCloseable {
        private final ExecutorService owner = Executors.newSingleThreadExecutor();
        final Arena arena;

        OtherThreadsArena() throws Exception {
            arena = owner.submit(Arena::ofConfined).get();
        }

        <T> T call(Function<Arena, T> f) throws Exception {
            return owner.submit(() -> f.apply(arena)).get();
        }

        @Override
        public void close() throws Exception {
            owner.submit(arena::close).get();
            owner.shutdown();
        }
    }

    /** A packed matrix made with the public constructor over int32 storage: refused, not read as floats. */
    @EveryBackend
    void packedStorageMustBeFloat32(String name) {
        Backend b = TestBackends.get(name);
        try (Arena arena = Arena.ofConfined()) {
            PackedMatrix real = b.packedMatrix(arena, 2, 2, PackedMatrix.Precision.F32);
            Tensor ints = b.allocate(arena, DType.I32, real.storage().shape());
            PackedMatrix p = new PackedMatrix(b, 2, 2, PackedMatrix.Precision.F32, ints);
            assertMessage(IllegalArgumentException.class, () -> b.pack(p, Transpose.NO, b.allocate(arena, DType.F32, 2, 2)),
                    "pack", "packed storage must be F32 but is I32");
        }
    }

    @Test
    void tensorMisuseIsNamed() {
        try (Arena arena = Arena.ofConfined()) {
            // a null device was taken and failed later, in copyFrom or toFloatArray, as "this.device" is null
            assertMessage(NullPointerException.class, () -> Tensor.wrap(arena.allocate(8, 4), DType.F32, null, 2),
                    "wrap: device is null");
            assertMessage(NullPointerException.class, () -> Tensor.wrap(arena.allocate(8, 4), null, Device.CPU, 2),
                    "wrap: dtype is null");
            assertMessage(NullPointerException.class, () -> Tensor.wrap((float[]) null, 2), "wrap: values is null");
            assertMessage(NullPointerException.class, () -> Tensor.allocateHost(null, DType.F32, 2),
                    "allocateHost: arena is null");
            Tensor x = Tensor.allocateHost(arena, DType.F32, 2, 3);
            assertMessage(NullPointerException.class, () -> x.copyFrom((float[]) null), "copyFrom(float[]): values is null");
            // dim(-3) of a rank-2 tensor said "Index -1 out of bounds for length 2"
            assertMessage(ArrayIndexOutOfBoundsException.class, () -> x.dim(-3), "dim(-3)", "(2, 3)", "[-2, 2)");
            assertMessage(ArrayIndexOutOfBoundsException.class, () -> x.dim(2), "dim(2)");
            assertEquals(3, x.dim(-1));
            assertEquals(2, x.dim(-2));
            // element access named a byte offset ("new offset = 24") rather than the index
            assertMessage(IndexOutOfBoundsException.class, () -> x.getFloat(6), "getFloat: index 6", "[0, 6)");
            assertMessage(IndexOutOfBoundsException.class, () -> x.setFloat(-1, 0f), "setFloat: index -1");
            Tensor ids = Tensor.allocateHost(arena, DType.I32, 2);
            assertMessage(IndexOutOfBoundsException.class, () -> ids.getInt(2), "getInt: index 2", "[0, 2)");
            assertMessage(IndexOutOfBoundsException.class, () -> ids.setInt(Long.MIN_VALUE, 1), "setInt: index");
            // a null or negative shape and the packed matrix's nulls said "shape is null", "owner", "precision",
            // naming no call
            assertMessage(NullPointerException.class, () -> Tensor.allocateHost(arena, DType.F32, (int[]) null),
                    "Tensor.allocateHost: shape is null");
            assertMessage(IllegalArgumentException.class, () -> Tensor.allocateHost(arena, DType.F32, 2, -1),
                    "Tensor.allocateHost: negative dimension in shape (2, -1)");
            assertMessage(IllegalArgumentException.class, () -> x.view(-1, 6), "Tensor.view: negative dimension");
            assertMessage(NullPointerException.class, () -> Tensor.wrap(arena.allocate(8, 4), DType.F32, Device.CPU,
                    (int[]) null), "Tensor.wrap: shape is null");
            assertMessage(NullPointerException.class, () -> new org.seq4j.backend.PackedMatrix(null, 1, 1,
                    org.seq4j.backend.PackedMatrix.Precision.F32, x), "PackedMatrix: owner is null");
        }
    }

    /**
     * Tensor's factories into an arena that cannot take the memory (closed, or confined to another thread): one
     * IllegalStateException naming the factory and the arena, as the backends' allocate, where FFM's bare "Already
     * closed" or WrongThreadException ("Attempted access outside owning thread") came out.
     */
    @Test
    void tensorFactoriesIntoAnArenaThatCannotTakeItAreNamed() throws Exception {
        Arena closed = Arena.ofConfined();
        closed.close();
        assertMessage(IllegalStateException.class, () -> Tensor.allocateHost(closed, DType.F32, 4),
                "Tensor.allocateHost: the arena is already closed");
        assertMessage(IllegalStateException.class, () -> Tensor.allocateHost(closed, DType.I32, 0),
                "Tensor.allocateHost: the arena is already closed");
        assertMessage(IllegalStateException.class, () -> Tensor.ofFloats(closed, new float[] {1, 2}, 2),
                "Tensor.ofFloats: the arena is already closed");
        assertMessage(IllegalStateException.class, () -> Tensor.ofInts(closed, new int[] {1, 2}, 2),
                "Tensor.ofInts: the arena is already closed");
        // wrapping freed memory was taken: the tensor failed at its first use, far from the wrap
        Arena gone = Arena.ofConfined();
        MemorySegment freed = gone.allocate(8, 4);
        gone.close();
        assertMessage(IllegalStateException.class, () -> Tensor.wrap(freed, DType.F32, Device.CPU, 2),
                "Tensor.wrap: the segment's arena is already closed");
        assertMessage(IllegalStateException.class, () -> Tensor.wrapHost(freed, 2),
                "Tensor.wrap: the segment's arena is already closed");
        try (OtherThreadsArena other = new OtherThreadsArena()) {
            assertMessage(IllegalStateException.class, () -> Tensor.allocateHost(other.arena, DType.F32, 4),
                    "Tensor.allocateHost: the arena is confined to another thread", "use a shared arena");
            assertMessage(IllegalStateException.class, () -> Tensor.allocateHost(other.arena, DType.F32, 0),
                    "Tensor.allocateHost: the arena is confined to another thread");
            var e = assertThrows(IllegalStateException.class, () -> Tensor.ofFloats(other.arena, new float[] {1, 2}, 2));
            assertTrue(e.getMessage().startsWith("Tensor.ofFloats: the arena is confined to another thread"),
                    e.getMessage());
            assertTrue(e.getCause() instanceof WrongThreadException, "FFM's exception is kept as the cause");
            assertMessage(IllegalStateException.class, () -> Tensor.ofInts(other.arena, new int[] {1, 2}, 2),
                    "Tensor.ofInts: the arena is confined to another thread");
            assertArrayEquals(new float[] {1, 2}, other.call(a -> Tensor.ofFloats(a, new float[] {1, 2}, 2)
                    .toFloatArray()), "its own thread still allocates");
        }
        try (Arena arena = Arena.ofConfined()) {
            // checked before anything is allocated, naming the factory (it was copyFrom's message, after allocating)
            assertMessage(NullPointerException.class, () -> Tensor.ofFloats(arena, null, 2), "Tensor.ofFloats: values is null");
            assertMessage(NullPointerException.class, () -> Tensor.ofInts(arena, null, 2), "Tensor.ofInts: values is null");
            assertMessage(IllegalArgumentException.class, () -> Tensor.ofFloats(arena, new float[3], 2),
                    "Tensor.ofFloats: 3 values do not match shape (2,)");
            assertMessage(IllegalArgumentException.class, () -> Tensor.ofInts(arena, new int[1], 2, 2),
                    "Tensor.ofInts: 1 values do not match shape (2, 2)");
        }
    }

    /**
     * Tensor's element accessors on memory the calling thread cannot use (its arena closed, or another thread's
     * confined one), views included: an IllegalStateException naming the accessor and the tensor, FFM's exception as
     * the cause, where its bare "Already closed" or WrongThreadException came out; nothing is written.
     */
    @Test
    void tensorAccessorsOnMemoryTheThreadCannotUseAreNamed() throws Exception {
        Tensor x, ids;
        try (Arena arena = Arena.ofConfined()) {
            x = Tensor.allocateHost(arena, DType.F32, 2, 3);
            ids = Tensor.allocateHost(arena, DType.I32, 2);
        }
        for (Map.Entry<String, Executable> call : accessors(x, ids).entrySet()) {
            var e = assertThrows(IllegalStateException.class, call.getValue(), call.getKey());
            assertTrue(e.getMessage().startsWith("Tensor." + call.getKey() + ": this Tensor(")
                    && e.getMessage().contains("belongs to an arena that is already closed"), e.getMessage());
            assertTrue(e.getCause() instanceof IllegalStateException, call.getKey() + ": FFM's exception is the cause");
        }
        assertMessage(IllegalStateException.class, () -> x.get(1).getFloat(0),
                "Tensor.getFloat: this Tensor(3,) F32 on CPU belongs to an arena that is already closed");
        try (OtherThreadsArena other = new OtherThreadsArena()) {
            float[] values = {1, 2, 3, 4, 5, 6};
            Tensor fx = other.call(a -> Tensor.ofFloats(a, values, 2, 3));
            Tensor fids = other.call(a -> Tensor.ofInts(a, new int[] {7, 8}, 2));
            for (Map.Entry<String, Executable> call : accessors(fx, fids).entrySet()) {
                var e = assertThrows(IllegalStateException.class, call.getValue(), call.getKey());
                assertTrue(e.getMessage().startsWith("Tensor." + call.getKey() + ": this Tensor(")
                        && e.getMessage().contains("is confined to another thread"), e.getMessage());
                assertTrue(e.getCause() instanceof WrongThreadException, call.getKey() + ": FFM's exception is the cause");
            }
            assertMessage(IllegalStateException.class, () -> fx.flatSlice(2, 3).setFloat(0, 9f),
                    "Tensor.setFloat: this Tensor(3,) F32 on CPU is confined to another thread");
            assertArrayEquals(values, other.call(a -> fx.toFloatArray()), "nothing written");
            assertArrayEquals(new int[] {7, 8}, other.call(a -> fids.toIntArray()), "nothing written");
        }
    }

    /** Every element accessor of a float32 (2, 3) tensor x and an int32 (2,) tensor ids, by the name it reports. */
    private static Map<String, Executable> accessors(Tensor x, Tensor ids) {
        Map<String, Executable> calls = new java.util.LinkedHashMap<>();
        calls.put("copyFrom(float[])", () -> x.copyFrom(new float[6]));
        calls.put("copyFrom(int[])", () -> ids.copyFrom(new int[2]));
        calls.put("toFloatArray()", x::toFloatArray);
        calls.put("toIntArray()", ids::toIntArray);
        calls.put("getFloat", () -> x.getFloat(5));
        calls.put("setFloat", () -> x.setFloat(5, 9f));
        calls.put("getInt", () -> ids.getInt(1));
        calls.put("setInt", () -> ids.setInt(1, 9));
        return calls;
    }

    @Test
    void backendConfigNullsAreNamed() {
        assertMessage(NullPointerException.class, () -> new BackendConfig(0, 0, null), "libraries is null");
        Map<String, Path> withNull = new HashMap<>();
        withNull.put("openblas", null);
        assertMessage(NullPointerException.class, () -> new BackendConfig(0, 0, withNull), "openblas -> null");
        assertMessage(NullPointerException.class, () -> BackendConfig.defaults().library(null), "key is null");
    }

    /** Confinement.describe(null) threw the JVM's "Cannot invoke Thread.getName()" (CoreApiFuzzTest). */
    @Test
    void confinementDescribeNamesANullThread() {
        assertEquals("Confinement.describe: t is null",
                assertThrows(NullPointerException.class, () -> Confinement.describe(null)).getMessage());
    }

    /**
     * exit() from a thread that does not hold the guard decremented the holder's count and released its claim, so a
     * second thread got in while the first was still inside.
     */
    @Test
    void confinementExitFromAThreadThatDoesNotHoldItIsRefused() throws Exception {
        Confinement guard = new Confinement("Thing");
        assertMessage(IllegalStateException.class, guard::exit, "Thing: exit()", "nobody does");
        guard.enter("forward");
        AtomicReference<Throwable> stray = new AtomicReference<>();
        Thread other = new Thread(() -> {
            try {
                guard.exit();
            } catch (Throwable e) {
                stray.set(e);
            }
        }, "stray");
        other.start();
        other.join();
        assertTrue(stray.get() instanceof IllegalStateException && stray.get().getMessage().contains("held by"),
                String.valueOf(stray.get()));
        AtomicReference<Throwable> second = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                guard.enter("forward");
            } catch (Throwable e) {
                second.set(e);
            }
        }, "second");
        t.start();
        t.join();
        assertTrue(second.get() instanceof IllegalStateException && second.get().getMessage().contains("in use by"),
                "the holder still holds it: " + second.get());
        guard.exit();
        guard.enter("forward");   // released properly: usable again
        guard.exit();
    }

    /**
     * OpenBlasLibrary.coreName() (or config(), threads(), CpuKernelsLibrary.info()) before anything loaded the library
     * threw ExceptionInInitializerError, and every OpenBlasBackend.description() of that JVM then failed with
     * NoClassDefFoundError. In a fresh JVM, where nothing has loaded OpenBLAS yet.
     */
    @Test
    void openBlasInfoBeforeLoadingIsAClearErrorThatBreaksNothing() throws Exception {
        ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(60), List.of(), BeforeLoad.class.getName());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("coreName: IllegalStateException: OpenBlasLibrary.coreName(): OpenBLAS is not"
                + " loaded yet"), r::toString);
        assertTrue(r.out().contains("info: IllegalStateException: CpuKernelsLibrary.info(): the seq4j C kernels are"
                + " not loaded yet"), r::toString);
        assertTrue(r.out().contains("description: ok"), r::toString);
    }

    /** The child of the test above: prints what each call threw, then whether a backend still describes itself. */
    public static final class BeforeLoad {
        public static void main(String[] args) {
            report("coreName", () -> OpenBlasLibrary.coreName());
            report("config", () -> OpenBlasLibrary.config());
            report("threads", () -> OpenBlasLibrary.threads());
            report("info", () -> CpuKernelsLibrary.info());
            try (OpenBlasBackend b = new OpenBlasBackend(1)) {
                System.out.println("description: " + (b.description().contains(OpenBlasLibrary.coreName()) ? "ok" : "?"));
                System.out.println("info after load: " + CpuKernelsLibrary.info());
            } catch (BackendUnavailableException e) {
                System.out.println("description: ok (openblas not available here: " + e.getMessage() + ")");
            }
        }

        private static void report(String what, java.util.concurrent.Callable<?> call) {
            try {
                System.out.println(what + ": returned " + call.call());
            } catch (Throwable e) {
                System.out.println(what + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }
}
