/*
 * amx.c - the BF16 packed product on Intel's AMX tile units (Sapphire Rapids and later), where the CPU has them and
 * the kernel lets this process use them; every other product, and this one elsewhere, runs the v4 clone's FMA blocks.
 *
 * Why: the BF16 product of few rows (N = 1 inference: W3, the date model) reads its packed Wh once a step, and the
 * v4 blocks do not run faster in BF16 than in float on such a CPU: they are bound by the integer ops that widen each
 * bf16 pair to two floats, not by the halved bytes (bench/RESULTS.md, twenty-seventh pass). TDPBF16PS multiplies
 * the pairs as the packed layout stores them (a word holds rows 2i and 2i + 1 of a column: a B tile row is 16 such
 * words, a panel's pair-row), so the product reads Wh at the tile loads' rate.
 *
 * Same numbers as the FMA blocks, up to the order of the additions: TDPBF16PS multiplies bf16 by bf16, so each row of
 * a is split exactly into three bf16 parts, a = hi + mid + lo (hi: a's top 8 significand bits, by truncation; mid the
 * next 8 of the rest; lo what is left, at most 8 bits), each part one row of the A tile; products of bf16 pairs are
 * exact in float and summed in float, and a row of c is (lo + mid) + hi of its three rows. The weights are the same
 * rounded bf16 values. What differs from float FMAs: TDPBF16PS takes bf16 subnormals as zero and flushes float
 * subnormal results (values below 1.2e-38, far under what the products of a trained model reach), and a part below
 * bf16's normal range (a value under ~1e-33 loses its lo part) is dropped; a NaN of a stays NaN, an infinity gives
 * what FMAs give (hi = +-Inf, mid = lo = 0). The conformance suite holds it to gemm's bound, as the FMA blocks.
 *
 * Use: the kernel must allow the process AMX state (arch_prctl ARCH_REQ_XCOMP_PERM, Linux 5.16+), asked once, on the
 * first BF16 product (a process that never multiplies in BF16 never asks). Each call loads its tile configuration
 * and releases the tiles before it returns: no thread keeps AMX state between calls. SEQ4J_CPU_AMX=0 turns it off
 * (the v4 blocks run every product: how the tests cover both), as does a forced clone below AVX-512 (SEQ4J_CPU_ISA).
 */
#include "common.h"

#ifdef SEQ4J_X86_CLONES
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int amx_on;              /* set once (amx_init) */
static const char *amx_why_off; /* why not, for seq4j_cpu_info; NULL while on or not asked */
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void amx_init(void) {
    unsigned a, b, c, d;
    if (cpu_isa != ISA_AVX512 || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 22)) || !(d & (1u << 24))) {
        return; /* no AMX-BF16 and AMX-TILE here, or a clone below AVX-512 forced: nothing to say, asked or not */
    }
    const char *want = getenv("SEQ4J_CPU_AMX");
    if (want != NULL && strcmp(want, "0") == 0) {
        amx_why_off = "; BF16 products on AMX off (SEQ4J_CPU_AMX=0)";
        return;
    }
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0)); /* OSXSAVE: AVX-512's check (choose_isa) implies it */
    if ((xlo & (3u << 17)) != (3u << 17)) {
        amx_why_off = "; BF16 products on AMX off (the OS does not enable the tile state)";
        return;
    }
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
        amx_why_off = "; BF16 products on AMX off (the kernel refused the tile state: ARCH_REQ_XCOMP_PERM)";
        return;
    }
    amx_on = 1;
}

int amx_bf16_ready(void) {
    pthread_once(&amx_once, amx_init);
    return amx_on;
}

const char *amx_note(void) {
    pthread_once(&amx_once, amx_init);
    return amx_on ? "; BF16 products on AMX" : amx_why_off;
}

/* the 64-byte tile configuration (palette 1) */
struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

enum { KT = 32, /* k a tile: 16 pair-rows of B, 32 bf16 of a row of A */ RT = 5, /* rows of c a pass: 15 rows of A */
       CT = 4 /* C tiles: panels a pass */ };

