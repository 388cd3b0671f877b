// The library example of README.md, compiled and run, and compared with the README's text, so that the documented
// API stays true.
package org.seq4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.models.AttentionSeq2seq;
import org.seq4j.models.Beam;
import org.seq4j.optim.Adam;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Tensor;

class ReadmeExampleTest {
    @Test
    void theReadmeExampleRuns() {
        SplittableRandom r = new SplittableRandom(1);
        int[] questions = r.ints(128 * 7, 0, 13).toArray();
        int[] answers = r.ints(128 * 5, 0, 13).toArray();
        int startId = 6;
        // ---- as in README.md ----
        try (Backend backend = Backends.select();                       // cuda > openblas > java, logged
             AttentionSeq2seq model = new AttentionSeq2seq(backend, 13, 16, 128, 1984);
             Adam adam = new Adam(0.001f);
             Arena arena = Arena.ofConfined()) {
            Tensor xs = backend.allocate(arena, DType.I32, 128, 7);     // (N, T_in) question ids, batch-major
            Tensor ts = backend.allocate(arena, DType.I32, 128, 5);     // (N, T_out + 1) answers, start id first
            backend.copyIn(xs, questions);                              // int[] of N * T_in ids
            backend.copyIn(ts, answers);
            float loss = model.forward(xs, ts);                         // mean cross-entropy
            model.backward();                                           // gradients into one flat buffer
            adam.clipAndStep(model.store(), 5f);                        // clip to norm 5, one kernel for all parameters
            int[][] guesses = model.generate(xs, startId, 4);           // greedy, all N at once
            Beam.Result best = model.beamSearch(xs, startId, 4, 3);     // beam search, K = 3 per question
            // ---- end ----
            assertTrue(Math.abs(loss - Math.log(13)) < 0.1, "an untrained model's loss is about ln V: " + loss);
            assertEquals(128, guesses.length);
            assertEquals(4, guesses[0].length);
            assertEquals(128, best.sequences().length);
            assertEquals(3, best.sequences()[0].length, "K = 3 hypotheses per question");
            assertTrue(best.logProbs()[0][0] >= best.logProbs()[0][2], "best first");
        }
    }

    /** The lines marked above are README.md's example as it stands there (its closing brace aside). */
    @Test
    void theReadmeShowsExactlyThisExample() throws IOException {
        Path readme = Path.of("../../README.md");
        List<String> examples = DocExamples.marked(Path.of("src/test/java/org/seq4j/ReadmeExampleTest.java"), readme,
                "README.md");
        assertEquals(1, examples.size(), "examples marked in this file");
        assertTrue(Files.readString(readme).contains("```java\n" + examples.getFirst() + "\n}\n```"),
                "README.md lacks this example, or shows it changed:\n" + examples.getFirst());
    }
}
