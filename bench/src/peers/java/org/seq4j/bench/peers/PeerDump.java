// Writes a peer model's weights, first gradients and weights after a few training steps as .npy files, so
// bench/peers/crosscheck_book.py can run the book's own numpy model from the same weights and compare:
// the evidence that the peers compute what the book computes, not only that they run.
//   java -Dai.djl.offline=true -DPYTORCH_FLAVOR=cpu -cp bench/target/peers/benchmarks.jar \
//        org.seq4j.bench.peers.PeerDump seq2seq|attention DIR [STEPS]
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.SplittableRandom;
import org.seq4j.bench.peers.PeerOps.Param;

public final class PeerDump {
    private PeerDump() {}

    /** The workloads' vocabularies and lengths; H and N smaller than W4's so the numpy side runs in a second. */
    private record Sizes(int V, int D, int H, int N, int tEnc, int tDec) {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || !(args[0].equals("seq2seq") || args[0].equals("attention"))) {
            throw new IllegalArgumentException("usage: PeerDump seq2seq|attention DIR [STEPS], got " + String.join(" ", args));
        }
        boolean attention = args[0].equals("attention");
        Path dir = Files.createDirectories(Path.of(args[1]));
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Sizes s = attention ? new Sizes(59, 16, 64, 16, 29, 10) : new Sizes(13, 16, 128, 32, 7, 4);
        try (PeerModel model = attention ? new PeerAttentionSeq2seq(s.V(), s.D(), s.H(), 42)
                : new PeerSeq2seq(s.V(), s.D(), s.H(), 42)) {
            var random = new SplittableRandom(7);
            NDArray xs = PeerOps.ids(model.manager(), random, s.V(), s.N(), s.tEnc());
            NDArray ts = PeerOps.ids(model.manager(), random, s.V(), s.N(), s.tDec() + 1);
            writeNpy(dir.resolve("xs.npy"), xs);
            writeNpy(dir.resolve("ts.npy"), ts);
            for (Param p : model.params()) {
                writeNpy(dir.resolve("param." + p.name() + ".npy"), p.value());
            }
            try (NDManager step = model.manager().newSubManager()) {
                NDArray loss = model.forwardBackward(xs, ts, step);
                write(dir.resolve("loss.txt"), String.format(Locale.ROOT, "%.9g%n", loss.getFloat()).getBytes(StandardCharsets.US_ASCII));
                for (Param p : model.params()) {
                    NDArray g = p.value().getGradient();
                    g.attach(step);
                    writeNpy(dir.resolve("grad." + p.name() + ".npy"), g);
                    g.subi(g); // the training steps below start from zero gradients, as after an optimizer step
                }
            }
            for (int i = 0; i < steps; i++) {
                model.trainStep(xs, ts);
            }
            write(dir.resolve("steps.txt"), (steps + "\n").getBytes(StandardCharsets.US_ASCII));
            for (Param p : model.params()) {
                writeNpy(dir.resolve("trained." + p.name() + ".npy"), p.value());
            }
        }
        System.out.println("PeerDump: wrote " + dir);
    }

    /** NumPy .npy version 1.0: magic, header dict padded to 64 bytes, little-endian data (float32 or int64). */
    static void writeNpy(Path file, NDArray a) throws IOException {
        String descr = switch (a.getDataType()) {
            case FLOAT32 -> "<f4";
            case INT64 -> "<i8";
            default -> throw new IllegalArgumentException(file + ": only float32 and int64 arrays, got " + a.getDataType());
        };
        StringBuilder shape = new StringBuilder();
        for (long d : a.getShape().getShape()) {
            shape.append(d).append(", ");
        }
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }");
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        var out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        out.write(header.length() & 0xff);
        out.write(header.length() >> 8);
        out.write(header.toString().getBytes(StandardCharsets.US_ASCII));
        ByteBuffer data = a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        out.write(bytes);
        write(file, out.toByteArray());
    }

    /** Written to a temporary name and renamed, so a reader never sees half a file. */
    private static void write(Path file, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
