/*
 * camd_ops: fused element-wise kernels for the wasm backend, run natively on views of the
 * WebAssembly heap (no copies). Each replaces a chain of small tfjs kernels of the CAMD step:
 *
 *   geluForward(heap, x, y, n)                       y = ½x(1 + erf(x/√2))         (CAMD.md §2)
 *   geluBackward(heap, x, dy, dx, n)                 dx = dy·(Φ(x) + x·φ(x))
 *   layerNormForward(heap, x, g, b, y, mean, rstd, rows, cols, eps)                   (§2)
 *   layerNormBackward(heap, dy, x, mean, rstd, g, dx, dg, db, rows, cols)
 *   adamw(heap, p, g, m, v, p2, m2, v2, n, scale, lr, beta1, beta2, eps, decay, bc1, bc2)  (§4)
 *
 * `heap` is a Float32Array over the whole heap; every other tensor argument is an offset into it,
 * in elements. erf is Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7, the formula tfjs's cpu
 * backend uses) with a Cephes-style expf, written without branches so that the compiler
 * vectorises the loops (reductions through `omp simd`; no global fast-math); on x86-64 an
 * AVX2+FMA clone is picked at load time when the CPU has it.
 *
 * Every kernel splits its work across threads (OpenMP, where the compiler has it: -fopenmp; else
 * one thread): element-wise kernels in blocks of BLOCK elements, row kernels by rows, LayerNorm's
 * dγ/dβ as one partial sum per thread added in thread order — a fixed order for a given thread
 * count, so a run is bit-reproducible on the same machine and settings. Work under PAR_MIN
 * elements stays on the calling thread. setThreads(n) sets the count (default: one per core).
 */
#include <node_api.h>
#include "thread_count.h"
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Elements per block of an element-wise kernel, and the least work worth waking threads for. */
#define BLOCK 16384
#define PAR_MIN 32768

#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define VECTORISED __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VECTORISED
#endif

/* exp(x) for x ≤ 0 (clamped below at -87, where it underflows anyway). */
static inline float exp_nonpos(float x) {
  x = x < -87.0f ? -87.0f : x;
  /* nearest integer by the 1.5·2²³ trick: exact in IEEE arithmetic, hence no -ffast-math for this file */
  float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float s;
  memcpy(&s, &bits, sizeof s);
  return p * s;
}

/* Φ(x) = ½(1 + erf(x/√2)) and e^{-x²/2}, from one exp. */
static inline float phi_cdf(float v, float *gauss) {
  float z = fabsf(v) * 0.70710678118654752f;
  float t = 1.0f / (1.0f + 0.3275911f * z);
  float ex = exp_nonpos(-z * z);
  float e = 1.0f - ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t * ex;
  *gauss = ex;
  return 0.5f * (1.0f + copysignf(e, v));
}

VECTORISED static void gelu_forward(const float *restrict x, float *restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float g;
    y[i] = x[i] * phi_cdf(x[i], &g);
  }
}

VECTORISED static void gelu_backward(const float *restrict x, const float *restrict dy, float *restrict dx, int64_t n) {
  const float inv_sqrt_2pi = 0.39894228040143268f;
  for (int64_t i = 0; i < n; i++) {
    float g;
    float cdf = phi_cdf(x[i], &g);
    dx[i] = dy[i] * (cdf + x[i] * inv_sqrt_2pi * g);
  }
}

VECTORISED static void layer_norm_forward(const float *restrict x, const float *restrict gamma, const float *restrict beta, float *restrict y,
                                          float *restrict mean, float *restrict rstd, int64_t rows, int64_t cols, float eps) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < cols; c++) s += xr[c];
    float mu = s / (float)cols;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t c = 0; c < cols; c++) {
      float d = xr[c] - mu;
      ss += d * d;
    }
    float rs = 1.0f / sqrtf(ss / (float)cols + eps);
    for (int64_t c = 0; c < cols; c++) yr[c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
    mean[r] = mu;
    rstd[r] = rs;
  }
}

