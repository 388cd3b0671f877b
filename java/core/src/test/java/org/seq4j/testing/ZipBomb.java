// Hostile .npz files for the reader's tests, built in memory (no binary files in the repository): a zip
// bomb (a small .npy header followed by gigabytes of zeros that deflate to about a thousandth of that) and
// .npy headers of any text, e.g. 60,000 nested '('.
package org.seq4j.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

public final class ZipBomb {
    private static final int MIB = 1 << 20;

    private ZipBomb() {
    }

    /** A version 1.0 .npy header holding {@code dict} (padded to 64 bytes as numpy does), with no data after it. */
    public static byte[] npyHeader(String dict) {
        int total = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
        if (header.length() > 0xFFFF) {
            throw new IllegalArgumentException("a version 1.0 header holds at most 65535 bytes");
        }
        ByteBuffer b = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        return b.put(header.getBytes(StandardCharsets.ISO_8859_1)).array();
    }

    /** The header of a float32 array of {@code shape} (a Python tuple such as "(2,)"). */
    public static byte[] floatHeader(String shape) {
        return npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }");
    }

    /**
     * A zip archive of one deflated entry {@code name} whose content is {@code head} followed by
     * {@code mebibytes} MiB of zeros. The archive's size for the entry is {@code listedSize}, or the true
     * size when that is negative (a hostile archive lists a size that agrees with the header). The zeros are
     * not deflated one by one: one flushed deflate block of 1 MiB of zeros is repeated, so building a
     * 1 GiB bomb takes milliseconds. Sizes stay under 4 GiB (no zip64).
     */
    public static byte[] zip(String name, byte[] head, int mebibytes, long listedSize) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(flushed(d, head));
        byte[] zeros = new byte[MIB];
        byte[] block = flushed(d, zeros); // the dictionary is reset: every copy decodes alike
        for (int i = 0; i < mebibytes; i++) {
            data.writeBytes(block);
        }
        data.writeBytes(finish(d));
        d.end();
        CRC32 crc = new CRC32();
        crc.update(head);
        for (int i = 0; i < mebibytes; i++) {
            crc.update(zeros);
        }
        long size = listedSize >= 0 ? listedSize : head.length + (long) mebibytes * MIB;
        byte[] compressed = data.toByteArray();
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer zip = ByteBuffer.allocate(30 + n.length + compressed.length + 46 + n.length + 22)
                .order(ByteOrder.LITTLE_ENDIAN);
        // local file header: version 2.0, no flags, deflated, 1980-01-01 00:00, crc, sizes, name
        zip.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 8).putShort((short) 0)
                .putShort((short) 0x21).putInt((int) crc.getValue()).putInt(compressed.length).putInt((int) size)
                .putShort((short) n.length).putShort((short) 0).put(n).put(compressed);
        int centralStart = zip.position();
        zip.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 8)
                .putShort((short) 0).putShort((short) 0x21).putInt((int) crc.getValue()).putInt(compressed.length)
                .putInt((int) size).putShort((short) n.length).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).putInt(0).putInt(0).put(n);
        int centralSize = zip.position() - centralStart;
        zip.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 1).putShort((short) 1)
                .putInt(centralSize).putInt(centralStart).putShort((short) 0);
        return zip.array();
    }

    /** Deflates all of {@code input} and flushes it as a complete block (with FULL_FLUSH, a fresh dictionary). */
    private static byte[] flushed(Deflater d, byte[] input) {
        d.setInput(input);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        int n;
        do { // a full buffer means there may be more output
            n = d.deflate(buf, 0, buf.length, Deflater.FULL_FLUSH);
            out.write(buf, 0, n);
        } while (n == buf.length);
        return out.toByteArray();
    }

    /** The end of the deflate stream: a final (empty) block. */
    private static byte[] finish(Deflater d) {
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1024];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        return out.toByteArray();
    }

    /**
     * A version 1.0 .npy header whose shape opens {@code depth} tuples, "((((...", and never closes them (a
     * recursive parser overflows its stack before it could notice).
     */
    public static byte[] nestedHeader(int depth) {
        return npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(".repeat(depth));
    }
}
