// The parts of org.seq4j.dist that need no MPI: how a batch is split across ranks, when a process joins MPI,
// the single-process communicator, a configured MPI library that does not load, and a JVM that denies native access.
package org.seq4j.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.bindings.mpi.mpi_h;
import org.seq4j.mpitest.MpiProbe;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.ChildJvm;

class DistributedUnitTest {

    @Test
    void shardsAreDisjointCoverTheBatchAndDifferByAtMostOneRow() {
        for (int size = 1; size <= 9; size++) {
            for (int batch = size; batch <= 40; batch++) {
                int next = 0, min = Integer.MAX_VALUE, max = 0;
                double weights = 0;
                for (int rank = 0; rank < size; rank++) {
                    Shard s = Shard.of(batch, rank, size);
                    assertEquals(next, s.from(), "shard " + rank + " of " + size + " for batch " + batch);
                    next = s.from() + s.rows();
                    min = Math.min(min, s.rows());
                    max = Math.max(max, s.rows());
                    weights += s.weight();
                }
                assertEquals(batch, next, "the shards of batch " + batch + " over " + size + " ranks do not cover it");
                assertTrue(min >= 1 && max - min <= 1, "uneven shards " + min + ".." + max);
                assertEquals(1.0, weights, 1e-6, "the weights rows/N must sum to 1");
            }
        }
        assertEquals(new Shard(0, 16, 33), Shard.of(33, 0, 2));
        assertEquals(new Shard(16, 17, 33), Shard.of(33, 1, 2));
    }

