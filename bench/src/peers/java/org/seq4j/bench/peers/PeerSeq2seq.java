// W1's model on PyTorch through DJL: the book's chapter 7 Seq2seq (ch07/seq2seq.py), trained by PeerModel's step.
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.recurrent.LSTM;
import java.util.SplittableRandom;
import org.seq4j.bench.peers.PeerOps.Param;

/**
 * Encoder: Embedding(V, D) -> LSTM(D -> H), keeping only the last hidden state h (the book passes h, not c).
 * Decoder: Embedding(V, D) -> LSTM(D -> H) from (h, 0) -> Affine(H -> V) on every step. Loss: mean softmax
 * cross-entropy of the decoder's scores against ts[:, 1:], fed ts[:, :-1] (teacher forcing).
 */
final class PeerSeq2seq extends PeerModel {
    private final NDArray encW, decW; // (V, D) embeddings
    private final LSTM encLstm, decLstm;
    private final NDArray affW, affB; // (H, V), (V)

    PeerSeq2seq(int V, int D, int H, long seed) {
        var random = new SplittableRandom(seed);
        // the book's initialisation, in the book's order: embed randn/100, Wx randn/sqrt(D), Wh randn/sqrt(H)
        encW = PeerOps.gaussian(manager, random, 0.01, V, D);
        encLstm = PeerOps.lstm(manager, random, D, H, true);
        decW = PeerOps.gaussian(manager, random, 0.01, V, D);
        decLstm = PeerOps.lstm(manager, random, D, H, false);
        affW = PeerOps.gaussian(manager, random, 1 / Math.sqrt(H), H, V);
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
        // encoder: returnState gives (hs, h_n, c_n); h_n (1, N, H) is hs[:, -1], the decoder's initial h
        NDArray h = encLstm.forward(store, new NDList(PeerOps.embed(xs, encW)), true).get(1);
        // decoder: an (x, h0) input makes DJL's LSTM start from (h0, c0 = 0), as the book's set_state(h)
        NDArray hs = decLstm.forward(store, new NDList(PeerOps.embed(decXs, decW), h), true).head(); // (N, Tdec, H)
        NDArray score = PeerOps.affine(hs, affW, affB); // (N, Tdec, V)
        return PeerOps.softmaxCrossEntropy(score, decTs);
    }
}
