// The library examples of README.md (training a model; one model per thread for concurrent inference), compiled and
// run, and compared with the README's text, so that the documented API stays true.
package org.seq4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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

    /**
     * Thread safety's pattern: one model per thread, the trained model's weights copied into each, on one backend. Four
     * threads answer at once through the queue, each with the trained model's answers, bit for bit.
     */
    @Test
    void theReadmeConcurrentInferenceRuns() throws Exception {
        Backend backend = org.seq4j.testing.TestBackends.reference();
        SplittableRandom r = new SplittableRandom(2);
        int threads = 4, startId = 6;
        int[][] questions = new int[8][];
        for (int i = 0; i < questions.length; i++) {
            questions[i] = r.ints(7, 0, 13).toArray();
        }
        int[][] answers;
        try (AttentionSeq2seq trained = new AttentionSeq2seq(backend, 13, 16, 128, 1984)) {
            int[][] expected = trained.generate(questions, startId, 4);
            // ---- as in README.md ----
            Map<String, float[]> weights = trained.store().copyOutAll();        // or Checkpoint.load(best, m) for each m
            BlockingQueue<AttentionSeq2seq> models = new ArrayBlockingQueue<>(threads);
            for (int i = 0; i < threads; i++) {
                AttentionSeq2seq m = new AttentionSeq2seq(backend, 13, 16, 128, 0);   // same sizes; the seed is overwritten
                m.store().copyInAll(weights);
                models.add(m);
            }
            // in each task: take a model, answer, put it back (close them all at the end)
            AttentionSeq2seq m = models.take();
            try { answers = m.generate(questions, startId, 4); } finally { models.put(m); }
            // ---- end ----
            assertArrayEquals(expected, answers);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<int[][]>> tasks = new ArrayList<>();
                for (int t = 0; t < 4 * threads; t++) {
                    tasks.add(pool.submit(() -> {
                        AttentionSeq2seq mine = models.take();
                        try {
                            return mine.generate(questions, startId, 4);
                        } finally {
                            models.put(mine);
                        }
                    }));
                }
                for (Future<int[][]> f : tasks) {
                    assertArrayEquals(expected, f.get(), "a copy's answers are the trained model's");
                }
            } finally {
                pool.shutdownNow();
                for (AttentionSeq2seq copy : models) {
                    copy.close();
                }
            }
        }
    }

    /** The lines marked above are README.md's examples as they stand there (the first one's closing brace aside). */
    @Test
    void theReadmeShowsExactlyTheseExamples() throws IOException {
        Path readme = Path.of("../../README.md");
        List<String> examples = DocExamples.marked(Path.of("src/test/java/org/seq4j/ReadmeExampleTest.java"), readme,
                "README.md");
        assertEquals(2, examples.size(), "examples marked in this file");
        String text = Files.readString(readme);
        assertTrue(text.contains("```java\n" + examples.getFirst() + "\n}\n```"),
                "README.md lacks this example, or shows it changed:\n" + examples.getFirst());
        // the second sits in a list item, indented by two spaces
        String indented = examples.get(1).lines().map(l -> l.isEmpty() ? l : "  " + l)
                .collect(java.util.stream.Collectors.joining("\n"));
        assertTrue(text.contains("  ```java\n" + indented + "\n  ```"),
                "README.md lacks this example, or shows it changed:\n" + indented);
    }
}
