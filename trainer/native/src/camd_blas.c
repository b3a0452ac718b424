/*
 * camd_blas: one Node-API function over OpenBLAS's cblas_sgemm, used by the wasm backend's
 * BatchMatMul kernel on views of the WebAssembly heap (no copies; transposes are free).
 *
 *   sgemmBatched(a, aOffset, b, bOffset, c, cOffset, batch, M, N, K, transA, transB,
 *                strideA, strideB, strideC)
 * a, b, c are Float32Arrays (any backing buffer, including a SharedArrayBuffer); offsets and
 * strides are in elements. Row-major: C[i] = op(A[i]) · op(B[i]) for i < batch.
 *
 * The work is split across our own threads (OpenMP, where the compiler has it), OpenBLAS running
 * each part on one thread: a batch one product per thread (attention's per-head QKᵀ and ·V, which
 * OpenBLAS ran one after another on one core), a single product in bands of rows of C (or of
 * columns, when it has more). OpenBLAS's own threading of ViT-Tiny's products (800×192×192,
 * 320×192×192) was slower on two threads than on one on a 2-core VM; bands on our threads are not.
 * setThreads(n) sets how many; the count starts at OpenBLAS's own (OPENBLAS_NUM_THREADS, else
 * one per core), and OpenBLAS itself is kept at one.
 *
 *   attentionForward(heap, q, k, v, out, probs, B, L, C, H, scale)
 *   attentionBackward(heap, dy, q, k, v, probs, dq, dk, dv, B, L, C, H, scale)
 * Multi-head attention as one kernel (the ViT's softmax(s·QKᵀ)·V per head): q, k, v, out, dy, dq,
 * dk, dv are (B, L, C) with head h in columns [h·d, (h+1)·d), d = C/H, read and written in place
 * with leading dimension C, so no head is ever transposed out; probs is (B, H, L, L). Offsets are
 * float32 elements of `heap`. One (batch, head) pair per thread.
 */
#include <node_api.h>
#include "thread_count.h"
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Our thread count (OpenBLAS runs at one); set when the addon loads. */
static int pool = 1;

/* Multiply-adds below which a single product stays on the calling thread. */
#define SPLIT_MIN ((int64_t)1 << 16)

static void gemm(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *a, const float *b, float *c, int64_t lda, int64_t ldb,
                 int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, a, (int)lda, b,
              (int)ldb, 0.0f, c, (int)ldc);
}

/* One product C = op(A)·op(B), its rows (or columns) in `parts` contiguous bands, one per thread. */
static void gemm_split(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *a, const float *b, float *c) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  int parts = pool;
  if (M * N * K < SPLIT_MIN || parts < 2) parts = 1;
  const int rows = M >= N;
  const int64_t side = rows ? M : N;
  if (parts > side) parts = (int)side;
#pragma omp parallel for schedule(static) num_threads(parts) if (parts > 1)
  for (int p = 0; p < parts; p++) {
    const int64_t lo = side * p / parts, hi = side * (p + 1) / parts;
    if (hi <= lo) continue;
    if (rows)
      gemm(ta, tb, hi - lo, N, K, ta ? a + lo : a + lo * K, b, c + lo * N, lda, ldb, N);
    else
      gemm(ta, tb, M, hi - lo, K, a, tb ? b + lo * K : b + lo, c + lo, lda, ldb, N);
  }
}

#define CHECK(call)                                                   \
  if ((call) != napi_ok) {                                            \
    napi_throw_error(env, NULL, "camd_blas: bad arguments");          \
    return NULL;                                                      \
  }

static float *f32(napi_env env, napi_value v, size_t *len) {
  napi_typedarray_type type;
  void *data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, len, &data, &ab, &offset) != napi_ok || type != napi_float32_array) return NULL;
  return (float *)data;
}

static napi_value sgemm_batched(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 15) {
    napi_throw_error(env, NULL, "camd_blas: sgemmBatched takes 15 arguments");
    return NULL;
  }
  size_t la, lb, lc;
  float *a = f32(env, argv[0], &la), *b = f32(env, argv[2], &lb), *c = f32(env, argv[4], &lc);
  if (!a || !b || !c) {
    napi_throw_type_error(env, NULL, "camd_blas: a, b and c must be Float32Arrays");
    return NULL;
  }
  int64_t v[12];
  int idx[12] = {1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  for (int i = 0; i < 12; i++) CHECK(napi_get_value_int64(env, argv[idx[i]], &v[i]));
  int64_t ao = v[0], bo = v[1], co = v[2], batch = v[3], M = v[4], N = v[5], K = v[6];
  int ta = (int)v[7], tb = (int)v[8];
  int64_t sa = v[9], sb = v[10], sc = v[11];
  /* every size, offset and stride non-negative and small enough that the bounds below cannot overflow,
     and the GEMM sizes within cblas's int */
  const int64_t LIM = (int64_t)1 << 40;
  for (int i = 0; i < 12; i++) {
    if (v[i] < 0 || v[i] > LIM) {
      napi_throw_range_error(env, NULL, "camd_blas: sizes, offsets and strides must be non-negative and below 2^40");
      return NULL;
    }
  }
  if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) {
    napi_throw_range_error(env, NULL, "camd_blas: a matrix side exceeds 2^31 - 1");
    return NULL;
  }
  if (batch < 0 || M < 0 || N < 0 || K < 0 || ao < 0 || bo < 0 || co < 0 ||
      ao + (batch - 1) * sa + M * K > (int64_t)la || bo + (batch - 1) * sb + K * N > (int64_t)lb || co + (batch - 1) * sc + M * N > (int64_t)lc) {
    napi_throw_range_error(env, NULL, "camd_blas: operands out of bounds");
    return NULL;
  }
  if (batch < pool) {
    for (int64_t i = 0; i < batch; i++) gemm_split(ta, tb, M, N, K, a + ao + i * sa, b + bo + i * sb, c + co + i * sc);
    return NULL;
  }
