// A dense, row-major, contiguous block of float32 or int32 elements with a shape, in off-heap memory or in
// the caller's own memory (a direct buffer, a pointer from C, or a float[]/int[] for the kernels that take heap).
//
// A Tensor is a view: it owns nothing. Its bytes belong to a MemorySegment whose lifetime is an Arena
// (host memory), the array or buffer it wraps, or a device allocation tied to an Arena (CUDA). Views
// (reshape, slices along the first dimension, single rows) share those bytes and cost no copy. Kernels
// take Tensors and check shapes, devices and liveness once, in AbstractBackend.
package org.seq4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.Objects;
import org.seq4j.backend.internal.DeviceMemory;

/**
 * Threads: a Tensor is a view (dtype, shape, segment, all final) of memory owned by an {@link Arena}, so the
 * Tensor object itself may be passed between threads freely; its memory follows its Arena's rules, and so does its
 * write count ({@link #writes()}), a plain field beside the memory that counts what seq4j writes of it. Memory
 * of a confined arena ({@code Arena.ofConfined()}) may be read and written only by the thread that made
 * the arena: on any other, this class's accessors (getFloat, copyFrom, ...) and every Backend method given such a
 * tensor throw IllegalStateException saying so (FFM's own access, through {@link #segment()}, WrongThreadException).
 * Memory of a shared arena ({@code Arena.ofShared()}, {@code Arena.global()}, {@code Arena.ofAuto()}) may be touched
 * from any thread, but nothing orders concurrent writes, or a write and a read, of the same elements: that is the
 * caller's to prevent (a model's own workspaces are guarded by the model, see {@code Model}). Once the arena is
 * closed, the memory is gone: any access to the segment throws IllegalStateException, the accessors' and every
 * Backend method's saying so (a Backend's before any kernel runs).
 */
public final class Tensor {
    private final DType dtype;
    private final Device device;
    private final int[] shape;
    private final long size;
    private final MemorySegment segment;
    private final Object owner;   // what orders writes to this memory (a GPU backend, its stream), or null
    private final Writes writes;  // shared by this tensor and every view of it

    /**
     * The count of writes through seq4j to one allocation or wrap and every view of it. A plain field, as the memory
     * itself: read and written by the thread that uses the tensor (see Threads above), so that counting costs a
     * kernel call one increment. Only its changes matter (a layer compares the count its forward saw with the one its
     * backward sees), so even a lost increment of a racing write changes it.
     */
    private static final class Writes {
        long count;
    }

    private Tensor(DType dtype, Device device, int[] shape, MemorySegment segment) {
        this(dtype, device, shape, segment, null, new Writes());
    }