/* dγ and dβ are accumulated over rows: the caller zeroes them. */
VECTORISED static void layer_norm_backward(const float *restrict dy, const float *restrict x, const float *restrict mean, const float *restrict rstd,
                                           const float *restrict gamma, float *restrict dx, float *restrict dgamma, float *restrict dbeta,
                                           int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols, *dyr = dy + r * cols;
    float *dxr = dx + r * cols;
    float mu = mean[r], rs = rstd[r];
    float a = 0.0f, b = 0.0f; /* Σ dx̂ and Σ dx̂·x̂ */
#pragma omp simd reduction(+ : a, b)
    for (int64_t c = 0; c < cols; c++) {
      float xh = (xr[c] - mu) * rs;
      float dxh = dyr[c] * gamma[c];
      a += dxh;
      b += dxh * xh;
      dgamma[c] += dyr[c] * xh;
      dbeta[c] += dyr[c];
    }
    a /= (float)cols;
    b /= (float)cols;
    for (int64_t c = 0; c < cols; c++) {
      float xh = (xr[c] - mu) * rs;
      dxr[c] = rs * (dyr[c] * gamma[c] - a - xh * b);
    }
  }
}

/*
 * PyTorch AdamW (§4): p ← p·decay; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * p ← p − (lr/bc1)·m / (√v/bc2 + ε), with g scaled by the clipping coefficient first.
 */
VECTORISED static void adamw(const float *restrict p, const float *restrict g, const float *restrict m, const float *restrict v, float *restrict p2,
                             float *restrict m2, float *restrict v2, int64_t n, float scale, float lr, float beta1, float beta2, float eps,
                             float decay, float bc1, float bc2) {
  const float step = lr / bc1, inv_bc2 = 1.0f / bc2;
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] * scale;
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m2[i] = mi;
    v2[i] = vi;
    p2[i] = p[i] * decay - step * mi / (sqrtf(vi) * inv_bc2 + eps);
  }
}

/*
 * The same AdamW update with the moments m, v held outside the wasm heap (host memory owned by
 * JavaScript) and updated in place; p and g are on the heap, p2 is the new parameter.
 */
VECTORISED static void adamw_host(const float *restrict p, const float *restrict g, float *restrict p2, float *restrict m, float *restrict v, int64_t n,
                                  float scale, float lr, float beta1, float beta2, float eps, float decay, float bc1, float bc2) {
  const float step = lr / bc1, inv_bc2 = 1.0f / bc2;
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] * scale;
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p2[i] = p[i] * decay - step * mi / (sqrtf(vi) * inv_bc2 + eps);
  }
}

/*
 * EMA of §2.1 into a momentum copy held in host memory: mm ← mm·a + p·b with a = m and b = 1 − m
 * rounded to float32 first, each product rounded, then the sum (the tfjs chain
 * mm.mul(m).add(p.mul(1 − m)) to the bit; built with -ffp-contract=off so no FMA fuses them).
 */
VECTORISED static void ema_host(const float *restrict p, float *restrict mm, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; i++) mm[i] = mm[i] * a + p[i] * b;
}

/*
 * Row sums (and means) accumulated in double: y[r] = scale · Σ_c x[r·cols + c], rounded once to
 * float32. tfjs-wasm's own Sum accumulates in float32 one element after another (relative error
 * 3e-4 at 1e6 elements, 2e-2 at 1.6e7); this one is exact to float32 rounding at any length.
 */
VECTORISED static void sum_rows(const float *restrict x, float *restrict y, int64_t rows, int64_t cols, double scale) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (int64_t c = 0; c < cols; c++) acc += (double)xr[c];
    y[r] = (float)(acc * scale);
  }
}

/*
 * Column sums (and means) accumulated in double: y[c] = scale · Σ_r x[r·cols + c], rounded once
 * to float32, for the columns [c0, c1) — the rows read in order, each into `acc` (c1 − c0 doubles).
 * A bias's gradient is such a sum over the batch and tokens: summed where it lies, it needs no
 * transpose to rows first.
 */
VECTORISED static void sum_cols(const float *restrict x, float *restrict y, int64_t rows, int64_t cols, int64_t c0, int64_t c1, double scale,
                                double *restrict acc) {
  const int64_t w = c1 - c0;
  for (int64_t c = 0; c < w; c++) acc[c] = 0.0;
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols + c0;
    for (int64_t c = 0; c < w; c++) acc[c] += (double)xr[c];
  }
  for (int64_t c = 0; c < w; c++) y[c0 + c] = (float)(acc[c] * scale);
}

/* ---- The work split across threads ---- */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Rows per chunk of a row kernel: about BLOCK elements, at least one row. */
static int64_t row_block(int64_t cols) { return cols >= BLOCK ? 1 : BLOCK / (cols > 0 ? cols : 1); }

