// W4's model on PyTorch through DJL: the book's AttentionSeq2seq (ch08/attention_seq2seq.py, attention_layer.py),
// trained by PeerModel's step.
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.recurrent.LSTM;
import java.util.SplittableRandom;
import org.seq4j.bench.peers.PeerOps.Param;

/**
 * Encoder: Embedding(V, D) -> LSTM(D -> H) returning every hidden state hs_enc (N, Tenc, H). Decoder:
 * Embedding(V, D) -> LSTM(D -> H) from (hs_enc[:, -1], 0) -> attention -> Affine(2H -> V) on [c ; h_t].
 * The book's TimeAttention loops over decoder steps, a_t = softmax_Tenc(hs_enc . h_t), c_t = sum_Tenc a_t * hs_enc;
 * here all Tdec steps at once as two batched matmuls, the same numbers: s = hs_dec . hs_enc^T (N, Tdec, Tenc),
 * a = softmax over Tenc, c = a . hs_enc (N, Tdec, H).
 */
final class PeerAttentionSeq2seq extends PeerModel {
    private final NDArray encW, decW; // (V, D) embeddings
    private final LSTM encLstm, decLstm;
    private final NDArray affW, affB; // (2H, V), (V)

    PeerAttentionSeq2seq(int V, int D, int H, long seed) {
        var random = new SplittableRandom(seed);
        encW = PeerOps.gaussian(manager, random, 0.01, V, D);
        encLstm = PeerOps.lstm(manager, random, D, H, false);
        decW = PeerOps.gaussian(manager, random, 0.01, V, D);
        decLstm = PeerOps.lstm(manager, random, D, H, false);
        affW = PeerOps.gaussian(manager, random, 1 / Math.sqrt(2 * H), 2L * H, V);
        affB = PeerOps.zeros(manager, V);
        params.add(new Param("encoder.embed.W", encW));
        params.addAll(PeerOps.params("encoder.lstm.", encLstm));
        params.add(new Param("decoder.embed.W", decW));
        params.addAll(PeerOps.params("decoder.lstm.", decLstm));
        params.add(new Param("decoder.affine.W", affW));
        params.add(new Param("decoder.affine.b", affB));
    }

    @Override
    NDArray loss(NDArray xs, NDArray ts) { // xs (N, Tenc), ts (N, Tdec + 1)
        NDArray decXs = ts.get(":, :-1"); // (N, Tdec)
        NDArray decTs = ts.get(":, 1:"); // (N, Tdec)
        NDArray hsEnc = encLstm.forward(store, new NDList(PeerOps.embed(xs, encW)), true).head(); // (N, Tenc, H)
        NDArray h = hsEnc.get(":, -1, :"); // (N, H): its gradient flows back into hs_enc[:, -1], as in the book
        NDArray hsDec = decLstm.forward(store, new NDList(PeerOps.embed(decXs, decW), h.expandDims(0)), true)
                .head(); // (N, Tdec, H)
        NDArray s = hsDec.batchMatMul(hsEnc.transpose(0, 2, 1)); // (N, Tdec, Tenc)
        NDArray a = s.softmax(-1);
        NDArray c = a.batchMatMul(hsEnc); // (N, Tdec, H)
        NDArray out = NDArrays.concat(new NDList(c, hsDec), 2); // (N, Tdec, 2H), the book's order [c ; h]
        NDArray score = PeerOps.affine(out, affW, affB); // (N, Tdec, V)
        return PeerOps.softmaxCrossEntropy(score, decTs);
    }
}
