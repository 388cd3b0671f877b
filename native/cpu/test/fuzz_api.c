/*
 * fuzz_api.c - every entry point of seq4j_cpu.h with random shapes (0, 1, sizes around the vector widths, large
 * leading dimensions), on buffers of exactly the size the header says a call reads or writes, so that a sanitizer
 * (ASan + UBSan) catches any access one element past them; bad ids and labels must come back as
 * the documented SEQ4J_BAD_ID status. Results are compared with scalar references where those are cheap (GEMMs,
 * elementwise, embedding, softmax-xent, reductions); the LSTM, GRU and attention kernels are run for their memory
 * accesses only (kernels_selftest checks their values). Seeded: a failure names the seed and iteration to rerun.
 * Not a libFuzzer target: plain C, a SplitMix64 generator, bounded by time.
 *
 * Zero-width rows are the one place a bad id goes unreported: seq4j_embedding_backward with d = 0 and
 * seq4j_lstm_forward_seq with h = 0 read no id (there is nothing to add or gather), where seq4j_embedding_forward with
 * d = 0 still reports one; the Java side has checked the ids before either call.
 *
 * Usage: fuzz_api SECONDS SEED THREADS...  (e.g. fuzz_api 10 1 1 2 3: each iteration takes the next thread count)
 * `make check` runs it two seconds a clone against the library it built; `make check-sanitize` ten seconds a clone,
 * library and driver built with ASan + UBSan at -O1 -g (-fsanitize=thread in their place gave no report either).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../seq4j_cpu.h"

enum { NO_TRANS = 111, TRANS = 112, ROW_MAJOR = 101 };

static uint64_t rng;
static long iteration;
static int failures;

static uint64_t next(void) {
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static int below(int n) { return (int) (next() % (uint64_t) n); }
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float) (next() >> 40) / 16777216.0f; }

/* an extent: 0, 1, around the vector widths, or any up to `most` */
static int extent(int most) {
    static const int edges[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65};
    int e = below(3) ? edges[below(16)] : below(most + 1);
    return e > most ? most : e;
}
/* a leading dimension >= least: mostly least, sometimes a little or a lot more */
static int stride(int least) {
    int r = below(6);
    return r < 3 ? least : r < 5 ? least + 1 + below(17) : least + 1000 + below(100);
}

/* exactly n floats (n may be 0: a zero-size block, any access to it is reported) */
static float *floats(size_t n) {
    float *x = malloc(n * sizeof *x);
    if (!x && n) exit(2);
    for (size_t i = 0; i < n; i++) x[i] = uniform(-1, 1);
    return x;
}
static float *copy(const float *x, size_t n) {
    float *y = floats(n);
    if (n) memcpy(y, x, n * sizeof *x);
    return y;
}
static int32_t *ints(size_t n) {
    int32_t *x = malloc(n * sizeof *x);
    if (!x && n) exit(2);
    return x;
}

static void fail(const char *what, size_t i, double got, double want) {
    if (failures++ < 20) {
        fprintf(stderr, "fuzz_api: iteration %ld: %s[%zu] = %.9g, expected %.9g\n", iteration, what, i, got, want);
    }
}
static void near(const char *what, size_t i, double got, double want, double tol) {
    if (!(fabs(got - want) <= tol * (1.0 + fabs(want)))) fail(what, i, got, want);
}
static char shape[128]; /* the shape of the call that status() checks, for its message */
static void status(const char *what, int64_t got, int64_t want) {
    if (got != want && failures++ < 20) {
        fprintf(stderr, "fuzz_api: iteration %ld: %s = %#llx, expected %#llx (%s)\n", iteration, what,
                (unsigned long long) got, (unsigned long long) want, shape);
    }
}

/* rows-1 strides plus one row: what a (rows, cols) matrix with row stride ld takes, 0 when it is empty */
static size_t extent2(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : (size_t) (rows - 1) * ld + cols;
}

