// wasm kernels with matMul through XNNPACK (the path without the native addon).
import '../support/no-native-blas.js';
import { wasmKernelSuite } from '../support/wasm-kernel-suite.js';

wasmKernelSuite('xnnpack');
