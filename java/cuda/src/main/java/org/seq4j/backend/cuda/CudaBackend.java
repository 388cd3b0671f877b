// The CUDA backend: tensors in GPU memory, GEMM on cuBLAS, everything else on the fused kernels of
// native/cuda (seq4j_cuda.h), all queued on one stream.
//
// - Memory: tensors are device allocations from a caching pool (DevicePool) tied to the caller's Arena;
//   their MemorySegment holds the device address and is never dereferenced on the host. New tensors are
//   zero-filled on the stream. Out of device memory is an OutOfMemoryError, as layers and models expect of any
//   allocation (they stay whole): the pool's, once it freed its cache and tried again, and embeddingBackward's,
//   whose sort buffers come from CUDA's own pool, after the same retry. Other failed calls are CudaException.
// - Order: every kernel, cuBLAS call, fill and device copy is queued on the backend's one stream and
//   returns at once. copyIn does not wait either: it copies the caller's data into a pinned staging ring
//   (StagingRing) and queues the transfer from there, so the caller may reuse its memory at once. copyOut,
//   item and synchronize() wait for the stream: a training step waits once, to read its loss. Kernel faults
//   surface at those points as CudaException; -Dseq4j.cuda.sync=true waits after every kernel instead, so
//   that a fault is reported by the operation that caused it (slow: for debugging). Such a fault (a sticky
//   error: an illegal address, a failed launch, a device-side assert) kills the CUDA context: the call that meets
//   it throws CudaException saying so, and every later call IllegalStateException naming the fault and where it was
//   first seen (ContextHealth), instead of blaming itself; close() still releases what it can.
// - Memory the backend did not allocate (a CUDA tensor from Tensor.wrap, a host segment of copyIn or copyOut) is
//   asked of the runtime once per call (DevicePointers) and refused, with an IllegalArgumentException, where using it
//   would fault on the GPU (host memory tagged CUDA) or crash the host (a device address read as host memory).
// - Row-major on column-major cuBLAS: C^T = op(B)^T op(A)^T, the operands swapped (see ColumnMajorGemm),
//   no transposed copies. FP32 math by default; -Dseq4j.cuda.tf32=true lets cuBLAS use TF32 tensor cores.
// - Ids and labels live on the device, where AbstractBackend cannot read them cheaply. The kernels that
//   index with them skip an id outside its range (writing a zero row, adding nothing, or ignoring the row)
//   and note it, with the offender at the lowest position (the same one every run), in a device error record.
//   The next synchronising call (item, copyOut, synchronize) reads that record and throws an
//   IndexOutOfBoundsException worded as the host check's ("embeddingForward: ids[2] = 13 is outside
//   [0, 13) ..."), for each operation that met one;
//   their results since the last synchronisation are wrong and should be discarded. With several threads, the
//   error is thrown to the thread whose call found it and, at its own next synchronising call, to every other
//   thread that queued that kernel since the record was last read (PendingIdChecks): never to nobody. A thread
//   that reads results another thread queued should let that thread synchronise first, as with any GPU work.
// - Safe to share, as Backend promises: every kernel call holds the backend's lock while it sets its host
//   scalars, stages copies and queues work on the one stream, so calls from several threads run one after
//   another in some order, each exactly as it would alone. Any thread may use it (a model built on one
//   thread and trained on another): every call makes the backend's device (-Dseq4j.cuda.device, default 0)
//   current on the calling thread first, as CUDA keeps it per thread.
package org.seq4j.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.seq4j.bindings.cuda.seq4j_cuda_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.seq4j.backend.AbstractBackend;
import org.seq4j.backend.BackendUnavailableException;
import org.seq4j.backend.Transpose;
import org.seq4j.backend.internal.DeviceMemory;
import org.seq4j.bindings.cublas.cublas_h;
import org.seq4j.bindings.cudart.cudart_h;
import org.seq4j.tensor.DType;
import org.seq4j.tensor.Device;
import org.seq4j.tensor.Tensor;

public final class CudaBackend extends AbstractBackend {

    /** Bytes of the largest cudaDeviceProp of any CUDA version, with room to spare; only its name (first) is read. */
    private static final long DEVICE_PROP_BYTES = 8192;