static void ref_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc) {
    if (order != ROW_MAJOR) abort();
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                s += (double) (ta == TRANS ? a[(size_t) p * lda + i] : a[(size_t) i * lda + p])
                   * (tb == TRANS ? b[(size_t) j * ldb + p] : b[(size_t) p * ldb + j]);
            }
            c[(size_t) i * ldc + j] = (float) (alpha * s + (beta == 0.0f ? 0.0 : beta * c[(size_t) i * ldc + j]));
        }
    }
}
static void ref_sgemv(int order, int trans, int rows, int cols, float alpha, const float *a, int lda, const float *x,
                      int incx, float beta, float *y, int incy) {
    if (order != ROW_MAJOR) abort();
    int outs = trans == TRANS ? cols : rows, ins = trans == TRANS ? rows : cols;
    for (int o = 0; o < outs; o++) {
        double s = 0;
        for (int i = 0; i < ins; i++) {
            s += (double) (trans == TRANS ? a[(size_t) i * lda + o] : a[(size_t) o * lda + i]) * x[(size_t) i * incx];
        }
        y[(size_t) o * incy] = (float) (alpha * s + (beta == 0.0f ? 0.0 : beta * y[(size_t) o * incy]));
    }
}

static void blas(int threads) {
    int m = extent(70), n = extent(70), k = extent(70), ta = below(2) ? TRANS : NO_TRANS, tb = below(2) ? TRANS : NO_TRANS;
    int lda = stride(ta == TRANS ? (m > 1 ? m : 1) : (k > 1 ? k : 1));
    int ldb = stride(tb == TRANS ? (k > 1 ? k : 1) : (n > 1 ? n : 1)), ldc = stride(n > 1 ? n : 1);
    float *a = floats(ta == TRANS ? extent2(k, m, lda) : extent2(m, k, lda));
    float *b = floats(tb == TRANS ? extent2(n, k, ldb) : extent2(k, n, ldb));
    size_t cs = extent2(m, n, ldc);
    float *c = floats(cs), *want = copy(c, cs);
    seq4j_sgemm(threads, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 2.0f, c, ldc);
    ref_sgemm(ROW_MAJOR, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 2.0f, want, ldc);
    for (size_t i = 0; i < cs; i++) near("sgemm c", i, c[i], want[i], 1e-5);
    free(a), free(b), free(c), free(want);

    int rows = extent(70), cols = extent(70), trans = below(2) ? TRANS : NO_TRANS, ld = stride(cols > 1 ? cols : 1);
    int incx = 1 + below(3), ins = trans == TRANS ? rows : cols, outs = trans == TRANS ? cols : rows;
    a = floats(extent2(rows, cols, ld));
    float *x = floats(ins == 0 ? 0 : (size_t) (ins - 1) * incx + 1), *y = floats(outs), *wy = copy(y, outs);
    seq4j_sgemv(threads, trans, rows, cols, 0.5f, a, ld, x, incx, 2.0f, y);
    ref_sgemv(ROW_MAJOR, trans, rows, cols, 0.5f, a, ld, x, incx, 2.0f, wy, 1);
    for (int i = 0; i < outs; i++) near("sgemv y", i, y[i], wy[i], 1e-5);
    free(a), free(x), free(y), free(wy);
}

static float bf16(float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    if ((u & 0x7FFFFFFF) > 0x7F800000) u |= 0x00400000;
    else u += 0x7FFF + ((u >> 16) & 1);
    u &= 0xFFFF0000;
    memcpy(&v, &u, 4);
    return v;
}

