// The W2 scaling chart: LSTM step time and GFLOP/s against the hidden size H, one line per sequence length
// T and backend, from W2LstmStepBench (and its PyTorch peer) rows with several h and t values.
package org.seq4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

final class ScalingChart {
    private ScalingChart() {
    }

    static void write(List<Report.Row> rows, Path png) throws IOException {
        // (backend, T) -> H -> ms
        Map<String, TreeMap<Integer, Double>> series = new TreeMap<>();
        for (Report.Row r : rows) {
            if (!r.benchmark().contains("W2LstmStepBench") || !r.params().containsKey("h")) {
                continue;
            }
            String key = r.params().get("backend") + ", T=" + r.params().get("t");
            series.computeIfAbsent(key, k -> new TreeMap<>()).put(Integer.parseInt(r.params().get("h")), Report.millis(r));
        }
        XYChart time = chart("W2 step time (N=64, D=H)", "hidden size H", "ms per forward+backward");
        time.getStyler().setYAxisLogarithmic(true);
        XYChart rate = chart("W2 throughput", "hidden size H", "GFLOP/s (GEMM FLOPs)");
        rate.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS); // the curves fill the top of this one
        for (var e : series.entrySet()) {
            List<Double> hs = new ArrayList<>(), ms = new ArrayList<>(), gf = new ArrayList<>();
            int t = Integer.parseInt(e.getKey().substring(e.getKey().indexOf("T=") + 2));
            for (var p : e.getValue().entrySet()) {
                hs.add((double) p.getKey());
                ms.add(p.getValue());
                gf.add(Workloads.lstmStepFlops(t, W2LstmStepBench.N, p.getKey(), p.getKey()) / (p.getValue() * 1e-3) / 1e9);
            }
            time.addSeries(e.getKey(), hs, ms);
            rate.addSeries(e.getKey(), hs, gf);
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        String base = png.toString().replaceFirst("\\.png$", "");
        BitmapEncoder.saveBitmap(List.of(time, rate), 1, 2, base, BitmapEncoder.BitmapFormat.PNG);
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart c = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        c.getStyler().setMarkerSize(6);
        return c;
    }
}