static int max_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

static void gelu_forward_par(const float *x, float *y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t lo = 0; lo < n; lo += BLOCK) gelu_forward(x + lo, y + lo, min64(BLOCK, n - lo));
}

static void gelu_backward_par(const float *x, const float *dy, float *dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t lo = 0; lo < n; lo += BLOCK) gelu_backward(x + lo, dy + lo, dx + lo, min64(BLOCK, n - lo));
}

static void layer_norm_forward_par(const float *x, const float *g, const float *b, float *y, float *mean, float *rstd, int64_t rows,
                                   int64_t cols, float eps) {
  const int64_t rb = row_block(cols);
#pragma omp parallel for schedule(static) if (rows * cols >= PAR_MIN)
  for (int64_t r = 0; r < rows; r += rb)
    layer_norm_forward(x + r * cols, g, b, y + r * cols, mean + r, rstd + r, min64(rb, rows - r), cols, eps);
}

/*
 * Rows split into one contiguous share per thread; each thread's dγ, dβ summed over its share,
 * then the shares added in thread order. One thread: the plain row-order sum.
 */
static int layer_norm_backward_par(const float *dy, const float *x, const float *mean, const float *rstd, const float *g, float *dx,
                                   float *dg, float *db, int64_t rows, int64_t cols) {
  const int T = rows * cols >= PAR_MIN ? max_threads() : 1;
  if (T <= 1) {
    memset(dg, 0, (size_t)cols * sizeof(float));
    memset(db, 0, (size_t)cols * sizeof(float));
    layer_norm_backward(dy, x, mean, rstd, g, dx, dg, db, rows, cols);
    return 1;
  }
  float *part = calloc((size_t)T * 2 * (size_t)cols, sizeof(float));
  if (!part) return 0;
  int used = 1;
#pragma omp parallel num_threads(T)
  {
#ifdef _OPENMP
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const int t = 0, nt = 1;
#endif
    if (t == 0) used = nt;
    const int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    float *pg = part + (size_t)t * 2 * (size_t)cols, *pb = pg + cols;
    layer_norm_backward(dy + r0 * cols, x + r0 * cols, mean + r0, rstd + r0, g, dx + r0 * cols, pg, pb, r1 - r0, cols);
  }
  for (int64_t c = 0; c < cols; c++) {
    float sg = 0.0f, sb = 0.0f;
    for (int t = 0; t < used; t++) {
      sg += part[(size_t)t * 2 * (size_t)cols + c];
      sb += part[(size_t)t * 2 * (size_t)cols + cols + c];
    }
    dg[c] = sg;
    db[c] = sb;
  }
  free(part);
  return 1;
}

static void adamw_par(float *const t[7], int64_t n, const float f[8]) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t lo = 0; lo < n; lo += BLOCK)
    adamw(t[0] + lo, t[1] + lo, t[2] + lo, t[3] + lo, t[4] + lo, t[5] + lo, t[6] + lo, min64(BLOCK, n - lo), f[0], f[1], f[2], f[3], f[4],
          f[5], f[6], f[7]);
}

static void adamw_host_par(const float *p, const float *g, float *p2, float *m, float *v, int64_t n, const float f[8]) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t lo = 0; lo < n; lo += BLOCK)
    adamw_host(p + lo, g + lo, p2 + lo, m + lo, v + lo, min64(BLOCK, n - lo), f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
}

static void ema_host_par(const float *p, float *mm, int64_t n, float a, float b) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
  for (int64_t lo = 0; lo < n; lo += BLOCK) ema_host(p + lo, mm + lo, min64(BLOCK, n - lo), a, b);
}

/* Columns in bands of COL_BAND, the bands shared among the threads. */
#define COL_BAND 512

static void sum_cols_par(const float *x, float *y, int64_t rows, int64_t cols, double scale) {
#pragma omp parallel for schedule(static) if (rows * cols >= PAR_MIN)
  for (int64_t c = 0; c < cols; c += COL_BAND) {
    double acc[COL_BAND];
    sum_cols(x, y, rows, cols, c, min64(cols, c + COL_BAND), scale, acc);
  }
}

static void sum_rows_par(const float *x, float *y, int64_t rows, int64_t cols, double scale) {
  const int64_t rb = row_block(cols);
#pragma omp parallel for schedule(static) if (rows * cols >= PAR_MIN)
  for (int64_t r = 0; r < rows; r += rb) sum_rows(x + r * cols, y + r, min64(rb, rows - r), cols, scale);
}