/* seq4j_pack, seq4j_gemm_packed and seq4j_gemm_tn against c = beta c + a w with w rounded as packed */
static void packed(int threads) {
    status("packed_floats(-1, 1)", seq4j_packed_floats(-1, 1, SEQ4J_PACKED_F32), -1);
    status("packed_floats(1, -1)", seq4j_packed_floats(1, -1, SEQ4J_PACKED_BF16), -1);
    status("packed_floats(precision 2)", seq4j_packed_floats(1, 1, 2), -1);
    (void) seq4j_packed_preferred();
    int m = extent(70), n = extent(70), k = extent(below(8) ? 70 : 600), precision = below(2), trans = below(2);
    int ldw = stride(trans ? (k > 1 ? k : 1) : (n > 1 ? n : 1));
    float *w = floats(trans ? extent2(n, k, ldw) : extent2(k, n, ldw));
    int64_t words = seq4j_packed_floats(k, n, precision);
    float *dst = floats((size_t) words);
    seq4j_pack(threads, dst, w, trans ? TRANS : NO_TRANS, k, n, ldw, precision);
    int lda = stride(k > 1 ? k : 1), ldc = stride(n > 1 ? n : 1);
    float beta = below(2) ? 0.0f : 0.5f;
    float *a = floats(extent2(m, k, lda));
    size_t cs = extent2(m, n, ldc);
    float *c = floats(cs);
    if (beta == 0.0f) for (size_t i = 0; i < cs; i++) c[i] = NAN; /* beta 0: c is not read */
    float *want = copy(c, cs);
    seq4j_gemm_packed(threads, c, a, dst, m, n, k, lda, ldc, beta, precision);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                float wv = trans ? w[(size_t) j * ldw + p] : w[(size_t) p * ldw + j];
                if (precision == SEQ4J_PACKED_BF16) wv = bf16(wv);
                s += (double) a[(size_t) i * lda + p] * wv;
                mag += fabs((double) a[(size_t) i * lda + p] * wv);
            }
            size_t o = (size_t) i * ldc + j;
            double ref = beta == 0.0f ? s : s + beta * want[o];
            near("gemm_packed c", o, c[o], ref, 1e-5 * (1 + mag));
        }
    }
    free(w), free(dst), free(a), free(c), free(want);

    /* gemm_tn: a (k, m) with stride lda >= m, b (k, n) with ldb >= n; now and then c of 256 rows or more and k past
     * 512, where b is packed first */
    if (below(16) == 0) {
        m = 256 + below(20), k = 513 + below(100), n = 1 + below(40);
        cs = extent2(m, n, ldc = stride(n));
    }
    lda = stride(m > 1 ? m : 1);
    int ldb = stride(n > 1 ? n : 1);
    a = floats(extent2(k, m, lda));
    float *b = floats(extent2(k, n, ldb));
    c = floats(cs);
    if (beta == 0.0f) for (size_t i = 0; i < cs; i++) c[i] = NAN;
    want = copy(c, cs);
    seq4j_gemm_tn(threads, c, a, b, m, n, k, lda, ldb, ldc, beta);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                s += (double) a[(size_t) p * lda + i] * b[(size_t) p * ldb + j];
                mag += fabs((double) a[(size_t) p * lda + i] * b[(size_t) p * ldb + j]);
            }
            size_t o = (size_t) i * ldc + j;
            near("gemm_tn c", o, c[o], beta == 0.0f ? s : s + beta * want[o], 1e-5 * (1 + mag));
        }
    }
    /* strides too small (the Java side refuses them): nothing computed, c untouched */
    if (m > 0 && n > 1 && k > 1) {
        float *before = copy(c, cs);
        seq4j_gemm_tn(threads, c, a, b, m, n, k, m - 1, ldb, ldc, beta);
        seq4j_gemm_tn(threads, c, a, b, m, n, k, lda, n - 1, ldc, beta);
        seq4j_gemm_tn(threads, c, a, b, m, n, k, lda, ldb, n - 1, beta);
        float *pk = floats((size_t) seq4j_packed_floats(k, n, SEQ4J_PACKED_F32));
        seq4j_gemm_packed(threads, c, a, pk, m, n, k, k - 1, ldc, beta, SEQ4J_PACKED_F32);
        seq4j_gemm_packed(threads, c, a, pk, m, n, k, k, n - 1, beta, SEQ4J_PACKED_F32);
        for (size_t i = 0; i < cs; i++) {
            if (memcmp(&c[i], &before[i], sizeof *c)) fail("c after a call with a too small stride", i, c[i], before[i]);
        }
        free(before), free(pk);
    }
    free(a), free(b), free(c), free(want);
}

