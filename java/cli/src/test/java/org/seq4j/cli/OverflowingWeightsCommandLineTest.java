// A checkpoint whose weights are finite, and so load, but so large (3e38) that the model's products overflow float:
// generate ended as "internal error: IllegalStateException" (exit 1), and eval of a language model said "training
// diverged (try a smaller learning rate ...)", though eval trains nothing. Both are now bad input in one line.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.seq4j.cli.CliRuns.seq4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.backend.Backend;
import org.seq4j.backend.Backends;
import org.seq4j.cli.CliRuns.Result;
import org.seq4j.models.Model;
import org.seq4j.train.Checkpoint;
import org.seq4j.train.ModelSpec;

class OverflowingWeightsCommandLineTest {

    @Test
    void aLanguageModelWhoseProductsOverflowIsBadInputInGenerateAndEval(@TempDir Path dir) throws IOException {
        Path lm = dir.resolve("lm");
        Result r = seq4j("train", "lm", "--model", "simple", "--backend", "java", "--epochs", "1", "--hidden", "4",
                "--wordvec", "4", "--out", lm.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        for (Path file : new Path[] {lm.resolve(Checkpoint.WEIGHTS), lm.resolve(Checkpoint.BEST)}) {
            Properties meta = Checkpoint.meta(file);
            try (Backend b = Backends.create("java"); Model m = ModelSpec.load(meta, file).restore(b, file)) {
                float[] w = m.store().copyOut("affine.W");
                for (int i = 0; i < w.length; i++) {
                    w[i] = i % 2 == 0 ? 3e38f : -3e38f;   // finite: the checkpoint loads
                }
                m.store().copyIn("affine.W", w);
                Checkpoint.write(file, m, meta);
            }
        }
        Result g = seq4j("generate", "--checkpoint", lm.toString(), "--backend", "java", "--length", "3");
        assertEquals(2, g.code(), g.out() + g.err());
        assertTrue(g.err().startsWith("seq4j: SimpleRnnlm.generate: the scores of prompt 0 hold ") && g.err().contains(
                "so large that its products overflow float") && !g.err().contains("internal error"), g.err());
        Result e = seq4j("eval", "--checkpoint", lm.toString(), "--backend", "java");
        assertEquals(2, e.code(), e.out() + e.err());
        assertTrue(e.err().startsWith("seq4j: the model's loss is ") && e.err().contains(" of the evaluation: the "
                + "checkpoint's weights are not finite, or so large that its products overflow float; it cannot be "
                + "evaluated") && !e.err().contains("training diverged"), e.err());
        assertEquals(1, e.err().strip().lines().count(), e.err());
    }
}