    private Tensor(DType dtype, Device device, int[] shape, MemorySegment segment, Object owner, Writes writes) {
        this.owner = owner;
        this.writes = writes;
        this.dtype = dtype;
        this.device = device;
        this.shape = shape;
        this.size = sizeOf(shape);
        long needed = byteSizeOf(dtype, shape);
        if (segment.byteSize() != needed) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes cannot hold a "
                    + dtype + " tensor of shape " + shapeString(shape) + " (" + needed + " bytes)");
        }
        this.segment = segment;
    }

    /**
     * Wraps existing memory as a tensor of the given shape, without copying: kernels read and write the caller's
     * bytes. The segment may be native (an {@link Arena}'s, a direct buffer's, one from another library through
     * {@code MemorySegment.ofAddress(p).reinterpret(n)}) or on the Java heap ({@code MemorySegment.ofArray}); which
     * backends take heap tensors, and for which kernels, is said at {@code AbstractBackend.acceptsHeap}: the Java
     * backend everywhere, OpenBLAS for gemm and copies, CUDA never. Other kernels refuse them with an
     * IllegalArgumentException naming the op.
     *
     * @param segment the memory, of exactly {@code byteSizeOf(dtype, shape)} bytes (slice a larger one first),
     *                aligned to the element size (on the heap: an array of 4- or 8-byte elements), writable; for
     *                {@link Device#CUDA} a device pointer
     * @param dtype   the element type
     * @param device  where the memory lives
     * @param shape   the dimensions, each {@code >= 0}, row-major
     * @return a tensor over {@code segment}
     * @throws IllegalArgumentException if a dimension is negative, the byte size differs, the address is misaligned,
     *                                  the segment is read-only (native kernels would write to it unchecked), or it is
     *                                  a device backend's memory wrapped for {@link Device#CPU}, or a null pointer
     *                                  of one byte or more
     * @throws IllegalStateException    if the segment's arena is already closed (memory of another thread's confined
     *                                  arena is wrapped: that thread may use the tensor)
     * @throws NullPointerException     if an argument is null, naming it
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, Device device, int... shape) {
        Objects.requireNonNull(segment, "wrap: segment is null");
        Objects.requireNonNull(dtype, "wrap: dtype is null");
        Objects.requireNonNull(device, "wrap: device is null");
        if (!segment.scope().isAlive()) {   // its memory is gone: every later use would fail, far from here
            throw new IllegalStateException("Tensor.wrap: the segment's arena is already closed");
        }
        int[] s = checkedShape("Tensor.wrap", shape);
        // a null pointer handed on as memory (a C allocator's failure, MemorySegment.ofAddress(0).reinterpret(n)):
        // FFM takes it, and the first read, by an accessor or a kernel, would fault at address 0 and take the JVM
        if (segment.isNative() && segment.address() == 0 && segment.byteSize() > 0) {
            throw new IllegalArgumentException("Tensor.wrap: segment " + segment + " is a null pointer of "
                    + segment.byteSize() + " bytes; wrap the memory it was meant to hold");
        }
        // maxByteAlignment, not the address: heap memory is only as aligned as its array's elements, so a byte[] or
        // char[] at offset 0 is refused too (the Java backend could not read floats from it; native code would)
        if (segment.maxByteAlignment() < dtype.byteSize()) {
            throw new IllegalArgumentException("segment address " + segment.address() + " is not aligned to "
                    + dtype.byteSize() + " bytes" + (segment.isNative() ? "" : " (heap memory is aligned as its array's"
                    + " elements: wrap a float[] or int[])"));
        }
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException("segment " + segment + " is read-only, but kernels may write to a "
                    + "tensor; copy it into writable memory first");
        }
        // a GPU tensor's segment() wrapped as host memory: every read of it (getFloat, a CPU kernel) would read the
        // device address on the host, a SIGSEGV that takes the JVM (copyIn and copyOut refuse it the same way)
        if (device.isHost() && segment.isNative() && segment.byteSize() > 0
                && DeviceMemory.overlaps(segment.address(), segment.byteSize())) {
            throw new IllegalArgumentException("segment " + segment + " is device memory (a GPU tensor's segment()?),"
                    + " which the host cannot read or write; copy it out through the device backend (copyOut)");
        }
        return new Tensor(dtype, device, s, segment);
    }

    /**
     * Wraps a caller's host segment holding float32 values (zero-copy); {@code wrap(segment, F32, CPU, shape)}.
     *
     * @param segment host memory of exactly {@code 4 * size} bytes
     * @param shape   the dimensions
     * @return a float32 host tensor over {@code segment}
     * @throws IllegalArgumentException as {@link #wrap(MemorySegment, DType, Device, int...)}
     * @throws IllegalStateException    as {@link #wrap(MemorySegment, DType, Device, int...)}: the arena is closed
     * @throws NullPointerException     if an argument is null, naming it
     */
    public static Tensor wrapHost(MemorySegment segment, int... shape) {
        return wrap(segment, DType.F32, Device.CPU, shape);
    }

    /**
     * A float32 host tensor over the caller's array, without copying: writes by kernels land in {@code values}.
     * Heap memory: the Java and OpenBLAS backends' gemm take it (OpenBLAS through a critical downcall that holds
     * off the garbage collector while it runs); OpenBLAS's other kernels refuse it (see
     * {@link #wrap(MemorySegment, DType, Device, int...)}).
     *
     * @param values the elements, row-major; its length must be the shape's element count exactly
     * @param shape  the dimensions
     * @return a float32 CPU tensor over {@code values}
     * @throws IllegalArgumentException if the length differs from the shape's element count
     */
    public static Tensor wrap(float[] values, int... shape) {
        Objects.requireNonNull(values, "wrap: values is null");
        exactLength("float[]", values.length, shape);
        return wrap(MemorySegment.ofArray(values), DType.F32, Device.CPU, shape);
    }

    /**
     * An int32 host tensor over the caller's array, without copying (ids, labels). Heap memory: see
     * {@link #wrap(float[], int...)}.
     *
     * @param values the elements, row-major; its length must be the shape's element count exactly
     * @param shape  the dimensions
     * @return an int32 CPU tensor over {@code values}
     * @throws IllegalArgumentException if the length differs from the shape's element count
     */
    public static Tensor wrap(int[] values, int... shape) {
        Objects.requireNonNull(values, "wrap: values is null");
        exactLength("int[]", values.length, shape);
        return wrap(MemorySegment.ofArray(values), DType.I32, Device.CPU, shape);
    }

    /**
     * A float32 host tensor over the buffer's remaining elements ({@code position} to {@code limit}), without
     * copying. A direct buffer (e.g. {@code ByteBuffer.allocateDirect(n).order(ByteOrder.nativeOrder())
     * .asFloatBuffer()}, or one another library hands out) is native memory that every host kernel takes; a heap
     * buffer ({@code FloatBuffer.wrap(float[])}) is heap memory, as {@link #wrap(float[], int...)}. The tensor
     * lives as long as the buffer is reachable: keep a reference to it while the tensor is in use.
     *
     * @param buffer a writable buffer in the platform's native byte order, direct or over a float[]
     * @param shape  the dimensions; their product must equal {@code buffer.remaining()}
     * @return a float32 CPU tensor over the buffer's remaining elements
     * @throws IllegalArgumentException if the buffer is a view of a heap ByteBuffer, read-only, not in native byte
     *                                  order, or its remaining count differs from the shape's element count
     */
    public static Tensor wrap(FloatBuffer buffer, int... shape) {
        Objects.requireNonNull(buffer, "wrap: buffer is null");
        checkBuffer("FloatBuffer", buffer, buffer.order(), buffer.remaining(), shape);
        return wrap(MemorySegment.ofBuffer(buffer), DType.F32, Device.CPU, shape);
    }

    /**
     * An int32 host tensor over the buffer's remaining elements, without copying; as
     * {@link #wrap(FloatBuffer, int...)}.
     *
     * @param buffer a writable buffer in the platform's native byte order, direct or over an int[]
     * @param shape  the dimensions; their product must equal {@code buffer.remaining()}
     * @return an int32 CPU tensor over the buffer's remaining elements
     * @throws IllegalArgumentException if the buffer is a view of a heap ByteBuffer, read-only, not in native byte
     *                                  order, or its remaining count differs from the shape's element count
     */
    public static Tensor wrap(IntBuffer buffer, int... shape) {
        Objects.requireNonNull(buffer, "wrap: buffer is null");
        checkBuffer("IntBuffer", buffer, buffer.order(), buffer.remaining(), shape);
        return wrap(MemorySegment.ofBuffer(buffer), DType.I32, Device.CPU, shape);
    }

    /**
     * A host tensor over a direct byte buffer's remaining bytes, without copying. The buffer's order must be the
     * platform's ({@code buffer.order(ByteOrder.nativeOrder())}; a new ByteBuffer is big-endian, which would
     * swap every element's bytes), and its position's address aligned to 4 bytes.
     *
     * @param buffer a writable direct buffer in native byte order
     * @param dtype  the element type
     * @param shape  the dimensions; {@code buffer.remaining()} must be exactly the tensor's byte size
     * @return a CPU tensor over the buffer's remaining bytes
     * @throws IllegalArgumentException if the buffer is not direct, read-only, not in native order, misaligned, or
     *                                  its remaining byte count differs from the tensor's byte size
     */
    public static Tensor wrap(ByteBuffer buffer, DType dtype, int... shape) {
        Objects.requireNonNull(buffer, "wrap: buffer is null");
        Objects.requireNonNull(dtype, "wrap: dtype is null");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("wrap(ByteBuffer): the buffer must be direct"
                    + " (ByteBuffer.allocateDirect); for heap memory wrap a float[] or int[] instead");
        }
        int[] s = checkedShape("Tensor.wrap(ByteBuffer)", shape);
        long needed = byteSizeOf(dtype, s);
        if (buffer.remaining() != needed) {
            throw new IllegalArgumentException("wrap(ByteBuffer): " + buffer.remaining() + " remaining bytes do not "
                    + "match a " + dtype + " tensor of shape " + shapeString(s) + " (" + needed + " bytes)");
        }
        checkBuffer("ByteBuffer", buffer, buffer.order(), buffer.remaining() / dtype.byteSize(), shape);
        return wrap(MemorySegment.ofBuffer(buffer), dtype, Device.CPU, shape);
    }

    private static void checkBuffer(String what, Buffer buffer, ByteOrder order, int remaining, int[] shape) {
        if (buffer.isReadOnly()) { // first: a read-only heap buffer has no array either
            throw new IllegalArgumentException("wrap(" + what + "): the buffer is read-only, but kernels may write to "
                    + "a tensor; copy it into a writable buffer first");
        }
        if (!buffer.isDirect() && !buffer.hasArray()) {
            // a view over a heap ByteBuffer: its floats sit in a byte[], which Java reads only byte-aligned
            throw new IllegalArgumentException("wrap(" + what + "): the buffer is a view of a heap ByteBuffer; use a"
                    + " direct buffer (ByteBuffer.allocateDirect) or wrap the float[] or int[] itself");
        }
        if (order != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("wrap(" + what + "): the buffer is " + order + " but this platform is "
                    + ByteOrder.nativeOrder() + "; make it with .order(ByteOrder.nativeOrder())");
        }
        exactLength(what, remaining, shape);
    }

    private static void exactLength(String what, int length, int[] shape) {
        long size = sizeOf(checkedShape("Tensor.wrap(" + what + ")", shape));
        if (length != size) {
            throw new IllegalArgumentException("wrap(" + what + "): " + length + " elements do not match shape "
                    + shapeString(shape) + " (" + size + " elements)");
        }
    }

    /**
     * The most bytes an allocation may ask for, here and in every Backend's allocate and packedMatrix: 2^57, the whole
     * virtual address space of the largest 64-bit platforms (x86-64 and RISC-V with 57-bit addresses; AArch64 has 52).
     * A larger one can never succeed and is refused before anything is allocated; a smaller one is tried, whatever
     * the machine holds (no memory cap is set here).
     */
    public static final long MAX_BYTES = 1L << 57;

    /**
     * Allocates a zero-filled host tensor in {@code arena}, 64-byte aligned.
     *
     * @param arena where the memory lives (closing it frees the tensor); open, and this thread's if confined
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return a new CPU tensor of zeros
     * @throws IllegalArgumentException if a dimension is negative or the byte size overflows a long or is over 2^57
     *                                  (more than any 64-bit platform can address)
     * @throws IllegalStateException    if the arena is closed, or confined to another thread
     */
    public static Tensor allocateHost(Arena arena, DType dtype, int... shape) {
        return allocateHost("Tensor.allocateHost", arena, dtype, shape);
    }

    /**
     * allocateHost for the factory {@code op}. The arena is not asked first: it allocates or refuses, and only a
     * refusal is looked at (an Arena tells its owner thread only by refusing), so nothing is added to the allocation.
     */
    private static Tensor allocateHost(String op, Arena arena, DType dtype, int[] shape) {
        if (arena == null) {
            throw new NullPointerException(op + ": arena is null");
        }
        if (dtype == null) {
            throw new NullPointerException(op + ": dtype is null");
        }
        int[] s = checkedShape(op, shape);
        long bytes = byteSizeOf(dtype, s);
        if (bytes > MAX_BYTES) {   // the arena would try it and end in an OutOfMemoryError
            throw new IllegalArgumentException(op + ": a " + dtype + " tensor of shape " + shapeString(s) + " needs "
                    + bytes + " bytes, more than the 2^57 that any 64-bit platform can address");
        }
        MemorySegment memory;
        try {
            memory = arena.allocate(bytes, 64);
        } catch (IllegalStateException | WrongThreadException e) {
            throw arenaRefused(op, arena, e);
        }
        return new Tensor(dtype, Device.CPU, s, memory);
    }

    /**
     * What a factory throws when {@code arena} refused to allocate: FFM's bare "Already closed" or WrongThreadException
     * ("Attempted access outside owning thread") in one line naming the call and the arena, FFM's exception as the
     * cause; any other refusal as it came.
     */
    private static RuntimeException arenaRefused(String op, Arena arena, RuntimeException e) {
        if (!arena.scope().isAlive()) {   // first: a closed arena of another thread refuses as another thread's
            return new IllegalStateException(op + ": the arena is already closed", e);
        }
        if (e instanceof WrongThreadException) {
            return new IllegalStateException(op + ": the arena is confined to another thread (another thread's"
                    + " Arena.ofConfined()); allocate from that thread, or use a shared arena", e);
        }
        return e;
    }

    /**
     * A host float32 tensor holding a copy of {@code values}.
     *
     * @param arena  where the memory lives; open, and this thread's if confined
     * @param values the elements, row-major; exactly the shape's element count
     * @param shape  the dimensions
     * @return a new CPU float32 tensor
     * @throws IllegalArgumentException if the length does not match the shape
     * @throws IllegalStateException    if the arena is closed, or confined to another thread
     */
    public static Tensor ofFloats(Arena arena, float[] values, int... shape) {
        if (values == null) {
            throw new NullPointerException("Tensor.ofFloats: values is null");
        }
        int[] s = valuesShape("Tensor.ofFloats", values.length, shape);
        Tensor t = allocateHost("Tensor.ofFloats", arena, DType.F32, s);
        t.copyFrom(values);
        return t;
    }

    /**
     * A host int32 tensor holding a copy of {@code values}.
     *
     * @param arena  where the memory lives; open, and this thread's if confined
     * @param values the elements, row-major; exactly the shape's element count
     * @param shape  the dimensions
     * @return a new CPU int32 tensor
     * @throws IllegalArgumentException if the length does not match the shape
     * @throws IllegalStateException    if the arena is closed, or confined to another thread
     */
    public static Tensor ofInts(Arena arena, int[] values, int... shape) {
        if (values == null) {
            throw new NullPointerException("Tensor.ofInts: values is null");
        }
        int[] s = valuesShape("Tensor.ofInts", values.length, shape);
        Tensor t = allocateHost("Tensor.ofInts", arena, DType.I32, s);
        t.copyFrom(values);
        return t;
    }

    /** The shape of ofFloats' or ofInts' values, checked against their count before anything is allocated. */
    private static int[] valuesShape(String op, int length, int[] shape) {
        int[] s = checkedShape(op, shape);
        long size = sizeOf(s);
        if (length != size) {
            throw new IllegalArgumentException(op + ": " + length + " values do not match shape " + shapeString(s)
                    + " (" + size + " elements)");
        }
        return s;
    }

    /**
     * The element type.
     *
     * @return F32 or I32
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * Where the memory lives.
     *
     * @return CPU or CUDA
     */
    public Device device() {
        return device;
    }

    /**
     * The number of dimensions.
     *
     * @return the shape's length (0 for a scalar)
     */
    public int rank() {
        return shape.length;
    }

    /**
     * The extent of one dimension.
     *
     * @param i the dimension; negative counts from the end ({@code -1} is the last)
     * @return its extent
     * @throws ArrayIndexOutOfBoundsException if {@code i} is outside {@code [-rank, rank)}
     */
    public int dim(int i) {
        if (i < -shape.length || i >= shape.length) { // shape[rank + i] alone named index -1 for dim(-rank - 1)
            throw new ArrayIndexOutOfBoundsException("dim(" + i + ") of a tensor of shape " + shapeString(shape)
                    + ": the dimension must be in [" + -shape.length + ", " + shape.length + ")");
        }
        return shape[i < 0 ? shape.length + i : i];
    }

    /**
     * The dimensions.
     *
     * @return a copy of the shape
     */
    public int[] shape() {
        return shape.clone();
    }

    /**
     * The number of elements.
     *
     * @return the product of the shape
     */
    public long size() {
        return size;
    }

    /**
     * The size of the memory.
     *
     * @return {@code size() * 4}, in bytes
     */
    public long byteSize() {
        return segment.byteSize();
    }

    /**
     * The memory behind this tensor. For CUDA tensors the address is a device pointer: pass it to CUDA
     * calls only; reading it from Java would read host memory at that address.
     *
     * @return the segment, exactly {@link #byteSize()} bytes
     */
    public MemorySegment segment() {
        return segment;
    }

    /**
     * Whether this tensor and {@code other} share any byte of memory: on the same device, their byte ranges
     * intersect (views of one buffer that touch the same elements, or the same tensor). Tensors over different Java
     * arrays, on different devices, or of no bytes never overlap. Allocates nothing.
     *
     * @param other another tensor
     * @return whether a write to one may change the other
     */
    public boolean overlaps(Tensor other) {
        Objects.requireNonNull(other, "overlaps: other is null");
        MemorySegment a = segment, b = other.segment;
        // heap segments (float[], int[]) have addresses relative to their array: different arrays never overlap
        if (device != other.device || !a.heapBase().equals(b.heapBase()) || a.byteSize() == 0 || b.byteSize() == 0) {
            return false;
        }
        // [a0, a0 + |a|) and [b0, b0 + |b|) intersect: compared through the unsigned distance from the lower start,
        // so that no end address is summed (a sum near the top of the address space would wrap)
        long a0 = a.address(), b0 = b.address();
        return Long.compareUnsigned(a0, b0) <= 0
                ? Long.compareUnsigned(b0 - a0, a.byteSize()) < 0
                : Long.compareUnsigned(a0 - b0, b.byteSize()) < 0;
    }

    /**
     * Whether the memory can still be used.
     *
     * @return false once the owning arena is closed
     */
    public boolean isAlive() {
        return segment.scope().isAlive();
    }

    /**
     * Refuses this tensor's memory where the calling thread cannot use it (see {@link #requireUsable(String, String,
     * Object, MemorySegment)}), naming the call and the argument.
     *
     * @param op   the call, for the message ("Seq2seq.forward")
     * @param name the argument's name
     * @throws IllegalStateException if its arena is closed, or confined to another thread
     */
    public void requireUsable(String op, String name) {
        requireUsable(op, name, this, segment);
    }

    /**
     * Refuses memory the calling thread cannot use, in one line naming the call and the argument, before anything
     * touches it: FFM would throw IllegalStateException("Already closed") or WrongThreadException from wherever it is
     * first read, which names neither. Allocates nothing unless it throws (the kernels' argument checks call it).
     *
     * @param op    the call, for the message
     * @param name  the argument's name
     * @param shown what the message shows of it (the tensor, or the segment)
     * @param s     the memory
     * @throws IllegalStateException if its arena is closed, or confined to another thread
     * @throws NullPointerException  if s is null, naming op and name
     */
    public static void requireUsable(String op, String name, Object shown, MemorySegment s) {
        if (s == null) {   // was the JVM's "Cannot invoke MemorySegment.scope()", naming neither
            throw new NullPointerException(op + ": " + name + " is null");
        }
        String why = whyUnusable(s);
        if (why != null) {
            throw new IllegalStateException(op + ": " + name + " " + shown + why);
        }
    }

    /** Why the calling thread cannot use {@code s}, as the end of a message, or null if it can (allocates nothing). */
    private static String whyUnusable(MemorySegment s) {
        if (!s.scope().isAlive()) {
            return " belongs to an arena that is already closed";
        }
        if (!s.isAccessibleBy(Thread.currentThread())) {
            return " is confined to another thread (its arena is another thread's Arena.ofConfined()); call from that"
                    + " thread, or use a shared arena";
        }
        return null;
    }

    /**
     * Whether the shape is exactly {@code expected}.
     *
     * @param expected the dimensions to compare with
     * @return true if rank and every dimension match
     */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /**
     * The same bytes seen with another shape of the same element count (a reshape, no copy).
     *
     * @param newShape the dimensions of the view
     * @return a tensor sharing this one's memory
     * @throws IllegalArgumentException if a dimension is negative or the element counts differ
     */
    public Tensor view(int... newShape) {
        int[] s = checkedShape("Tensor.view", newShape);
        if (sizeOf(s) != size) {
            throw new IllegalArgumentException("cannot view a tensor of shape " + shapeString(shape) + " ("
                    + size + " elements) as " + shapeString(s) + " (" + sizeOf(s) + " elements)");
        }
        return new Tensor(dtype, device, s, segment, owner, writes);
    }

    /**
     * Rows {@code [from, to)} along the first dimension: contiguous, so no copy.
     *
     * @param from the first row
     * @param to   one past the last row
     * @return a tensor of shape {@code (to - from, ...)} sharing this one's memory
     * @throws IndexOutOfBoundsException if the range is not inside {@code [0, dim(0)]} or the tensor is a scalar
     */
    public Tensor slice(int from, int to) {
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of a tensor of shape "
                    + shapeString(shape));
        }
        int[] s = shape.clone();
        s[0] = to - from;
        long rowBytes = rowElements() * dtype.byteSize();
        return new Tensor(dtype, device, s, segment.asSlice(from * rowBytes, (to - from) * rowBytes), owner, writes);
    }

    /**
     * Element {@code i} along the first dimension, with that dimension dropped (no copy).
     *
     * @param i the index along the first dimension
     * @return a tensor of the remaining dimensions sharing this one's memory
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, dim(0))} or the tensor is a scalar
     */
    public Tensor get(int i) {
        if (shape.length == 0 || i < 0 || i >= shape[0]) {
            throw new IndexOutOfBoundsException("index " + i + " of a tensor of shape " + shapeString(shape));
        }
        int[] s = Arrays.copyOfRange(shape, 1, shape.length);
        long rowBytes = rowElements() * dtype.byteSize();
        return new Tensor(dtype, device, s, segment.asSlice(i * rowBytes, rowBytes), owner, writes);
    }

    /**
     * A flat run of elements, as a rank-1 tensor (no copy).
     *
     * @param offset the first element (flat, row-major index)
     * @param count  how many elements
     * @return a tensor of shape {@code (count,)} sharing this one's memory
     * @throws IndexOutOfBoundsException if the run does not lie inside the tensor
     */
    public Tensor flatSlice(long offset, int count) {
        // count > size - offset, not offset + count > size: the sum can wrap for offsets near 2^63
        if (offset < 0 || count < 0 || offset > size || count > size - offset) {
            throw new IndexOutOfBoundsException(count + " elements from element " + offset + " do not lie in a tensor of "
                    + size + " elements");
        }
        return new Tensor(dtype, device, new int[] {count},
                segment.asSlice(offset * dtype.byteSize(), (long) count * dtype.byteSize()), owner, writes);
    }

    /**
     * This tensor marked as memory whose writes {@code owner} orders, for a backend's allocate: a GPU backend queues
     * its kernels on a stream of its own, so another backend's kernels would not wait for writes still queued there.
     * Backends refuse a tensor owned by another (AbstractBackend's checks); views keep the owner. Tensors from
     * {@code wrap} or {@code allocateHost} have none.
     *
     * @param owner the backend that allocated the memory
     * @return a tensor over the same memory, owned by {@code owner}
     * @throws IllegalStateException if the tensor already has another owner
     */
    public Tensor ownedBy(Object owner) {
        Objects.requireNonNull(owner, "ownedBy: owner is null");
        if (this.owner != null && this.owner != owner) {
            throw new IllegalStateException("tensor " + this + " is owned already");
        }
        return new Tensor(dtype, device, shape, segment, owner, writes);
    }

    /**
     * What orders writes to this memory: the backend that allocated it where that backend keeps its own order (a
     * GPU's stream), else null.
     *
     * @return the owner, or null
     */
    public Object owner() {
        return owner;
    }

    /**
     * How many times seq4j has written this tensor's memory: every {@code Backend} call that writes a tensor (its outputs,
     * in-place operands, gradients it adds into, scratch), this class's {@code copyFrom}, {@code setFloat} and
     * {@code setInt}, and {@link #markWritten()}, counted on the tensor and on every view of it alike ({@link #view},
     * {@link #slice}, {@link #get}, {@link #flatSlice}: one count for the memory of one allocation or {@code wrap}, so
     * a write to one slice of a buffer counts on every other slice of it too, even where their elements differ).
     * Layers read it where their forward keeps an input of their caller's and compare it at their backward, which
     * would otherwise compute its gradients from values that are no longer the forward's (PyTorch's tensor version
     * counter does the same). Writes that bypass seq4j, through {@link #segment()}, a wrapped array or buffer, or a
     * second {@code wrap} of the same memory, are not counted: call {@link #markWritten()} after them.
     *
     * @return the count; only whether it changed means anything
     */
    public long writes() {
        return writes.count;
    }

    /**
     * Counts a write to this tensor's memory (see {@link #writes()}): for code that writes it other than through a
     * Backend or this class's setters, so that a layer keeping it for a backward refuses that backward.
     */
    public void markWritten() {
        writes.count++;
    }

    /** Elements per row along the first dimension (shape[0] > 0 when a row is asked for). */
    private long rowElements() {
        return shape[0] == 0 ? 0 : size / shape[0];
    }

    // ---- host access (CPU tensors only) --------------------------------------------------------------

    /**
     * Copies {@code values} into this host float32 tensor.
     *
     * @param values exactly {@link #size()} elements, row-major
     * @throws IllegalStateException    if the tensor is not on the host, or its arena is closed or confined to another
     *                                  thread
     * @throws IllegalArgumentException if it is not float32 or the length differs
     */
    public void copyFrom(float[] values) {
        requireHost("copyFrom(float[])");
        Objects.requireNonNull(values, "copyFrom(float[]): values is null");
        requireType(DType.F32, "copyFrom(float[])");
        requireLength(values.length);
        try {
            MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT, 0, values.length);
            writes.count++;
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.copyFrom(float[])", e);
        }
    }

    /**
     * Copies {@code values} into this host int32 tensor.
     *
     * @param values exactly {@link #size()} elements, row-major
     * @throws IllegalStateException    if the tensor is not on the host, or its arena is closed or confined to another
     *                                  thread
     * @throws IllegalArgumentException if it is not int32 or the length differs
     */
    public void copyFrom(int[] values) {
        requireHost("copyFrom(int[])");
        Objects.requireNonNull(values, "copyFrom(int[]): values is null");
        requireType(DType.I32, "copyFrom(int[])");
        requireLength(values.length);
        try {
            MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_INT, 0, values.length);
            writes.count++;
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.copyFrom(int[])", e);
        }
    }

    /**
     * A copy of this host float32 tensor's elements.
     *
     * @return a new array, row-major
     * @throws IllegalStateException    if the tensor is not on the host, or its arena is closed or confined to another
     *                                  thread
     * @throws IllegalArgumentException if it is not float32
     */
    public float[] toFloatArray() {
        requireHost("toFloatArray()");
        requireType(DType.F32, "toFloatArray()");
        try {
            return segment.toArray(ValueLayout.JAVA_FLOAT);
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.toFloatArray()", e);
        }
    }

    /**
     * A copy of this host int32 tensor's elements.
     *
     * @return a new array, row-major
     * @throws IllegalStateException    if the tensor is not on the host, or its arena is closed or confined to another
     *                                  thread
     * @throws IllegalArgumentException if it is not int32
     */
    public int[] toIntArray() {
        requireHost("toIntArray()");
        requireType(DType.I32, "toIntArray()");
        try {
            return segment.toArray(ValueLayout.JAVA_INT);
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.toIntArray()", e);
        }
    }

    /**
     * Reads one element of a host float32 tensor.
     *
     * @param i the flat, row-major index
     * @return the element
     * @throws IllegalStateException     if the tensor is not on the host, or its arena is closed or confined to another
     *                                   thread
     * @throws IllegalArgumentException  if it is not float32
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
     */
    public float getFloat(long i) {
        requireHost("getFloat");
        requireType(DType.F32, "getFloat");
        requireIndex("getFloat", i);
        try {
            return segment.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.getFloat", e);
        }
    }

    /**
     * Writes one element of a host float32 tensor.
     *
     * @param i the flat, row-major index
     * @param v the value
     * @throws IllegalStateException     if the tensor is not on the host, or its arena is closed or confined to another
     *                                   thread
     * @throws IllegalArgumentException  if it is not float32
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
     */
    public void setFloat(long i, float v) {
        requireHost("setFloat");
        requireType(DType.F32, "setFloat");
        requireIndex("setFloat", i);
        try {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
            writes.count++;
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.setFloat", e);
        }
    }

    /**
     * Reads one element of a host int32 tensor.
     *
     * @param i the flat, row-major index
     * @return the element
     * @throws IllegalStateException     if the tensor is not on the host, or its arena is closed or confined to another
     *                                   thread
     * @throws IllegalArgumentException  if it is not int32
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
     */
    public int getInt(long i) {
        requireHost("getInt");
        requireType(DType.I32, "getInt");
        requireIndex("getInt", i);
        try {
            return segment.getAtIndex(ValueLayout.JAVA_INT, i);
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.getInt", e);
        }
    }

    /**
     * Writes one element of a host int32 tensor.
     *
     * @param i the flat, row-major index
     * @param v the value
     * @throws IllegalStateException     if the tensor is not on the host, or its arena is closed or confined to another
     *                                   thread
     * @throws IllegalArgumentException  if it is not int32
     * @throws IndexOutOfBoundsException if {@code i} is outside {@code [0, size())}
     */
    public void setInt(long i, int v) {
        requireHost("setInt");
        requireType(DType.I32, "setInt");
        requireIndex("setInt", i);
        try {
            segment.setAtIndex(ValueLayout.JAVA_INT, i, v);
            writes.count++;
        } catch (IllegalStateException | WrongThreadException e) {
            throw refused("Tensor.setInt", e);
        }
    }

    /**
     * What an accessor throws when FFM refused this tensor's memory: one line naming the accessor, this tensor and why
     * (requireUsable's words), FFM's exception as the cause; any other refusal as it came. The accessors ask FFM's own
     * check rather than requireUsable first: FFM checks every access anyway, so the success path does no more than it
     * did, and a shared arena that another thread closes between a check and the access is named too.
     */
    private RuntimeException refused(String op, RuntimeException e) {
        String why = whyUnusable(segment);
        return why == null ? e : new IllegalStateException(op + ": this " + this + why, e);
    }

    private void requireHost(String what) {
        if (!device.isHost()) {
            throw new IllegalStateException(what + " needs a host tensor, but this one lives on " + device
                    + "; copy it out through its Backend first");
        }
    }

    private void requireType(DType expected, String what) {
        if (dtype != expected) {
            throw new IllegalArgumentException(what + " needs a " + expected + " tensor, but this one is " + dtype);
        }
    }

    private void requireIndex(String what, long i) {
        if (i < 0 || i >= size) { // FFM's own message names a byte offset into a segment, not the index
            throw new IndexOutOfBoundsException(what + ": index " + i + " is outside [0, " + size + ") of " + this);
        }
    }

    private void requireLength(int length) {
        if (length != size) {
            throw new IllegalArgumentException("array of length " + length + " does not match a tensor of shape "
                    + shapeString(shape) + " (" + size + " elements)");
        }
    }

    // ---- shapes ----------------------------------------------------------------------------------------

    /**
     * A shape as Python writes a tuple, for messages: {@code (2, 3)}, {@code (5,)}, {@code ()}.
     *
     * @param shape the dimensions
     * @return the text
     * @throws NullPointerException if shape is null, naming it
     */
    public static String shapeString(int... shape) {
        Objects.requireNonNull(shape, "Tensor.shapeString: shape is null");
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** A copy of {@code shape}, refused in {@code op}'s name where null or with a negative dimension. */
    private static int[] checkedShape(String op, int[] shape) {
        Objects.requireNonNull(shape, () -> op + ": shape is null");
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(op + ": negative dimension in shape " + shapeString(shape));
            }
        }
        return shape.clone();
    }

    /**
     * The number of elements of {@code shape} (non-negative dimensions), computed exactly. A shape with a zero
     * dimension has none, whatever the others are; one whose product does not fit in a long is an
     * IllegalArgumentException naming the shape.
     *
     * @param shape the dimensions, each {@code >= 0}
     * @return the element count
     * @throws IllegalArgumentException if a dimension is negative (a product of two would pass for a size), or the
     *         product overflows a long
     * @throws NullPointerException if shape is null, naming it
     */
    public static long sizeOf(int... shape) {
        Objects.requireNonNull(shape, "Tensor.sizeOf: shape is null");
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + shapeString(shape) + " has a negative dimension; "
                        + "expected every dimension >= 0");
            }
        }
        for (int d : shape) {
            if (d == 0) {
                return 0;
            }
        }
        for (int d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + shapeString(shape) + " has more than "
                        + Long.MAX_VALUE + " elements (the product of its dimensions overflows a long)", e);
            }
        }
        return n;
    }

    /**
     * The bytes a contiguous {@code dtype} tensor of {@code shape} needs, computed exactly. Over
     * Long.MAX_VALUE bytes (the most a MemorySegment can hold) is an IllegalArgumentException naming the
     * shape and the limit: a wrapped product would allocate a small segment that kernels then overrun.
     *
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return the byte count
     * @throws IllegalArgumentException if a dimension is negative, or the count overflows a long
     * @throws NullPointerException if dtype or shape is null, naming it
     */
    public static long byteSizeOf(DType dtype, int... shape) {
        Objects.requireNonNull(dtype, "Tensor.byteSizeOf: dtype is null");
        Objects.requireNonNull(shape, "Tensor.byteSizeOf: shape is null");
        long n = sizeOf(shape);
        try {
            return Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + shapeString(shape) + " has " + n
                    + " elements, more than the " + Long.MAX_VALUE + " bytes a memory segment can hold", e);
        }
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString(shape) + " " + dtype + " on " + device;
    }
}
