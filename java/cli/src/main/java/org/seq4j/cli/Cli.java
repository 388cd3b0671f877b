// Small pieces the commands share: parsing a task name, the right/wrong mark, and an evaluation loss.
package org.seq4j.cli;

import java.lang.foreign.Arena;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.seq4j.models.Model;
import org.seq4j.tensor.Tensor;
import org.seq4j.train.Batches;
import org.seq4j.train.ModelSpec.Task;

final class Cli {
    private Cli() {
    }

    static Task task(String name) {
        try {
            return Task.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown task '" + name + "'; choose addition, date, waves or lm");
        }
    }

    /** The book's check marks where the terminal speaks UTF-8, O and X elsewhere. */
    static String mark(boolean right) {
        boolean utf8 = Charset.forName(System.getProperty("stdout.encoding", "UTF-8"), StandardCharsets.US_ASCII)
                .equals(StandardCharsets.UTF_8);
        return right ? (utf8 ? "\u2611" : "O") : (utf8 ? "\u2612" : "X");
    }

    /** The model's loss on every example of the set at once, with dropout off; the gradients are untouched. */
    static double regressionLoss(Model m, Batches set) {
        int[] order = new int[set.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor[] t = set.allocate(m.backend(), arena, set.size());
            set.fill(m.backend(), order, 0, t[0], t[1]);
            m.setTraining(false);
            try {
                return m.forward(t[0], t[1]);
            } finally {
                m.setTraining(true);
            }
        }
    }
}
