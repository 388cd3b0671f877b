// Per-epoch metrics of a training run: written as CSV (atomically, after every epoch) and drawn as a
// PNG chart with XChart: training loss on the left, the evaluation metric (accuracy, perplexity or MSE)
// on the right.
package org.seq4j.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
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

    /** What metric() means, e.g. "test accuracy". */
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

    /** Loss and metric per epoch, side by side, as a PNG (written under a temporary name, then renamed). */
    public void writeChart(Path png) throws IOException {
        double[] x = new double[epochs.size()], loss = new double[epochs.size()], metric = new double[epochs.size()];
        for (int i = 0; i < epochs.size(); i++) {
            x[i] = epochs.get(i).epoch();
            loss[i] = epochs.get(i).trainLoss();
            metric[i] = epochs.get(i).metric();
        }
        XYChart left = chart(title + ": training loss", "loss");
        left.addSeries("train loss", x, loss);
        XYChart right = chart(title + ": " + metricName, metricName);
        right.addSeries(metricName, x, metric);
        if (metricName.contains("accuracy")) {
            right.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
            right.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE); // accuracy climbs to the top right
        }
        writePng(List.of(left, right), png);
    }

    static XYChart chart(String title, String yAxis) {
        XYChart c = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle(yAxis).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setMarkerSize(5);
        c.getStyler().setYAxisDecimalPattern("0.####");
        return c;
    }

    /** Charts side by side in one PNG, atomically. */
    static void writePng(List<XYChart> charts, Path png) throws IOException {
        Path dir = png.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // ".chart.<random>.tmp": a name RunFolder recognises as a killed run's leftover
        Path tmp = Files.createTempFile(dir, ".chart.", ".tmp");
        try {
            BitmapEncoder.saveBitmap(new ArrayList<>(charts), 1, charts.size(), tmp.toString(),
                    BitmapEncoder.BitmapFormat.PNG);
            Files.move(Path.of(tmp + ".png"), png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(Path.of(tmp + ".png"));
        }
    }

    /** Series (e.g. a prediction against the truth) over one x axis, as a PNG. */
    public static void writeSeriesChart(Path png, String title, String xAxis, String yAxis, double[] x,
                                        List<String> names, List<double[]> ys) throws IOException {
        XYChart c = new XYChartBuilder().width(900).height(420).title(title).xAxisTitle(xAxis).yAxisTitle(yAxis).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setMarkerSize(0);
        for (int i = 0; i < names.size(); i++) {
            double[] y = ys.get(i);
            c.addSeries(names.get(i), java.util.Arrays.copyOf(x, y.length), y);
        }
        writePng(List.of(c), png);
    }
}