    @Test
    void aBatchSmallerThanTheRanksIsRefusedWithTheFix() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shard.of(3, 0, 4));
        assertTrue(e.getMessage().contains("a batch of 3 cannot be split across 4 ranks"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shard.of(8, 4, 4));
        // the public constructor is checked too: new Shard(0, 4, 0) had the weight Infinity
        for (int[] bad : new int[][] {{0, 4, 0}, {-1, 2, 4}, {0, -1, 4}, {3, 2, 4}, {Integer.MAX_VALUE, 1, 4}}) {
            e = assertThrows(IllegalArgumentException.class, () -> new Shard(bad[0], bad[1], bad[2]));
            assertTrue(e.getMessage().startsWith("Shard: rows ["), e.getMessage());
        }
        assertEquals(0f, new Shard(0, 0, 4).weight(), "a rank that takes no rows");
    }

    /** Null arguments of open were the JDK's bare NullPointerExceptions. */
    @Test
    void openNamesANullArgument() {
        var e = assertThrows(NullPointerException.class, () -> Distributed.open(null, java.time.Duration.ofMinutes(1)));
        assertTrue(e.getMessage().startsWith("Distributed.open: mode is null"), e.getMessage());
        e = assertThrows(NullPointerException.class, () -> Distributed.open(Distributed.Mode.NONE, null));
        assertTrue(e.getMessage().startsWith("Distributed.open: timeout is null"), e.getMessage());
    }

    @Test
    void onlyAnMpiLauncherMakesAutoJoinMpi() {
        assertFalse(Distributed.launchedByMpi(Map.of("PATH", "/usr/bin")));
        assertTrue(Distributed.launchedByMpi(Map.of("OMPI_COMM_WORLD_SIZE", "2")));
        assertTrue(Distributed.launchedByMpi(Map.of("PMIX_RANK", "0")));
        assertTrue(Distributed.launchedByMpi(Map.of("PMI_RANK", "1")));
        assertSame(Communicator.single(), Distributed.open(Distributed.Mode.NONE, Duration.ofSeconds(1)));
        if (!Distributed.launchedByMpi()) { // a test JVM that mpirun did not start: AUTO never touches MPI
            assertSame(Communicator.single(), Distributed.open(Distributed.Mode.AUTO, Duration.ofSeconds(1)));
        }
    }

    @Test
    void aSingleProcessIsRankZeroOfOneAndLeavesDataAlone() {
        Communicator c = Communicator.single();
        assertEquals(0, c.rank());
        assertEquals(1, c.size());
        assertTrue(c.isRoot());
        double[] d = {1.5, -2};
        c.allReduceSum(d);
        assertEquals(1.5, d[0]);
        long[] l = {7};
        c.allReduceMin(l);
        c.broadcast(l);
        assertEquals(7, l[0]);
        c.agree("anything", "any text"); // nothing to disagree with
        // a null is refused on every rank alike, one process too (it was taken there, and hashed as NPE on MPI ranks)
        assertEquals("Communicator.agree: configuration is null",
                assertThrows(NullPointerException.class, () -> c.agree("x", null)).getMessage());
        assertEquals("Communicator.agree: what is null",
                assertThrows(NullPointerException.class, () -> c.agree(null, "x")).getMessage());
    }

    /**
     * The single process's collectives refuse what MpiCommunicator's refuse, in the same words: they took a null, an
     * int32 tensor, a heap tensor and one of a closed arena without a word, so that a program tested alone failed only
     * under mpirun, at its first collective.
     */
    @Test
    void aSingleProcessRefusesTheArgumentsMpiWouldRefuse() {
        Communicator c = Communicator.single();
        try (Backend backend = Backends.create("java"); Arena arena = Arena.ofConfined()) {
            Tensor ints = backend.allocate(arena, DType.I32, 3);
            Tensor heap = Tensor.wrap(new float[3], 3);
            Arena gone = Arena.ofConfined();
            Tensor closed = backend.allocate(gone, DType.F32, 3);
            gone.close();
            for (String call : List.of("allReduceSum", "broadcast")) {
                java.util.function.Consumer<Tensor> collective = call.equals("allReduceSum")
                        ? x -> c.allReduceSum(backend, x) : x -> c.broadcast(backend, x);
                assertEquals("Communicator.single()." + call + ": x is null",
                        assertThrows(NullPointerException.class, () -> collective.accept(null)).getMessage());
                String m = assertThrows(IllegalArgumentException.class, () -> collective.accept(ints)).getMessage();
                assertTrue(m.startsWith("Communicator.single()." + call + ": needs a float32 tensor"), m);
                m = assertThrows(IllegalArgumentException.class, () -> collective.accept(heap)).getMessage();
                assertTrue(m.contains("lies on the Java heap, which MPI cannot read"), m);
                m = assertThrows(IllegalStateException.class, () -> collective.accept(closed)).getMessage();
                assertTrue(m.contains("belongs to an arena that is already closed"), m);
            }
            Tensor ok = backend.allocate(arena, DType.F32, 2);
            backend.copyIn(ok, new float[] {1.5f, -2f});
            c.allReduceSum(backend, ok);
            c.broadcast(backend, ok);
            assertEquals(-2f, backend.item(ok, 1), "a single process leaves the data as it is");
        }
        assertEquals("Communicator.single().allReduceSum: values is null",
                assertThrows(NullPointerException.class, () -> c.allReduceSum((double[]) null)).getMessage());
        assertEquals("Communicator.single().allReduceMin: values is null",
                assertThrows(NullPointerException.class, () -> c.allReduceMin(null)).getMessage());
        assertEquals("Communicator.single().broadcast: values is null",
                assertThrows(NullPointerException.class, () -> c.broadcast((long[]) null)).getMessage());
    }

    /**
     * DataParallel's calls name a null argument on one rank as on many: with one rank they returned at once and took a
     * null model, store or shard (reduce returned the loss), failing only under mpirun; a null communicator, and
     * MpiCommunicator.init's null timeout, were bare NullPointerExceptions from inside.
     */
    @Test
    void dataParallelAndMpiInitNameANullArgument() {
        Communicator c = Communicator.single();
        try (Backend backend = Backends.create("java");
             org.seq4j.models.Seq2seq model = new org.seq4j.models.Seq2seq(backend, 5, 2, 2, 1)) {
            Shard shard = Shard.of(2, 0, 1);
            var store = model.store();
            List<java.util.Map.Entry<String, org.junit.jupiter.api.function.Executable>> calls = List.of(
                    Map.entry("DataParallel.replicate: comm is null", () -> DataParallel.replicate(null, model)),
                    Map.entry("DataParallel.replicate: model is null", () -> DataParallel.replicate(c, null)),
                    Map.entry("DataParallel.agreeOnWeights: comm is null",
                            () -> DataParallel.agreeOnWeights(null, store, "now")),
                    Map.entry("DataParallel.agreeOnWeights: store is null",
                            () -> DataParallel.agreeOnWeights(c, null, "now")),
                    Map.entry("DataParallel.reduce: comm is null", () -> DataParallel.reduce(null, store, shard, 1f)),
                    Map.entry("DataParallel.reduce: store is null", () -> DataParallel.reduce(c, null, shard, 1f)),
                    Map.entry("DataParallel.reduce: shard is null", () -> DataParallel.reduce(c, store, null, 1f)));
            for (var call : calls) {
                assertEquals(call.getKey(), assertThrows(NullPointerException.class, call.getValue()).getMessage());
            }
            assertEquals(1f, DataParallel.reduce(c, store, shard, 1f), "one rank: the loss as it is");
        }
        String m = assertThrows(NullPointerException.class, () -> MpiCommunicator.init(null)).getMessage();
        assertTrue(m.startsWith("MpiCommunicator.init: timeout is null"), m);
    }

    /** A blank -Dseq4j.mpi (from an empty shell variable) hid SEQ4J_MPI: the search loaded another libmpi. */
    @Test
    void aBlankMpiPropertyLeavesTheVariable() {
        assertEquals("/opt/mpi/libmpi.so.40", MpiLibrary.configured("", "/opt/mpi/libmpi.so.40"));
        assertEquals("/opt/mpi/libmpi.so.40", MpiLibrary.configured(" ", "/opt/mpi/libmpi.so.40"));
        assertEquals("/opt/mpi/libmpi.so.40", MpiLibrary.configured(null, "/opt/mpi/libmpi.so.40"));
        assertEquals("/p/libmpi.so", MpiLibrary.configured("/p/libmpi.so", "/opt/mpi/libmpi.so.40"));
        assertEquals(null, MpiLibrary.configured(null, null));
    }

    @Test
    void aConfiguredMpiLibraryThatDoesNotLoadIsAnError() {
        DistributedException e = assertThrows(DistributedException.class,
                () -> MpiLibrary.find("/nonexistent/libmpi.so.40"));
        assertTrue(e.getMessage().contains("-Dseq4j.mpi / SEQ4J_MPI does not load")
                && e.getMessage().contains("/nonexistent/libmpi.so.40"), e.getMessage());
    }

    /**
     * --illegal-native-access=deny without --enable-native-access: MpiLibrary.probe() and Distributed.open(MPI) threw a
     * raw IllegalCallerException. Now probe() reports MPI unavailable and open() throws DistributedException, each
     * naming the flag, on the class path and on the module path, the second time as the first; with or without an
     * Open MPI installed (the refused call comes before the search).
     */
    @Test
    void deniedNativeAccessNamesTheFlag(@TempDir Path dir) throws Exception {
        ChildJvm.Result cp = ChildJvm.runWithoutNativeAccess(dir, Duration.ofSeconds(120),
                List.of("--illegal-native-access=deny"), MpiProbe.class.getName());
        assertDeniedNamesTheFlag(cp, "--enable-native-access=ALL-UNNAMED");
        String modules = String.join(File.pathSeparator, location(mpi_h.class), location(Backends.class),
                location(MpiLibrary.class));
        ChildJvm.Result mp = ChildJvm.runWithoutNativeAccess(dir, Duration.ofSeconds(120), List.of(
                "--illegal-native-access=deny", "-p", modules, "--add-modules", "org.seq4j.nn",
                "-cp", location(MpiProbe.class)), MpiProbe.class.getName()); // a later -cp replaces ChildJvm's own
        assertDeniedNamesTheFlag(mp, "--enable-native-access=org.seq4j.bindings,org.seq4j.core,org.seq4j.nn");
    }

    private static void assertDeniedNamesTheFlag(ChildJvm.Result r, String flag) {
        assertEquals(0, r.exitCode(), r.toString());
        for (String call : List.of("probe: false: ", "open failed: " + DistributedException.class.getName() + ": ",
                "probe again: false: ")) {
            String line = r.out().lines().filter(l -> l.startsWith(call)).findFirst().orElse("(no line " + call + ")");
            assertTrue(line.contains("native access is denied to ") && line.contains(flag), line + "\n" + r);
        }
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    @Test
    void anMpiTimeoutOutsideTheWatchdogsRangeIsRefusedBeforeMpiStarts() {
        // above 2^63 - 1 ns the watchdog's Duration.toNanos() threw ArithmeticException("long overflow")
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MpiCommunicator.init(Duration.ofDays(200_000)));
        assertEquals("the MPI timeout must be at most 106751 days (2^63 - 1 ns), got PT4800000H", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MpiCommunicator.init(Duration.ZERO));
        assertEquals("the MPI timeout must be positive, got PT0S", e.getMessage());
    }

    @Test
    void hashesDifferForDifferentConfigurations() {
        assertEquals(Hashes.sha256Long("batch 128"), Hashes.sha256Long("batch 128"));
        assertFalse(Hashes.sha256Long("batch 128") == Hashes.sha256Long("batch 129"));
    }

    /**
     * A mismatch names each rank's own configuration, so that two ranks' lines show what differs: on one line (a
     * configuration with line breaks), its first 300 characters and its length where it is longer.
     */
    @Test
    void aMismatchQuotesEachRanksOwnConfigurationOnOneLine() throws Exception {
        ThreadRanks ranks = new ThreadRanks(2, 10_000);
        String[] configurations = {"batch 4,\nseed 7", "x".repeat(400)};
        Throwable[] thrown = ThreadRanks.onEveryRank(2, r -> ranks.rank(r).agree("test's settings", configurations[r]));
        String zero = thrown[0].getMessage(), one = thrown[1].getMessage();
        assertTrue(thrown[0] instanceof ConfigurationMismatchException && zero.contains("(this is rank 0, with \"batch 4, seed 7\", hash ")
                && !zero.contains("\n"), zero);
        assertTrue(thrown[1] instanceof ConfigurationMismatchException
                && one.contains("(this is rank 1, with \"" + "x".repeat(300) + "... (400 characters)\", hash "), one);
    }
}