static void elementwise(int threads) {
    int64_t n = below(4) ? extent(70) : below(100000);
    float *x = floats((size_t) n), *y = floats((size_t) n), *y0 = copy(y, (size_t) n), *z = floats((size_t) n);
    seq4j_fill_f32(threads, y, n, 3.0f);
    for (int64_t i = 0; i < n; i++) if (y[i] != 3.0f) fail("fill_f32", (size_t) i, y[i], 3);
    int32_t *ix = ints((size_t) n);
    seq4j_fill_i32(threads, ix, n, -7);
    for (int64_t i = 0; i < n; i++) if (ix[i] != -7) fail("fill_i32", (size_t) i, ix[i], -7);
    free(ix);
    memcpy(y, y0, (size_t) n * sizeof *y);
    seq4j_scale(threads, y, n, 0.5f);
    for (int64_t i = 0; i < n; i++) if (y[i] != y0[i] * 0.5f) fail("scale", (size_t) i, y[i], y0[i] * 0.5f);
    memcpy(y, y0, (size_t) n * sizeof *y);
    seq4j_axpy(threads, y, x, n, 0.25f);
    for (int64_t i = 0; i < n; i++) near("axpy", (size_t) i, y[i], y0[i] + 0.25f * x[i], 1e-6);
    seq4j_mul(threads, z, x, y0, n);
    for (int64_t i = 0; i < n; i++) if (z[i] != x[i] * y0[i]) fail("mul", (size_t) i, z[i], x[i] * y0[i]);
    seq4j_mul(threads, z, z, z, n); /* aliased */
    seq4j_sigmoid_forward(threads, y, x, n);
    for (int64_t i = 0; i < n; i++) near("sigmoid", (size_t) i, y[i], 1 / (1 + exp(-(double) x[i])), 1e-5);
    seq4j_sigmoid_backward(threads, z, y, x, n);
    seq4j_tanh_forward(threads, y, x, n);
    for (int64_t i = 0; i < n; i++) near("tanh", (size_t) i, y[i], tanh((double) x[i]), 1e-5);
    seq4j_tanh_backward(threads, z, y, x, n);
    seq4j_tanh_forward(threads, z, z, n); /* aliased */
    seq4j_dropout_mask(threads, z, n, 0.3f, next());
    for (int64_t i = 0; i < n; i++) if (z[i] != 0.0f && z[i] != 1.0f / 0.7f) fail("dropout", (size_t) i, z[i], 1 / 0.7);
    float loss = 0;
    seq4j_mse_forward(threads, &loss, x, y0, n, 0.5f);
    double ls = 0;
    for (int64_t i = 0; i < n; i++) ls += ((double) x[i] - y0[i]) * ((double) x[i] - y0[i]);
    near("mse", 0, loss, 0.5 * ls, 1e-4);
    seq4j_mse_backward(threads, z, x, y0, n, 0.5f);
    seq4j_sum_of_squares(threads, &loss, x, n);
    ls = 0;
    for (int64_t i = 0; i < n; i++) ls += (double) x[i] * x[i];
    near("sum_of_squares", 0, loss, ls, 1e-5);
    float *m1 = floats((size_t) n), *m2 = floats((size_t) n);
    for (int64_t i = 0; i < n; i++) m2[i] = fabsf(m2[i]);
    memcpy(z, x, (size_t) n * sizeof *z);
    seq4j_sgd_update(threads, y, x, n, 0.1f);
    seq4j_momentum_update(threads, y, m1, x, n, 0.1f, 0.9f);
    seq4j_adagrad_update(threads, y, m2, x, n, 0.1f, 1e-7f);
    seq4j_rmsprop_update(threads, y, m2, x, n, 0.1f, 0.99f, 1e-7f);
    seq4j_adam_update(threads, y, m1, m2, z, n, 0.01f, 0.9f, 0.999f, 1e-8f, below(2));
    free(x), free(y), free(y0), free(z), free(m1), free(m2);

    /* rows and columns */
    int rows = extent(70), cols = extent(70), f2 = extent(40), t = extent(9);
    float *a = floats((size_t) rows * cols), *b = floats((size_t) rows * f2), *o = floats((size_t) rows * (cols + f2));
    seq4j_concat_columns(threads, o, a, b, rows, cols, f2);
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < cols; j++) if (o[(size_t) r * (cols + f2) + j] != a[(size_t) r * cols + j]) fail("concat", (size_t) r, 0, 1);
        for (int j = 0; j < f2; j++) if (o[(size_t) r * (cols + f2) + cols + j] != b[(size_t) r * f2 + j]) fail("concat", (size_t) r, 0, 1);
    }
    float *da = floats((size_t) rows * cols), *db = floats((size_t) rows * f2);
    seq4j_split_columns(threads, da, db, o, rows, cols, f2);
    if (rows && cols && memcmp(da, a, (size_t) rows * cols * sizeof *a)) fail("split", 0, 0, 1);
    if (rows && f2 && memcmp(db, b, (size_t) rows * f2 * sizeof *b)) fail("split", 1, 0, 1);
    float *bias = floats((size_t) cols), *a0 = copy(a, (size_t) rows * cols);
    seq4j_add_bias(threads, a, bias, rows, cols);
    for (size_t i = 0; i < (size_t) rows * cols; i++) if (a[i] != a0[i] + bias[i % cols]) fail("add_bias", i, a[i], a0[i] + bias[i % cols]);
    float *sums = floats((size_t) cols), *s0 = copy(sums, (size_t) cols);
    seq4j_sum_rows(threads, sums, a, 0.5f, rows, cols);
    for (int j = 0; j < cols; j++) {
        double s = 0.5 * s0[j];
        for (int r = 0; r < rows; r++) s += a[(size_t) r * cols + j];
        near("sum_rows", (size_t) j, sums[j], s, 1e-5 * (1 + rows));
    }
    int32_t *am = ints((size_t) rows);
    seq4j_argmax_rows(threads, am, a, rows, cols);
    for (int r = 0; r < rows; r++) {
        int best = 0;
        for (int j = 1; j < cols; j++) if (a[(size_t) r * cols + j] > a[(size_t) r * cols + best]) best = j;
        if (am[r] != best) fail("argmax_rows", (size_t) r, am[r], best);
    }
    seq4j_softmax_forward(threads, a0, a, rows, cols);
    for (int r = 0; r < rows; r++) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < cols; j++) mx = fmax(mx, a[(size_t) r * cols + j]);
        for (int j = 0; j < cols; j++) s += exp(a[(size_t) r * cols + j] - mx);
        for (int j = 0; j < cols; j++) near("softmax", (size_t) r * cols + j, a0[(size_t) r * cols + j], exp(a[(size_t) r * cols + j] - mx) / s, 1e-5);
    }
    seq4j_softmax_backward(threads, da, a0, a, rows, cols);
    int32_t *in = ints((size_t) rows * t * cols), *out = ints((size_t) rows * t * cols);
    for (size_t i = 0; i < (size_t) rows * t * cols; i++) in[i] = (int32_t) i;
    seq4j_swap_axes01(threads, out, in, rows, t, cols);
    for (int r = 0; r < rows; r++) for (int s = 0; s < t; s++) for (int j = 0; j < cols; j++) {
        size_t w = ((size_t) s * rows + r) * cols + j, g = ((size_t) r * t + s) * cols + j;
        if (out[w] != in[g]) fail("swap_axes01", w, out[w], in[g]);
    }
    free(a), free(b), free(o), free(da), free(db), free(bias), free(a0), free(sums), free(s0), free(am), free(in), free(out);
}

