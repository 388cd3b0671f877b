/*
 * libseq4j_cpu - the C kernels of seq4j_cpu.h: fused, single-pass, auto-vectorised loops, run on all cores. This file:
 * which clone of the hot loops runs (choose_isa) and what the library says of itself (seq4j_cpu_info).
 *
 * What this is: the CPU half of the kernel set that BLAS does not cover, one function per Backend
 * method, called from Java through FFM, plus the threading of all CPU work, GEMM included. What it is
 * not: shape checking (Java did that); ids and labels are checked here too, at use (see "ids" in common.h). The
 * maths of every kernel is stated in seq4j_cpu.h and in JavaBackend, the reference these loops are
 * tested against.
 *
 * Speed comes from (1) one pass per kernel (e.g. the four LSTM gates, the cell and the hidden state
 * in one loop), (2) a branch-free exp that the compiler vectorises (libm's expf does not vectorise
 * without -ffast-math), (3) each hot loop compiled three times, for x86-64-v4 (AVX-512), x86-64-v3
 * (AVX2 + FMA) and the x86-64 baseline, one of them chosen once at load (see "clones" in common.h), and (4) one
 * thread pool for all parallel work, described under "threads" in pool.c.
 *
 * The files, one concern each: common.h (what they share), vmath.h (exp, sigmoid, tanh, softmax, branch-free), pool.c,
 * gemm.c (products, packed weights), elementwise.c, lstm.c, gru.c, embedding.c (and ids), loss.c (and reductions),
 * attention.c, optim.c.
 */
#include "common.h"

enum isa cpu_isa;            /* the clone that runs: set once, at load */
static const char *isa_note; /* why it is not the best this CPU runs, or NULL */

/* SEQ4J_CPU_ISA, read once at load; the CPU is asked what it runs (cpuid, and whether the OS saves the
 * AVX-512 registers: libgcc's __builtin_cpu_supports checks both) */
__attribute__((constructor)) static void choose_isa(void) {
#ifdef SEQ4J_X86_CLONES
    __builtin_cpu_init();
    enum isa best = ISA_BASELINE;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")) {
        best = ISA_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
            best = ISA_AVX512;
        }
    }
    cpu_isa = best;
    const char *want = getenv("SEQ4J_CPU_ISA");
    if (want == NULL || want[0] == 0) return;
    enum isa asked;
    if (strcmp(want, "avx512") == 0) asked = ISA_AVX512;
    else if (strcmp(want, "avx2") == 0) asked = ISA_AVX2;
    else if (strcmp(want, "baseline") == 0) asked = ISA_BASELINE;
    else {
        isa_note = "; SEQ4J_CPU_ISA ignored: expected avx512, avx2 or baseline";
        return;
    }
    if (asked > best) {
        isa_note = "; SEQ4J_CPU_ISA asked for a clone this CPU cannot run";
        return;
    }
    cpu_isa = asked;
    if (asked < best) isa_note = " (forced by SEQ4J_CPU_ISA)";
#endif
}

/* ---- library ------------------------------------------------------------------------------------ */

/* the version, the compiler, and the clone of the hot loops that runs here (see "clones" in common.h) */
API const char *seq4j_cpu_info(void) {
    static char info[256];
    static _Atomic int done = 0; /* any thread may write it: all write the same text */
    if (!done) {
#ifdef SEQ4J_X86_CLONES
        static const char *names[] = {"x86-64 baseline (SSE2)", "x86-64-v3 (AVX2+FMA)", "x86-64-v4 (AVX-512)"};
        const char *kernels = names[cpu_isa];
#elif defined(__aarch64__)
        const char *kernels = "aarch64 (NEON)";
#else
        const char *kernels = "generic";
#endif
#ifdef SEQ4J_X86_CLONES
        const char *amx = amx_note();
#else
        const char *amx = NULL;
#endif
        snprintf(info, sizeof info, "seq4j_cpu 0.1 (gcc " __VERSION__ "), kernels: %s%s%s", kernels,
                 isa_note != NULL ? isa_note : "", amx != NULL ? amx : "");
        done = 1;
    }
    return info;
}

