// Imported first by a test file: lets the webgpu rung take a software adapter (Mesa's llvmpipe through
// Dawn's OpenGL backend), so that the webgpu code path runs on machines without a GPU.
process.env['CAMD_WEBGPU_SOFTWARE'] = '1';