/* ids in [0, v), some bad ones (-1, v, INT32_MIN, INT32_MAX) when `bad`; returns the status they should give */
static int64_t make_ids(int32_t *ids, int m, int v, int bad, int allow_ignore) {
    int64_t want = 0;
    for (int i = 0; i < m; i++) {
        ids[i] = v > 0 ? below(v) : -1;
        if (allow_ignore && below(5) == 0) ids[i] = -1;
        if (v == 0 && !allow_ignore) ids[i] = 0;
        if (bad && below(4) == 0) {
            static const int32_t bads[] = {-2, INT32_MIN, INT32_MAX, -1};
            int32_t pick = below(2) ? v + below(3) : bads[below(allow_ignore ? 3 : 4)];
            ids[i] = pick;
        }
        int ok = (ids[i] >= 0 && ids[i] < v) || (allow_ignore && ids[i] == -1);
        if (!ok && want == 0) want = SEQ4J_BAD_ID(i, ids[i]);
    }
    return want;
}

static void ids_kernels(int threads) {
    int m = extent(70), v = extent(70), d = extent(below(4) ? 70 : 300), bad = below(2);
    int32_t *ids = ints((size_t) m);
    int64_t want = make_ids(ids, m, v, bad, 0);
    snprintf(shape, sizeof shape, "m %d, v %d, d %d", m, v, d);
    float *W = floats((size_t) v * d), *out = floats((size_t) m * d);
    status("embedding_forward status", seq4j_embedding_forward(threads, out, W, ids, m, v, d), want);
    for (int i = 0; i < m; i++) for (int j = 0; j < d; j++) {
        float e = ids[i] >= 0 && ids[i] < v ? W[(size_t) ids[i] * d + j] : 0.0f;
        if (out[(size_t) i * d + j] != e) fail("embedding_forward out", (size_t) i * d + j, out[(size_t) i * d + j], e);
    }
    float *dW = floats((size_t) v * d);
    double *ref = calloc((size_t) v * d + 1, sizeof *ref);
    for (size_t i = 0; i < (size_t) v * d; i++) ref[i] = dW[i];
    for (int i = 0; i < m; i++) if (ids[i] >= 0 && ids[i] < v) for (int j = 0; j < d; j++) ref[(size_t) ids[i] * d + j] += out[(size_t) i * d + j];
    /* rows of width 0: the scatter-add reads no id (nothing to add), so it reports none */
    status("embedding_backward status", seq4j_embedding_backward(threads, dW, ids, out, m, v, d), d ? want : 0);
    for (size_t i = 0; i < (size_t) v * d; i++) near("embedding_backward dW", i, dW[i], ref[i], 1e-5 * (1 + m));
    free(ids), free(W), free(out), free(dW), free(ref);

    /* softmax-xent: labels in [0, v) or -1 */
    ids = ints((size_t) m);
    want = make_ids(ids, m, v, bad, 1);
    snprintf(shape, sizeof shape, "m %d, v %d", m, v);
    float *logits = floats((size_t) m * v), *probs = floats((size_t) m * v), loss = -1;
    status("xent_forward status", seq4j_softmax_xent_forward(threads, probs, &loss, logits, ids, m, v), want);
    double ls = 0;
    int count = 0;
    for (int r = 0; r < m; r++) {
        if (ids[r] < 0 || ids[r] >= v) continue;
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < v; j++) mx = fmax(mx, logits[(size_t) r * v + j]);
        for (int j = 0; j < v; j++) s += exp(logits[(size_t) r * v + j] - mx);
        ls += -(logits[(size_t) r * v + ids[r]] - mx - log(s));
        count++;
    }
    near("xent loss", 0, loss, count ? ls / count : 0, 1e-4);
    status("xent_backward status", seq4j_softmax_xent_backward(threads, logits, probs, ids, 1.0f, m, v), want);
    seq4j_softmax_xent_backward(threads, probs, probs, ids, 1.0f, m, v); /* aliased */
    free(ids), free(logits), free(probs);
}

