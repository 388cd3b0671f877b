// Per-epoch metrics of a training run: training loss and the evaluation metric (accuracy, perplexity or
// MSE), written as CSV atomically after every epoch. The command line draws them (seq4j-cli's Charts).
package org.seq4j.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.seq4j.io.AtomicOutput;

public final class History {
    /** One epoch: its mean training loss, the metric on the evaluation set, and the seconds it took. */
    public record Epoch(int epoch, double trainLoss, double metric, double seconds) {
    }

    private final String title;
    private final String metricName;
    private final List<Epoch> epochs = new ArrayList<>();

    /** @param metricName what metric() means, e.g. "test accuracy" or "valid perplexity" */
    public History(String title, String metricName) {
        this.title = title;
        this.metricName = metricName;
    }

    public void add(Epoch e) {
        epochs.add(e);
    }

    /** The run's title, e.g. "addition peeky". */
    public String title() {
        return title;
    }

    /** What {@link Epoch#metric()} means, e.g. "test accuracy". */
    public String metricName() {
        return metricName;
    }

    public List<Epoch> epochs() {
        return List.copyOf(epochs);
    }

    public void writeCsv(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("epoch,train_loss," + metricName.replace(' ', '_') + ",seconds\n");
        for (Epoch e : epochs) {
            sb.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.3f%n", e.epoch(), e.trainLoss(), e.metric(), e.seconds()));
        }
        AtomicOutput.write(file, out -> out.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
    }
}
