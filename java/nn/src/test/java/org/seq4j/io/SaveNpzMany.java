// A tiny program for NpzWriter's native-memory test in a child JVM (run without a garbage collector, so nothing is
// freed behind the writer's back): saves a small .npz many times, half committed and half abandoned, and prints
// "<count> saves: resident memory grew <n> KB" (VmRSS of /proc/self/status, after a warm-up of the same saves).
package org.seq4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

public final class SaveNpzMany {
    private SaveNpzMany() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        NpyArray array = new NpyArray.F32(new int[] {2, 2}, new float[] {1f, 2f, 3f, 4f});
        saves(file, array, 100);
        long before = residentKb();
        saves(file, array, count);
        System.out.println(count + " saves: resident memory grew " + (residentKb() - before) + " KB");
    }

    private static void saves(Path file, NpyArray array, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            try (NpzWriter w = NpzWriter.create(file)) {
                w.add("x", array);
                if (i % 2 == 0) {
                    w.commit();
                }
            }
        }
    }

    private static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