/* ---- Node-API glue: argument checking against the heap's length ---- */

#define MAX_ARGS 17

typedef struct {
  napi_env env;
  float *heap;
  size_t len;
  napi_value argv[MAX_ARGS];
  size_t argc;
  int failed;
} Args;

static int fail(Args *a, const char *msg) {
  if (!a->failed) napi_throw_range_error(a->env, NULL, msg);
  a->failed = 1;
  return 0;
}

static int read_args(Args *a, napi_env env, napi_callback_info info, size_t want) {
  a->env = env;
  a->failed = 0;
  a->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok || a->argc != want) return fail(a, "camd_ops: wrong number of arguments");
  napi_typedarray_type type;
  void *data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, a->argv[0], &type, &a->len, &data, &ab, &offset) != napi_ok || type != napi_float32_array) {
    return fail(a, "camd_ops: the heap must be a Float32Array");
  }
  a->heap = (float *)data;
  return 1;
}

static int64_t int_arg(Args *a, size_t i) {
  int64_t v = -1;
  if (napi_get_value_int64(a->env, a->argv[i], &v) != napi_ok || v < 0) fail(a, "camd_ops: sizes and offsets must be non-negative integers");
  return v;
}

static float float_arg(Args *a, size_t i) {
  double v = 0;
  if (napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) fail(a, "camd_ops: expected a number");
  return (float)v;
}

/* A tensor of `count` floats at the offset in argument i, bounds-checked against the heap. */
static float *tensor_arg(Args *a, size_t i, int64_t count) {
  int64_t off = int_arg(a, i);
  if (a->failed) return NULL;
  if (count < 0 || (uint64_t)off + (uint64_t)count > a->len) {
    fail(a, "camd_ops: operand out of bounds");
    return NULL;
  }
  return a->heap + off;
}

static napi_value gelu_forward_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 4)) return NULL;
  int64_t n = int_arg(&a, 3);
  float *x = tensor_arg(&a, 1, n), *y = tensor_arg(&a, 2, n);
  if (a.failed) return NULL;
  gelu_forward_par(x, y, n);
  return NULL;
}

static napi_value gelu_backward_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 5)) return NULL;
  int64_t n = int_arg(&a, 4);
  float *x = tensor_arg(&a, 1, n), *dy = tensor_arg(&a, 2, n), *dx = tensor_arg(&a, 3, n);
  if (a.failed) return NULL;
  gelu_backward_par(x, dy, dx, n);
  return NULL;
}

static napi_value layer_norm_forward_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 10)) return NULL;
  int64_t rows = int_arg(&a, 7), cols = int_arg(&a, 8);
  float eps = float_arg(&a, 9);
  if (a.failed) return NULL;
  float *x = tensor_arg(&a, 1, rows * cols), *g = tensor_arg(&a, 2, cols), *b = tensor_arg(&a, 3, cols), *y = tensor_arg(&a, 4, rows * cols);
  float *mean = tensor_arg(&a, 5, rows), *rstd = tensor_arg(&a, 6, rows);
  if (a.failed) return NULL;
  if (cols == 0) return NULL;
  layer_norm_forward_par(x, g, b, y, mean, rstd, rows, cols, eps);
  return NULL;
}

static napi_value layer_norm_backward_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 11)) return NULL;
  int64_t rows = int_arg(&a, 9), cols = int_arg(&a, 10);
  if (a.failed) return NULL;
  int64_t rc = rows * cols;
  float *dy = tensor_arg(&a, 1, rc), *x = tensor_arg(&a, 2, rc), *mean = tensor_arg(&a, 3, rows), *rstd = tensor_arg(&a, 4, rows);
  float *g = tensor_arg(&a, 5, cols), *dx = tensor_arg(&a, 6, rc), *dg = tensor_arg(&a, 7, cols), *db = tensor_arg(&a, 8, cols);
  if (a.failed) return NULL;
  if (!layer_norm_backward_par(dy, x, mean, rstd, g, dx, dg, db, rows, cols)) napi_throw_error(env, NULL, "camd_ops: out of memory");
  return NULL;
}

