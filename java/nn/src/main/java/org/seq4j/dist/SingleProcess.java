// The communicator of one process training alone: rank 0 of 1, every collective leaves its data as it is.
// seq4j without MPI installed uses this, so nothing about MPI is ever loaded.
package org.seq4j.dist;

import org.seq4j.backend.Backend;
import org.seq4j.tensor.Tensor;

final class SingleProcess implements Communicator {
    static final SingleProcess INSTANCE = new SingleProcess();

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
    }

    @Override
    public void allReduceSum(double[] values) {
    }

    @Override
    public void allReduceMin(long[] values) {
    }

    @Override
    public void broadcast(Backend backend, Tensor x) {
    }

    @Override
    public void broadcast(long[] values) {
    }

    @Override
    public void barrier() {
    }

    @Override
    public void close() {
    }
}
