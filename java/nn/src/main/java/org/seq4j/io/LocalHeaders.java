// A zip archive names each entry twice: in its central directory, which java.util.zip.ZipFile reads, and in the local
// header in front of the entry's data, which numpy's reader (Python's zipfile) compares with it, refusing an archive
// where the two differ ("File name in directory ... and header ... differ"). ZipFile never looks: an archive whose
// directory names were swapped loaded each array under the other's name, and two arrays of one shape (a
// seq2seq's encoder and decoder embeddings) gave plausible wrong answers. This reads the directory and every local
// header's name, as Python's zipfile does, for an archive ZipFile has already opened (so its structure is sound).
package org.seq4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

final class LocalHeaders {
    private static final int EOCD = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
    private static final int EOCD_SIZE = 22, MAX_COMMENT = 0xFFFF;

    private LocalHeaders() {
    }

    /**
     * Refuses an archive where an entry's local header names another file than its directory entry.
     *
     * @param file the archive, already opened by ZipFile
     * @throws NpzFormatException naming the entry and both names
     * @throws IOException        if the file cannot be read
     */
    static void check(Path file) throws IOException {
        try {
            checkNames(file);
        } catch (java.io.EOFException e) {
            throw malformed(file, "an offset past its end: " + e.getMessage());
        }
    }

