// Where memory handed to the CUDA backend lives, asked of the CUDA runtime (cudaPointerGetAttributes: host,
// device or managed, and which device) and of the driver (cuMemGetAddressRange: the extent of the device
// allocation around it), so that the backend refuses, with an IllegalArgumentException naming the call, what
// would otherwise fault on the GPU or crash the JVM:
// - a CUDA tensor over memory the backend did not allocate (Tensor.wrap(..., Device.CUDA, ...), owner null) that is
//   host memory, another device's memory or runs past its allocation: its kernels would read or write it on the
//   device, an illegal address that kills the whole CUDA context (every later call fails, see ContextHealth);
// - a host segment of copyIn or copyOut that is device memory (e.g. another CUDA tensor's segment()): the host
//   would read or write a device address, a SIGSEGV.
//
// The two functions are bound here by hand: the generated bindings (bindings/, jextract/cudart.args) do not declare
// them yet. Move them to cudart.args (and the driver's to a binding of its own) at the next scripts/gen-bindings.
// The decisions themselves (deviceProblem, hostProblem) take plain values, so that tests check them without a GPU.
package org.seq4j.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.function.IntFunction;

final class DevicePointers {
    private DevicePointers() {
    }

    // enum cudaMemoryType
    static final int UNREGISTERED = 0;
    static final int HOST = 1;
    static final int DEVICE = 2;
    static final int MANAGED = 3;

    /**
     * Bytes for a struct cudaPointerAttributes: {int type; int device; void *devicePointer; void *hostPointer;} and,
     * from CUDA 13, long reserved[8] (88 bytes); room to spare. Only type (offset 0) and device (4) are read.
     */
    static final long ATTRIBUTES_BYTES = 256;

    /** A result: the runtime's status, and where it succeeded the memory type and device. */
    record Attributes(int status, int type, int device) {
    }

    /** The device allocation around a pointer, where the driver knows it. */
    record Range(long base, long size) {
    }

    private static final class Runtime {
        // libcudart was System.load-ed by CudaLibraries before any backend exists, as the generated bindings assume
        static final MethodHandle GET_ATTRIBUTES = Linker.nativeLinker().downcallHandle(
                SymbolLookup.loaderLookup().or(Linker.nativeLinker().defaultLookup())
                        .findOrThrow("cudaPointerGetAttributes"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    private static final class Driver {
        // CUresult cuMemGetAddressRange_v2(CUdeviceptr *pbase, size_t *psize, CUdeviceptr dptr); libcuda.so.1 is
        // loaded already (by the runtime): this only finds it. Absent (an odd driver): the extent goes unchecked
        static final Optional<MethodHandle> ADDRESS_RANGE = find();

        private static Optional<MethodHandle> find() {
            try {
                return SymbolLookup.libraryLookup(CudaLibraries.DRIVER, Arena.global())
                        .find("cuMemGetAddressRange_v2")
                        .map(f -> Linker.nativeLinker().downcallHandle(f,
                                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG)));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    /**
     * cudaPointerGetAttributes of {@code address}, written through {@code out} (ATTRIBUTES_BYTES of native memory).
     * A failed query leaves its status as the thread's last error: the caller clears it (cudaGetLastError).
     */
    static Attributes attributes(MemorySegment out, long address) {
        int status;
        try {
            status = (int) Runtime.GET_ATTRIBUTES.invokeExact(out, MemorySegment.ofAddress(address));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("cudaPointerGetAttributes threw a checked exception", t);
        }
        return status != 0 ? new Attributes(status, -1, -1)
                : new Attributes(0, out.get(JAVA_INT, 0), out.get(JAVA_INT, 4));
    }

    /**
     * The device allocation around {@code address}, or empty where the driver does not say (no such function, memory
     * it did not allocate with cuMemAlloc or its kin, no current context). {@code out} holds two longs.
     */
    static Optional<Range> range(MemorySegment out, long address) {
        if (Driver.ADDRESS_RANGE.isEmpty()) {
            return Optional.empty();
        }
        int status;
        try {
            status = (int) Driver.ADDRESS_RANGE.get().invokeExact(out, out.asSlice(8), address);
        } catch (Throwable t) {
            return Optional.empty();
        }
        return status == 0 ? Optional.of(new Range(out.get(JAVA_LONG, 0), out.get(JAVA_LONG, 8))) : Optional.empty();
    }

    /**
     * Why a CUDA tensor over {@code [address, address + bytes)} cannot be used by a backend on GPU {@code device}, or
     * null where it can: the runtime knows the address, it is device memory of that GPU or managed memory (which any
     * GPU may use), and it lies inside its allocation where {@code range} (nullable) gives one. The text follows the
     * tensor's description in the message.
     */
    static String deviceProblem(Attributes a, Range range, long address, long bytes, int device,
                                IntFunction<String> statusName) {
        if (a.status() != 0) {
            return "at 0x" + Long.toHexString(address) + " is no memory the CUDA runtime knows (cudaPointerGetAttributes: "
                    + statusName.apply(a.status()) + "); a CUDA tensor must be GPU memory: allocate it with this backend"
                    + " (allocate, then copyIn) or wrap memory from cudaMalloc on device " + device;
        }
        if (a.type() == UNREGISTERED || a.type() == HOST) {
            return "at 0x" + Long.toHexString(address) + " is host memory" + (a.type() == HOST ? " (pinned)" : "")
                    + ", which the GPU's kernels cannot use as a tensor (an illegal address there, which kills the CUDA"
                    + " context); wrap host memory as a CPU tensor and copy it in (allocate on this backend, then"
                    + " copyIn), or wrap memory from cudaMalloc on device " + device;
        }
        if (a.type() == DEVICE && a.device() != device) {
            return "at 0x" + Long.toHexString(address) + " is memory of CUDA device " + a.device() + ", but this backend"
                    + " runs on device " + device + "; copy it through the host, or use a backend on device " + a.device();
        }
        if (a.type() != DEVICE && a.type() != MANAGED) {
            return "at 0x" + Long.toHexString(address) + " is of unknown CUDA memory type " + a.type();
        }
        if (range != null && (address < range.base() || bytes > range.base() + range.size() - address)) {
            return "at 0x" + Long.toHexString(address) + " (" + bytes + " bytes) runs past its device allocation of "
                    + range.size() + " bytes at 0x" + Long.toHexString(range.base()) + "; wrap a slice that lies inside it";
        }
        return null;
    }

    /**
     * Why {@code s}, given to copyIn or copyOut as host memory, cannot be, or null where it can: device memory (host code
     * would dereference a device address). Host memory, pinned or not, and managed memory (the host may use it) pass;
     * so does an address the runtime does not know (plain host memory on older runtimes).
     */
    static String hostProblem(Attributes a, String op) {
        if (a.status() == 0 && a.type() == DEVICE) {
            return "is CUDA device memory (another CUDA tensor's segment()?), which the host cannot "
                    + (op.equals("copyIn") ? "read" : "write") + "; copy between CUDA tensors with copy(dst, src), or "
                    + (op.equals("copyIn") ? "copyOut the source into host memory first" : "copyOut into host memory");
        }
        return null;
    }
}