static float *packed_weights(int threads, int k, int n, int precision) {
    float *w = floats((size_t) k * n), *dst = floats((size_t) seq4j_packed_floats(k, n, precision));
    seq4j_pack(threads, dst, w, NO_TRANS, k, n, n > 1 ? n : 1, precision);
    free(w);
    return dst;
}

static void recurrent(int threads) {
    int t = below(4) ? 1 + below(4) : 0, n = extent(below(3) ? 20 : 40), h = extent(below(4) ? 40 : 80);
    int precision = below(2), skip = below(2);
    size_t nh = (size_t) n * h;
    /* cells */
    float *gates = floats(4 * nh), *cp = floats(nh), *hn = floats(nh), *cn = floats(nh), *dA = floats(4 * nh);
    float *dcp = floats(nh), *dhn = floats(nh), *dhc = floats(nh), *dcn = floats(nh);
    seq4j_lstm_cell_forward(threads, hn, cn, gates, cp, n, h);
    seq4j_lstm_cell_backward(threads, dA, dcp, gates, cn, cp, dhn, below(2) ? dhc : NULL, dcn, n, h);
    float *g3 = floats(3 * nh), *rh = floats(nh), *drh = floats(nh), *dA3 = floats(3 * nh);
    seq4j_gru_gates_forward(threads, rh, g3, cp, n, h);
    seq4j_gru_cell_forward(threads, hn, g3, cp, n, h);
    seq4j_gru_cell_backward(threads, dA3, g3, cp, dhn, n, h);
    seq4j_gru_gates_backward(threads, dA3, dcp, g3, cp, dhn, drh, n, h);
    free(gates), free(cp), free(hn), free(cn), free(dA), free(dcp), free(dhn), free(dhc), free(dcn), free(g3), free(rh);
    free(drh), free(dA3);

    /* LSTM sequences, with and without an embedding table */
    float *wh = packed_weights(threads, h, 4 * h, precision), *wht = packed_weights(threads, 4 * h, h, precision);
    float *hs = floats((size_t) (t + 1) * nh), *cs = floats((size_t) (t + 1) * nh), *g = floats((size_t) t * 4 * nh);
    int v = extent(20), with_table = below(2);
    float *table = floats((size_t) v * 4 * h);
    int32_t *ids = ints((size_t) t * n);
    int64_t want = make_ids(ids, t * n, v, below(2), 0);
    snprintf(shape, sizeof shape, "t %d, n %d, h %d, v %d", t, n, h, v);
    int64_t got = seq4j_lstm_forward_seq(threads, hs, cs, g, wh, t, n, h, skip, precision, with_table ? table : NULL,
                                         with_table ? ids : NULL, v);
    status("lstm_forward_seq status", got, with_table && h ? want : 0); /* h = 0: no rows to gather, no id read */
    dA = floats((size_t) t * 4 * nh);
    float *dh0 = floats(nh), *dc0 = floats(nh), *work = floats(3 * nh), *dhs = floats((size_t) t * nh);
    float *dhl = floats(nh), *dcl = floats(nh);
    int with_dhs = below(2);
    seq4j_lstm_backward_seq(threads, dA, below(2) ? dh0 : NULL, dc0, work, g, cs, with_dhs ? dhs : NULL,
                            with_dhs ? NULL : dhl, below(2) ? dcl : NULL, wht, t, n, h, precision);
    free(wh), free(wht), free(hs), free(cs), free(g), free(table), free(ids), free(dA), free(dh0), free(dc0), free(work);
    free(dhs), free(dhl), free(dcl);

    /* GRU sequences */
    float *zr = packed_weights(threads, h, 2 * h, precision), *hh = packed_weights(threads, h, h, precision);
    float *zrt = packed_weights(threads, 2 * h, h, precision), *hht = packed_weights(threads, h, h, precision);
    hs = floats((size_t) (t + 1) * nh), g = floats((size_t) t * 3 * nh);
    float *rhs = floats((size_t) t * nh);
    seq4j_gru_forward_seq(threads, hs, g, rhs, zr, hh, t, n, h, skip, precision);
    dA = floats((size_t) t * 3 * nh), dh0 = floats(nh), dhs = floats((size_t) t * nh), drh = floats(nh);
    seq4j_gru_backward_seq(threads, dA, dh0, dhs, drh, g, hs, zrt, hht, t, n, h, precision);
    free(zr), free(hh), free(zrt), free(hht), free(hs), free(g), free(rhs), free(dA), free(dh0), free(dhs), free(drh);
}