    private static void checkNames(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            int tail = (int) Math.min(size, EOCD_SIZE + MAX_COMMENT);
            ByteBuffer end = read(ch, size - tail, tail);
            int at = -1;
            for (int i = tail - EOCD_SIZE; i >= 0 && at < 0; i--) {
                if (end.getInt(i) == EOCD) {
                    at = i;
                }
            }
            if (at < 0) {
                throw malformed(file, "no end of central directory record");
            }
            long eocd = size - tail + at;
            long entries = Short.toUnsignedLong(end.getShort(at + 10));
            long cdSize = Integer.toUnsignedLong(end.getInt(at + 12));
            long cdOffset = Integer.toUnsignedLong(end.getInt(at + 16));
            long records = 0;   // the ZIP64 end record and its locator, between the directory and the end record
            if (entries == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL) {
                if (eocd < 20) {
                    throw malformed(file, "a ZIP64 end record without its locator");
                }
                ByteBuffer loc = read(ch, eocd - 20, 20);
                if (loc.getInt(0) != ZIP64_LOCATOR) {
                    throw malformed(file, "a ZIP64 end record without its locator");
                }
                // just before its locator, where Python's zipfile reads it (the offset the locator records does not
                // count bytes in front of the archive), else at that offset
                ByteBuffer z = eocd >= 20 + 56 ? read(ch, eocd - 20 - 56, 56) : null;
                if (z == null || z.getInt(0) != ZIP64_EOCD) {
                    z = read(ch, loc.getLong(8), 56);
                }
                if (z.getInt(0) != ZIP64_EOCD) {
                    throw malformed(file, "no ZIP64 end of central directory record");
                }
                entries = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
                records = 56 + 20;
            }
            // bytes in front of the archive (a zip appended to another file): every offset moves by as many, as
            // Python's zipfile and ZipFile both allow
            long concat = eocd - records - cdSize - cdOffset;
            if (cdSize > Integer.MAX_VALUE - 16) {   // ZipFile would not have opened it either
                throw malformed(file, "a central directory of " + cdSize + " bytes");
            }
            // the directory in one read (ZipFile holds it in memory too), then one read a local header
            ByteBuffer cd = read(ch, cdOffset + concat, (int) cdSize);
            int pos = 0;
            for (long e = 0; e < entries; e++) {
                if (pos < 0 || pos + 46 > cd.limit() || cd.getInt(pos) != CENTRAL) {
                    throw malformed(file, "central directory entry " + e + " is not where the directory says");
                }
                int nameLen = Short.toUnsignedInt(cd.getShort(pos + 28));
                int extraLen = Short.toUnsignedInt(cd.getShort(pos + 30));
                int commentLen = Short.toUnsignedInt(cd.getShort(pos + 32));
                if (pos + 46 + nameLen + extraLen > cd.limit()) {
                    throw malformed(file, "central directory entry " + e + " runs past the directory");
                }
                ByteBuffer c = cd.slice(pos, 46 + nameLen + extraLen).order(ByteOrder.LITTLE_ENDIAN);
                byte[] name = new byte[nameLen];
                c.get(46, name);
                long local = Integer.toUnsignedLong(c.getInt(42));
                if (local == 0xFFFFFFFFL) {
                    local = zip64Offset(c.slice(46 + nameLen, extraLen).order(ByteOrder.LITTLE_ENDIAN), c, file,
                            name);
                }
                local += concat;
                ByteBuffer h = read(ch, local, 30 + nameLen);   // the header, and as many bytes as the directory's name
                if (h.getInt(0) != LOCAL) {
                    throw new NpzFormatException(file, null, "the zip entry " + shown(name) + " has no local header "
                            + "where the directory says (the archive is corrupt)");
                }
                int localLen = Short.toUnsignedInt(h.getShort(26));
                byte[] localName = localLen == nameLen ? bytes(h.position(30)) : bytes(read(ch, local + 30, localLen));
                if (!Arrays.equals(name, localName)) {
                    throw new NpzFormatException(file, null, "the zip directory names an entry " + shown(name)
                            + " whose local header names it " + shown(localName) + "; an archive whose two names "
                            + "differ is refused (numpy refuses it too): which array is which cannot be told");
                }
                pos += 46 + nameLen + extraLen + commentLen;
            }
        }
    }

    /** The local header's offset from an entry's ZIP64 extra field (id 1: the 64-bit values that are 0xFFFFFFFF). */
    private static long zip64Offset(ByteBuffer extra, ByteBuffer central, Path file, byte[] name)
            throws NpzFormatException {
        for (int i = 0; i + 4 <= extra.limit(); ) {
            int id = Short.toUnsignedInt(extra.getShort(i)), len = Short.toUnsignedInt(extra.getShort(i + 2));
            if (id == 1) {
                // in order: uncompressed size, compressed size, offset, each present only where its field is full
                int at = i + 4;
                at += Integer.toUnsignedLong(central.getInt(24)) == 0xFFFFFFFFL ? 8 : 0;
                at += Integer.toUnsignedLong(central.getInt(20)) == 0xFFFFFFFFL ? 8 : 0;
                if (at + 8 <= i + 4 + len && at + 8 <= extra.limit()) {
                    return extra.getLong(at);
                }
                break;
            }
            i += 4 + len;
        }
        throw new NpzFormatException(file, null, "the zip entry " + shown(name) + " has no ZIP64 offset of its local "
                + "header (the archive is corrupt)");
    }

    private static ByteBuffer read(FileChannel ch, long at, int n) throws IOException {
        if (at < 0) {
            throw new java.io.EOFException("offset " + at);
        }
        // before the read: an offset near 2^63 (a ZIP64 field) made it fail with the system's bare "Invalid argument"
        if (at > ch.size() - n) {
            throw new java.io.EOFException("the archive ends at " + ch.size() + " bytes, before offset " + at + " + "
                    + n);
        }
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new java.io.EOFException("the archive ends at " + ch.size() + " bytes, before " + (at + n));
            }
        }
        return b.flip();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    /** A name for a message: quoted, at most 80 characters, control characters escaped. */
    private static String shown(byte[] name) {
        String s = new String(name, java.nio.charset.StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder("'");
        s.codePoints().limit(80).forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.append(s.codePointCount(0, s.length()) > 80 ? "...'" : "'").toString();
    }

    private static NpzFormatException malformed(Path file, String what) {
        return new NpzFormatException(file, null, "not a .npz file: a malformed zip archive (" + what + ")");
    }
}
