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
 * vectorises the loops (reductions through `omp simd`, -fopenmp-simd: no threads, no global
 * fast-math); on x86-64 an AVX2+FMA clone is picked at load time when the CPU has it.
 */
#include <node_api.h>
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

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
  gelu_forward(x, y, n);
  return NULL;
}

static napi_value gelu_backward_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 5)) return NULL;
  int64_t n = int_arg(&a, 4);
  float *x = tensor_arg(&a, 1, n), *dy = tensor_arg(&a, 2, n), *dx = tensor_arg(&a, 3, n);
  if (a.failed) return NULL;
  gelu_backward(x, dy, dx, n);
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
  layer_norm_forward(x, g, b, y, mean, rstd, rows, cols, eps);
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
  memset(dg, 0, (size_t)cols * sizeof(float));
  memset(db, 0, (size_t)cols * sizeof(float));
  layer_norm_backward(dy, x, mean, rstd, g, dx, dg, db, rows, cols);
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
  adamw(t[0], t[1], t[2], t[3], t[4], t[5], t[6], n, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
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
  adamw_host(p, g, p2, m, v, n, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
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
  ema_host(p, mm, n, fa, fb);
  return NULL;
}

/* sumRows(heap, x, y, rows, cols, mean) */
static napi_value sum_rows_js(napi_env env, napi_callback_info info) {
  Args a;
  if (!read_args(&a, env, info, 6)) return NULL;
  int64_t rows = int_arg(&a, 3), cols = int_arg(&a, 4);
  if (a.failed) return NULL;
  float *x = tensor_arg(&a, 1, rows * cols), *y = tensor_arg(&a, 2, rows);
  bool mean = false;
  if (!a.failed && napi_get_value_bool(env, a.argv[5], &mean) != napi_ok) fail(&a, "camd_ops: expected a boolean");
  if (a.failed) return NULL;
  sum_rows(x, y, rows, cols, mean ? (cols > 0 ? 1.0 / (double)cols : NAN) : 1.0);
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
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
