// What Seq2seq, PeekySeq2seq and AttentionSeq2seq share (the book's Seq2seq class): batch-major ids in,
// time-major inside, encoder -> decoder -> TimeSoftmaxWithLoss, and greedy generation on a separate pair of
// encoder/decoder objects over the same parameters, so generating never resizes the training workspaces.
package org.seq4j.models;

import java.util.concurrent.CancellationException;
import java.util.function.Function;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.layers.ParameterStore;
import org.seq4j.layers.TimeSoftmaxWithLoss;
import org.seq4j.tensor.Tensor;

/**
 * What Seq2seq, PeekySeq2seq and AttentionSeq2seq share (the book's Seq2seq class): batch-major ids in,
 * time-major inside, encoder, decoder, TimeSoftmaxWithLoss, and greedy generation on a separate encoder/decoder
 * pair over the same parameters.
 */
public abstract class AbstractSeq2seq extends AbstractModel implements Seq2seqModel {
    /** What a -1 in ts may be: the doc of forward said "labels -1 are ignored", but only the last column's are. */
    private static final String LABELS_NOTE = "; a label of -1 is ignored only in the last column ts[:, -1]: the"
            + " columns before it are also the decoder's inputs (ts[:, :-1]), ids in [0, V)";
    private final int V;
    private final Function<ParameterStore, SequenceEncoder> newEncoder;
    private final Function<ParameterStore, SequenceDecoder> newDecoder;
    /** The training encoder (generation runs on a pair of its own over the same parameters). */
    protected final SequenceEncoder encoder;
    /** The training decoder. */
    protected final SequenceDecoder decoder;
    private final TimeSoftmaxWithLoss softmax;
    private SequenceEncoder genEncoder;
    private SequenceDecoder genDecoder;
    private PackedMatrix.Precision inferencePrecision = PackedMatrix.Precision.F32;   // of genEncoder, genDecoder

    private int sizedN = -1, sizedTin = -1, sizedTout = -1;
    private Tensor xsT;       // (T_in, N) questions, time-major
    private Tensor tsT;       // (T_out + 1, N) answers, time-major
    private Tensor decXs;     // (T_out, N) = tsT[0 .. T_out): the decoder's inputs
    private Tensor decTs;     // (T_out, N) = tsT[1 .. T_out]: its targets

    /**
     * A seq2seq model over {@code store}.
     *
     * @param backend    where the parameters and activations live
     * @param V          the vocabulary size
     * @param store      the parameters, owned by the model from now on
     * @param newEncoder makes an encoder over the store: the training one now, the generation one on first use
     * @param newDecoder the same for the decoder
     */
    protected AbstractSeq2seq(Backend backend, int V, ParameterStore store,
                              Function<ParameterStore, SequenceEncoder> newEncoder,
                              Function<ParameterStore, SequenceDecoder> newDecoder) {
        super(backend, store);
        this.V = V;
        this.newEncoder = newEncoder;
        this.newDecoder = newDecoder;
        SequenceEncoder enc = null;
        try {
            enc = newEncoder.apply(store);
            this.decoder = newDecoder.apply(store);
        } catch (RuntimeException | Error e) {   // the store is the model's: no one else can close it now
            if (enc != null) {
                try {
                    enc.close();
                } catch (RuntimeException | Error second) {
                    e.addSuppressed(second);
                }
            }
            abandon(e);
            throw e;
        }
        this.encoder = enc;
        this.softmax = new TimeSoftmaxWithLoss(backend);
    }

    @Override
    public int vocabSize() {
        return V;
    }

    /**
     * Loss for xs (N, T_in) int32 and ts (N, T_out + 1) int32 whose first column is the start id: the mean
     * cross-entropy of the decoder's scores for ts[:, 1:] given ts[:, :-1]. A label of -1 is ignored where it is only a
     * label, in the last column ts[:, -1]; the columns before it are also the decoder's inputs, ids in [0, V).
     */
    @Override
    protected float forwardHeld(String op, Tensor xs, Tensor ts) {
        Inputs.ids(op, "xs", xs, -1, 1, V);
        Inputs.ids(op, "ts", ts, xs.dim(0), 2, V);
        int n = xs.dim(0), tin = xs.dim(1), tout = ts.dim(1) - 1;
        decoder.requireBatch(op, n);
        if (n != sizedN || tin != sizedTin || tout != sizedTout) {
            sizedN = -1;   // none until every buffer below is allocated (see Workspace.reset)
            ws.reset();
            xsT = ws.ints(tin, n);
            tsT = ws.ints(tout + 1, n);
            decXs = tsT.slice(0, tout);
            decTs = tsT.slice(1, tout + 1);
            sizedN = n;
            sizedTin = tin;
            sizedTout = tout;
        }
        Inputs.timeMajor(op, "xs", backend, xsT, xs);
        Inputs.timeMajor(op, "ts", backend, tsT, ts);
        Tensor encoding;
        try {
            encoding = encoder.forward(xsT);
        } catch (IndexOutOfBoundsException e) {
            throw Inputs.outOfVocabulary(op, "xs", xs, V, e);
        }
        Tensor score;
        Tensor loss;
        try {
            score = decoder.forward(decXs, encoding);
            requireScores(op, "SequenceDecoder.forward", "answers", score, tout, n, V);
            loss = softmax.forward(score, decTs);
        } catch (IndexOutOfBoundsException e) {
            throw Inputs.outOfVocabulary(op, "ts", ts, V, e, LABELS_NOTE);
        }
        return backend.item(loss, 0);
    }