static napi_value adamw_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 17)) return NULL;
  int64_t n = int_arg(&a, 8);
  if (a.failed) return NULL;
  float *t[7];
  for (size_t i = 0; i < 7; i++) t[i] = tensor_arg(&a, i + 1, n);
  float f[8];
  for (size_t i = 0; i < 8; i++) f[i] = float_arg(&a, i + 9);
  if (a.failed) return NULL;
  adamw_par(t, n, f);
  return NULL;
}

/* A host Float32Array of exactly `count` floats in argument i (not the heap). */
static float *host_arg(Args *a, size_t i, int64_t count) {
  if (a->failed) return NULL;
  napi_typedarray_type type;
  size_t len, offset;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(a->env, a->argv[i], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_float32_array) {
    fail(a, "camd_ops: host state must be a Float32Array");
    return NULL;
  }
  if ((int64_t)len != count) {
    fail(a, "camd_ops: host state has the wrong length");
    return NULL;
  }
  return (float *)data;
}

/* adamwHost(heap, p, g, p2, n, m, v, scale, lr, beta1, beta2, eps, decay, bc1, bc2) */
static napi_value adamw_host_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 15)) return NULL;
  int64_t n = int_arg(&a, 4);
  if (a.failed) return NULL;
  float *p = tensor_arg(&a, 1, n), *g = tensor_arg(&a, 2, n), *p2 = tensor_arg(&a, 3, n);
  float *m = host_arg(&a, 5, n), *v = host_arg(&a, 6, n);
  float f[8];
  for (size_t i = 0; i < 8; i++) f[i] = float_arg(&a, i + 7);
  if (a.failed) return NULL;
  adamw_host_par(p, g, p2, m, v, n, f);
  return NULL;
}

/* emaHost(heap, p, n, mm, a, b) */
static napi_value ema_host_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 6)) return NULL;
  int64_t n = int_arg(&a, 2);
  if (a.failed) return NULL;
  float *p = tensor_arg(&a, 1, n), *mm = host_arg(&a, 3, n);
  float fa = float_arg(&a, 4), fb = float_arg(&a, 5);
  if (a.failed) return NULL;
  ema_host_par(p, mm, n, fa, fb);
  return NULL;
}

/* sumRows / sumCols (heap, x, y, rows, cols, mean): y per row of x, or per column */
static napi_value sums_js(napi_env env, napi_callback_info info, bool by_cols) {
  Args a;
  if (!read_args(&a, env, info, 6)) return NULL;
  int64_t rows = int_arg(&a, 3), cols = int_arg(&a, 4);
  if (a.failed) return NULL;
  float *x = tensor_arg(&a, 1, rows * cols), *y = tensor_arg(&a, 2, by_cols ? cols : rows);
  bool mean = false;
  if (!a.failed && napi_get_value_bool(env, a.argv[5], &mean) != napi_ok) fail(&a, "camd_ops: expected a boolean");
  if (a.failed) return NULL;
  const int64_t summed = by_cols ? rows : cols; /* values summed into each output */
  const double scale = mean ? (summed > 0 ? 1.0 / (double)summed : NAN) : 1.0;
  if (by_cols)
    sum_cols_par(x, y, rows, cols, scale);
  else
    sum_rows_par(x, y, rows, cols, scale);
  return NULL;
}

static napi_value sum_rows_js(napi_env env, napi_callback_info info) { return sums_js(env, info, false); }

static napi_value sum_cols_js(napi_env env, napi_callback_info info) { return sums_js(env, info, true); }

/* threads(): how many threads the kernels split their work across. */
static napi_value threads_js(napi_env env, napi_callback_info info) {
  napi_value out;
  napi_create_int32(env, max_threads(), &out);
  return out;
}

/* setThreads(n): the kernels' thread count from now on (ignored without OpenMP: one). */
static napi_value set_threads_js(napi_env env, napi_callback_info info) {
  int32_t n;
  if (!thread_count_arg(env, info, "camd_ops: setThreads needs a positive integer", &n)) return NULL;
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  struct {
    const char *name;
    napi_callback cb;
  } fns[] = {
      {"geluForward", gelu_forward_js},
      {"geluBackward", gelu_backward_js},
      {"layerNormForward", layer_norm_forward_js},
      {"layerNormBackward", layer_norm_backward_js},
      {"adamw", adamw_js},
      {"adamwHost", adamw_host_js},
      {"emaHost", ema_host_js},
      {"sumRows", sum_rows_js},
      {"sumCols", sum_cols_js},
      {"threads", threads_js},
      {"setThreads", set_threads_js},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
