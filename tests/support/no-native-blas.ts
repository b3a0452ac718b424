// Imported first by a test file: its process runs the wasm backend without the native OpenBLAS addon.
process.env['CAMD_NATIVE_BLAS'] = '0';