    @Override
    protected void backwardHeld() {
        Tensor dscore = softmax.backward(1f);
        Tensor dEncoding = decoder.backward(dscore);
        encoder.backward(dEncoding);
    }

    /** Sets the precision on the generation encoder/decoder only; the training pair always multiplies in float32. */
    @Override
    public void setInferencePrecision(PackedMatrix.Precision precision) {
        java.util.Objects.requireNonNull(precision, () -> op("setInferencePrecision") + ": precision is null; expected "
                + "F32 or BF16");
        held("setInferencePrecision", () -> {
            inferencePrecision = precision;
            if (genEncoder != null) {
                genEncoder.setInferencePrecision(precision);
                genDecoder.setInferencePrecision(precision);
            }
        });
    }

    @Override
    public PackedMatrix.Precision inferencePrecision() {
        return inferencePrecision;
    }

    @Override
    public int[][] generate(Tensor xs, int startId, int length) {
        return held("generate", () -> {
            String op = op("generate");
            Inputs.ids(op, "xs", xs, -1, 1, V);
            Greedy.check(op, xs.dim(0), length);   // before the encoder runs: the length, the result's heap
            decoder.requireBatch(op, xs.dim(0));
            Tensor encoding = encodeForGeneration(op, xs, startId);
            try {
                return Greedy.toBatchMajor(backend, genDecoder.generate(encoding, startId, length));
            } catch (NonFiniteScoresException e) {   // the decoder names itself: the caller called this model
                throw e.within(op);
            } catch (CancellationException e) {
                throw Interrupts.within(op, e);
            }
        });
    }

    /** As Seq2seqModel's, which copies xs onto the backend first: a closed backend is refused in the model's words. */
    @Override
    public int[][] generate(int[][] xs, int startId, int length) {
        requireOpenBackend("generate");
        return Seq2seqModel.super.generate(xs, startId, length);
    }

    /** As Seq2seqModel's, which copies xs onto the backend first: a closed backend is refused in the model's words. */
    @Override
    public Beam.Result beamSearch(int[][] xs, int startId, int length, int beam) {
        requireOpenBackend("beamSearch");
        return Seq2seqModel.super.beamSearch(xs, startId, length, beam);
    }

    /**
     * Beam search (see Beam): the questions are encoded once (N rows), the encoding is repeated K times so
     * that row n*K + k is hypothesis k of question n, and the decoder steps over all N*K rows at once.
     */
    @Override
    public Beam.Result beamSearch(Tensor xs, int startId, int length, int beam) {
        return held("beamSearch", () -> beamSearchHeld(xs, startId, length, beam));
    }

    private Beam.Result beamSearchHeld(Tensor xs, int startId, int length, int beam) {
        String op = op("beamSearch");
        Beam.requireBeam(op, beam);
        if (length < 1) {
            throw new IllegalArgumentException(op + ": needs length >= 1, got " + length);
        }
        Inputs.ids(op, "xs", xs, -1, 1, V);
        int n = xs.dim(0), m = Beam.rows(op, n, beam, V);   // before the encoder runs and its output is repeated K times
        Beam.requireRoom(op, length, n, beam, V, false);
        decoder.requireBatch(op, m);   // the decoder steps over all N x K hypotheses
        Beam.Options options = Beam.Options.of(beam);
        Beam.requireSequences(op, options, length, V);
        Tensor encoding = encodeForGeneration(op, xs, startId);
        Tensor encodingK = beam == 1 ? encoding : Beam.repeat(op, backend, genWs, encoding, beam);
        Beam.Steps steps = genDecoder.steps(encodingK);
        Tensor start = genWs.ints(1, m);
        backend.fill(start, startId);
        return Beam.search(op, backend, genWs, n, length, steps.step(start), steps, options);
    }

    /** Checks xs and the start id, then runs the generation encoder over xs (N, T_in): its encoding. */
    private Tensor encodeForGeneration(String op, Tensor xs, int startId) {
        Inputs.ids(op, "xs", xs, -1, 1, V);
        if (startId < 0 || startId >= V) {
            throw new IllegalArgumentException(op + ": start id " + startId + " is outside the vocabulary [0, V=" + V + ")");
        }
        if (genEncoder == null) {   // the pair is kept only whole: a half-made one would fail every later call
            SequenceEncoder e = newEncoder.apply(store);
            SequenceDecoder d = null;
            try {
                d = newDecoder.apply(store);
                e.setInferencePrecision(inferencePrecision);
                d.setInferencePrecision(inferencePrecision);
            } catch (RuntimeException | Error failure) {
                e.close();
                if (d != null) {
                    d.close();
                }
                throw failure;
            }
            genEncoder = e;
            genDecoder = d;
        }
        genWs.reset();
        Tensor x = genWs.ints(xs.dim(1), xs.dim(0));
        Inputs.timeMajor(op, "xs", backend, x, xs);
        try {
            return genEncoder.forward(x);
        } catch (IndexOutOfBoundsException e) {
            throw Inputs.outOfVocabulary(op, "xs", xs, V, e);
        }
    }

    @Override
    protected void closeLayers() {
        encoder.close();
        decoder.close();
        softmax.close();
        if (genEncoder != null) {
            genEncoder.close();
            genDecoder.close();
        }
    }
}