static void attention(int threads) {
    int t = extent(below(2) ? 9 : 40), n = extent(20), hd = extent(70), td = extent(6);
    size_t tnh = (size_t) t * n * hd, nh = (size_t) n * hd;
    float *hs = floats(tnh), *h = floats(nh), *a = floats((size_t) n * t), *dhs = floats(tnh), *dh = floats(nh);
    float *da = floats((size_t) n * t), *c = floats(nh), *dc = floats(nh);
    seq4j_attention_weight_forward(threads, a, hs, h, t, n, hd);
    seq4j_attention_weight_backward(threads, dhs, dh, a, hs, h, da, t, n, hd);
    seq4j_weight_sum_forward(threads, c, hs, a, t, n, hd);
    for (int r = 0; r < n; r++) for (int j = 0; j < hd; j++) {
        double s = 0;
        for (int s_ = 0; s_ < t; s_++) s += (double) a[(size_t) r * t + s_] * hs[((size_t) s_ * n + r) * hd + j];
        near("weight_sum c", (size_t) r * hd + j, c[(size_t) r * hd + j], s, 1e-5 * (1 + t));
    }
    seq4j_weight_sum_backward(threads, dhs, da, hs, a, dc, t, n, hd);
    float *a2 = floats((size_t) td * n * t), *c2 = floats((size_t) td * nh), *hdec = floats((size_t) td * nh);
    float *ddec = floats((size_t) td * nh), *work = floats((size_t) n * t), *dc2 = floats((size_t) td * nh);
    seq4j_time_attention_forward(threads, a2, c2, hs, hdec, t, td, n, hd);
    seq4j_time_attention_backward(threads, dhs, ddec, work, a2, hs, hdec, dc2, t, td, n, hd);
    free(hs), free(h), free(a), free(dhs), free(dh), free(da), free(c), free(dc), free(a2), free(c2), free(hdec);
    free(ddec), free(work), free(dc2);
}

