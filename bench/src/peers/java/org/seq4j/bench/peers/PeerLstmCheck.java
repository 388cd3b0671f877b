// Whether PyTorch's LSTM computes an LSTM on this machine, at the sizes the peers run (PeerOps.requireBookLstm on
// each), before scripts/bench spends minutes on peers that would stop at their setup. Prints one line a size; exit
// status 1 if one is wrong, with PeerOps' message (which names the remedy) last.
//   java -Dai.djl.offline=true -DPYTORCH_FLAVOR=cpu -cp bench/target/peers/benchmarks.jar \
//        org.seq4j.bench.peers.PeerLstmCheck [DxH ...]      (default: W1 16x128, W2 650x650, W3 and W4 16x256)
package org.seq4j.bench.peers;

import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.SplittableRandom;

public final class PeerLstmCheck {
    private PeerLstmCheck() {}

    public static void main(String[] args) {
        List<String> sizes = args.length > 0 ? List.of(args) : List.of("16x128", "650x650", "16x256");
        String wrong = null;
        for (String size : sizes) {
            String[] dh = size.split("x");
            if (dh.length != 2 || !dh[0].matches("[1-9][0-9]{0,4}") || !dh[1].matches("[1-9][0-9]{0,4}")) {
                System.err.println("PeerLstmCheck: '" + size + "' is no size; expected DxH, e.g. 650x650");
                System.exit(2);
            }
            int d = Integer.parseInt(dh[0]), h = Integer.parseInt(dh[1]);
            try (NDManager m = PeerOps.newManager()) {
                PeerOps.lstm(m, new SplittableRandom(PeerOps.SEED), d, h, false);
                System.out.println("PeerLstmCheck: D=" + d + ", H=" + h + ": PyTorch's LSTM computes the formula");
            } catch (IllegalStateException e) {
                System.out.println("PeerLstmCheck: D=" + d + ", H=" + h + ": wrong");
                wrong = e.getMessage();
            }
        }
        if (wrong != null) {
            System.err.println(wrong);
            System.exit(1);
        }
    }
}
