/*
 * The one argument of both addons' setThreads(n): a positive integer, else a RangeError with
 * `message` and 0 returned.
 */
#ifndef CAMD_THREAD_COUNT_H
#define CAMD_THREAD_COUNT_H
#include <node_api.h>
#include <stdint.h>

static int thread_count_arg(napi_env env, napi_callback_info info, const char *message, int32_t *n) {
  size_t argc = 1;
  napi_value argv[1];
  *n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], n) != napi_ok || *n < 1) {
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  return 1;
}

#endif