#pragma omp parallel for schedule(static) num_threads(pool)
  for (int64_t i = 0; i < batch; i++)
    gemm(ta, tb, M, N, K, a + ao + i * sa, b + bo + i * sb, c + co + i * sc, ta ? M : K, tb ? K : N, N);
  return NULL;
}

/* ---- attention (see the header) ---- */

static void gemm_ld(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                    float *c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, alpha, a, (int)lda, b,
              (int)ldb, 0.0f, c, (int)ldc);
}

/* Each row of the L×L block s becomes softmax(row): exp(x − max) / Σ, the sum in double. */
static void softmax_rows(float *s, int64_t L) {
  for (int64_t i = 0; i < L; i++) {
    float *r = s + i * L;
    float m = r[0];
    for (int64_t j = 1; j < L; j++) m = r[j] > m ? r[j] : m;
    double sum = 0;
    for (int64_t j = 0; j < L; j++) {
      r[j] = expf(r[j] - m);
      sum += r[j];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t j = 0; j < L; j++) r[j] *= inv;
  }
}

/* dS = P ⊙ (dP − rowsum(P ⊙ dP)), in place of dP: the softmax's gradient. */
static void softmax_grad_rows(const float *p, float *dp, int64_t L) {
  for (int64_t i = 0; i < L; i++) {
    const float *pr = p + i * L;
    float *dr = dp + i * L;
    double dot = 0;
    for (int64_t j = 0; j < L; j++) dot += (double)pr[j] * dr[j];
    const float s = (float)dot;
    for (int64_t j = 0; j < L; j++) dr[j] = pr[j] * (dr[j] - s);
  }
}

/* Reads the int64 arguments argv[first..first+n) into v; all must lie in [0, 2^40). */
static int int_args(napi_env env, napi_value *argv, int first, int n, int64_t *v) {
  for (int i = 0; i < n; i++) {
    if (napi_get_value_int64(env, argv[first + i], &v[i]) != napi_ok || v[i] < 0 || v[i] > ((int64_t)1 << 40)) {
      napi_throw_range_error(env, NULL, "camd_blas: attention offsets and sizes must be integers in [0, 2^40)");
      return 0;
    }
  }
  return 1;
}

/* Checks B, L, C, H and that every (B, L, C) operand at offs[0..nx) and probs fit the heap. */
static int attention_shape_ok(napi_env env, size_t len, const int64_t *offs, int nx, int64_t probs, int64_t B, int64_t L, int64_t C,
                              int64_t H) {
  if (H < 1 || L < 1 || C < 1 || C % H != 0 || L > INT32_MAX || C > INT32_MAX) {
    napi_throw_range_error(env, NULL, "camd_blas: attention needs L, C ≥ 1 and C divisible by H ≥ 1");
    return 0;
  }
  const int64_t act = B * L * C, pr = B * H * L * L;
  for (int i = 0; i < nx; i++)
    if (offs[i] + act > (int64_t)len) {
      napi_throw_range_error(env, NULL, "camd_blas: attention operand out of bounds");
      return 0;
    }
  if (probs + pr > (int64_t)len) {
    napi_throw_range_error(env, NULL, "camd_blas: attention probabilities out of bounds");
    return 0;
  }
  return 1;
}

/*
 * An attention call's arguments: exactly n of them, the heap first, n − 2 integers (offsets and
 * sizes) into v, the scale last; NULL (with a JavaScript error thrown, `usage` for a bad call) else.
 */
static float *attention_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv, int64_t *v, double *scale,
                             size_t *len, const char *usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "camd_blas: bad arguments");
    return NULL;
  }
  float *heap = argc == n ? f32(env, argv[0], len) : NULL;
  if (!heap) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (!int_args(env, argv, 1, (int)n - 2, v)) return NULL;
  if (napi_get_value_double(env, argv[n - 1], scale) != napi_ok) {
    napi_throw_type_error(env, NULL, "camd_blas: the attention scale must be a number");
    return NULL;
  }
  return heap;
}