    /** Each thread's int for cudaGetDevice to write into (freed with the thread's ThreadLocal). */
    private static final ThreadLocal<MemorySegment> DEVICE_OUT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(JAVA_INT));

    private final int deviceIndex;
    /** The -Dseq4j.cuda.* options, read and checked at construction. */
    private final CudaOptions options = CudaOptions.fromProperties();
    /** -Dseq4j.cuda.sync=true: wait after every kernel and cuBLAS call, to pin a fault to its op. */
    private final boolean syncEveryLaunch = options.sync();
    private final CudaLibraries.Location libraries;
    private final Arena arena;   // host-side holders, freed on close
    private MemorySegment stream = MemorySegment.NULL;
    private MemorySegment cublas = MemorySegment.NULL;
    private DevicePool pool;
    private String description;

    // host scalars for cuBLAS (pointer mode host: read before the call returns) and out-parameters
    private final MemorySegment alpha;
    private final MemorySegment beta;
    private final MemorySegment outPointer;
    private final MemorySegment outInt;
    /** Out-parameters of the pointer queries (DevicePointers) of memory the backend did not allocate. */
    private final MemorySegment pointerAttributes;
    private final MemorySegment pointerRange;

    // pinned host memory: result slots (item at 0, the error record at ERRORS_AT) and the staging ring for copies
    private MemorySegment slots = MemorySegment.NULL;
    private StagingRing ring;
    /** How often the host waited for the stream (synchronisations and full staging rings), for tests. */
    private long hostWaits;

    // device memory owned by the backend: the id error record and scratch for the reductions
    private long errorWord;
    private final long errorBytes;   // set once the libraries are loaded: the bindings' first use
    private static final long ERRORS_AT = 16;
    private ScratchBlock scratch;

    /**
     * Per thread, the id-checking kernels (bit k of SEQ4J_CUDA_ERR_*) queued since the error record was last read,
     * and by which public operations: the error message names them, an error found by one thread's synchronising
     * call is owed to the others that queued that kernel; none queued anywhere, and a synchronising call skips
     * reading the record.
     */
    private final PendingIdChecks pendingIds = new PendingIdChecks(ID_CHECKS.size(), ID_OPERATIONS);
    /** Closed, or the CUDA context dead after a kernel's fault: every call that queues or waits asks it first. */
    private final ContextHealth health = new ContextHealth("cuda", Cuda::isStickyFault, Cuda::errorName);

    /**
     * The GPU named by -Dseq4j.cuda.device (default 0).
     *
     * @throws BackendMisconfiguredException if a -Dseq4j.cuda.* option is not a value it takes (README, CUDA options)
     */
    public CudaBackend() {
        this(CudaOptions.fromProperties().device());
    }

    /**
     * A backend on GPU {@code device}. Throws BackendUnavailableException saying precisely why where the
     * driver, a GPU, the CUDA runtime, cuBLAS or the seq4j kernels are missing.
     */
    public CudaBackend(int device) {
        this(device, Optional.empty());
    }

    /**
     * A backend on GPU {@code device} whose CUDA runtime and cuBLAS come from {@code libraries} where it names a
     * folder (BackendConfig's {@code "cuda"} library), else from the usual search (SEQ4J_CUDA_LIBS, the loader's
     * path, the CUDA toolkit, pip's wheels). Throws BackendUnavailableException as {@link #CudaBackend(int)} does,
     * and where the folder lacks them or this JVM loaded them from elsewhere.
     */
    public CudaBackend(int device, Optional<Path> libraries) {
        java.util.Objects.requireNonNull(libraries, "CudaBackend: libraries is null (Optional.empty() for the usual search)");
        this.deviceIndex = device;
        this.libraries = CudaLibraries.load(libraries); // throws, with the reason, before anything is allocated
        this.errorBytes = (long) SEQ4J_CUDA_ERROR_INTS() * Integer.BYTES;
        this.arena = Arena.ofShared();
        this.alpha = arena.allocate(JAVA_FLOAT);
        this.beta = arena.allocate(JAVA_FLOAT);
        this.outPointer = arena.allocate(ADDRESS);
        this.outInt = arena.allocate(JAVA_INT);
        this.pointerAttributes = arena.allocate(DevicePointers.ATTRIBUTES_BYTES, 8);
        this.pointerRange = arena.allocate(2 * Long.BYTES, 8);
        try {
            open();
        } catch (RuntimeException e) {
            release();
            throw e instanceof BackendUnavailableException bue ? bue
                    : new BackendUnavailableException("CUDA initialisation failed on device " + device + ": "
                            + e.getMessage(), e);
        }
    }

    private void open() {
        int status = cudart_h.cudaGetDeviceCount(outInt);
        if (status != 0) {
            throw new BackendUnavailableException("cudaGetDeviceCount: " + Cuda.errorName(status) + " ("
                    + Cuda.errorString(status) + "); " + versions() + ", runtime loaded from " + libraries.cudart());
        }
        int count = outInt.get(JAVA_INT, 0);
        if (count == 0) {
            throw new BackendUnavailableException("cudaGetDeviceCount: no CUDA device visible (" + versions() + ")");
        }
        if (deviceIndex < 0 || deviceIndex >= count) {
            throw new BackendUnavailableException("-Dseq4j.cuda.device=" + deviceIndex + " but only " + count
                    + " CUDA device(s) are visible (0.." + (count - 1) + ")");
        }
        useDevice(deviceIndex);

        check(cudart_h.cudaStreamCreate(outPointer), "cudaStreamCreate");
        stream = outPointer.get(ADDRESS, 0);
        checkBlas(cublas_h.cublasCreate_v2(outPointer), "cublasCreate_v2");
        cublas = outPointer.get(ADDRESS, 0);
        checkBlas(cublas_h.cublasSetStream_v2(cublas, stream), "cublasSetStream_v2");
        boolean tf32 = options.tf32();
        checkBlas(cublas_h.cublasSetMathMode(cublas,
                tf32 ? cublas_h.CUBLAS_TF32_TENSOR_OP_MATH() : cublas_h.CUBLAS_DEFAULT_MATH()), "cublasSetMathMode");

        MemorySegment free = arena.allocate(JAVA_LONG), total = arena.allocate(JAVA_LONG);
        check(cudart_h.cudaMemGetInfo(free, total), "cudaMemGetInfo");
        // the pool keeps at most a quarter of the GPU's memory in unused blocks (-Dseq4j.cuda.poolCacheBytes)
        long cacheCap = options.poolCacheBytes() >= 0 ? options.poolCacheBytes() : total.get(JAVA_LONG, 0) / 4;
        pool = new DevicePool(new DevicePool.Allocator() {
            @Override
            public long malloc(long bytes) {
                int st = cudart_h.cudaMalloc(outPointer, bytes);
                if (st == cudart_h.cudaErrorMemoryAllocation()) {
                    cudart_h.cudaGetLastError();   // clear it: the pool frees its cache and tries again
                    return 0;
                }
                check(st, "cudaMalloc(" + bytes + " bytes)");
                long p = outPointer.get(ADDRESS, 0).address();
                DeviceMemory.add(p, bytes);   // host copies refuse it as host memory (AbstractBackend.hostSegment)
                return p;
            }

            @Override
            public void free(long pointer) {
                // may run from an arena's close on another thread, or after the context is gone (JVM exit):
                // the status is ignored, there is nothing left to free then. The closing thread's own device is
                // put back afterwards: an application thread working on another GPU that closes an arena of this
                // backend's tensors would otherwise go on, unknowingly, on this backend's device
                MemorySegment was = DEVICE_OUT.get();
                boolean known = cudart_h.cudaGetDevice(was) == 0;
                int previous = was.get(JAVA_INT, 0);
                DeviceMemory.remove(pointer);
                cudart_h.cudaSetDevice(deviceIndex);
                cudart_h.cudaFree(MemorySegment.ofAddress(pointer));
                if (known && previous != deviceIndex) {
                    cudart_h.cudaSetDevice(previous);
                }
            }
        }, cacheCap);
        ring = new StagingRing(new StagingRing.Host() {
            @Override
            public MemorySegment allocatePinned(long bytes) {
                return pinned(bytes);
            }

            @Override
            public void freePinned(MemorySegment block) {
                check(cudart_h.cudaFreeHost(block), "cudaFreeHost");
            }

            @Override
            public long newEvent() {
                check(cudart_h.cudaEventCreateWithFlags(outPointer, cudart_h.cudaEventDisableTiming()),
                        "cudaEventCreateWithFlags");
                return outPointer.get(ADDRESS, 0).address();
            }

            @Override
            public void record(long event) {
                check(cudart_h.cudaEventRecord(MemorySegment.ofAddress(event), stream), "cudaEventRecord");
            }

            @Override
            public boolean isDone(long event) {
                int st = cudart_h.cudaEventQuery(MemorySegment.ofAddress(event));
                if (st == cudart_h.cudaErrorNotReady()) {
                    // "not ready" is also left as the thread's last error: clear it, or the next launch status
                    // read on this thread (cudaGetLastError) reports it as that kernel's failure
                    cudart_h.cudaGetLastError();
                    return false;
                }
                check(st, "cudaEventQuery");
                return true;
            }

            @Override
            public void await(long event) {
                hostWaits++;
                check(cudart_h.cudaEventSynchronize(MemorySegment.ofAddress(event)), "cudaEventSynchronize");
            }

            @Override
            public void destroyEvent(long event) {
                cudart_h.cudaEventDestroy(MemorySegment.ofAddress(event));
            }
        }, CudaOptions.STAGING_START, options.stagingBytes());
        scratch = new ScratchBlock(pool);
        errorWord = pool.acquire(errorBytes);
        check(cudart_h.cudaMemsetAsync(MemorySegment.ofAddress(errorWord), 0, errorBytes, stream), "cudaMemsetAsync");
        slots = pinned(ERRORS_AT + errorBytes);
        description = describe(tf32);
        synchronize();
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String description() {
        return description;
    }

    /** The device memory the backend's pool holds (live tensors and cache) and how often it allocated. */
    public DevicePool.Stats memoryStats() {
        return pool.stats();
    }

    /** Returns the pool's cached blocks to the device (e.g. before another library needs the memory). */
    public synchronized void trimMemory() {
        health.require("trimMemory: backend cuda is closed");
        synchronize();
        pool.trim();
    }

    /** How often the host has waited for this backend's stream so far (the ring's waits included). */
    long hostWaits() {
        return hostWaits;
    }

    /** What the pinned staging ring did: its size, how often it waited and grew. */
    StagingRing.Stats stagingStats() {
        return ring.stats();
    }

    // ---- the device on the calling thread, launch statuses ---------------------------------------------

    /**
     * Makes {@code device} current on the calling thread where it is not. The thread's device is asked of the runtime
     * at every call, not remembered: other CUDA code on the same thread (another library, the application) may have
     * set another one since, and this backend's allocations and launches would then go to that device. A virtual
     * thread asks too, as it may run on a different carrier at every call. The device stays current afterwards (as
     * after cudaSetDevice).
     */
    static void useDevice(int device) {
        Cuda.check(makeCurrent(device), "cudaSetDevice(" + device + ")");
    }

    /** useDevice's work: 0 where {@code device} is current or was made so, else cudaSetDevice's status. */
    private static int makeCurrent(int device) {
        MemorySegment out = DEVICE_OUT.get();
        if (cudart_h.cudaGetDevice(out) != 0 || out.get(JAVA_INT, 0) != device) {
            return cudart_h.cudaSetDevice(device);
        }
        return 0;
    }

    /** useDevice(deviceIndex), its failure checked as every other status of the open backend (a fault latched). */
    private void useOurDevice() {
        check(makeCurrent(deviceIndex), "cudaSetDevice(" + deviceIndex + ")");
    }

    /** The stream, after making the device current on this thread: every queued call passes through here. */
    private MemorySegment stream() {
        openUnderLock();
        useOurDevice();
        return stream;
    }

    /** The cuBLAS handle, after making the device current on this thread. */
    private MemorySegment blas() {
        openUnderLock();
        useOurDevice();
        return cublas;
    }

    /**
     * AbstractBackend checks that the backend is open before a kernel's lock is taken: a close() on another thread
     * in between would leave this call a released stream (the legacy default stream), no cuBLAS handle and no error
     * record (its kernels would write a bad id's report to address 0). Checked again here, under the lock closeK
     * takes too. Every kernel, copy and wait reaches its stream or handle through these two. Also refuses every call
     * once a kernel's fault killed the CUDA context (ContextHealth).
     */
    private void openUnderLock() {
        health.require("backend cuda is closed (by another thread, while this call waited for it)");
    }

    // ---- statuses: every failure of the open backend passes through these, which latch a sticky fault --------------

    /** "" or, where {@code status} is a sticky fault (now latched), what the exception adds: the context is dead. */
    private String latch(int status, String function) {
        return health.observe(status, function) ? ContextHealth.firstSeenSuffix() : "";
    }

    /** Throws unless {@code status} (a cudaError_t) is cudaSuccess, as Cuda.check, latching a sticky fault. */
    private void check(int status, String function) {
        if (status != 0) {
            throw new CudaException(function, status, Cuda.errorName(status),
                    Cuda.errorString(status) + latch(status, function));
        }
    }

    /**
     * Throws unless {@code status} (a cublasStatus_t) is success. cuBLAS answers a dead context with a status of its own
     * (CUBLAS_STATUS_EXECUTION_FAILED), blaming this call for an earlier kernel's fault: so on failure the stream is
     * asked (a wait, on this failure path only) and a sticky fault is reported, and latched, as what it is.
     */
    private void checkBlas(int status, String function) {
        if (status == cublas_h.CUBLAS_STATUS_SUCCESS()) {
            return;
        }
        int context = stream.equals(MemorySegment.NULL) ? 0 : cudart_h.cudaStreamSynchronize(stream);
        if (context != 0 && Cuda.isStickyFault(context)) {
            throw new CudaException(function + ": failed with " + Cuda.string(cublas_h.cublasGetStatusName(status),
                    "cuBLAS status " + status) + " because the CUDA context had faulted", context,
                    Cuda.errorName(context), Cuda.errorString(context) + "; a kernel queued earlier faulted, not this"
                            + " call" + latch(context, function));
        }
        if (context != 0) {
            cudart_h.cudaGetLastError();   // not the context's death: leave no stale status for the next launch
        }
        Cuda.checkBlas(status, function);
    }

    /** Checks a kernel's launch status (the entry point read it right after its launches). */
    private void launched(int status, String function) {
        if (status != 0) {
            Cuda.checkLaunch(status, function, latch(status, function));
        }
        if (syncEveryLaunch) {
            waitForLaunch(function);
        }
    }

    /** Checks a cuBLAS call's status. */
    private void blasLaunched(int status, String function) {
        checkBlas(status, function);
        if (syncEveryLaunch) {
            waitForLaunch(function);
        }
    }

    /** -Dseq4j.cuda.sync=true: waits for the kernel just queued, so that its fault, or bad id, is named as its own. */
    private void waitForLaunch(String function) {
        int st = cudart_h.cudaStreamSynchronize(stream);
        hostWaits++;
        if (st != 0) {
            throw new CudaException(function + " (waited for right after its launch: -Dseq4j.cuda.sync=true)", st,
                    Cuda.errorName(st), Cuda.errorString(st) + latch(st, function));
        }
        ring.drained();
        synchronizeAndCheckIds();
    }

    private String describe(boolean tf32) {
        MemorySegment prop = arena.allocate(DEVICE_PROP_BYTES);
        check(cudart_h.cudaGetDeviceProperties(prop, deviceIndex), "cudaGetDeviceProperties");
        String gpu = prop.getString(0);   // char name[256] is the first field in every CUDA version
        int major = attribute(cudart_h.cudaDevAttrComputeCapabilityMajor());
        int minor = attribute(cudart_h.cudaDevAttrComputeCapabilityMinor());
        int sms = attribute(cudart_h.cudaDevAttrMultiProcessorCount());
        MemorySegment free = arena.allocate(JAVA_LONG), total = arena.allocate(JAVA_LONG);
        check(cudart_h.cudaMemGetInfo(free, total), "cudaMemGetInfo");
        checkBlas(cublas_h.cublasGetVersion_v2(cublas, outInt), "cublasGetVersion_v2");
        int blas = outInt.get(JAVA_INT, 0);
        return String.format("%s (device %d, compute %d.%d, %d SMs, %.1f GiB); %s, cuBLAS %d.%d.%d%s; %s",
                gpu, deviceIndex, major, minor, sms, total.get(JAVA_LONG, 0) / (double) (1L << 30), versions(),
                blas / 10000, blas / 100 % 100, blas % 100, tf32 ? " (TF32 allowed)" : "",
                Cuda.string(seq4j_cuda_info(), "seq4j_cuda"));
    }

    private int attribute(int attr) {
        check(cudart_h.cudaDeviceGetAttribute(outInt, attr, deviceIndex), "cudaDeviceGetAttribute(" + attr + ")");
        return outInt.get(JAVA_INT, 0);
    }

    /** "driver 13.0 (CUDA), runtime 13.0": what the driver supports and what the runtime is. */
    private String versions() {
        String driver = cudart_h.cudaDriverGetVersion(outInt) == 0 ? cudaVersion(outInt.get(JAVA_INT, 0)) : "?";
        String runtime = cudart_h.cudaRuntimeGetVersion(outInt) == 0 ? cudaVersion(outInt.get(JAVA_INT, 0)) : "?";
        return "driver supports CUDA " + driver + ", runtime " + runtime;
    }

    private static String cudaVersion(int v) {
        return v == 0 ? "none (no driver)" : v / 1000 + "." + v % 1000 / 10;
    }

    private MemorySegment pinned(long bytes) {
        check(cudart_h.cudaMallocHost(outPointer, bytes), "cudaMallocHost(" + bytes + " bytes)");
        return outPointer.get(ADDRESS, 0).reinterpret(bytes);
    }

    // ---- memory ----------------------------------------------------------------------------------------

    /**
     * Refuses, with an IllegalArgumentException naming op and the tensor, a CUDA tensor that this backend did not
     * allocate (Tensor.wrap of memory from elsewhere: AbstractBackend already refused another backend's) unless it is
     * GPU memory this backend's kernels may use (DevicePointers.deviceProblem): host memory tagged CUDA would be an
     * illegal address on the device, which kills the CUDA context. Tensors from allocate, and their views, cost one
     * comparison each (the varargs array does not escape); a wrapped one costs a runtime and a driver query per call.
     * {@code names} are the tensors' argument names, separated by spaces; a null tensor (an optional one) is skipped.
     */
    private void onDevice(String op, String names, Tensor... tensors) {
        for (int i = 0; i < tensors.length; i++) {
            Tensor t = tensors[i];
            if (t != null && t.owner() != this && t.byteSize() > 0) {
                wrappedOnDevice(op, names.split(" ")[i], t);
            }
        }
    }

    private void wrappedOnDevice(String op, String name, Tensor t) {
        stream();   // open, and the device current: the runtime answers for the calling thread's context
        long address = t.segment().address();
        DevicePointers.Attributes a = pointerAttributes(address, op);
        boolean onGpu = a.status() == 0 && (a.type() == DevicePointers.DEVICE || a.type() == DevicePointers.MANAGED);
        DevicePointers.Range range = onGpu ? DevicePointers.range(pointerRange, address).orElse(null) : null;
        String why = DevicePointers.deviceProblem(a, range, address, t.byteSize(), deviceIndex, Cuda::errorName);
        if (why != null) {
            throw new IllegalArgumentException(op + ": " + name + " " + t + " " + why);
        }
    }

    /**
     * cudaPointerGetAttributes of {@code address}. A failure that is not the context's death (an address the runtime
     * does not know) is cleared from the thread's last error and returned, for the caller to judge; a sticky one
     * throws (and is latched) as every other status.
     */
    private DevicePointers.Attributes pointerAttributes(long address, String op) {
        DevicePointers.Attributes a = DevicePointers.attributes(pointerAttributes, address);
        if (a.status() != 0) {
            if (Cuda.isStickyFault(a.status())) {
                check(a.status(), "cudaPointerGetAttributes (" + op + ")");
            }
            cudart_h.cudaGetLastError();
        }
        return a;
    }

    /**
     * Refuses a host segment of copyIn or copyOut that is device memory (e.g. another CUDA tensor's segment()): the
     * copy would read or write a device address on the host, a SIGSEGV. Costs one runtime query per call with a native
     * segment (the caller's; a Java array, copyIn(float[]) and the like, needs none).
     */
    private void hostMemory(String op, String name, MemorySegment s) {
        if (!s.isNative() || s.byteSize() == 0) {
            return;
        }
        String why = DevicePointers.hostProblem(pointerAttributes(s.address(), op), op);
        if (why != null) {
            throw new IllegalArgumentException(op + ": " + name + " " + s + " " + why);
        }
    }

    @Override
    protected synchronized Tensor allocateK(Arena owner, DType dtype, int[] shape) {
        long bytes = Tensor.byteSizeOf(dtype, shape); // exact (AbstractBackend.allocate checked it fits a long)
        // first: the arena's own check (another thread's confined arena throws WrongThreadException, which allocate
        // reports), before the pool hands out a block that nothing would release
        MemorySegment empty = MemorySegment.NULL.reinterpret(0, owner, null);
        if (bytes == 0) {
            return Tensor.wrap(empty, dtype, Device.CUDA, shape).ownedBy(this);
        }
        MemorySegment onStream = stream();   // the device current before the pool allocates on it
        long p = pool.acquire(bytes);
        DevicePool pool = this.pool;
        MemorySegment device;
        try {
            device = MemorySegment.ofAddress(p).reinterpret(bytes, owner, s -> pool.release(p, bytes));
        } catch (RuntimeException e) {   // the arena closed by another thread since the check above: nothing owns p
            pool.release(p, bytes);
            throw e;
        }
        check(cudart_h.cudaMemsetAsync(device, 0, bytes, onStream), "cudaMemsetAsync");
        return Tensor.wrap(device, dtype, Device.CUDA, shape).ownedBy(this);   // this stream orders its writes
    }

    @Override
    protected synchronized void copyK(Tensor dst, Tensor src) {
        onDevice("copy", "dst src", dst, src);
        if (src.byteSize() > 0) {
            check(cudart_h.cudaMemcpyAsync(dst.segment(), src.segment(), src.byteSize(),
                    cudart_h.cudaMemcpyDeviceToDevice(), stream()), "cudaMemcpyAsync(device to device)");
        }
    }

    @Override
    protected synchronized void copyInK(Tensor dst, MemorySegment src) {
        onDevice("copyIn", "dst", dst);
        long bytes = src.byteSize();
        MemorySegment s = stream();
        hostMemory("copyIn", "src", src);
        // through the pinned ring, in slices: no wait for the device, and the caller may reuse src at once
        for (long done = 0; done < bytes; ) {
            long n = Math.min(bytes - done, ring.maxSlice());
            MemorySegment slice = ring.reserve(n);
            MemorySegment.copy(src, done, slice, 0, n);
            queueThroughRing(cudart_h.cudaMemcpyAsync(dst.segment().asSlice(done, n), slice,
                    n, cudart_h.cudaMemcpyHostToDevice(), s), "cudaMemcpyAsync(host to device)");
            done += n;
        }
    }

    @Override
    protected synchronized void copyOutK(MemorySegment dst, Tensor src) {
        onDevice("copyOut", "src", src);
        long bytes = src.byteSize();
        MemorySegment s = stream();
        hostMemory("copyOut", "dst", dst);
        if (dst.isNative() || bytes == 0) {
            if (bytes > 0) {
                check(cudart_h.cudaMemcpyAsync(dst, src.segment(), bytes, cudart_h.cudaMemcpyDeviceToHost(), s),
                        "cudaMemcpyAsync(device to host)");
            }
            synchronizeAndCheckIds();
            return;
        }
        // a Java array: native code cannot write the heap, so through the pinned ring, one wait per slice
        for (long done = 0; done < bytes; ) {
            long n = Math.min(bytes - done, ring.maxSlice());
            MemorySegment slice = ring.reserve(n);
            queueThroughRing(cudart_h.cudaMemcpyAsync(slice, src.segment().asSlice(done, n),
                    n, cudart_h.cudaMemcpyDeviceToHost(), s), "cudaMemcpyAsync(device to host)");
            synchronizeAndCheckIds();
            MemorySegment.copy(slice, 0, dst, done, n);
            done += n;
        }
    }

    /** Checks the status of a copy to or from the ring's last slice: marks the slice in use, or gives it up. */
    private void queueThroughRing(int status, String function) {
        if (status != 0) {
            ring.cancel();
            check(status, function);
        }
        ring.queued();
    }

    @Override
    protected synchronized float itemK(Tensor x, long index) {
        onDevice("item", "x", x);
        // a slice, not ofAddress: the downcall then holds the tensor's arena open (FFM refuses it once closed by
        // another thread), where a bare address read whatever block the pool had handed out since
        MemorySegment element = x.segment().asSlice(index * Float.BYTES, Float.BYTES);
        check(cudart_h.cudaMemcpyAsync(slots, element, Float.BYTES, cudart_h.cudaMemcpyDeviceToHost(), stream()),
                "cudaMemcpyAsync(device to host)");
        synchronizeAndCheckIds();
        return slots.get(JAVA_FLOAT, 0);
    }

    @Override
    public synchronized void synchronize() {
        // asked here, under the lock close takes too: a closed backend is closed, whoever closed it (the "another
        // thread" of openUnderLock is only true of the calls AbstractBackend checked before taking the lock)
        health.require("synchronize: backend cuda is closed");
        stream();
        synchronizeAndCheckIds();
    }

    /**
     * Device scratch of at least {@code bytes} for the reductions; one user at a time, in stream order. Makes the
     * backend's device current first (through stream()), as allocateK does: a kernel's arguments are evaluated before
     * its own stream() argument, and on a thread whose first call this is, cudaMalloc would otherwise allocate the
     * scratch on that thread's current device (0), not on the backend's.
     */
    private MemorySegment scratch(long bytes) {
        stream();
        return MemorySegment.ofAddress(scratch.at(bytes));
    }

    private long reduceScratchBytes() {
        return (long) SEQ4J_CUDA_REDUCE_BLOCKS() * Double.BYTES;
    }

    // ---- device-side id checks ---------------------------------------------------------------------------

    /**
     * Ids on the device are checked by the kernels themselves; remember which ones to ask about. AbstractBackend calls
     * this before the kernel method, in a separate hold of the lock: the kernel is marked queued by the kernel method
     * itself (idCheckQueued, under the lock it launches under), so that no other thread's synchronising call can
     * settle it before it runs (see PendingIdChecks.announce).
     */
    @Override
    protected synchronized void checkDeviceIds(String op, String name, Tensor ids, int bound, boolean allowIgnore) {
        idCheckBit(op, name);   // throws for an operation without a device-side check
        pendingIds.announce(Thread.currentThread(), op);
    }

    /** Marks the id-checking kernel with error bit {@code bit}, about to be queued by op, as queued (under the lock). */
    private void idCheckQueued(int bit, String op) {
        pendingIds.launching(Thread.currentThread(), Integer.numberOfTrailingZeros(bit), op);
    }

    /** The SEQ4J_CUDA_ERR_* bit of the kernel that checks op's ids (every one of ID_OPERATIONS has one). */
    static int idCheckBit(String op, String name) {
        return switch (op) {
            // the gathered lstmSequenceForward runs AbstractBackend's default here: embeddingForwardK first
            case "embeddingForward", "lstmSequenceForward" -> SEQ4J_CUDA_ERR_EMBEDDING_FORWARD();
            case "embeddingBackward" -> SEQ4J_CUDA_ERR_EMBEDDING_BACKWARD();
            case "softmaxCrossEntropyForward" -> SEQ4J_CUDA_ERR_XENT_FORWARD();
            case "softmaxCrossEntropyBackward" -> SEQ4J_CUDA_ERR_XENT_BACKWARD();
            default -> throw new IllegalStateException(op + ": no device-side check of " + name + " is known");
        };
    }

    /** AbstractBackend's operations that check ids (for the test that idCheckBit knows them all). */
    static Set<String> idOperations() {
        return ID_OPERATIONS;
    }

    /**
     * Waits for the stream; if id-checking kernels ran since the last look, reads the error record too, and throws
     * what it reports (PendingIdChecks says to whom), with any error found for this thread by another's call.
     */
    private void synchronizeAndCheckIds() {
        boolean read = pendingIds.anyQueued();
        MemorySegment record = read ? slots.asSlice(ERRORS_AT, errorBytes) : null;
        if (read) {
            check(cudart_h.cudaMemcpyAsync(record, MemorySegment.ofAddress(errorWord), errorBytes,
                    cudart_h.cudaMemcpyDeviceToHost(), stream), "cudaMemcpyAsync(error record)");
        }
        int st = cudart_h.cudaStreamSynchronize(stream);
        hostWaits++;
        if (st != 0) {
            Cuda.checkSynchronize(st, "cudaStreamSynchronize", syncEveryLaunch, latch(st, "cudaStreamSynchronize"));
        }
        ring.drained();
        int errorBits = read ? record.get(JAVA_INT, 0) : 0;
        if (errorBits != 0) {
            check(cudart_h.cudaMemsetAsync(MemorySegment.ofAddress(errorWord), 0, errorBytes, stream),
                    "cudaMemsetAsync(error record)");
        }
        // the message (its arrays, the lambda) only when there is an error: no allocation on a step's every sync
        String message = errorBits == 0 ? pendingIds.settle(Thread.currentThread(), 0, null)
                : pendingIds.settle(Thread.currentThread(), errorBits,
                        callers -> idErrorMessage(record.toArray(JAVA_INT), callers));
        if (message != null) {
            throw new IndexOutOfBoundsException(message);
        }
    }

    /** The kernels with an id check, by bit k of the error record: operation, argument, whether -1 is allowed. */
    private record IdCheck(String op, String name, boolean allowIgnore, String consequence) {
    }

    private static final List<IdCheck> ID_CHECKS = List.of(
            new IdCheck("embeddingForward", "ids", false, "its output row was set to 0"),
            new IdCheck("embeddingBackward", "ids", false, "its gradient row was dropped"),
            new IdCheck("softmaxCrossEntropyForward", "labels", true, "its row was left out of the loss"),
            new IdCheck("softmaxCrossEntropyBackward", "labels", true, "its gradient row was set to 0"));

    /**
     * The exception message for an error record (SEQ4J_CUDA_ERROR_INTS ints: the bits, then per kernel k
     * {claimed, value, position, bound}), worded as AbstractBackend's host check, one sentence per kernel.
     */
    static String idErrorMessage(int[] record) {
        return idErrorMessage(record, List.of());
    }

    /**
     * As {@link #idErrorMessage(int[])}, naming for kernel k the operations in callers.get(k) (those that queued it
     * since the last look: lstmSequenceForward gathers with the embedding kernel) where there are any.
     */
    static String idErrorMessage(int[] record, List<Set<String>> callers) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < ID_CHECKS.size(); k++) {
            if ((record[0] & (1 << k)) == 0) {
                continue;
            }
            IdCheck c = ID_CHECKS.get(k);
            String op = k < callers.size() && !callers.get(k).isEmpty() ? String.join(" or ", callers.get(k)) : c.op();
            int value = record[2 + 4 * k], position = record[3 + 4 * k], bound = record[4 + 4 * k];
            parts.add(op + ": " + c.name() + "[" + position + "] = " + value + " is outside [0, " + bound + ")"
                    + (c.allowIgnore() ? " and is not the ignore label -1" : "")
                    + (c.name().equals("labels") ? " (the vocabulary size)" : " (the number of rows of the table)")
                    + "; found on the GPU, " + c.consequence());
        }
        return String.join("; ", parts) + ". Reported at the first synchronising call after it: the results of "
                + "these calls since the previous one are wrong.";
    }

    // ---- elementwise -----------------------------------------------------------------------------------

    @Override
    protected synchronized void fillK(Tensor x, float value) {
        onDevice("fill", "x", x);
        if (Float.floatToRawIntBits(value) == 0) {   // 0.0f and int 0 are all-zero bytes: a memset
            if (x.byteSize() > 0) {
                check(cudart_h.cudaMemsetAsync(x.segment(), 0, x.byteSize(), stream()), "cudaMemsetAsync");
            }
        } else if (x.dtype() == DType.I32) {
            launched(seq4j_cuda_fill_i32(x.segment(), x.size(), (int) value, stream()), "seq4j_cuda_fill_i32");
        } else {
            launched(seq4j_cuda_fill_f32(x.segment(), x.size(), value, stream()), "seq4j_cuda_fill_f32");
        }
    }

    @Override
    protected synchronized void scaleK(Tensor x, float a) {
        onDevice("scale", "x", x);
        launched(seq4j_cuda_scale(x.segment(), x.size(), a, stream()), "seq4j_cuda_scale");
    }

    @Override
    protected synchronized void addScaledK(Tensor y, Tensor x, float alpha) {
        onDevice("addScaled", "y x", y, x);
        launched(seq4j_cuda_axpy(y.segment(), x.segment(), y.size(), alpha, stream()), "seq4j_cuda_axpy");
    }

    @Override
    protected synchronized void mulK(Tensor out, Tensor a, Tensor b) {
        onDevice("mul", "out a b", out, a, b);
        launched(seq4j_cuda_mul(out.segment(), a.segment(), b.segment(), out.size(), stream()), "seq4j_cuda_mul");
    }

    @Override
    protected synchronized void swapAxes01K(Tensor out, Tensor in, int n, int t, int f) {
        onDevice("swapAxes01", "out in", out, in);
        launched(seq4j_cuda_swap_axes01(out.segment(), in.segment(), n, t, f, stream()), "seq4j_cuda_swap_axes01");
    }

    @Override
    protected synchronized void concatColumnsK(Tensor out, Tensor a, Tensor b, int m, int f1, int f2) {
        onDevice("concatColumns", "out a b", out, a, b);
        launched(seq4j_cuda_concat_columns(out.segment(), a.segment(), b.segment(), m, f1, f2, stream()),
                "seq4j_cuda_concat_columns");
    }

    @Override
    protected synchronized void splitColumnsK(Tensor da, Tensor db, Tensor dout, int m, int f1, int f2) {
        onDevice("splitColumns", "da db dout", da, db, dout);
        launched(seq4j_cuda_split_columns(da.segment(), db.segment(), dout.segment(), m, f1, f2, stream()),
                "seq4j_cuda_split_columns");
    }

    // ---- BLAS ------------------------------------------------------------------------------------------

    @Override
    protected synchronized void gemmK(Transpose transA, Transpose transB, int m, int n, int k,
                         float alphaValue, Tensor a, int lda, Tensor b, int ldb, float betaValue, Tensor c, int ldc) {
        onDevice("gemm", "a b c", a, b, c);
        ColumnMajorGemm g = ColumnMajorGemm.of(transA, transB, m, n, k, lda, ldb, ldc);
        alpha.set(JAVA_FLOAT, 0, alphaValue);
        beta.set(JAVA_FLOAT, 0, betaValue);
        blasLaunched(cublas_h.cublasSgemm_v2(blas(), op(g.transFirst()), op(g.transSecond()), g.m(), g.n(), g.k(),
                alpha, b.segment(), g.ldFirst(), a.segment(), g.ldSecond(), beta, c.segment(), g.ldc()),
                "cublasSgemm_v2");
    }

    @Override
    protected synchronized void gemmStridedBatchedK(Transpose transA, Transpose transB, int m, int n, int k,
                                       float alphaValue, Tensor a, int lda, long strideA, Tensor b, int ldb,
                                       long strideB, float betaValue, Tensor c, int ldc, long strideC, int batch) {
        onDevice("gemmStridedBatched", "a b c", a, b, c);
        ColumnMajorGemm g = ColumnMajorGemm.of(transA, transB, m, n, k, lda, ldb, ldc);
        alpha.set(JAVA_FLOAT, 0, alphaValue);
        beta.set(JAVA_FLOAT, 0, betaValue);
        blasLaunched(cublas_h.cublasSgemmStridedBatched(blas(), op(g.transFirst()), op(g.transSecond()), g.m(), g.n(),
                g.k(), alpha, b.segment(), g.ldFirst(), strideB, a.segment(), g.ldSecond(), strideA, beta,
                c.segment(), g.ldc(), strideC, batch), "cublasSgemmStridedBatched");
    }

    private static int op(Transpose t) {
        return t.isTransposed() ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N();
    }

    @Override
    protected synchronized void addBiasK(Tensor y, Tensor b, int m, int n) {
        onDevice("addBias", "y b", y, b);
        launched(seq4j_cuda_add_bias(y.segment(), b.segment(), m, n, stream()), "seq4j_cuda_add_bias");
    }

    @Override
    protected synchronized void sumRowsK(Tensor out, Tensor x, float betaValue, int m, int n) {
        onDevice("sumRows", "out x", out, x);
        launched(seq4j_cuda_sum_rows(out.segment(), x.segment(), betaValue, m, n, stream()), "seq4j_cuda_sum_rows");
    }

    // ---- activations -----------------------------------------------------------------------------------

    @Override
    protected synchronized void sigmoidForwardK(Tensor y, Tensor x) {
        onDevice("sigmoidForward", "y x", y, x);
        launched(seq4j_cuda_sigmoid_forward(y.segment(), x.segment(), y.size(), stream()), "seq4j_cuda_sigmoid_forward");
    }

    @Override
    protected synchronized void sigmoidBackwardK(Tensor dx, Tensor y, Tensor dy) {
        onDevice("sigmoidBackward", "dx y dy", dx, y, dy);
        launched(seq4j_cuda_sigmoid_backward(dx.segment(), y.segment(), dy.segment(), dx.size(), stream()),
                "seq4j_cuda_sigmoid_backward");
    }

    @Override
    protected synchronized void tanhForwardK(Tensor y, Tensor x) {
        onDevice("tanhForward", "y x", y, x);
        launched(seq4j_cuda_tanh_forward(y.segment(), x.segment(), y.size(), stream()), "seq4j_cuda_tanh_forward");
    }

    @Override
    protected synchronized void tanhBackwardK(Tensor dx, Tensor y, Tensor dy) {
        onDevice("tanhBackward", "dx y dy", dx, y, dy);
        launched(seq4j_cuda_tanh_backward(dx.segment(), y.segment(), dy.segment(), dx.size(), stream()),
                "seq4j_cuda_tanh_backward");
    }

    @Override
    protected synchronized void softmaxForwardK(Tensor y, Tensor x, int m, int v) {
        onDevice("softmaxForward", "y x", y, x);
        launched(seq4j_cuda_softmax_forward(y.segment(), x.segment(), m, v, stream()), "seq4j_cuda_softmax_forward");
    }

    @Override
    protected synchronized void softmaxBackwardK(Tensor dx, Tensor y, Tensor dy, int m, int v) {
        onDevice("softmaxBackward", "dx y dy", dx, y, dy);
        launched(seq4j_cuda_softmax_backward(dx.segment(), y.segment(), dy.segment(), m, v, stream()),
                "seq4j_cuda_softmax_backward");
    }

    // ---- recurrent cells -------------------------------------------------------------------------------

    @Override
    protected synchronized void lstmCellForwardK(Tensor hNext, Tensor cNext, Tensor gates, Tensor cPrev, int n, int h) {
        onDevice("lstmCellForward", "hNext cNext gates cPrev", hNext, cNext, gates, cPrev);
        launched(seq4j_cuda_lstm_cell_forward(hNext.segment(), cNext.segment(), gates.segment(), cPrev.segment(), n, h,
                stream()), "seq4j_cuda_lstm_cell_forward");
    }

    @Override
    protected synchronized void lstmCellBackwardK(Tensor dA, Tensor dcPrev, Tensor gates, Tensor cNext, Tensor cPrev,
                                     Tensor dhNext, Tensor dhCarry, Tensor dcNext, int n, int h) {
        onDevice("lstmCellBackward", "dA dcPrev gates cNext cPrev dhNext dhCarry dcNext", dA, dcPrev, gates, cNext,
                cPrev, dhNext, dhCarry, dcNext);
        launched(seq4j_cuda_lstm_cell_backward(dA.segment(), dcPrev.segment(), gates.segment(), cNext.segment(),
                cPrev.segment(), dhNext.segment(), dhCarry == null ? MemorySegment.NULL : dhCarry.segment(),
                dcNext.segment(), n, h, stream()), "seq4j_cuda_lstm_cell_backward");
    }

    @Override
    protected synchronized void gruGatesForwardK(Tensor rh, Tensor gates, Tensor hPrev, int n, int h) {
        onDevice("gruGatesForward", "rh gates hPrev", rh, gates, hPrev);
        launched(seq4j_cuda_gru_gates_forward(rh.segment(), gates.segment(), hPrev.segment(), n, h, stream()),
                "seq4j_cuda_gru_gates_forward");
    }

    @Override
    protected synchronized void gruCellForwardK(Tensor hNext, Tensor gates, Tensor hPrev, int n, int h) {
        onDevice("gruCellForward", "hNext gates hPrev", hNext, gates, hPrev);
        launched(seq4j_cuda_gru_cell_forward(hNext.segment(), gates.segment(), hPrev.segment(), n, h, stream()),
                "seq4j_cuda_gru_cell_forward");
    }

    @Override
    protected synchronized void gruCellBackwardK(Tensor dA, Tensor gates, Tensor hPrev, Tensor dhNext, int n, int h) {
        onDevice("gruCellBackward", "dA gates hPrev dhNext", dA, gates, hPrev, dhNext);
        launched(seq4j_cuda_gru_cell_backward(dA.segment(), gates.segment(), hPrev.segment(), dhNext.segment(), n, h,
                stream()), "seq4j_cuda_gru_cell_backward");
    }

    @Override
    protected synchronized void gruGatesBackwardK(Tensor dA, Tensor dhPrev, Tensor gates, Tensor hPrev, Tensor dhNext,
                                     Tensor drh, int n, int h) {
        onDevice("gruGatesBackward", "dA dhPrev gates hPrev dhNext drh", dA, dhPrev, gates, hPrev, dhNext, drh);
        launched(seq4j_cuda_gru_gates_backward(dA.segment(), dhPrev.segment(), gates.segment(), hPrev.segment(),
                dhNext.segment(), drh.segment(), n, h, stream()), "seq4j_cuda_gru_gates_backward");
    }

    // ---- embedding -------------------------------------------------------------------------------------

    @Override
    protected synchronized void embeddingForwardK(Tensor out, Tensor W, Tensor ids, int m, int v, int d) {
        onDevice("embeddingForward", "out W ids", out, W, ids);
        idCheckQueued(SEQ4J_CUDA_ERR_EMBEDDING_FORWARD(), "embeddingForward");
        launched(seq4j_cuda_embedding_forward(out.segment(), MemorySegment.ofAddress(errorWord), W.segment(),
                ids.segment(), m, v, d, stream()), "seq4j_cuda_embedding_forward");
    }

    @Override
    protected synchronized void embeddingBackwardK(Tensor dW, Tensor ids, Tensor dout, int m, int v, int d) {
        onDevice("embeddingBackward", "dW ids dout", dW, ids, dout);
        idCheckQueued(SEQ4J_CUDA_ERR_EMBEDDING_BACKWARD(), "embeddingBackward");
        MemorySegment errors = MemorySegment.ofAddress(errorWord);
        int st = seq4j_cuda_embedding_backward(dW.segment(), errors, ids.segment(), dout.segment(), m, v, d, stream());
        if (st == cudart_h.cudaErrorMemoryAllocation()) {
            // its sort buffers come from CUDA's stream-ordered pool, not from ours, whose cache may hold what it needs:
            // nothing was queued, so free the cache (as the pool does for its own allocations) and call once more
            cudart_h.cudaGetLastError();
            pool.trim();
            st = seq4j_cuda_embedding_backward(dW.segment(), errors, ids.segment(), dout.segment(), m, v, d, stream());
            if (st == cudart_h.cudaErrorMemoryAllocation()) {
                cudart_h.cudaGetLastError();
                throw embeddingOutOfMemory(m, pool.stats().bytesInUse());
            }
        }
        launched(st, "seq4j_cuda_embedding_backward");
    }

    /**
     * embeddingBackward's sort buffers not to be had even after the pool's cache was freed: an OutOfMemoryError, as
     * the pool throws for every other device allocation (layers and models count on that type to stay whole), not
     * the CudaException of a failed call.
     */
    static OutOfMemoryError embeddingOutOfMemory(int m, long bytesInUse) {
        return new OutOfMemoryError("embeddingBackward: CUDA device memory exhausted: the sorted scatter-add of " + m
                + " rows needs 16 * " + m + " bytes and CUB's sort storage from CUDA's stream-ordered pool, with "
                + bytesInUse + " bytes in use by live tensors (the backend's pool cache was freed first)");
    }

    // ---- losses ----------------------------------------------------------------------------------------

    @Override
    protected synchronized void softmaxCrossEntropyForwardK(Tensor probs, Tensor loss, Tensor logits, Tensor labels, int m, int v) {
        onDevice("softmaxCrossEntropyForward", "probs loss logits labels", probs, loss, logits, labels);
        MemorySegment rowLoss = scratch((long) m * Double.BYTES);   // each row's loss in double, as the CPU's
        idCheckQueued(SEQ4J_CUDA_ERR_XENT_FORWARD(), "softmaxCrossEntropyForward");
        launched(seq4j_cuda_softmax_xent_forward(probs.segment(), loss.segment(), MemorySegment.ofAddress(errorWord),
                rowLoss, logits.segment(), labels.segment(), m, v, stream()), "seq4j_cuda_softmax_xent_forward");
    }

    @Override
    protected synchronized void softmaxCrossEntropyBackwardK(Tensor dlogits, Tensor probs, Tensor labels, float dloss, int m,
                                                int v) {
        onDevice("softmaxCrossEntropyBackward", "dlogits probs labels", dlogits, probs, labels);
        MemorySegment count = scratch(Integer.BYTES);
        idCheckQueued(SEQ4J_CUDA_ERR_XENT_BACKWARD(), "softmaxCrossEntropyBackward");
        launched(seq4j_cuda_softmax_xent_backward(dlogits.segment(), MemorySegment.ofAddress(errorWord), count,
                probs.segment(), labels.segment(), dloss, m, v, stream()), "seq4j_cuda_softmax_xent_backward");
    }

    @Override
    protected synchronized void mseForwardK(Tensor loss, Tensor y, Tensor t, float scaleValue) {
        onDevice("mseForward", "loss y t", loss, y, t);
        launched(seq4j_cuda_mse_forward(loss.segment(), scratch(reduceScratchBytes()), y.segment(), t.segment(), y.size(),
                scaleValue, stream()), "seq4j_cuda_mse_forward");
    }

    @Override
    protected synchronized void mseBackwardK(Tensor dy, Tensor y, Tensor t, float scaleValue) {
        onDevice("mseBackward", "dy y t", dy, y, t);
        launched(seq4j_cuda_mse_backward(dy.segment(), y.segment(), t.segment(), y.size(), scaleValue, stream()),
                "seq4j_cuda_mse_backward");
    }

    // ---- attention -------------------------------------------------------------------------------------

    @Override
    protected synchronized void attentionWeightForwardK(Tensor a, Tensor hs, Tensor h, int t, int n, int hd) {
        onDevice("attentionWeightForward", "a hs h", a, hs, h);
        launched(seq4j_cuda_attention_weight_forward(a.segment(), hs.segment(), h.segment(), t, n, hd, stream()),
                "seq4j_cuda_attention_weight_forward");
    }

    @Override
    protected synchronized void attentionWeightBackwardK(Tensor dhs, Tensor dh, Tensor a, Tensor hs, Tensor h, Tensor da,
                                            int t, int n, int hd) {
        onDevice("attentionWeightBackward", "dhs dh a hs h da", dhs, dh, a, hs, h, da);
        launched(seq4j_cuda_attention_weight_backward(dhs.segment(), dh.segment(), a.segment(), hs.segment(),
                h.segment(), da.segment(), t, n, hd, stream()), "seq4j_cuda_attention_weight_backward");
    }

    @Override
    protected synchronized void weightSumForwardK(Tensor c, Tensor hs, Tensor a, int t, int n, int hd) {
        onDevice("weightSumForward", "c hs a", c, hs, a);
        launched(seq4j_cuda_weight_sum_forward(c.segment(), hs.segment(), a.segment(), t, n, hd, stream()),
                "seq4j_cuda_weight_sum_forward");
    }

    @Override
    protected synchronized void weightSumBackwardK(Tensor dhs, Tensor da, Tensor hs, Tensor a, Tensor dc, int t, int n, int hd) {
        onDevice("weightSumBackward", "dhs da hs a dc", dhs, da, hs, a, dc);
        launched(seq4j_cuda_weight_sum_backward(dhs.segment(), da.segment(), hs.segment(), a.segment(), dc.segment(), t,
                n, hd, stream()), "seq4j_cuda_weight_sum_backward");
    }

    // ---- dropout ---------------------------------------------------------------------------------------

    @Override
    protected synchronized void dropoutMaskK(Tensor mask, float ratio, long seed) {
        onDevice("dropoutMask", "mask", mask);
        launched(seq4j_cuda_dropout_mask(mask.segment(), mask.size(), ratio, seed, stream()), "seq4j_cuda_dropout_mask");
    }

    // ---- optimizers ------------------------------------------------------------------------------------

    @Override
    protected synchronized void sgdUpdateK(Tensor param, Tensor grad, float lr) {
        onDevice("sgdUpdate", "param grad", param, grad);
        launched(seq4j_cuda_sgd_update(param.segment(), grad.segment(), param.size(), lr, stream()), "seq4j_cuda_sgd_update");
    }

    @Override
    protected synchronized void momentumUpdateK(Tensor param, Tensor v, Tensor grad, float lr, float momentum) {
        onDevice("momentumUpdate", "param v grad", param, v, grad);
        launched(seq4j_cuda_momentum_update(param.segment(), v.segment(), grad.segment(), param.size(), lr, momentum,
                stream()), "seq4j_cuda_momentum_update");
    }

    @Override
    protected synchronized void adagradUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float eps) {
        onDevice("adagradUpdate", "param h grad", param, h, grad);
        launched(seq4j_cuda_adagrad_update(param.segment(), h.segment(), grad.segment(), param.size(), lr, eps, stream()),
                "seq4j_cuda_adagrad_update");
    }

    @Override
    protected synchronized void rmspropUpdateK(Tensor param, Tensor h, Tensor grad, float lr, float decay, float eps) {
        onDevice("rmspropUpdate", "param h grad", param, h, grad);
        launched(seq4j_cuda_rmsprop_update(param.segment(), h.segment(), grad.segment(), param.size(), lr, decay, eps,
                stream()), "seq4j_cuda_rmsprop_update");
    }

    @Override
    protected synchronized void adamUpdateK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1, float beta2,
                               float eps) {
        onDevice("adamUpdate", "param m v grad", param, m, v, grad);
        launched(seq4j_cuda_adam_update(param.segment(), m.segment(), v.segment(), grad.segment(), param.size(), lrT,
                beta1, beta2, eps, 0, stream()), "seq4j_cuda_adam_update");
    }

    @Override
    protected synchronized void adamUpdateZeroK(Tensor param, Tensor m, Tensor v, Tensor grad, float lrT, float beta1,
                                                float beta2, float eps) {
        onDevice("adamUpdate", "param m v grad", param, m, v, grad);
        // one kernel: each gradient zeroed once read, where the update and a fill read and wrote grad in two launches
        launched(seq4j_cuda_adam_update(param.segment(), m.segment(), v.segment(), grad.segment(), param.size(), lrT,
                beta1, beta2, eps, 1, stream()), "seq4j_cuda_adam_update");
    }

    // ---- reductions ------------------------------------------------------------------------------------

    @Override
    protected synchronized void sumOfSquaresK(Tensor out, Tensor x) {
        onDevice("sumOfSquares", "out x", out, x);
        launched(seq4j_cuda_sum_of_squares(out.segment(), scratch(reduceScratchBytes()), x.segment(), x.size(), stream()),
                "seq4j_cuda_sum_of_squares");
    }

    @Override
    protected synchronized void argmaxRowsK(Tensor ids, Tensor x, int m, int v) {
        onDevice("argmaxRows", "ids x", ids, x);
        launched(seq4j_cuda_argmax_rows(ids.segment(), x.segment(), m, v, stream()), "seq4j_cuda_argmax_rows");
    }

    // ---- lifetime --------------------------------------------------------------------------------------

    /** Waits for queued work, then frees the handle, the stream, the pool's cache and pinned memory. */
    @Override
    protected synchronized void closeK() {
        if (health.closed()) {
            return;
        }
        health.close();
        try {
            if (!stream.equals(MemorySegment.NULL)) {
                // statuses ignored: after a kernel's fault the wait fails at once, and what can be freed still is
                makeCurrent(deviceIndex);
                cudart_h.cudaStreamSynchronize(stream);
            }
        } finally {
            release();
        }
    }

    /** Frees whatever open() got, ignoring statuses: also the clean-up of a half-finished construction. */
    private void release() {
        if (!cublas.equals(MemorySegment.NULL)) {
            cublas_h.cublasDestroy_v2(cublas);
            cublas = MemorySegment.NULL;
        }
        if (pool != null) {
            if (scratch != null) {
                scratch.release();
            }
            if (errorWord != 0) {
                pool.release(errorWord, errorBytes);
                errorWord = 0;
            }
            pool.close();   // blocks of tensors still alive are freed when their arenas close
        }
        if (!stream.equals(MemorySegment.NULL)) {
            cudart_h.cudaStreamDestroy(stream);
            stream = MemorySegment.NULL;
        }
        if (ring != null) {
            try {
                ring.close();   // after the stream's last wait (close) or before any transfer (a failed open)
            } catch (CudaException e) {
                // its cudaFreeHost fails after a sticky fault, which the call that met it reported: nothing can be
                // freed then, but the rest (the result slots, the host arena) must still be released
            }
            ring = null;
        }
        if (!slots.equals(MemorySegment.NULL)) {
            cudart_h.cudaFreeHost(slots);
            slots = MemorySegment.NULL;
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
