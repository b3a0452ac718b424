// Imported first by a test file: its process runs the wasm backend without the native addons
// (no OpenBLAS matMul, no fused kernels), as on a machine where `npm run setup` could not build them.
process.env['CAMD_NATIVE'] = '0';