static int threads_for(int64_t pairs) { return pairs < pool ? (int)pairs : pool; }

static napi_value attention_forward(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  size_t len;
  int64_t v[9];
  double scale;
  float *heap = attention_args(env, info, 11, argv, v, &scale, &len,
                               "camd_blas: attentionForward(heap: Float32Array, q, k, v, out, probs, B, L, C, H, scale)");
  if (!heap) return NULL;
  const int64_t B = v[5], L = v[6], C = v[7], H = v[8], d = C / (H ? H : 1);
  if (!attention_shape_ok(env, len, v, 4, v[4], B, L, C, H)) return NULL;
  const float *q = heap + v[0], *k = heap + v[1], *vv = heap + v[2];
  float *out = heap + v[3], *probs = heap + v[4];
  const int64_t pairs = B * H;
#pragma omp parallel for schedule(static) num_threads(threads_for(pairs)) if (pairs > 1 && pool > 1)
  for (int64_t bh = 0; bh < pairs; bh++) {
    const int64_t b = bh / H, h = bh % H, at = b * L * C + h * d;
    float *p = probs + bh * L * L;
    gemm_ld(0, 1, L, L, d, (float)scale, q + at, C, k + at, C, p, L);
    softmax_rows(p, L);
    gemm_ld(0, 0, L, d, L, 1.0f, p, L, vv + at, C, out + at, C);
  }
  return NULL;
}

static napi_value attention_backward(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  size_t len;
  int64_t v[12];
  double scale;
  float *heap = attention_args(env, info, 14, argv, v, &scale, &len,
                               "camd_blas: attentionBackward(heap: Float32Array, dy, q, k, v, probs, dq, dk, dv, B, L, C, H, scale)");
  if (!heap) return NULL;
  const int64_t B = v[8], L = v[9], C = v[10], H = v[11], d = C / (H ? H : 1);
  const int64_t acts[7] = {v[0], v[1], v[2], v[3], v[5], v[6], v[7]};
  if (!attention_shape_ok(env, len, acts, 7, v[4], B, L, C, H)) return NULL;
  const float *dy = heap + v[0], *q = heap + v[1], *k = heap + v[2], *vv = heap + v[3], *probs = heap + v[4];
  float *dq = heap + v[5], *dk = heap + v[6], *dv = heap + v[7];
  const int64_t pairs = B * H;
  int failed = 0;
#pragma omp parallel num_threads(threads_for(pairs)) if (pairs > 1 && pool > 1)
  {
    float *ds = malloc(sizeof(float) * (size_t)(L * L));
    if (!ds) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < pairs; bh++) {
      if (!ds) continue;
      const int64_t b = bh / H, h = bh % H, at = b * L * C + h * d;
      const float *p = probs + bh * L * L;
      gemm_ld(0, 1, L, L, d, 1.0f, dy + at, C, vv + at, C, ds, L);  /* dP = dO·Vᵀ */
      gemm_ld(1, 0, L, d, L, 1.0f, p, L, dy + at, C, dv + at, C);   /* dV = Pᵀ·dO */
      softmax_grad_rows(p, ds, L);                                   /* dS */
      gemm_ld(0, 0, L, d, L, (float)scale, ds, L, k + at, C, dq + at, C); /* dQ = s·dS·K */
      gemm_ld(1, 0, L, d, L, (float)scale, ds, L, q + at, C, dk + at, C); /* dK = s·dSᵀ·Q */
    }
    free(ds);
  }
  if (failed) napi_throw_error(env, NULL, "camd_blas: attentionBackward could not allocate its scratch");
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  napi_value out;
  napi_create_int32(env, pool, &out);
  return out;
}

/* setThreads(n): the thread count for the following calls (the bench's thread sweep). */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  int32_t n;
  if (!thread_count_arg(env, info, "camd_blas: setThreads needs a positive integer", &n)) return NULL;
  pool = n;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f, g, h;
  pool = openblas_get_num_threads();
  openblas_set_num_threads(1);
  napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, set_threads, NULL, &h);
  napi_set_named_property(env, exports, "setThreads", h);
  napi_create_function(env, "sgemmBatched", NAPI_AUTO_LENGTH, sgemm_batched, NULL, &f);
  napi_set_named_property(env, exports, "sgemmBatched", f);
  napi_create_function(env, "threads", NAPI_AUTO_LENGTH, threads, NULL, &g);
  napi_set_named_property(env, exports, "threads", g);
  napi_create_function(env, "attentionForward", NAPI_AUTO_LENGTH, attention_forward, NULL, &f);
  napi_set_named_property(env, exports, "attentionForward", f);
  napi_create_function(env, "attentionBackward", NAPI_AUTO_LENGTH, attention_backward, NULL, &f);
  napi_set_named_property(env, exports, "attentionBackward", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