/* NaN, infinities and huge values (a diverged training step) through the kernels that take exp or tanh of their inputs:
 * no value is checked here beyond NaN staying NaN, only that no conversion or shift is undefined on the way */
static void specials(int threads) {
    static const float odd[] = {NAN, -NAN, INFINITY, -INFINITY, 1e38f, -1e38f, 3e38f, -3e38f, 89.0f, -89.0f, 0.0f, -0.0f};
    int n = extent(40), h = extent(20), v = 1 + extent(20);
    size_t nh = (size_t) n * h;
    float *x = floats(4 * nh), *y = floats(4 * nh), *c = floats(nh), *hn = floats(nh), *cn = floats(nh);
    for (size_t i = 0; i < 4 * nh; i++) if (below(2)) x[i] = odd[below(12)];
    for (size_t i = 0; i < nh; i++) if (below(2)) c[i] = odd[below(12)];
    seq4j_sigmoid_forward(threads, y, x, (int64_t) (4 * nh));
    for (size_t i = 0; i < 4 * nh; i++) if (isnan(x[i]) && !isnan(y[i])) fail("sigmoid(NaN)", i, y[i], NAN);
    seq4j_tanh_forward(threads, y, x, (int64_t) (4 * nh));
    for (size_t i = 0; i < 4 * nh; i++) if (isnan(x[i]) && !isnan(y[i])) fail("tanh(NaN)", i, y[i], NAN);
    memcpy(y, x, 4 * nh * sizeof *x);
    seq4j_lstm_cell_forward(threads, hn, cn, y, c, n, h);
    memcpy(y, x, 3 * nh * sizeof *x);
    seq4j_gru_gates_forward(threads, hn, y, c, n, h);
    seq4j_gru_cell_forward(threads, hn, y, c, n, h);
    int m = (int) (4 * nh / (size_t) v);
    seq4j_softmax_forward(threads, y, x, m, v);
    int32_t *labels = ints((size_t) m);
    for (int r = 0; r < m; r++) labels[r] = below(v);
    float loss;
    (void) seq4j_softmax_xent_forward(threads, y, &loss, x, labels, m, v);
    float *a = floats((size_t) v), *hs = floats((size_t) v * n), *q = floats((size_t) n);
    for (size_t i = 0; i < (size_t) v * n; i++) if (below(2)) hs[i] = odd[below(12)];
    seq4j_attention_weight_forward(threads, a, hs, q, v, 1, n); /* hs (v, 1, n), h (1, n) */
    free(hs), free(q);
    free(x), free(y), free(c), free(hn), free(cn), free(labels), free(a);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: fuzz_api SECONDS SEED THREADS...\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    uint64_t seed = strtoull(argv[2], NULL, 10);
    int counts = argc - 3, threads[16];
    if (counts > 16) counts = 16;
    for (int i = 0; i < counts; i++) threads[i] = atoi(argv[3 + i]);
    seq4j_set_blas((void *) ref_sgemm, (void *) ref_sgemv);
    (void) seq4j_cpu_info();
    (void) seq4j_pool_workers();
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (iteration = 0;; iteration++) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double) (now.tv_sec - t0.tv_sec) + 1e-9 * (double) (now.tv_nsec - t0.tv_nsec) >= seconds) break;
        rng = seed * 0x100000001B3ULL + (uint64_t) iteration; /* each iteration reproducible on its own */
        int th = threads[iteration % counts];
        switch (iteration % 7) {
        case 6: specials(th); break;
        case 0: blas(th); break;
        case 1: packed(th); break;
        case 2: elementwise(th); break;
        case 3: ids_kernels(th); break;
        case 4: recurrent(th); break;
        default: attention(th); break;
        }
    }
    if (failures) {
        fprintf(stderr, "fuzz_api: %d failures (seed %llu, %s)\n", failures, (unsigned long long) seed, seq4j_cpu_info());
        return 1;
    }
    printf("fuzz_api: %ld iterations clean with seed %llu (%s)\n", iteration, (unsigned long long) seed, seq4j_cpu_info());
    return 0;
}
