/*
 * camd_blas: one Node-API function over OpenBLAS's cblas_sgemm, used by the wasm backend's
 * BatchMatMul kernel on views of the WebAssembly heap (no copies; transposes are free).
 *
 *   sgemmBatched(a, aOffset, b, bOffset, c, cOffset, batch, M, N, K, transA, transB,
 *                strideA, strideB, strideC)
 * a, b, c are Float32Arrays (any backing buffer, including a SharedArrayBuffer); offsets and
 * strides are in elements. Row-major: C[i] = op(A[i]) · op(B[i]) for i < batch.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>

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
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, 1.0f,
                a + ao + i * sa, ta ? (int)M : (int)K, b + bo + i * sb, tb ? (int)K : (int)N, 0.0f, c + co + i * sc, (int)N);
  }
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

/* setThreads(n): OpenBLAS's thread count for the following calls (the bench's thread sweep). */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, NULL, "camd_blas: setThreads needs a positive integer");
    return NULL;
  }
  openblas_set_num_threads(n);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f, g, h;
  napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, set_threads, NULL, &h);
  napi_set_named_property(env, exports, "setThreads", h);
  napi_create_function(env, "sgemmBatched", NAPI_AUTO_LENGTH, sgemm_batched, NULL, &f);
  napi_set_named_property(env, exports, "sgemmBatched", f);
  napi_create_function(env, "threads", NAPI_AUTO_LENGTH, threads, NULL, &g);
  napi_set_named_property(env, exports, "threads", g);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
