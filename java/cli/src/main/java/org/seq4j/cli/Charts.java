// PNG charts of training runs with XChart: loss and the evaluation metric per epoch side by side, and series
// such as a prediction against the truth. Written under a temporary name, then renamed.
package org.seq4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.seq4j.io.AtomicOutput;
import org.seq4j.train.History;

final class Charts {
    private static volatile boolean warned;

    private Charts() {
    }

    /**
     * Draws a chart, or, where the JDK cannot draw (a headless machine without fonts: Fontconfig, AWT), says so
     * once on err as a WARNING and goes on: a chart is a convenience, never a reason to stop training. I/O errors
     * (an unwritable folder) still propagate.
     */
    static void orWarn(Drawing drawing) throws IOException {
        try {
            drawing.draw();
        } catch (RuntimeException | LinkageError | InternalError e) {
            if (shuttingDown()) { // AWT's own hook is refused once the JVM shuts down: no fault of this machine
                System.err.println("seq4j: a chart is not drawn: the JVM is shutting down");
            } else if (!warned) {
                warned = true;
                System.err.println("seq4j: WARNING: charts are not drawn on this machine (" + e + "); "
                        + "metrics.csv has the same figures");
            }
        }
    }

    /** Whether the JVM is shutting down (a signal, System.exit): then no shutdown hook may be added. */
    static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
        } catch (IllegalStateException e) {
            return true;
        }
        Runtime.getRuntime().removeShutdownHook(probe);
        return false;
    }

    /** Whether this JVM can draw a chart here (a headless machine without fonts cannot); tests ask before expecting one. */
    static boolean drawable() {
        try {
            BitmapEncoder.getBufferedImage(chart("probe", "y"));
            return true;
        } catch (RuntimeException | LinkageError | InternalError e) {
            return false;
        }
    }

    /** A chart to draw. */
    interface Drawing {
        void draw() throws IOException;
    }

    /** Loss and metric per epoch, side by side, as a PNG (written under a temporary name, then renamed). */
    public static void write(History history, Path png) throws IOException {
        List<History.Epoch> epochs = history.epochs();
        String title = history.title(), metricName = history.metricName();
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

    private static XYChart chart(String title, String yAxis) {
        XYChart c = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle(yAxis).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setMarkerSize(5);
        c.getStyler().setYAxisDecimalPattern("0.####");
        return c;
    }

    /**
     * Charts side by side in one PNG, atomically: through AtomicOutput, whose temporary file (".chart.png.<random>.tmp")
     * RunFolder knows as a killed run's leftover. Files.createTempFile's ".chart.<random>.tmp" (and BitmapEncoder's
     * ".png" after it) had a form of its own for RunFolder to match.
     */
    private static void writePng(List<XYChart> charts, Path png) throws IOException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        AtomicOutput.write(png, out -> BitmapEncoder.saveBitmap(new ArrayList<>(charts), 1, charts.size(), out,
                BitmapEncoder.BitmapFormat.PNG));
    }

    /** Series (e.g. a prediction against the truth) over one x axis, as a PNG. */
    public static void writeSeries(Path png, String title, String xAxis, String yAxis, double[] x,
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
