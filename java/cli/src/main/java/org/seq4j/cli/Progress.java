// Training progress on stderr: a progress bar per epoch (me.tongfei.progressbar: ETA, running loss) on a
// terminal, and a plain line per quarter epoch when the output is a file or a pipe (CI logs).
package org.seq4j.cli;

import java.io.PrintStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.seq4j.train.Trainer;

final class Progress implements Trainer.Listener, AutoCloseable {
    private final PrintStream err;
    private final int epochs;
    private final boolean terminal;
    private ProgressBar bar;
    private int steps;
    private double sum;
    private int count;
    // where training is, for a line on interrupt (read by a shutdown hook's thread)
    private volatile int epochNow, stepNow, stepsNow;
    // set by the interrupt notice: the training thread goes on until the JVM halts, and its lines came after the notice
    private volatile boolean stopped;

    Progress(PrintStream err, int epochs) {
        this.err = err;
        this.epochs = epochs;
        this.terminal = System.console() != null && System.console().isTerminal();
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        close();
        if (stopped) {
            return;
        }
        this.steps = steps;
        stepsNow = steps;
        stepNow = 0;
        epochNow = epoch;
        sum = 0;
        count = 0;
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", epoch, epochs)).setInitialMax(steps)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(err))
                    .setUpdateIntervalMillis(250).build();
        }
    }

    @Override
    public void onStep(int epoch, int step, float loss) {
        if (stopped) {
            return;
        }
        stepNow = step;
        sum += loss;
        count++;
        if (bar != null) {
            bar.step();
            bar.setExtraMessage(String.format(" loss %.4f", sum / count));
        } else if (step % Math.max(1, steps / 4) == 0 || step == steps) {
            err.printf("epoch %d/%d: step %d/%d, loss %.4f%n", epoch, epochs, step, steps, sum / count);
        }
    }

    /** Prints nothing more (a shutdown under way): the line that says where training stopped is the last. */
    void stop() {
        stopped = true;
    }

    /** Where training is: "epoch 2/10, step 174/351", or null before the first epoch started. */
    String where() {
        int e = epochNow;
        return e == 0 ? null : String.format("epoch %d/%d, step %d/%d", e, epochs, stepNow, stepsNow);
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
