// The SHA-256 fingerprints that ranks compare to agree: of a configuration's text (its first 8 bytes, for
// Communicator.agree) and of a float tensor's bits (the replicas' weights, DataParallel.agreeOnWeights).
package org.seq4j.dist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

final class Hashes {
    private Hashes() {
    }

    static long sha256Long(String text) {
        return ByteBuffer.wrap(sha256().digest(text.getBytes(StandardCharsets.UTF_8))).getLong();
    }

    /** SHA-256 of a float tensor's bits in element order (little-endian), copied out 1M floats at a time. */
    static String sha256Hex(Backend backend, Tensor values) {
        MessageDigest sha = sha256();
        long size = values.size();
        int chunk = (int) Math.max(1, Math.min(size, 1 << 20));
        float[] host = new float[chunk];
        ByteBuffer bytes = ByteBuffer.allocate(4 * chunk).order(ByteOrder.LITTLE_ENDIAN);
        for (long at = 0; at < size; at += chunk) {
            int count = (int) Math.min(chunk, size - at);
            float[] dst = count == chunk ? host : new float[count];
            backend.copyOut(dst, values.flatSlice(at, count));
            bytes.clear();
            bytes.asFloatBuffer().put(dst);
            bytes.limit(4 * count);
            sha.update(bytes);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