/* the three exact bf16 parts of 16 floats, as 16-bit words (the top halves of hi, mid, lo) */
__attribute__((target("arch=x86-64-v4"))) static inline void split3(__m512 x, __m256i *hi, __m256i *mid, __m256i *lo) {
    const __m512i top = _mm512_set1_epi32((int) 0xffff0000u);
    __mmask16 nan = _mm512_fpclass_ps_mask(x, 0x81);     /* QNaN, SNaN */
    __mmask16 inf = _mm512_fpclass_ps_mask(x, 0x18);     /* +-Inf */
    __m512 h = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), top));
    h = _mm512_mask_mov_ps(h, nan, _mm512_castsi512_ps(_mm512_set1_epi32(0x7fc00000))); /* a NaN stays a NaN */
    __m512 r = _mm512_maskz_sub_ps((__mmask16) ~(nan | inf), x, h); /* exact: the low 16 bits of the significand */
    __m512 m = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(r), top));
    __m512 l = _mm512_sub_ps(r, m); /* exact, at most 8 significant bits: a bf16 */
    *hi = _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(h), 16));
    *mid = _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(m), 16));
    *lo = _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(l), 16));
}

/* A tile rows 3i, 3i + 1, 3i + 2 = the parts of a's row i over k [k0, k0 + width), zero past width (width <= KT) and
 * in the rows from `rows` to `tile_rows` (a last group of fewer rows) */
__attribute__((target("arch=x86-64-v4"))) static void a_tile(uint16_t (*dst)[KT], const float *a, int64_t lda,
                                                              int rows, int tile_rows, int64_t k0, int width) {
    for (int i = 0; i < tile_rows; i++) {
        const float *row = a + i * lda + k0;
        for (int half = 0; half < 2; half++) {
            int left = i < rows ? width - 16 * half : 0;
            __mmask16 in = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16) ((1u << left) - 1);
            __m256i hi, mid, lo;
            split3(_mm512_maskz_loadu_ps(in, row + 16 * half), &hi, &mid, &lo);
            _mm256_storeu_si256((__m256i *) &dst[3 * i][16 * half], hi);
            _mm256_storeu_si256((__m256i *) &dst[3 * i + 1][16 * half], mid);
            _mm256_storeu_si256((__m256i *) &dst[3 * i + 2][16 * half], lo);
        }
    }
}

/* the calling thread's A tiles for k of `chunks` KT (thread_scratch); NULL if memory is short */
static uint16_t (*a_tiles(int64_t chunks))[3 * RT][KT] {
    return thread_scratch(SCRATCH_AMX_TILES, (size_t) chunks * sizeof(uint16_t[3 * RT][KT])); /* < 2^27 x 960 B */
}

/*
 * Runs of panels [ranges[i][0], ranges[i][1]) of c = a B + beta c, B packed in BF16, on AMX; 0 if it could not run
 * (no buffer for the A tiles: the caller runs the FMA blocks). Several runs share one configuration and one making
 * of the A tiles (a team's part of an LSTM step: its units in each of the four gates). Rows in groups of up to RT (A tile: three rows a row of a), each group's A tiles
 * made once for all of k; then blocks of up to CT panels: tiles 0 and 1 hold A and B of a full KT of k, 2 and 3 those
 * of k's last k % KT (a tile's shape is fixed by the configuration), 4..7 the sums of the block's panels. One
 * configuration a call (loading it clears the tiles), released before the call returns.
 */
