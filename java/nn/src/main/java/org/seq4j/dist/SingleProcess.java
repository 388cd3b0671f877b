// The communicator of one process training alone: rank 0 of 1, every collective leaves its data as it is.
// seq4j without MPI installed uses this, so nothing about MPI is ever loaded. Its collectives check their arguments
// as MpiCommunicator's do (CollectiveArgs): what MPI would refuse is refused here too, not first under mpirun.
package org.seq4j.dist;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

final class SingleProcess implements Communicator {
    static final SingleProcess INSTANCE = new SingleProcess();
    private static final String NAME = "Communicator.single()";

    private SingleProcess() {
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public String describe() {
        return "single process";
    }

    @Override
    public void allReduceSum(Backend backend, Tensor x) {
        CollectiveArgs.requireFloat(x, NAME, "allReduceSum");
        CollectiveArgs.count(x, NAME, "allReduceSum");
    }

    @Override
    public void allReduceSum(double[] values) {
        CollectiveArgs.requireArray(values, NAME, "allReduceSum");
    }

    @Override
    public void allReduceMin(long[] values) {
        CollectiveArgs.requireArray(values, NAME, "allReduceMin");
    }

    @Override
    public void broadcast(Backend backend, Tensor x) {
        CollectiveArgs.requireFloat(x, NAME, "broadcast");
        CollectiveArgs.count(x, NAME, "broadcast");
    }

    @Override
    public void broadcast(long[] values) {
        CollectiveArgs.requireArray(values, NAME, "broadcast");
    }

    @Override
    public void barrier() {
    }

    @Override
    public void close() {
    }
}
