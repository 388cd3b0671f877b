// Per-epoch metrics of a training run: training loss and the evaluation metric (accuracy, perplexity or a
// regression loss), written as CSV atomically after every epoch. The command line draws them (seq4j-cli's Charts).
package org.seq4j.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.seq4j.io.AtomicOutput;

/**
 * Per-epoch metrics of a training run: training loss and the evaluation metric (accuracy, perplexity or a
 * regression loss), written as CSV atomically after every epoch.
 */
public final class History {
    /**
     * One epoch's numbers.
     *
     * @param epoch     the epoch, from 1
     * @param trainLoss its mean training loss
     * @param metric    the metric on the evaluation set
     * @param seconds   the wall-clock seconds it took
     */
    public record Epoch(int epoch, double trainLoss, double metric, double seconds) {
        /**
         * One epoch's numbers; the loss and the metric are taken as they come (a perplexity may overflow to Infinity).
         *
         * @throws IllegalArgumentException if epoch is below 1 or seconds is negative or NaN
         */
        public Epoch {
            if (epoch < 1 || !(seconds >= 0)) {
                throw new IllegalArgumentException("History.Epoch: epoch " + epoch + ", seconds " + seconds
                        + "; expected an epoch from 1 and seconds >= 0");
            }
        }
    }

    private final String title;
    private final String metricName;
    private final List<Epoch> epochs = new ArrayList<>();

    /**
     * An empty history.
     *
     * @param title      the run's title, e.g. "addition peeky"
     * @param metricName what metric() means, e.g. "test accuracy" or "valid perplexity"; a column name of the CSV
     * @throws NullPointerException if title or metricName is null
     * @throws IllegalArgumentException if metricName holds a comma, a quote or a line break (the CSV's header)
     */
    public History(String title, String metricName) {
        this.title = java.util.Objects.requireNonNull(title, "History: title is null");
        this.metricName = java.util.Objects.requireNonNull(metricName, "History: metricName is null");
        if (metricName.isEmpty() || metricName.chars().anyMatch(c -> c == ',' || c == '"' || c == '\n' || c == '\r')) {
            throw new IllegalArgumentException("History: metric name '" + metricName + "' would not make one CSV column;"
                    + " expected a name without commas, quotes or line breaks");
        }
    }

    /**
     * Appends an epoch.
     *
     * @param e its numbers
     * @throws NullPointerException if e is null (epochs() and writeCsv failed on it from then on)
     */
    public void add(Epoch e) {
        epochs.add(java.util.Objects.requireNonNull(e, "History.add: the epoch is null"));
    }

    /**
     * The run's title, e.g. "addition peeky".
     *
     * @return the title
     */
    public String title() {
        return title;
    }

    /**
     * What {@link Epoch#metric()} means, e.g. "test accuracy".
     *
     * @return the name
     */
    public String metricName() {
        return metricName;
    }

    /**
     * The epochs so far.
     *
     * @return an unmodifiable copy
     */
    public List<Epoch> epochs() {
        return List.copyOf(epochs);
    }

    /**
     * Writes {@code epoch,train_loss,METRIC,seconds} rows to {@code file} atomically, each line ended by LF.
     *
     * @param file the CSV file; its folder must exist
     * @throws IOException if it cannot be written
     * @throws NullPointerException if file is null
     */
    public void writeCsv(Path file) throws IOException {
        // named (a bare "Cannot invoke Path.toAbsolutePath()" from inside AtomicOutput)
        java.util.Objects.requireNonNull(file, "History.writeCsv: file is null");
        StringBuilder sb = new StringBuilder("epoch,train_loss," + metricName.replace(' ', '_') + ",seconds\n");
        for (Epoch e : epochs) {
            sb.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.3f\n", e.epoch(), e.trainLoss(), e.metric(), e.seconds()));
        }
        AtomicOutput.write(file, out -> out.write(sb.toString().getBytes(StandardCharsets.UTF_8)));
    }
}
