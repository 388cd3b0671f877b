// A seq2seq model written outside seq4j's packages on AbstractSeq2seq, with a decoder of the user's own that takes
// at most two rows: SequenceDecoder.requireBatch is asked before the encoder runs, in training, greedy generation
// and beam search (N x K rows), so the refusal is the decoder's own words and the encoder never saw the batch.
package org.seq4j.extension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.PackedMatrix;
import org.seq4j.layers.Cell;
import org.seq4j.layers.ParameterStore;
import org.seq4j.models.AbstractSeq2seq;
import org.seq4j.models.Beam;
import org.seq4j.models.Decoder;
import org.seq4j.models.Encoder;
import org.seq4j.models.Seq2seq;
import org.seq4j.models.SequenceDecoder;
import org.seq4j.models.SequenceEncoder;
import org.seq4j.tensor.Tensor;
import org.seq4j.testing.TestBackends;

class DecoderBatchLimitTest {
    static final int V = 5, D = 3, H = 4, LIMIT = 2;

    /** The book's Decoder, taking at most LIMIT rows. */
    record LimitedDecoder(Decoder inner) implements SequenceDecoder {
        @Override
        public void requireBatch(String op, int n) {
            if (n > LIMIT) {
                throw new IllegalArgumentException(op + ": this decoder takes at most " + LIMIT + " rows, got " + n);
            }
        }

        @Override
        public Tensor forward(Tensor xs, Tensor encoding) {
            return inner.forward(xs, encoding);
        }

        @Override
        public Tensor backward(Tensor dscore) {
            return inner.backward(dscore);
        }

        @Override
        public Tensor generate(Tensor encoding, int startId, int length) {
            return inner.generate(encoding, startId, length);
        }

        @Override
        public Beam.Steps steps(Tensor encoding) {
            return inner.steps(encoding);
        }

        @Override
        public void setInferencePrecision(PackedMatrix.Precision precision) {
            inner.setInferencePrecision(precision);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    /** The book's Encoder, counting its forwards. */
    record CountingEncoder(Encoder inner, AtomicInteger forwards) implements SequenceEncoder {
        @Override
        public Tensor forward(Tensor xs) {
            forwards.incrementAndGet();
            return inner.forward(xs);
        }

        @Override
        public void backward(Tensor dh) {
            inner.backward(dh);
        }

        @Override
        public void setInferencePrecision(PackedMatrix.Precision precision) {
            inner.setInferencePrecision(precision);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    static final class LimitedSeq2seq extends AbstractSeq2seq {
        LimitedSeq2seq(Backend backend, AtomicInteger encoderForwards) {
            super(backend, V, Seq2seq.declare(ParameterStore.builder(backend), V, D, H, Cell.LSTM).build(7),
                    s -> new CountingEncoder(new Encoder(backend, s, "encoder."), encoderForwards),
                    s -> new LimitedDecoder(new Decoder(backend, s, "decoder.")));
        }
    }

    @Test
    void theDecodersLimitIsAskedBeforeTheEncoderRuns() {
        Backend backend = TestBackends.reference();
        AtomicInteger encoderForwards = new AtomicInteger();
        try (Arena arena = Arena.ofConfined(); var model = new LimitedSeq2seq(backend, encoderForwards)) {
            Tensor two = Tensor.ofInts(arena, new int[] {1, 2, 3, 4, 1, 2}, 2, 3);
            Tensor three = Tensor.ofInts(arena, new int[] {1, 2, 3, 4, 1, 2, 3, 4, 1}, 3, 3);

            assertTrue(Float.isFinite(model.forward(two, two)), "two rows are within the limit");
            model.backward();
            assertEquals(1, encoderForwards.get());

            var e = assertThrows(IllegalArgumentException.class, () -> model.forward(three, three));
            assertTrue(e.getMessage().contains("takes at most 2 rows, got 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> model.generate(three, 0, 2));
            assertTrue(e.getMessage().contains("takes at most 2 rows, got 3"), e.getMessage());
            // beam search steps over N x K hypotheses: one question with a beam of 3 is three rows
            Tensor one = Tensor.ofInts(arena, new int[] {1, 2, 3}, 1, 3);
            e = assertThrows(IllegalArgumentException.class, () -> model.beamSearch(one, 0, 2, 3));
            assertTrue(e.getMessage().contains("takes at most 2 rows, got 3"), e.getMessage());
            assertEquals(1, encoderForwards.get(), "the encoder ran for a batch its decoder refuses");

            assertEquals(2, model.generate(two, 0, 2).length, "the model still works after the refusals");
        }
    }
}
