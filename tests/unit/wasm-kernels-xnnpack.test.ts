// wasm kernels with matMul through XNNPACK and no fused kernels (the path without the native addons).
import '../support/no-native.js';
import { wasmKernelSuite } from '../support/wasm-kernel-suite.js';

wasmKernelSuite('xnnpack');