__attribute__((target("arch=x86-64-v4,amx-tile,amx-bf16"))) int amx_bf16_ranges(const struct gemm_packed_args *g,
                                                                               const int64_t (*ranges)[2], int count) {
    int64_t m = g->m, k = g->k, full = k / KT * KT, tail = k - full, pairs = (k + 1) / 2, tail_pairs = (tail + 1) / 2;
    if (m <= 0 || k <= 0) return 0; /* nothing to multiply: the FMA blocks' own handling */
    int group = (int) (m < RT ? m : RT);
    uint16_t (*at)[3 * RT][KT] = a_tiles((k + KT - 1) / KT);
    if (at == NULL) return 0;
    struct tile_config cfg = {0};
    cfg.palette = 1;
    cfg.rows[0] = (uint8_t) (3 * group), cfg.colsb[0] = 2 * KT;
    cfg.rows[1] = KT / 2, cfg.colsb[1] = 4 * PANEL;
    if (tail > 0) {
        cfg.rows[2] = (uint8_t) (3 * group), cfg.colsb[2] = (uint16_t) (4 * tail_pairs);
        cfg.rows[3] = (uint8_t) tail_pairs, cfg.colsb[3] = 4 * PANEL;
    }
    for (int t = 4; t < 8; t++) cfg.rows[t] = (uint8_t) (3 * group), cfg.colsb[t] = 4 * PANEL;
    _tile_loadconfig(&cfg);
    const uint32_t *bw = g->b;
    const int64_t panel_words = pairs * PANEL; /* one panel: its pairs of rows, PANEL words each */
    float sums[CT][3 * RT][PANEL] __attribute__((aligned(64)));
    for (int64_t r0 = 0; r0 < m; r0 += group) {
        int rows = (int) (m - r0 < group ? m - r0 : group);
        for (int64_t k0 = 0; k0 < k; k0 += KT) {
            a_tile(at[k0 / KT], g->a + r0 * g->lda, g->lda, rows, group, k0, (int) (k - k0 < KT ? k - k0 : KT));
        }
        for (int range = 0; range < count; range++)
        for (int64_t q0 = ranges[range][0], e = ranges[range][1]; q0 < e; q0 += CT) {
            int np = (int) (e - q0 < CT ? e - q0 : CT);
            _tile_zero(4);
            _tile_zero(5);
            _tile_zero(6);
            _tile_zero(7);
            for (int64_t k0 = 0; k0 < full; k0 += KT) {
                _tile_loadd(0, at[k0 / KT], 2 * KT);
                const uint32_t *bk = bw + q0 * panel_words + k0 / 2 * PANEL;
#define AMX_PANEL(j, c)                                                                                      \
                if (j < np) {                                                                               \
                    _tile_loadd(1, bk + j * panel_words, 4 * PANEL);                                        \
                    _tile_dpbf16ps(c, 0, 1);                                                                \
                }
                AMX_PANEL(0, 4) AMX_PANEL(1, 5) AMX_PANEL(2, 6) AMX_PANEL(3, 7)
#undef AMX_PANEL
            }
            if (tail > 0) {
                _tile_loadd(2, at[full / KT], 2 * KT);
                const uint32_t *bk = bw + q0 * panel_words + full / 2 * PANEL;
#define AMX_TAIL(j, c)                                                                                       \
                if (j < np) {                                                                               \
                    _tile_loadd(3, bk + j * panel_words, 4 * PANEL);                                        \
                    _tile_dpbf16ps(c, 2, 3);                                                                \
                }
                AMX_TAIL(0, 4) AMX_TAIL(1, 5) AMX_TAIL(2, 6) AMX_TAIL(3, 7)
#undef AMX_TAIL
            }
            _tile_stored(4, sums[0], sizeof sums[0][0]);
            _tile_stored(5, sums[1], sizeof sums[0][0]);
            _tile_stored(6, sums[2], sizeof sums[0][0]);
            _tile_stored(7, sums[3], sizeof sums[0][0]);
            for (int i = 0; i < rows; i++) {
                float *c = g->c + (r0 + i) * g->ldc;
                for (int j = 0; j < np; j++) {
                    int64_t col = (q0 + j) * PANEL, width = g->n - col < PANEL ? g->n - col : PANEL;
                    for (int64_t x = 0; x < width; x++) {
                        float s = (sums[j][3 * i + 2][x] + sums[j][3 * i + 1][x]) + sums[j][3 * i][x];
                        c[col + x] = g->beta == 0.0f ? s : fmaf(g->beta, c[col + x], s); /* beta 0: c not read */
                    }
                }
            }
        }
    }
    _tile_release();
    return 1;
}
#endif
