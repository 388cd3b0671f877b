// The command line end to end, small: train writes a checkpoint, metrics and a chart that decode; eval and
// generate read that checkpoint; bad input ends in one clear line and a non-zero exit code.
package org.seq4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.seq4j.data.ToySet;
import org.seq4j.testing.ChildJvm;
import org.seq4j.testing.ZipBomb;

class CommandLineTest {
    @TempDir
    static Path dir;
    static Path data, run;

    record Result(int code, String out, String err) {
    }

    static Result seq4j(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** One tiny training run that the other tests read. */
    @BeforeAll
    static void trainOnce() throws IOException {
        data = dir.resolve("addition.txt");
        ToySet.ADDITION.write(data, 400, 3);
        run = dir.resolve("run");
        Result r = seq4j("train", "addition", "--model", "peeky", "--backend", "java", "--epochs", "2", "--batch", "32",
                "--hidden", "16", "--wordvec", "8", "--data", data.toString(), "--out", run.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("epoch 2/2:") && r.out().contains("test accuracy"), r.out());
    }

    @Test
    void trainWritesACheckpointMetricsAndAChart() throws IOException {
        for (String f : List.of("model.npz", "model.properties", "metrics.csv", "chart.png")) {
            assertTrue(Files.size(run.resolve(f)) > 0, f);
        }
        List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals("epoch,train_loss,test_accuracy,seconds", csv.get(0));
        assertEquals(3, csv.size(), "a header and two epochs");
        BufferedImage png = ImageIO.read(run.resolve("chart.png").toFile());
        assertEquals(1280, png.getWidth(), "two 640-pixel charts side by side");
        assertEquals(420, png.getHeight());
    }

    @Test
    void wavesTrainForSeveralEpochsAndPlotThePrediction() throws IOException {
        // the per-epoch evaluation runs the whole set as one batch between training epochs of batch 10
        for (String model : List.of("seq2seq", "predictor")) {
            Path out = dir.resolve("waves-" + model);
            Result r = seq4j("train", "waves", "--model", model, "--backend", "java", "--epochs", "3", "--hidden", "8",
                    "--out", out.toString());
            assertEquals(0, r.code(), r.out() + r.err());
            assertTrue(r.out().contains("epoch 3/3:") && r.out().contains("free-running prediction"), r.out());
            assertEquals(4, Files.readAllLines(out.resolve("metrics.csv")).size(), "a header and three epochs");
            assertTrue(ImageIO.read(out.resolve("prediction.png").toFile()).getWidth() > 0, model);
        }
    }

    @Test
    void evalAndGenerateReadTheCheckpoint() {
        Result eval = seq4j("eval", "--checkpoint", run.toString(), "--backend", "java");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("test accuracy"), eval.out());
        Result gen = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "12+34", "5+6");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().contains("12+34 -> ") && gen.out().contains("5+6 -> "), gen.out());
    }

    @Test
    void badInputEndsInOneClearLine() throws IOException {
        Result r = seq4j("train", "addition", "--model", "nope");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no model 'nope'") && r.err().contains("attention"), r.err());

        r = seq4j("train", "addition", "--data", dir.resolve("missing.txt").toString(), "--out", dir.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing.txt"), r.err());

        Path bad = dir.resolve("bad.txt");
        Files.writeString(bad, "1+1    _2   \nno separator here\n");
        r = seq4j("train", "addition", "--backend", "java", "--data", bad.toString(), "--out", dir.resolve("y").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("line 2"), r.err());

        r = seq4j("generate", "--checkpoint", run.toString(), "--backend", "java", "1x+2");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'x'") && r.err().contains("not in the vocabulary"), r.err());

        Path corrupt = dir.resolve("corrupt");
        Files.createDirectories(corrupt);
        Files.copy(run.resolve("model.properties"), corrupt.resolve("model.properties"));
        Files.write(corrupt.resolve("model.npz"), new byte[] {'P', 'K', 1, 2, 3});
        r = seq4j("eval", "--checkpoint", corrupt.toString(), "--backend", "java");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("model.npz"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
    }

    /**
     * A checkpoint whose model.npz is a zip bomb (1 MiB that inflates to 1 GiB of zeros after a header for two
     * floats) or a header of 60,000 nested '(': eval ends in one line and exit code 2, in a child JVM whose 64 MiB
     * heap and 1 MiB stack would not survive reading the whole bomb or parsing the header recursively.
     */
    @Test
    void evalOfAHostileCheckpointEndsInOneLine() throws Exception {
        byte[] head = ZipBomb.floatHeader("(2,)");
        Map<String, byte[]> hostile = new LinkedHashMap<>();
        hostile.put("zip bomb", ZipBomb.zip("W.npy", head, 1024, head.length + 8));
        hostile.put("nested deeper than", ZipBomb.zip("W.npy", ZipBomb.nestedHeader(60_000), 0, -1));
        for (Map.Entry<String, byte[]> bad : hostile.entrySet()) {
            Path checkpoint = Files.createDirectories(dir.resolve("hostile-" + bad.getKey().replace(' ', '-')));
            Files.copy(run.resolve("model.properties"), checkpoint.resolve("model.properties"));
            Files.write(checkpoint.resolve("model.npz"), bad.getValue());
            ChildJvm.Result r = ChildJvm.run(dir, Duration.ofSeconds(120), List.of("-Xmx64m", "-Xss1m"),
                    Main.class.getName(), "eval", "--checkpoint", checkpoint.toString(), "--backend", "java");
            assertEquals(2, r.exitCode(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r);
            assertTrue(r.err().contains("model.npz") && r.err().contains(bad.getKey()), r.toString());
        }
    }

    @Test
    void aDivergingRunStopsAtTheStepItDiverged() {
        // a learning rate near the float maximum overflows the weights after two steps: the loss becomes infinite
        Result r = seq4j("train", "addition", "--model", "baseline", "--backend", "java", "--epochs", "1", "--batch",
                "32", "--hidden", "8", "--wordvec", "4", "--optimizer", "sgd", "--lr", "3e38", "--clip", "0",
                "--data", data.toString(), "--out", dir.resolve("nan").toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("at step") && r.err().contains("diverged"), r.err());
    }
}
